/**
 * Issue 13: nothing the renderers accept fails the real server's own check. The generators and the
 * seed of the pure fuzz suite (test/fuzz) draw the cases; every ACCEPTED output goes to the server:
 * - nginx: `nginx -t` of every accepted nginx.conf (127.0.0.1 upstreams, a self-signed certificate),
 *   and of the nginx.conf NginxGateway renders for generated props and routes;
 * - PostgreSQL 15: `postgres -C` over every accepted postgresql.conf (it reads and checks the whole
 *   file), one server booted with an accepted one, and every accepted pg_hba.conf read by that
 *   server's pg_hba_file_rules (which reports each line PostgreSQL cannot use);
 * - RabbitMQ 3.10: a bounded number of nodes booted with accepted rabbitmq.conf files (no memory
 *   alarm), all accepted definitions imported into one node with `import_definitions` (which fails
 *   loudly) and found in its export, every accepted permission regex passed to the node's own
 *   set_permissions, and accepted user bootstrap scripts run with the real rabbitmqctl.
 * Ports come from the registry, sockets go to short folders under /tmp, and everything started is
 * stopped by PID, so this runs from a deep checkout and beside another checkout.
 */
import { ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import * as fc from 'fast-check';
import { Construct } from 'constructs';
import { TerraformStack, Testing } from 'cdktf';
import { NginxConfSpec } from '../../lib/gateway/nginx-spec';
import { NginxGateway } from '../../lib/gateway/nginx-gateway';
import { renderNginxConf } from '../../lib/gateway/render-nginx-conf';
import { PostgresConfSpec, PostgresHbaSpec } from '../../lib/postgres/postgres-spec';
import { renderPgHba, renderPostgresConf } from '../../lib/postgres/render-postgres-conf';
import { RabbitMqConfSpecInput, RabbitMqDefinitionsSpecInput, UserBootstrapSpecInput, permissionRegexProblem } from '../../lib/rabbitmq/rabbitmq-spec';
import { renderEnabledPlugins, renderRabbitMqConf } from '../../lib/rabbitmq/render-rabbitmq-conf';
import { renderRabbitMqDefinitions } from '../../lib/rabbitmq/render-rabbitmq-definitions';
import { renderUserBootstrapScript } from '../../lib/rabbitmq/render-user-bootstrap';
import { ResidencyGuard } from '../../lib/residency/residency-guard';
import { OSLO_REGION } from '../../lib/residency/regions';
import { memoryToMi } from '../../lib/util/schemas';
import { LoopbackTarget } from '../fixtures/loopback-target';
import {
  hbaMutations, hbaSpec, nginxMutations, nginxRelated, nginxSpec, permissionRegexValues, postgresMutations, postgresRelated, postgresSpec,
  rabbitConfSpec, rabbitDefinitionsMutations, rabbitDefinitionsRelated, rabbitDefinitionsSpec, strip, userBootstrapSpec,
} from '../fuzz/generators';
import { Case, FUZZ_SEED, FuzzStats, Path, cases, runCase, runs } from '../fuzz/support';
import {
  describeWithServer, findBinary, freePortRange, freePorts, makeSocketDir, makeWorkDir, stopPid, stopProcess, waitForPort,
} from './support/real-servers';
import { stopRabbitNode, waitForRabbitNode } from './support/rabbitmq-node';

jest.setTimeout(240_000);

const execFileAsync = promisify(execFile);
const stats = new FuzzStats();
afterAll(() => stats.print('fuzz: real servers'));

/** `count` cases of `arb`, drawn with the suite's seed (and, per use, its own offset). */
function draw<T>(arb: fc.Arbitrary<T>, count: number, offset: number): T[] {
  return fc.sample(arb, { seed: FUZZ_SEED + offset, numRuns: runs(count) });
}

/** Mutations minus those whose accepted values depend on this machine (files, DNS), not on nginx. */
function without(mutations: ReadonlyArray<readonly [Path, fc.Arbitrary<unknown>]>, ...heads: string[]) {
  return mutations.filter(([p]) => !heads.some((h) => p.join('.').startsWith(h)));
}

// -----------------------------------------------------------------------------------------------
// nginx
// -----------------------------------------------------------------------------------------------

describeWithServer('nginx', findBinary(['nginx', '/usr/sbin/nginx']), 'fuzz: nginx -t accepts every nginx.conf we accept', (nginx) => {
  let work = '';
  let version = '';
  let cert = { certificatePath: '', keyPath: '' };
  let n = 0;
  /** nginx -t binds the listening sockets: ports of this run only, from the registry. */
  let ports: number[] = [];

  beforeAll(async () => {
    ports = await freePorts(2);
    work = makeWorkDir('fuzz-nginx');
    fs.chmodSync(work, 0o755);
    version = /nginx\/(\S+)/.exec(spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr)?.[1] ?? '';
    if (!version) throw new Error('could not read the version from `nginx -v`');
    cert = { certificatePath: path.join(work, 'tls.crt'), keyPath: path.join(work, 'tls.key') };
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', cert.keyPath, '-out', cert.certificatePath], { stdio: 'ignore' });
  });
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** nginx -t of one configuration in a folder of its own; throws with nginx's words when refused. */
  function nginxTest(conf: string, what: string): void {
    const dir = path.join(work, `case-${n++}`);
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
    const r = spawnSync(nginx, ['-t', '-q', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nginx -t refused ${what}:\n${r.stderr}\n--- nginx.conf ---\n${conf}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  it('renderNginxConf: every accepted spec passes nginx -t', () => {
    const spec = nginxSpec({ versions: [version], hosts: fc.constant('127.0.0.1'), ports: fc.integer({ min: 20000, max: 31999 }) });
    // Paths, addresses and upstream hosts are this machine's business (nginx -t opens the files,
    // binds the listeners and resolves the names); every other prop is replaced as in the pure suite.
    const mutations = without(nginxMutations, 'runtimeDir', 'errorLogPath', 'accessLogPath', 'tls.certificatePath', 'upstreams.0.servers.0.host',
      'resolver', 'listenAddress', 'httpPort', 'httpsPort');
    for (const c of draw(cases(spec, mutations), 200, 1)) {
      runCase(stats, 'nginx -t (renderNginxConf)', c, 'nginxConf', (s) => {
        const dir = path.join(work, `rt-${n++}`);
        const local = typeof s === 'object' && s !== null
          ? {
            ...s, runtimeDir: dir, errorLogPath: path.join(dir, 'error.log'), accessLogPath: path.join(dir, 'access.log'),
            httpPort: ports[0], httpsPort: ports[1], ...(s.tls ? { tls: { ...s.tls, ...cert } } : {}),
          }
          : s;
        if (typeof s === 'object' && s !== null) fs.mkdirSync(dir, { mode: 0o755 });
        return renderNginxConf(local as NginxConfSpec);
      }, (conf) => {
        nginxTest(conf, 'a rendered nginx.conf');
        stats.row('nginx -t (renderNginxConf)').checks++;
      }, nginxRelated);
    }
  });

  it('NginxGateway: the nginx.conf it renders for generated props and routes passes nginx -t', async () => {
    const [orders, invoices] = await freePorts(2);
    const props = fc.record({
      serverName: fc.oneof(fc.domain(), fc.constant('api.example.no')),
      tls: fc.option(fc.record({ secretName: fc.constant('api-tls'), publicHttpsPort: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }) }).map(strip), { nil: undefined }),
      rateLimit: fc.option(fc.record({ perSecond: fc.integer({ min: 1, max: 1000 }), burst: fc.option(fc.integer({ min: 1, max: 100000 }), { nil: undefined }), scope: fc.constantFrom('per-replica', 'gateway') }).map(strip), { nil: undefined }),
      replicas: fc.integer({ min: 1, max: 7 }),
      clientMaxBodySize: fc.constantFrom('0', '1m', '512k', '2g'),
      upstreamKeepalive: fc.integer({ min: 0, max: 10000 }),
      timeouts: fc.option(fc.record({ connectSeconds: fc.integer({ min: 1, max: 75 }), readSeconds: fc.integer({ min: 1, max: 3600 }), sendSeconds: fc.integer({ min: 1, max: 3600 }) }), { nil: undefined }),
      routes: fc.uniqueArray(fc.record({
        path: fc.constantFrom('/', '/v1/orders', '/v1/invoices/', '/x~y', '/a.b_c-d'), service: fc.constantFrom('orders', 'invoices'),
        rateLimit: fc.option(fc.record({ perMinute: fc.integer({ min: 1, max: 6000000 }), nodelay: fc.boolean() }), { nil: undefined }),
      }).map(strip), { minLength: 1, maxLength: 4, selector: (r) => r.path }),
    }).map(strip);
    for (const p of draw(props, 40, 2)) {
      const stack = new TerraformStack(Testing.app({ stackTraces: false }), 'test');
      ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
      const target = new LoopbackTarget(stack, 'loopback', { orders, invoices });
      const services = Object.fromEntries(['orders', 'invoices'].map((name) => [name, target.deploy(new Construct(stack, name), {
        name, component: 'service', kind: 'stateless', image: `registry.example.no/${name}:1.0.0`,
        ports: [{ name: 'http', containerPort: 8080 }],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      })]));
      const { routes, ...options } = p as any;
      const gateway = new NginxGateway(stack, 'gateway', { ...options, target, nginxVersion: version });
      for (const r of routes) gateway.addRoute({ ...r, service: services[r.service], port: 8080 });
      stats.row('nginx -t (NginxGateway)').cases++;
      stats.row('nginx -t (NginxGateway)').accepted++;
      // The container's paths, moved into this test's folder.
      const dir = path.join(work, `gw-${n++}`);
      fs.mkdirSync(dir, { mode: 0o755 });
      const conf = gateway.renderConfig()
        .replace(/ \/tmp\//g, ` ${dir}/`).replace(/ \/tmp;/g, ` ${dir};`)
        .replace(/ \/dev\/std(err|out)/g, (_, s) => ` ${dir}/std${s}.log`)
        .replace(/listen 8080;/g, `listen 127.0.0.1:${ports[0]};`).replace(/listen 8443 /g, `listen 127.0.0.1:${ports[1]} `)
        .replace('/etc/nginx/tls/tls.crt', cert.certificatePath).replace('/etc/nginx/tls/tls.key', cert.keyPath);
      expect(conf).not.toMatch(/listen 8/);
      nginxTest(conf, `the nginx.conf of NginxGateway ${JSON.stringify(p)}`);
      stats.row('nginx -t (NginxGateway)').checks++;
    }
  });
});

// -----------------------------------------------------------------------------------------------
// PostgreSQL
// -----------------------------------------------------------------------------------------------

const PG_BIN = '/usr/lib/postgresql/15/bin';

describeWithServer('PostgreSQL 15', findBinary([`${PG_BIN}/postgres`]), 'fuzz: PostgreSQL 15 accepts every postgresql.conf and pg_hba.conf we accept', (postgres) => {
  const bin = (tool: string) => path.join(path.dirname(postgres), tool);
  const asPostgres = (tool: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', bin(tool), ...args], { encoding: 'utf8', stdio: 'pipe' });
  let work = '';
  let sockets = '';
  let data = '';
  let port = 0;
  let pid: number | undefined;
  let n = 0;

  beforeAll(async () => {
    work = makeWorkDir('fuzz-pg');
    execFileSync('chown', ['postgres:postgres', work]);
    sockets = makeSocketDir('fpg');
    execFileSync('chown', ['postgres:postgres', sockets]);
    port = (await freePorts(1))[0];
  });
  afterAll(async () => {
    try {
      if (data) {
        try {
          asPostgres('pg_ctl', ['-w', '-t', '20', '-D', data, '-m', 'fast', 'stop']);
        } catch {
          await stopPid(pid, 'SIGQUIT');
        }
      }
    } finally {
      if (work) fs.rmSync(work, { recursive: true, force: true });
      if (sockets) fs.rmSync(sockets, { recursive: true, force: true });
    }
  }, 60_000);

  /** `postgres -C` reads the whole file and exits 1 on any setting it refuses. */
  function postgresC(conf: string): void {
    const dir = path.join(work, `conf-${n++}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'postgresql.conf'), conf);
    const r = spawnSync(postgres, ['-C', 'shared_buffers', '-D', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`postgres -C refused the rendered postgresql.conf:\n${r.stderr}\n--- postgresql.conf ---\n${conf}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  it('renderPostgresConf: postgres -C accepts every accepted spec, and the server boots with one', () => {
    const bootable: PostgresConfSpec[] = [];
    for (const c of draw(cases(postgresSpec(), postgresMutations), 250, 3)) {
      runCase(stats, 'postgres -C (renderPostgresConf)', c, 'postgresConf', renderPostgresConf, (conf, { input }) => {
        postgresC(conf);
        stats.row('postgres -C (renderPostgresConf)').checks++;
        // What fits this machine can boot (shared_buffers is allocated at start).
        if (/^shared_buffers = '([0-9]+)(kB|MB)'$/m.test(conf) && !input.ssl && (input.maxConnections ?? 100) <= 200) bootable.push(input);
      }, postgresRelated);
    }
    expect(bootable.length).toBeGreaterThan(0);
    // Boot one: the first that fits, with this test's port, socket folder and hba file, and TLS on
    // (so that the hostssl lines of the pg_hba.conf cases can match).
    const certFile = path.join(work, 'server.crt');
    const keyFile = path.join(work, 'server.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    execFileSync('chown', ['postgres:postgres', certFile, keyFile]);
    fs.chmodSync(keyFile, 0o600);
    const spec: PostgresConfSpec = {
      ...bootable[0], port, unixSocketDirectory: sockets, listenAddresses: ['127.0.0.1'], hbaFile: path.join(work, 'pg_hba.conf'),
      ssl: { certFile, keyFile },
    };
    fs.writeFileSync(path.join(work, 'pg_hba.conf'), renderPgHba({ database: 'fuzz', user: 'fuzz' }));
    fs.writeFileSync(path.join(work, 'postgresql.conf'), renderPostgresConf(spec));
    execFileSync('chown', ['postgres:postgres', path.join(work, 'pg_hba.conf'), path.join(work, 'postgresql.conf')]);
    data = path.join(work, 'data');
    asPostgres('initdb', ['-N', '-D', data, '-U', 'postgres', '--auth=trust']);
    fs.appendFileSync(path.join(data, 'postgresql.conf'), `\ninclude = '${path.join(work, 'postgresql.conf')}'\n`);
    try {
      asPostgres('pg_ctl', ['-w', '-t', '30', '-D', data, '-l', path.join(work, 'server.log'), 'start']);
    } catch (e) {
      throw new Error(`PostgreSQL did not boot with ${JSON.stringify(spec)}: ${(e as Error).message}\n${fs.readFileSync(path.join(work, 'server.log'), 'utf8')}`);
    }
    pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    stats.row('PostgreSQL boot').cases++;
    stats.row('PostgreSQL boot').accepted++;
    stats.row('PostgreSQL boot').checks++;
  });

  it('renderPgHba: the booted server finds no error in any accepted pg_hba.conf', () => {
    expect(pid).toBeDefined();
    const hbaFile = path.join(work, 'pg_hba.conf');
    const psql = (sql: string) => execFileSync(bin('psql'), ['-X', '-At', '-h', sockets, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', sql], { encoding: 'utf8' }).trim();
    for (const c of draw(cases(hbaSpec, hbaMutations), 150, 4) as Case<PostgresHbaSpec>[]) {
      runCase(stats, 'pg_hba_file_rules (renderPgHba)', c, 'pgHba', renderPgHba, (hba, { input }) => {
        fs.writeFileSync(hbaFile, hba);
        // pg_hba_file_rules reads the file as it is on disk, and reports each line it cannot use.
        const rows = psql("SELECT coalesce(error, 'ok') || ' ' || coalesce(address, '') FROM pg_hba_file_rules ORDER BY line_number").split('\n');
        const cidrs = input.clientCidrs ?? ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];
        if (!rows.every((r) => r.startsWith('ok'))) throw new Error(`PostgreSQL reports errors in an accepted pg_hba.conf: ${JSON.stringify(rows)}\n${hba}`);
        expect(rows).toHaveLength(1 + cidrs.length);
        stats.row('pg_hba_file_rules (renderPgHba)').checks++;
      });
    }
  });
});

// -----------------------------------------------------------------------------------------------
// RabbitMQ
// -----------------------------------------------------------------------------------------------

const RABBIT_VERSION = '3.10.8';
const CTL_PORTS = 6;

describeWithServer('RabbitMQ', findBinary(['/usr/lib/rabbitmq/bin/rabbitmq-server']), 'fuzz: RabbitMQ 3.10 boots, imports and grants what we accept', (server) => {
  const ctl = path.join(path.dirname(server), 'rabbitmqctl');
  let dir = '';
  let epmd: ChildProcess | undefined;
  let epmdPort = 0;
  let ctlPorts: number[] = [];
  const scripts: ChildProcess[] = [];
  const started: string[] = [];
  interface NodeSpec { name: string; amqpPort: number; managementPort: number; prometheusPort: number; distPort: number }
  let main: NodeSpec;

  function env(node: NodeSpec): NodeJS.ProcessEnv {
    const base = path.join(dir, node.name);
    return {
      PATH: process.env.PATH, HOME: path.join(dir, 'home'), LANG: 'C.UTF-8',
      ERL_EPMD_PORT: String(epmdPort), ERL_CRASH_DUMP: path.join(dir, `erl_crash-${node.name}.dump`),
      RABBITMQ_NODENAME: node.name, RABBITMQ_NODE_PORT: String(node.amqpPort), RABBITMQ_DIST_PORT: String(node.distPort),
      RABBITMQ_MNESIA_BASE: path.join(base, 'mnesia'), RABBITMQ_LOG_BASE: path.join(base, 'log'),
      RABBITMQ_CONFIG_FILE: path.join(base, 'rabbitmq.conf'), RABBITMQ_ENABLED_PLUGINS_FILE: path.join(base, 'enabled_plugins'),
      RABBITMQ_PID_FILE: path.join(base, 'pid'), ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      RABBITMQ_CTL_DIST_PORT_MIN: String(ctlPorts[0]), RABBITMQ_CTL_DIST_PORT_MAX: String(ctlPorts[ctlPorts.length - 1]),
      RABBITMQ_CTL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  const rabbitmqctl = async (node: NodeSpec, args: string[], timeout = 60_000) =>
    (await execFileAsync(ctl, ['-n', node.name, ...args], { env: env(node), cwd: dir, timeout, maxBuffer: 64 * 1024 * 1024 })).stdout;

  async function newNode(index: number): Promise<NodeSpec> {
    const [amqpPort, managementPort, prometheusPort, distPort] = await freePorts(4);
    return { name: `fuzz${index}@localhost`, amqpPort, managementPort, prometheusPort, distPort };
  }

  /** Boots a node with a rendered rabbitmq.conf; resolves once `rabbitmqctl wait` says it runs. */
  async function boot(node: NodeSpec, spec: RabbitMqConfSpecInput): Promise<void> {
    const base = path.join(dir, node.name);
    fs.mkdirSync(base, { recursive: true });
    fs.writeFileSync(path.join(base, 'rabbitmq.conf'), renderRabbitMqConf(spec));
    fs.writeFileSync(path.join(base, 'enabled_plugins'), renderEnabledPlugins(spec));
    const consoleLog = path.join(base, 'console.log');
    const out = fs.openSync(consoleLog, 'a');
    const script = spawn(server, [], { env: env(node), cwd: dir, stdio: ['ignore', out, out] });
    scripts.push(script);
    fs.closeSync(out);
    started.push(node.name);
    await waitForRabbitNode({ name: `${node.name} with ${JSON.stringify(spec)}`, pidFile: path.join(base, 'pid'), consoleLog, script, ctl: nodeCtl(node) });
  }

  const nodeCtl = (node: NodeSpec) => (args: string[], timeoutMs?: number) => rabbitmqctl(node, args, timeoutMs);
  const stop = (node: NodeSpec): Promise<void> => stopRabbitNode(path.join(dir, node.name, 'pid'), nodeCtl(node));

  /** The node's alarms: none for memory; disk only when the limit is above this machine's free space. */
  async function expectNoMemoryAlarm(node: NodeSpec, conf: string): Promise<void> {
    const alarms = (await rabbitmqctl(node, ['eval', 'rabbit_alarm:get_alarms().'])).trim();
    expect(alarms).not.toContain('memory');
    const diskLimitMi = Number(/^disk_free_limit\.absolute = ([0-9]+)MiB$/m.exec(conf)?.[1]);
    const freeMi = Number(execFileSync('df', ['-m', '--output=avail', dir], { encoding: 'utf8' }).split('\n')[1]);
    if (diskLimitMi < freeMi) expect(alarms).toBe('[]');
  }

  function countBoot(): void {
    const row = stats.row('RabbitMQ boot (renderRabbitMqConf)');
    row.cases++;
    row.accepted++;
    row.checks++;
  }

  /** Accepted rabbitmq.conf specs that can boot here as one node of a cluster of one. */
  function confSpecs(node: NodeSpec, offset: number, count: number): RabbitMqConfSpecInput[] {
    const spec = rabbitConfSpec({
      versions: fc.constantFrom(RABBIT_VERSION, '3.10'),
      discovery: fc.constant({ kind: 'classic' as const, peers: [node.name] }),
    }).map((s) => ({
      ...s, listenAddress: '127.0.0.1', amqpPort: node.amqpPort, managementPort: node.managementPort, prometheusPort: node.prometheusPort,
      definitionsPath: path.join(dir, 'boot-definitions.json'),
      // Disk limits this machine can hold; the memory limit and watermark are the fuzzed part.
      diskFreeLimit: s.diskFreeLimit === undefined ? '1Gi' : '50Mi',
    }));
    // Valid by construction: renderRabbitMqConf must take every one (the boot is the check).
    return draw(spec, count, offset);
  }

  beforeAll(async () => {
    dir = makeWorkDir('fuzz-rabbitmq');
    fs.mkdirSync(path.join(dir, 'home'));
    fs.writeFileSync(path.join(dir, 'home', '.erlang.cookie'), `FUZZRABBIT${process.pid}`, { mode: 0o400 });
    epmdPort = (await freePorts(1))[0];
    ctlPorts = await freePortRange(CTL_PORTS);
    const epmdBinary = findBinary(['epmd', '/usr/bin/epmd']);
    if (!epmdBinary) throw new Error('epmd (Erlang) not found, though rabbitmq-server is installed');
    epmd = spawn(epmdBinary, ['-address', '127.0.0.1', '-port', String(epmdPort)], { cwd: dir, stdio: 'ignore' });
    await waitForPort(epmdPort);
    fs.writeFileSync(path.join(dir, 'boot-definitions.json'), renderRabbitMqDefinitions({ rabbitmqVersion: RABBIT_VERSION, vhosts: ['boot'] }));
    main = await newNode(0);
    const [first] = confSpecs(main, 5, 10);
    await boot(main, first);
    await expectNoMemoryAlarm(main, renderRabbitMqConf(first));
    countBoot();
  }, 120_000);

  afterAll(async () => {
    try {
      if (dir) for (const name of started) await stop({ name } as NodeSpec).catch(() => undefined);
      await Promise.all(scripts.map((s) => stopProcess(s, 'SIGTERM', 30_000)));
      await stopProcess(epmd);
    } finally {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('boots another node with the accepted rabbitmq.conf of the lowest memory high watermark, without a memory alarm', async () => {
    const node = await newNode(1);
    const spec = confSpecs(node, 15, 40).reduce((a, b) => (memoryOf(a) <= memoryOf(b) ? a : b));
    await boot(node, spec);
    await expectNoMemoryAlarm(node, renderRabbitMqConf(spec));
    countBoot();
    await stop(node);
  });

  it('imports every accepted definitions.json loudly, and finds all of it in the export', async () => {
    const accepted: Array<{ json: string; input: RabbitMqDefinitionsSpecInput }> = [];
    const spec = rabbitDefinitionsSpec({ versions: fc.constantFrom(RABBIT_VERSION, '3.10', '3.9.0', '3.8.0') });
    draw(cases(spec, rabbitDefinitionsMutations), 200, 6).forEach((c, i) => {
      // Vhosts of their own per case: one import takes them all, and cases cannot disagree.
      const input = prefixVhosts(c.input, `c${i}-`);
      runCase(stats, 'import_definitions (renderRabbitMqDefinitions)', { ...c, input }, 'rabbitmq definitions', renderRabbitMqDefinitions,
        (json, ok) => accepted.push({ json, input: ok.input }), rabbitDefinitionsRelated);
    });
    expect(accepted.length).toBeGreaterThan(20);
    const merged: Record<string, unknown[]> = { vhosts: [], policies: [], exchanges: [], queues: [], bindings: [] };
    for (const { json } of accepted) {
      const d = JSON.parse(json);
      for (const k of Object.keys(merged)) merged[k].push(...d[k]);
    }
    const file = path.join(dir, 'fuzz-definitions.json');
    fs.writeFileSync(file, JSON.stringify({ rabbit_version: RABBIT_VERSION, ...merged }));
    try {
      await rabbitmqctl(main, ['import_definitions', file], 120_000);
    } catch (e) {
      throw new Error(`import_definitions refused ${accepted.length} accepted definitions: ${(e as Error).message}`);
    }
    const exported = JSON.parse(await rabbitmqctl(main, ['export_definitions', '-', '--format', 'json', '-q'], 120_000));
    const key = (o: any, ...fields: string[]) => fields.map((f) => JSON.stringify(o[f])).join(' ');
    const has = (kind: string, fields: string[]) => {
      const present = new Set((exported[kind] as any[]).map((o) => key(o, ...fields)));
      const missing = (merged[kind] as any[]).filter((o) => !present.has(key(o, ...fields)));
      expect(missing).toEqual([]);
    };
    has('vhosts', ['name']);
    has('policies', ['vhost', 'name', 'pattern', 'definition']);
    has('exchanges', ['vhost', 'name', 'type', 'durable']);
    has('queues', ['vhost', 'name', 'durable', 'arguments']);
    has('bindings', ['vhost', 'source', 'destination', 'routing_key']);
    stats.row('import_definitions (renderRabbitMqDefinitions)').checks += accepted.length;
  });

  it('grants every accepted permission regex through the node\'s own set_permissions', async () => {
    await rabbitmqctl(main, ['add_vhost', 'fuzz']);
    await rabbitmqctl(main, ['add_user', 'fuzz', 'fuzz-password']);
    const values = draw(permissionRegexValues, 600, 7).filter((v): v is string => typeof v === 'string');
    const accepted = values.filter((v) => permissionRegexProblem(v) === undefined && v.length <= 255);
    const refused = values.filter((v) => !accepted.includes(v));
    const verdicts = await setPermissions([...accepted, ...refused]);
    const failedAccepted = accepted.filter((_, i) => verdicts[i] !== 'y');
    expect(failedAccepted).toEqual([]);
    const row = stats.row('set_permissions (permission regexes)');
    row.cases += values.length;
    row.accepted += accepted.length;
    row.refused += refused.length;
    row.checks += accepted.length;
    // How strict the check is: refused patterns RabbitMQ itself would have taken (not an error).
    const overStrict = refused.filter((_, i) => verdicts[accepted.length + i] === 'y').length;
    process.stdout.write(`\nset_permissions: ${accepted.length} accepted patterns all granted; of ${refused.length} refused, RabbitMQ would have granted ${overStrict}\n`);
  });

  /** 'y' or 'n' per pattern: rabbit_auth_backend_internal:set_permissions on user and vhost fuzz. */
  async function setPermissions(patterns: string[]): Promise<string[]> {
    const binaries = patterns.map((p) => `list_to_binary([${[...Buffer.from(p, 'utf8')].join(',')}])`);
    const expr = `[case catch rabbit_auth_backend_internal:set_permissions(<<"fuzz">>, <<"fuzz">>, P, P, P, <<"fuzz-test">>) of ok -> y; _ -> n end || P <- [${binaries.join(',')}]].`;
    const out = (await rabbitmqctl(main, ['eval', expr], 120_000)).replace(/\s/g, '');
    const verdicts = out.replace(/^\[|\]$/g, '').split(',').filter(Boolean);
    expect(verdicts).toHaveLength(patterns.length);
    return verdicts;
  }

  it('runs an accepted user bootstrap script with the real rabbitmqctl: every user exists with exactly its permissions', async () => {
    const wrapper = path.join(dir, 'ctl');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${ctl} -n ${main.name} "$@"\n`, { mode: 0o755 });
    // One script, of several users (each rabbitmqctl call costs most of a second).
    const specs = [draw(userBootstrapSpec, 30, 8).find((x) => x.users.length >= 2) ?? draw(userBootstrapSpec, 1, 8)[0]];
    for (const [i, raw] of specs.entries()) {
      const passwordDir = path.join(dir, `users-${i}`);
      const spec: UserBootstrapSpecInput = {
        ...raw, rabbitmqctl: wrapper, passwordDir, startupAttempts: 3, startupIntervalSeconds: 1,
        // Names of their own per script, in vhosts that exist.
        users: raw.users.map((u) => ({ ...u, name: `s${i}-${u.name}`, vhost: 'fuzz' })),
      };
      fs.mkdirSync(passwordDir);
      for (const u of spec.users) fs.writeFileSync(path.join(passwordDir, u.name), `secret-${u.name}\n`);
      const script = renderUserBootstrapScript(spec);
      stats.row('bootstrap script (renderUserBootstrapScript)').cases++;
      stats.row('bootstrap script (renderUserBootstrapScript)').accepted++;
      const r = await execFileAsync('sh', ['-c', script], { env: env(main), cwd: dir, timeout: 120_000 }).catch((e) => e);
      if (r instanceof Error) throw new Error(`the rendered bootstrap script failed: ${r.message}\n--- script ---\n${script}`);
      const permissions = JSON.parse(await rabbitmqctl(main, ['list_permissions', '-p', 'fuzz', '--formatter', 'json', '-q']));
      for (const u of spec.users) {
        expect(permissions).toContainEqual({ user: u.name, configure: u.configure ?? '.*', write: u.write ?? '.*', read: u.read ?? '.*' });
      }
      stats.row('bootstrap script (renderUserBootstrapScript)').checks++;
    }
  });
});

/** The memory high watermark a spec renders, in MiB. */
function memoryOf(spec: RabbitMqConfSpecInput): number {
  return memoryToMi(spec.memoryLimit ?? '2Gi') * (spec.memoryHighWatermark ?? 0.4);
}

/** `input` with every vhost reference prefixed (when the input has the usual shape). */
function prefixVhosts(input: unknown, prefix: string): any {
  if (typeof input !== 'object' || input === null || !Array.isArray((input as any).vhosts)) return input;
  const d = input as RabbitMqDefinitionsSpecInput;
  const p = (v: unknown) => (typeof v === 'string' ? `${prefix}${v}` : v);
  const each = (items: unknown) => (Array.isArray(items) ? items.map((x) => (typeof x === 'object' && x !== null ? { ...x, vhost: p((x as any).vhost) } : x)) : items);
  return { ...d, vhosts: d.vhosts.map(p), exchanges: each(d.exchanges), queues: each(d.queues), bindings: each(d.bindings) };
}

