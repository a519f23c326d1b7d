/**
 * The rendered postgresql.conf and pg_hba.conf against a real PostgreSQL 15 on 127.0.0.1
 * (free ports from the registry, Unix sockets in a short folder under /tmp): `postgres -C` reads
 * the rendered values back, two servers boot with them (one with TLS), and pg_hba.conf admits
 * the owning role to its own database only. Both booted servers are asked (SHOW) whether every
 * commit is durable: a rendered fsync, synchronous_commit or full_page_writes = off fails them.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { renderPgHba, renderPostgresConf } from '../../lib/postgres/render-postgres-conf';
import { derivePostgresMemory, PostgresConfSpec, PostgresHbaSpec } from '../../lib/postgres/postgres-spec';
import { describeWithServer, findBinary, freePort, makeSocketDir, makeWorkDir, stopPid } from './support/real-servers';

const BIN_DIR = '/usr/lib/postgresql/15/bin';
const OWNER_PASSWORD = 'owner-secret-1';

/**
 * What makes an acknowledged commit survive a crash, as PostgreSQL reports it. Each is on by
 * default and nothing may turn it off: fsync (off: a power loss corrupts the cluster),
 * synchronous_commit (off: a crash loses the last acknowledged commits), full_page_writes (off: a
 * torn page after a power loss cannot be repaired from the WAL).
 */
const DURABLE = { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' } as const;
const DURABILITY_SETTINGS = Object.keys(DURABLE) as Array<keyof typeof DURABLE>;

interface Server {
  readonly dir: string;
  readonly data: string;
  readonly port: number;
  /** Where its Unix socket lives: /tmp/ss-pg-..., as a socket path must fit in 107 bytes. */
  readonly socketDir: string;
  /** The postmaster's PID, read once it runs, so cleanup can kill it even if its folder is gone. */
  pid?: number;
}

describeWithServer('PostgreSQL 15', findBinary([`${BIN_DIR}/postgres`]), 'PostgreSQL 15 runs the rendered configs', (postgres) => {
  const bin = (name: string) => path.join(path.dirname(postgres), name);
  let work = '';
  let sockets = '';
  const started: Server[] = [];

  /** Runs a PostgreSQL tool as the postgres OS user (initdb and pg_ctl refuse root). */
  const asPostgres = (tool: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', bin(tool), ...args], { encoding: 'utf8', stdio: 'pipe' });

  /** `postgres -C name -D dir`; as root -C must come first. */
  const readBack = (dir: string, name: string) =>
    execFileSync(postgres, ['-C', name, '-D', dir], { encoding: 'utf8', stdio: 'pipe' }).trim();

  function psql(args: string[], env: Record<string, string> = {}) {
    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
    const r = spawnSync(bin('psql'), ['-X', '-At', '-v', 'ON_ERROR_STOP=1', ...args], {
      encoding: 'utf8',
      env: { ...cleanEnv, PGCONNECT_TIMEOUT: '5', ...env },
    });
    return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
  }

  /** SQL as the superuser over the unix socket (the `local all all trust` line). */
  function admin(server: Server, sql: string): string {
    const r = psql(['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-c', sql]);
    if (r.code !== 0) throw new Error(`psql failed: ${r.stderr}`);
    return r.stdout;
  }

  /**
   * The durability settings the running server uses (SHOW, so whatever set them: the rendered
   * file, an include, the command line), each with where it came from when not the default.
   */
  function durability(server: Server): Record<string, string> {
    const rows = admin(server, `SELECT name, setting, source, coalesce(sourcefile, '') FROM pg_settings WHERE name IN (${DURABILITY_SETTINGS.map((n) => `'${n}'`).join(', ')}) ORDER BY name`);
    const shown = Object.fromEntries(DURABILITY_SETTINGS.map((name) => [name, admin(server, `SHOW ${name}`)]));
    const notDurable = DURABILITY_SETTINGS.filter((name) => shown[name] !== DURABLE[name]);
    // eslint-disable-next-line no-console
    if (notDurable.length > 0) console.log(`[postgres durability] not durable: ${notDurable.join(', ')}\n${rows}`);
    return shown;
  }

  /** Connects over TCP 127.0.0.1 with a password, as a service would. */
  const tcp = (server: Server, user: string, database: string, password: string, sslmode = 'prefer', sql = 'SELECT current_user, current_database()') =>
    psql(['-h', '127.0.0.1', '-p', String(server.port), '-U', user, '-d', database, '-c', sql], { PGPASSWORD: password, PGSSLMODE: sslmode });

  function writeOwned(file: string, text: string): void {
    fs.writeFileSync(file, text);
    execFileSync('chown', ['postgres:postgres', file]);
  }

  /** initdb, include the rendered postgresql.conf (whose hba_file is the rendered pg_hba.conf), start. */
  function boot(name: string, conf: (dir: string, port: number, socketDir: string) => PostgresConfSpec, hba: PostgresHbaSpec, port: number): Server {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    execFileSync('chown', ['postgres:postgres', dir]);
    const spec = conf(dir, port, sockets);
    expect(spec.port).toBe(port);
    expect(spec.unixSocketDirectory).toBe(sockets);
    const server: Server = { dir, data: path.join(dir, 'data'), port, socketDir: sockets };
    writeOwned(path.join(dir, 'postgresql.conf'), renderPostgresConf(spec));
    writeOwned(path.join(dir, 'pg_hba.conf'), renderPgHba(hba));
    asPostgres('initdb', ['-N', '-D', server.data, '-U', 'postgres', '--auth=trust']);
    fs.appendFileSync(path.join(server.data, 'postgresql.conf'), `\ninclude = '${path.join(dir, 'postgresql.conf')}'\n`);
    started.push(server);
    try {
      asPostgres('pg_ctl', ['-w', '-t', '30', '-D', server.data, '-l', path.join(dir, 'server.log'), 'start']);
      server.pid = Number(fs.readFileSync(path.join(server.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch (e) {
      const log = fs.existsSync(path.join(dir, 'server.log')) ? fs.readFileSync(path.join(dir, 'server.log'), 'utf8') : '';
      throw new Error(`${name} did not start: ${(e as Error).message}\n${log}`);
    }
    return server;
  }

  beforeAll(() => {
    work = makeWorkDir('postgres');
    execFileSync('chown', ['postgres:postgres', work]);
    sockets = makeSocketDir('pg');
    execFileSync('chown', ['postgres:postgres', sockets]);
  });

  afterAll(async () => {
    try {
      for (const server of started) {
        try {
          asPostgres('pg_ctl', ['-w', '-t', '20', '-D', server.data, '-m', 'fast', 'stop']);
        } catch {
          const pidFile = path.join(server.data, 'postmaster.pid');
          const pid = server.pid ?? (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined);
          // SIGQUIT is an immediate shutdown: the postmaster takes its backends down with it.
          await stopPid(pid, 'SIGQUIT');
        }
      }
    } finally {
      if (work) fs.rmSync(work, { recursive: true, force: true });
      if (sockets) fs.rmSync(sockets, { recursive: true, force: true });
    }
  }, 60000);

  describe('postgres -C reads the rendered values back', () => {
    const specs: PostgresConfSpec[] = [
      { version: 15, memoryLimit: '1Gi', walCompression: 'on' },
      { version: 15, memoryLimit: '4Gi', maxConnections: 200, ssl: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' } },
      { version: 15, memoryLimit: '16Gi', walCompression: 'zstd', randomPageCost: 1.5, workMem: '96Mi' },
      // 14, 16 and 17 render the same parameter names, all known to 15.
      { version: 14, memoryLimit: '2Gi' },
      { version: 16, memoryLimit: '2Gi' },
      { version: 17, memoryLimit: '2Gi', walCompression: 'zstd' },
    ];

    it.each(specs.map((spec, i) => [i, spec] as const))('spec %i', (i, spec) => {
      const dir = path.join(work, `check-${i}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'postgresql.conf'), renderPostgresConf(spec));
      const memory = derivePostgresMemory({ memoryLimit: spec.memoryLimit!, maxConnections: spec.maxConnections ?? 100, workMem: spec.workMem });
      // -C prints raw units: shared_buffers and wal_buffers in 8 kB pages, the other sizes in kB or MB.
      expect({
        shared_buffers: readBack(dir, 'shared_buffers'),
        effective_cache_size: readBack(dir, 'effective_cache_size'),
        work_mem: readBack(dir, 'work_mem'),
        maintenance_work_mem: readBack(dir, 'maintenance_work_mem'),
        wal_buffers: readBack(dir, 'wal_buffers'),
        max_connections: readBack(dir, 'max_connections'),
        random_page_cost: readBack(dir, 'random_page_cost'),
        effective_io_concurrency: readBack(dir, 'effective_io_concurrency'),
        maintenance_io_concurrency: readBack(dir, 'maintenance_io_concurrency'),
        wal_compression: readBack(dir, 'wal_compression'),
        password_encryption: readBack(dir, 'password_encryption'),
        unix_socket_permissions: readBack(dir, 'unix_socket_permissions'),
        ssl: readBack(dir, 'ssl'),
        ...Object.fromEntries(DURABILITY_SETTINGS.map((name) => [name, readBack(dir, name)])),
      }).toEqual({
        shared_buffers: String(memory.sharedBuffersKb / 8),
        effective_cache_size: String(memory.effectiveCacheSizeKb / 8),
        work_mem: String(memory.workMemKb),
        maintenance_work_mem: String(memory.maintenanceWorkMemKb),
        wal_buffers: String(memory.walBuffersKb / 8),
        max_connections: String(spec.maxConnections ?? 100),
        random_page_cost: String(spec.randomPageCost ?? 1.1),
        effective_io_concurrency: '200',
        maintenance_io_concurrency: '100',
        // "on" is read back as the method it means on 15, pglz.
        wal_compression: spec.walCompression === 'on' || spec.version === 14 ? 'pglz' : spec.walCompression ?? 'lz4',
        password_encryption: 'scram-sha-256',
        unix_socket_permissions: '448', // 0700
        ssl: spec.ssl ? 'on' : 'off',
        ...DURABLE,
      });
    });

    it('reads a durability setting turned off back as off (the checks above and below can fail)', () => {
      const dir = path.join(work, 'check-not-durable');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'postgresql.conf'), `${renderPostgresConf({ version: 15 })}fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n`);
      expect(Object.fromEntries(DURABILITY_SETTINGS.map((name) => [name, readBack(dir, name)])))
        .toEqual({ fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
    });

    it('fails on a value PostgreSQL does not accept (the check can fail)', () => {
      const dir = path.join(work, 'check-broken');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'postgresql.conf'), `${renderPostgresConf({ version: 15 })}wal_compression = 'brotli'\n`);
      expect(() => readBack(dir, 'wal_compression')).toThrow(/invalid value for parameter "wal_compression"/);
    });
  });

  it('rejects memory that cannot boot before anything is written or started', () => {
    // postgres -C accepts shared_buffers beyond the container limit; only the boot (OOM) would fail.
    const dir = path.join(work, 'check-raw-memory');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'postgresql.conf'), "shared_buffers = '2GB'\n");
    expect(readBack(dir, 'shared_buffers')).toBe('262144');
    // The schema stops it first.
    expect(() => renderPostgresConf({ version: 15, memoryLimit: '1Gi', sharedBuffers: '2Gi' })).toThrow(/postgresConf\.sharedBuffers: must be below memoryLimit/);
    expect(() => renderPostgresConf({ version: 15, memoryLimit: '512Mi', maxConnections: 1000 })).toThrow(/postgresConf\.maxConnections: does not fit memoryLimit 512Mi/);
    expect(() => renderPostgresConf({ version: 15, memoryLimit: '128Mi' })).toThrow(/postgresConf\.memoryLimit: must be at least 256Mi/);
    expect(started).toHaveLength(0);
  });

  describe('a server booted with the rendered files (no TLS)', () => {
    let server: Server;
    beforeAll(async () => {
      server = boot(
        'plain',
        (dir, port, socketDir) => ({ version: 15, memoryLimit: '1Gi', walCompression: 'on', listenAddresses: ['127.0.0.1'], port, unixSocketDirectory: socketDir, hbaFile: path.join(dir, 'pg_hba.conf') }),
        { database: 'orders', user: 'orders', clientCidrs: ['127.0.0.1/32'] },
        await freePort(),
      );
      admin(server, "SET password_encryption = 'scram-sha-256'");
      admin(server, `CREATE ROLE orders LOGIN PASSWORD '${OWNER_PASSWORD}'`);
      admin(server, 'CREATE DATABASE orders OWNER orders');
      admin(server, "CREATE ROLE intruder LOGIN PASSWORD 'intruder-secret'");
      admin(server, 'CREATE DATABASE other OWNER orders');
    }, 60000);

    it('shows the NVMe, memory and security settings', () => {
      const show = (name: string) => admin(server, `SHOW ${name}`);
      expect({
        random_page_cost: show('random_page_cost'),
        effective_io_concurrency: show('effective_io_concurrency'),
        maintenance_io_concurrency: show('maintenance_io_concurrency'),
        shared_buffers: show('shared_buffers'),
        effective_cache_size: show('effective_cache_size'),
        work_mem: show('work_mem'),
        password_encryption: show('password_encryption'),
        wal_compression: show('wal_compression'),
        checkpoint_timeout: show('checkpoint_timeout'),
        max_wal_size: show('max_wal_size'),
        ssl: show('ssl'),
        hba_file: show('hba_file'),
        unix_socket_permissions: show('unix_socket_permissions'),
      }).toEqual({
        random_page_cost: '1.1',
        effective_io_concurrency: '200',
        maintenance_io_concurrency: '100',
        shared_buffers: '256MB',
        effective_cache_size: '768MB',
        work_mem: '3MB',
        password_encryption: 'scram-sha-256',
        wal_compression: 'pglz', // "on" means pglz on 15
        checkpoint_timeout: '15min',
        max_wal_size: '2GB',
        ssl: 'off',
        hba_file: path.join(server.dir, 'pg_hba.conf'),
        unix_socket_permissions: '0700',
      });
      expect(fs.statSync(path.join(server.socketDir, `.s.PGSQL.${server.port}`)).mode & 0o777).toBe(0o700);
    });

    it('runs with every commit durable: fsync, synchronous_commit and full_page_writes on', () => {
      expect(durability(server)).toEqual(DURABLE);
    });

    it('stores the owner password as SCRAM', () => {
      expect(admin(server, "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'orders'")).toBe('t');
    });

    it('admits the owner with the right password over TCP', () => {
      const r = tcp(server, 'orders', 'orders', OWNER_PASSWORD, 'disable');
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('orders|orders');
    });

    it('refuses a wrong password', () => {
      const r = tcp(server, 'orders', 'orders', 'wrong-password');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/password authentication failed for user "orders"/);
    });

    it('refuses another role, another database and the superuser over TCP', () => {
      const intruder = tcp(server, 'intruder', 'orders', 'intruder-secret');
      expect(intruder.code).not.toBe(0);
      expect(intruder.stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "intruder", database "orders"/);
      const otherDb = tcp(server, 'orders', 'other', OWNER_PASSWORD);
      expect(otherDb.code).not.toBe(0);
      expect(otherDb.stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "orders", database "other"/);
      const superuser = tcp(server, 'postgres', 'postgres', '');
      expect(superuser.code).not.toBe(0);
      expect(superuser.stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "postgres", database "postgres"/);
    });
  });

  describe('a server booted with TLS', () => {
    let server: Server;
    beforeAll(async () => {
      server = boot(
        'tls',
        (d, port, socketDir) => {
          execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
            '-keyout', path.join(d, 'server.key'), '-out', path.join(d, 'server.crt')], { stdio: 'pipe' });
          execFileSync('chown', ['postgres:postgres', path.join(d, 'server.key'), path.join(d, 'server.crt')]);
          fs.chmodSync(path.join(d, 'server.key'), 0o600);
          return {
            version: 15, memoryLimit: '2Gi', listenAddresses: ['127.0.0.1'], port, unixSocketDirectory: socketDir,
            hbaFile: path.join(d, 'pg_hba.conf'), ssl: { certFile: path.join(d, 'server.crt'), keyFile: path.join(d, 'server.key') },
          };
        },
        { database: 'invoices', user: 'invoices', clientCidrs: ['127.0.0.1/32'], ssl: true },
        await freePort(),
      );
      admin(server, `CREATE ROLE invoices LOGIN PASSWORD '${OWNER_PASSWORD}'`);
      admin(server, 'CREATE DATABASE invoices OWNER invoices');
    }, 60000);

    it('runs with every commit durable: fsync, synchronous_commit and full_page_writes on', () => {
      expect(durability(server)).toEqual(DURABLE);
    });

    it('shows ssl on, lz4 WAL compression and the derived memory', () => {
      expect(admin(server, 'SHOW ssl')).toBe('on');
      expect(admin(server, 'SHOW ssl_min_protocol_version')).toBe('TLSv1.2');
      expect(admin(server, 'SHOW wal_compression')).toBe('lz4');
      expect(admin(server, 'SHOW shared_buffers')).toBe('512MB');
      expect(admin(server, 'SHOW work_mem')).toBe('7MB'); // (2048 - 512 - 102) / 200
    });

    it('admits the owner over TLS only (hostssl)', () => {
      const overTls = tcp(server, 'invoices', 'invoices', OWNER_PASSWORD, 'require',
        'SELECT current_user, ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(overTls.stderr).toBe('');
      expect(overTls.stdout).toMatch(/^invoices\|t\|TLSv1\.[23]$/);
      const plain = tcp(server, 'invoices', 'invoices', OWNER_PASSWORD, 'disable');
      expect(plain.code).not.toBe(0);
      expect(plain.stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "invoices", database "invoices", no encryption/);
    });
  });
});
