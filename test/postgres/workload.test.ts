// The PostgreSQL workload as pure functions: validated options in, WorkloadProps out, no synthesis.
import { PgBackRestConfSpecSchema, WalSpoolSpecSchema } from '../../lib/postgres/pgbackrest-spec';
import { PostgresConnection } from '../../lib/postgres/postgres-connection';
import { PostgresConfSpecSchema, PostgresHbaSpecSchema } from '../../lib/postgres/postgres-spec';
import type { PostgresDatabaseOptions } from '../../lib/postgres/props';
import { InitOwnerSpecSchema, renderInitOwnerScript } from '../../lib/postgres/render-init-owner';
import { renderPgBackRestConf, renderWalPushScript } from '../../lib/postgres/render-pgbackrest';
import { renderPgHba, renderPostgresConf } from '../../lib/postgres/render-postgres-conf';
import { PostgresDatabaseOptionsSchema } from '../../lib/postgres/schema';
import { postgresFileSpecs, postgresWorkload } from '../../lib/postgres/workload';
import { Connection } from '../../lib/workload/connection';
import { clientTlsOf } from '../../lib/workload/server-tls';

const BACKUP = {
  location: 'upcloud:no-svg1',
  image: 'registry.example.no/pgbackrest:17',
  objectStore: { bucket: 'backups', endpoint: 's3.example.no', region: 'no-oslo-1' },
};

/** Options that between them reach every branch of the file specs. */
const VARIANTS: Record<string, PostgresDatabaseOptions> = {
  defaults: { serviceName: 'orders' },
  tlsFromSecret: { serviceName: 'orders', tls: { secretName: 'orders-db-cert' } },
  tlsFromCertManager: { serviceName: 'orders', tls: { certManager: { issuerName: 'internal-ca' } } },
  backup: { serviceName: 'orders-api', backup: { ...BACKUP, retentionFull: 8, archiveTimeoutSeconds: 120, objectStore: { ...BACKUP.objectStore, port: 9000, uriStyle: 'host' } } },
  upgrade: { serviceName: 'orders', image: 'postgres:17.2-alpine', dataMajorVersion: 17, majorVersionUpgrade: { fromMajorVersion: 16 }, backup: BACKUP },
  noMetrics: { serviceName: 'orders', metrics: { enabled: false }, existingSecret: 'orders-pw' },
  sized: { serviceName: 'orders', image: 'postgres:14.13', dataMajorVersion: 14, memoryLimit: '8Gi', maxConnections: 400, clientCidrs: ['10.42.0.0/16'], walStorageGi: 8 },
};

const validated = (o: PostgresDatabaseOptions) => PostgresDatabaseOptionsSchema.parse(o);

describe('PostgresDatabaseOptionsSchema', () => {
  it('returns the values derived from the options, so nothing downstream parses them again', () => {
    const o = validated({ serviceName: 'orders-api', image: 'registry.example.no:5000/postgres:16.4-alpine@sha256:' + 'a'.repeat(64), dataMajorVersion: 16 });
    expect(o).toEqual(expect.objectContaining({
      version: 16, dataMajorVersion: 16, name: 'orders_api', workloadName: 'orders-api-db', uid: 70,
      clientCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
    }));
    expect(o.conf).toEqual(expect.objectContaining({ version: 16, memoryLimit: '2Gi', maxConnections: 100, walCompression: 'lz4' }));
    expect(o.conf.memory.sharedBuffersKb).toBe(512 * 1024);
    expect(validated({ serviceName: 'orders' })).toEqual(expect.objectContaining({ version: 17, dataMajorVersion: 17, uid: 999 }));
  });

  it('keeps the user-written client networks once validated', () => {
    expect(validated({ serviceName: 'orders', clientCidrs: ['10.42.0.0/16'] }).clientCidrs).toEqual(['10.42.0.0/16']);
  });
});

describe('postgresFileSpecs', () => {
  // The component renders these specs without validating them again: each must be exactly what its
  // schema returns for it (valid, and with every default already applied).
  it.each(Object.entries(VARIANTS))('builds specs their schemas accept unchanged (%s)', (_name, options) => {
    const specs = postgresFileSpecs(validated(options));
    const { memory, ...confInput } = specs.conf;
    expect(PostgresConfSpecSchema.parse(confInput)).toEqual(specs.conf);
    expect(memory).toEqual(validated(options).conf.memory);
    expect(PostgresHbaSpecSchema.parse(specs.hba)).toEqual(specs.hba);
    expect(InitOwnerSpecSchema.parse(specs.initOwner)).toEqual(specs.initOwner);
    expect(specs.backup !== undefined).toBe(options.backup !== undefined);
    if (specs.backup) {
      expect(PgBackRestConfSpecSchema.parse(specs.backup.pgBackRest)).toEqual(specs.backup.pgBackRest);
      expect(WalSpoolSpecSchema.parse(specs.backup.walPush)).toEqual(specs.backup.walPush);
    }
  });

  it.each(Object.entries(VARIANTS))('renders what the validating renderers render for the same specs (%s)', (_name, options) => {
    const specs = postgresFileSpecs(validated(options));
    const files = new Map(postgresWorkload(validated(options)).workload.configFiles!.map((f) => [f.path, f.content]));
    const { memory: _memory, ...confInput } = specs.conf;
    expect(files.get('/etc/postgresql/postgresql.conf')).toBe(renderPostgresConf(confInput));
    expect(files.get('/etc/postgresql/pg_hba.conf')).toBe(renderPgHba(specs.hba));
    expect(files.get('/docker-entrypoint-initdb.d/10-create-owner.sh')).toBe(renderInitOwnerScript(specs.initOwner));
    if (specs.backup) {
      expect(files.get('/etc/pgbackrest/pgbackrest.conf')).toBe(renderPgBackRestConf(specs.backup.pgBackRest));
      expect(files.get('/etc/pgbackrest/wal-push.sh')).toBe(renderWalPushScript(specs.backup.walPush));
    }
  });

  it('turns TLS, backups, monitoring and upgrades into the files\' settings', () => {
    const tls = postgresFileSpecs(validated(VARIANTS.tlsFromSecret));
    expect(tls.conf.ssl).toEqual({ certFile: '/run/secrets/postgresql-tls/tls.crt', keyFile: '/run/secrets/postgresql-tls/tls.key', minProtocolVersion: 'TLSv1.2' });
    expect(tls.hba).toEqual(expect.objectContaining({ ssl: true, monitoringUser: 'sovereign_monitoring' }));
    const upgrade = postgresFileSpecs(validated(VARIANTS.upgrade));
    expect(upgrade.conf.archive?.timeoutSeconds).toBe(60);
    expect(upgrade.conf.extraSocketDirectories).toEqual(['/var/lib/postgresql/data']);
    expect(upgrade.backup?.pgBackRest.pgPath).toBe('/var/lib/postgresql/data/pgdata-17');
    expect(upgrade.backup?.walPush.upgradeStanza).toBe(true);
    const plain = postgresFileSpecs(validated(VARIANTS.noMetrics));
    expect(plain.conf.ssl).toBeUndefined();
    expect(plain.conf.archive).toBeUndefined();
    expect(plain.hba.monitoringUser).toBeUndefined();
    expect(plain.initOwner.monitoring).toBeUndefined();
  });
});

describe('postgresWorkload', () => {
  it('builds the stateful workload from validated options alone', () => {
    const { workload, credentialsSecretName, tls } = postgresWorkload(validated(VARIANTS.sized));
    expect(workload).toEqual(expect.objectContaining({ name: 'orders-db', component: 'postgresql', kind: 'stateful', image: 'postgres:14.13', replicas: 1 }));
    expect(credentialsSecretName).toBe('orders-db-credentials');
    expect(tls).toBeUndefined();
    expect(workload.volumes?.map((v) => [v.name, v.sizeGi])).toEqual([['data', 20], ['wal', 8]]);
    expect(workload.env?.find((e) => e.name === 'POSTGRES_INITDB_WALDIR')).toEqual({ name: 'POSTGRES_INITDB_WALDIR', value: '/var/lib/postgresql/wal/pg_wal' });
    expect(workload.scratch?.find((s) => s.name === 'shm')?.sizeMi).toBe(2048);
    expect(workload.resources).toEqual({ requests: { cpu: '500m', memory: '8Gi' }, limits: { memory: '8Gi' } });
    expect(workload.configFiles?.map((f) => f.path)).toEqual([
      '/etc/postgresql/postgresql.conf', '/etc/postgresql/pg_hba.conf', '/docker-entrypoint-initdb.d/10-create-owner.sh',
    ]);
  });

  it('runs an Alpine image as uid 70 and adds the archiver, the backup jobs and the egress for backups', () => {
    const { workload } = postgresWorkload(validated(VARIANTS.upgrade));
    expect(workload.securityContext).toEqual(expect.objectContaining({ runAsUser: 70, runAsGroup: 70, fsGroup: 70 }));
    expect(workload.env?.[0]).toEqual({ name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata-17' });
    expect(workload.sidecars?.map((s) => s.name)).toEqual(['wal-archiver', 'postgres-exporter']);
    expect(workload.scheduledJobs?.map((j) => [j.name, j.schedule, j.command])).toEqual([
      ['full-backup', '0 1 * * 0', ['pgbackrest', '--config=/etc/pgbackrest/pgbackrest.conf', '--stanza=orders-db', '--type=full', 'backup']],
      ['diff-backup', '0 1 * * 1-6', ['pgbackrest', '--config=/etc/pgbackrest/pgbackrest.conf', '--stanza=orders-db', '--type=diff', 'backup']],
    ]);
    expect(workload.externalEgress).toEqual([{ cidrs: ['0.0.0.0/0'], ports: [443] }]);
    expect(workload.configFiles?.map((f) => f.path)).toEqual([
      '/etc/postgresql/postgresql.conf', '/etc/pgbackrest/wal-push.sh', '/etc/pgbackrest/pgbackrest.conf',
      '/etc/postgresql/pg_hba.conf', '/docker-entrypoint-initdb.d/10-create-owner.sh',
    ]);
  });

  it('declares the secrets it mounts: backup keys, credentials, TLS, monitoring', () => {
    const { workload, tls } = postgresWorkload(validated({ ...VARIANTS.tlsFromCertManager, backup: BACKUP }));
    expect(workload.secrets?.map((s) => [s.source, s.name])).toEqual([
      ['existing', 'orders-db-backup-credentials'], ['generated', 'orders-db-credentials'],
      ['certificate', 'orders-db-tls'], ['generated', 'orders-db-monitoring'],
    ]);
    expect(workload.secretMounts?.map((m) => m.secret)).toEqual(['orders-db-credentials', 'orders-db-tls', 'orders-db-monitoring']);
    expect(tls?.secretName).toBe('orders-db-tls');
    const existing = postgresWorkload(validated(VARIANTS.noMetrics));
    expect(existing.workload.secrets).toEqual([{ source: 'existing', name: 'orders-pw', keys: ['password', 'superuser-password'] }]);
    expect(existing.workload.sidecars).toEqual([]);
    expect(existing.workload.metrics).toBeUndefined();
  });
});

describe('PostgresConnection', () => {
  const props = { host: 'orders-db.platform.svc.cluster.local', port: 5432, database: 'orders', username: 'orders', secretName: 'orders-db-credentials', passwordKey: 'password' };

  it('is a Connection whose env names HOST, PORT, NAME, USER, then the password reference', () => {
    const connection = new PostgresConnection(props);
    expect(connection).toBeInstanceOf(Connection);
    expect(connection.env()).toEqual([
      { name: 'DATABASE_HOST', value: 'orders-db.platform.svc.cluster.local' },
      { name: 'DATABASE_PORT', value: '5432' },
      { name: 'DATABASE_NAME', value: 'orders' },
      { name: 'DATABASE_USER', value: 'orders' },
      { name: 'DATABASE_PASSWORD', secretRef: { secret: 'orders-db-credentials', key: 'password' } },
    ]);
    expect(connection.mounts()).toEqual([]);
  });

  it('adds SSLMODE and SSLROOTCERT after USER with TLS, and mounts the CA only', () => {
    const tls = clientTlsOf('orders-db', 'orders-db-tls');
    const connection = new PostgresConnection({ ...props, tls });
    expect(connection.env('ORDERS_DB').map((e) => e.name)).toEqual([
      'ORDERS_DB_HOST', 'ORDERS_DB_PORT', 'ORDERS_DB_NAME', 'ORDERS_DB_USER', 'ORDERS_DB_SSLMODE', 'ORDERS_DB_SSLROOTCERT', 'ORDERS_DB_PASSWORD',
    ]);
    expect(connection.env()[4]).toEqual({ name: 'DATABASE_SSLMODE', value: 'verify-full' });
    expect(connection.env()[5]).toEqual({ name: 'DATABASE_SSLROOTCERT', value: '/etc/sovereign-stack/tls/orders-db/ca.crt' });
    expect(connection.mounts()).toEqual([tls.caMount]);
  });
});
