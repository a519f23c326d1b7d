/**
 * The PostgreSQL workload, built by pure functions from options `PostgresDatabaseOptionsSchema`
 * has validated: no constructs, no provider packages, no parsing. Every file spec is built from
 * validated values and our own constants and rendered without validating again (a unit test
 * proves each spec is exactly what its schema would return for it).
 */
import { EnvVar, WorkloadProps } from '../workload/workload';
import { METRICS_PORT_NAME } from '../workload/metrics';
import { ServerTlsParts, serverTlsParts } from '../workload/server-tls';
import { memoryToMi } from '../util/schemas';
import {
  PGBACKREST_DEFAULTS, PGBACKREST_S3_KEY_ENV, PGBACKREST_S3_KEY_SECRET_ENV, ResolvedPgBackRestConfSpec, ResolvedWalSpoolSpec,
} from './pgbackrest-spec';
import { DEFAULT_SSL_MIN_PROTOCOL_VERSION, ResolvedPostgresConfSpec, ResolvedPostgresHbaSpec } from './postgres-spec';
import { ResolvedInitOwnerSpec, renderResolvedInitOwnerScript } from './render-init-owner';
import { renderResolvedPgBackRestConf, renderResolvedWalPushScript, renderResolvedWalSpoolCommand, resolvedBackupCommand } from './render-pgbackrest';
import { renderResolvedPgHba, renderResolvedPostgresConf } from './render-postgres-conf';
import { memoizedByJson } from '../util/memo';
import { MONITORING_ROLE, ValidatedPostgresOptions } from './schema';

/** Databases with the same settings share one postgresql.conf text. */
const renderPostgresConf = memoizedByJson(renderResolvedPostgresConf);

/** The port PostgreSQL listens on and clients connect to. */
export const POSTGRES_PORT = 5432;
/** The port the metrics exporter serves /metrics on. */
export const POSTGRES_EXPORTER_PORT = 9187;
/** Key of the owner role's password in the credentials Secret. */
export const POSTGRES_PASSWORD_KEY = 'password';
/** Key of the postgres superuser's password in the credentials Secret. */
export const POSTGRES_SUPERUSER_PASSWORD_KEY = 'superuser-password';

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
/** The monitoring role's password: generated at apply time in a Secret of its own, read from a file by both sides. */
const MONITORING_SECRET_KEY = 'password';
const MONITORING_DIR = '/run/secrets/postgresql-monitoring';
const MONITORING_PASSWORD_ENV = 'MONITORING_PASSWORD';

type Backup = NonNullable<ValidatedPostgresOptions['backup']>;

/** Where the server keeps its data, and what else it serves with: decided once per database. */
interface Layout {
  /** PGDATA; after a declared major upgrade the new major initialises directories of its own beside the old. */
  readonly pgdata: string;
  readonly walDir: string;
  readonly credentialsSecretName: string;
  readonly tls?: ServerTlsParts;
  /** The monitoring Secret's name, when the exporter runs. */
  readonly monitoringSecretName?: string;
}

/** The validated inputs of every file the database is configured with. */
export interface PostgresFileSpecs {
  readonly conf: ResolvedPostgresConfSpec;
  readonly hba: ResolvedPostgresHbaSpec;
  readonly initOwner: ResolvedInitOwnerSpec;
  readonly backup?: { readonly pgBackRest: ResolvedPgBackRestConfSpec; readonly walPush: ResolvedWalSpoolSpec };
}

/** The workload of one database and what the construct exposes about it. */
export interface PostgresWorkloadParts {
  readonly workload: WorkloadProps;
  readonly credentialsSecretName: string;
  /** The server's TLS material, when `tls` is set. */
  readonly tls?: ServerTlsParts;
}

function layoutOf(o: ValidatedPostgresOptions): Layout {
  const upgraded = o.majorVersionUpgrade !== undefined;
  return {
    pgdata: upgraded ? `${PGDATA}-${o.version}` : PGDATA,
    walDir: upgraded ? `${WAL_DIR}-${o.version}` : WAL_DIR,
    credentialsSecretName: o.existingSecret ?? `${o.workloadName}-credentials`,
    tls: o.tls ? serverTlsParts(o.tls, o.workloadName, TLS_DIR) : undefined,
    monitoringSecretName: o.metrics.enabled ? `${o.workloadName}-monitoring` : undefined,
  };
}

/** The Workload of a database with validated options (pure: no constructs, no validation). */
export function postgresWorkload(o: ValidatedPostgresOptions): PostgresWorkloadParts {
  const layout = layoutOf(o);
  const backup = o.backup && backupParts(o.backup, o.workloadName);
  const monitoring = layout.monitoringSecretName !== undefined ? postgresExporter(o.metrics.image, layout.monitoringSecretName, o.retainOnDelete) : undefined;
  const workload: WorkloadProps = {
    name: o.workloadName,
    component: 'postgresql',
    kind: 'stateful',
    image: o.image,
    replicas: 1,
    // The image's entrypoint runs `postgres` for arguments that start with "-".
    args: ['-c', `config_file=${CONF_FILE}`],
    ports: [{ name: 'postgres', containerPort: POSTGRES_PORT }],
    env: serverEnv(o, layout),
    secrets: [...(backup?.secrets ?? []), credentialsSecret(o, layout.credentialsSecretName), ...(layout.tls ? [layout.tls.secret] : []), ...(monitoring?.secrets ?? [])],
    configFiles: configFiles(fileSpecs(o, layout)),
    secretMounts: [{ secret: layout.credentialsSecretName, mountPath: CREDENTIALS_DIR }, ...(layout.tls ? [layout.tls.mount] : []), ...(monitoring?.secretMounts ?? [])],
    volumes: volumes(o),
    scratch: scratch(o),
    probes: probes(),
    resources: {
      requests: { cpu: o.cpu, memory: o.memoryLimit },
      limits: { memory: o.memoryLimit },
    },
    securityContext: { runAsUser: o.uid, runAsGroup: o.uid, fsGroup: o.uid, runAsNonRoot: true, readOnlyRootFilesystem: true },
    placement: { datastore: true, spreadAcrossNodes: 'none' },
    // Nobody may connect until allowFrom() names the owner.
    ingress: [],
    // No disruptionBudget: see the PostgresDatabase class doc.
    shutdown: shutdown(),
    retainData: o.retainOnDelete,
    sidecars: [...(backup?.sidecars ?? []), ...(monitoring?.sidecars ?? [])],
    metrics: monitoring?.metrics,
    scheduledJobs: backup?.scheduledJobs ?? [],
    externalEgress: backup?.externalEgress ?? [],
  };
  return { workload, credentialsSecretName: layout.credentialsSecretName, tls: layout.tls };
}

/**
 * The specs of postgresql.conf, pg_hba.conf, the init script and (with backups) pgbackrest.conf
 * and the WAL push loop: validated values and our own constants, already in their schemas'
 * output form, so they are rendered without parsing again.
 */
export function postgresFileSpecs(o: ValidatedPostgresOptions): PostgresFileSpecs {
  return fileSpecs(o, layoutOf(o));
}

function fileSpecs(o: ValidatedPostgresOptions, layout: Layout): PostgresFileSpecs {
  const monitoring = layout.monitoringSecretName !== undefined;
  const stanza = o.workloadName;
  return {
    conf: {
      ...o.conf,
      port: POSTGRES_PORT,
      unixSocketDirectory: SOCKET_DIR,
      hbaFile: HBA_FILE,
      ...(o.backup ? {
        archive: { command: renderResolvedWalSpoolCommand({ spoolDir: WAL_SPOOL_DIR }), timeoutSeconds: o.backup.archiveTimeoutSeconds },
        extraSocketDirectories: [BACKUP_SOCKET_DIR],
      } : {}),
      ssl: layout.tls && { certFile: layout.tls.certFile, keyFile: layout.tls.keyFile, minProtocolVersion: DEFAULT_SSL_MIN_PROTOCOL_VERSION },
    },
    hba: { database: o.name, user: o.name, clientCidrs: o.clientCidrs, ssl: layout.tls !== undefined, monitoringUser: monitoring ? MONITORING_ROLE : undefined },
    initOwner: {
      role: o.name, database: o.name, passwordEnv: OWNER_PASSWORD_ENV,
      monitoring: monitoring ? { role: MONITORING_ROLE, passwordEnv: MONITORING_PASSWORD_ENV } : undefined,
    },
    backup: o.backup && {
      pgBackRest: {
        stanza, pgPath: layout.pgdata, pgSocketPath: BACKUP_SOCKET_DIR, pgPort: POSTGRES_PORT, pgUser: PGBACKREST_DEFAULTS.pgUser,
        repository: { type: 's3', ...o.backup.objectStore },
        retentionFull: o.backup.retentionFull, lockPath: PGBACKREST_LOCK_DIR,
        compressType: PGBACKREST_DEFAULTS.compressType, processMax: PGBACKREST_DEFAULTS.processMax,
      },
      walPush: {
        spoolDir: WAL_SPOOL_DIR, configPath: PGBACKREST_CONF, stanza,
        intervalSeconds: PGBACKREST_DEFAULTS.intervalSeconds, upgradeStanza: o.majorVersionUpgrade !== undefined,
      },
    },
  };
}

/** The rendered files, in the order the workload has always listed them. */
function configFiles(specs: PostgresFileSpecs): WorkloadProps['configFiles'] {
  return [
    { path: CONF_FILE, content: renderPostgresConf(specs.conf) },
    ...(specs.backup ? [
      { path: WAL_PUSH_SCRIPT, content: renderResolvedWalPushScript(specs.backup.walPush) },
      { path: PGBACKREST_CONF, content: renderResolvedPgBackRestConf(specs.backup.pgBackRest) },
    ] : []),
    { path: HBA_FILE, content: renderResolvedPgHba(specs.hba) },
    { path: INIT_SCRIPT, content: renderResolvedInitOwnerScript(specs.initOwner) },
  ];
}

function serverEnv(o: ValidatedPostgresOptions, layout: Layout): EnvVar[] {
  return [
    { name: 'PGDATA', value: layout.pgdata },
    { name: 'POSTGRES_USER', value: SUPERUSER },
    // Files, not env (see CREDENTIALS_DIR). The image's entrypoint reads POSTGRES_PASSWORD_FILE
    // for initdb; the init script reads OWNER_PASSWORD_FILE.
    { name: 'POSTGRES_PASSWORD_FILE', value: `${CREDENTIALS_DIR}/${POSTGRES_SUPERUSER_PASSWORD_KEY}` },
    { name: `${OWNER_PASSWORD_ENV}_FILE`, value: `${CREDENTIALS_DIR}/${POSTGRES_PASSWORD_KEY}` },
    // Page checksums catch storage corruption; they can only be chosen at initdb.
    { name: 'POSTGRES_INITDB_ARGS', value: '--data-checksums' },
    ...(o.walStorageGi ? [{ name: 'POSTGRES_INITDB_WALDIR', value: layout.walDir }] : []),
    ...(layout.monitoringSecretName !== undefined ? [{ name: `${MONITORING_PASSWORD_ENV}_FILE`, value: `${MONITORING_DIR}/${MONITORING_SECRET_KEY}` }] : []),
  ];
}

/** The owner's and the superuser's passwords: an existing Secret, or generated at apply time. */
function credentialsSecret(o: ValidatedPostgresOptions, name: string): NonNullable<WorkloadProps['secrets']>[number] {
  if (o.existingSecret) return { source: 'existing', name, keys: [POSTGRES_PASSWORD_KEY, POSTGRES_SUPERUSER_PASSWORD_KEY] };
  return {
    source: 'generated',
    name,
    generated: { [POSTGRES_PASSWORD_KEY]: { length: 32 }, [POSTGRES_SUPERUSER_PASSWORD_KEY]: { length: 32 } },
    plain: { username: o.name, database: o.name },
    // Kept with the data: a retained volume holds the role's password hash, so a new random
    // password would lock the service out.
    retain: o.retainOnDelete,
  };
}

function volumes(o: ValidatedPostgresOptions): WorkloadProps['volumes'] {
  return [
    { name: 'data', mountPath: DATA_MOUNT, sizeGi: o.storageGi, role: 'datastore', dataKind: 'postgresql-data', storageClassName: o.storageClassName },
    ...(o.walStorageGi
      ? [{ name: 'wal', mountPath: WAL_MOUNT, sizeGi: o.walStorageGi, role: 'wal' as const, dataKind: 'postgresql-wal', storageClassName: o.storageClassName }]
      : []),
  ];
}

function scratch(o: ValidatedPostgresOptions): WorkloadProps['scratch'] {
  return [
    { name: 'run', mountPath: SOCKET_DIR, sizeMi: 16 },
    { name: 'tmp', mountPath: '/tmp', sizeMi: 64 },
    // Parallel queries exchange data through POSIX shared memory in /dev/shm; container
    // runtimes give 64MB by default, too little for a few parallel workers.
    { name: 'shm', mountPath: '/dev/shm', sizeMi: Math.max(64, Math.floor(memoryToMi(o.memoryLimit) / 4)), memory: true },
  ];
}

function probes(): WorkloadProps['probes'] {
  const isReady = ['pg_isready', '-U', SUPERUSER, '-h', SOCKET_DIR];
  return {
    // Over the unix socket: no dependency on listen_addresses or pg_hba.conf's TCP lines.
    readiness: { exec: isReady, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    // A restart costs crash recovery: give a busy server a minute before restarting it.
    liveness: { exec: isReady, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
    // First start initialises the volume; a restart after a crash replays WAL: up to 15 minutes.
    startup: { exec: isReady, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 90 },
  };
}

function shutdown(): WorkloadProps['shutdown'] {
  return {
    // SIGINT = fast shutdown: sessions are ended, a checkpoint is written. SIGTERM would be
    // "smart" shutdown, which waits for every client to disconnect (until the kill).
    stopSignal: 'SIGINT',
    // Kubernetes pods have no stop signal: ask for the fast shutdown explicitly. --no-wait
    // returns at once; the kubelet's SIGTERM afterwards is ignored by a server already stopping.
    preStop: ['pg_ctl', 'stop', '--mode=fast', '--no-wait'],
    gracePeriodSeconds: 120,
  };
}

/** The WAL archiver sidecar, the backup jobs, their credentials and the egress to the object store. */
function backupParts(b: Backup, stanza: string) {
  const secret = b.existingSecret ?? `${stanza}-backup-credentials`;
  const credentials: EnvVar[] = [
    { name: PGBACKREST_S3_KEY_ENV, secretRef: { secret, key: BACKUP_ACCESS_KEY } },
    { name: PGBACKREST_S3_KEY_SECRET_ENV, secretRef: { secret, key: BACKUP_SECRET_KEY } },
  ];
  const job = (name: string, schedule: string, type: 'full' | 'diff') => ({
    name, schedule, image: b.image,
    command: resolvedBackupCommand({ configPath: PGBACKREST_CONF, stanza, type }),
    env: credentials,
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
  });
  return {
    secrets: [{ source: 'existing' as const, name: secret, keys: [BACKUP_ACCESS_KEY, BACKUP_SECRET_KEY] }],
    sidecars: [{
      name: 'wal-archiver',
      image: b.image,
      command: ['sh', WAL_PUSH_SCRIPT],
      env: credentials,
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    }],
    scheduledJobs: [job('full-backup', b.fullSchedule, 'full'), job('diff-backup', b.differentialSchedule, 'diff')],
    externalEgress: [{ cidrs: b.objectStoreCidrs, ports: [b.objectStore.port] }],
  };
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
