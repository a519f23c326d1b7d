/**
 * The public contract of `PostgresDatabase`: what users write, documented prop by prop with its
 * default. The zod schemas in `schema.ts` validate exactly these shapes (a compile-time check
 * binds each interface to its schema, so the two cannot drift).
 */
import type { RegionRef } from '../residency/region-ref';
import type { IWorkloadTarget } from '../workload/target';
import type { S3RepositorySpec } from './pgbackrest-spec';

/**
 * The S3-compatible object store pgBackRest writes the backups and the archived WAL to: bucket,
 * endpoint, signing region, and optionally port, URI style and folder (documented on
 * `S3RepositorySpec`, the renderer's spec it becomes).
 */
export interface PostgresBackupObjectStore extends Omit<S3RepositorySpec, 'type'> {}

/**
 * Continuous WAL archiving and scheduled base backups with pgBackRest to an S3-compatible object
 * store. The store's location is a `backup` copy of the data: the residency guard judges it.
 */
export interface PostgresBackupOptions {
  /**
   * Where the object store is: a catalogue id (`upcloud:no-svg1`) or a Region from `defineRegion`.
   * Checked by the residency guard like the database itself.
   */
  readonly location: RegionRef;
  /** The S3-compatible object store: bucket, endpoint (host name), signing region, and optionally port, uriStyle, path. */
  readonly objectStore: PostgresBackupObjectStore;
  /**
   * An image with pgBackRest (2.45 or later) and, for restores, the database's PostgreSQL major:
   * `FROM postgres:17.2` + `apt-get install pgbackrest` (README, Backups). It runs the WAL archiver
   * beside PostgreSQL and the backup jobs, as the database's uid.
   */
  readonly image: string;
  /**
   * Existing Secret with the object store's keys under `access-key-id` and `secret-access-key`
   * (handed to pgBackRest as environment variables). On Docker each key is a sensitive Terraform variable.
   * @default '<serviceName>-db-backup-credentials'
   */
  readonly existingSecret?: string;
  /**
   * When full backups run (cron: five fields, minute hour day month weekday, in UTC).
   * @default '0 1 * * 0' (Sundays 01:00)
   */
  readonly fullSchedule?: string;
  /**
   * When differential backups run (cron, UTC).
   * @default '0 1 * * 1-6' (the other days 01:00)
   */
  readonly differentialSchedule?: string;
  /**
   * Full backups kept (1-365); older ones, their differentials and their WAL expire. With weekly
   * fulls, 4 keeps point-in-time recovery to any moment of the last 3 to 4 weeks.
   * @default 4
   */
  readonly retentionFull?: number;
  /**
   * archive_timeout (10-86400): a quiet database still archives its WAL this often, the most a
   * restore can lose besides the segment being written.
   * @default 60
   */
  readonly archiveTimeoutSeconds?: number;
  /**
   * Addresses the object store's S3 API has; the database pod and the backup jobs may reach them
   * on the store's port (Kubernetes network policy). Narrow it to the store's addresses.
   * @default ['0.0.0.0/0']
   */
  readonly objectStoreCidrs?: string[];
}

/** A cert-manager issuer that signs the database's server certificate (Kubernetes only). */
export interface PostgresCertManagerOptions {
  /** The Issuer or ClusterIssuer that signs the certificate. */
  readonly issuerName: string;
  /**
   * Whether `issuerName` is a namespaced Issuer or a ClusterIssuer.
   * @default 'ClusterIssuer'
   */
  readonly issuerKind?: 'Issuer' | 'ClusterIssuer';
}

/**
 * Where the database's server certificate comes from: exactly one of `secretName` and
 * `certManager`.
 */
export interface PostgresTlsOptions {
  /**
   * An existing Secret with `tls.crt` (the server certificate, PEM, with the host names clients
   * use as SANs), `tls.key` (its private key) and `ca.crt` (the CA clients verify it with), as
   * cert-manager writes it. On Docker each key becomes a sensitive Terraform variable.
   * @default - none; give this or `certManager`
   */
  readonly secretName?: string;
  /**
   * Have the Kubernetes target create a cert-manager Certificate for the workload's own host names
   * (its Service, and every replica through the headless Service), written to the Secret
   * `<workload>-tls`. The issuer must exist and put `ca.crt` in the Secret (a CA or self-signed
   * issuer does; ACME cannot issue for cluster-internal names). Kubernetes only.
   * @default - none; give this or `secretName`
   */
  readonly certManager?: PostgresCertManagerOptions;
}

/** Declares a major-version upgrade of the data on the volume. */
export interface PostgresMajorVersionUpgradeOptions {
  /** The PostgreSQL major version the data directory was (below `dataMajorVersion`). */
  readonly fromMajorVersion: number;
}

/** The metrics exporter beside the database. */
export interface PostgresMetricsOptions {
  /**
   * Run the exporter and declare the metrics endpoint.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The postgres_exporter image.
   * @default 'quay.io/prometheuscommunity/postgres-exporter:v0.20.1'
   */
  readonly image?: string;
}

/** Plain options of a PostgresDatabase: everything but the target and the location. */
export interface PostgresDatabaseOptions {
  /**
   * The service that owns this database (a DNS label, at most 37 characters). The workload is
   * `<serviceName>-db`; the database and its owner role are `serviceName` with "-" turned into "_"
   * (`orders-api` -> `orders_api`).
   */
  readonly serviceName: string;
  /**
   * Size of the data volume in GiB (NVMe, one per replica). Volumes can grow later (the storage
   * class allows expansion), never shrink.
   * @default 20
   */
  readonly storageGi?: number;
  /**
   * StorageClass of the data and WAL volumes on Kubernetes (it must be NVMe-backed, Retain,
   * WaitForFirstConsumer and pinned to the region like the target's own).
   * @default the target's NVMe class
   */
  readonly storageClassName?: string;
  /**
   * Size in GiB of a separate WAL volume (role `wal`), mounted at /var/lib/postgresql/wal; initdb
   * puts pg_wal on it. At least 4 GiB: WAL may outgrow max_wal_size (2GB) under load, and a full
   * WAL volume stops the server.
   * @default undefined (WAL stays on the data volume)
   */
  readonly walStorageGi?: number;
  /**
   * The official `postgres` image (or a compatible one) with a version tag; the tag's major version
   * (14-17) selects the configuration. Alpine tags run as uid 70, others as uid 999 (the image's
   * postgres user). Pin a digest after the tag for reproducible deployments: `postgres:17.2@sha256:...`.
   * @default 'postgres:17.12'
   */
  readonly image?: string;
  /**
   * The container's memory limit, also its request (the database gets what its settings assume).
   * shared_buffers (25 %), effective_cache_size (75 %), work_mem and maintenance_work_mem are
   * derived from it. At least 256Mi.
   * @default '2Gi'
   */
  readonly memoryLimit?: string;
  /**
   * CPU request. No CPU limit is set: throttling a database stretches every lock it holds.
   * @default '500m'
   */
  readonly cpu?: string;
  /**
   * max_connections (10-5000); sizes work_mem too, so it must fit memoryLimit. Put a pooler
   * (PgBouncer) in front rather than raising it far.
   * @default 100
   */
  readonly maxConnections?: number;
  /**
   * Name of an existing Secret (External Secrets, Vault, sealed secrets) holding the passwords
   * under the keys `password` (the owner role's) and `superuser-password` (the postgres
   * superuser's). Nothing is generated then. On Docker each key becomes a sensitive Terraform variable.
   * @default undefined: a Secret `<serviceName>-db-credentials` is generated at apply time
   */
  readonly existingSecret?: string;
  /**
   * Refuse `terraform destroy` of the StatefulSet / volumes and the generated credentials
   * (prevent_destroy). Opt out with `false` for throw-away stacks (CI, previews). On Kubernetes the
   * claims and volumes are kept even then (claim retention and the storage class are Retain):
   * delete the PVCs and PVs by hand to drop the data.
   * @default true
   */
  readonly retainOnDelete?: boolean;
  /**
   * Client networks pg_hba.conf admits (the owner role to its database, SCRAM). The network policy
   * still decides which pods get through. At most 64 blocks, none wider than an IPv4 /8 (a /8 in
   * fc00::/7, a /32 for other IPv6), together at most two /8s of IPv4 addresses.
   * @default ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] (RFC 1918, where pod networks live)
   */
  readonly clientCidrs?: string[];
  /**
   * Backups and point-in-time recovery with pgBackRest to an S3-compatible object store (README,
   * Backups). The store's location is judged by the residency guard as a `backup` copy.
   * @default undefined (no backups: losing the node's disk loses the data)
   */
  readonly backup?: PostgresBackupOptions;
  /**
   * The PostgreSQL major version of the data directory on the volume. The image's major must equal
   * it: a server of another major cannot start on the data (it crash-loops). Never derived from
   * `image`, so changing the image's major is refused until the change is declared here (with
   * `majorVersionUpgrade`) or by a new deployment.
   * @default 17
   */
  readonly dataMajorVersion?: number;
  /**
   * Declares a major-version upgrade of existing data: the data directory was `fromMajorVersion`'s.
   * PostgreSQL then initialises a fresh data directory `pgdata-<dataMajorVersion>` beside the old
   * one (kept untouched for pg_upgrade or a rollback), and the backup stanza is upgraded. Load the
   * data with pg_dump/pg_restore or pg_upgrade (README, Upgrading PostgreSQL). Keep it declared
   * afterwards: it names where the data now is.
   * @default undefined (no upgrade)
   */
  readonly majorVersionUpgrade?: PostgresMajorVersionUpgradeOptions;
  /**
   * Encryption in transit: `ssl = on`, pg_hba.conf admits TCP clients with `hostssl` lines only
   * (SCRAM over TLS; a plaintext connection is refused), and the connection env tells the service
   * to verify the server (`sslmode=verify-full` with the CA). The certificate comes from an existing
   * Secret (`secretName`: keys tls.crt, tls.key, ca.crt) or, on Kubernetes, a cert-manager
   * Certificate (`certManager`). TLS 1.2 is the oldest version accepted.
   * @default - no TLS (ssl = off, `host` lines): set it for any database holding personal data
   */
  readonly tls?: PostgresTlsOptions;
  /**
   * Prometheus metrics: a postgres_exporter sidecar logged in over 127.0.0.1 as the role
   * `sovereign_monitoring` (member of pg_monitor only), serving :9187/metrics. The role's password
   * is generated at apply time in the Secret `<serviceName>-db-monitoring` (also with
   * `existingSecret`). The init script creates the role on a new data directory only.
   * @default { enabled: true, image: 'quay.io/prometheuscommunity/postgres-exporter:v0.20.1' }
   */
  readonly metrics?: PostgresMetricsOptions;
}

/** Props of a PostgresDatabase: its options, the target it runs on, and where its data lives. */
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
