/**
 * Issue 13, the constructs and targets: each test names the defect class it holds fixed. Every one
 * of them failed before the fix (TypeErrors for missing props, "not iterable", refusals under a
 * prop the user never wrote, a Docker memory limit of 0 = unlimited, seconds to refuse an image).
 */
import { Testing } from 'cdktf';
import {
  DockerTarget, KubernetesTarget, MicroService, OSLO_REGION, ReferenceDeployment, ServiceSpec,
} from '../../lib';
import { newStack, resourcesOf, synthJson } from '../support/synth';
import { userErrorOf } from '../support/errors';
import { refusedBeforePatterns } from '../fuzz/support';

const GATEWAY = { serverName: 'api.example.no' };
const service = (name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec => ({
  name, image: `registry.example.no/${name}:1.0.0`, port: 8080, ...extra,
});

function kubernetes() {
  const { stack } = newStack();
  return { stack, target: new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION }) };
}

describe('issue 13 class 2: Docker never gets memory 0 (= unlimited)', () => {
  it.each(['0Mi', '1023Ki', '5Mi'])('refuses a service memory limit of %s', (memoryLimit) => {
    const { stack, target } = kubernetes();
    const msg = userErrorOf(() => new MicroService(stack, 'svc', { target, ...service('orders'), resources: { memoryLimit } }));
    expect(msg).toContain('MicroService test/svc props.resources.memoryLimit: must be at least 6Mi');
  });

  it('the smallest accepted limit is a limit on Docker', () => {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    new MicroService(stack, 'svc', { target, ...service('orders'), resources: { memory: '6Mi', memoryLimit: '6Mi' } });
    const containers = Object.values(resourcesOf(synthJson(stack), 'docker_container')) as any[];
    expect(containers.length).toBeGreaterThan(0);
    for (const c of containers.filter((c) => c.start !== false)) expect(c.memory).toBe(6);
  });
});

describe('issue 13 class 2, found by the fuzz suite: what the Kubernetes API or the workload model would refuse later', () => {
  it('a memory request above the limit is refused where it was written', () => {
    const { stack, target } = kubernetes();
    const msg = userErrorOf(() => new MicroService(stack, 'svc', { target, ...service('orders'), resources: { memoryLimit: '128Mi' } }));
    expect(msg).toContain('MicroService test/svc props.resources.memory: must not exceed resources.memoryLimit (256Mi > 128Mi)');
  });

  it('a grace period that, with the preStop pause, passes an hour is refused before anything is created (not as workload.shutdown)', () => {
    const { stack, target } = kubernetes();
    const msg = userErrorOf(() => new MicroService(stack, 'svc', { target, ...service('orders'), gracePeriodSeconds: 3590, preStopDelaySeconds: 30 }));
    expect(msg).toContain('MicroService test/svc props.gracePeriodSeconds: plus preStopDelaySeconds (3590 + 30) must be at most 3600');
    expect(msg).not.toContain('shutdown');
    expect(stack.node.tryFindChild('svc')).toBeUndefined();
    const platform = userErrorOf(() => new ReferenceDeployment(stack, 'platform', {
      target, gateway: GATEWAY, services: [service('orders', { gracePeriodSeconds: 3590, preStopDelaySeconds: 30 })],
    }));
    expect(platform).toContain('props.services[0].gracePeriodSeconds: plus preStopDelaySeconds');
  });
});

describe('issue 13 class 3: missing or mistyped props are refusals naming the prop, never TypeErrors', () => {
  it.each([undefined, null, 'oslo', 42, []])('new KubernetesTarget(scope, id, %j)', (props) => {
    const { stack } = newStack();
    expect(userErrorOf(() => new KubernetesTarget(stack, 'c', props as any))).toContain('KubernetesTarget c props: must be an object such as { region: OSLO_REGION }');
  });

  it.each([undefined, null, 'oslo'])('new DockerTarget(scope, id, %j)', (props) => {
    const { stack } = newStack();
    expect(userErrorOf(() => new DockerTarget(stack, 'c', props as any))).toContain('DockerTarget c props: must be an object such as { location: OSLO_REGION }');
  });

  it.each([undefined, null, 'svc'])('new MicroService(scope, id, %j)', (props) => {
    const { stack } = newStack();
    expect(userErrorOf(() => new MicroService(stack, 'c', props as any))).toContain('MicroService test/c props: must be an object');
  });

  it.each([undefined, null, 'platform'])('new ReferenceDeployment(scope, id, %j)', (props) => {
    const { stack } = newStack();
    expect(userErrorOf(() => new ReferenceDeployment(stack, 'c', props as any))).toContain('ReferenceDeployment test/c props: must be an object');
  });

  it('a ReferenceDeployment without a target names target', () => {
    const { stack } = newStack();
    expect(userErrorOf(() => new ReferenceDeployment(stack, 'c', { gateway: GATEWAY } as any))).toContain('ReferenceDeployment test/c props.target: is required');
  });

  it.each([null, undefined, 'orders', 42])('addService(%j)', (spec) => {
    const { stack, target } = kubernetes();
    const platform = new ReferenceDeployment(stack, 'platform', { target, gateway: GATEWAY });
    expect(userErrorOf(() => platform.addService(spec as any))).toContain('ReferenceDeployment test/platform addService: must be an object');
  });

  it.each([
    [{}, 'props.connectionEnv: must be an array (got object)'],
    ['DATABASE_URL', 'props.connectionEnv: must be an array (got string)'],
    [[{ name: 'X' }], 'props.connectionEnv[0]: matches none of the accepted forms'],
    [[{ name: 'A', value: 'x' }, { name: 'A', value: 'y' }], 'props.connectionEnv[1].name: "A" is set twice'],
  ])('connectionEnv: %j', (connectionEnv, message) => {
    const { stack, target } = kubernetes();
    const msg = userErrorOf(() => new MicroService(stack, 'svc', { target, ...service('orders'), connectionEnv: connectionEnv as any }));
    expect(msg).toContain(message);
    expect(msg).not.toMatch(/Invalid input|not iterable/);
  });
});

describe('issue 13 class 4: a 60,000-character image is refused in milliseconds', () => {
  it.each(['a', 'a-', 'a.', 'a/', 'a__'])('made of %j', (unit) => {
    const { stack, target } = kubernetes();
    const image = unit.repeat(Math.ceil(60000 / unit.length)) + '!';
    expect(refusedBeforePatterns(() => new MicroService(stack, 'svc', { target, name: 'orders', image, port: 8080 }))).toBeLessThan(10000);
  });

  it.each([
    'registry.example.no/team/app:1.2.3', 'localhost:5000/app', 'nginx', 'a__b/c-d/e.f:tag_1.2-x',
    `app@sha256:${'a'.repeat(64)}`, `registry.example.no:443/app:1.0@sha256:${'0'.repeat(64)}`,
  ])('still accepts %s', (image) => {
    const { stack, target } = kubernetes();
    expect(() => new MicroService(stack, 'svc', { target, name: 'orders', image, port: 8080 })).not.toThrow();
  });

  it.each(['-app', 'app-', 'a..b', 'Registry/app', 'app:', 'app:-1', 'a//b', `app@sha256:${'a'.repeat(63)}`])('still refuses %s', (image) => {
    const { stack, target } = kubernetes();
    expect(userErrorOf(() => new MicroService(stack, 'svc', { target, name: 'orders', image, port: 8080 }))).toContain('props.image');
  });
});

describe('issue 13 class 6: messages name the prop the user wrote', () => {
  it('a bad service name is blamed on services[i].name, not on database.serviceName', () => {
    const { stack, target } = kubernetes();
    const msg = userErrorOf(() => new ReferenceDeployment(stack, 'platform', {
      target, gateway: GATEWAY, services: [service('x'.repeat(38) as string, { database: {} })],
    }));
    expect(msg).toContain('props.services[0].name');
    expect(msg).not.toContain('serviceName');
  });

  it('a bad gateway or database prop gives a message, not "Invalid input"', () => {
    const { stack, target } = kubernetes();
    const msg = userErrorOf(() => new ReferenceDeployment(stack, 'platform', {
      target, gateway: { serverName: 42 } as any, services: [service('orders', { database: { storageGi: 'big' } as any })],
    }));
    expect(msg).toContain('props.gateway.serverName: must be a string (got number)');
    expect(msg).toContain('props.services[0].database.storageGi: must be a number (got string)');
    expect(msg).not.toMatch(/Invalid input/);
  });

  it('a path routed by two services names the service that has it', () => {
    const { stack, target } = kubernetes();
    const msg = userErrorOf(() => new ReferenceDeployment(stack, 'platform', {
      target, gateway: GATEWAY, services: [service('orders', { routes: ['/v1'] }), service('invoices', { routes: ['/v1'] })],
    }));
    expect(msg).toContain('props.services[1].routes[0]: "/v1" is already routed to service "orders"');
  });

  it('addService names the service a clashing route already goes to, and creates nothing', () => {
    const { stack, target } = kubernetes();
    const platform = new ReferenceDeployment(stack, 'platform', { target, gateway: GATEWAY, services: [service('orders', { routes: ['/v1'] })] });
    const before = platform.node.children.length;
    const msg = userErrorOf(() => platform.addService(service('invoices', { routes: ['/v1'], database: {} })));
    expect(msg).toContain('addService "invoices".routes: "/v1" is already routed to service "orders"');
    expect(platform.node.children.length).toBe(before);
  });

  it('workload names that collide are refused before anything is created, under the prop that names them', () => {
    const { stack, target } = kubernetes();
    expect(userErrorOf(() => new ReferenceDeployment(stack, 'a', {
      target, gateway: GATEWAY, services: [service('orders', { database: {} }), service('orders-db')],
    }))).toContain('props.services[1].name: "orders-db" is already the workload name of the database of service "orders"');
    expect(userErrorOf(() => new ReferenceDeployment(stack, 'b', {
      target, gateway: GATEWAY, services: [service('gateway')],
    }))).toContain('props.services[0].name: "gateway" is already the workload name of the gateway');
    expect(userErrorOf(() => new ReferenceDeployment(stack, 'c', {
      target, gateway: GATEWAY, services: [service('orders', { env: { DATABASE_HOST: 'x' }, database: {} })],
    }))).toContain('props.services[0].env.DATABASE_HOST: is set by the service\'s database connection');
  });

  it('what is accepted synthesizes without a "Resolution error"', () => {
    const { stack, target } = kubernetes();
    new ReferenceDeployment(stack, 'platform', {
      target, gateway: GATEWAY,
      services: [service('orders', { routes: ['/v1/orders'], database: {}, messaging: { publishes: ['orders.created'] } })],
    });
    expect(() => Testing.synth(stack, true)).not.toThrow();
  });
});
