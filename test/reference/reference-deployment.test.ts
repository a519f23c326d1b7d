import * as os from 'os';
import { App, TerraformStack, Testing } from 'cdktf';
import { KubernetesTarget, OSLO_REGION, ReferenceDeployment, ResidencyGuard, ServiceSpec } from '../../lib';
import { userErrorOf } from '../support/errors';
import { allowedEdges, allowedEgress } from '../support/network-edges';
import { findByName, newStack, resourcesOf, synthJson } from '../support/synth';
import { EXAMPLE_SERVICES } from '../../stacks/platform-services';

const GATEWAY = { serverName: 'api.example.no', tls: { secretName: 'api-tls' }, rateLimit: { perSecond: 10, burst: 20 } };

function platform(services: ServiceSpec[] = EXAMPLE_SERVICES, app: App = newStack().app) {
  const stack = new TerraformStack(app, `platform-${app.node.children.length}`);
  ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  const deployment = new ReferenceDeployment(stack, 'platform', { target, gateway: GATEWAY, services, messaging: { replicas: 3 } });
  return { stack, deployment };
}

describe('ReferenceDeployment wiring', () => {
  const { stack } = platform();
  const json = synthJson(stack);

  it('admits exactly the platform edges and nothing else', () => {
    const expected = [
      'public -> gateway:8080', 'public -> gateway:8443',
      'gateway -> orders:8080', 'gateway -> invoices:8080', 'gateway -> notifications:8080',
      'orders -> orders-db:5432', 'invoices -> invoices-db:5432',
      'orders -> rabbitmq:5672', 'invoices -> rabbitmq:5672', 'notifications -> rabbitmq:5672',
      'rabbitmq -> rabbitmq:4369', 'rabbitmq -> rabbitmq:25672',
      // The metrics scraper (kube-prometheus's Prometheus, another namespace), on the metrics ports only.
      'monitoring/prometheus -> gateway:9113', 'monitoring/prometheus -> orders-db:9187',
      'monitoring/prometheus -> invoices-db:9187', 'monitoring/prometheus -> rabbitmq:15692',
    ].sort();
    expect(allowedEdges(json)).toEqual(expected);
    // Spelled out, the pairs that matter most for a breach:
    const edges = allowedEdges(json);
    for (const forbidden of [
      'orders -> invoices-db:5432', 'invoices -> orders-db:5432', 'gateway -> orders-db:5432',
      'notifications -> orders-db:5432', 'public -> orders:8080', 'public -> rabbitmq:5672',
      'gateway -> rabbitmq:5672', 'orders -> invoices:8080',
      // The scraper never reaches the data ports, nor nginx's stub_status.
      'monitoring/prometheus -> orders-db:5432', 'monitoring/prometheus -> rabbitmq:5672', 'monitoring/prometheus -> gateway:8081',
    ]) expect(edges).not.toContain(forbidden);
    const defaultDeny = findByName(json, 'kubernetes_network_policy_v1', 'default-deny');
    expect(defaultDeny.spec).toEqual({ pod_selector: {}, policy_types: ['Ingress', 'Egress'] });
  });

  it('denies egress too, and lets each workload open exactly its edges, DNS and (the broker) the API server', () => {
    const workloads = ['gateway', 'orders', 'invoices', 'notifications', 'orders-db', 'invoices-db', 'rabbitmq'];
    const dns = workloads.flatMap((w) => [`${w} -> dns:53/TCP`, `${w} -> dns:53/UDP`]);
    expect(allowedEgress(json)).toEqual([
      ...dns,
      'gateway -> orders:8080', 'gateway -> invoices:8080', 'gateway -> notifications:8080',
      'orders -> orders-db:5432', 'invoices -> invoices-db:5432',
      'orders -> rabbitmq:5672', 'invoices -> rabbitmq:5672', 'notifications -> rabbitmq:5672',
      'rabbitmq -> rabbitmq:4369', 'rabbitmq -> rabbitmq:25672',
      'rabbitmq -> 0.0.0.0/0:443', 'rabbitmq -> 0.0.0.0/0:6443',
    ].sort());
    // Every ingress edge between workloads has its egress twin at the client (the scraper's egress is
    // its own namespace's business).
    const ingressBetweenWorkloads = allowedEdges(json).filter((e) => !e.startsWith('public') && !e.startsWith('monitoring/'));
    expect(allowedEgress(json)).toEqual(expect.arrayContaining(ingressBetweenWorkloads));
    for (const policy of Object.values(resourcesOf(json, 'kubernetes_network_policy_v1'))) {
      expect(policy.spec.policy_types).toEqual(['Ingress', 'Egress']);
    }
  });

  it('routes every path to the upstream of the right service', () => {
    const conf: string = findByName(json, 'kubernetes_config_map_v1', 'gateway-config').data['etc_nginx_nginx.conf'];
    for (const s of EXAMPLE_SERVICES) {
      // The path itself and its sub-paths, both to the same upstream.
      const path = s.routes![0].replace(/\/+$/, '');
      const location = new RegExp(`location = ${path} \\{[^}]*proxy_pass http://([a-z0-9_-]+);`, 's').exec(conf);
      expect(location).not.toBeNull();
      expect(new RegExp(`location ${path}/ \\{[^}]*proxy_pass http://([a-z0-9_-]+);`, 's').exec(conf)?.[1]).toBe(location![1]);
      const upstream = new RegExp(`upstream ${location![1]} \\{([^}]*)\\}`, 's').exec(conf);
      expect(upstream![1]).toContain(`server ${s.name}-headless.platform.svc.cluster.local:8080 resolve max_fails=3`);
      expect(upstream![1]).toContain('keepalive');
    }
    expect(conf).toContain('limit_req_zone $binary_remote_addr');
    expect(conf).toContain('limit_req_status 429;');
  });

  it("gives each service its own database and broker credentials, by reference only", () => {
    for (const s of EXAMPLE_SERVICES) {
      const env: any[] = findByName(json, 'kubernetes_deployment_v1', s.name).spec.template.spec.container[0].env;
      const byName = Object.fromEntries(env.map((e) => [e.name, e]));
      const secretsRead = env.filter((e) => e.value_from).map((e) => e.value_from.secret_key_ref.name);
      if (s.database) {
        expect(byName.DATABASE_HOST.value).toBe(`${s.name}-db.platform.svc.cluster.local`);
        expect(byName.DATABASE_PASSWORD.value_from.secret_key_ref).toEqual({ name: `${s.name}-db-credentials`, key: 'password' });
      } else {
        expect(byName.DATABASE_HOST).toBeUndefined();
      }
      expect(byName.AMQP_PASSWORD.value_from.secret_key_ref).toEqual({ name: 'rabbitmq-users', key: s.name });
      // Only its own database secret and the broker's user secret (its own key).
      expect([...new Set(secretsRead)].sort()).toEqual([...(s.database ? [`${s.name}-db-credentials`] : []), 'rabbitmq-users'].sort());
      expect(env.filter((e) => /PASSWORD/.test(e.name)).every((e) => e.value === undefined)).toBe(true);
    }
  });

  it('creates one PostgreSQL per service that asks for one, and a 3-node broker with ha-all', () => {
    const statefulSets = Object.values(resourcesOf(json, 'kubernetes_stateful_set_v1')).map((s: any) => s.metadata.name).sort();
    expect(statefulSets).toEqual(['invoices-db', 'orders-db', 'rabbitmq']);
    expect(findByName(json, 'kubernetes_stateful_set_v1', 'rabbitmq').spec.replicas).toBe('3');
    const definitions = JSON.parse(findByName(json, 'kubernetes_config_map_v1', 'rabbitmq-live-definitions.json').data['etc_rabbitmq_topology_definitions.json']);
    expect(definitions.policies).toContainEqual(expect.objectContaining({ name: 'ha-all', pattern: '.*', definition: { 'ha-mode': 'all', 'ha-sync-mode': 'automatic' } }));
    expect(definitions.queues.map((q: any) => q.name).sort()).toEqual(['invoices.orders.created', 'notifications.invoices.issued', 'notifications.orders.created']);
  });

  it('adding or changing one service leaves the other services\' logical ids and resources untouched', () => {
    const [orders, invoices, notifications] = EXAMPLE_SERVICES;
    const before = synthJson(platform([orders, invoices]).stack);
    const after = synthJson(platform([orders, { ...invoices, image: 'registry.example.no/invoices:2.1.0', replicas: 3 }, notifications]).stack);
    const ordersResources = (j: any) => Object.fromEntries(Object.entries(j.resource as Record<string, Record<string, unknown>>)
      .flatMap(([type, byId]) => Object.entries(byId).filter(([id]) => id.startsWith('platform_orders_')).map(([id, r]) => [`${type}.${id}`, r])));
    const a = ordersResources(before);
    expect(Object.keys(a).length).toBeGreaterThan(8);
    expect(ordersResources(after)).toEqual(a);
  });

  it('rejects bad services with the prop path', () => {
    expect(() => platform([{ ...EXAMPLE_SERVICES[0], database: { storageGi: 0 } }]))
      .toThrow(/services\[0\]\.database\.storageGi/);
    expect(() => platform([EXAMPLE_SERVICES[0], EXAMPLE_SERVICES[0]])).toThrow(/services\[1\]\.name: duplicate service name "orders"/);
    expect(() => platform([{ ...EXAMPLE_SERVICES[0], routes: ['/v1/$orders'] }])).toThrow(/services\[0\]\.routes\[0\]/);
  });

  it('synthesizes the snapshot-stable way (no path of this machine)', () => {
    const out = Testing.synth(stack);
    for (const local of [process.cwd(), os.homedir(), process.env.TMPDIR!]) expect(out).not.toContain(local);
  });
});

describe('ReferenceDeployment.addService is atomic', () => {
  const audit: ServiceSpec = {
    name: 'audit', image: 'registry.example.no/audit:1.0.0', port: 8080, database: {}, messaging: { publishes: ['audit.logged'] },
  };

  it('refuses a service the gateway would refuse before creating anything, and takes it once fixed', () => {
    const { stack, deployment } = platform([EXAMPLE_SERVICES[0]]);
    const before = stack.node.findAll().length;
    for (const routes of [['/healthz'], ['/v1/orders'], ['/v1/ok', '/healthz/']]) {
      expect(userErrorOf(() => deployment.addService({ ...audit, routes })))
        .toMatch(/^invalid ReferenceDeployment platform-\d+\/platform addService "audit":\n {2}- .*\.routes: "\/(healthz|v1\/orders)\/?" (is the gateway's health endpoint|is already routed to service "orders")/);
      // Nothing of it was made: no construct, no broker user, no workload.
      expect(stack.node.findAll().length).toBe(before);
      expect(deployment.serviceNames).toEqual(['orders']);
    }
    expect(userErrorOf(() => deployment.addService({ name: '9audit', image: audit.image, port: 8080, routes: ['/v1/audit'] })))
      .toMatch(/"\/v1\/audit" cannot be routed to "9audit": an nginx upstream name must start with a letter/);
    expect(stack.node.findAll().length).toBe(before);

    const added = deployment.addService({ ...audit, routes: ['/v1/audit'] });
    expect(added.database).toBeDefined();
    expect(deployment.serviceNames).toEqual(['orders', 'audit']);
    expect(deployment.gateway.routeOf('/v1/audit')?.service).toBe(added.service.workload);
  });
});
