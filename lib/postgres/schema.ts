/**
 * Internal validation of `PostgresDatabase` props (the documented contract is `props.ts`; each
 * schema is bound to its interface at compile time below). Parsing validates every value once and
 * returns what the workload is built from: the defaulted options plus the values derived from them
 * (the PostgreSQL major of the image, the database name, the uid, the resolved postgresql.conf
 * inputs and client networks), so nothing downstream parses them again.
 */
import { z } from 'zod';
import { RegionRefSchema } from '../residency/region-ref';
import { SchemaMatches } from '../util/schema-binding';
import { cidr, cpuQuantity, dnsLabel, dnsSubdomain, imageRef, memoryQuantity } from '../util/schemas';
import { imageTagOf, imageTagVersion } from '../util/versions';
import { exporterOptionsSchema } from '../workload/metrics';
import { ServerTlsSchema } from '../workload/server-tls';
import { S3RepositorySchema } from './pgbackrest-spec';
import {
  DEFAULT_CLIENT_CIDRS,
  PostgresConfSpecSchema,
  PostgresHbaSpecSchema,
  PostgresMajorVersion,
  ResolvedPostgresConfSpec,
  SUPPORTED_POSTGRES_VERSIONS,
  postgresIdentifier,
} from './postgres-spec';
import type { PostgresBackupOptions, PostgresDatabaseOptions } from './props';

/** The official image the database runs by default (Debian-based; its postgres user is uid 999). */
export const DEFAULT_POSTGRES_IMAGE = 'postgres:17.12';
/**
 * The PostgreSQL major version of a data directory unless `dataMajorVersion` says otherwise: the
 * default image's. Deliberately a constant, never read from `image`: changing the image to another
 * major must not silently change what the data on the volume is assumed to be.
 */
export const DEFAULT_DATA_MAJOR_VERSION = 17;
/** The postgres_exporter image of the metrics sidecar (connects over 127.0.0.1; serves :9187/metrics). */
export const DEFAULT_POSTGRES_EXPORTER_IMAGE = 'quay.io/prometheuscommunity/postgres-exporter:v0.20.1';
/** The exporter's role: LOGIN and member of pg_monitor, nothing else (init script and pg_hba.conf). */
export const MONITORING_ROLE = 'sovereign_monitoring';

/** Workload names carry a "-db" suffix and may be at most 40 characters. */
const MAX_SERVICE_NAME_LENGTH = 37;
/** WAL may grow past max_wal_size (2GB by default) under load; a full WAL volume stops the server. */
const MIN_WAL_STORAGE_GI = 4;
/** The official Alpine images create their postgres user with uid/gid 70, the Debian ones 999. */
const ALPINE_UID = 70;
const DEBIAN_UID = 999;
const SUPPORTED = SUPPORTED_POSTGRES_VERSIONS as readonly number[];

/** The PostgreSQL major version an image tag names (`postgres:17.2` -> 17), or undefined. */
export function postgresMajorOfImage(image: string): number | undefined {
  return imageTagVersion(image)?.major;
}

/** `orders-api` -> `orders_api`: the database and role name of a service. */
export function postgresNameOf(serviceName: string): string {
  return serviceName.replace(/-/g, '_');
}

/** Five cron fields, in UTC. */
const cron = z.string().max(100).regex(/^[0-9*][0-9*,/-]*( [0-9*][0-9*,/-]*){4}$/, {
  message: 'must be a cron schedule of five fields such as "0 1 * * 0" (minute hour day month weekday, in UTC)',
});

/** Validates {@link PostgresBackupOptions} (documented there). */
export const PostgresBackupOptionsSchema = z.object({
  location: RegionRefSchema,
  objectStore: S3RepositorySchema.omit({ type: true }),
  image: imageRef,
  existingSecret: dnsSubdomain.optional(),
  fullSchedule: cron.default('0 1 * * 0'),
  differentialSchedule: cron.default('0 1 * * 1-6'),
  retentionFull: z.number().int().min(1).max(365).default(4),
  archiveTimeoutSeconds: z.number().int().min(10).max(86400).default(60),
  objectStoreCidrs: z.array(cidr).min(1).default(['0.0.0.0/0']),
}).strict();

/** The options object before the cross-prop checks; documented by {@link PostgresDatabaseOptions}. */
const PostgresDatabaseOptionsObject = z.object({
  serviceName: dnsLabel.max(MAX_SERVICE_NAME_LENGTH, {
    message: `must be at most ${MAX_SERVICE_NAME_LENGTH} characters (the workload is named "<serviceName>-db")`,
  }),
  storageGi: z.number().int({ message: 'must be a whole number of GiB' }).min(1, { message: 'must be at least 1' }).max(65536).default(20),
  storageClassName: dnsSubdomain.optional(),
  walStorageGi: z.number().int({ message: 'must be a whole number of GiB' })
    .min(MIN_WAL_STORAGE_GI, { message: `must be at least ${MIN_WAL_STORAGE_GI} (WAL may outgrow max_wal_size = 2GB; a full WAL volume stops the server)` })
    .max(65536).optional(),
  image: imageRef.default(DEFAULT_POSTGRES_IMAGE),
  memoryLimit: memoryQuantity.default('2Gi'),
  cpu: cpuQuantity.default('500m'),
  maxConnections: z.number().int({ message: 'must be an integer' }).optional(),
  existingSecret: dnsSubdomain.optional(),
  retainOnDelete: z.boolean().default(true),
  clientCidrs: z.array(z.string()).optional(),
  backup: PostgresBackupOptionsSchema.optional(),
  dataMajorVersion: z.number().int().optional(),
  majorVersionUpgrade: z.object({ fromMajorVersion: z.number().int() }).strict().optional(),
  tls: ServerTlsSchema.optional(),
  metrics: exporterOptionsSchema(DEFAULT_POSTGRES_EXPORTER_IMAGE),
}).strict();

type ParsedOptions = z.output<typeof PostgresDatabaseOptionsObject>;

/** What parsing derives from the options, besides their defaults. */
export interface PostgresDerivedValues {
  /** The image's PostgreSQL major version (equal to `dataMajorVersion`). */
  readonly version: PostgresMajorVersion;
  /** The data directory's major version, defaulted. */
  readonly dataMajorVersion: number;
  /** The database and owner role name (`serviceName` with "-" turned into "_"). */
  readonly name: string;
  /** `<serviceName>-db`. */
  readonly workloadName: string;
  /** The uid (and gid) of the image's postgres user. */
  readonly uid: number;
  /** The validated postgresql.conf inputs the options decide (version, memoryLimit, maxConnections), memory derived. */
  readonly conf: ResolvedPostgresConfSpec;
  /** The client networks pg_hba.conf admits, validated and defaulted. */
  readonly clientCidrs: string[];
}

/** Validated options of a PostgresDatabase with their derived values. */
export type ValidatedPostgresOptions = Omit<ParsedOptions, 'dataMajorVersion' | 'clientCidrs'> & PostgresDerivedValues;

/** The image tag's major version, which selects the configuration: reported on `image` unless supported. */
function checkImageMajor(o: ParsedOptions, ctx: z.RefinementCtx): number | undefined {
  const major = postgresMajorOfImage(o.image);
  if (major === undefined) {
    ctx.addIssue({
      code: 'custom', path: ['image'],
      message: `"${o.image}" names no version; tag it with a PostgreSQL version such as "${DEFAULT_POSTGRES_IMAGE}" (a digest may follow the tag)`,
    });
  } else if (!SUPPORTED.includes(major)) {
    ctx.addIssue({
      code: 'custom', path: ['image'],
      message: `"${o.image}" is PostgreSQL ${major}; supported major versions are ${SUPPORTED_POSTGRES_VERSIONS.join(', ')} (for example "${DEFAULT_POSTGRES_IMAGE}")`,
    });
  }
  return major;
}

/** A server of another major cannot start on the data directory: refuse it before deployment. */
function checkDataMajor(o: ParsedOptions, major: number | undefined, ctx: z.RefinementCtx): number {
  const dataMajor = o.dataMajorVersion ?? DEFAULT_DATA_MAJOR_VERSION;
  if (o.dataMajorVersion !== undefined && !SUPPORTED.includes(o.dataMajorVersion)) {
    ctx.addIssue({ code: 'custom', path: ['dataMajorVersion'], message: `must be a supported PostgreSQL major version: ${SUPPORTED_POSTGRES_VERSIONS.join(', ')}` });
  } else if (major !== undefined && SUPPORTED.includes(major) && major !== dataMajor) {
    ctx.addIssue({
      code: 'custom', path: ['image'],
      message: `"${o.image}" is PostgreSQL ${major} but the data directory is PostgreSQL ${dataMajor} (dataMajorVersion` +
        `${o.dataMajorVersion === undefined ? `, default ${DEFAULT_DATA_MAJOR_VERSION}` : ''}): a server of another major version cannot start on it. ` +
        `For a new database set dataMajorVersion: ${major}; to upgrade existing data set dataMajorVersion: ${major} and ` +
        `majorVersionUpgrade: { fromMajorVersion: ${dataMajor} } and follow README "Upgrading PostgreSQL"`,
    });
  }
  if (o.majorVersionUpgrade && o.majorVersionUpgrade.fromMajorVersion >= dataMajor) {
    ctx.addIssue({
      code: 'custom', path: ['majorVersionUpgrade', 'fromMajorVersion'],
      message: `must be below dataMajorVersion (${dataMajor}): PostgreSQL upgrades only to a newer major; restore a backup to go back`,
    });
  }
  return dataMajor;
}

/** The database and role name the service name gives must be a plain identifier of its own. */
function checkDatabaseName(o: ParsedOptions, ctx: z.RefinementCtx): string {
  const name = postgresNameOf(o.serviceName);
  const identifier = postgresIdentifier.safeParse(name);
  if (!identifier.success) {
    ctx.addIssue({
      code: 'custom', path: ['serviceName'],
      message: `gives the PostgreSQL database and role name "${name}", which ${identifier.error.issues[0].message}`,
    });
  } else if (name === MONITORING_ROLE) {
    ctx.addIssue({ code: 'custom', path: ['serviceName'], message: `must not give the name "${MONITORING_ROLE}" (the metrics exporter's role)` });
  } else if (name === 'postgres' || name === 'template0' || name === 'template1') {
    ctx.addIssue({ code: 'custom', path: ['serviceName'], message: `must not be "${name}" (a built-in database or role)` });
  }
  return name;
}

/**
 * postgresql.conf's inputs from three option values: parsed once per distinct triple (every
 * database of a platform usually shares one), the result frozen since databases share it.
 */
const confSpecs = new Map<string, ReturnType<typeof PostgresConfSpecSchema.safeParse>>();
function confSpecOf(version: number, memoryLimit: string, maxConnections: number | undefined): ReturnType<typeof PostgresConfSpecSchema.safeParse> {
  const key = JSON.stringify([version, memoryLimit, maxConnections]);
  let result = confSpecs.get(key);
  if (!result) {
    result = PostgresConfSpecSchema.safeParse({ version, memoryLimit, maxConnections });
    if (result.success) deepFreeze(result.data);
    confSpecs.set(key, result);
  }
  return result;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The renderers' own rules (memory budget, client networks), reported against these props. */
function checkRendererRules(o: ParsedOptions, major: number | undefined, ctx: z.RefinementCtx) {
  const conf = confSpecOf(major ?? 17, o.memoryLimit, o.maxConnections);
  if (!conf.success) {
    for (const issue of conf.error.issues) {
      if (issue.path[0] === 'version') continue; // reported on image above
      ctx.addIssue({ code: 'custom', path: issue.path.length ? issue.path : ['memoryLimit'], message: issue.message });
    }
  }
  if (o.clientCidrs === undefined) return { conf: conf.data, clientCidrs: [...DEFAULT_CLIENT_CIDRS] };
  const hba = PostgresHbaSpecSchema.shape.clientCidrs.safeParse(o.clientCidrs);
  if (!hba.success) {
    for (const issue of hba.error.issues) ctx.addIssue({ code: 'custom', path: ['clientCidrs', ...issue.path], message: issue.message });
  }
  return { conf: conf.data, clientCidrs: hba.data };
}

/** Runs every cross-prop check (in the order users see the issues) and adds the derived values. */
function validateAndDerive(o: ParsedOptions, ctx: z.core.$RefinementCtx<ParsedOptions>): ValidatedPostgresOptions {
  const major = checkImageMajor(o, ctx);
  const dataMajorVersion = checkDataMajor(o, major, ctx);
  const name = checkDatabaseName(o, ctx);
  const { conf, clientCidrs } = checkRendererRules(o, major, ctx);
  if (ctx.issues.length > 0 || conf === undefined || clientCidrs === undefined) return z.NEVER;
  const uid = imageTagOf(o.image)?.includes('alpine') ? ALPINE_UID : DEBIAN_UID;
  return { ...o, version: conf.version, dataMajorVersion, name, workloadName: `${o.serviceName}-db`, uid, conf, clientCidrs };
}

/**
 * Validates {@link PostgresDatabaseOptions} (documented there) and returns
 * {@link ValidatedPostgresOptions}. The cross-prop checks run only once every field is valid.
 */
export const PostgresDatabaseOptionsSchema = PostgresDatabaseOptionsObject.transform(validateAndDerive);

// Compile-time bindings: a prop added, removed or retyped on one side only fails the build.
const _backupBound: SchemaMatches<PostgresBackupOptions, typeof PostgresBackupOptionsSchema> = true;
const _optionsBound: SchemaMatches<PostgresDatabaseOptions, typeof PostgresDatabaseOptionsSchema> = true;
void _backupBound;
void _optionsBound;
