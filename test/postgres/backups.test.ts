import { DockerTarget, KubernetesTarget, OSLO_REGION, PostgresDatabase, PostgresDatabaseProps } from '../../lib';
import { userErrorOf } from '../support/errors';
import { literalSecrets } from '../support/secret-scan';
import { dockerFiles, findByName, newStack, resourcesOf, synthJson } from '../support/synth';

const BACKUP = {
  location: OSLO_REGION,
  objectStore: { bucket: 'platform-backups', endpoint: 's3.oslo-1.example.no', region: 'no-oslo-1' },
  image: 'registry.example.no/postgres-pgbackrest:17.2',
};

function kubernetes(props: Partial<PostgresDatabaseProps> = {}) {
  const { stack } = newStack('oslo-production');
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  const db = new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', backup: BACKUP, ...props });
  return { stack, db, json: synthJson(stack) };
}

describe('PostgresDatabase backups on Kubernetes', () => {
  const { json } = kubernetes();
  const sts = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db');
  const pod = sts.spec.template.spec;
  const config = findByName(json, 'kubernetes_config_map_v1', 'orders-db-config').data;

  it('archives WAL through the spool on the data volume and a second socket at the volume root', () => {
    const conf: string = config['etc_postgresql_postgresql.conf'];
    expect(conf).toContain("archive_mode = on\narchive_command = 'cp %p /var/lib/postgresql/data/wal-spool/%f.part && ");
    expect(conf).toContain("archive_timeout = '60s'");
    expect(conf).toContain("unix_socket_directories = '/var/run/postgresql,/var/lib/postgresql/data'");
  });

  it('renders pgbackrest.conf for the Oslo object store, without credentials', () => {
    const conf: string = config['etc_pgbackrest_pgbackrest.conf'];
    expect(conf).toContain('repo1-type=s3\nrepo1-path=/pgbackrest\nrepo1-s3-bucket=platform-backups\nrepo1-s3-endpoint=s3.oslo-1.example.no');
    expect(conf).toContain('repo1-retention-full=4');
    expect(conf).toContain('[orders-db]\npg1-path=/var/lib/postgresql/data/pgdata\npg1-port=5432\npg1-socket-path=/var/lib/postgresql/data');
    expect(conf).not.toMatch(/s3-key/);
  });

  it('runs the WAL archiver beside PostgreSQL with the credentials from the existing Secret', () => {
    expect(pod.container.map((c: any) => c.name)).toEqual(['postgresql', 'wal-archiver', 'postgres-exporter']);
    const archiver = pod.container[1];
    expect(archiver.image).toBe(BACKUP.image);
    expect(archiver.command).toEqual(['sh', '/etc/pgbackrest/wal-push.sh']);
    expect(config['etc_pgbackrest_wal-push.sh']).toContain('archive-push');
    expect(archiver.env).toEqual([
      { name: 'PGBACKREST_REPO1_S3_KEY', value_from: { secret_key_ref: { name: 'orders-db-backup-credentials', key: 'access-key-id' } } },
      { name: 'PGBACKREST_REPO1_S3_KEY_SECRET', value_from: { secret_key_ref: { name: 'orders-db-backup-credentials', key: 'secret-access-key' } } },
    ]);
    // The archiver shares the data volume and the config, not PostgreSQL's scratch.
    expect(archiver.volume_mount.map((m: any) => m.mount_path)).toEqual(expect.arrayContaining(['/var/lib/postgresql/data', '/etc/pgbackrest/pgbackrest.conf']));
    expect(archiver.volume_mount.map((m: any) => m.mount_path)).not.toContain('/var/run/postgresql');
    expect(archiver.security_context.read_only_root_filesystem).toBe(true);
    // The credentials Secret is referenced, never created.
    expect(Object.values(resourcesOf(json, 'kubernetes_secret_v1')).map((s: any) => s.metadata.name)).not.toContain('orders-db-backup-credentials');
  });

  it('takes weekly full and daily differential base backups as CronJobs on the data volume', () => {
    const full = findByName(json, 'kubernetes_cron_job_v1', 'orders-db-full-backup');
    const diff = findByName(json, 'kubernetes_cron_job_v1', 'orders-db-diff-backup');
    expect([full.spec.schedule, diff.spec.schedule]).toEqual(['0 1 * * 0', '0 1 * * 1-6']);
    expect(full.spec.concurrency_policy).toBe('Forbid');
    expect(full.spec.timezone).toBe('Etc/UTC');
    const jobPod = full.spec.job_template.spec.template.spec;
    expect(jobPod.container[0].command).toEqual(['pgbackrest', '--config=/etc/pgbackrest/pgbackrest.conf', '--stanza=orders-db', '--type=full', 'backup']);
    expect(diff.spec.job_template.spec.template.spec.container[0].command).toContain('--type=diff');
    expect(jobPod.volume).toEqual(expect.arrayContaining([{ name: 'data', persistent_volume_claim: { claim_name: 'data-orders-db-0' } }]));
    expect(jobPod.restart_policy).toBe('Never');
    expect(jobPod.security_context.run_as_user).toBe(pod.security_context.run_as_user);
    // Pinned like the database: the node labels of the region.
    expect(JSON.stringify(jobPod.affinity)).toContain('topology.kubernetes.io/region');
  });

  it('lets the database pod and the backup jobs reach the object store on 443 only', () => {
    const egress = (name: string) => findByName(json, 'kubernetes_network_policy_v1', name).spec.egress;
    expect(JSON.stringify(egress('orders-db'))).toContain('"cidr":"0.0.0.0/0"');
    const job = findByName(json, 'kubernetes_network_policy_v1', 'orders-db-full-backup').spec;
    expect(job.ingress).toBeUndefined();
    expect(job.egress).toEqual(expect.arrayContaining([{ to: [{ ip_block: { cidr: '0.0.0.0/0' } }], ports: [{ port: '443', protocol: 'TCP' }] }]));
  });

  it('puts no secret in the synthesized JSON', () => {
    expect(literalSecrets(json)).toEqual([]);
  });

  it('takes the schedule, retention, store cidrs and secret from props', () => {
    const { json: custom } = kubernetes({
      backup: { ...BACKUP, fullSchedule: '30 2 * * 6', differentialSchedule: '30 2 * * 0-5', retentionFull: 8, existingSecret: 'vault-s3', objectStoreCidrs: ['192.0.2.0/24'] },
    });
    expect(findByName(custom, 'kubernetes_cron_job_v1', 'orders-db-full-backup').spec.schedule).toBe('30 2 * * 6');
    expect(findByName(custom, 'kubernetes_config_map_v1', 'orders-db-config').data['etc_pgbackrest_pgbackrest.conf']).toContain('repo1-retention-full=8');
    expect(JSON.stringify(findByName(custom, 'kubernetes_stateful_set_v1', 'orders-db').spec.template.spec.container[1].env)).toContain('"name":"vault-s3"');
    expect(JSON.stringify(findByName(custom, 'kubernetes_network_policy_v1', 'orders-db').spec.egress)).toContain('192.0.2.0/24');
  });

  it.each([
    ['a schedule that is not cron', { backup: { ...BACKUP, fullSchedule: 'weekly' } }, /props\.backup\.fullSchedule: must be a cron schedule/],
    ['a bad bucket', { backup: { ...BACKUP, objectStore: { ...BACKUP.objectStore, bucket: 'Backups!' } } }, /props\.backup\.objectStore\.bucket: must be an S3 bucket name/],
    ['no full backup kept', { backup: { ...BACKUP, retentionFull: 0 } }, /props\.backup\.retentionFull/],
    ['no location', { backup: { ...BACKUP, location: undefined } }, /props\.backup\.location/],
    ['no image', { backup: { ...BACKUP, image: undefined } }, /props\.backup\.image/],
  ])('refuses %s with the prop path', (_what, props, message) => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    expect(userErrorOf(() => new PostgresDatabase(stack, 'db', { target, serviceName: 'orders', ...(props as any) }))).toMatch(message);
  });
});

describe('PostgresDatabase backups on Docker', () => {
  const { stack } = newStack('local');
  const target = new DockerTarget(stack, 'docker', { location: OSLO_REGION });
  new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', backup: BACKUP });
  const json = synthJson(stack);
  const containers = Object.values(resourcesOf(json, 'docker_container')) as any[];

  it('runs the archiver as a companion container sharing the data volume', () => {
    const archiver = containers.find((c) => c.name === 'sovereign-orders-db-0-wal-archiver');
    expect(archiver).toBeDefined();
    expect(archiver.image).toContain('postgres-pgbackrest');
    expect(JSON.stringify(archiver.volumes)).toContain('/var/lib/postgresql/data');
    expect(archiver.read_only).toBe(true);
    expect(archiver.env.join('\n')).toMatch(/PGBACKREST_REPO1_S3_KEY=\$\{var\./);
  });

  it('creates the backup jobs stopped, for the host scheduler, on replica 0\'s volume', () => {
    const full = containers.find((c) => c.name === 'sovereign-orders-db-full-backup');
    expect(full.start).toBe(false);
    expect(full.entrypoint).toContain('--type=full');
    expect(full.labels).toEqual(expect.arrayContaining([{ label: 'sovereign-stack.io/schedule', value: '0 1 * * 0 UTC' }]));
    expect(JSON.stringify(full.volumes)).toContain('/var/lib/postgresql/data');
    expect(dockerFiles(json, 'sovereign-orders-db-0').map((f) => f.file)).toContain('/etc/pgbackrest/pgbackrest.conf');
  });

  it('takes the object store keys from sensitive variables, never literals', () => {
    expect(Object.keys(json.variable ?? {})).toEqual(expect.arrayContaining(['orders_db_backup_credentials_access_key_id', 'orders_db_backup_credentials_secret_access_key']));
    expect(json.variable!.orders_db_backup_credentials_access_key_id.sensitive).toBe(true);
    expect(literalSecrets(json)).toEqual([]);
  });
});

describe('PostgreSQL major-version safety', () => {
  const make = (props: Partial<PostgresDatabaseProps>) => () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    return new PostgresDatabase(stack, 'db', { target, serviceName: 'orders', ...props });
  };

  it('refuses another major than the data directory\'s, naming the fix', () => {
    const message = userErrorOf(make({ image: 'postgres:18.1' as string }));
    expect(message).toMatch(/props\.image/);
    expect(userErrorOf(make({ image: 'postgres:16.6' }))).toMatch(
      /props\.image: "postgres:16\.6" is PostgreSQL 16 but the data directory is PostgreSQL 17 \(dataMajorVersion, default 17\).*set dataMajorVersion: 16 and majorVersionUpgrade: \{ fromMajorVersion: 17 \}/,
    );
    expect(userErrorOf(make({ image: 'postgres:17.2', dataMajorVersion: 16 }))).toMatch(/"postgres:17\.2" is PostgreSQL 17 but the data directory is PostgreSQL 16 \(dataMajorVersion\)/);
  });

  it('accepts a new database of another major when declared', () => {
    const db = make({ image: 'postgres:16.6', dataMajorVersion: 16 })();
    expect(db.dataMajorVersion).toBe(16);
  });

  it('a declared upgrade initialises a fresh data directory beside the old one and upgrades the stanza', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    new PostgresDatabase(stack, 'db', { target, serviceName: 'orders', image: 'postgres:17.2', dataMajorVersion: 17, majorVersionUpgrade: { fromMajorVersion: 16 }, backup: BACKUP });
    const json = synthJson(stack);
    const pod = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').spec.template.spec;
    expect(pod.container[0].env).toContainEqual({ name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata-17' });
    expect(findByName(json, 'kubernetes_config_map_v1', 'orders-db-config').data['etc_pgbackrest_wal-push.sh']).toContain('stanza-upgrade');
    expect(findByName(json, 'kubernetes_config_map_v1', 'orders-db-config').data['etc_pgbackrest_pgbackrest.conf']).toContain('pg1-path=/var/lib/postgresql/data/pgdata-17');
  });

  it('refuses an upgrade that goes down or nowhere', () => {
    expect(userErrorOf(make({ dataMajorVersion: 17, majorVersionUpgrade: { fromMajorVersion: 17 } }))).toMatch(/props\.majorVersionUpgrade\.fromMajorVersion: must be below dataMajorVersion \(17\)/);
    expect(userErrorOf(make({ dataMajorVersion: 13 }))).toMatch(/props\.dataMajorVersion: must be a supported PostgreSQL major version/);
  });
});
