/**
 * Encryption in transit through the constructs: PostgresDatabase and RabbitMqCluster with `tls`
 * on both targets, the cert-manager Certificate of the Kubernetes target, and the CA that a
 * ReferenceDeployment's services mount (only `ca.crt`, never the server's key).
 */
import { Construct } from 'constructs';
import { OSLO_REGION } from '../../lib/residency/regions';
import { DockerTarget } from '../../lib/targets/docker/docker-target';
import { KubernetesTarget } from '../../lib/targets/kubernetes/kubernetes-target';
import { PostgresDatabase, PostgresDatabaseProps } from '../../lib/postgres/postgres-database';
import { RabbitMqCluster, RabbitMqClusterProps } from '../../lib/rabbitmq/rabbitmq-cluster';
import { ReferenceDeployment } from '../../lib/reference/reference-deployment';
import { dockerFiles, findByName, newStack, resourcesOf, synthJson } from '../support/synth';
import { literalSecrets } from '../support/secret-scan';
import { messageOf } from '../support/errors';

const envOf = (env: Array<{ name: string; value?: string }>) => Object.fromEntries(env.map((e) => [e.name, e.value]));

function postgresOnKubernetes(props: Partial<PostgresDatabaseProps>) {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  const db = new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', ...props });
  return { stack, db, json: synthJson(stack) };
}

describe('PostgresDatabase with tls on Kubernetes', () => {
  const { db, json } = postgresOnKubernetes({ tls: { secretName: 'orders-db-tls' } });
  const sts = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db');
  const pod = sts.spec.template.spec;
  const config = findByName(json, 'kubernetes_config_map_v1', 'orders-db-config').data;

  it('renders ssl = on with the mounted files and hostssl lines only', () => {
    expect(config['etc_postgresql_postgresql.conf']).toMatch(/^ssl = on\nssl_cert_file = '\/run\/secrets\/postgresql-tls\/tls\.crt'\nssl_key_file = '\/run\/secrets\/postgresql-tls\/tls\.key'$/m);
    const hba = config['etc_postgresql_pg_hba.conf'] as string;
    expect(hba).toMatch(/^hostssl orders orders 10\.0\.0\.0\/8 scram-sha-256$/m);
    // The only plain `host` line is the metrics exporter's: its role, the postgres database, the pod's loopback.
    expect(hba.match(/^host\s.*$/gm)).toEqual(['host postgres sovereign_monitoring 127.0.0.1/32 scram-sha-256']);
  });

  it('mounts the existing Secret read-only, 0440 and group-owned by fsGroup (a key PostgreSQL accepts)', () => {
    const volume = pod.volume.find((v: any) => v.secret?.secret_name === 'orders-db-tls');
    expect(volume.secret).toEqual({ secret_name: 'orders-db-tls', default_mode: '0440' });
    expect(pod.container[0].volume_mount).toContainEqual({ name: volume.name, mount_path: '/run/secrets/postgresql-tls', read_only: true });
    expect(pod.security_context.fs_group).toBe('999');
    expect(pod.security_context.run_as_user).toBe('999');
    // Referenced, never created: the Secret is the user's.
    expect(Object.values(resourcesOf(json, 'kubernetes_secret_v1')).map((s: any) => s.metadata.name)).not.toContain('orders-db-tls');
  });

  it('tells the owning service to verify the server with the CA it mounts', () => {
    expect(envOf(db.connection.env())).toEqual(expect.objectContaining({
      DATABASE_SSLMODE: 'verify-full', DATABASE_SSLROOTCERT: '/etc/sovereign-stack/tls/orders-db/ca.crt',
    }));
    expect(db.connection.mounts()).toEqual([{ secret: 'orders-db-tls', mountPath: '/etc/sovereign-stack/tls/orders-db', keys: ['ca.crt'], mode: '0444' }]);
    expect(db.tlsSecretName).toBe('orders-db-tls');
  });

  it('is off without tls: ssl = off, host lines, no TLS env', () => {
    const plain = postgresOnKubernetes({});
    const conf = findByName(plain.json, 'kubernetes_config_map_v1', 'orders-db-config').data;
    expect(conf['etc_postgresql_postgresql.conf']).toMatch(/^ssl = off$/m);
    expect(conf['etc_postgresql_pg_hba.conf']).toMatch(/^host orders orders /m);
    expect(envOf(plain.db.connection.env())).not.toHaveProperty('DATABASE_SSLMODE');
    expect(plain.db.connection.mounts()).toEqual([]);
  });
});

describe('a cert-manager Certificate (opt-in, Kubernetes)', () => {
  const { json } = postgresOnKubernetes({ tls: { certManager: { issuerName: 'platform-ca' } } });
  const manifests = Object.values(resourcesOf(json, 'kubernetes_manifest')) as any[];

  it('is created for the Service and every replica, and written to <workload>-tls', () => {
    expect(manifests).toHaveLength(1);
    expect(manifests[0].manifest).toEqual({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: expect.objectContaining({ name: 'orders-db-tls', namespace: 'platform' }),
      spec: expect.objectContaining({
        secretName: 'orders-db-tls',
        commonName: 'orders-db.platform.svc.cluster.local',
        dnsNames: [
          'orders-db', 'orders-db.platform', 'orders-db.platform.svc', 'orders-db.platform.svc.cluster.local',
          'orders-db-headless.platform.svc.cluster.local', '*.orders-db-headless.platform.svc.cluster.local',
        ],
        usages: ['server auth', 'client auth', 'digital signature', 'key encipherment'],
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        issuerRef: { name: 'platform-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
      }),
    });
    expect(manifests[0].wait).toEqual({ condition: [{ type: 'Ready', status: 'True' }] });
    const pod = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').spec.template.spec;
    expect(pod.volume.map((v: any) => v.secret?.secret_name)).toContain('orders-db-tls');
  });

  it('names a namespaced Issuer when asked', () => {
    const { json: issuerJson } = postgresOnKubernetes({ tls: { certManager: { issuerName: 'local-ca', issuerKind: 'Issuer' } } });
    const [m] = Object.values(resourcesOf(issuerJson, 'kubernetes_manifest')) as any[];
    expect(m.manifest.spec.issuerRef).toEqual({ name: 'local-ca', kind: 'Issuer', group: 'cert-manager.io' });
  });

  it('is refused on Docker, saying what to do instead', () => {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    expect(messageOf(() => new PostgresDatabase(stack, 'db', { target, serviceName: 'orders', tls: { certManager: { issuerName: 'ca' } } })))
      .toMatch(/cert-manager certificate, which exists only on Kubernetes; .* give tls\.secretName instead/);
  });
});

describe('tls props', () => {
  it.each([
    [{}, /tls: must give exactly one certificate source/],
    [{ secretName: 'a', certManager: { issuerName: 'b' } }, /tls: must give exactly one certificate source/],
    [{ secretName: 'Not_A_Name' }, /tls\.secretName: /],
    [{ certManager: { issuerName: 'ca', issuerKind: 'Cluster' } }, /tls\.certManager\.issuerKind: .*"Issuer"\|"ClusterIssuer"|tls\.certManager\.issuerKind/],
  ])('refuses %j', (tls, message) => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    expect(messageOf(() => new PostgresDatabase(stack, 'db', { target, serviceName: 'orders', tls: tls as never }))).toMatch(message);
    expect(messageOf(() => new RabbitMqCluster(stack, 'mq', { target, tls: tls as never }))).toMatch(message);
  });
});

describe('PostgresDatabase with tls on Docker', () => {
  it('uploads the certificate files 0440 root-owned from sensitive variables; the server reads them through group 0', () => {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders', tls: { secretName: 'orders-db-tls' } });
    const json = synthJson(stack);
    const tlsFiles = dockerFiles(json, 'sovereign-orders-db-0').filter((u) => u.file.startsWith('/run/secrets/postgresql-tls/'));
    expect(tlsFiles.map((u) => [u.file, u.permissions])).toEqual([
      ['/run/secrets/postgresql-tls/tls.crt', '0440'], ['/run/secrets/postgresql-tls/tls.key', '0440'], ['/run/secrets/postgresql-tls/ca.crt', '0440'],
    ]);
    expect(tlsFiles.map((u) => u.content)).toEqual(['${var.orders-db-tls_tls_crt}', '${var.orders-db-tls_tls_key}', '${var.orders-db-tls_ca_crt}']
      .map((v) => v.replace(/-/g, '_')));
    expect(Object.keys(json.variable ?? {})).toEqual(expect.arrayContaining(['orders_db_tls_tls_crt', 'orders_db_tls_tls_key', 'orders_db_tls_ca_crt']));
    expect(json.variable!.orders_db_tls_tls_key.sensitive).toBe(true);
    const replica = Object.values(resourcesOf(json, 'docker_container')).find((c: any) => c.name === 'sovereign-orders-db-0') as any;
    expect(replica.group_add).toEqual(['0']);
    expect(literalSecrets(json)).toEqual([]);
  });
});

describe('RabbitMqCluster with tls', () => {
  function cluster(props: Partial<RabbitMqClusterProps> = {}) {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    const broker = new RabbitMqCluster(stack, 'messaging', { target, tls: { secretName: 'rabbitmq-tls' }, ...props });
    const orders = broker.addServiceUser({ service: 'orders', publishes: ['orders.created'] });
    const client = target.deploy(new Construct(stack, 'orders'), {
      name: 'orders', component: 'service', kind: 'stateless', image: 'registry.example.no/orders:1.0.0',
      ports: [{ name: 'http', containerPort: 8080 }], env: orders.env(), secretMounts: orders.mounts(),
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    });
    broker.allowFrom(client);
    const json = synthJson(stack);
    return { broker, orders, json, config: findByName(json, 'kubernetes_config_map_v1', 'rabbitmq-config').data };
  }

  const { broker, orders, json, config } = cluster();

  it('serves AMQPS on 5671 only, with the Secret mounted read-only', () => {
    const sts = findByName(json, 'kubernetes_stateful_set_v1', 'rabbitmq');
    const container = sts.spec.template.spec.container[0];
    expect(container.port.map((p: any) => `${p.name}:${p.container_port}`)).toEqual(['amqps:5671', 'clustering:25672', 'epmd:4369', 'prometheus:15692', 'management:15672']);
    expect(config['etc_rabbitmq_rabbitmq.conf']).toMatch(/^listeners\.tcp = none\nlisteners\.ssl\.default = 5671\nssl_options\.cacertfile = \/etc\/rabbitmq\/tls\/ca\.crt$/m);
    const volume = sts.spec.template.spec.volume.find((v: any) => v.secret?.secret_name === 'rabbitmq-tls');
    expect(container.volume_mount).toContainEqual({ name: volume.name, mount_path: '/etc/rabbitmq/tls', read_only: true });
    expect(broker.endpoint.port).toBe(5671);
  });

  it('runs Erlang distribution over TLS for the nodes and every CLI tool', () => {
    expect(config['etc_rabbitmq_rabbitmq-env.conf']).toContain(
      'SERVER_ADDITIONAL_ERL_ARGS="-proto_dist inet_tls -ssl_dist_optfile /etc/rabbitmq/inter_node_tls.config"\n' +
      'CTL_ERL_ARGS="-proto_dist inet_tls -ssl_dist_optfile /etc/rabbitmq/inter_node_tls.config"\n');
    expect(config['etc_rabbitmq_inter_node_tls.config']).toContain('{certfile, "/etc/rabbitmq/tls/tls.crt"}');
  });

  it('keeps distribution plaintext only when asked (interNodeTls: false)', () => {
    const { config: plainDist } = cluster({ interNodeTls: false });
    expect(plainDist['etc_rabbitmq_rabbitmq-env.conf']).not.toContain('inet_tls');
    expect(plainDist).not.toHaveProperty(['etc_rabbitmq_inter_node_tls.config']);
    expect(plainDist['etc_rabbitmq_rabbitmq.conf']).toContain('listeners.ssl.default = 5671');
  });

  it('tells clients to connect with amqps:// and verify the CA they mount (ca.crt only)', () => {
    expect(envOf(orders.env())).toEqual(expect.objectContaining({
      AMQP_PORT: '5671',
      AMQP_URL: 'amqps://rabbitmq.platform.svc.cluster.local:5671/platform',
      AMQP_CA_FILE: '/etc/sovereign-stack/tls/rabbitmq/ca.crt',
    }));
    const pod = findByName(json, 'kubernetes_deployment_v1', 'orders').spec.template.spec;
    const ca = pod.volume.find((v: any) => v.secret?.secret_name === 'rabbitmq-tls');
    // Only the CA, readable by whatever uid the service runs as (it has no fsGroup); never the key.
    expect(ca.secret).toEqual({ secret_name: 'rabbitmq-tls', default_mode: '0444', items: [{ key: 'ca.crt', path: 'ca.crt' }] });
    expect(pod.container[0].volume_mount).toContainEqual({ name: ca.name, mount_path: '/etc/sovereign-stack/tls/rabbitmq', read_only: true });
  });

  it('admits clients on 5671 in the network policy', () => {
    const policy = findByName(json, 'kubernetes_network_policy_v1', 'rabbitmq');
    const clientRule = policy.spec.ingress.find((r: any) => JSON.stringify(r.from).includes('orders'));
    expect(clientRule.ports.map((p: any) => p.port)).toEqual(['5671']);
  });
});

describe('ReferenceDeployment with tls', () => {
  it('passes each service the CA files of its database and the broker, never their keys', () => {
    const { stack } = newStack();
    // (Docker below: the same mounts become 0444 uploads of ca.crt alone.)
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    new ReferenceDeployment(stack, 'platform', {
      target,
      gateway: { serverName: 'api.example.no' },
      services: [{
        name: 'orders', image: 'registry.example.no/orders:1.4.2', port: 8080, routes: ['/v1/orders'],
        database: { tls: { certManager: { issuerName: 'platform-ca' } } }, messaging: { publishes: ['orders.created'] },
      }],
      messaging: { replicas: 3, tls: { certManager: { issuerName: 'platform-ca' } } },
    });
    const json = synthJson(stack);
    const pod = findByName(json, 'kubernetes_deployment_v1', 'orders').spec.template.spec;
    expect(pod.volume.filter((v: any) => v.secret).map((v: any) => [v.secret.secret_name, v.secret.items])).toEqual([
      ['orders-db-tls', [{ key: 'ca.crt', path: 'ca.crt' }]],
      ['rabbitmq-tls', [{ key: 'ca.crt', path: 'ca.crt' }]],
    ]);
    const env = Object.fromEntries(pod.container[0].env.map((e: any) => [e.name, e.value]));
    expect(env).toEqual(expect.objectContaining({
      DATABASE_SSLMODE: 'verify-full', DATABASE_SSLROOTCERT: '/etc/sovereign-stack/tls/orders-db/ca.crt',
      AMQP_URL: 'amqps://rabbitmq.platform.svc.cluster.local:5671/platform', AMQP_CA_FILE: '/etc/sovereign-stack/tls/rabbitmq/ca.crt',
    }));
    expect((Object.values(resourcesOf(json, 'kubernetes_manifest')) as any[]).map((m) => m.manifest.metadata.name).sort()).toEqual(['orders-db-tls', 'rabbitmq-tls']);
  });
});

describe('the CA a service mounts on Docker', () => {
  it('is uploaded alone, 0444, and the service needs no extra group for it', () => {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    new ReferenceDeployment(stack, 'platform', {
      target,
      gateway: { serverName: 'localhost', replicas: 1 },
      services: [{ name: 'orders', image: 'registry.example.no/orders:1.4.2', port: 8080, replicas: 1, routes: ['/v1/orders'], database: { tls: { secretName: 'orders-db-tls' } } }],
    });
    const json = synthJson(stack);
    expect(dockerFiles(json, 'sovereign-orders-0').map((u) => [u.file, u.permissions]))
      .toEqual([['/etc/sovereign-stack/tls/orders-db/ca.crt', '0444']]);
    const service = Object.values(resourcesOf(json, 'docker_container')).find((c: any) => c.name === 'sovereign-orders-0') as any;
    expect(service.group_add).toBeUndefined();
    expect(service.env).toEqual(expect.arrayContaining(['DATABASE_SSLMODE=verify-full', 'DATABASE_SSLROOTCERT=/etc/sovereign-stack/tls/orders-db/ca.crt']));
  });
});
