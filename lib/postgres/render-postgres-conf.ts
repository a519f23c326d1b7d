/**
 * Pure renderers for postgresql.conf and pg_hba.conf: spec in, text out.
 *
 * The official `postgres` image reads the rendered file through
 * `postgres -c config_file=/etc/postgresql/postgresql.conf`; `hba_file` in it points at the rendered
 * pg_hba.conf. The image's entrypoint passes those arguments to the temporary server it runs while
 * initialising an empty volume, so both files already apply during init.
 */
import { parseProps } from '../util/errors';
import {
  formatPostgresSize,
  PostgresConfSpec,
  PostgresConfSpecSchema,
  PostgresHbaSpec,
  PostgresHbaSpecSchema,
  quantityToKb,
  ResolvedPostgresConfSpec,
  ResolvedPostgresHbaSpec,
} from './postgres-spec';

/** A value written as is (an octal mode), not quoted. */
class Raw {
  constructor(readonly text: string) {}
}
type Value = string | number | boolean | Raw;

/** Strings are single-quoted; the schema has already excluded quotes, whitespace and newlines. */
function formatValue(value: Value): string {
  if (value instanceof Raw) return value.text;
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return String(value);
  return `'${value}'`;
}

function section(title: string, settings: Array<[string, Value]>): string {
  const lines = settings.map(([name, value]) => `${name} = ${formatValue(value)}`);
  return [`# ${title}`, ...lines].join('\n');
}

/** Renders postgresql.conf for one PostgreSQL major version (14-17). Throws on an invalid spec. */
export function renderPostgresConf(spec: PostgresConfSpec): string {
  return renderResolvedPostgresConf(parseProps(PostgresConfSpecSchema, spec, 'postgresConf'));
}

/**
 * Renders postgresql.conf from a spec `PostgresConfSpecSchema` has already accepted (or one built
 * only from values it accepted): no validation here, so a component validates its options once.
 * @internal
 */
export function renderResolvedPostgresConf(s: ResolvedPostgresConfSpec): string {
  const sections = [
    connectionSettings(s),
    tlsSettings(s),
    memorySettings(s),
    section('NVMe storage', [
      ['random_page_cost', s.randomPageCost],
      ['effective_io_concurrency', s.effectiveIoConcurrency],
      ['maintenance_io_concurrency', s.maintenanceIoConcurrency],
    ]),
    walSettings(s),
    ...(s.archive
      ? [section('WAL archiving (backups and point-in-time recovery)', [
        ['wal_level', 'replica'],
        ['archive_mode', true],
        ['archive_command', s.archive.command],
        ['archive_timeout', `${s.archive.timeoutSeconds}s`],
      ])]
      : []),
    loggingSettings(s),
    section('sessions', [
      // A session idle inside a transaction holds locks and keeps a fast shutdown waiting on nothing.
      ['idle_in_transaction_session_timeout', `${s.idleInTransactionTimeoutSeconds}s`],
    ]),
  ];
  return `# postgresql.conf for PostgreSQL ${s.version}, rendered by sovereign-stack\n\n${sections.join('\n\n')}\n`;
}

function connectionSettings(s: ResolvedPostgresConfSpec): string {
  return section('connections', [
    ['listen_addresses', s.listenAddresses.join(',')],
    ['port', s.port],
    ['max_connections', s.maxConnections],
    ['unix_socket_directories', [s.unixSocketDirectory, ...s.extraSocketDirectories].join(',')],
    // Only the postgres OS user (the server's own uid) may use the socket; pg_hba.conf trusts it.
    ['unix_socket_permissions', new Raw('0700')],
    ['hba_file', s.hbaFile],
    ['password_encryption', 'scram-sha-256'],
    // Dead clients (a node gone) are noticed within ~2 minutes, so their backends release locks.
    ['tcp_keepalives_idle', 60],
    ['tcp_keepalives_interval', 10],
    ['tcp_keepalives_count', 6],
  ]);
}

function tlsSettings(s: ResolvedPostgresConfSpec): string {
  return section(
    'tls',
    s.ssl
      ? [
          ['ssl', true],
          ['ssl_cert_file', s.ssl.certFile],
          ['ssl_key_file', s.ssl.keyFile],
          ['ssl_min_protocol_version', s.ssl.minProtocolVersion],
        ]
      : [['ssl', false]],
  );
}

function memorySettings(s: ResolvedPostgresConfSpec): string {
  const m = s.memory;
  return section(`memory (derived from a ${s.memoryLimit} limit)`, [
    ['shared_buffers', formatPostgresSize(m.sharedBuffersKb)],
    ['effective_cache_size', formatPostgresSize(m.effectiveCacheSizeKb)],
    ['work_mem', formatPostgresSize(m.workMemKb)],
    ['maintenance_work_mem', formatPostgresSize(m.maintenanceWorkMemKb)],
  ]);
}

function walSettings(s: ResolvedPostgresConfSpec): string {
  return section('WAL and checkpoints', [
    // 14 takes a boolean here; 15+ takes a method (the schema enforces which).
    ['wal_compression', s.walCompression],
    ['wal_buffers', formatPostgresSize(s.memory.walBuffersKb)],
    ['checkpoint_timeout', `${s.checkpointTimeoutSeconds}s`],
    ['checkpoint_completion_target', 0.9],
    ['max_wal_size', formatPostgresSize(quantityToKb(s.maxWalSize))],
    ['min_wal_size', formatPostgresSize(quantityToKb(s.minWalSize))],
  ]);
}

function loggingSettings(s: ResolvedPostgresConfSpec): string {
  return section('logging (to stderr: the container runtime collects it)', [
    ['log_destination', 'stderr'],
    ['logging_collector', false],
    ['log_line_prefix', '%m [%p] %q%u@%d '],
    ['log_min_duration_statement', s.logMinDurationStatementMs],
    // Slow and failing statements are logged with their bind parameters in full by default, and
    // parameters are personal data (names, emails, ids): log none of them.
    ['log_parameter_max_length', 0],
    ['log_parameter_max_length_on_error', 0],
    ['log_checkpoints', true],
    ['log_connections', true],
    ['log_disconnections', true],
    ['log_lock_waits', true],
    // Every spill to disk is logged: the sign that work_mem is too small for a query.
    ['log_temp_files', 0],
  ]);
}

/**
 * Renders pg_hba.conf: the owning service's role may reach the owning service's database over TCP
 * from the client networks with SCRAM (over TLS when `ssl`), and the unix socket is trusted for the
 * image's own entrypoint and probes. No other line exists, so every other role, database or address
 * is refused with "no pg_hba.conf entry".
 */
export function renderPgHba(spec: PostgresHbaSpec): string {
  return renderResolvedPgHba(parseProps(PostgresHbaSpecSchema, spec, 'pgHba'));
}

/** Renders pg_hba.conf from a spec `PostgresHbaSpecSchema` has already accepted. @internal */
export function renderResolvedPgHba(s: ResolvedPostgresHbaSpec): string {
  const hostType = s.ssl ? 'hostssl' : 'host';
  const lines = [
    '# pg_hba.conf rendered by sovereign-stack',
    '# TYPE  DATABASE  USER  ADDRESS  METHOD',
    '',
    '# The image\'s docker-entrypoint initialises the database over the unix socket as POSTGRES_USER',
    '# without a password, and probes (pg_isready, psql) use the socket too. Trusting the socket is safe:',
    '# unix_socket_permissions = 0700 lets only the postgres OS user (who owns the data files anyway)',
    '# and root inside the container connect.',
    'local all all trust',
    '',
    `# Only the owning service, only its database, only from the client networks, SCRAM${s.ssl ? ' over TLS' : ''}.`,
    ...s.clientCidrs.map((block) => `${hostType} ${s.database} ${s.user} ${block} scram-sha-256`),
    ...(s.monitoringUser ? [
      '',
      '# The metrics exporter beside the server: only the monitoring role, only the "postgres" database,',
      '# only over the pod\'s own loopback (never from the network), SCRAM.',
      `host postgres ${s.monitoringUser} 127.0.0.1/32 scram-sha-256`,
    ] : []),
  ];
  return `${lines.join('\n')}\n`;
}
