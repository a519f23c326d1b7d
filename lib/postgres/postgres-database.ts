import { Construct } from 'constructs';
import { z } from 'zod';
import { RegionRef, RegionRefSchema } from '../residency/region-ref';
import { cidr, cpuQuantity, dnsLabel, dnsSubdomain, imageRef, memoryQuantity, memoryToMi } from '../util/schemas';
import { imageTagVersion } from '../util/versions';
import { parseComponentProps } from '../workload/component-props';
import { connectionEnv } from '../workload/connection-env';
import { DeployedWorkload, IWorkloadTarget, builtByComponent } from '../workload/target';
import { ClientTls, ServerTlsSchema, clientTlsOf, serverTlsParts } from '../workload/server-tls';
import { EnvVar, SecretMountInput, WorkloadProps } from '../workload/workload';
import { METRICS_PORT_NAME, exporterOptionsSchema } from '../workload/metrics';
import {
  PostgresConfSpecSchema,
  PostgresHbaSpecSchema,
  PostgresMajorVersion,
  SUPPORTED_POSTGRES_VERSIONS,
  postgresIdentifier,
} from './postgres-spec';
import { renderPgHba, renderPostgresConf } from './render-postgres-conf';
import { renderInitOwnerScript } from './render-init-owner';
import { PGBACKREST_S3_KEY_ENV, PGBACKREST_S3_KEY_SECRET_ENV, S3RepositorySchema } from './pgbackrest-spec';
import { pgBackRestBackupCommand, renderPgBackRestConf, renderWalPushScript, renderWalSpoolCommand } from './render-pgbackrest';

/** The official image the database runs by default (Debian-based; its postgres user is uid 999). */
export const DEFAULT_POSTGRES_IMAGE = 'postgres:17.12';
/** The port PostgreSQL listens on and clients connect to. */
export const POSTGRES_PORT = 5432;

/** Where the data volume is mounted. */
const DATA_MOUNT = '/var/lib/postgresql/data';
/**
 * PGDATA is a subdirectory of the volume: a fresh volume's root is not empty (lost+found on
 * ext4/xfs) and its mode follows fsGroup, while initdb wants an empty directory it may chmod 0700.
 */
const PGDATA = `${DATA_MOUNT}/pgdata`;
const WAL_MOUNT = '/var/lib/postgresql/wal';
/** The same reason as PGDATA: initdb --waldir wants an empty directory of its own. */
const WAL_DIR = `${WAL_MOUNT}/pg_wal`;
const SOCKET_DIR = '/var/run/postgresql';
const CONF_FILE = '/etc/postgresql/postgresql.conf';
const HBA_FILE = '/etc/postgresql/pg_hba.conf';
const INIT_SCRIPT = '/docker-entrypoint-initdb.d/10-create-owner.sh';
/**
 * Where the credentials Secret is mounted, one file per key (Kubernetes: mode 0440, group fsGroup;
 * Docker: 0440 root:root, read through the supplementary group 0). The passwords reach the
 * container as files, not env: no password is in the container's configuration (`docker
 * inspect`, the pod spec's env) or in the environment every child process inherits.
 */
const CREDENTIALS_DIR = '/run/secrets/postgresql';
/**
 * Where the TLS Secret is mounted. The key file is root-owned, mode 0440, group the server's
 * (fsGroup on Kubernetes, the supplementary group 0 on Docker): PostgreSQL accepts a root-owned
 * key of at most 0640, and refuses to start with a group- or world-writable or world-readable one.
 */
const TLS_DIR = '/run/secrets/postgresql-tls';
/**
 * The init script reads the owner's password from the file named by `${OWNER_PASSWORD_ENV}_FILE`,
 * as the image's entrypoint reads POSTGRES_PASSWORD_FILE.
 */
const OWNER_PASSWORD_ENV = 'OWNER_PASSWORD';
/** The image's own superuser, reachable over the unix socket only. */
const SUPERUSER = 'postgres';
/** WAL may grow past max_wal_size (2GB by default) under load; a full WAL volume stops the server. */
const MIN_WAL_STORAGE_GI = 4;
/**
 * The PostgreSQL major version of a data directory unless `dataMajorVersion` says otherwise: the
 * default image's. Deliberately a constant, never read from `image`: changing the image to another
 * major must not silently change what the data on the volume is assumed to be.
 */
export const DEFAULT_DATA_MAJOR_VERSION = 17;
/** pgbackrest.conf, in a directory of its own (Docker mounts config files by directory). */
const PGBACKREST_CONF = '/etc/pgbackrest/pgbackrest.conf';
/** The WAL archiver's loop, run by `sh` in the sidecar. */
const WAL_PUSH_SCRIPT = '/etc/pgbackrest/wal-push.sh';
/**
 * Backups: WAL segments wait for the archiver in a spool on the data volume (not an emptyDir: a
 * segment PostgreSQL counts as archived must survive a pod restart), pgBackRest's locks live there
 * too (shared by the archiver and the backup job), and PostgreSQL makes a second unix socket at
 * the volume's root, which always exists, so a backup job in another pod on the same node reaches
 * the server (pgBackRest connects over a socket only).
 */
const WAL_SPOOL_DIR = `${DATA_MOUNT}/wal-spool`;
const PGBACKREST_LOCK_DIR = `${DATA_MOUNT}/pgbackrest-lock`;
const BACKUP_SOCKET_DIR = DATA_MOUNT;
/** Keys of the object-store credentials Secret. */
const BACKUP_ACCESS_KEY = 'access-key-id';
const BACKUP_SECRET_KEY = 'secret-access-key';
/** The postgres_exporter image of the metrics sidecar (connects over 127.0.0.1; serves :9187/metrics). */
export const DEFAULT_POSTGRES_EXPORTER_IMAGE = 'quay.io/prometheuscommunity/postgres-exporter:v0.20.1';
export const POSTGRES_EXPORTER_PORT = 9187;
/** The exporter's role: LOGIN and member of pg_monitor, nothing else (init script and pg_hba.conf). */
export const MONITORING_ROLE = 'sovereign_monitoring';
/** Its password: generated at apply time in a Secret of its own, read from a file by both sides. */
const MONITORING_SECRET_KEY = 'password';
const MONITORING_DIR = '/run/secrets/postgresql-monitoring';
const MONITORING_PASSWORD_ENV = 'MONITORING_PASSWORD';

/** Workload names carry a "-db" suffix and may be at most 40 characters. */
const MAX_SERVICE_NAME_LENGTH = 37;

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

/**
 * Continuous WAL archiving and scheduled base backups with pgBackRest to an S3-compatible object
 * store. The store's location is a `backup` copy of the data: the residency guard judges it.
 */
export const PostgresBackupOptionsSchema = z.object({
  /**
   * Where the object store is: a catalogue id (`upcloud:no-svg1`) or a Region from `defineRegion`.
   * Checked by the residency guard like the database itself.
   */
  location: RegionRefSchema,
  /** The S3-compatible object store: bucket, endpoint (host name), signing region, and optionally port, uriStyle, path. */
  objectStore: S3RepositorySchema.omit({ type: true }),
  /**
   * An image with pgBackRest (2.45 or later) and, for restores, the database's PostgreSQL major:
   * `FROM postgres:17.2` + `apt-get install pgbackrest` (README, Backups). It runs the WAL archiver
   * beside PostgreSQL and the backup jobs, as the database's uid.
   */
  image: imageRef,
  /**
   * Existing Secret with the object store's keys under `access-key-id` and `secret-access-key`
   * (handed to pgBackRest as environment variables). On Docker each key is a sensitive Terraform variable.
   * @default '<serviceName>-db-backup-credentials'
   */
  existingSecret: dnsSubdomain.optional(),
  /** When full backups run (cron, UTC). @default '0 1 * * 0' (Sundays 01:00) */
  fullSchedule: cron.default('0 1 * * 0'),
  /** When differential backups run (cron, UTC). @default '0 1 * * 1-6' (the other days 01:00) */
  differentialSchedule: cron.default('0 1 * * 1-6'),
  /**
   * Full backups kept; older ones, their differentials and their WAL expire. With weekly fulls, 4
   * keeps point-in-time recovery to any moment of the last 3 to 4 weeks.
   * @default 4
   */
  retentionFull: z.number().int().min(1).max(365).default(4),
  /**
   * archive_timeout: a quiet database still archives its WAL this often, the most a restore can
   * lose besides the segment being written.
   * @default 60
   */
  archiveTimeoutSeconds: z.number().int().min(10).max(86400).default(60),
  /**
   * Addresses the object store's S3 API has; the database pod and the backup jobs may reach them
   * on the store's port (Kubernetes network policy). Narrow it to the store's addresses.
   * @default ['0.0.0.0/0']
   */
  objectStoreCidrs: z.array(cidr).min(1).default(['0.0.0.0/0']),
}).strict();

export type PostgresBackupOptions = z.input<typeof PostgresBackupOptionsSchema>;

export const PostgresDatabaseOptionsSchema = z.object({
  /**
   * The service that owns this database (a DNS label, at most 37 characters). The workload is
   * `<serviceName>-db`; the database and its owner role are `serviceName` with "-" turned into "_"
   * (`orders-api` -> `orders_api`).
   */
  serviceName: dnsLabel.max(MAX_SERVICE_NAME_LENGTH, {
    message: `must be at most ${MAX_SERVICE_NAME_LENGTH} characters (the workload is named "<serviceName>-db")`,
  }),
  /**
   * Size of the data volume in GiB (NVMe, one per replica). Volumes can grow later (the storage
   * class allows expansion), never shrink.
   * @default 20
   */
  storageGi: z.number().int({ message: 'must be a whole number of GiB' }).min(1, { message: 'must be at least 1' }).max(65536).default(20),
  /**
   * StorageClass of the data and WAL volumes on Kubernetes (it must be NVMe-backed, Retain,
   * WaitForFirstConsumer and pinned to the region like the target's own).
   * @default the target's NVMe class
   */
  storageClassName: dnsSubdomain.optional(),
  /**
   * Size in GiB of a separate WAL volume (role `wal`), mounted at /var/lib/postgresql/wal; initdb
   * puts pg_wal on it. At least 4 GiB: WAL may outgrow max_wal_size (2GB) under load, and a full
   * WAL volume stops the server.
   * @default undefined (WAL stays on the data volume)
   */
  walStorageGi: z.number().int({ message: 'must be a whole number of GiB' })
    .min(MIN_WAL_STORAGE_GI, { message: `must be at least ${MIN_WAL_STORAGE_GI} (WAL may outgrow max_wal_size = 2GB; a full WAL volume stops the server)` })
    .max(65536).optional(),
  /**
   * The official `postgres` image (or a compatible one) with a version tag; the tag's major version
   * (14-17) selects the configuration. Alpine tags run as uid 70, others as uid 999 (the image's
   * postgres user). Pin a digest after the tag for reproducible deployments: `postgres:17.2@sha256:...`.
   * @default 'postgres:17.12'
   */
  image: imageRef.default(DEFAULT_POSTGRES_IMAGE),
  /**
   * The container's memory limit, also its request (the database gets what its settings assume).
   * shared_buffers (25 %), effective_cache_size (75 %), work_mem and maintenance_work_mem are
   * derived from it. At least 256Mi.
   * @default '2Gi'
   */
  memoryLimit: memoryQuantity.default('2Gi'),
  /**
   * CPU request. No CPU limit is set: throttling a database stretches every lock it holds.
   * @default '500m'
   */
  cpu: cpuQuantity.default('500m'),
  /**
   * max_connections (10-5000); sizes work_mem too, so it must fit memoryLimit. Put a pooler
   * (PgBouncer) in front rather than raising it far.
   * @default 100
   */
  maxConnections: z.number().int({ message: 'must be an integer' }).optional(),
  /**
   * Name of an existing Secret (External Secrets, Vault, sealed secrets) holding the passwords
   * under the keys `password` (the owner role's) and `superuser-password` (the postgres
   * superuser's). Nothing is generated then. On Docker each key becomes a sensitive Terraform variable.
   * @default undefined: a Secret `<serviceName>-db-credentials` is generated at apply time
   */
  existingSecret: dnsSubdomain.optional(),
  /**
   * Refuse `terraform destroy` of the StatefulSet / volumes and the generated credentials
   * (prevent_destroy). Opt out with `false` for throw-away stacks (CI, previews). On Kubernetes the
   * claims and volumes are kept even then (claim retention and the storage class are Retain):
   * delete the PVCs and PVs by hand to drop the data.
   * @default true
   */
  retainOnDelete: z.boolean().default(true),
  /**
   * Client networks pg_hba.conf admits (the owner role to its database, SCRAM). The network policy
   * still decides which pods get through.
   * @default ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] (RFC 1918, where pod networks live)
   */
  clientCidrs: z.array(z.string()).optional(),
  /**
   * Backups and point-in-time recovery with pgBackRest to an S3-compatible object store (README,
   * Backups). The store's location is judged by the residency guard as a `backup` copy.
   * @default undefined (no backups: losing the node's disk loses the data)
   */
  backup: PostgresBackupOptionsSchema.optional(),
  /**
   * The PostgreSQL major version of the data directory on the volume. The image's major must equal
   * it: a server of another major cannot start on the data (it crash-loops). Never derived from
   * `image`, so changing the image's major is refused until the change is declared here (with
   * `majorVersionUpgrade`) or by a new deployment.
   * @default 17
   */
  dataMajorVersion: z.number().int().optional(),
  /**
   * Declares a major-version upgrade of existing data: the data directory was `fromMajorVersion`'s.
   * PostgreSQL then initialises a fresh data directory `pgdata-<dataMajorVersion>` beside the old
   * one (kept untouched for pg_upgrade or a rollback), and the backup stanza is upgraded. Load the
   * data with pg_dump/pg_restore or pg_upgrade (README, Upgrading PostgreSQL). Keep it declared
   * afterwards: it names where the data now is.
   * @default undefined (no upgrade)
   */
  majorVersionUpgrade: z.object({ fromMajorVersion: z.number().int() }).strict().optional(),
  /**
   * Encryption in transit: `ssl = on`, pg_hba.conf admits TCP clients with `hostssl` lines only
   * (SCRAM over TLS; a plaintext connection is refused), and the connection env tells the service
   * to verify the server (`sslmode=verify-full` with the CA). The certificate comes from an existing
   * Secret (`secretName`: keys tls.crt, tls.key, ca.crt) or, on Kubernetes, a cert-manager
   * Certificate (`certManager`). TLS 1.2 is the oldest version accepted.
   * @default - no TLS (ssl = off, `host` lines): set it for any database holding personal data
   */
  tls: ServerTlsSchema.optional(),
  /**
   * Prometheus metrics: a postgres_exporter sidecar logged in over 127.0.0.1 as the role
   * `sovereign_monitoring` (member of pg_monitor only), serving :9187/metrics. The role's password
   * is generated at apply time in the Secret `<serviceName>-db-monitoring` (also with
   * `existingSecret`). The init script creates the role on a new data directory only.
   * @default { enabled: true, image: 'quay.io/prometheuscommunity/postgres-exporter:v0.20.1' }
   */
  metrics: exporterOptionsSchema(DEFAULT_POSTGRES_EXPORTER_IMAGE),
}).strict().superRefine((o, ctx) => {
  // The image tag's major version selects the configuration.
  const major = postgresMajorOfImage(o.image);
  if (major === undefined) {
    ctx.addIssue({
      code: 'custom', path: ['image'],
      message: `"${o.image}" names no version; tag it with a PostgreSQL version such as "${DEFAULT_POSTGRES_IMAGE}" (a digest may follow the tag)`,
    });
  } else if (!(SUPPORTED_POSTGRES_VERSIONS as readonly number[]).includes(major)) {
    ctx.addIssue({
      code: 'custom', path: ['image'],
      message: `"${o.image}" is PostgreSQL ${major}; supported major versions are ${SUPPORTED_POSTGRES_VERSIONS.join(', ')} (for example "${DEFAULT_POSTGRES_IMAGE}")`,
    });
  }
  // A server of another major cannot start on the data directory: refuse it before deployment.
  const dataMajor = o.dataMajorVersion ?? DEFAULT_DATA_MAJOR_VERSION;
  if (o.dataMajorVersion !== undefined && !(SUPPORTED_POSTGRES_VERSIONS as readonly number[]).includes(o.dataMajorVersion)) {
    ctx.addIssue({ code: 'custom', path: ['dataMajorVersion'], message: `must be a supported PostgreSQL major version: ${SUPPORTED_POSTGRES_VERSIONS.join(', ')}` });
  } else if (major !== undefined && (SUPPORTED_POSTGRES_VERSIONS as readonly number[]).includes(major) && major !== dataMajor) {
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
  // The renderers' own rules (memory budget, client networks), reported against these props.
  const conf = PostgresConfSpecSchema.safeParse({ version: major ?? 17, memoryLimit: o.memoryLimit, maxConnections: o.maxConnections });
  if (!conf.success) {
    for (const issue of conf.error.issues) {
      if (issue.path[0] === 'version') continue; // reported on image above
      ctx.addIssue({ code: 'custom', path: issue.path.length ? issue.path : ['memoryLimit'], message: issue.message });
    }
  }
  if (o.clientCidrs !== undefined) {
    const hba = PostgresHbaSpecSchema.shape.clientCidrs.safeParse(o.clientCidrs);
    if (!hba.success) {
      for (const issue of hba.error.issues) ctx.addIssue({ code: 'custom', path: ['clientCidrs', ...issue.path], message: issue.message });
    }
  }
}, { when: (payload) => payload.issues.length === 0 });

/** Plain options of a PostgresDatabase (types derived from the schema, so they cannot drift). */
export type PostgresDatabaseOptions = z.input<typeof PostgresDatabaseOptionsSchema>;

export interface PostgresDatabaseProps extends PostgresDatabaseOptions {
  /** Where the database runs: a KubernetesTarget, a DockerTarget, or a target of your own. */
  readonly target: IWorkloadTarget;
  /**
   * Where the data lives, when not where the target is. Checked by the residency guard: a location
   * outside the stack's policy fails synthesis.
   * @default the target's location
   */
  readonly location?: RegionRef;
}

/** How a service reaches its database. */
export interface PostgresConnectionProps {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  /** The Secret holding the owner's password. */
  readonly secretName: string;
  /** The key of the password in that Secret. */
  readonly passwordKey: string;
  /** How the client verifies the server, when the database serves TLS. @default - plaintext */
  readonly tls?: ClientTls;
}

/**
 * How a service connects: host, port, database, user, and where its password lives. The password
 * itself is never here: `env()` hands it over as a secret reference.
 */
export class PostgresConnection implements PostgresConnectionProps {
  public readonly host: string;
  public readonly port: number;
  public readonly database: string;
  public readonly username: string;
  public readonly secretName: string;
  public readonly passwordKey: string;
  public readonly tls?: ClientTls;

  constructor(props: PostgresConnectionProps) {
    this.host = props.host;
    this.port = props.port;
    this.database = props.database;
    this.username = props.username;
    this.secretName = props.secretName;
    this.passwordKey = props.passwordKey;
    this.tls = props.tls;
  }

  /**
   * Environment entries for the owning service's workload: `<prefix>_HOST`, `<prefix>_PORT`,
   * `<prefix>_NAME`, `<prefix>_USER` as values and `<prefix>_PASSWORD` as a secret reference; with
   * TLS also `<prefix>_SSLMODE` = `verify-full` and `<prefix>_SSLROOTCERT` (the CA file that
   * `mounts()` puts in the service's container), libpq's `sslmode` and `sslrootcert`.
   */
  public env(prefix = 'DATABASE'): EnvVar[] {
    const tls: Record<string, string> = this.tls ? { SSLMODE: 'verify-full', SSLROOTCERT: this.tls.caFile } : {};
    return connectionEnv(prefix, { HOST: this.host, PORT: String(this.port), NAME: this.database, USER: this.username, ...tls },
      { secret: this.secretName, key: this.passwordKey });
  }

  /** What the service's workload must mount to connect: the CA file (only `ca.crt`) with TLS, else nothing. */
  public mounts(): SecretMountInput[] {
    return this.tls ? [this.tls.caMount] : [];
  }
}

/**
 * One PostgreSQL per service: database-per-service, so a service owns its schema and no other
 * service can reach its tables (pg_hba.conf admits only the owner role to its own database, and
 * the network policy admits only the pods given to `allowFrom`).
 *
 * The database is a single-replica stateful workload on the target's NVMe storage, in the target's
 * region (on Kubernetes: a StatefulSet with a claim template on the Retain / WaitForFirstConsumer
 * NVMe class and required node affinity on the region and the KVM / NVMe node labels). It runs the
 * official `postgres` image with a rendered postgresql.conf (memory derived from `memoryLimit`,
 * NVMe I/O costs, SCRAM) and pg_hba.conf, as its postgres user with a read-only root filesystem;
 * the image's entrypoint initialises an empty volume (with data checksums) and runs an init script
 * that creates the owner role (LOGIN, not a superuser) and its database. Credentials are generated
 * at apply time into a Secret (or taken from `existingSecret`); they never appear in the
 * synthesized JSON. With `tls` the server speaks TLS only to TCP clients (`hostssl`), with the
 * certificate of an existing Secret or a cert-manager Certificate, and the connection tells the
 * service to verify it (`sslmode=verify-full` against the mounted CA).
 *
 * Availability: one replica means a node failure or a drain is an outage until the pod is back on
 * the node that holds its local NVMe volume. No PodDisruptionBudget is created on purpose: with one
 * replica `maxUnavailable: 1` protects nothing, and `minAvailable: 1` would block every node drain
 * forever. Shutdown is fast (SIGINT on Docker; a `pg_ctl stop --mode=fast` preStop on Kubernetes,
 * whose pods have no stop signal field) with 120 s for the final checkpoint.
 *
 * Backups (`backup`): pgBackRest archives the WAL continuously (a sidecar pushes what
 * archive_command spools on the data volume) and CronJobs take weekly full and daily differential
 * base backups to an S3-compatible object store, whose location the residency guard judges as a
 * `backup` copy. The image's major version must match `dataMajorVersion`.
 *
 * What high availability would add, not built here: streaming replicas on other nodes with
 * automated failover and fencing and a Service following the primary, usually through an operator
 * such as CloudNativePG or through Patroni.
 *
 * @example
 * const db = new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', storageGi: 20 });
 * db.allowFrom(ordersService);
 * // in the service's workload: env: [...db.connection.env()]
 */
export class PostgresDatabase extends Construct {
  /** Key of the owner role's password in the credentials Secret. */
  public static readonly PASSWORD_KEY = 'password';
  /** Key of the postgres superuser's password in the credentials Secret. */
  public static readonly SUPERUSER_PASSWORD_KEY = 'superuser-password';

  /** The realized workload (its provider resources are in `workload.resources`). */
  public readonly workload: DeployedWorkload;
  /** How the owning service connects. */
  public readonly connection: PostgresConnection;
  /** PostgreSQL major version, from the image tag. */
  public readonly version: PostgresMajorVersion;
  /** The owning service. */
  public readonly serviceName: string;
  /** Host name clients connect to (the Service on Kubernetes, the container on Docker). */
  public readonly host: string;
  /** Where the backups are (the object store's location), or undefined without backups. */
  public readonly backupLocation?: RegionRef;
  /** The PostgreSQL major version of the data directory. */
  public readonly dataMajorVersion: number;
  /** The Secret holding the passwords (keys `password` and `superuser-password`): generated, or `existingSecret`. */
  public readonly credentialsSecretName: string;
  /** The Secret holding the server certificate (tls.crt, tls.key, ca.crt), when `tls` is set. */
  public readonly tlsSecretName?: string;

  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    const { target, location, options: o } = parseComponentProps('PostgresDatabase', scope, id, props, PostgresDatabaseOptionsSchema, { prop: 'serviceName', of: (d) => `${d.serviceName}-db` });
    super(scope, id);

    const version = postgresMajorOfImage(o.image) as PostgresMajorVersion;
    const name = postgresNameOf(o.serviceName);
    const workloadName = `${o.serviceName}-db`;
    const secretName = o.existingSecret ?? `${workloadName}-credentials`;
    // The official Alpine images create their postgres user with uid/gid 70, the Debian ones 999.
    const tag = o.image.split('@')[0].split('/').pop()?.split(':')[1] ?? '';
    const uid = tag.includes('alpine') ? 70 : 999;
    const memoryMi = memoryToMi(o.memoryLimit);
    const isReady = ['pg_isready', '-U', SUPERUSER, '-h', SOCKET_DIR];
    // After a declared major upgrade the new major initialises directories of its own beside the old.
    const pgdata = o.majorVersionUpgrade ? `${PGDATA}-${version}` : PGDATA;
    const walDir = o.majorVersionUpgrade ? `${WAL_DIR}-${version}` : WAL_DIR;
    const backup = o.backup && this.backupParts(o.backup, { workloadName, pgdata, uid, upgrade: !!o.majorVersionUpgrade });
    const tls = o.tls ? serverTlsParts(o.tls, workloadName, TLS_DIR) : undefined;
    const monitoring = o.metrics.enabled ? postgresExporter(o.metrics.image, `${workloadName}-monitoring`, o.retainOnDelete) : undefined;

    const workload: WorkloadProps = {
      name: workloadName,
      component: 'postgresql',
      kind: 'stateful',
      image: o.image,
      replicas: 1,
      // The image's entrypoint runs `postgres` for arguments that start with "-".
      args: ['-c', `config_file=${CONF_FILE}`],
      ports: [{ name: 'postgres', containerPort: POSTGRES_PORT }],
      env: [
        { name: 'PGDATA', value: pgdata },
        { name: 'POSTGRES_USER', value: SUPERUSER },
        // Files, not env (see CREDENTIALS_DIR). The image's entrypoint reads POSTGRES_PASSWORD_FILE
        // for initdb; the init script reads OWNER_PASSWORD_FILE.
        { name: 'POSTGRES_PASSWORD_FILE', value: `${CREDENTIALS_DIR}/${PostgresDatabase.SUPERUSER_PASSWORD_KEY}` },
        { name: `${OWNER_PASSWORD_ENV}_FILE`, value: `${CREDENTIALS_DIR}/${PostgresDatabase.PASSWORD_KEY}` },
        // Page checksums catch storage corruption; they can only be chosen at initdb.
        { name: 'POSTGRES_INITDB_ARGS', value: '--data-checksums' },
        ...(o.walStorageGi ? [{ name: 'POSTGRES_INITDB_WALDIR', value: walDir }] : []),
        ...(monitoring ? [{ name: `${MONITORING_PASSWORD_ENV}_FILE`, value: `${MONITORING_DIR}/${MONITORING_SECRET_KEY}` }] : []),
      ],
      secrets: [...(backup?.secrets ?? []), o.existingSecret
        ? { source: 'existing', name: secretName, keys: [PostgresDatabase.PASSWORD_KEY, PostgresDatabase.SUPERUSER_PASSWORD_KEY] }
        : {
          source: 'generated',
          name: secretName,
          generated: { [PostgresDatabase.PASSWORD_KEY]: { length: 32 }, [PostgresDatabase.SUPERUSER_PASSWORD_KEY]: { length: 32 } },
          plain: { username: name, database: name },
          // Kept with the data: a retained volume holds the role's password hash, so a new random
          // password would lock the service out.
          retain: o.retainOnDelete,
        }, ...(tls ? [tls.secret] : []), ...(monitoring?.secrets ?? [])],
      configFiles: [
        {
          path: CONF_FILE,
          content: renderPostgresConf({
            version, memoryLimit: o.memoryLimit, maxConnections: o.maxConnections,
            port: POSTGRES_PORT, unixSocketDirectory: SOCKET_DIR, hbaFile: HBA_FILE,
            ...backup?.conf,
            ssl: tls && { certFile: tls.certFile, keyFile: tls.keyFile },
          }),
        },
        ...(backup?.configFiles ?? []),
        { path: HBA_FILE, content: renderPgHba({ database: name, user: name, clientCidrs: o.clientCidrs, ssl: tls !== undefined, monitoringUser: monitoring && MONITORING_ROLE }) },
        { path: INIT_SCRIPT, content: renderInitOwnerScript({ role: name, database: name, passwordEnv: OWNER_PASSWORD_ENV, monitoring: monitoring && { role: MONITORING_ROLE, passwordEnv: MONITORING_PASSWORD_ENV } }) },
      ],
      secretMounts: [{ secret: secretName, mountPath: CREDENTIALS_DIR }, ...(tls ? [tls.mount] : []), ...(monitoring?.secretMounts ?? [])],
      volumes: [
        { name: 'data', mountPath: DATA_MOUNT, sizeGi: o.storageGi, role: 'datastore', dataKind: 'postgresql-data', storageClassName: o.storageClassName },
        ...(o.walStorageGi
          ? [{ name: 'wal', mountPath: WAL_MOUNT, sizeGi: o.walStorageGi, role: 'wal' as const, dataKind: 'postgresql-wal', storageClassName: o.storageClassName }]
          : []),
      ],
      scratch: [
        { name: 'run', mountPath: SOCKET_DIR, sizeMi: 16 },
        { name: 'tmp', mountPath: '/tmp', sizeMi: 64 },
        // Parallel queries exchange data through POSIX shared memory in /dev/shm; container
        // runtimes give 64MB by default, too little for a few parallel workers.
        { name: 'shm', mountPath: '/dev/shm', sizeMi: Math.max(64, Math.floor(memoryMi / 4)), memory: true },
      ],
      probes: {
        // Over the unix socket: no dependency on listen_addresses or pg_hba.conf's TCP lines.
        readiness: { exec: isReady, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
        // A restart costs crash recovery: give a busy server a minute before restarting it.
        liveness: { exec: isReady, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
        // First start initialises the volume; a restart after a crash replays WAL: up to 15 minutes.
        startup: { exec: isReady, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 90 },
      },
      resources: {
        requests: { cpu: o.cpu, memory: o.memoryLimit },
        limits: { memory: o.memoryLimit },
      },
      securityContext: { runAsUser: uid, runAsGroup: uid, fsGroup: uid, runAsNonRoot: true, readOnlyRootFilesystem: true },
      placement: { datastore: true, spreadAcrossNodes: 'none' },
      // Nobody may connect until allowFrom() names the owner.
      ingress: [],
      // No disruptionBudget: see the class doc.
      shutdown: {
        // SIGINT = fast shutdown: sessions are ended, a checkpoint is written. SIGTERM would be
        // "smart" shutdown, which waits for every client to disconnect (until the kill).
        stopSignal: 'SIGINT',
        // Kubernetes pods have no stop signal: ask for the fast shutdown explicitly. --no-wait
        // returns at once; the kubelet's SIGTERM afterwards is ignored by a server already stopping.
        preStop: ['pg_ctl', 'stop', '--mode=fast', '--no-wait'],
        gracePeriodSeconds: 120,
      },
      retainData: o.retainOnDelete,
      sidecars: [...(backup?.sidecars ?? []), ...(monitoring?.sidecars ?? [])],
      metrics: monitoring?.metrics,
      scheduledJobs: backup?.scheduledJobs ?? [],
      externalEgress: backup?.externalEgress ?? [],
    };

    this.serviceName = o.serviceName;
    this.version = version;
    this.workload = target.deploy(this, builtByComponent(workload), { location });
    // The object store holds every row too: the guard judges it as a backup copy of each volume.
    if (o.backup) for (const d of this.workload.datastores) d.addLocation('backup', o.backup.location);
    this.backupLocation = o.backup?.location;
    this.dataMajorVersion = o.dataMajorVersion ?? DEFAULT_DATA_MAJOR_VERSION;
    this.host = this.workload.host;
    this.credentialsSecretName = secretName;
    this.tlsSecretName = tls?.secretName;
    this.connection = new PostgresConnection({
      host: this.workload.host,
      port: POSTGRES_PORT,
      database: name,
      username: name,
      secretName,
      passwordKey: PostgresDatabase.PASSWORD_KEY,
      tls: tls && clientTlsOf(workloadName, tls.secretName),
    });
  }

  /** The WAL archiver sidecar, the backup jobs, pgbackrest.conf and the archiving settings. */
  private backupParts(b: z.output<typeof PostgresBackupOptionsSchema>, c: { workloadName: string; pgdata: string; uid: number; upgrade: boolean }) {
    const stanza = c.workloadName;
    const secret = b.existingSecret ?? `${c.workloadName}-backup-credentials`;
    const credentials: EnvVar[] = [
      { name: PGBACKREST_S3_KEY_ENV, secretRef: { secret, key: BACKUP_ACCESS_KEY } },
      { name: PGBACKREST_S3_KEY_SECRET_ENV, secretRef: { secret, key: BACKUP_SECRET_KEY } },
    ];
    const job = (name: string, schedule: string, type: 'full' | 'diff') => ({
      name, schedule, image: b.image,
      command: pgBackRestBackupCommand({ configPath: PGBACKREST_CONF, stanza, type }),
      env: credentials,
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    });
    return {
      secrets: [{ source: 'existing' as const, name: secret, keys: [BACKUP_ACCESS_KEY, BACKUP_SECRET_KEY] }],
      conf: {
        archive: { command: renderWalSpoolCommand({ spoolDir: WAL_SPOOL_DIR }), timeoutSeconds: b.archiveTimeoutSeconds },
        extraSocketDirectories: [BACKUP_SOCKET_DIR],
      },
      configFiles: [{
        path: WAL_PUSH_SCRIPT,
        content: renderWalPushScript({ spoolDir: WAL_SPOOL_DIR, configPath: PGBACKREST_CONF, stanza, upgradeStanza: c.upgrade }),
      }, {
        path: PGBACKREST_CONF,
        content: renderPgBackRestConf({
          stanza, pgPath: c.pgdata, pgSocketPath: BACKUP_SOCKET_DIR, pgPort: POSTGRES_PORT, lockPath: PGBACKREST_LOCK_DIR,
          repository: { type: 's3', ...b.objectStore },
          retentionFull: b.retentionFull,
        }),
      }],
      sidecars: [{
        name: 'wal-archiver',
        image: b.image,
        command: ['sh', WAL_PUSH_SCRIPT],
        env: credentials,
        resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
      }],
      scheduledJobs: [job('full-backup', b.fullSchedule, 'full'), job('diff-backup', b.differentialSchedule, 'diff')],
      externalEgress: [{ cidrs: b.objectStoreCidrs, ports: [b.objectStore.port ?? 443] }],
    };
  }

  /** Admits exactly `owner`'s pods on 5432 (network policy; Docker cannot enforce it). */
  public allowFrom(owner: DeployedWorkload): void {
    this.workload.allowFrom(owner, [POSTGRES_PORT]);
  }
}

/**
 * The metrics sidecar: postgres_exporter logged in as the monitoring role over the replica's own
 * loopback (the only address pg_hba.conf admits it from), its password read from a file; the
 * password itself lives in a Secret generated at apply time.
 */
function postgresExporter(image: string, secret: string, retain: boolean): Pick<WorkloadProps, 'secrets' | 'secretMounts' | 'sidecars' | 'metrics'> {
  return {
    secrets: [{ source: 'generated', name: secret, generated: { [MONITORING_SECRET_KEY]: { length: 32 } }, plain: { username: MONITORING_ROLE }, retain }],
    secretMounts: [{ secret, mountPath: MONITORING_DIR }],
    sidecars: [{
      name: 'postgres-exporter',
      image,
      args: [`--web.listen-address=:${POSTGRES_EXPORTER_PORT}`],
      env: [
        // TLS adds nothing on the pod's loopback; the password is read from the mounted file.
        { name: 'DATA_SOURCE_URI', value: `127.0.0.1:${POSTGRES_PORT}/postgres?sslmode=disable` },
        { name: 'DATA_SOURCE_USER', value: MONITORING_ROLE },
        { name: 'DATA_SOURCE_PASS_FILE', value: `${MONITORING_DIR}/${MONITORING_SECRET_KEY}` },
      ],
      resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
      persistentVolumes: false,
      // Its own password file only: not the superuser's, not the server's TLS key.
      secretMounts: [MONITORING_DIR],
      ports: [{ name: METRICS_PORT_NAME, containerPort: POSTGRES_EXPORTER_PORT }],
    }],
    metrics: { port: METRICS_PORT_NAME, path: '/metrics' },
  };
}
