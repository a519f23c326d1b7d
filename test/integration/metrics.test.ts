/**
 * Metrics, proven on the real servers on 127.0.0.1 (free ports only) with the real exporters from
 * Debian (prometheus-nginx-exporter, prometheus-postgres-exporter), run with the arguments and
 * environment our sidecars ship, taken from the synthesized JSON:
 * - nginx with our rendered config answers stub_status on its loopback-only server and not on the
 *   public one, and the NGINX exporter reading it serves nginx_up 1 and nginx_connections_active;
 * - PostgreSQL 15 with our rendered postgresql.conf, pg_hba.conf and init script: the exporter,
 *   logged in as the monitoring role over 127.0.0.1, serves pg_up 1 and pg_stat_database_*, and
 *   the monitoring role (pg_monitor and nothing else) cannot read an application table.
 * RabbitMQ's rabbitmq_prometheus endpoint is proven by rabbitmq.test.ts on its rendered nodes.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { NginxGateway } from '../../lib/gateway/nginx-gateway';
import { renderNginxConf } from '../../lib/gateway/render-nginx-conf';
import { MONITORING_ROLE, PostgresDatabase } from '../../lib/postgres/postgres-database';
import { OSLO_REGION } from '../../lib/residency/regions';
import { KubernetesTarget } from '../../lib/targets/kubernetes/kubernetes-target';
import { findByName, newStack, synthJson } from '../support/synth';
import {
  describeWithServer, findBinary, freePort, makeSocketDir, makeWorkDir, stopPid, stopProcess, terraformLiteralText, waitForPort,
} from './support/real-servers';

const LOOPBACK = '127.0.0.1';
const PG_BIN = '/usr/lib/postgresql/15/bin';
const NGINX_EXPORTER = findBinary(['/usr/bin/prometheus-nginx-exporter', 'prometheus-nginx-exporter']);
const POSTGRES_EXPORTER = findBinary(['/usr/bin/prometheus-postgres-exporter', 'prometheus-postgres-exporter']);

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: LOOPBACK, port, path: urlPath }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** The /metrics page once it has `line` (an exporter answers before its first scrape succeeds). */
async function metricsWith(port: number, line: RegExp, timeoutMs = 15000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = (await get(port, '/metrics')).body;
    if (line.test(last) || Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The sidecar of a synthesized pod template, by name. */
function sidecarOf(pod: any, name: string): any {
  const c = pod.container.find((x: any) => x.name === name);
  if (!c) throw new Error(`no sidecar "${name}" in the pod (containers: ${pod.container.map((x: any) => x.name).join(', ')})`);
  return c;
}

/** Metric names on a Prometheus text page (without labels and values). */
const names = (page: string) => new Set(page.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]));

describeWithServer('nginx and prometheus-nginx-exporter', findBinary(['/usr/sbin/nginx', 'nginx']) && NGINX_EXPORTER,
  'nginx metrics: stub_status on loopback and the NGINX exporter', () => {
    const nginx = findBinary(['/usr/sbin/nginx', 'nginx'])!;
    let dir = '';
    let nginxProcess: ChildProcess | undefined;
    let exporter: ChildProcess | undefined;
    let backend: http.Server | undefined;
    const ports = { http: 0, stub: 0, exporter: 0, backend: 0 };
    let conf = '';

    beforeAll(async () => {
      // What the gateway ships: its exporter sidecar's arguments and metrics declaration.
      const { stack } = newStack();
      const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
      const service = target.deploy(stack, {
        name: 'orders', component: 'service', kind: 'stateless', image: 'registry.example.no/orders:1.0.0',
        ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
      });
      const gateway = new NginxGateway(stack, 'gateway', { target, serverName: 'api.example.no' });
      gateway.addRoute({ path: '/v1/orders', service, port: 8080 });
      const pod = findByName(synthJson(stack), 'kubernetes_deployment_v1', 'gateway').spec.template;
      const shippedArgs: string[] = sidecarOf(pod.spec, 'nginx-exporter').args;
      expect(pod.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9113', 'prometheus.io/path': '/metrics' });
      expect(gateway.renderConfig()).toContain('listen 127.0.0.1:8082;');

      dir = makeWorkDir('metrics-nginx');
      fs.chmodSync(dir, 0o755);
      for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
      backend = http.createServer((_req, res) => res.end('orders'));
      await new Promise<void>((resolve) => backend!.listen(ports.backend, LOOPBACK, resolve));
      const version = /nginx\/(\S+)/.exec(spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr)![1];
      conf = renderNginxConf({
        nginxVersion: version, serverName: 'localhost', listenAddress: LOOPBACK, httpPort: ports.http, stubStatusPort: ports.stub,
        runtimeDir: dir, accessLogPath: path.join(dir, 'access.log'),
        upstreams: [{ name: 'orders', servers: [{ host: LOOPBACK, port: ports.backend }] }],
        routes: [{ path: '/v1/orders', upstream: 'orders' }],
      });
      fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
      const t = spawnSync(nginx, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
      if (t.status !== 0) throw new Error(`nginx -t failed:\n${t.stderr}`);
      nginxProcess = spawn(nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
      await waitForPort(ports.http);
      await waitForPort(ports.stub);
      // The shipped arguments, moved to this test's ports (the pod's 8082 and :9113).
      const args = shippedArgs.map((a) => a.replace(`${LOOPBACK}:8082`, `${LOOPBACK}:${ports.stub}`).replace(/=:9113$/, `=${LOOPBACK}:${ports.exporter}`));
      expect(args).toEqual([`--nginx.scrape-uri=http://${LOOPBACK}:${ports.stub}/stub_status`, `--web.listen-address=${LOOPBACK}:${ports.exporter}`]);
      exporter = spawn(NGINX_EXPORTER!, args, { stdio: 'ignore' });
      await waitForPort(ports.exporter);
    }, 60000);

    afterAll(async () => {
      try {
        await stopProcess(exporter);
        await stopProcess(nginxProcess);
        await new Promise<void>((resolve) => (backend ? backend.close(() => resolve()) : resolve()));
      } finally {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('answers stub_status on the loopback-only server, and nothing else there', async () => {
      const status = await get(ports.stub, '/stub_status');
      expect(status.status).toBe(200);
      expect(status.body).toMatch(/^Active connections: \d+/);
      expect(status.body).toMatch(/server accepts handled requests/);
      expect((await get(ports.stub, '/v1/orders')).status).toBe(404);
      // Bound to 127.0.0.1 whatever address the public servers listen on.
      expect(conf).toContain(`listen ${LOOPBACK}:${ports.stub};`);
    });

    it('does not answer stub_status on the public listener', async () => {
      expect((await get(ports.http, '/v1/orders')).body).toBe('orders');
      const r = await get(ports.http, '/stub_status');
      expect(r.status).toBe(404);
      expect(r.body).not.toMatch(/Active connections/);
    });

    it('serves nginx_up 1 and the connection metrics through the exporter', async () => {
      const page = await metricsWith(ports.exporter, /^nginx_up 1$/m);
      expect(page).toMatch(/^nginx_up 1$/m);
      for (const metric of ['nginx_connections_active', 'nginx_connections_accepted', 'nginx_http_requests_total']) {
        expect([...names(page)]).toContain(metric);
      }
      const before = Number(/^nginx_http_requests_total (\d+)/m.exec(page)![1]);
      await get(ports.http, '/v1/orders');
      const after = Number(/^nginx_http_requests_total (\d+)/m.exec(await metricsWith(ports.exporter, /^nginx_up 1$/m))![1]);
      expect(after).toBeGreaterThan(before);
    });
  });

describeWithServer('PostgreSQL 15 and prometheus-postgres-exporter', findBinary([`${PG_BIN}/postgres`]) && POSTGRES_EXPORTER,
  'PostgreSQL metrics: postgres_exporter as the monitoring role', () => {
    const bin = (name: string) => path.join(PG_BIN, name);
    let work = '';
    let sockets = '';
    let dataDir = '';
    let pid: number | undefined;
    let exporter: ChildProcess | undefined;
    let exporterLog = '';
    const ports = { postgres: 0, exporter: 0 };
    let sidecar: any;
    const MONITORING_PASSWORD = 'monitoring-secret-1';
    const file = (name: string) => path.join(work, name);
    const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG') && !k.startsWith('POSTGRES') && !k.startsWith('DATA_SOURCE')));
    const asPostgres = (command: string, args: string[], env: Record<string, string> = {}) =>
      spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8', env: { ...cleanEnv(), PATH: `${PG_BIN}:${process.env.PATH}`, ...env } });
    const must = (r: { status: number | null; stdout: string; stderr: string }, what: string) => {
      if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    /** psql as `user` over the unix socket (trusted: the test's own door) or over TCP with a password. */
    const psql = (opts: { user: string; db: string; sql: string; tcpPassword?: string }) => {
      const host = opts.tcpPassword === undefined ? sockets : LOOPBACK;
      const r = spawnSync(bin('psql'), ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(ports.postgres), '-U', opts.user, '-d', opts.db, '-c', opts.sql], {
        encoding: 'utf8', env: { ...cleanEnv(), PGCONNECT_TIMEOUT: '5', PGSSLMODE: 'disable', ...(opts.tcpPassword !== undefined ? { PGPASSWORD: opts.tcpPassword } : {}) },
      });
      return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
    };
    const admin = (sql: string, db = 'postgres') => {
      const r = psql({ user: 'postgres', db, sql });
      if (r.code !== 0) throw new Error(`psql failed: ${r.stderr}`);
      return r.stdout;
    };

    function pgCtl(action: 'start' | 'stop', listen = '') {
      const options = ['-c', `config_file=${file('postgresql.conf')}`, '-c', `listen_addresses=${listen}`, '-c', `port=${ports.postgres}`,
        '-c', `unix_socket_directories=${sockets}`, '-c', `hba_file=${file('pg_hba.conf')}`].map((a) => `'${a}'`).join(' ');
      const args = action === 'start'
        ? ['-w', '-t', '30', '-D', dataDir, '-l', file('server.log'), '-o', options, 'start']
        : ['-w', '-t', '30', '-D', dataDir, '-m', 'fast', 'stop'];
      const r = asPostgres(bin('pg_ctl'), args);
      if (r.status !== 0) throw new Error(`pg_ctl ${action} failed: ${r.stderr}\n${fs.existsSync(file('server.log')) ? fs.readFileSync(file('server.log'), 'utf8') : ''}`);
      pid = action === 'start' ? Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) : undefined;
    }

    beforeAll(async () => {
      // What PostgresDatabase ships, from the synthesized JSON.
      const { stack } = newStack();
      const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
      new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', image: 'postgres:15.8', dataMajorVersion: 15, memoryLimit: '1Gi' });
      const json = synthJson(stack);
      const data = findByName(json, 'kubernetes_config_map_v1', 'orders-db-config').data;
      const pod = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').spec.template;
      expect(pod.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9187', 'prometheus.io/path': '/metrics' });
      const main = pod.spec.container[0];
      sidecar = sidecarOf(pod.spec, 'postgres-exporter');
      const envOf = (c: any, name: string) => terraformLiteralText(c.env.find((e: any) => e.name === name)?.value ?? '');

      work = makeWorkDir('metrics-postgres');
      sockets = makeSocketDir('pgmet');
      ports.postgres = await freePort();
      ports.exporter = await freePort();
      fs.writeFileSync(file('postgresql.conf'), terraformLiteralText(data['etc_postgresql_postgresql.conf']), { mode: 0o444 });
      fs.writeFileSync(file('pg_hba.conf'), terraformLiteralText(data['etc_postgresql_pg_hba.conf']), { mode: 0o444 });
      fs.writeFileSync(file('10-create-owner.sh'), terraformLiteralText(data['docker-entrypoint-initdb.d_10-create-owner.sh']), { mode: 0o444 });
      // The mounted Secrets: the owner's password and the monitoring role's, as files.
      const monitoringFile = envOf(main, 'MONITORING_PASSWORD_FILE');
      expect(monitoringFile).toBe(envOf(sidecar, 'DATA_SOURCE_PASS_FILE'));
      fs.mkdirSync(file('secrets'));
      fs.writeFileSync(file('secrets/owner'), 'owner-secret-1', { mode: 0o440 });
      fs.writeFileSync(file('secrets/monitoring'), MONITORING_PASSWORD, { mode: 0o440 });
      execFileSync('chown', ['-R', 'postgres:postgres', work, sockets]);
      dataDir = file('data/pgdata');
      must(asPostgres(bin('initdb'), ['-N', '-U', 'postgres', '--auth=trust', '-D', dataDir]), 'initdb');
      // As the image's entrypoint: a temporary server on the socket only, the init script sourced.
      pgCtl('start', '');
      must(asPostgres('bash', ['-c', 'set -Eeo pipefail; . "$0"', file('10-create-owner.sh')], {
        POSTGRES_USER: 'postgres', PGHOST: sockets, PGPORT: String(ports.postgres),
        OWNER_PASSWORD_FILE: file('secrets/owner'), MONITORING_PASSWORD_FILE: file('secrets/monitoring'),
      }), 'init script');
      pgCtl('stop');
      pgCtl('start', LOOPBACK);
      // An application table with a row the monitoring role must never read.
      admin('SET ROLE orders; CREATE TABLE customers (name text); INSERT INTO customers VALUES (\'Kari Nordmann\');', 'orders');

      // The exporter with the shipped environment, moved to this test's port and secret file.
      const env = Object.fromEntries(sidecar.env.map((e: any) => [e.name, terraformLiteralText(e.value)]));
      env.DATA_SOURCE_URI = env.DATA_SOURCE_URI.replace(`${LOOPBACK}:5432/`, `${LOOPBACK}:${ports.postgres}/`);
      env.DATA_SOURCE_PASS_FILE = file('secrets/monitoring');
      expect(sidecar.args).toEqual(['--web.listen-address=:9187']);
      exporterLog = file('exporter.log');
      const log = fs.openSync(exporterLog, 'w');
      exporter = spawn(POSTGRES_EXPORTER!, [`--web.listen-address=${LOOPBACK}:${ports.exporter}`], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', log, log] });
      await waitForPort(ports.exporter);
    }, 90000);

    afterAll(async () => {
      try {
        await stopProcess(exporter);
        const pidFile = dataDir && path.join(dataDir, 'postmaster.pid');
        const running = pid ?? (pidFile && fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined);
        if (running) {
          const r = asPostgres(bin('pg_ctl'), ['-w', '-t', '20', '-D', dataDir, '-m', 'fast', 'stop']);
          if (r.status !== 0) await stopPid(running, 'SIGQUIT');
        }
      } finally {
        if (work) fs.rmSync(work, { recursive: true, force: true });
        if (sockets) fs.rmSync(sockets, { recursive: true, force: true });
      }
    }, 60000);

    it('serves pg_up 1 and pg_stat_database_* through the exporter logged in as the monitoring role', async () => {
      const page = await metricsWith(ports.exporter, /^pg_up 1$/m);
      if (!/^pg_up 1$/m.test(page)) throw new Error(`no pg_up 1; exporter log:\n${fs.readFileSync(exporterLog, 'utf8').slice(-3000)}`);
      const all = [...names(page)];
      expect(all.filter((n) => n.startsWith('pg_stat_database_'))).toEqual(expect.arrayContaining(['pg_stat_database_xact_commit', 'pg_stat_database_numbackends']));
      expect(page).toMatch(/^pg_stat_database_xact_commit\{[^}]*datname="orders"/m);
      // It is the monitoring role that is logged in, over TCP from 127.0.0.1.
      expect(admin(`SELECT DISTINCT usename || ' ' || host(client_addr) FROM pg_stat_activity WHERE application_name <> 'psql' AND usename IS NOT NULL AND backend_type = 'client backend'`))
        .toBe(`${MONITORING_ROLE} 127.0.0.1`);
    });

    it('gives the monitoring role pg_monitor and nothing else', () => {
      expect(admin(`SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolconnlimit FROM pg_roles WHERE rolname = '${MONITORING_ROLE}'`))
        .toBe('t|f|f|f|f|f|3');
      expect(admin(`SELECT string_agg(r.rolname, ',') FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = '${MONITORING_ROLE}'`))
        .toBe('pg_monitor');
      expect(admin(`SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = '${MONITORING_ROLE}'`)).toBe('t');
    });

    it('keeps the monitoring role out of the application data: no login to its database, no read of its tables', () => {
      // pg_hba.conf admits it to "postgres" only.
      const tcp = psql({ user: MONITORING_ROLE, db: 'orders', sql: 'SELECT 1', tcpPassword: MONITORING_PASSWORD });
      expect(tcp.code).not.toBe(0);
      expect(tcp.stderr).toMatch(/no pg_hba.conf entry for host "127.0.0.1", user "sovereign_monitoring", database "orders"/);
      // Past pg_hba (the trusted socket): CONNECT was revoked from PUBLIC on the service's database.
      const connect = psql({ user: MONITORING_ROLE, db: 'orders', sql: 'SELECT 1' });
      expect(connect.stderr).toMatch(/permission denied for database "orders"/);
      // Even with CONNECT granted by mistake, the table stays closed to it.
      admin(`GRANT CONNECT ON DATABASE orders TO ${MONITORING_ROLE}`);
      try {
        const read = psql({ user: MONITORING_ROLE, db: 'orders', sql: 'SELECT name FROM customers' });
        expect(read.code).not.toBe(0);
        expect(read.stderr).toMatch(/permission denied for table customers/);
        expect(read.stdout).not.toContain('Kari');
      } finally {
        admin(`REVOKE CONNECT ON DATABASE orders FROM ${MONITORING_ROLE}`);
      }
      // And the right password over TCP does open its own door.
      expect(psql({ user: MONITORING_ROLE, db: 'postgres', sql: 'SELECT current_user', tcpPassword: MONITORING_PASSWORD }).stdout).toBe(MONITORING_ROLE);
      expect(psql({ user: MONITORING_ROLE, db: 'postgres', sql: 'SELECT 1', tcpPassword: 'wrong' }).stderr).toMatch(/password authentication failed/);
    });
  });
