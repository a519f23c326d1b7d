import { renderPostgresConf } from '../../lib/postgres/render-postgres-conf';
import {
  pgBackRestBackupCommand, renderPgBackRestConf, renderWalPushScript, renderWalSpoolCommand,
} from '../../lib/postgres/render-pgbackrest';
import type { PgBackRestConfSpec } from '../../lib/postgres/pgbackrest-spec';

const S3: PgBackRestConfSpec = {
  stanza: 'orders-db',
  pgPath: '/var/lib/postgresql/data/pgdata',
  pgSocketPath: '/var/lib/postgresql/data/run',
  lockPath: '/var/lib/postgresql/data/pgbackrest-lock',
  repository: { type: 's3', bucket: 'platform-backups', endpoint: 's3.oslo-1.example.no', region: 'no-oslo-1' },
};

/** section -> key -> value; a key set twice in a section throws. */
function ini(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section = '';
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) { section = header[1]; out[section] = {}; continue; }
    const m = /^([a-z0-9-]+)=(\S+)$/.exec(line);
    if (!m || !section) throw new Error(`unexpected line: ${JSON.stringify(line)}`);
    if (m[1] in out[section]) throw new Error(`${m[1]} set twice`);
    out[section][m[1]] = m[2];
  }
  return out;
}

describe('renderPgBackRestConf', () => {
  it('renders an S3 repository with production defaults and no credentials', () => {
    const text = renderPgBackRestConf(S3);
    expect(ini(text)).toEqual({
      global: {
        'repo1-type': 's3',
        'repo1-path': '/pgbackrest',
        'repo1-s3-bucket': 'platform-backups',
        'repo1-s3-endpoint': 's3.oslo-1.example.no',
        'repo1-s3-port': '443',
        'repo1-s3-region': 'no-oslo-1',
        'repo1-s3-uri-style': 'path',
        'repo1-storage-verify-tls': 'y',
        'repo1-retention-full-type': 'count',
        'repo1-retention-full': '4',
        'compress-type': 'zst',
        'process-max': '2',
        'start-fast': 'y',
        'lock-path': '/var/lib/postgresql/data/pgbackrest-lock',
        'log-level-console': 'info',
        'log-level-stderr': 'warn',
        'log-level-file': 'off',
      },
      'orders-db': {
        'pg1-path': '/var/lib/postgresql/data/pgdata',
        'pg1-port': '5432',
        'pg1-socket-path': '/var/lib/postgresql/data/run',
        'pg1-user': 'postgres',
      },
    });
    expect(text).not.toMatch(/s3-key/);
  });

  it('renders a posix repository and the given retention', () => {
    const conf = ini(renderPgBackRestConf({ ...S3, repository: { type: 'posix', path: '/backups/repo' }, retentionFull: 8 }));
    expect(conf.global['repo1-type']).toBe('posix');
    expect(conf.global['repo1-path']).toBe('/backups/repo');
    expect(conf.global['repo1-retention-full']).toBe('8');
    expect(Object.keys(conf.global).filter((k) => k.startsWith('repo1-s3'))).toEqual([]);
  });

  it.each([
    [{ repository: { ...S3.repository, bucket: 'Bad_Bucket' } }, /pgBackRestConf\.repository\.bucket: must be an S3 bucket name/],
    [{ repository: { ...S3.repository, endpoint: 'https://s3.example.no' } }, /pgBackRestConf\.repository\.endpoint: must be a DNS name/],
    [{ pgPath: '/data\nrepo1-type=posix' }, /pgBackRestConf\.pgPath: must be an absolute path of letters/],
    [{ pgPath: '/data/../etc' }, /pgBackRestConf\.pgPath: must not contain "\.\."/],
    [{ retentionFull: 0 }, /pgBackRestConf\.retentionFull: must be at least 1/],
    [{ repository: { type: 'gcs', bucket: 'b' } }, /pgBackRestConf\.repository/],
    [{ stanza: 'Orders DB' }, /pgBackRestConf\.stanza: must be lower-case letters/],
  ])('refuses %j', (override, message) => {
    expect(() => renderPgBackRestConf({ ...S3, ...override } as PgBackRestConfSpec)).toThrow(message);
  });
});

describe('WAL spool', () => {
  it('archive_command copies durably into the spool and lands single-quoted in postgresql.conf', () => {
    const command = renderWalSpoolCommand({ spoolDir: '/var/lib/postgresql/data/wal-spool' });
    expect(command).toBe('cp %p /var/lib/postgresql/data/wal-spool/%f.part && sync /var/lib/postgresql/data/wal-spool/%f.part'
      + ' && mv -f /var/lib/postgresql/data/wal-spool/%f.part /var/lib/postgresql/data/wal-spool/%f && sync /var/lib/postgresql/data/wal-spool'
      + ' # pushed by pgbackrest archive-push');
    const conf = renderPostgresConf({ archive: { command } });
    expect(conf).toContain(`archive_mode = on\narchive_command = '${command}'\narchive_timeout = '60s'`);
    expect(renderPostgresConf({})).not.toContain('archive_mode');
  });

  it('refuses an archive_command that could break out of its quotes or names no segment', () => {
    expect(() => renderPostgresConf({ archive: { command: "cp %p '/x'" } })).toThrow(/postgresConf\.archive\.command: must not contain quotes/);
    expect(() => renderPostgresConf({ archive: { command: 'true' } })).toThrow(/postgresConf\.archive\.command: must use %p/);
  });

  it('the push loop creates the stanza, pushes before it removes, and never pushes a partial copy', () => {
    const script = renderWalPushScript({ spoolDir: '/v/wal-spool', configPath: '/etc/pgbackrest/pgbackrest.conf', stanza: 'orders-db' });
    const push = script.indexOf('archive-push "/v/wal-spool/$f" || break');
    expect(script).toContain('until pgbackrest --config=/etc/pgbackrest/pgbackrest.conf --stanza=orders-db stanza-create; do sleep 5; done');
    expect(push).toBeGreaterThan(0);
    expect(script.indexOf('rm -f "/v/wal-spool/$f"')).toBeGreaterThan(push);
    expect(script).toContain("grep -v '[.]part$'");
  });

  it('renders the backup command', () => {
    expect(pgBackRestBackupCommand({ configPath: '/etc/pgbackrest/pgbackrest.conf', stanza: 'orders-db', type: 'diff' }))
      .toEqual(['pgbackrest', '--config=/etc/pgbackrest/pgbackrest.conf', '--stanza=orders-db', '--type=diff', 'backup']);
  });
});

describe('extra socket directories', () => {
  it('lists them after the main one and checks their socket path length', () => {
    expect(renderPostgresConf({ extraSocketDirectories: ['/var/lib/postgresql/data/run'] }))
      .toContain("unix_socket_directories = '/var/run/postgresql,/var/lib/postgresql/data/run'");
    expect(() => renderPostgresConf({ extraSocketDirectories: [`/${'d'.repeat(100)}`] })).toThrow(/postgresConf\.extraSocketDirectories\[0\]: gives the socket path/);
  });
});
