/**
 * Encryption in transit on a real PostgreSQL 15 (127.0.0.1 only): the postgresql.conf and
 * pg_hba.conf that a PostgresDatabase with `tls` renders, booted with certificates made here by
 * openssl. Only where the files live differs (command-line overrides: port, socket folder, hba and
 * certificate paths); every other setting is the component's file.
 *
 * The private key is mounted as Kubernetes mounts a Secret with `defaultMode: 0440` under the pod's
 * fsGroup: owned by root, group the server's, mode 0440; and as the Docker target uploads it:
 * root:root 0440, read through the supplementary group 0. PostgreSQL accepts both; a
 * world-readable key (0444) makes it refuse to start, which the last test shows.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PostgresDatabase } from '../../lib';
import { LoopbackTarget } from '../fixtures/loopback-target';
import { newStack } from '../support/synth';
import { describeWithServer, findBinary, freePort, makeSocketDir, makeWorkDir, stopPid } from './support/real-servers';
import { TestCerts, makeTestCerts } from './support/test-certs';

const BIN_DIR = '/usr/lib/postgresql/15/bin';
const PASSWORD = 'owner-secret-tls-1';

describeWithServer('PostgreSQL 15', findBinary([`${BIN_DIR}/postgres`]), 'PostgreSQL 15 with the TLS a PostgresDatabase renders', (postgres) => {
  const bin = (name: string) => path.join(path.dirname(postgres), name);
  let work = '';
  let sockets = '';
  let certs: TestCerts;
  let port = 0;
  const pids: number[] = [];
  let env: Record<string, string> = {};

  const asPostgres = (tool: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', bin(tool), ...args], { encoding: 'utf8', stdio: 'pipe' });

  /** The component's files, as a LoopbackTarget realized them. */
  function renderedFiles(): { conf: string; hba: string } {
    const { stack } = newStack('pg-tls');
    const target = new LoopbackTarget(stack, 'target', {});
    const db = new PostgresDatabase(stack, 'db', {
      target, serviceName: 'orders', image: 'postgres:15.8', dataMajorVersion: 15, memoryLimit: '1Gi', clientCidrs: ['127.0.0.1/32'],
      tls: { secretName: 'orders-db-tls' }, retainOnDelete: false,
    });
    const files = db.workload.workload.configFiles;
    env = Object.fromEntries(db.connection.env().flatMap((e) => ('value' in e ? [[e.name, e.value]] : [])));
    return {
      conf: files.find((f) => f.path.endsWith('postgresql.conf'))!.content,
      hba: files.find((f) => f.path.endsWith('pg_hba.conf'))!.content,
    };
  }

  /**
   * Boots a data directory with the rendered files and the key at `keyMode`; returns the pg_ctl
   * result. `docker` mounts the files as the Docker target uploads them (root:root) and runs the
   * server with the supplementary group 0 (the replica's `group_add`); otherwise they are
   * root:postgres, as a Secret volume under fsGroup.
   */
  function boot(name: string, keyMode: number, docker = false): { ok: boolean; log: string; data: string } {
    const owner = docker ? 'root:root' : 'root:postgres';
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    const { conf, hba } = renderedFiles();
    fs.writeFileSync(path.join(dir, 'postgresql.conf'), conf);
    fs.writeFileSync(path.join(dir, 'pg_hba.conf'), hba);
    // As Kubernetes mounts the Secret: root-owned, group of the server (fsGroup), defaultMode.
    const tlsDir = path.join(dir, 'tls');
    fs.mkdirSync(tlsDir);
    for (const [file, from] of [['tls.crt', certs.certFile], ['tls.key', certs.keyFile], ['ca.crt', certs.caFile]] as const) {
      fs.copyFileSync(from, path.join(tlsDir, file));
      execFileSync('chown', [owner, path.join(tlsDir, file)]);
      fs.chmodSync(path.join(tlsDir, file), file === 'tls.key' ? keyMode : 0o440);
    }
    execFileSync('chown', ['-R', 'postgres:postgres', dir]);
    for (const file of ['tls.crt', 'tls.key', 'ca.crt']) execFileSync('chown', [owner, path.join(tlsDir, file)]);
    const data = path.join(dir, 'data');
    asPostgres('initdb', ['-N', '-D', data, '-U', 'postgres', '--auth=trust']);
    fs.appendFileSync(path.join(data, 'postgresql.conf'), `\ninclude = '${path.join(dir, 'postgresql.conf')}'\n`);
    const overrides = [
      `listen_addresses=127.0.0.1`, `port=${port}`, `unix_socket_directories=${sockets}`,
      `hba_file=${path.join(dir, 'pg_hba.conf')}`,
      `ssl_cert_file=${path.join(tlsDir, 'tls.crt')}`, `ssl_key_file=${path.join(tlsDir, 'tls.key')}`,
    ].map((o) => `-c ${o}`).join(' ');
    const log = path.join(dir, 'server.log');
    const groups = docker ? ['-g', 'postgres', '-G', 'root'] : [];
    const r = spawnSync('runuser', ['-u', 'postgres', ...groups, '--', bin('pg_ctl'), '-w', '-t', '30', '-D', data, '-l', log, '-o', overrides, 'start'], { encoding: 'utf8' });
    const pidFile = path.join(data, 'postmaster.pid');
    if (fs.existsSync(pidFile)) pids.push(Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]));
    return { ok: r.status === 0, log: fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : r.stderr, data };
  }

  function psql(conninfo: Record<string, string>, sql = 'SELECT current_user') {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
    const dsn = Object.entries({ connect_timeout: '5', ...conninfo }).map(([k, v]) => `${k}=${v}`).join(' ');
    const r = spawnSync(bin('psql'), ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql, dsn], { encoding: 'utf8', env: { ...clean, PGPASSWORD: PASSWORD } });
    return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
  }

  /** A client at 127.0.0.1 that asks for the server by the name in its certificate, as a service would. */
  const client = (extra: Record<string, string>) => ({ host: 'localhost', hostaddr: '127.0.0.1', port: String(port), user: 'orders', dbname: 'orders', ...extra });

  let data = '';
  beforeAll(() => {
    work = makeWorkDir('postgres-tls');
    execFileSync('chown', ['postgres:postgres', work]);
    sockets = makeSocketDir('pgtls');
    execFileSync('chown', ['postgres:postgres', sockets]);
    const certDir = path.join(work, 'certs');
    fs.mkdirSync(certDir);
    certs = makeTestCerts(certDir, ['localhost', 'orders-db'], ['127.0.0.1']);
  });

  afterAll(async () => {
    try {
      for (const pid of pids) await stopPid(pid, 'SIGQUIT');
    } finally {
      if (work) fs.rmSync(work, { recursive: true, force: true });
      if (sockets) fs.rmSync(sockets, { recursive: true, force: true });
    }
  }, 60000);

  describe('booted with the key mounted root:postgres 0440 (a Kubernetes Secret volume under fsGroup)', () => {
    beforeAll(async () => {
      port = await freePort();
      const booted = boot('server', 0o440);
      if (!booted.ok) throw new Error(`PostgreSQL did not start with the rendered TLS config:\n${booted.log}`);
      data = booted.data;
      const admin = (sql: string) => asPostgres('psql', ['-X', '-At', '-h', sockets, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', sql]);
      admin(`CREATE ROLE orders LOGIN PASSWORD '${PASSWORD}'`);
      admin('CREATE DATABASE orders OWNER orders');
    }, 60000);

    it('runs with ssl on and only hostssl lines for TCP clients', () => {
      expect(fs.readFileSync(path.join(work, 'server', 'postgresql.conf'), 'utf8')).toMatch(/^ssl = on$/m);
      const hba = fs.readFileSync(path.join(work, 'server', 'pg_hba.conf'), 'utf8');
      expect(hba).toMatch(/^hostssl orders orders 127\.0\.0\.1\/32 scram-sha-256$/m);
      // The only plain `host` line is the metrics exporter's: its role, the postgres database, the pod's loopback.
      expect(hba.match(/^host\s.*$/gm)).toEqual(['host postgres sovereign_monitoring 127.0.0.1/32 scram-sha-256']);
      expect(asPostgres('psql', ['-X', '-At', '-h', sockets, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', 'SHOW ssl'])).toBe('on\n');
    });

    it('tells clients to verify the server fully, with the CA', () => {
      expect(env.DATABASE_SSLMODE).toBe('verify-full');
      expect(env.DATABASE_SSLROOTCERT).toBe('/etc/sovereign-stack/tls/orders-db/ca.crt');
    });

    it('refuses a plaintext connection', () => {
      const plain = psql(client({ sslmode: 'disable' }));
      expect(plain.code).not.toBe(0);
      expect(plain.stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "orders", database "orders", no encryption/);
    });

    it('admits a client that verifies the server with the right CA (the connection env\'s sslmode)', () => {
      const r = psql(client({ sslmode: env.DATABASE_SSLMODE, sslrootcert: certs.caFile }),
        'SELECT current_user, ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^orders\|t\|TLSv1\.3$/);
    });

    it('fails a client verifying with a CA that did not sign the server certificate', () => {
      const r = psql(client({ sslmode: env.DATABASE_SSLMODE, sslrootcert: certs.wrongCaFile }));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/certificate verify failed/);
    });

    it('fails a client that asks for a host name the certificate does not carry', () => {
      const r = psql(client({ host: 'not-the-server.example', sslmode: env.DATABASE_SSLMODE, sslrootcert: certs.caFile }));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/does not match host name "not-the-server\.example"/);
    });
  });

  it('boots as the Docker target arranges it: files root:root 0440, the server in group 0', async () => {
    const before = port;
    port = await freePort();
    try {
      const booted = boot('docker-upload', 0o440, true);
      if (!booted.ok) throw new Error(`PostgreSQL did not start with root:root 0440 files and group 0:\n${booted.log}`);
      const r = psql(client({ user: 'postgres', dbname: 'postgres', sslmode: 'verify-full', sslrootcert: certs.caFile }));
      // Only hostssl for the owner exists: the superuser is refused, but only after the TLS handshake.
      expect(r.stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "postgres", database "postgres", SSL encryption/);
    } finally {
      port = before;
    }
  }, 60000);

  it('refuses to start with a world-readable private key (why the Secret is mounted 0440)', async () => {
    const before = port;
    port = await freePort();
    const booted = boot('world-readable-key', 0o444);
    port = before;
    expect(booted.ok).toBe(false);
    expect(booted.log).toMatch(/private key file ".*tls\.key" has group or world access/);
  }, 60000);

  afterAll(() => {
    if (data) spawnSync('runuser', ['-u', 'postgres', '--', bin('pg_ctl'), '-w', '-t', '20', '-D', data, '-m', 'fast', 'stop']);
  });
});
