import { renderPgHba, renderPostgresConf } from '../../lib/postgres/render-postgres-conf';
import type { PostgresConfSpec } from '../../lib/postgres/postgres-spec';

/** name -> raw value text, for every `name = value` line (the file must not set a name twice). */
function settings(conf: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of conf.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-z_]+) = (.+)$/.exec(line);
    if (!m) throw new Error(`unexpected line: ${JSON.stringify(line)}`);
    if (out.has(m[1])) throw new Error(`${m[1]} set twice`);
    out.set(m[1], m[2]);
  }
  return out;
}
const render = (spec: PostgresConfSpec) => settings(renderPostgresConf(spec));

describe('renderPostgresConf', () => {
  it('renders the memory derived from the limit', () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['1Gi', { shared_buffers: "'256MB'", effective_cache_size: "'768MB'", work_mem: "'3MB'", maintenance_work_mem: "'51MB'", wal_buffers: "'8MB'" }],
      ['4Gi', { shared_buffers: "'1GB'", effective_cache_size: "'3GB'", work_mem: "'14MB'", maintenance_work_mem: "'204MB'", wal_buffers: "'16MB'" }],
      ['16Gi', { shared_buffers: "'4GB'", effective_cache_size: "'12GB'", work_mem: "'57MB'", maintenance_work_mem: "'819MB'", wal_buffers: "'16MB'" }],
    ];
    for (const [memoryLimit, expected] of cases) {
      const s = render({ memoryLimit });
      expect(Object.fromEntries(Object.keys(expected).map((k) => [k, s.get(k)]))).toEqual(expected);
    }
  });

  it('renders explicit memory overrides', () => {
    const s = render({ memoryLimit: '2Gi', sharedBuffers: '768Mi', workMem: '512Ki', effectiveCacheSize: '1Gi', maintenanceWorkMem: '64Mi' });
    expect(s.get('shared_buffers')).toBe("'768MB'");
    expect(s.get('work_mem')).toBe("'512kB'");
    expect(s.get('effective_cache_size')).toBe("'1GB'");
    expect(s.get('maintenance_work_mem')).toBe("'64MB'");
  });

  it('renders the NVMe, WAL and checkpoint settings', () => {
    const s = render({ version: 16 });
    expect(s.get('random_page_cost')).toBe('1.1');
    expect(s.get('effective_io_concurrency')).toBe('200');
    expect(s.get('maintenance_io_concurrency')).toBe('100');
    expect(s.get('checkpoint_completion_target')).toBe('0.9');
    expect(s.get('checkpoint_timeout')).toBe("'900s'");
    expect(s.get('max_wal_size')).toBe("'2GB'");
    expect(s.get('min_wal_size')).toBe("'256MB'");
    const tuned = render({ randomPageCost: 4, effectiveIoConcurrency: 2, checkpointTimeoutSeconds: 300, maxWalSize: '8Gi' });
    expect([tuned.get('random_page_cost'), tuned.get('effective_io_concurrency'), tuned.get('checkpoint_timeout'), tuned.get('max_wal_size')])
      .toEqual(['4', '2', "'300s'", "'8GB'"]);
  });

  it('renders wal_compression per version', () => {
    expect(render({ version: 14 }).get('wal_compression')).toBe("'on'");
    expect(render({ version: 15 }).get('wal_compression')).toBe("'lz4'");
    expect(render({ version: 16 }).get('wal_compression')).toBe("'lz4'");
    expect(render({ version: 17, walCompression: 'zstd' }).get('wal_compression')).toBe("'zstd'");
    expect(render({ version: 14, walCompression: 'off' }).get('wal_compression')).toBe("'off'");
    expect(renderPostgresConf({ version: 14 })).toMatch(/^# postgresql\.conf for PostgreSQL 14,/);
  });

  it('renders connections, socket, hba_file and password hashing', () => {
    const s = render({ listenAddresses: ['127.0.0.1', '::1'], port: 25432, maxConnections: 40, unixSocketDirectory: '/tmp/pg', hbaFile: '/etc/pg/hba.conf' });
    expect(s.get('listen_addresses')).toBe("'127.0.0.1,::1'");
    expect(s.get('port')).toBe('25432');
    expect(s.get('max_connections')).toBe('40');
    expect(s.get('unix_socket_directories')).toBe("'/tmp/pg'");
    expect(s.get('unix_socket_permissions')).toBe('0700');
    expect(s.get('hba_file')).toBe("'/etc/pg/hba.conf'");
    expect(s.get('password_encryption')).toBe("'scram-sha-256'");
    const d = render({});
    expect([d.get('listen_addresses'), d.get('port'), d.get('max_connections'), d.get('hba_file')])
      .toEqual(["'*'", '5432', '100', "'/etc/postgresql/pg_hba.conf'"]);
  });

  it('renders logging to stderr', () => {
    const s = render({ logMinDurationStatementMs: 250 });
    expect(s.get('log_destination')).toBe("'stderr'");
    expect(s.get('logging_collector')).toBe('off');
    expect(s.get('log_line_prefix')).toBe("'%m [%p] %q%u@%d '");
    expect(s.get('log_min_duration_statement')).toBe('250');
    for (const name of ['log_checkpoints', 'log_connections', 'log_disconnections', 'log_lock_waits']) expect(s.get(name)).toBe('on');
    expect(s.get('log_temp_files')).toBe('0');
    expect(s.get('idle_in_transaction_session_timeout')).toBe("'600s'");
  });

  it('logs no bind parameters (personal data) with slow or failing statements', () => {
    const s = render({ logMinDurationStatementMs: 250 });
    expect(s.get('log_parameter_max_length')).toBe('0');
    expect(s.get('log_parameter_max_length_on_error')).toBe('0');
  });

  it('turns ssl on only when certificates are given', () => {
    const off = render({});
    expect(off.get('ssl')).toBe('off');
    expect(off.has('ssl_cert_file')).toBe(false);
    const on = render({ ssl: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' } });
    expect(on.get('ssl')).toBe('on');
    expect(on.get('ssl_cert_file')).toBe("'/tls/tls.crt'");
    expect(on.get('ssl_key_file')).toBe("'/tls/tls.key'");
    expect(on.get('ssl_min_protocol_version')).toBe("'TLSv1.2'");
    expect(render({ ssl: { certFile: '/c', keyFile: '/k', minProtocolVersion: 'TLSv1.3' } }).get('ssl_min_protocol_version')).toBe("'TLSv1.3'");
  });

  it('is deterministic', () => {
    expect(renderPostgresConf({ memoryLimit: '2Gi' })).toBe(renderPostgresConf({ memoryLimit: '2Gi' }));
  });
});

/** The non-comment lines of a pg_hba.conf. */
const rules = (hba: string) => hba.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('renderPgHba', () => {
  it('admits only the owner to its database from the default RFC 1918 networks, plus the socket', () => {
    expect(rules(renderPgHba({ database: 'orders', user: 'orders_app' }))).toEqual([
      'local all all trust',
      'host orders orders_app 10.0.0.0/8 scram-sha-256',
      'host orders orders_app 172.16.0.0/12 scram-sha-256',
      'host orders orders_app 192.168.0.0/16 scram-sha-256',
    ]);
  });

  it('uses hostssl when ssl is on, and the given networks', () => {
    expect(rules(renderPgHba({ database: 'invoices', user: 'invoices', clientCidrs: ['10.42.0.0/16', 'fd00:42::/64'], ssl: true }))).toEqual([
      'local all all trust',
      'hostssl invoices invoices 10.42.0.0/16 scram-sha-256',
      'hostssl invoices invoices fd00:42::/64 scram-sha-256',
    ]);
  });

  it('never admits all databases, all users or every address over TCP', () => {
    const tcp = rules(renderPgHba({ database: 'orders', user: 'orders' })).filter((l) => !l.startsWith('local '));
    for (const line of tcp) {
      const [, database, user, address, method] = line.split(' ');
      expect([database, user, method]).toEqual(['orders', 'orders', 'scram-sha-256']);
      expect(address).not.toMatch(/^(0\.0\.0\.0\/0|::\/0|all)$/);
    }
  });

  it('explains why the trusted socket is safe', () => {
    expect(renderPgHba({ database: 'orders', user: 'orders' })).toMatch(/unix_socket_permissions = 0700/);
  });
});
