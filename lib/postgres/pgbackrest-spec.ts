/**
 * The inputs of the pgBackRest renderers (`renderPgBackRestConf`, the WAL spool archive_command
 * and the WAL push loop), validated by zod first. Every string reaches pgbackrest.conf (one
 * `key=value` a line) or a POSIX shell script, so values are restricted to characters that can
 * neither end a line nor be read by the shell (no whitespace, quotes, `$`, `;`, backticks).
 */
import { z } from 'zod';
import type { SchemaMatches } from '../util/schema-binding';
import { boundedString, hostName, port } from '../util/schemas';

/** An absolute path safe in pgbackrest.conf and unquoted in sh: letters, digits, "/", ".", "_", "-". */
export const safePath = boundedString(200, 'must be an absolute path of at most 200 characters')
  .regex(/^\/[A-Za-z0-9._/-]*$/, { message: 'must be an absolute path of letters, digits, "/", ".", "_" and "-"' })
  .refine((p) => !p.split('/').includes('..'), { message: 'must not contain ".."' });

/** A pgBackRest stanza: the name of one PostgreSQL cluster in the repository. */
export const stanzaName = boundedString(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9][a-z0-9_-]*$/, { message: 'must be lower-case letters, digits, "_" and "-", starting with a letter or digit' });

/** S3 bucket names (the rules every S3-compatible store shares): 3-63 lower-case letters, digits, "." and "-". */
export const s3Bucket = boundedString(63, 'must be an S3 bucket name of 3-63 characters')
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be an S3 bucket name: 3-63 lower-case letters, digits, "." and "-"' });

/** The signing region of an S3-compatible store ("eu-north-1", "no-oslo-1", "us-east-1" for MinIO's default). */
export const s3Region = boundedString(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'must be an S3 signing region such as "no-oslo-1"' });

/** An S3-compatible object store as pgBackRest's repository (credentials come from the environment). */
export interface S3RepositorySpec {
  /** An S3-compatible object store. */
  readonly type: 's3';
  /** The bucket: an S3 bucket name of 3-63 lower-case letters, digits, "." and "-". */
  readonly bucket: string;
  /** Host name of the store's S3 API (no scheme, no port): "s3.oslo-1.example.no". */
  readonly endpoint: string;
  /** The S3 signing region the store expects ("eu-north-1", "no-oslo-1", "us-east-1" for MinIO's default). */
  readonly region: string;
  /**
   * TCP port of the S3 API (HTTPS).
   * @default 443
   */
  readonly port?: number;
  /**
   * "path" (`https://endpoint/bucket`) suits most S3-compatible stores (MinIO, Ceph); "host"
   * (`https://bucket.endpoint`) is AWS's style.
   * @default 'path'
   */
  readonly uriStyle?: 'path' | 'host';
  /**
   * Folder in the bucket holding the repository.
   * @default '/pgbackrest'
   */
  readonly path?: string;
}

/** Validates {@link S3RepositorySpec} (documented there). */
export const S3RepositorySchema = z.strictObject({
  type: z.literal('s3'),
  bucket: s3Bucket,
  endpoint: hostName,
  region: s3Region,
  port: port.default(443),
  uriStyle: z.enum(['path', 'host']).default('path'),
  path: safePath.default('/pgbackrest'),
});

/** A repository on a local (or mounted) file system: tests, and single-host Docker stacks. */
export interface PosixRepositorySpec {
  /** A file-system repository. */
  readonly type: 'posix';
  /** Directory holding the repository. */
  readonly path: string;
}

/** Validates {@link PosixRepositorySpec}. */
export const PosixRepositorySchema = z.strictObject({
  type: z.literal('posix'),
  path: safePath,
});

export const RepositorySchema = z.discriminatedUnion('type', [S3RepositorySchema, PosixRepositorySchema], {
  error: 'must be { type: "s3", bucket, endpoint, region } or { type: "posix", path }',
});

/** Defaults of the pgBackRest specs, also written out by PostgresDatabase (which builds validated specs). */
export const PGBACKREST_DEFAULTS = Object.freeze({
  pgUser: 'postgres',
  compressType: 'zst',
  processMax: 2,
  intervalSeconds: 5,
} as const);

/** pgbackrest.conf inputs. */
export interface PgBackRestConfSpec {
  /** The stanza (one per database): lower-case letters, digits, "_" and "-". */
  readonly stanza: string;
  /** PGDATA as pgBackRest sees it. */
  readonly pgPath: string;
  /** Directory of PostgreSQL's unix socket (pgBackRest connects over the socket only). */
  readonly pgSocketPath: string;
  /**
   * PostgreSQL's port (names its socket file).
   * @default 5432
   */
  readonly pgPort?: number;
  /**
   * The superuser pgBackRest connects as over the socket.
   * @default 'postgres'
   */
  readonly pgUser?: string;
  /** Where the backups go: an S3-compatible object store or a file-system directory. */
  readonly repository: S3RepositorySpec | PosixRepositorySpec;
  /**
   * Full backups kept; with them go their differentials and the WAL needed to restore to any point
   * since the oldest one.
   * @default 4
   */
  readonly retentionFull?: number;
  /** Where pgBackRest keeps its lock files (shared by every process that uses the stanza). */
  readonly lockPath: string;
  /**
   * Compression of backups and archived WAL.
   * @default 'zst'
   */
  readonly compressType?: 'zst' | 'lz4' | 'gz' | 'none';
  /**
   * Parallel processes for backup and restore.
   * @default 2
   */
  readonly processMax?: number;
}

/** Validates {@link PgBackRestConfSpec} (documented there). */
export const PgBackRestConfSpecSchema = z.strictObject({
  stanza: stanzaName,
  pgPath: safePath,
  pgSocketPath: safePath,
  pgPort: port.default(5432),
  pgUser: stanzaName.default(PGBACKREST_DEFAULTS.pgUser),
  repository: RepositorySchema,
  retentionFull: z.number().int({ message: 'must be a whole number' }).min(1, { message: 'must be at least 1' }).max(365, { message: 'must be at most 365' }).default(4),
  lockPath: safePath,
  compressType: z.enum(['zst', 'lz4', 'gz', 'none']).default(PGBACKREST_DEFAULTS.compressType),
  processMax: z.number().int().min(1).max(32).default(PGBACKREST_DEFAULTS.processMax),
});

const _confBound: SchemaMatches<PgBackRestConfSpec, typeof PgBackRestConfSpecSchema> = true;
void _confBound;
export type ResolvedPgBackRestConfSpec = z.output<typeof PgBackRestConfSpecSchema>;

/** The WAL spool: where archive_command leaves segments and the push loop takes them from. */
export interface WalSpoolSpec {
  /** The spool directory (on the data volume, so a restarted pod loses no archived WAL). */
  readonly spoolDir: string;
  /** pgbackrest.conf path. */
  readonly configPath: string;
  /** The stanza the segments belong to. */
  readonly stanza: string;
  /**
   * Seconds the push loop sleeps when the spool is empty.
   * @default 5
   */
  readonly intervalSeconds?: number;
  /**
   * Run `stanza-upgrade` rather than `stanza-create` at start: the cluster was re-initialised for a
   * new PostgreSQL major version on purpose.
   * @default false
   */
  readonly upgradeStanza?: boolean;
}

/** Validates {@link WalSpoolSpec} (documented there). */
export const WalSpoolSpecSchema = z.strictObject({
  spoolDir: safePath,
  configPath: safePath,
  stanza: stanzaName,
  intervalSeconds: z.number().int().min(1).max(300).default(PGBACKREST_DEFAULTS.intervalSeconds),
  upgradeStanza: z.boolean().default(false),
});

const _walSpoolBound: SchemaMatches<WalSpoolSpec, typeof WalSpoolSpecSchema> = true;
void _walSpoolBound;
export type ResolvedWalSpoolSpec = z.output<typeof WalSpoolSpecSchema>;

/**
 * Environment variables pgBackRest reads the S3 credentials from (`PGBACKREST_<OPTION>`): the
 * keys never reach pgbackrest.conf, the ConfigMap or the synthesized JSON.
 */
export const PGBACKREST_S3_KEY_ENV = 'PGBACKREST_REPO1_S3_KEY';
export const PGBACKREST_S3_KEY_SECRET_ENV = 'PGBACKREST_REPO1_S3_KEY_SECRET';
