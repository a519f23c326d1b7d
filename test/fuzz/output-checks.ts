/**
 * What the fuzz suites check of an ACCEPTED renderer output without a server: the file has exactly
 * the shape the renderer writes (no directive, block, key or shell word more or less than the
 * spec asks for), and its values are in the ranges the server takes. The real servers' own checks
 * run in test/integration/fuzz-real-servers.test.ts.
 */
import type { NginxConfSpec } from '../../lib/gateway/nginx-spec';
import type { PostgresConfSpec, PostgresHbaSpec } from '../../lib/postgres/postgres-spec';
import type { RabbitMqConfSpecInput } from '../../lib/rabbitmq/rabbitmq-spec';

function fail(what: string, text: string): never {
  throw new Error(`${what}\n--- output ---\n${text}`);
}

/** nginx.conf: balanced blocks, one statement per line, exactly the servers, upstreams and locations of the spec. */
export function checkNginxConf(conf: string, spec: NginxConfSpec): void {
  let depth = 0;
  const counts = { server: 0, upstream: 0, location: 0 };
  for (const raw of conf.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line === '}') {
      depth--;
      if (depth < 0) fail('nginx.conf closes a block it never opened', conf);
      continue;
    }
    if (line.endsWith(' {')) {
      depth++;
      const head = line.split(' ')[0];
      if (head in counts) counts[head as keyof typeof counts]++;
      else if (!['events', 'http', 'map', 'if'].includes(head)) fail(`nginx.conf opens an unexpected block: ${line}`, conf);
      continue;
    }
    if (!line.endsWith(';')) fail(`nginx.conf has a line that is no statement: ${JSON.stringify(line)}`, conf);
    // One statement per line: no ";" "{" "}" inside it, except in the fixed log format and quoted 404 body.
    const inner = line.slice(0, -1);
    if (/[;{}]/.test(inner.replace(/'[^']*'/g, "''"))) fail(`nginx.conf has two statements on one line: ${line}`, conf);
    if (!/^([a-z_0-9]+|"[^"]*")(\s|$)/.test(line)) fail(`nginx.conf has a statement that starts with no directive name: ${line}`, conf);
  }
  if (depth !== 0) fail('nginx.conf leaves a block open', conf);
  const tls = spec.tls !== undefined;
  if (counts.server !== (tls ? 2 : 1)) fail(`nginx.conf has ${counts.server} server blocks, expected ${tls ? 2 : 1}`, conf);
  if (counts.upstream !== spec.upstreams.length) fail(`nginx.conf has ${counts.upstream} upstreams, expected ${spec.upstreams.length}`, conf);
  // Each route: `= /p` and `/p/` ("/" alone: one prefix); the health endpoint, the 404 fallback
  // and the named locations of the JSON refusals (429 only with a rate limit).
  const routeLocations = spec.routes.reduce((n, r) => n + ((r.path.replace(/\/+$/, '') || '/') === '/' ? 1 : 2), 0);
  const fallback = spec.routes.some((r) => /^\/+$/.test(r.path)) ? 0 : 1;
  const refusals = (spec.rateLimits?.length ? 1 : 0) + 2;
  const expected = routeLocations + 1 + fallback + refusals + (tls ? 2 : 0);
  if (counts.location !== expected) fail(`nginx.conf has ${counts.location} locations, expected ${expected}`, conf);
  if (/burst=0\b|delay=0\b/.test(conf)) fail('nginx.conf has burst=0 or delay=0 (nginx -t refuses both)', conf);
}

const PG_NAME = /^[a-z_]+$/;
const PG_VALUE = /^('[^'\n\\]*'|-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?|on|off|0700)$/;
const INT_MAX = 2147483647;

/** kB of a rendered PostgreSQL size ('128kB', '512MB', '2GB'). */
export function pgSizeKb(value: string): number {
  const m = /^'([0-9]+)(kB|MB|GB)'$/.exec(value);
  if (!m) throw new Error(`not a PostgreSQL size: ${value}`);
  return Number(m[1]) * { kB: 1, MB: 1024, GB: 1024 * 1024 }[m[2] as 'kB' | 'MB' | 'GB'];
}

/** postgresql.conf: `name = value` lines only, each name once, sizes within PostgreSQL's ranges. */
export function checkPostgresConf(conf: string, spec: PostgresConfSpec): Map<string, string> {
  const settings = new Map<string, string>();
  for (const raw of conf.split('\n')) {
    if (raw === '' || raw.startsWith('#')) continue;
    const m = /^(\S+) = (.*)$/.exec(raw);
    if (!m || !PG_NAME.test(m[1]) || !PG_VALUE.test(m[2])) fail(`postgresql.conf has a line that is no setting: ${JSON.stringify(raw)}`, conf);
    if (settings.has(m[1])) fail(`postgresql.conf sets ${m[1]} twice`, conf);
    settings.set(m[1], m[2]);
  }
  const expected = 36 + (spec.ssl ? 3 : 0);
  if (settings.size !== expected) fail(`postgresql.conf has ${settings.size} settings, expected ${expected}`, conf);
  const kb = (name: string) => pgSizeKb(settings.get(name)!);
  const within = (name: string, min: number, max: number) => {
    const v = kb(name);
    if (v < min || v > max) fail(`${name} = ${settings.get(name)} is outside PostgreSQL's range ${min}..${max} kB`, conf);
  };
  within('shared_buffers', 128, Math.floor(INT_MAX / 2) * 8);
  within('effective_cache_size', 8, INT_MAX * 8);
  within('work_mem', 64, INT_MAX);
  within('maintenance_work_mem', 1024, INT_MAX);
  within('min_wal_size', 32 * 1024, INT_MAX * 1024);
  within('max_wal_size', 32 * 1024, INT_MAX * 1024);
  if (kb('min_wal_size') > kb('max_wal_size')) fail('min_wal_size is above max_wal_size', conf);
  const socket = settings.get('unix_socket_directories')!.slice(1, -1);
  if (`${socket}/.s.PGSQL.${settings.get('port')}`.length > 107) fail('the Unix socket path is longer than 107 bytes', conf);
  return settings;
}

/** pg_hba.conf: the fixed lines and one line per client network, nothing else. */
export function checkPgHba(hba: string, spec: PostgresHbaSpec): void {
  const rules = hba.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const cidrs = spec.clientCidrs ?? ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];
  const type = spec.ssl ? 'hostssl' : 'host';
  const expected = ['local all all trust', ...cidrs.map((c) => `${type} ${spec.database} ${spec.user} ${c} scram-sha-256`)];
  if (JSON.stringify(rules) !== JSON.stringify(expected)) fail(`pg_hba.conf rules differ from ${JSON.stringify(expected)}`, hba);
}

const RABBIT_KEYS = [
  /^listeners\.tcp\.(default|1)$/, /^(management|prometheus)\.tcp\.(port|ip)$/, /^loopback_users\.guest$/, /^load_definitions$/,
  /^cluster_formation\.peer_discovery_backend$/, /^cluster_formation\.k8s\.(host|address_type|service_name|hostname_suffix)$/,
  /^cluster_formation\.classic_config\.nodes\.[0-9]+$/, /^cluster_partition_handling$/, /^vm_memory_high_watermark\.absolute$/,
  /^disk_free_limit\.absolute$/, /^default_queue_type$/,
];

/** rabbitmq.conf: `key = value` lines with known keys, each once; alarms above what a booted node uses. */
export function checkRabbitConf(conf: string, spec: RabbitMqConfSpecInput): Map<string, string> {
  const settings = new Map<string, string>();
  for (const raw of conf.split('\n')) {
    if (raw === '' || raw.startsWith('#')) continue;
    const m = /^([a-z0-9_.]+) = ([^\s=]+)$/.exec(raw);
    if (!m || !RABBIT_KEYS.some((k) => k.test(m[1]))) fail(`rabbitmq.conf has a line that is no known setting: ${JSON.stringify(raw)}`, conf);
    if (settings.has(m[1])) fail(`rabbitmq.conf sets ${m[1]} twice`, conf);
    settings.set(m[1], m[2]);
  }
  const peers = spec.discovery.kind === 'classic' ? spec.discovery.peers.length : 0;
  const nodes = [...settings.keys()].filter((k) => k.startsWith('cluster_formation.classic_config.nodes.')).length;
  if (nodes !== peers) fail(`rabbitmq.conf lists ${nodes} peers, expected ${peers}`, conf);
  const mib = (key: string) => Number(/^([0-9]+)MiB$/.exec(settings.get(key) ?? '')?.[1] ?? NaN);
  if (!(mib('vm_memory_high_watermark.absolute') >= 200)) fail('the memory high watermark is below 200 MiB (a memory alarm at boot)', conf);
  if (!(mib('disk_free_limit.absolute') >= 50)) fail('the disk free limit is below 50 MiB', conf);
  return settings;
}
