/**
 * What PostgresDatabase ships, run on a real PostgreSQL 15 on 127.0.0.1 (a free port from the
 * registry; the Unix socket in a short folder under /tmp, as its path must fit in 107 bytes).
 * The files are taken from the SYNTHESIZED ConfigMap, and the official image's docker-entrypoint
 * is followed step by step: initdb into a subdirectory of a non-empty "volume" with
 * POSTGRES_INITDB_ARGS, a temporary server on the unix socket only, the init script SOURCED by
 * bash with the entrypoint's options and the owner password in a file (the mounted Secret, mode
 * and group as the pod spec sets them), then the real server with `-c config_file=...` (the
 * container's args). Then the owner logs in over TCP with SCRAM, and nothing else does.
 *
 * The init script runs under an exec tracer (strace -f, or where strace is missing a sampler of
 * /proc/<pid>/cmdline and environ): the password is in no process's argv or environment, while a
 * control script that passes it the old way (`psql -v pw=...`) is caught by the same tracer.
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import { createHash, createHmac, pbkdf2Sync } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PostgresDatabase } from '../../lib/postgres/postgres-database';
import { renderInitOwnerScript } from '../../lib/postgres/render-init-owner';
import { OSLO_REGION } from '../../lib/residency/regions';
import { KubernetesTarget } from '../../lib/targets/kubernetes/kubernetes-target';
import { findByName, newStack, synthJson } from '../support/synth';
import { describeWithServer, findBinary, freePort, makeSocketDir, makeWorkDir, stopPid, terraformLiteralText } from './support/real-servers';

const BIN_DIR = '/usr/lib/postgresql/15/bin';
/** Everything that breaks naive quoting: quotes, a backslash, "$", ";", a comment and spaces. */
const OWNER_PASSWORD = `it's "q" \\ $HOME; DROP ROLE postgres; -- x`;
const SUPERUSER_PASSWORD = 'superuser-secret-1';
/** The exec tracer; PG_INIT_TRACER=proc forces the /proc sampler (what a machine without strace runs). */
const STRACE = process.env.PG_INIT_TRACER === 'proc' ? undefined : findBinary(['/usr/bin/strace', 'strace']);

/** One process start the tracer saw: its argv and environment. */
interface Exec { readonly argv: string[]; readonly env: string[] }

/**
 * Runs `command` (as root, so the tracer may read every process) and returns every process it
 * started, with its argv and environment. With strace: every execve of the whole tree, none
 * missed. Without: /proc sampled every few milliseconds while it runs (the control test shows
 * that this catches a password on psql's command line, which lives as long as the script runs).
 */
async function traceExecs(command: string, args: string[], env: Record<string, string>, work: string):
  Promise<{ code: number | null; stdout: string; stderr: string; execs: Exec[]; tracer: string }> {
  if (STRACE) {
    const log = path.join(work, `strace-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
    // -xx: every string in hex, so no byte of argv or environment is escaped out of recognition.
    const r = spawnSync(STRACE, ['-f', '-qq', '-v', '-xx', '-s', '1048576', '-e', 'trace=execve', '-e', 'signal=none', '-o', log, '--', command, ...args],
      { encoding: 'utf8', env });
    const text = fs.readFileSync(log, 'utf8');
    fs.rmSync(log, { force: true });
    const hex = (s: string) => Buffer.from(s.replace(/\\x/g, ''), 'hex').toString('utf8');
    const strings = (list: string) => [...list.matchAll(/"((?:\\x[0-9a-f]{2})*)"/g)].map((m) => hex(m[1]));
    const execs = [...text.matchAll(/execve\("[^"]*", \[([^\]]*)\], \[([^\]]*)\]/g)].map((m) => ({ argv: strings(m[1]), env: strings(m[2]) }));
    if (execs.length === 0) throw new Error(`strace recorded no execve: ${text.slice(0, 2000)}`);
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, execs, tracer: 'strace' };
  }
  const child = spawn(command, args, { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const seen = new Map<string, Exec>();
  const read = (file: string) => { try { return fs.readFileSync(file, 'utf8'); } catch { return undefined; } };
  let done = false;
  void exited.then(() => { done = true; });
  while (!done) {
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)) {
      const cmdline = read(`/proc/${pid}/cmdline`);
      if (!cmdline) continue;
      const environ = read(`/proc/${pid}/environ`) ?? '';
      seen.set(`${pid}:${cmdline}`, { argv: cmdline.split('\0').filter(Boolean), env: environ.split('\0').filter(Boolean) });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { code: await exited, stdout, stderr, execs: [...seen.values()], tracer: '/proc sampling' };
}

/** Whether `password` (SCRAM-SHA-256, ASCII or not SASLprep-able) matches a pg_authid verifier. */
function scramMatches(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) throw new Error(`not a SCRAM verifier: ${verifier.slice(0, 20)}...`);
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(m[2], 'base64'), Number(m[1]), 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest('base64');
  return storedKey === m[3];
}

describeWithServer('PostgreSQL 15', findBinary([`${BIN_DIR}/postgres`]), 'PostgresDatabase init on PostgreSQL 15', (postgres) => {
  const bin = (name: string) => path.join(path.dirname(postgres), name);
  let work = '';
  /** The Unix socket's folder, /tmp/ss-pginit-... (the container's /var/run/postgresql). */
  let sockets = '';
  let port = 0;
  let dataDir = '';
  let pid: number | undefined;
  let sourced: { code: number | null; stdout: string; stderr: string };
  let shipped: { conf: string; hba: string; script: string; env: any[]; args: string[]; probe: string[]; secret: { mountPath: string; mode: string; fsGroup: string } };
  /** The mounted Secret's folder here, and the owner's password file in it. */
  let secretDir = '';
  let ownerPasswordFile = '';
  let traced: Awaited<ReturnType<typeof traceExecs>>;

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
      target, serviceName: 'orders', image: 'postgres:15.8', dataMajorVersion: 15, memoryLimit: '1Gi', clientCidrs: ['127.0.0.1/32'], walStorageGi: 4,
      // The owner's init alone; the monitoring role has its own proof (metrics.test.ts).
      metrics: { enabled: false },
    });
    const json = synthJson(stack);
    const data = findByName(json, 'kubernetes_config_map_v1', 'orders-db-config').data;
    const pod = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').spec.template.spec;
    const container = pod.container[0];
    const secretVolume = pod.volume.find((v: any) => v.secret?.secret_name === 'orders-db-credentials');
    // As Terraform passes them on: literal `${` / `%{` are written `$${` / `%%{` in the JSON.
    const text = terraformLiteralText;
    shipped = {
      conf: text(data['etc_postgresql_postgresql.conf']),
      hba: text(data['etc_postgresql_pg_hba.conf']),
      script: text(data['docker-entrypoint-initdb.d_10-create-owner.sh']),
      env: container.env.map((e: { value?: unknown }) => (typeof e.value === 'string' ? { ...e, value: text(e.value) } : e)),
      args: container.args.map(text),
      probe: container.readiness_probe.exec.command.map(text),
      secret: {
        mountPath: container.volume_mount.find((m: any) => m.name === secretVolume.name).mount_path,
        mode: secretVolume.secret.default_mode,
        fsGroup: pod.security_context.fs_group,
      },
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
    // The mounted Secret as the kubelet makes it: root-owned files of mode default_mode, group
    // fsGroup (999: the image's postgres user), one per key.
    secretDir = file('secrets');
    fs.mkdirSync(secretDir, { mode: 0o755 });
    const secretFile = (key: string, value: string) => {
      const f = path.join(secretDir, key);
      fs.writeFileSync(f, value, { mode: parseInt(shipped.secret.mode, 8) });
      fs.chmodSync(f, parseInt(shipped.secret.mode, 8));
      execFileSync('chown', [`root:${shipped.secret.fsGroup === '999' ? 'postgres' : shipped.secret.fsGroup}`, f]);
      return f;
    };
    const inSecretDir = (p: string) => p.replace(shipped.secret.mountPath, secretDir);
    const superuserPasswordFile = secretFile('superuser-password', SUPERUSER_PASSWORD);
    ownerPasswordFile = secretFile('password', OWNER_PASSWORD);
    expect(inSecretDir(envValue('POSTGRES_PASSWORD_FILE'))).toBe(superuserPasswordFile);
    expect(inSecretDir(envValue('OWNER_PASSWORD_FILE'))).toBe(ownerPasswordFile);

    // docker_init_database_dir: initdb --username=postgres --pwfile=<the password read from
    // POSTGRES_PASSWORD_FILE> --waldir ... $POSTGRES_INITDB_ARGS
    must(asPostgres(bin('initdb'), ['-N', `--username=${envValue('POSTGRES_USER')}`, `--pwfile=${superuserPasswordFile}`,
      `--waldir=${walDir}`, ...envValue('POSTGRES_INITDB_ARGS').split(' '), '-D', dataDir]), 'initdb');

    // docker_temp_server_start: the shipped args plus listen_addresses='' (unix socket only).
    pgCtl('start', '');
    // docker_process_init_files: a non-executable *.sh is SOURCED by the entrypoint's bash, with
    // the container's env (OWNER_PASSWORD_FILE, no OWNER_PASSWORD). Under the exec tracer.
    traced = await traceExecs('runuser', ['-u', 'postgres', '--', 'bash', '-c',
      'set -Eeo pipefail; . "$0"; echo "entrypoint continues: ${NOT_SET_ANYWHERE}"', file('10-create-owner.sh')], {
      ...cleanEnv(), PATH: `${BIN_DIR}:${process.env.PATH}`,
      POSTGRES_USER: 'postgres', OWNER_PASSWORD_FILE: ownerPasswordFile, PGHOST: sockets, PGPORT: String(port),
    }, work);
    sourced = { code: traced.code, stdout: traced.stdout, stderr: traced.stderr };
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

  it('admits the owner over TCP with the password from the mounted file, quoted safely', () => {
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

  it('refuses to create the owner without a password: none given, an empty or missing file, or both a file and a variable', () => {
    const run = (env: Record<string, string>) => asPostgres('bash', ['-c', 'set -Eeo pipefail; . "$0"; echo "not reached"', file('10-create-owner.sh')], {
      POSTGRES_USER: 'postgres', PGHOST: sockets, PGPORT: String(port), ...env,
    });
    fs.writeFileSync(file('empty-password'), '');
    const cases = [
      [{ OWNER_PASSWORD: '' }, 'create-owner: OWNER_PASSWORD and OWNER_PASSWORD_FILE are empty or unset'],
      [{ OWNER_PASSWORD_FILE: file('empty-password') }, 'create-owner: OWNER_PASSWORD_FILE names no readable, non-empty file'],
      [{ OWNER_PASSWORD_FILE: file('no-such-file') }, 'create-owner: OWNER_PASSWORD_FILE names no readable, non-empty file'],
      [{ OWNER_PASSWORD_FILE: ownerPasswordFile, OWNER_PASSWORD: 'x' }, 'create-owner: both OWNER_PASSWORD and OWNER_PASSWORD_FILE are set'],
    ] as const;
    for (const [env, message] of cases) {
      const r = run(env);
      expect([r.status, r.stderr.trim(), r.stdout]).toEqual([1, expect.stringContaining(message), '']);
    }
  });

  it('puts the password on no command line and in no environment while the script runs (traced), yet the role logs in with it', () => {
    const leaks = traced.execs.filter((e) => [...e.argv, ...e.env].some((a) => a.includes(OWNER_PASSWORD)));
    expect(leaks.map((e) => `${traced.tracer} saw the password in: ${e.argv.join(' ')}`)).toEqual([]);
    // Not even a recognizable part of it (the tracer decodes every byte, so nothing hides in escapes).
    expect(traced.execs.filter((e) => [...e.argv, ...e.env].some((a) => a.includes('DROP ROLE postgres')))).toEqual([]);
    const programs = traced.execs.map((e) => path.basename(e.argv[0] ?? ''));
    // The tracer saw the script's processes: psql, and (strace sees every exec; sampling may miss
    // a process that lives a millisecond) the cat that read the file for psql.
    expect(programs).toContain('psql');
    if (traced.tracer === 'strace') {
      expect(programs).toEqual(expect.arrayContaining(['runuser', 'bash', 'psql', 'sh', 'cat']));
      expect(traced.execs.filter((e) => path.basename(e.argv[0] ?? '') === 'cat').map((e) => e.argv)).toEqual([['cat', '--', ownerPasswordFile]]);
    }
    expect(tcp('orders', 'orders', OWNER_PASSWORD).stdout).toBe('orders|orders');
    if (process.env.PG_INIT_VERBOSE === '1') {
      process.stderr.write(`init script traced with ${traced.tracer}: ${traced.execs.length} execs (${[...new Set(programs)].join(', ')}), none with the password\n`);
    }
  });

  it('(control) the same tracer catches a password passed the old way, on psql\'s command line', async () => {
    const control = `control-${Date.now()}-old-way`;
    fs.writeFileSync(file('control-password'), control, { mode: 0o444 });
    // The script before this change: psql -v pw="..." (here from the file), the rest unchanged.
    const oldWay = shipped.script
      .replace(/^\\set pw .*$/m, '')
      .replace('-v role=orders -v database=orders <<', `-v role=orders -v database=orders -v pw="$(cat "$OWNER_PASSWORD_FILE")" <<`);
    expect(oldWay).not.toBe(shipped.script);
    fs.writeFileSync(file('old-way.sh'), oldWay, { mode: 0o444 });
    const r = await traceExecs('runuser', ['-u', 'postgres', '--', 'bash', file('old-way.sh')], {
      ...cleanEnv(), PATH: `${BIN_DIR}:${process.env.PATH}`,
      POSTGRES_USER: 'postgres', OWNER_PASSWORD_FILE: file('control-password'), PGHOST: sockets, PGPORT: String(port),
    }, work);
    expect(r.stderr).toMatch(/role "orders" already exists/); // it ran psql, which failed harmlessly
    const leaks = r.execs.filter((e) => e.argv.some((a) => a.includes(control)));
    expect(leaks.map((e) => path.basename(e.argv[0]))).toContain('psql');
  });

  it('keeps every byte of the password, from a file or from the variable (quotes, backslashes, UTF-8, trailing newlines)', () => {
    const passwords = { bytes_file: `pa'ss\\word "$(id)" \`x\` æøå 🔑\n\n`, bytes_env: `-leading dash; ends in a newline\n` };
    for (const [name, password] of Object.entries(passwords)) {
      const script = renderInitOwnerScript({ role: name, database: name });
      fs.writeFileSync(file(`${name}.sh`), script, { mode: 0o444 });
      fs.writeFileSync(file(`${name}.pw`), password, { mode: 0o444 });
      const env: Record<string, string> = name === 'bytes_file' ? { OWNER_PASSWORD_FILE: file(`${name}.pw`) } : { OWNER_PASSWORD: password };
      must(asPostgres('bash', [file(`${name}.sh`)], { POSTGRES_USER: 'postgres', PGHOST: sockets, PGPORT: String(port), ...env }), name);
      const verifier = admin(`SELECT rolpassword FROM pg_authid WHERE rolname = '${name}'`);
      expect(scramMatches(verifier, password)).toBe(true);
      expect(scramMatches(verifier, password.replace(/\n+$/, ''))).toBe(false);
    }
  });

  it('commits no role when the password read is empty (an unreadable file that passed the check)', () => {
    // Simulates a read that yields nothing: the backquoted command replaced by one that prints nothing.
    const script = renderInitOwnerScript({ role: 'empty_read', database: 'empty_read' }).replace(/^\\set pw `.*`$/m, "\\set pw `printf ''`");
    expect(script).toContain("\\set pw `printf ''`");
    fs.writeFileSync(file('empty-read.sh'), script, { mode: 0o444 });
    const r = asPostgres('bash', [file('empty-read.sh')], { POSTGRES_USER: 'postgres', PGHOST: sockets, PGPORT: String(port), OWNER_PASSWORD_FILE: ownerPasswordFile });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('create-owner: the password read was empty; role not created');
    expect(admin("SELECT count(*) FROM pg_roles WHERE rolname = 'empty_read'")).toBe('0');
    expect(admin("SELECT count(*) FROM pg_database WHERE datname = 'empty_read'")).toBe('0');
  });
});
