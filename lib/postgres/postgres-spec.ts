/**
 * The inputs of `renderPostgresConf` and `renderPgHba`: everything that reaches postgresql.conf and
 * pg_hba.conf, validated by zod first.
 *
 * Strings written into either file are restricted to characters that cannot end a value or start
 * another setting (no quotes, whitespace, newlines, `;`, `#`), so user data cannot inject
 * configuration. Memory figures are derived from the workload's memory limit, and combinations that
 * cannot run inside that limit are rejected here, before anything is deployed.
 */
import { z } from 'zod';
import type { SchemaMatches } from '../util/schema-binding';
import { absolutePath, boundedString, cidr, dnsSubdomain, ipv4, ipv4Value, memorySize, memoryToMi, port } from '../util/schemas';

/** PostgreSQL major versions whose parameters the renderer knows. */
export const SUPPORTED_POSTGRES_VERSIONS = Object.freeze([14, 15, 16, 17] as const);
export type PostgresMajorVersion = (typeof SUPPORTED_POSTGRES_VERSIONS)[number];

/** Below this, shared_buffers, per-connection memory and the page cache do not fit together. */
export const MIN_POSTGRES_MEMORY_LIMIT = '256Mi';
/**
 * Above this, the derived effective_cache_size (75 %) would pass PostgreSQL's largest value
 * (2^31 - 1 pages of 8 kB, just under 16 TB) and the server would refuse the file.
 */
export const MAX_POSTGRES_MEMORY_LIMIT = '16Ti';

/** The pod networks of most clusters live in these (RFC 1918) ranges. */
export const DEFAULT_CLIENT_CIDRS: readonly string[] = Object.freeze(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']);

/**
 * A version string or image tag naming a PostgreSQL release: it starts with the major version
 * ("15", "15.8", "16-alpine", "16.4-bookworm"). Strict: semver.coerce would find a version
 * anywhere in any text.
 */
const POSTGRES_VERSION_TEXT = /^([1-9][0-9]{0,2})(?:\.[0-9]{1,4}){0,2}(?:[-+][A-Za-z0-9][A-Za-z0-9.-]{0,62})?$/;

/**
 * A major version: a whole number (`15`) or a version string / image tag (`"15.8"`, `"16-alpine"`).
 */
export const postgresMajorVersion = z.union([
  z.number().int({ message: 'must be a whole major version number such as 15' }),
  boundedString(80, 'must be a PostgreSQL version such as 15, "15.8" or "16-alpine" (at most 80 characters)'),
], { error: 'must be a PostgreSQL major version: a number such as 15 or a string such as "15.8" or "16-alpine"' }).transform((value, ctx): PostgresMajorVersion => {
  const major = typeof value === 'number' ? value : Number(POSTGRES_VERSION_TEXT.exec(value)?.[1] ?? NaN);
  const supported = SUPPORTED_POSTGRES_VERSIONS.find((v) => v === major);
  if (supported === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a supported PostgreSQL major version: ${SUPPORTED_POSTGRES_VERSIONS.join(', ')} (got ${JSON.stringify(value)})`,
    });
    return z.NEVER;
  }
  return supported;
});

/** Words that pg_hba.conf reads as keywords, not names: a database called "all" would admit every database. */
const HBA_KEYWORDS = ['all', 'sameuser', 'samerole', 'samegroup', 'replication'];

/**
 * A PostgreSQL role or database name that needs no quoting anywhere: lower-case letters, digits
 * and "_", at most 63 characters (NAMEDATALEN - 1), not a pg_hba.conf keyword, not "pg_"-prefixed
 * (reserved for built-in roles).
 */
export const postgresIdentifier = boundedString(63, 'must be 1-63 lower-case letters, digits and "_", not starting with a digit')
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, {
    message: 'must be 1-63 lower-case letters, digits and "_", not starting with a digit',
  })
  .refine((name) => !HBA_KEYWORDS.includes(name), { message: `must not be a pg_hba.conf keyword (${HBA_KEYWORDS.join(', ')})` })
  .refine((name) => !name.startsWith('pg_'), { message: 'must not start with "pg_" (reserved for built-in roles)' });

/** An address for listen_addresses: "*" (every interface), an IP address or a host name. */
const listenAddress = z.union([z.literal('*'), ipv4, boundedString(45).pipe(z.ipv6()), dnsSubdomain], {
  error: 'must be "*", an IP address or a host name',
});

/** PostgreSQL's block size: shared_buffers and effective_cache_size count 8 kB pages. */
const PAGE_KB = 8;
/** 2^31 - 1: the largest value of an integer setting. */
const INT_MAX = 2147483647;
const kbToMi = (kb: number): number => kb / 1024;

/**
 * PostgreSQL memory settings in Kubernetes units ("64Ki", "512Mi", "2Gi"), bounded by what the
 * server accepts (see the ranges in `SELECT name, min_val, max_val, unit FROM pg_settings`).
 */
const sizes = {
  /** shared_buffers: 16 pages (128 kB) to INT_MAX / 2 pages. */
  sharedBuffers: memorySize({
    minMi: kbToMi(16 * PAGE_KB), maxMi: kbToMi(Math.floor(INT_MAX / 2) * PAGE_KB),
    why: { min: 'PostgreSQL\'s minimum shared_buffers, 16 pages of 8 kB', max: 'PostgreSQL\'s largest shared_buffers' },
  }),
  /** effective_cache_size: 1 to INT_MAX pages. */
  effectiveCacheSize: memorySize({
    minMi: kbToMi(PAGE_KB), maxMi: kbToMi(INT_MAX * PAGE_KB),
    why: { min: 'one 8 kB page', max: 'PostgreSQL\'s largest effective_cache_size' },
  }),
  /** work_mem: 64 kB to INT_MAX kB. */
  workMem: memorySize({ minMi: kbToMi(64), maxMi: kbToMi(INT_MAX), why: { min: 'PostgreSQL minimum', max: 'PostgreSQL\'s largest work_mem' } }),
  /** maintenance_work_mem: 1 MB to INT_MAX kB. */
  maintenanceWorkMem: memorySize({ minMi: 1, maxMi: kbToMi(INT_MAX), why: { min: 'PostgreSQL minimum', max: 'PostgreSQL\'s largest maintenance_work_mem' } }),
  /** min_wal_size / max_wal_size: two 16 MB segments up to 64 TB. */
  walSize: memorySize({ minMi: 32, maxMi: 64 * 1024 * 1024, why: { min: 'two WAL segments' } }),
  /** The container's memory limit. */
  memoryLimit: memorySize({
    minMi: memoryToMi(MIN_POSTGRES_MEMORY_LIMIT), maxMi: memoryToMi(MAX_POSTGRES_MEMORY_LIMIT),
    why: {
      min: 'PostgreSQL does not run reliably in less',
      max: 'effective_cache_size, 75 % of it, must stay below PostgreSQL\'s largest value of 16 TB',
    },
  }),
};

/** The container memory limit of a PostgreSQL workload: 256Mi to 16Ti. */
export const postgresMemoryLimit = sizes.memoryLimit;

const intBetween = (min: number, max: number) =>
  z
    .number()
    .int({ message: 'must be an integer' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

/** WAL compression methods; lz4 and zstd (and the name "pglz") exist from PostgreSQL 15. */
export const WAL_COMPRESSION_METHODS = Object.freeze(['off', 'on', 'pglz', 'lz4', 'zstd'] as const);
export type WalCompression = (typeof WAL_COMPRESSION_METHODS)[number];

/** The oldest TLS version the server accepts unless the spec says otherwise. */
export const DEFAULT_SSL_MIN_PROTOCOL_VERSION = 'TLSv1.2';

/** TLS settings of postgresql.conf; giving them turns `ssl = on`. */
export interface PostgresSslSpec {
  /** Server certificate (PEM) as mounted in the container. */
  readonly certFile: string;
  /** Private key (PEM) as mounted in the container; PostgreSQL requires mode 0600 (or 0640 owned by root). */
  readonly keyFile: string;
  /**
   * Oldest TLS version accepted.
   * @default 'TLSv1.2'
   */
  readonly minProtocolVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** Validates {@link PostgresSslSpec}. */
export const PostgresSslSchema = z.strictObject({
  certFile: absolutePath,
  keyFile: absolutePath,
  minProtocolVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default(DEFAULT_SSL_MIN_PROTOCOL_VERSION),
});

/** WAL archiving: `archive_mode = on` with this command. */
export interface PostgresArchiveSpec {
  /**
   * archive_command: `%p` is the segment's path, `%f` its file name. Single-quoted in
   * postgresql.conf, so it may hold no quote, backslash or newline; at most 1024 characters.
   */
  readonly command: string;
  /**
   * archive_timeout in seconds: a quiet server still closes and archives a segment this often, which
   * bounds what a restore can lose. 0 turns it off.
   * @default 60
   */
  readonly timeoutSeconds?: number;
}

/** WAL archiving: the command is single-quoted in postgresql.conf, so it may hold no quote or newline. */
export const PostgresArchiveSchema = z.strictObject({
  command: boundedString(1024, 'must be at most 1024 characters')
    .regex(/^[^'\\\n\r\0]+$/, { message: 'must not contain quotes, backslashes or newlines' })
    .refine((c) => c.includes('%p') || c.includes('%f'), { message: 'must use %p (the segment path) or %f (its file name)' }),
  timeoutSeconds: intBetween(0, 86400).default(60),
});

/** Memory settings in kB (PostgreSQL's kB = 1024 bytes, so 1 MB here = 1 Mi in Kubernetes). */
export interface PostgresMemory {
  readonly memoryLimitKb: number;
  readonly sharedBuffersKb: number;
  readonly effectiveCacheSizeKb: number;
  readonly workMemKb: number;
  readonly maintenanceWorkMemKb: number;
  readonly walBuffersKb: number;
  /** shared_buffers + maintenance_work_mem + max_connections x work_mem: must fit in the limit. */
  readonly budgetKb: number;
}

export interface PostgresMemoryInput {
  readonly memoryLimit: string;
  readonly maxConnections: number;
  readonly sharedBuffers?: string;
  readonly effectiveCacheSize?: string;
  readonly workMem?: string;
  readonly maintenanceWorkMem?: string;
}

const MB = 1024;
/** "2Gi" -> 2097152 (kB, PostgreSQL's unit of 1024 bytes). */
export const quantityToKb = (quantity: string): number => Math.round(memoryToMi(quantity) * MB);
const floorToMb = (kb: number): number => Math.floor(kb / MB) * MB;
const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/**
 * Derives PostgreSQL's memory settings from the container's memory limit (the cgroup limit counts
 * PostgreSQL's shared memory, every backend and the page cache alike):
 *
 * - shared_buffers: 25 % of the limit (the PostgreSQL docs' starting point for a dedicated server);
 * - effective_cache_size: 75 % (shared_buffers plus the page cache the planner may count on);
 * - maintenance_work_mem: 5 %, at least 16 MB and at most 1 GB (VACUUM and CREATE INDEX);
 * - work_mem: half of what shared_buffers and maintenance_work_mem leave, shared over
 *   max_connections, at least 1 MB. The other half covers per-backend overhead, sorts that use
 *   work_mem more than once, and the page cache;
 * - wal_buffers: 1/32 of shared_buffers between 1 MB and 16 MB (PostgreSQL's own auto rule, written out).
 *
 * Explicit overrides replace the derived figure; the others are derived around them.
 */
export function derivePostgresMemory(input: PostgresMemoryInput): PostgresMemory {
  const memoryLimitKb = quantityToKb(input.memoryLimit);
  const sharedBuffersKb = input.sharedBuffers ? quantityToKb(input.sharedBuffers) : floorToMb(memoryLimitKb * 0.25);
  const effectiveCacheSizeKb = input.effectiveCacheSize ? quantityToKb(input.effectiveCacheSize) : floorToMb(memoryLimitKb * 0.75);
  const maintenanceWorkMemKb = input.maintenanceWorkMem
    ? quantityToKb(input.maintenanceWorkMem)
    : clamp(floorToMb(memoryLimitKb * 0.05), 16 * MB, 1024 * MB);
  const leftKb = Math.max(0, memoryLimitKb - sharedBuffersKb - maintenanceWorkMemKb);
  const workMemKb = input.workMem ? quantityToKb(input.workMem) : Math.max(1 * MB, floorToMb(leftKb / (2 * input.maxConnections)));
  const walBuffersKb = clamp(floorToMb(sharedBuffersKb / 32), 1 * MB, 16 * MB);
  const budgetKb = sharedBuffersKb + maintenanceWorkMemKb + input.maxConnections * workMemKb;
  return { memoryLimitKb, sharedBuffersKb, effectiveCacheSizeKb, workMemKb, maintenanceWorkMemKb, walBuffersKb, budgetKb };
}

/** 262144 (kB) -> "256MB", 2097152 -> "2GB"; the largest unit that keeps the value whole. */
export function formatPostgresSize(kb: number): string {
  if (kb % (MB * MB) === 0) return `${kb / (MB * MB)}GB`;
  return kb % MB === 0 ? `${kb / MB}MB` : `${kb}kB`;
}

/** What users (and PostgresDatabase) hand to `renderPostgresConf`: every field is optional. */
export interface PostgresConfSpec {
  /**
   * PostgreSQL major version of the image: a number or a version string / image tag ("16.4-alpine").
   * Only 14-17 are accepted.
   * @default 17
   */
  readonly version?: number | string;
  /**
   * The container's memory limit; every memory setting is derived from it. At least 256Mi.
   * @default '1Gi'
   */
  readonly memoryLimit?: string;
  /**
   * max_connections. Each connection may use work_mem, so this also sizes work_mem.
   * @default 100
   */
  readonly maxConnections?: number;
  /**
   * shared_buffers override: at least 128Ki (PostgreSQL's minimum) and below memoryLimit.
   * @default 25 % of memoryLimit
   */
  readonly sharedBuffers?: string;
  /**
   * effective_cache_size override (a planner hint, allocates nothing), at most 16 TB.
   * @default 75 % of memoryLimit
   */
  readonly effectiveCacheSize?: string;
  /**
   * work_mem override, at least 64Ki.
   * @default half of (memoryLimit - sharedBuffers - maintenanceWorkMem) / maxConnections, at least 1Mi
   */
  readonly workMem?: string;
  /**
   * maintenance_work_mem override, at least 1Mi.
   * @default 5 % of memoryLimit, between 16Mi and 1Gi
   */
  readonly maintenanceWorkMem?: string;
  /**
   * listen_addresses.
   * @default ['*']
   */
  readonly listenAddresses?: string[];
  /**
   * TCP port.
   * @default 5432
   */
  readonly port?: number;
  /**
   * unix_socket_directories (one directory). The official image uses /var/run/postgresql.
   * @default '/var/run/postgresql'
   */
  readonly unixSocketDirectory?: string;
  /**
   * Where the rendered pg_hba.conf is mounted (hba_file).
   * @default '/etc/postgresql/pg_hba.conf'
   */
  readonly hbaFile?: string;
  /**
   * TLS certificate and key; when given, `ssl = on` and pg_hba.conf should use hostssl.
   * @default undefined (ssl = off)
   */
  readonly ssl?: PostgresSslSpec;
  /**
   * random_page_cost: random reads on NVMe cost about as much as sequential ones.
   * @default 1.1
   */
  readonly randomPageCost?: number;
  /**
   * effective_io_concurrency: concurrent prefetch requests NVMe queues absorb.
   * @default 200
   */
  readonly effectiveIoConcurrency?: number;
  /**
   * maintenance_io_concurrency (VACUUM, ANALYZE, recovery prefetch).
   * @default 100
   */
  readonly maintenanceIoConcurrency?: number;
  /**
   * wal_compression. On 14 only "on" (pglz) or "off"; lz4 and zstd need 15 or later.
   * @default 'lz4' on 15+, 'on' on 14
   */
  readonly walCompression?: WalCompression;
  /**
   * checkpoint_timeout in seconds (30 s to 1 day).
   * @default 900
   */
  readonly checkpointTimeoutSeconds?: number;
  /**
   * max_wal_size: WAL kept between checkpoints; size the volume for it.
   * @default '2Gi'
   */
  readonly maxWalSize?: string;
  /**
   * min_wal_size: WAL recycled rather than removed.
   * @default '256Mi'
   */
  readonly minWalSize?: string;
  /**
   * log_min_duration_statement in ms; -1 disables, 0 logs every statement.
   * @default 1000
   */
  readonly logMinDurationStatementMs?: number;
  /**
   * idle_in_transaction_session_timeout in seconds; 0 disables. Ends sessions that hold locks
   * (and block a drain) while their client does nothing.
   * @default 600
   */
  readonly idleInTransactionTimeoutSeconds?: number;
  /**
   * WAL archiving for backups and point-in-time recovery: `archive_mode = on` with this command.
   * @default undefined (no archiving)
   */
  readonly archive?: PostgresArchiveSpec;
  /**
   * Further directories PostgreSQL creates its unix socket in (a backup job in another pod reaches
   * the server through one on a shared volume).
   * @default []
   */
  readonly extraSocketDirectories?: string[];
}

/** Validates {@link PostgresConfSpec} (documented there). */
const PostgresConfSpecObject = z.strictObject({
  version: postgresMajorVersion.default(17),
  memoryLimit: sizes.memoryLimit.default('1Gi'),
  maxConnections: intBetween(10, 5000).default(100),
  sharedBuffers: sizes.sharedBuffers.optional(),
  effectiveCacheSize: sizes.effectiveCacheSize.optional(),
  workMem: sizes.workMem.optional(),
  maintenanceWorkMem: sizes.maintenanceWorkMem.optional(),
  listenAddresses: z.array(listenAddress).min(1, { message: 'must name at least one address' }).default(['*']),
  port: port.default(5432),
  unixSocketDirectory: absolutePath.default('/var/run/postgresql'),
  hbaFile: absolutePath.default('/etc/postgresql/pg_hba.conf'),
  ssl: PostgresSslSchema.optional(),
  randomPageCost: z.number().min(0.1, { message: 'must be at least 0.1' }).max(100, { message: 'must be at most 100' }).default(1.1),
  effectiveIoConcurrency: intBetween(0, 1000).default(200),
  maintenanceIoConcurrency: intBetween(0, 1000).default(100),
  walCompression: z.enum(WAL_COMPRESSION_METHODS).optional(),
  checkpointTimeoutSeconds: intBetween(30, 86400).default(900),
  maxWalSize: sizes.walSize.default('2Gi'),
  minWalSize: sizes.walSize.default('256Mi'),
  logMinDurationStatementMs: intBetween(-1, 86_400_000).default(1000),
  idleInTransactionTimeoutSeconds: intBetween(0, 86400).default(600),
  archive: PostgresArchiveSchema.optional(),
  extraSocketDirectories: z.array(absolutePath).max(2).default([]),
});

type PostgresConfSpecParsed = z.output<typeof PostgresConfSpecObject>;

/** WAL segments are 16 MB; PostgreSQL needs room for at least two. */
const MIN_WAL_SIZE_KB = 32 * MB;

/** The socket file PostgreSQL creates in unix_socket_directories: `.s.PGSQL.<port>`. */
const SOCKET_FILE_PREFIX = '/.s.PGSQL.';
/** sun_path holds 108 bytes with the terminating NUL: PostgreSQL refuses longer socket paths. */
const MAX_SOCKET_PATH = 107;

function checkCombinations(spec: PostgresConfSpecParsed, ctx: z.RefinementCtx): void {
  const limitKb = quantityToKb(spec.memoryLimit);
  for (const [i, dir] of [spec.unixSocketDirectory, ...spec.extraSocketDirectories].entries()) {
    const socketPath = `${dir}${SOCKET_FILE_PREFIX}${spec.port}`;
    if (socketPath.length > MAX_SOCKET_PATH) {
      ctx.addIssue({
        code: 'custom',
        path: i === 0 ? ['unixSocketDirectory'] : ['extraSocketDirectories', i - 1],
        message: `gives the socket path "${socketPath.slice(0, 40)}..." of ${socketPath.length} bytes; PostgreSQL refuses more than ${MAX_SOCKET_PATH}: use a shorter directory`,
      });
    }
  }
  if (spec.sharedBuffers && quantityToKb(spec.sharedBuffers) >= limitKb) {
    ctx.addIssue({
      code: 'custom',
      path: ['sharedBuffers'],
      message: `must be below memoryLimit (${spec.sharedBuffers} >= ${spec.memoryLimit}); about 25 % of it is the usual choice`,
    });
    return;
  }
  const memory = derivePostgresMemory(spec);
  if (memory.budgetKb > limitKb) {
    const blame = spec.workMem ? 'workMem' : spec.sharedBuffers ? 'sharedBuffers' : spec.maintenanceWorkMem ? 'maintenanceWorkMem' : 'maxConnections';
    ctx.addIssue({
      code: 'custom',
      path: [blame],
      message:
        `does not fit memoryLimit ${spec.memoryLimit}: shared_buffers ${formatPostgresSize(memory.sharedBuffersKb)}` +
        ` + maintenance_work_mem ${formatPostgresSize(memory.maintenanceWorkMemKb)}` +
        ` + max_connections ${spec.maxConnections} x work_mem ${formatPostgresSize(memory.workMemKb)}` +
        ` = ${formatPostgresSize(memory.budgetKb)}; lower maxConnections, workMem or sharedBuffers, or raise memoryLimit`,
    });
  }
  if (quantityToKb(spec.maxWalSize) < Math.max(MIN_WAL_SIZE_KB, quantityToKb(spec.minWalSize))) {
    ctx.addIssue({ code: 'custom', path: ['maxWalSize'], message: 'must be at least 32Mi and at least minWalSize' });
  }
  if (spec.version === 14 && spec.walCompression && !['on', 'off'].includes(spec.walCompression)) {
    ctx.addIssue({
      code: 'custom',
      path: ['walCompression'],
      message: `"${spec.walCompression}" needs PostgreSQL 15 or later; use "on" (pglz) or "off" on 14`,
    });
  }
}

/**
 * postgresql.conf inputs. Parsing applies defaults, rejects combinations that cannot run in the
 * memory limit (naming the prop to change), and adds the resolved `walCompression` and `memory`.
 */
export const PostgresConfSpecSchema = PostgresConfSpecObject.superRefine(checkCombinations, {
  // The combination checks read the quantities, so they run only once every field is valid.
  when: (payload) => payload.issues.length === 0,
}).transform((spec) => ({
  ...spec,
  walCompression: spec.walCompression ?? (spec.version >= 15 ? 'lz4' : 'on'),
  memory: derivePostgresMemory(spec),
}));

// Compile-time binding of the documented spec to its schema.
const _confBound: SchemaMatches<PostgresConfSpec, typeof PostgresConfSpecSchema> = true;
void _confBound;

/** The validated spec with defaults, resolved walCompression and derived memory. */
export type ResolvedPostgresConfSpec = z.output<typeof PostgresConfSpecSchema>;

/** A CIDR block as the range of addresses it covers. */
interface AddressRange { readonly v6: boolean; readonly prefix: number; readonly start: bigint; readonly size: bigint }

/** "fd00:1::/48" -> its first address as a 128-bit number; handles "::" and a trailing IPv4 part. */
function ipv6Value(address: string): bigint {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = ipv4Value(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

function addressRange(block: string): AddressRange {
  const [address, prefixText] = block.split('/');
  const prefix = Number(prefixText);
  const v6 = address.includes(':');
  const bits = v6 ? 128 : 32;
  const start = v6 ? ipv6Value(address) : BigInt(ipv4Value(address));
  const size = 1n << BigInt(bits - prefix);
  return { v6, prefix, start: (start / size) * size, size };
}

/** fc00::/7, unique local IPv6 addresses: IPv6's counterpart of the RFC 1918 ranges. */
const isUniqueLocal = (r: AddressRange): boolean => r.v6 && r.start >> 121n === 0x7en;

/** Addresses covered by the union of the ranges (overlaps counted once). */
function coveredAddresses(ranges: readonly AddressRange[]): bigint {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let total = 0n;
  let end = -1n;
  for (const r of sorted) {
    const rEnd = r.start + r.size - 1n;
    if (rEnd <= end) continue;
    total += rEnd - (r.start > end ? r.start : end + 1n) + 1n;
    end = rEnd;
  }
  return total;
}

/** Together, the IPv4 blocks may cover at most two /8 networks' worth of addresses. */
const MAX_IPV4_ADDRESSES = 2n ** 25n;
/** Together, the IPv6 blocks outside fc00::/7 may cover at most two /32 allocations. */
const MAX_PUBLIC_IPV6_ADDRESSES = 2n ** 97n;

/**
 * Client networks pg_hba.conf admits, bounded so that no list of blocks admits the internet, not
 * only `/0` (`0.0.0.0/1` + `128.0.0.0/1` is the whole IPv4 internet too). Why these bounds:
 * - an IPv4 block is at most a /8: the widest private network is 10.0.0.0/8, and no organisation's
 *   client network is wider;
 * - an IPv6 block inside fc00::/7 (unique local addresses, where IPv6 pod networks live, such as
 *   fd00::/8) is at most a /8; any other IPv6 block at most a /32, the usual allocation of a whole
 *   provider (a cluster's public pod network is a /48 to /64 out of it);
 * - together the IPv4 blocks cover at most 2^25 addresses (two /8s: the RFC 1918 ranges and
 *   100.64.0.0/10 all fit), and the IPv6 blocks outside fc00::/7 at most two /32s, so splitting the
 *   internet into many small blocks is refused as well.
 */
const clientCidrs = z
  .array(cidr.refine((block) => !block.endsWith('/0'), { message: 'must not be the whole internet (/0); name the client networks' }))
  .min(1, { message: 'must name at least one network' })
  .max(64, { message: 'must name at most 64 networks' })
  .superRefine((blocks, ctx) => {
    const ranges = blocks.map(addressRange);
    ranges.forEach((r, i) => {
      const widest = !r.v6 ? 8 : isUniqueLocal(r) ? 8 : 32;
      if (r.prefix < widest) {
        const kind = !r.v6 ? 'an IPv4 block' : isUniqueLocal(r) ? 'a unique local IPv6 block (fc00::/7)' : 'a public IPv6 block';
        ctx.addIssue({
          code: 'custom', path: [i],
          message: `"${blocks[i]}" is too wide: ${kind} may be at most a /${widest}, so that pg_hba.conf never admits a large part of the internet; name the client networks`,
        });
      }
    });
    if (coveredAddresses(ranges.filter((r) => !r.v6)) > MAX_IPV4_ADDRESSES) {
      ctx.addIssue({
        code: 'custom', path: [],
        message: 'together cover more than two /8 networks of IPv4 addresses (2^25); pg_hba.conf must not admit a large part of the internet, however it is split: name the client networks',
      });
    }
    if (coveredAddresses(ranges.filter((r) => r.v6 && !isUniqueLocal(r))) > MAX_PUBLIC_IPV6_ADDRESSES) {
      ctx.addIssue({
        code: 'custom', path: [],
        message: 'together cover more than two /32 allocations of public IPv6 addresses; pg_hba.conf must not admit a large part of the internet, however it is split: name the client networks',
      });
    }
  }, { when: (payload) => payload.issues.length === 0 });

/** pg_hba.conf inputs: who may connect over TCP. */
export interface PostgresHbaSpec {
  /** The owning service's database, the only one reachable over TCP. */
  readonly database: string;
  /** The owning service's role, the only one admitted over TCP. */
  readonly user: string;
  /**
   * Client networks admitted over TCP.
   * @default ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] (RFC 1918, where pod networks live)
   */
  readonly clientCidrs?: string[];
  /**
   * Require TLS (`hostssl` lines). Set it whenever the postgresql.conf spec has `ssl`.
   * @default false
   */
  readonly ssl?: boolean;
  /**
   * The monitoring role a metrics exporter in the same pod logs in as: admitted to the "postgres"
   * database from 127.0.0.1 only (the pod's own loopback), SCRAM, with or without TLS.
   * @default - no monitoring line
   */
  readonly monitoringUser?: string;
}

/** Validates {@link PostgresHbaSpec} (documented there). */
export const PostgresHbaSpecSchema = z.strictObject({
  database: postgresIdentifier.refine((name) => !['postgres', 'template0', 'template1'].includes(name), {
    message: 'must be the service\'s own database, not "postgres", "template0" or "template1"',
  }),
  user: postgresIdentifier.refine((name) => name !== 'postgres', {
    message: 'must be the service\'s own role, not the "postgres" superuser',
  }),
  clientCidrs: clientCidrs.default(() => [...DEFAULT_CLIENT_CIDRS]),
  ssl: z.boolean().default(false),
  monitoringUser: postgresIdentifier.refine((name) => name !== 'postgres', { message: 'must not be the "postgres" superuser' }).optional(),
});

export type ResolvedPostgresHbaSpec = z.output<typeof PostgresHbaSpecSchema>;

// Compile-time binding of the documented spec to its schema.
const _hbaBound: SchemaMatches<PostgresHbaSpec, typeof PostgresHbaSpecSchema> = true;
void _hbaBound;
