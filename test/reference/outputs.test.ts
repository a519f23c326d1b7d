/**
 * What a user needs after deploy, as Terraform outputs of ReferenceDeployment: the gateway address,
 * each database's host and credentials Secret name, and the broker endpoint. Read from the
 * constructs' properties, which stand-alone users read the same way.
 */
import { TerraformStack } from 'cdktf';
import { DockerTarget, KubernetesTarget, NginxGateway, OSLO_REGION, PostgresDatabase, RabbitMqCluster, ReferenceDeployment, ServiceSpec } from '../../lib';
import { LoopbackTarget } from '../fixtures/loopback-target';
import { newStack, synthJson } from '../support/synth';

const GATEWAY = { serverName: 'api.example.no', tls: { secretName: 'api-tls' } };
const ORDERS: ServiceSpec = {
  name: 'orders', image: 'registry.example.no/orders:1.4.2', port: 8080, routes: ['/v1/orders'],
  database: {}, messaging: { publishes: ['orders.created'] },
};
const INVOICES: ServiceSpec = {
  name: 'invoices', image: 'registry.example.no/invoices:2.0.1', port: 8080, routes: ['/v1/invoices'],
  database: { existingSecret: 'invoices-db-from-vault' }, messaging: { consumes: ['orders.created'] },
};
const NOTIFICATIONS: ServiceSpec = { name: 'notifications', image: 'registry.example.no/notifications:3.1.0', port: 8080, routes: ['/v1/notifications'] };

interface Output { value: string; description?: string; sensitive?: boolean }

/**
 * The stack's outputs keyed by their logical id without cdktf's hash suffix, which is their
 * construct path below the stack (`platform_orders_database-host` for platform/orders/database-host).
 */
function outputsOf(stack: TerraformStack): Record<string, Output> {
  const json = synthJson(stack) as unknown as { output?: Record<string, Output> };
  return Object.fromEntries(Object.entries(json.output ?? {}).map(([id, o]) => [id.replace(/_[0-9A-F]{8}$/, ''), o]));
}

function kubernetesPlatform(services: ServiceSpec[]) {
  const { stack } = newStack('outputs');
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });
  const platform = new ReferenceDeployment(stack, 'platform', { target, gateway: GATEWAY, services });
  return { stack, target, platform };
}

describe('ReferenceDeployment outputs on Kubernetes', () => {
  const { stack, platform } = kubernetesPlatform([ORDERS, INVOICES, NOTIFICATIONS]);
  const outputs = outputsOf(stack);

  it('has exactly one output per fact, with logical ids from stable construct paths', () => {
    expect(Object.keys(outputs).sort()).toEqual([
      'platform_broker-endpoint',
      'platform_gateway-address',
      'platform_invoices_database-credentials-secret',
      'platform_invoices_database-host',
      'platform_orders_database-credentials-secret',
      'platform_orders_database-host',
    ]);
  });

  it('gives the load balancer address of the gateway Service, IP or host name, known after apply', () => {
    const value = outputs['platform_gateway-address'].value;
    expect(value).toMatch(/^\$\{try\(coalesce\(kubernetes_service_v1\.\S+\.status\[0\]\.load_balancer\[0\]\.ingress\[0\]\.ip, kubernetes_service_v1\.\S+\.status\[0\]\.load_balancer\[0\]\.ingress\[0\]\.hostname\), ""\)\}$/);
    // The gateway's own public Service, not another one.
    const json = synthJson(stack) as unknown as { resource: Record<string, Record<string, any>> };
    const gatewayService = Object.entries(json.resource.kubernetes_service_v1)
      .find(([, s]) => s.metadata.name === 'gateway' && s.spec.type === 'LoadBalancer')!;
    expect(value).toContain(`kubernetes_service_v1.${gatewayService[0]}.status`);
    expect(outputs['platform_gateway-address'].description).toContain('api.example.no');
  });

  it('gives each database its Service host and credentials Secret name (generated or existing)', () => {
    expect(outputs['platform_orders_database-host'].value).toBe('orders-db.platform.svc.cluster.local');
    expect(outputs['platform_orders_database-credentials-secret'].value).toBe('orders-db-credentials');
    expect(outputs['platform_invoices_database-host'].value).toBe('invoices-db.platform.svc.cluster.local');
    expect(outputs['platform_invoices_database-credentials-secret'].value).toBe('invoices-db-from-vault');
  });

  it('gives the broker endpoint as host:port', () => {
    expect(outputs['platform_broker-endpoint'].value).toBe('rabbitmq.platform.svc.cluster.local:5672');
  });

  it('matches the construct properties a stand-alone user reads', () => {
    const orders = platform.service('orders').database!;
    expect(outputs['platform_orders_database-host'].value).toBe(orders.host);
    expect(orders.host).toBe(orders.connection.host);
    expect(outputs['platform_orders_database-credentials-secret'].value).toBe(orders.credentialsSecretName);
    expect(orders.credentialsSecretName).toBe(orders.connection.secretName);
    const broker = platform.broker!;
    expect(broker.endpoint).toEqual({ host: 'rabbitmq.platform.svc.cluster.local', port: 5672 });
    expect(platform.service('orders').messaging!.host).toBe(broker.endpoint.host);
  });

  it('marks nothing sensitive and holds no secret value: names and addresses only', () => {
    for (const output of Object.values(outputs)) {
      expect(output.sensitive).toBeUndefined();
      expect(JSON.stringify(output.value)).not.toMatch(/random_password|\.result/);
    }
  });
});

describe('ReferenceDeployment outputs as the platform grows', () => {
  it('adds the outputs of a service added later, and the broker output once messaging is used', () => {
    const { stack, platform } = kubernetesPlatform([NOTIFICATIONS]);
    expect(Object.keys(outputsOf(stack))).toEqual(['platform_gateway-address']);
    platform.addService(ORDERS);
    expect(Object.keys(outputsOf(stack)).sort()).toEqual([
      'platform_broker-endpoint', 'platform_gateway-address',
      'platform_orders_database-credentials-secret', 'platform_orders_database-host',
    ]);
  });

  it('keeps the logical ids of the existing outputs when a service is added', () => {
    const ids = (stack: TerraformStack) => Object.keys((synthJson(stack) as unknown as { output: object }).output).sort();
    const before = kubernetesPlatform([ORDERS]);
    const after = kubernetesPlatform([ORDERS]);
    after.platform.addService(INVOICES);
    const kept = ids(before.stack);
    expect(ids(after.stack)).toEqual(expect.arrayContaining(kept));
    expect(ids(after.stack).length).toBe(kept.length + 2);
  });
});

describe('ReferenceDeployment outputs on Docker', () => {
  it('gives the address the gateway is published on, and container host names', () => {
    const { stack } = newStack('outputs-docker');
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    new ReferenceDeployment(stack, 'platform', { target, gateway: { serverName: 'localhost', replicas: 1 }, services: [ORDERS] });
    const outputs = outputsOf(stack);
    expect(outputs['platform_gateway-address'].value).toMatch(/^\$\{docker_container\.\S+\.ports\[0\]\.ip\}$/);
    expect(outputs['platform_orders_database-host'].value).toBe('orders-db');
    expect(outputs['platform_orders_database-credentials-secret'].value).toBe('orders-db-credentials');
    expect(outputs['platform_broker-endpoint'].value).toBe('rabbitmq:5672');
  });
});

describe('component properties behind the outputs', () => {
  it('PostgresDatabase.host and credentialsSecretName, RabbitMqCluster.endpoint, stand-alone', () => {
    const { stack } = newStack('properties');
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'data' });
    const db = new PostgresDatabase(stack, 'reports-db', { target, serviceName: 'reports' });
    expect(db.host).toBe('reports-db.data.svc.cluster.local');
    expect(db.credentialsSecretName).toBe('reports-db-credentials');
    const broker = new RabbitMqCluster(stack, 'broker', { target, name: 'events' });
    expect(broker.endpoint).toEqual({ host: 'events.data.svc.cluster.local', port: 5672 });
  });

  it('NginxGateway.address falls back to the workload host on a target of another kind', () => {
    const { stack } = newStack('loopback');
    const target = new LoopbackTarget(stack, 'loopback', { gateway: 18080 });
    const gateway = new NginxGateway(stack, 'gateway', { target, serverName: 'localhost', replicas: 1 });
    expect(gateway.address).toBe('127.0.0.1');
  });
});
