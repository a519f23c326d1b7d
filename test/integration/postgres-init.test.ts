/**
 * What PostgresDatabase ships, run on a real PostgreSQL 15 on 127.0.0.1 (a free port from the
 * registry; the Unix socket in a short folder under /tmp, as its path must fit in 107 bytes).
 * The files are taken from the SYNTHESIZED ConfigMap, and the official image's docker-entrypoint
 * is followed step by step: initdb into a subdirectory of a non-empty "volume" with
 * POSTGRES_INITDB_ARGS, a temporary server on the unix socket only, the init script SOURCED by
 * bash with the entrypoint's options and the owner password in the environment, then the real
 * server with `-c config_file=...` (the container's args). Then the owner logs in over TCP with
 * SCRAM, and nothing else does.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PostgresDatabase } from '../../lib/postgres/postgres-database';
import { OSLO_REGION } from '../../lib/residency/regions';
import { KubernetesTarget } from '../../lib/targets/kubernetes/kubernetes-target';
import { findByName, newStack, synthJson } from '../support/synth';
import { describeWithServer, findBinary, freePort, makeSocketDir, makeWorkDir, stopPid, terraformLiteralText } from './support/real-servers';

const BIN_DIR = '/usr/lib/postgresql/15/bin';
/** Everything that breaks naive quoting: quotes, a backslash, "$", ";", a comment and spaces. */
const OWNER_PASSWORD = `it's "q" \\ $HOME; DROP ROLE postgres; -- x`;
const SUPERUSER_PASSWORD = 'superuser-secret-1';

describeWithServer('PostgreSQL 15', findBinary([`${BIN_DIR}/postgres`]), 'PostgresDatabase init on PostgreSQL 15', (postgres) => {
  const bin = (name: string) => path.join(path.dirname(postgres), name);
  let work = '';
  /** The Unix socket's folder, /tmp/ss-pginit-... (the container's /var/run/postgresql). */
  let sockets = '';
  let port = 0;
  let dataDir = '';
  let pid: number | undefined;
  let sourced: { code: number | null; stdout: string; stderr: string };
  let shipped: { conf: string; hba: string; script: string; env: any[]; args: string[]; probe: string[] };

  const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG') && !k.startsWith('POSTGRES')));

  /** A PostgreSQL tool as the postgres OS user (initdb and pg_ctl refuse root). */
  const asPostgres = (command: string, args: string[], env: Record<string, string> = {}) =>
    spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], {
      encoding: 'utf8', env: { ...cleanEnv(), PATH: `${BIN_DIR}:${process.env.PATH}`, ...env },
    });

  function must(r: { status: number | null; stdout: string; stderr: string }, what: string) {
    if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  function psql(args: string[], env: Record<string, string> = {}) {
    const r = spawnSync(bin('psql'), ['-X', '-At', '-v', 'ON_ERROR_STOP=1', ...args], {
      encoding: 'utf8', env: { ...cleanEnv(), PGCONNECT_TIMEOUT: '5', ...env },
    });
    return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
  }
  const admin = (sql: string) => {
    const r = psql(['-h', sockets, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', sql]);
    if (r.code !== 0) throw new Error(`psql failed: ${r.stderr}`);
    return r.stdout;
  };
  const tcp = (user: string, database: string, password: string, sql = 'SELECT current_user, current_database()') =>
    psql(['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-c', sql], { PGPASSWORD: password, PGSSLMODE: 'disable' });

  const envValue = (name: string) => shipped.env.find((e) => e.name === name)?.value as string;
  const file = (name: string) => path.join(work, name);
  /** The server options of the container, moved to this folder and port. */
  const serverOptions = (listen: string) => [
    ...shipped.args,
    '-c', `listen_addresses=${listen}`, '-c', `port=${port}`,
    '-c', `unix_socket_directories=${sockets}`, '-c', `hba_file=${file('pg_hba.conf')}`,
  ].map((a) => (a.includes('=') ? a.replace(/^config_file=.*$/, `config_file=${file('postgresql.conf')}`) : a))
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');

  function pgCtl(action: 'start' | 'stop', listen = '') {
    const args = action === 'start'
      ? ['-w', '-t', '30', '-D', dataDir, '-l', file('server.log'), '-o', serverOptions(listen), 'start']
      : ['-w', '-t', '30', '-D', dataDir, '-m', 'fast', 'stop'];
    const r = asPostgres(bin('pg_ctl'), args);
    if (r.status !== 0) {
      const log = fs.existsSync(file('server.log')) ? fs.readFileSync(file('server.log'), 'utf8') : '';
      throw new Error(`pg_ctl ${action} failed: ${r.stderr}\n${log}`);
    }
    pid = action === 'start' ? Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) : undefined;
  }

  beforeAll(async () => {
    // What PostgresDatabase ships, from the synthesized JSON.
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    new PostgresDatabase(stack, 'orders-db', {
      target, serviceName: 'orders', image: 'postgres:15.8', memoryLimit: '1Gi', clientCidrs: ['127.0.0.1/32'], walStorageGi: 4,
    });
    const json = synthJson(stack);
    const data = findByName(json, 'kubernetes_config_map_v1', 'orders-db-config').data;
    const container = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').spec.template.spec.container[0];
    // As Terraform passes them on: literal `${` / `%{` are written `$${` / `%%{` in the JSON.
    const text = terraformLiteralText;
    shipped = {
      conf: text(data['etc_postgresql_postgresql.conf']),
      hba: text(data['etc_postgresql_pg_hba.conf']),
      script: text(data['docker-entrypoint-initdb.d_10-create-owner.sh']),
      env: container.env.map((e: { value?: unknown }) => (typeof e.value === 'string' ? { ...e, value: text(e.value) } : e)),
      args: container.args.map(text),
      probe: container.readiness_probe.exec.command.map(text),
    };

    work = makeWorkDir('postgres-init');
    sockets = makeSocketDir('pginit');
    execFileSync('chown', ['postgres:postgres', sockets]);
    port = await freePort();
    for (const [name, text] of [['postgresql.conf', shipped.conf], ['pg_hba.conf', shipped.hba], ['10-create-owner.sh', shipped.script]]) {
      fs.writeFileSync(file(name), text, { mode: 0o444 });
    }
    // Fresh "volumes": their roots are not empty (lost+found), as on ext4/xfs.
    for (const volume of ['data', 'wal']) fs.mkdirSync(path.join(work, volume, 'lost+found'), { recursive: true });
    execFileSync('chown', ['-R', 'postgres:postgres', work]);
    dataDir = envValue('PGDATA').replace('/var/lib/postgresql/data', file('data'));
    const walDir = envValue('POSTGRES_INITDB_WALDIR').replace('/var/lib/postgresql/wal', file('wal'));
    fs.writeFileSync(file('pwfile'), `${SUPERUSER_PASSWORD}\n`, { mode: 0o400 });
    execFileSync('chown', ['postgres:postgres', file('pwfile')]);

    // docker_init_database_dir: initdb --username=postgres --pwfile=... --waldir ... $POSTGRES_INITDB_ARGS
    must(asPostgres(bin('initdb'), ['-N', `--username=${envValue('POSTGRES_USER')}`, `--pwfile=${file('pwfile')}`,
      `--waldir=${walDir}`, ...envValue('POSTGRES_INITDB_ARGS').split(' '), '-D', dataDir]), 'initdb');

    // docker_temp_server_start: the shipped args plus listen_addresses='' (unix socket only).
    pgCtl('start', '');
    // docker_process_init_files: a non-executable *.sh is SOURCED by the entrypoint's bash.
    const r = asPostgres('bash', ['-c', 'set -Eeo pipefail; . "$0"; echo "entrypoint continues: ${NOT_SET_ANYWHERE}"', file('10-create-owner.sh')], {
      POSTGRES_USER: 'postgres', OWNER_PASSWORD, PGHOST: sockets, PGPORT: String(port),
    });
    sourced = { code: r.status, stdout: r.stdout, stderr: r.stderr };
    // docker_temp_server_stop, then `exec postgres -c config_file=...`.
    pgCtl('stop');
    pgCtl('start', '127.0.0.1');
  }, 60000);

  afterAll(async () => {
    try {
      // Also a server whose `pg_ctl start` timed out: it may run without our having read its PID.
      const pidFile = dataDir && path.join(dataDir, 'postmaster.pid');
      const running = pid ?? (pidFile && fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined);
      if (running) {
        const r = asPostgres(bin('pg_ctl'), ['-w', '-t', '20', '-D', dataDir, '-m', 'fast', 'stop']);
        if (r.status !== 0) await stopPid(running, 'SIGQUIT'); // immediate shutdown, backends included
      }
    } finally {
      if (work) fs.rmSync(work, { recursive: true, force: true });
      if (sockets) fs.rmSync(sockets, { recursive: true, force: true });
    }
  }, 60000);

  it('initdb refuses a volume root that is not empty, which is why PGDATA and the WAL dir are subdirectories', () => {
    const r = asPostgres(bin('initdb'), ['-N', '-U', 'postgres', '--auth=trust', '-D', file('wal')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/exists but is not empty/);
    expect(fs.lstatSync(path.join(dataDir, 'pg_wal')).isSymbolicLink()).toBe(true);
    expect(admin('SHOW data_checksums')).toBe('on');
  });

  it('sources the init script without leaking its shell options into the entrypoint', () => {
    expect(sourced.stderr).toBe('');
    expect(sourced.code).toBe(0);
    expect(sourced.stdout).toContain('create-owner: role orders owns database orders');
    expect(sourced.stdout).toContain('entrypoint continues: '); // no `set -u` leaked
    expect(shipped.script).not.toContain(OWNER_PASSWORD);
  });

  it('creates the owner as a LOGIN role without any other privilege, owning its database', () => {
    expect(admin("SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = 'orders'"))
      .toBe('t|f|f|f|f|f');
    expect(admin("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'orders'")).toBe('orders');
    expect(admin("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'orders'")).toBe('t');
  });

  it('admits the owner over TCP with the password from the environment, quoted safely', () => {
    const r = tcp('orders', 'orders', OWNER_PASSWORD, 'CREATE TABLE invoices_seen (id int); SELECT current_user, current_database()');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('CREATE TABLE\norders|orders');
    expect(admin("SELECT count(*) FROM pg_roles WHERE rolname = 'postgres'")).toBe('1'); // nothing was injected
  });

  it('refuses a wrong password, the superuser over TCP, and other databases', () => {
    expect(tcp('orders', 'orders', 'wrong').stderr).toMatch(/password authentication failed for user "orders"/);
    expect(tcp('postgres', 'postgres', SUPERUSER_PASSWORD).stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "postgres"/);
    expect(tcp('orders', 'postgres', OWNER_PASSWORD).stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "orders", database "postgres"/);
  });

  it('answers the shipped pg_isready probe over the unix socket', () => {
    expect(shipped.probe).toEqual(['pg_isready', '-U', 'postgres', '-h', '/var/run/postgresql']);
    const probe = shipped.probe.map((a) => (a === '/var/run/postgresql' ? sockets : a));
    const r = spawnSync(bin(probe[0]), [...probe.slice(1), '-p', String(port)], { encoding: 'utf8', env: cleanEnv() });
    expect(r.stdout).toContain('accepting connections');
    expect(r.status).toBe(0);
  });

  it('never writes the password to the server log, not even for a failing CREATE ROLE', () => {
    // A second run fails (the role exists); PostgreSQL logs a failing statement's text by default.
    const retry = 'second-attempt-password-7';
    const r = asPostgres('bash', [file('10-create-owner.sh')], { POSTGRES_USER: 'postgres', OWNER_PASSWORD: retry, PGHOST: sockets, PGPORT: String(port) });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/role "orders" already exists/);
    expect(r.stderr).not.toContain(retry);
    const log = fs.readFileSync(file('server.log'), 'utf8');
    expect(log).toContain('database system is ready to accept connections');
    expect(log).toMatch(/ERROR: {2}role "orders" already exists/);
    expect(log).not.toMatch(/STATEMENT:.*CREATE ROLE/);
    expect(log).not.toContain(retry);
    expect(log).not.toContain(OWNER_PASSWORD);
    expect(tcp('orders', 'orders', OWNER_PASSWORD).stdout).toBe('orders|orders'); // unchanged
  });

  it('refuses to create the owner without a password', () => {
    const r = asPostgres('bash', ['-c', 'set -Eeo pipefail; . "$0"; echo "not reached"', file('10-create-owner.sh')], {
      POSTGRES_USER: 'postgres', OWNER_PASSWORD: '', PGHOST: sockets, PGPORT: String(port),
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('create-owner: OWNER_PASSWORD is empty or unset');
    expect(r.stdout).not.toContain('not reached');
  });
});
