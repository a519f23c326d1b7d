import { Construct } from 'constructs';
import { RegionRef } from '../residency/region-ref';
import { parseComponentProps } from '../workload/component-props';
import { clientTlsOf } from '../workload/server-tls';
import { DeployedWorkload, builtByComponent } from '../workload/target';
import { PostgresConnection } from './postgres-connection';
import { PostgresMajorVersion } from './postgres-spec';
import { PostgresDatabaseProps } from './props';
import { PostgresDatabaseOptionsSchema, ValidatedPostgresOptions } from './schema';
import { POSTGRES_PASSWORD_KEY, POSTGRES_PORT, POSTGRES_SUPERUSER_PASSWORD_KEY, PostgresWorkloadParts, postgresWorkload } from './workload';

// The names users import from this module.
export type {
  PostgresBackupObjectStore, PostgresBackupOptions, PostgresCertManagerOptions, PostgresDatabaseOptions, PostgresDatabaseProps,
  PostgresMajorVersionUpgradeOptions, PostgresMetricsOptions, PostgresTlsOptions,
} from './props';
export {
  DEFAULT_DATA_MAJOR_VERSION, DEFAULT_POSTGRES_EXPORTER_IMAGE, DEFAULT_POSTGRES_IMAGE, MONITORING_ROLE,
  PostgresBackupOptionsSchema, PostgresDatabaseOptionsSchema, postgresMajorOfImage, postgresNameOf,
} from './schema';
export { POSTGRES_EXPORTER_PORT, POSTGRES_PORT } from './workload';
export { PostgresConnection, type PostgresConnectionProps } from './postgres-connection';

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
  public static readonly PASSWORD_KEY = POSTGRES_PASSWORD_KEY;
  /** Key of the postgres superuser's password in the credentials Secret. */
  public static readonly SUPERUSER_PASSWORD_KEY = POSTGRES_SUPERUSER_PASSWORD_KEY;

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
    const { target, location, options } = parseComponentProps('PostgresDatabase', scope, id, props, PostgresDatabaseOptionsSchema, { prop: 'serviceName', of: (o) => o.workloadName });
    super(scope, id);
    const parts = postgresWorkload(options);
    this.workload = target.deploy(this, builtByComponent(parts.workload), { location });
    this.serviceName = options.serviceName;
    this.version = options.version;
    this.dataMajorVersion = options.dataMajorVersion;
    this.backupLocation = options.backup?.location;
    this.host = this.workload.host;
    this.credentialsSecretName = parts.credentialsSecretName;
    this.tlsSecretName = parts.tls?.secretName;
    this.recordBackupLocation();
    this.connection = this.connectionOf(options, parts);
  }

  /** Admits exactly `owner`'s pods on 5432 (network policy; Docker cannot enforce it). */
  public allowFrom(owner: DeployedWorkload): void {
    this.workload.allowFrom(owner, [POSTGRES_PORT]);
  }

  /** The object store holds every row too: the guard judges it as a backup copy of each volume. */
  private recordBackupLocation(): void {
    if (this.backupLocation === undefined) return;
    for (const d of this.workload.datastores) d.addLocation('backup', this.backupLocation);
  }

  private connectionOf(o: ValidatedPostgresOptions, parts: PostgresWorkloadParts): PostgresConnection {
    return new PostgresConnection({
      host: this.workload.host,
      port: POSTGRES_PORT,
      database: o.name,
      username: o.name,
      secretName: parts.credentialsSecretName,
      passwordKey: POSTGRES_PASSWORD_KEY,
      tls: parts.tls && clientTlsOf(o.workloadName, parts.tls.secretName),
    });
  }
}
