import { Testing, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
// Direct module imports: this suite does not depend on the rest of the barrel.
import { OSLO_REGION } from '../../lib/residency/regions';
import { DockerTarget } from '../../lib/targets/docker/docker-target';
import { KubernetesTarget } from '../../lib/targets/kubernetes/kubernetes-target';
import { DeployedWorkload, IWorkloadTarget } from '../../lib/workload/target';
import { PostgresDatabase, PostgresDatabaseProps } from '../../lib/postgres/postgres-database';
import { dockerFiles, dockerReplicas, findByName, newStack, resourcesOf, synthJson } from '../support/synth';
import { TF_REF, literalSecrets, walk } from '../support/secret-scan';
import { messageOf } from '../support/errors';

const IS_READY = ['pg_isready', '-U', 'postgres', '-h', '/var/run/postgresql'];

function kubernetes() {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  return { stack, target };
}

/** A stateless service that owns a database (what ReferenceDeployment will do per service). */
function ownerService(stack: TerraformStack, target: IWorkloadTarget, name: string, db: PostgresDatabase): DeployedWorkload {
  return target.deploy(new Construct(stack, name), {
    name, component: 'service', kind: 'stateless', image: `registry.example.no/${name}:1.0.0`,
    ports: [{ name: 'http', containerPort: 8080 }],
    env: db.connection.env(),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  });
}

describe('PostgresDatabase on Kubernetes', () => {
  function example(props: Partial<PostgresDatabaseProps> = {}) {
    const { stack, target } = kubernetes();
    const db = new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', ...props });
    return { stack, target, db };
  }

  it('refuses a second database for the same service before creating anything', () => {
    const { stack, target } = example();
    expect(messageOf(() => new PostgresDatabase(stack, 'again', { target, serviceName: 'orders' })))
      .toMatch(/props\.serviceName: a workload named "orders-db" is already deployed on target/);
    expect(stack.node.tryFindChild('again')).toBeUndefined();
  });

  it('puts data and WAL on another storage class when asked', () => {
    const { stack } = example({ storageClassName: 'nvme-raid10', walStorageGi: 8 });
    const claims = findByName(synthJson(stack), 'kubernetes_stateful_set_v1', 'orders-db').spec.volume_claim_template;
    expect(claims.map((c: any) => [c.metadata.name, c.spec.storage_class_name, c.spec.resources.requests.storage]))
      .toEqual([['data', 'nvme-raid10', '20Gi'], ['wal', 'nvme-raid10', '8Gi']]);
  });

  it('runs a single-replica StatefulSet on the NVMe class in the target region', () => {
    const { stack, db } = example({ storageGi: 50 });
    const json = synthJson(stack);
    const sts = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db');
    expect(sts.spec.replicas).toBe('1');
    expect(sts.spec.persistent_volume_claim_retention_policy).toEqual([{ when_deleted: 'Retain', when_scaled: 'Retain' }]);
    expect(sts.spec.volume_claim_template).toEqual([expect.objectContaining({
      metadata: expect.objectContaining({ name: 'data' }),
      spec: { access_modes: ['ReadWriteOnce'], storage_class_name: 'nvme-retain', resources: { requests: { storage: '50Gi' } } },
    })]);
    const sc = findByName(json, 'kubernetes_storage_class_v1', 'nvme-retain');
    expect(sc).toEqual(expect.objectContaining({
      reclaim_policy: 'Retain', volume_binding_mode: 'WaitForFirstConsumer',
    }));
    const pod = sts.spec.template.spec;
    expect(pod.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_term).toEqual([{ match_expressions: [
      { key: 'topology.kubernetes.io/region', operator: 'In', values: ['oslo-1'] },
      { key: 'node-restriction.kubernetes.io/sovereign-stack-region', operator: 'In', values: ['oslo-1'] },
      { key: 'node-restriction.kubernetes.io/sovereign-stack-hypervisor', operator: 'In', values: ['kvm'] },
      { key: 'node-restriction.kubernetes.io/sovereign-stack-disk', operator: 'In', values: ['nvme'] },
    ] }]);
    expect(sts.lifecycle.prevent_destroy).toBe(true);
    expect(db.version).toBe(17);
    expect(db.workload.host).toBe('orders-db.platform.svc.cluster.local');
  });

  it('runs the official image as its postgres user, read-only, with the rendered config', () => {
    const { stack } = example();
    const json = synthJson(stack);
    const pod = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').spec.template.spec;
    const c = pod.container[0];
    expect(c.image).toBe('postgres:17.12');
    expect(c.args).toEqual(['-c', 'config_file=/etc/postgresql/postgresql.conf']);
    expect(c.command).toBeUndefined(); // the image's docker-entrypoint initialises the volume
    expect(pod.security_context).toEqual(expect.objectContaining({ run_as_user: '999', run_as_group: '999', fs_group: '999', run_as_non_root: true }));
    expect(c.security_context.read_only_root_filesystem).toBe(true);
    expect(c.env).toEqual(expect.arrayContaining([
      { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
      { name: 'POSTGRES_USER', value: 'postgres' },
      // The passwords are files of the mounted Secret, not env (the image reads POSTGRES_PASSWORD_FILE).
      { name: 'POSTGRES_PASSWORD_FILE', value: '/run/secrets/postgresql/superuser-password' },
      { name: 'OWNER_PASSWORD_FILE', value: '/run/secrets/postgresql/password' },
    ]));
    expect(c.env.filter((e: any) => e.value_from)).toEqual([]);
    expect(pod.volume).toContainEqual({ name: 'secret-0', secret: { secret_name: 'orders-db-credentials', default_mode: '0440' } });
    expect(c.volume_mount).toContainEqual({ name: 'secret-0', mount_path: '/run/secrets/postgresql', read_only: true });
    expect(c.env.find((e: any) => e.name === 'POSTGRES_INITDB_WALDIR')).toBeUndefined();
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '2Gi' } });
    expect(c.volume_mount).toEqual(expect.arrayContaining([
      { name: 'data', mount_path: '/var/lib/postgresql/data' },
      { name: 'run', mount_path: '/var/run/postgresql' },
      { name: 'tmp', mount_path: '/tmp' },
      { name: 'shm', mount_path: '/dev/shm' },
      expect.objectContaining({ mount_path: '/etc/postgresql/postgresql.conf', read_only: true }),
      expect.objectContaining({ mount_path: '/etc/postgresql/pg_hba.conf', read_only: true }),
      expect.objectContaining({ mount_path: '/docker-entrypoint-initdb.d/10-create-owner.sh', read_only: true }),
      { name: 'secret-0', mount_path: '/run/secrets/postgresql', read_only: true },
    ]));
    expect(pod.volume).toContainEqual({ name: 'shm', empty_dir: { medium: 'Memory', size_limit: '512Mi' } });

    const data = findByName(json, 'kubernetes_config_map_v1', 'orders-db-config').data;
    const conf = data['etc_postgresql_postgresql.conf'];
    expect(conf).toContain('random_page_cost = 1.1');
    expect(conf).toContain("hba_file = '/etc/postgresql/pg_hba.conf'");
    expect(conf).toContain("shared_buffers = '512MB'"); // 25 % of 2Gi
    expect(conf).toMatch(/^# postgresql.conf for PostgreSQL 17/);
    const hba = data['etc_postgresql_pg_hba.conf'].split('\n').filter((l: string) => l && !l.startsWith('#'));
    expect(hba).toEqual([
      'local all all trust',
      'host orders orders 10.0.0.0/8 scram-sha-256',
      'host orders orders 172.16.0.0/12 scram-sha-256',
      'host orders orders 192.168.0.0/16 scram-sha-256',
      // The metrics exporter's role, from the pod's own loopback only.
      'host postgres sovereign_monitoring 127.0.0.1/32 scram-sha-256',
    ]);
    const script = data['docker-entrypoint-initdb.d_10-create-owner.sh'];
    // psql reads the password itself (a backquoted cat of the file): never on a command line.
    expect(script).not.toMatch(/-v pw=/);
    expect(script).toContain('\\set pw `if [ -n "$OWNER_PASSWORD_FILE" ]; then cat -- "$OWNER_PASSWORD_FILE" && echo;');
    expect(script).toContain(`CREATE ROLE :"role" LOGIN NOSUPERUSER`);
    expect(script).toContain(`PASSWORD :'pw'`);
    expect(script).toContain('CREATE DATABASE :"database" OWNER :"role"');
  });

  it('probes over the unix socket and shuts down fast with time for the checkpoint', () => {
    const { stack } = example();
    const sts = findByName(synthJson(stack), 'kubernetes_stateful_set_v1', 'orders-db');
    const c = sts.spec.template.spec.container[0];
    for (const probe of [c.readiness_probe, c.liveness_probe, c.startup_probe]) expect(probe.exec.command).toEqual(IS_READY);
    expect(c.startup_probe.failure_threshold * c.startup_probe.period_seconds).toBeGreaterThanOrEqual(600);
    expect(c.lifecycle.pre_stop).toEqual([{ exec: { command: ['pg_ctl', 'stop', '--mode=fast', '--no-wait'] } }]);
    expect(sts.spec.template.spec.termination_grace_period_seconds).toBe(120);
  });

  it('creates no PodDisruptionBudget for its single replica', () => {
    const { stack, db } = example();
    expect(resourcesOf(synthJson(stack), 'kubernetes_pod_disruption_budget_v1')).toEqual({});
    expect(db.workload.workload.disruptionBudget).toBeUndefined();
    expect(db.workload.workload.shutdown.stopSignal).toBe('SIGINT');
  });

  it('admits only the metrics scraper (on 9187) until allowFrom(owner), then exactly the owner on 5432', () => {
    const { stack, target, db } = example();
    const scraper = {
      ports: [{ port: '9187', protocol: 'TCP' }],
      from: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'monitoring' } }, pod_selector: { match_labels: { 'app.kubernetes.io/name': 'prometheus' } } }],
    };
    const before = findByName(synthJson(stack), 'kubernetes_network_policy_v1', 'orders-db');
    expect(before.spec.ingress).toEqual([scraper]);
    const orders = ownerService(stack, target, 'orders', db);
    ownerService(stack, target, 'invoices', new PostgresDatabase(stack, 'invoices-db', { target, serviceName: 'invoices' }));
    db.allowFrom(orders);
    db.allowFrom(orders); // idempotent
    const policy = findByName(synthJson(stack), 'kubernetes_network_policy_v1', 'orders-db');
    expect(policy.spec.pod_selector).toEqual({ match_labels: { 'app.kubernetes.io/name': 'orders-db' } });
    expect(policy.spec.ingress).toEqual([{
      ports: [{ port: '5432', protocol: 'TCP' }],
      from: [{ pod_selector: { match_labels: { 'app.kubernetes.io/name': 'orders' } } }],
    }, scraper]);
  });

  it('generates credentials at apply time into a retained Secret', () => {
    const { stack } = example();
    const json = synthJson(stack);
    const secret = findByName(json, 'kubernetes_secret_v1', 'orders-db-credentials');
    expect(secret.data).toEqual({
      password: expect.stringMatching(/^\$\{random_password\.[^}]+\.result\}$/),
      'superuser-password': expect.stringMatching(/^\$\{random_password\.[^}]+\.result\}$/),
      username: 'orders',
      database: 'orders',
    });
    expect(secret.data.password).not.toBe(secret.data['superuser-password']);
    expect(secret.lifecycle.prevent_destroy).toBe(true);
    // The owner's, the superuser's and the monitoring role's.
    const passwords = Object.values(resourcesOf(json, 'random_password'));
    expect(passwords).toHaveLength(3);
    expect(passwords.every((p: any) => p.length === 32 && p.special === false && p.lifecycle.prevent_destroy === true)).toBe(true);
  });

  it('puts no secret value in the synthesized JSON', () => {
    const { stack, target, db } = example({ walStorageGi: 8 });
    const orders = ownerService(stack, target, 'orders', db);
    db.allowFrom(orders);
    const text = Testing.synth(stack, true);
    const json = JSON.parse(text);
    expect(literalSecrets(json)).toEqual([]);
    // The check can fail: a literal anywhere under a secret-like key is reported.
    expect(literalSecrets({ a: [{ data: { password: 'hunter2', username: 'x' } }], erlang_cookie: 'c' })).toEqual([
      'a.0.data.password = "hunter2"', '.erlang_cookie = "c"',
    ]);
    // The walk does look: the Secret's data was checked and holds references.
    expect(walk(json).filter(([, k]) => k === 'superuser-password').map(([, , v]) => v)).toEqual([expect.stringMatching(TF_REF)]);
    const envs = walk(json).filter(([path, key]) => key === 'env' && /container\.\d+$/.test(path)).flatMap(([, , v]) => v as any[]);
    const passwordEnvs = envs.filter((e) => /PASSWORD$/.test(e.name));
    // The service's own DATABASE_PASSWORD only: the database reads its passwords from files.
    expect(passwordEnvs.map((e) => e.name).sort()).toEqual(['DATABASE_PASSWORD']);
    for (const e of passwordEnvs) {
      expect(e.value).toBeUndefined();
      expect(e.value_from.secret_key_ref).toEqual({ name: 'orders-db-credentials', key: expect.any(String) });
    }
    expect(text).not.toMatch(/PASSWORD\s+'/i); // no literal in any SQL either
  });

  it('hands the owner its connection as env, the password as a secret reference', () => {
    const { db } = example();
    expect(db.connection).toEqual(expect.objectContaining({
      host: 'orders-db.platform.svc.cluster.local', port: 5432, database: 'orders', username: 'orders',
      secretName: 'orders-db-credentials', passwordKey: 'password',
    }));
    expect(db.connection.env()).toEqual([
      { name: 'DATABASE_HOST', value: 'orders-db.platform.svc.cluster.local' },
      { name: 'DATABASE_PORT', value: '5432' },
      { name: 'DATABASE_NAME', value: 'orders' },
      { name: 'DATABASE_USER', value: 'orders' },
      { name: 'DATABASE_PASSWORD', secretRef: { secret: 'orders-db-credentials', key: 'password' } },
    ]);
    expect(db.connection.env('ORDERS_DB').map((e) => e.name)[0]).toBe('ORDERS_DB_HOST');
    expect(() => db.connection.env('orders-db')).toThrow(/prefix "orders-db" must be letters, digits and "_"/);
  });

  it('maps dashes to underscores for the database and role', () => {
    const { stack, target } = kubernetes();
    const db = new PostgresDatabase(stack, 'db', { target, serviceName: 'order-lines' });
    expect(db.connection.database).toBe('order_lines');
    expect(db.workload.workload.name).toBe('order-lines-db');
    const data = findByName(synthJson(stack), 'kubernetes_config_map_v1', 'order-lines-db-config').data;
    expect(data['etc_postgresql_pg_hba.conf']).toContain('host order_lines order_lines 10.0.0.0/8 scram-sha-256');
  });

  it('drops prevent_destroy with retainOnDelete: false', () => {
    const { stack } = example({ retainOnDelete: false });
    const json = synthJson(stack);
    // No prevent_destroy; claim-template changes stay ignored (volumes grow on their PVCs).
    expect(findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').lifecycle).toEqual({ ignore_changes: ['spec[0].volume_claim_template'] });
    expect(findByName(json, 'kubernetes_secret_v1', 'orders-db-credentials').lifecycle).toBeUndefined();
    expect(Object.values(resourcesOf(json, 'random_password')).every((p: any) => p.lifecycle === undefined)).toBe(true);
    // Kubernetes still keeps the claims (the storage class and claim retention are Retain).
    expect(findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').spec.persistent_volume_claim_retention_policy)
      .toEqual([{ when_deleted: 'Retain', when_scaled: 'Retain' }]);
  });

  it('puts WAL on its own NVMe volume when asked', () => {
    const { stack, db } = example({ walStorageGi: 8 });
    const sts = findByName(synthJson(stack), 'kubernetes_stateful_set_v1', 'orders-db');
    expect(sts.spec.volume_claim_template.map((t: any) => [t.metadata.name, t.spec.storage_class_name, t.spec.resources.requests.storage]))
      .toEqual([['data', 'nvme-retain', '20Gi'], ['wal', 'nvme-retain', '8Gi']]);
    const c = sts.spec.template.spec.container[0];
    expect(c.volume_mount).toContainEqual({ name: 'wal', mount_path: '/var/lib/postgresql/wal' });
    expect(c.env).toContainEqual({ name: 'POSTGRES_INITDB_WALDIR', value: '/var/lib/postgresql/wal/pg_wal' });
    expect(db.workload.workload.volumes.map((v) => [v.name, v.role, v.dataKind])).toEqual([
      ['data', 'datastore', 'postgresql-data'], ['wal', 'wal', 'postgresql-wal'],
    ]);
  });

  it('references an existing Secret instead of generating one (only the loopback monitoring password is generated, unless metrics are off)', () => {
    const { stack, db } = example({ existingSecret: 'orders-db-from-vault' });
    const json = synthJson(stack);
    expect(Object.values(resourcesOf(json, 'kubernetes_secret_v1')).map((r: any) => r.metadata.name)).toEqual(['orders-db-monitoring']);
    expect(Object.keys(resourcesOf(json, 'random_password'))).toHaveLength(1);
    const off = example({ existingSecret: 'orders-db-from-vault', metrics: { enabled: false } });
    const offJson = synthJson(off.stack);
    expect(resourcesOf(offJson, 'kubernetes_secret_v1')).toEqual({});
    expect(resourcesOf(offJson, 'random_password')).toEqual({});
    const env = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').spec.template.spec.container[0].env;
    expect(env).toContainEqual({ name: 'OWNER_PASSWORD_FILE', value: '/run/secrets/postgresql/password' });
    expect(env).toContainEqual({ name: 'POSTGRES_PASSWORD_FILE', value: '/run/secrets/postgresql/superuser-password' });
    expect(findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').spec.template.spec.volume)
      .toContainEqual({ name: 'secret-0', secret: { secret_name: 'orders-db-from-vault', default_mode: '0440' } });
    expect(db.connection.secretName).toBe('orders-db-from-vault');
  });

  it('derives the version and the memory settings from the props', () => {
    const { stack, target } = kubernetes();
    const db = new PostgresDatabase(stack, 'db', { target, serviceName: 'orders', image: 'postgres:15.8-alpine', dataMajorVersion: 15, memoryLimit: '1Gi', maxConnections: 50, cpu: '2' });
    expect(db.version).toBe(15);
    const json = synthJson(stack);
    const conf = findByName(json, 'kubernetes_config_map_v1', 'orders-db-config').data['etc_postgresql_postgresql.conf'];
    expect(conf).toMatch(/^# postgresql.conf for PostgreSQL 15/);
    expect(conf).toContain('max_connections = 50');
    expect(conf).toContain("shared_buffers = '256MB'");
    const pod = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').spec.template.spec;
    expect(pod.security_context.run_as_user).toBe('70'); // the Alpine image's postgres user
    expect(pod.container[0].resources).toEqual({ requests: { cpu: '2', memory: '1Gi' }, limits: { memory: '1Gi' } });
  });

  it('gives two services two independent databases', () => {
    const { stack, target } = kubernetes();
    const orders = new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders' });
    const invoices = new PostgresDatabase(stack, 'invoices-db', { target, serviceName: 'invoices', storageGi: 5 });
    ownerService(stack, target, 'orders', orders);
    ownerService(stack, target, 'invoices', invoices);
    orders.allowFrom(target.findWorkload('orders')!);
    invoices.allowFrom(target.findWorkload('invoices')!);
    const json = synthJson(stack);
    const names = (type: string) => Object.values(resourcesOf(json, type)).map((r: any) => r.metadata.name).sort();
    expect(names('kubernetes_stateful_set_v1')).toEqual(['invoices-db', 'orders-db']);
    expect(names('kubernetes_secret_v1')).toEqual(['invoices-db-credentials', 'invoices-db-monitoring', 'orders-db-credentials', 'orders-db-monitoring']);
    expect(names('kubernetes_config_map_v1')).toEqual(['invoices-db-config', 'orders-db-config']);
    expect(Object.keys(resourcesOf(json, 'random_password'))).toHaveLength(6);
    expect(findByName(json, 'kubernetes_stateful_set_v1', 'invoices-db').spec.volume_claim_template[0].spec.resources.requests.storage).toBe('5Gi');
    const from = (name: string) => findByName(json, 'kubernetes_network_policy_v1', name).spec.ingress[0].from[0].pod_selector.match_labels['app.kubernetes.io/name'];
    expect([from('orders-db'), from('invoices-db')]).toEqual(['orders', 'invoices']);
    const hba = (name: string) => findByName(json, 'kubernetes_config_map_v1', `${name}-db-config`).data['etc_postgresql_pg_hba.conf'];
    expect(hba('orders')).not.toContain('invoices');
    expect(hba('invoices')).toContain('host invoices invoices 10.0.0.0/8 scram-sha-256');
    // Each service reads its own database's secret.
    const envOf = (name: string) => findByName(json, 'kubernetes_deployment_v1', name).spec.template.spec.container[0].env;
    expect(envOf('invoices')).toContainEqual({ name: 'DATABASE_PASSWORD', value_from: { secret_key_ref: { name: 'invoices-db-credentials', key: 'password' } } });
    expect(orders.connection.host).not.toBe(invoices.connection.host);
  });

  it('fails synthesis when the data would live outside the EEA', () => {
    const { stack, target } = kubernetes();
    new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', location: 'aws:us-east-1' });
    const message = messageOf(() => synthJson(stack));
    expect(message).toMatch(/residency violation \[policy eea\]: postgresql-data \(primary copy\) at aws:us-east-1/);
    expect(message).toContain('test/orders-db/datastore-data');
  });

  it('records the data (and WAL) as datastores in the target region', () => {
    const { stack, target } = kubernetes();
    new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', walStorageGi: 4, location: 'aws:eu-north-1' });
    expect(() => synthJson(stack)).not.toThrow();
    const kinds = stack.node.findAll().filter((c: any) => typeof c.datastoreKind === 'string').map((c: any) => [c.node.path, c.datastoreKind]);
    expect(kinds).toEqual([['test/orders-db/datastore-data', 'postgresql-data'], ['test/orders-db/datastore-wal', 'postgresql-wal']]);
  });

  it('matches the snapshot', () => {
    const { stack } = example();
    expect(Testing.synth(stack, true)).toMatchSnapshot();
  });
});

describe('PostgresDatabase props', () => {
  const create = (props: Partial<PostgresDatabaseProps>) => {
    const { stack, target } = kubernetes();
    return messageOf(() => new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', ...props } as PostgresDatabaseProps));
  };

  it.each([
    [{ memoryLimit: '128Mi' }, /PostgresDatabase test\/orders-db props\.memoryLimit: must be at least 256Mi/],
    [{ image: 'postgres:13.4' }, /props\.image: "postgres:13\.4" is PostgreSQL 13; supported major versions are 14, 15, 16, 17/],
    [{ image: 'postgres:18' }, /props\.image: "postgres:18" is PostgreSQL 18; supported/],
    [{ image: 'postgres:latest' }, /props\.image: "postgres:latest" names no version/],
    [{ image: 'postgres' }, /props\.image: "postgres" names no version/],
    [{ serviceName: 'Orders' }, /props\.serviceName: must be a DNS-1123 label/],
    [{ serviceName: '9lives' }, /props\.serviceName: gives the PostgreSQL database and role name "9lives", which must be 1-63/],
    [{ serviceName: 'all' }, /props\.serviceName: gives the PostgreSQL database and role name "all", which must not be a pg_hba\.conf keyword/],
    [{ serviceName: 'postgres' }, /props\.serviceName: must not be "postgres"/],
    [{ serviceName: 'a'.repeat(38) }, /props\.serviceName: must be at most 37 characters/],
    [{ maxConnections: 5000, memoryLimit: '512Mi' }, /props\.maxConnections: does not fit memoryLimit 512Mi/],
    [{ maxConnections: 5 }, /props\.maxConnections: must be at least 10/],
    [{ walStorageGi: 2 }, /props\.walStorageGi: must be at least 4/],
    [{ storageGi: 0 }, /props\.storageGi: must be at least 1/],
    [{ clientCidrs: ['0.0.0.0/0'] }, /props\.clientCidrs\[0\]: must not be the whole internet/],
    [{ cpu: 'lots' }, /props\.cpu: must be a CPU quantity/],
    [{ existingSecret: 'Vault_Secret' }, /props\.existingSecret: must be a DNS-1123 subdomain/],
    [{ replicas: 3 } as any, /Unrecognized key: "replicas"/],
    [{ location: '' }, /props\.location: must be a region id/],
  ])('rejects %j', (props, message) => {
    expect(create(props)).toMatch(message);
  });

  it('validates before creating anything', () => {
    const { stack, target } = kubernetes();
    const before = stack.node.findAll().length;
    expect(() => new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', memoryLimit: '128Mi' })).toThrow(/memoryLimit/);
    expect(stack.node.findAll().length).toBe(before);
    expect(target.workloadNames).toEqual([]);
    expect(() => new PostgresDatabase(stack, 'orders-db', { target: undefined as any, serviceName: 'orders' })).toThrow(/props\.target: is required/);
  });

  it('refuses a second database for the same service on one target', () => {
    const { stack, target } = kubernetes();
    new PostgresDatabase(stack, 'a', { target, serviceName: 'orders' });
    expect(() => new PostgresDatabase(stack, 'b', { target, serviceName: 'orders' })).toThrow(/"orders-db" is already deployed/);
  });
});

describe('PostgresDatabase on Docker', () => {
  it('runs one container with one retained named volume and the same config files', () => {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    const db = new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders' });
    const json = synthJson(stack);
    const containers = dockerReplicas(json);
    expect(containers).toHaveLength(1);
    const c = containers[0];
    expect(c).toEqual(expect.objectContaining({
      name: 'sovereign-orders-db-0', hostname: 'orders-db-0', user: '999:999', read_only: true,
      stop_signal: 'SIGINT', stop_timeout: 120, memory: 2048,
      command: ['-c', 'config_file=/etc/postgresql/postgresql.conf'],
    }));
    expect(c.entrypoint).toBeUndefined();
    expect(c.healthcheck.test).toEqual(['CMD', ...IS_READY]);
    expect(c.tmpfs).toEqual({
      '/var/run/postgresql': 'rw,size=16m,mode=1777', '/tmp': 'rw,size=64m,mode=1777', '/dev/shm': 'rw,size=512m,mode=1777',
    });
    expect(c.ports).toBeUndefined();

    const volumes = Object.values(resourcesOf(json, 'docker_volume')) as any[];
    expect(volumes).toHaveLength(1);
    expect(volumes[0].name).toBe('sovereign-orders-db-data-0');
    expect(volumes[0].lifecycle.prevent_destroy).toBe(true);
    expect(c.volumes).toEqual([
      { volume_name: expect.stringMatching(TF_REF), container_path: '/var/lib/postgresql/data' },
      // The config files, from the never-started files container, read-only.
      { from_container: expect.stringMatching(/^\$\{docker_container\.[^}]+\.id\}:ro$/) },
    ]);

    // The same three files as the Kubernetes ConfigMap.
    const k8s = kubernetes();
    new PostgresDatabase(k8s.stack, 'orders-db', { target: k8s.target, serviceName: 'orders' });
    const configMap = findByName(synthJson(k8s.stack), 'kubernetes_config_map_v1', 'orders-db-config').data;
    expect(dockerFiles(json, 'sovereign-orders-db-0').filter((u) => !u.file.startsWith('/run/secrets/')).map((u) => [u.file, u.content, u.permissions])).toEqual([
      ['/etc/postgresql/postgresql.conf', configMap['etc_postgresql_postgresql.conf'], '0444'],
      ['/etc/postgresql/pg_hba.conf', configMap['etc_postgresql_pg_hba.conf'], '0444'],
      ['/docker-entrypoint-initdb.d/10-create-owner.sh', configMap['docker-entrypoint-initdb.d_10-create-owner.sh'], '0444'],
    ]);

    // Passwords reach the container as files (Terraform references in the files container's
    // uploads, root:root 0440, read through group 0), never in its env (`docker inspect`).
    expect(c.env.filter((e: string) => /PASSWORD/.test(e))).toEqual([
      'POSTGRES_PASSWORD_FILE=/run/secrets/postgresql/superuser-password',
      'OWNER_PASSWORD_FILE=/run/secrets/postgresql/password',
      'MONITORING_PASSWORD_FILE=/run/secrets/postgresql-monitoring/password',
    ]);
    expect(c.env.filter((e: string) => /\$\{/.test(e))).toEqual([]);
    expect(c.group_add).toEqual(['0']);
    expect(dockerFiles(json, 'sovereign-orders-db-0').filter((u) => u.file.startsWith('/run/secrets/postgresql/')).map((u) => [u.file, u.content, u.permissions])).toEqual([
      ['/run/secrets/postgresql/username', 'orders', '0440'],
      ['/run/secrets/postgresql/database', 'orders', '0440'],
      ['/run/secrets/postgresql/password', expect.stringMatching(/^\$\{random_password\.[^}]+\.result\}$/), '0440'],
      ['/run/secrets/postgresql/superuser-password', expect.stringMatching(/^\$\{random_password\.[^}]+\.result\}$/), '0440'],
    ]);
    expect(literalSecrets(json)).toEqual([]);
    expect(db.connection.host).toBe('orders-db');
  });

  it('keeps data on destroy unless retainOnDelete is false', () => {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', retainOnDelete: false });
    const volumes = Object.values(resourcesOf(synthJson(stack), 'docker_volume')) as any[];
    expect(volumes[0].lifecycle).toBeUndefined();
  });
});
