import { Testing, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
// Direct module imports: this suite does not depend on the rest of the barrel.
import { OSLO_REGION } from '../../lib/residency/regions';
import { DockerTarget } from '../../lib/targets/docker/docker-target';
import { KubernetesTarget } from '../../lib/targets/kubernetes/kubernetes-target';
import { SovereignStackError } from '../../lib/util/errors';
import { DeployedWorkload, IWorkloadTarget } from '../../lib/workload/target';
import { EnvVar } from '../../lib/workload/workload';
import { RabbitMqCluster, RabbitMqClusterProps, queueNameOf } from '../../lib/rabbitmq/rabbitmq-cluster';
import { dockerFiles, dockerReplicas, findByName, newStack, resourcesOf, synthJson } from '../support/synth';
import { TF_REF, literalSecrets, walk } from '../support/secret-scan';
import { errorOf } from '../support/errors';
import { scraperIngress } from '../support/network-edges';


function kubernetes() {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });
  return { stack, target };
}

/** A stateless service reading the broker connection (what ReferenceDeployment does per service). */
function service(stack: TerraformStack, target: IWorkloadTarget, name: string, env: EnvVar[]): DeployedWorkload {
  return target.deploy(new Construct(stack, name), {
    name, component: 'service', kind: 'stateless', image: `registry.example.no/${name}:1.0.0`,
    ports: [{ name: 'http', containerPort: 8080 }],
    env,
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  });
}

function configOf(json: any, name = 'rabbitmq-config'): Record<string, string> {
  return findByName(json, 'kubernetes_config_map_v1', name).data;
}

describe('RabbitMqCluster on Kubernetes', () => {
  function example(props: Partial<RabbitMqClusterProps> = {}) {
    const { stack, target } = kubernetes();
    const broker = new RabbitMqCluster(stack, 'messaging', { target, ...props });
    return { stack, target, broker };
  }

  it('runs 3 nodes as a StatefulSet, one per machine, in the region, on NVMe', () => {
    const { stack } = example();
    const json = synthJson(stack);
    const sts = findByName(json, 'kubernetes_stateful_set_v1', 'rabbitmq');
    expect(sts.spec.replicas).toBe('3');
    expect(sts.spec.service_name).toBe('rabbitmq-headless');
    expect(sts.spec.pod_management_policy).toBe('Parallel');
    expect(sts.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: ['spec[0].volume_claim_template'] });
    expect(sts.spec.volume_claim_template).toEqual([expect.objectContaining({
      metadata: expect.objectContaining({ name: 'data' }),
      spec: { access_modes: ['ReadWriteOnce'], storage_class_name: 'nvme-retain', resources: { requests: { storage: '20Gi' } } },
    })]);

    const pod = sts.spec.template.spec;
    expect(pod.affinity.pod_anti_affinity).toEqual({
      required_during_scheduling_ignored_during_execution: [{
        topology_key: 'kubernetes.io/hostname',
        label_selector: [{ match_labels: { 'app.kubernetes.io/name': 'rabbitmq' } }],
      }],
    });
    const terms = pod.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_term[0].match_expressions;
    expect(terms).toContainEqual({ key: 'topology.kubernetes.io/region', operator: 'In', values: ['oslo-1'] });
    expect(pod.termination_grace_period_seconds).toBe(600);
    expect(pod.automount_service_account_token).toBe(true);
    // The Alpine image's rabbitmq user.
    expect(pod.security_context).toEqual(expect.objectContaining({ run_as_user: '100', run_as_group: '101', fs_group: '101', run_as_non_root: true }));

    const container = pod.container[0];
    expect(container.image).toBe('rabbitmq:3.13.7-management-alpine');
    expect(container.security_context.read_only_root_filesystem).toBe(true);
    expect(container.port.map((p: any) => [p.name, p.container_port])).toEqual([
      ['amqp', 5672], ['clustering', 25672], ['epmd', 4369], ['prometheus', 15692], ['management', 15672],
    ]);
    expect(container.command[0]).toBe('sh');
    expect(container.command[2]).toContain('install -m 0400 /etc/rabbitmq/cookie/cookie "$HOME/.erlang.cookie"');
    expect(container.command[2]).toContain('(sh /etc/rabbitmq/bootstrap-users.sh &)');
    expect(container.command[2]).toMatch(/exec docker-entrypoint\.sh rabbitmq-server$/);
    expect(container.env).toEqual(expect.arrayContaining([
      { name: 'HOME', value: '/var/lib/rabbitmq' },
      { name: 'RABBITMQ_CONF_ENV_FILE', value: '/etc/rabbitmq/rabbitmq-env.conf' },
    ]));
    expect(container.volume_mount).toEqual(expect.arrayContaining([
      { name: 'data', mount_path: '/var/lib/rabbitmq' },
      expect.objectContaining({ mount_path: '/etc/rabbitmq/users', read_only: true }),
      expect.objectContaining({ mount_path: '/etc/rabbitmq/cookie', read_only: true }),
    ]));
    // Ready only once the bootstrap applied users and definitions, and the listeners answer.
    expect(container.readiness_probe.exec.command).toEqual(['sh', '-c', 'test -e /tmp/rabbitmq-bootstrap.ready && exec rabbitmq-diagnostics -q check_port_connectivity']);
    expect(container.liveness_probe.exec.command).toEqual(['rabbitmq-diagnostics', '-q', 'ping']);
    expect(Number(container.startup_probe.failure_threshold)).toBeGreaterThanOrEqual(60);
    expect(container.lifecycle.pre_stop[0].exec.command[2]).toContain('rabbitmq-upgrade -q drain');
  });

  it('gives peers stable DNS before they are ready, a PDB, and API access for peer discovery', () => {
    const { stack } = example();
    const json = synthJson(stack);
    const headless = findByName(json, 'kubernetes_service_v1', 'rabbitmq-headless');
    expect(headless.spec.cluster_ip).toBe('None');
    expect(headless.spec.publish_not_ready_addresses).toBe(true);
    expect(findByName(json, 'kubernetes_pod_disruption_budget_v1', 'rabbitmq').spec.max_unavailable).toBe('1');
    const role = findByName(json, 'kubernetes_role_v1', 'rabbitmq');
    expect(role.rule).toEqual([
      { api_groups: [''], resources: ['endpoints'], verbs: ['get'] },
      { api_groups: [''], resources: ['events'], verbs: ['create'] },
    ]);
    expect(findByName(json, 'kubernetes_role_binding_v1', 'rabbitmq').subject).toEqual([{ kind: 'ServiceAccount', name: 'rabbitmq', namespace: 'platform' }]);
  });

  it('forms the cluster with the k8s plugin, pause_minority, and a stable long node name', () => {
    const { stack } = example();
    const config = configOf(synthJson(stack));
    const conf = config['etc_rabbitmq_rabbitmq.conf'];
    expect(conf).toContain('cluster_formation.peer_discovery_backend = rabbit_peer_discovery_k8s');
    expect(conf).toContain('cluster_formation.k8s.service_name = rabbitmq-headless');
    expect(conf).toContain('cluster_formation.k8s.hostname_suffix = .rabbitmq-headless.platform.svc.cluster.local');
    expect(conf).toContain('cluster_partition_handling = pause_minority');
    expect(conf).toContain('load_definitions = /etc/rabbitmq/topology/definitions.json');
    expect(conf).toContain('vm_memory_high_watermark.absolute = 819MiB');
    expect(config.etc_rabbitmq_enabled_plugins).toBe('[rabbitmq_peer_discovery_k8s,rabbitmq_prometheus,rabbitmq_management].\n');
    // The plugin names peers rabbit@<pod><suffix>: the node must call itself exactly that.
    const env = config['etc_rabbitmq_rabbitmq-env.conf'];
    expect(env).toContain('NODENAME=rabbit@$(hostname).rabbitmq-headless.platform.svc.cluster.local\n');
    expect(env).toContain('USE_LONGNAME=true\n');
  });

  it('mirrors every queue with ha-all on 3.x, in a vhost with a durable topic exchange', () => {
    const { stack } = example();
    const definitions = JSON.parse(configOf(synthJson(stack), 'rabbitmq-live-definitions.json')['etc_rabbitmq_topology_definitions.json']);
    expect(definitions.rabbit_version).toBe('3.13.7');
    expect(definitions.vhosts.map((v: any) => v.name)).toEqual(['platform']);
    expect(definitions.policies).toEqual([{
      vhost: 'platform', name: 'ha-all', pattern: '.*', 'apply-to': 'queues', priority: 0,
      definition: { 'ha-mode': 'all', 'ha-sync-mode': 'automatic' },
    }]);
    expect(definitions.exchanges).toEqual([expect.objectContaining({ name: 'events', vhost: 'platform', type: 'topic', durable: true })]);
    expect(definitions.users).toBeUndefined();
  });

  it('lands service users added after construction: queues, bindings, bootstrap, secret keys', () => {
    const { stack, target, broker } = example();
    const orders = broker.addServiceUser({ service: 'orders', publishes: ['orders.created'] });
    const invoices = broker.addServiceUser({ service: 'invoices', consumes: ['orders.created', 'orders.*'] });
    expect(invoices.queues).toEqual(['invoices.orders.created', 'invoices.orders.any']);
    service(stack, target, 'orders', orders.env());
    service(stack, target, 'invoices', invoices.env());
    const json = synthJson(stack);
    const definitions = JSON.parse(configOf(json, 'rabbitmq-live-definitions.json')['etc_rabbitmq_topology_definitions.json']);
    expect(definitions.queues).toEqual([
      { name: 'invoices.orders.any', vhost: 'platform', durable: true, auto_delete: false, arguments: {} },
      { name: 'invoices.orders.created', vhost: 'platform', durable: true, auto_delete: false, arguments: {} },
    ]);
    expect(definitions.bindings).toEqual([
      { source: 'events', vhost: 'platform', destination: 'invoices.orders.any', destination_type: 'queue', routing_key: 'orders.*', arguments: {} },
      { source: 'events', vhost: 'platform', destination: 'invoices.orders.created', destination_type: 'queue', routing_key: 'orders.created', arguments: {} },
    ]);

    // Least privilege: publishers write the exchange, consumers read their own queues, nobody configures.
    // Topic permissions: a publisher's own routing keys only.
    const users = configOf(json, 'rabbitmq-live-users.sh')['etc_rabbitmq_topology_users.sh'];
    expect(users).toContain("ensure_user 'orders' 'platform' '^$' '^events$' '^$' 'events' '^orders\\.created$' '^$'");
    expect(users).toContain("ensure_user 'invoices' 'platform' '^$' '^$' '^(invoices\\.orders\\.created|invoices\\.orders\\.any)$' 'events' '^$' '^$'");
    expect(configOf(json)['etc_rabbitmq_bootstrap-users.sh']).toContain("PASSWORD_DIR='/etc/rabbitmq/users'");

    const passwords = findByName(json, 'kubernetes_secret_v1', 'rabbitmq-users');
    expect(Object.keys(passwords.data).sort()).toEqual(['invoices', 'orders']);
    expect(Object.values(passwords.data).every((v) => TF_REF.test(v as string))).toBe(true);
    expect(passwords.data.orders).toMatch(/^\$\{random_password\.[^}]+\.result\}$/);
    const cookie = findByName(json, 'kubernetes_secret_v1', 'rabbitmq-erlang-cookie');
    expect(cookie.data.cookie).toMatch(/^\$\{random_password\.[^}]+\.result\}$/);
    expect(cookie.lifecycle).toEqual({ prevent_destroy: true });
    const cookieLength = Object.values(resourcesOf(json, 'random_password')).map((p: any) => p.length);
    expect(cookieLength).toContain(64);
  });

  it('hands services their connection as env, the password as a secret reference', () => {
    const { stack, target, broker } = example();
    const amqp = broker.addServiceUser({ service: 'orders', publishes: ['orders.created'] });
    expect(amqp).toEqual(expect.objectContaining({
      host: 'rabbitmq.platform.svc.cluster.local', port: 5672, vhost: 'platform', username: 'orders',
      secretName: 'rabbitmq-users', passwordKey: 'orders',
    }));
    service(stack, target, 'orders', amqp.env());
    const json = synthJson(stack);
    const env = findByName(json, 'kubernetes_deployment_v1', 'orders').spec.template.spec.container[0].env;
    expect(env).toEqual([
      { name: 'AMQP_HOST', value: 'rabbitmq.platform.svc.cluster.local' },
      { name: 'AMQP_PORT', value: '5672' },
      { name: 'AMQP_VHOST', value: 'platform' },
      { name: 'AMQP_USER', value: 'orders' },
      { name: 'AMQP_EXCHANGE', value: 'events' },
      { name: 'AMQP_PASSWORD', value_from: { secret_key_ref: { name: 'rabbitmq-users', key: 'orders' } } },
    ]);
    expect(amqp.env('BROKER').map((e) => e.name)).toContain('BROKER_PASSWORD');
    expect(() => amqp.env('1x')).toThrow(/prefix "1x"/);
  });

  it('admits peers on epmd and distribution, and allowed clients on AMQP only', () => {
    const { stack, target, broker } = example();
    const amqp = broker.addServiceUser({ service: 'invoices', consumes: ['orders.created'] });
    const invoices = service(stack, target, 'invoices', amqp.env());
    service(stack, target, 'stranger', []);
    broker.allowFrom(invoices);
    const json = synthJson(stack);
    const from = (name: string) => [{ pod_selector: { match_labels: { 'app.kubernetes.io/name': name } } }];
    expect(findByName(json, 'kubernetes_network_policy_v1', 'rabbitmq').spec.ingress).toEqual([
      { ports: [{ port: '4369', protocol: 'TCP' }, { port: '25672', protocol: 'TCP' }], from: from('rabbitmq') },
      { ports: [{ port: '5672', protocol: 'TCP' }], from: from('invoices') },
      // rabbitmq_prometheus, for the metrics scraper only.
      scraperIngress(15692),
    ]);
  });

  it('records the queued messages as a datastore in the target region', () => {
    const { stack, broker } = example();
    const datastores = broker.node.findAll().filter((c) => c.node.id.startsWith('datastore-'));
    expect(datastores.map((d) => (d as any).datastoreKind)).toEqual(['rabbitmq-messages']);
    expect(() => synthJson(stack)).not.toThrow();
  });

  it('fails synthesis when a location override is outside the EEA', () => {
    const { stack } = example({ location: 'aws:us-east-1' });
    expect(() => Testing.synth(stack, true)).toThrow(/us-east-1/);
  });

  it('puts no secret value in the synthesized JSON', () => {
    const { stack, target, broker } = example();
    const amqp = broker.addServiceUser({ service: 'orders', publishes: ['orders.created'], consumes: ['invoices.paid'] });
    service(stack, target, 'orders', amqp.env());
    const json = synthJson(stack);
    expect(literalSecrets(json)).toEqual([]);
    // And the walk does look at something: the secrets' data keys are checked.
    expect(walk(json).filter(([, key]) => key === 'cookie').length).toBeGreaterThan(0);
    const text = JSON.stringify(json);
    expect(text).not.toMatch(/RABBITMQ_ERLANG_COOKIE|RABBITMQ_DEFAULT_PASS/);
  });

  it('matches the snapshot', () => {
    const { stack, target, broker } = example();
    const amqp = broker.addServiceUser({ service: 'invoices', consumes: ['orders.created'] });
    broker.allowFrom(service(stack, target, 'invoices', amqp.env()));
    expect(Testing.synth(stack, true)).toMatchSnapshot();
  });
});

describe('RabbitMqCluster on Docker', () => {
  it('runs rabbitmq-0..2 with a classic_config peer list and short node names', () => {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    const broker = new RabbitMqCluster(stack, 'messaging', { target });
    broker.addServiceUser({ service: 'orders', publishes: ['orders.created'] });
    const json = synthJson(stack);
    const containers = dockerReplicas(json).filter((c: any) => c.labels
      .some((l: any) => l.label === 'sovereign-stack.io/workload' && l.value === 'rabbitmq'));
    expect(containers.map((c: any) => c.hostname)).toEqual(['rabbitmq-0', 'rabbitmq-1', 'rabbitmq-2']);
    const c0: any = containers[0];
    expect(c0.user).toBe('100:101');
    expect(c0.read_only).toBe(true);
    expect(c0.stop_timeout).toBe(600);
    expect(c0.entrypoint[0]).toBe('sh');
    const file = (path: string) => dockerFiles(json, 'sovereign-rabbitmq-0').find((u) => u.file === path)?.content;
    const conf = file('/etc/rabbitmq/rabbitmq.conf');
    expect(conf).toContain('cluster_formation.peer_discovery_backend = classic_config');
    expect(conf).toContain('cluster_formation.classic_config.nodes.1 = rabbit@rabbitmq-0');
    expect(conf).toContain('cluster_formation.classic_config.nodes.2 = rabbit@rabbitmq-1');
    expect(conf).toContain('cluster_formation.classic_config.nodes.3 = rabbit@rabbitmq-2');
    expect(conf).not.toContain('k8s');
    expect(file('/etc/rabbitmq/enabled_plugins')).toBe('[rabbitmq_prometheus,rabbitmq_management].\n');
    expect(file('/etc/rabbitmq/rabbitmq-env.conf')).toContain('NODENAME=rabbit@$(hostname)\nUSE_LONGNAME=false\n');
    // Secrets arrive as files holding references, never literals.
    expect(file('/etc/rabbitmq/cookie/cookie')).toMatch(TF_REF);
    expect(file('/etc/rabbitmq/users/orders')).toMatch(TF_REF);
    // No Kubernetes API on Docker, so no RBAC is asked for.
    expect(broker.workload.workload.apiAccess).toEqual([]);
    expect(literalSecrets(json)).toEqual([]);
  });
});

describe('RabbitMqCluster versions and queue modes', () => {
  it('refuses classic mirroring on RabbitMQ 4.x, by default or explicitly, and offers quorum', () => {
    for (const props of [{}, { queueMode: 'classic-mirrored' as const }]) {
      const { target, stack } = kubernetes();
      const error = errorOf(() => new RabbitMqCluster(stack, 'messaging', { target, image: 'rabbitmq:4.0.5-management', ...props }));
      expect(error).toBeInstanceOf(SovereignStackError);
      expect(error.message).toContain('props.queueMode');
      expect(error.message).toMatch(/RabbitMQ 4\.0 removed classic queue mirroring/);
      expect(error.message).toContain("queueMode: 'quorum'");
      expect(stack.node.tryFindChild('messaging')).toBeUndefined();
    }
  });

  it('declares quorum queues and no ha- policy with queueMode quorum', () => {
    const { target, stack } = kubernetes();
    const broker = new RabbitMqCluster(stack, 'messaging', { target, image: 'rabbitmq:4.0.5-management', queueMode: 'quorum' });
    broker.addServiceUser({ service: 'invoices', consumes: ['orders.created'] });
    const json = synthJson(stack);
    const config = configOf(json);
    const text = configOf(json, 'rabbitmq-live-definitions.json')['etc_rabbitmq_topology_definitions.json'];
    expect(text).not.toContain('ha-');
    const definitions = JSON.parse(text);
    expect(definitions.policies).toEqual([]);
    expect(definitions.queues).toEqual([expect.objectContaining({ name: 'invoices.orders.created', arguments: { 'x-queue-type': 'quorum' } })]);
    expect(definitions.vhosts[0].metadata.default_queue_type).toBe('quorum');
    expect(config['etc_rabbitmq_rabbitmq.conf']).toContain('default_queue_type = quorum');
    // No mirrors to wait for before a drain.
    const sts = findByName(json, 'kubernetes_stateful_set_v1', 'rabbitmq');
    const preStop = sts.spec.template.spec.container[0].lifecycle.pre_stop[0].exec.command[2];
    expect(preStop).not.toContain('await_online_synchronized_mirror');
    // The Ubuntu-based image's rabbitmq user.
    expect(sts.spec.template.spec.security_context.run_as_user).toBe('999');
  });
});

describe('RabbitMqCluster props', () => {
  const { target, stack } = kubernetes();
  let n = 0;
  const attempt = (props: Partial<RabbitMqClusterProps>) => errorOf(() => new RabbitMqCluster(stack, `bad-${n++}`, { target, ...props }));

  it.each([2, 4])('rejects %i replicas, naming replicas and why', (replicas) => {
    const error = attempt({ replicas });
    expect(error).toBeInstanceOf(SovereignStackError);
    expect(error.message).toMatch(/props\.replicas: a cluster of \d nodes is refused: .*pause_minority.*use \d or \d nodes/);
  });

  it.each([
    [{ image: 'rabbitmq:latest' }, /props\.image: "rabbitmq:latest" names no version/],
    [{ image: 'rabbitmq:3.7.28' }, /props\.image: "rabbitmq:3.7.28" is RabbitMQ 3\.7\.28; must be RabbitMQ 3\.8\.0 or later/],
    [{ vhost: 'amq.platform' }, /props\.vhost: must not start with "amq\."/],
    [{ exchange: 'bad name' }, /props\.exchange: must contain only letters/],
    [{ memoryLimit: '2GB' }, /props\.memoryLimit: must be a memory quantity/],
    [{ storageGi: 0 }, /props\.storageGi: must be at least 1/],
    [{ location: '' }, /props\.location: must be a region id/],
    [{ target: undefined }, /props\.target: is required/],
  ] as Array<[Partial<RabbitMqClusterProps>, RegExp]>)('rejects %j', (props, message) => {
    expect(attempt(props).message).toMatch(message);
  });

  it('accepts a single development node', () => {
    const { target: t, stack: s } = kubernetes();
    const broker = new RabbitMqCluster(s, 'messaging', { target: t, replicas: 1 });
    expect(broker.workload.workload.shutdown.preStop).toBeUndefined();
    expect(() => synthJson(s)).not.toThrow();
  });
});

describe('RabbitMqCluster.addServiceUser', () => {
  function broker() {
    const { target, stack } = kubernetes();
    return new RabbitMqCluster(stack, 'messaging', { target });
  }

  it('refuses a service twice', () => {
    const b = broker();
    b.addServiceUser({ service: 'orders', publishes: ['orders.created'] });
    expect(() => b.addServiceUser({ service: 'orders', consumes: ['invoices.paid'] }))
      .toThrow(/service "orders" already has a user; call addServiceUser once per service/);
  });

  it.each([
    [{ service: 'Orders' }, /addServiceUser\.service: must be a DNS-1123 label/],
    [{ service: 'guest' }, /addServiceUser\.service: must not be "guest"/],
    [{ service: 'orders', publishes: ['orders.*'] }, /addServiceUser\.publishes\[0\]: must be a concrete routing key/],
    [{ service: 'orders', consumes: ['orders..created'] }, /addServiceUser\.consumes\[0\]: must be "\."-separated words/],
    [{ service: 'orders', consumes: ['a.*', 'a.any'] }, /addServiceUser\.consumes\[1\]: "a\.any" gives the queue "orders\.a\.any", as "a\.\*" does/],
  ])('rejects %j', (options, message) => {
    expect(() => broker().addServiceUser(options)).toThrow(message);
  });

  it('names queues after the service and the key', () => {
    expect(queueNameOf('invoices', 'orders.created')).toBe('invoices.orders.created');
    expect(queueNameOf('audit', '#')).toBe('audit.all');
  });
});
