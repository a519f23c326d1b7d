/**
 * Backups and point-in-time recovery, for real: PostgreSQL 15 on 127.0.0.1 runs OUR rendered
 * postgresql.conf (archive_command = the rendered WAL spool command), the rendered push loop feeds
 * the spool to pgBackRest, and pgBackRest uses OUR rendered pgbackrest.conf with a repository on
 * local disk (repo1-type=posix; the S3 form of the file is unit-tested).
 *
 * The story: rows 1-100, a full base backup, rows 101-200, a timestamp, rows 201-300, every WAL
 * segment archived (`pgbackrest check`); then the whole "volume" (PGDATA and the spool) is
 * destroyed, `pgbackrest restore --type=time` brings it back to the timestamp, and the restored
 * server holds exactly rows 1-200.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { renderPgHba, renderPostgresConf } from '../../lib/postgres/render-postgres-conf';
import {
  pgBackRestBackupCommand, renderPgBackRestConf, renderWalPushScript, renderWalSpoolCommand,
} from '../../lib/postgres/render-pgbackrest';
import { describeWithServer, findBinary, freePort, makeSocketDir, makeWorkDir, sleep, stopPid, stopProcess } from './support/real-servers';

const BIN_DIR = '/usr/lib/postgresql/15/bin';
const STANZA = 'orders-db';

const postgresBinary = findBinary([`${BIN_DIR}/postgres`]);
const pgbackrestBinary = findBinary(['/usr/bin/pgbackrest', 'pgbackrest']);

describeWithServer('PostgreSQL 15 and pgBackRest', postgresBinary && pgbackrestBinary && postgresBinary,
  'point-in-time recovery with the rendered postgresql.conf and pgbackrest.conf', () => {
    const bin = (name: string) => path.join(BIN_DIR, name);
    let work = '';
    let sockets = '';
    let volume = '';
    let data = '';
    let spool = '';
    let confPath = '';
    let port = 0;
    let pusher: ChildProcess | undefined;
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());

    const asPostgres = (command: string, args: string[]) => {
      const r = spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    const pgbackrest = (args: string[]) => asPostgres(pgbackrestBinary!, [`--config=${confPath}`, `--stanza=${STANZA}`, ...args]);
    const sql = (statement: string) => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
      const r = spawnSync(bin('psql'), ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', sockets, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', statement], { encoding: 'utf8', env });
      if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
      return r.stdout.trim();
    };
    const start = () => {
      try {
        asPostgres(bin('pg_ctl'), ['-w', '-t', '60', '-D', data, '-l', path.join(work, 'server.log'), 'start']);
      } catch (e) {
        const log = fs.existsSync(path.join(work, 'server.log')) ? fs.readFileSync(path.join(work, 'server.log'), 'utf8') : '';
        throw new Error(`${(e as Error).message}\n${log.slice(-3000)}`);
      }
    };
    const stop = async (mode: 'fast' | 'immediate') => {
      const pidFile = path.join(data, 'postmaster.pid');
      if (!fs.existsSync(pidFile)) return;
      const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
      try {
        asPostgres(bin('pg_ctl'), ['-w', '-t', '30', '-D', data, '-m', mode, 'stop']);
      } catch {
        await stopPid(pid, 'SIGQUIT');
      }
    };
    const stopPusher = async () => {
      if (pusher?.pid) {
        try { process.kill(-pusher.pid, 'SIGTERM'); } catch { /* already gone */ }
      }
      await stopProcess(pusher, 'SIGTERM', 5000);
      pusher = undefined;
    };
    const insert = (from: number, to: number) => sql(`INSERT INTO orders (id) SELECT g FROM generate_series(${from}, ${to}) g`);

    beforeAll(async () => {
      // No "pgbackrest" in any path: archive_command must satisfy pgBackRest's check by itself.
      work = makeWorkDir('pitr');
      sockets = makeSocketDir('pitr');
      port = await freePort();
      // The "volume": PGDATA, the WAL spool, pgBackRest's locks and a second unix socket live on it,
      // as on the pod's data volume (short, under /tmp: a socket path must fit in 107 bytes).
      volume = makeSocketDir('pgvol');
      data = path.join(volume, 'pgdata');
      spool = path.join(volume, 'wal-spool');
      const repo = path.join(work, 'repo');
      const locks = path.join(volume, 'pgbackrest-lock');
      confPath = path.join(work, 'pgbackrest.conf');
      for (const dir of [volume, repo]) fs.mkdirSync(dir, { recursive: true });
      execFileSync('chown', ['-R', 'postgres:postgres', work, sockets, volume]);

      fs.writeFileSync(confPath, renderPgBackRestConf({
        // The backup reaches the server through the socket on the volume, as the CronJob does.
        stanza: STANZA, pgPath: data, pgSocketPath: volume, pgPort: port, lockPath: locks,
        repository: { type: 'posix', path: repo }, retentionFull: 2,
      }));
      fs.writeFileSync(path.join(work, 'pg_hba.conf'), renderPgHba({ database: 'orders', user: 'orders', clientCidrs: ['127.0.0.1/32'] }));
      fs.writeFileSync(path.join(work, 'postgresql.conf'), renderPostgresConf({
        version: 15, memoryLimit: '1Gi', listenAddresses: ['127.0.0.1'], port, unixSocketDirectory: sockets, extraSocketDirectories: [volume],
        hbaFile: path.join(work, 'pg_hba.conf'), archive: { command: renderWalSpoolCommand({ spoolDir: spool }), timeoutSeconds: 60 },
      }));
      execFileSync('chown', ['-R', 'postgres:postgres', work, volume]);

      asPostgres(bin('initdb'), ['-N', '-D', data, '-U', 'postgres', '--auth=trust']);
      fs.appendFileSync(path.join(data, 'postgresql.conf'), `\ninclude = '${path.join(work, 'postgresql.conf')}'\n`);
      start();
      pusher = spawn('sh', ['-c', renderWalPushScript({ spoolDir: spool, configPath: confPath, stanza: STANZA, intervalSeconds: 1 })], {
        uid, gid, detached: true, stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      });
    }, 120000);

    afterAll(async () => {
      try {
        await stopPusher();
        await stop('immediate');
      } finally {
        if (work) fs.rmSync(work, { recursive: true, force: true });
        if (sockets) fs.rmSync(sockets, { recursive: true, force: true });
        if (volume) fs.rmSync(volume, { recursive: true, force: true });
      }
    }, 60000);

    it('archives through the rendered spool and restores exactly the rows before the timestamp', async () => {
      expect(sql('SHOW archive_mode')).toBe('on');
      expect(sql('SHOW archive_command')).toBe(renderWalSpoolCommand({ spoolDir: spool }));
      expect(fs.existsSync(path.join(volume, `.s.PGSQL.${port}`))).toBe(true);

      sql('CREATE TABLE orders (id int PRIMARY KEY, created timestamptz NOT NULL DEFAULT clock_timestamp())');
      insert(1, 100);
      // The push loop creates the stanza once the server answers.
      for (let i = 0; i < 60 && !fs.existsSync(path.join(work, 'repo', 'archive', STANZA, 'archive.info')); i++) await sleep(500);
      const [tool, ...args] = pgBackRestBackupCommand({ configPath: confPath, stanza: STANZA, type: 'full' });
      expect(tool).toBe('pgbackrest');
      asPostgres(pgbackrestBinary!, args);

      insert(101, 200);
      await sleep(1100);
      const target = sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'");
      await sleep(1100);
      insert(201, 300);
      // check switches the WAL segment and waits until the repository has it: everything written
      // so far went server -> spool -> pgBackRest.
      pgbackrest(['check']);
      const info = JSON.parse(pgbackrest(['--output=json', 'info']));
      expect(info[0].backup.map((b: { type: string }) => b.type)).toEqual(['full']);
      expect(info[0].status.message).toBe('ok');

      // The node's disk is gone: PGDATA, the spool, everything on the volume.
      await stopPusher();
      await stop('immediate');
      for (const entry of fs.readdirSync(volume)) fs.rmSync(path.join(volume, entry), { recursive: true, force: true });
      expect(fs.readdirSync(volume)).toEqual([]);
      fs.mkdirSync(data, { recursive: true, mode: 0o700 });
      execFileSync('chown', ['-R', 'postgres:postgres', volume]);

      pgbackrest(['restore', '--type=time', `--target=${target}`, '--target-action=promote']);
      start();
      // Recovery ends, promoted, at the target.
      for (let i = 0; i < 60 && sql('SELECT pg_is_in_recovery()') === 't'; i++) await sleep(500);
      expect(sql('SELECT pg_is_in_recovery()')).toBe('f');
      expect(sql('SELECT count(*), min(id), max(id) FROM orders')).toBe('200|1|200');
      expect(sql(`SELECT count(*) FROM orders WHERE created > '${target}'`)).toBe('0');
    }, 180000);
  });
