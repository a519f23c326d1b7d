/**
 * Issue 13, the gateway: each test names the defect class it holds fixed. Every one of them failed
 * before the fix (nginx.conf that `nginx -t` refuses, refusals under a prop the user never wrote,
 * an upstream name clash found only at synth, a regex that takes seconds to refuse an input).
 */
import { Construct } from 'constructs';
import { DeployedWorkload, IWorkloadTarget, KubernetesTarget, NginxGateway, OSLO_REGION, renderNginxConf } from '../../lib';
import { NginxConfSpec } from '../../lib/gateway/nginx-spec';
import { newStack, synthJson } from '../support/synth';
import { userErrorOf } from '../support/errors';
import { refusedBeforePatterns } from '../fuzz/support';

const base: NginxConfSpec = {
  nginxVersion: '1.22.1',
  serverName: 'api.example.no',
  upstreams: [{ name: 'orders', servers: [{ host: '127.0.0.1', port: 8080 }] }],
  routes: [{ path: '/v1/orders', upstream: 'orders', rateLimit: 'api' }],
  rateLimits: [{ name: 'api', ratePerSecond: 10 }],
};

function deployService(scope: Construct, target: IWorkloadTarget, name: string, ports: number[]): DeployedWorkload {
  return target.deploy(new Construct(scope, name), {
    name,
    component: 'service',
    kind: 'stateless',
    image: `registry.example.no/${name}:1.0.0`,
    ports: ports.map((p, i) => ({ name: `http-${i}`, containerPort: p })),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  });
}

function gateway(targetProps: Record<string, unknown> = {}, options: Record<string, unknown> = {}) {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, ...targetProps });
  const make = () => new NginxGateway(stack, 'gateway', { target, serverName: 'api.example.no', ...options });
  return { stack, target, make };
}

describe('issue 13 class 1: versions are strict, never only coerced', () => {
  it.each(['latest-1.25.1', 'v1.27.3', '1.27.3 ', '1', '1.27.3\n'])('refuses nginxVersion %j', (nginxVersion) => {
    expect(userErrorOf(() => renderNginxConf({ ...base, nginxVersion }))).toContain('nginxConf.nginxVersion: must be an nginx version');
    const { make } = gateway({}, { nginxVersion });
    expect(userErrorOf(make)).toContain('props.nginxVersion: must be an nginx version');
  });

  it('reads the version only from the start of an image tag ("stable-alpine3.19" names none)', () => {
    const { make } = gateway({}, { image: 'nginxinc/nginx-unprivileged:stable-alpine3.19' });
    expect(userErrorOf(make)).toMatch(/props\.nginxVersion: is required because the tag of image .* names no version/);
  });
});

describe('issue 13 class 2: nothing accepted renders what nginx -t refuses', () => {
  it('a rate limit without burst renders burst=1, never burst=0 (nginx: "invalid burst value")', () => {
    const conf = renderNginxConf(base);
    expect(conf).not.toMatch(/burst=0/);
    expect(conf).toContain('limit_req zone=api burst=1;');
  });

  it.each([
    [{ rateLimits: [{ name: 'api', ratePerSecond: 10, burst: 0 }] }, 'nginxConf.rateLimits[0].burst: must be at least 1'],
    [{ rateLimits: [{ name: 'api', ratePerSecond: 10, burst: 5, delay: 0 }] }, 'nginxConf.rateLimits[0].delay: must be at least 1'],
    [{ workerConnections: 1 }, 'nginxConf.workerConnections: must be at least 16'],
    [{ upstreams: [{ name: 'orders', zoneSizeKb: 8, servers: [{ host: '127.0.0.1', port: 8080 }] }] }, 'nginxConf.upstreams[0].zoneSizeKb: must be at least 32'],
  ])('refuses %j', (patch, message) => {
    expect(userErrorOf(() => renderNginxConf({ ...base, ...patch } as NginxConfSpec))).toContain(message);
  });

  it('the gateway refuses resource requests above their limits (found by the fuzz suite)', () => {
    const { make } = gateway({}, { resources: { requests: { cpu: '2', memory: '512Mi' }, limits: { cpu: '1', memory: '256Mi' } } });
    const msg = userErrorOf(make);
    expect(msg).toContain('props.resources.requests.memory: must not exceed resources.limits.memory (256Mi)');
    expect(msg).toContain('props.resources.requests.cpu: must not exceed resources.limits.cpu (1)');
  });

  it('the gateway refuses burst 0 too', () => {
    const { make } = gateway({}, { rateLimit: { perSecond: 10, burst: 0 } });
    expect(userErrorOf(make)).toContain('props.rateLimit.burst: must be at least 1 (nginx refuses burst=0)');
  });
});

describe('issue 13 class 3: a bad value is a refusal naming the prop, never a crash', () => {
  it.each([undefined, null, 42, 'nginx', []])('renderNginxConf(%j)', (spec) => {
    expect(userErrorOf(() => renderNginxConf(spec as any))).toMatch(/invalid nginxConf/);
  });

  it.each([undefined, null, 'gateway'])('new NginxGateway(scope, id, %j) and addRoute(%j)', (props) => {
    const { stack, make } = gateway();
    expect(userErrorOf(() => new NginxGateway(stack, 'other', props as any))).toContain('NginxGateway test/other props: must be an object');
    expect(userErrorOf(() => make().addRoute(props as any))).toMatch(/NginxGateway test\/gateway route: must be an object/);
  });
});

describe('issue 13 class 4: long input is refused by length first, in milliseconds', () => {
  const long = (unit: string) => unit.repeat(Math.ceil(60000 / unit.length)) + '!';
  it.each([
    ['image', { image: long('a') }],
    ['image (path separators)', { image: long('a/') }],
    ['image (registry port)', { image: `${long('a.')}:5000/app` }],
    ['serverName', { serverName: long('a-') }],
    ['tls.secretName', { tls: { secretName: long('a-') } }],
    ['clientMaxBodySize', { clientMaxBodySize: long('1') }],
    ['nginxVersion', { nginxVersion: long('1.') }],
  ])('%s of 60,000 characters', (_prop, options) => {
    const { make } = gateway({}, options);
    expect(refusedBeforePatterns(make)).toBeLessThan(10000);
  });

  it.each([
    ['routes[0].path', { routes: [{ path: long('/a'), upstream: 'orders' }] }],
    ['upstreams[0].servers[0].host', { upstreams: [{ name: 'orders', servers: [{ host: long('a-'), port: 1 }] }] }],
    ['responseHeaders', { responseHeaders: { [long('A-')]: 'x' } }],
    ['accessLogPath', { accessLogPath: long('/a') }],
  ])('renderNginxConf %s of 60,000 characters', (_prop, patch) => {
    expect(refusedBeforePatterns(() => renderNginxConf({ ...base, ...patch } as NginxConfSpec))).toBeLessThan(10000);
  });
});

describe('issue 13 class 6: messages name the prop the user wrote', () => {
  it('a DNS server nginx cannot use is blamed on the target, not on routes[0].path', () => {
    const { stack, target, make } = gateway({ clusterDns: 'kube..dns' });
    const orders = deployService(stack, target, 'orders', [8080]);
    const msg = userErrorOf(() => make().addRoute({ path: '/v1/orders', service: orders, port: 8080 }));
    expect(msg).toContain('NginxGateway test/gateway props.target: the target\'s DNS resolver "kube..dns"');
    expect(msg).not.toMatch(/path/);
  });

  it('an upstream name that collides is refused at addRoute, naming the other service', () => {
    const { stack, target, make } = gateway();
    const orders = deployService(stack, target, 'orders', [80, 8080]);
    const orders8080 = deployService(stack, target, 'orders-8080', [80]);
    const gw = make();
    gw.addRoute({ path: '/a', service: orders8080, port: 80 });
    gw.addRoute({ path: '/b', service: orders, port: 80 });
    const msg = userErrorOf(() => gw.addRoute({ path: '/c', service: orders, port: 8080 }));
    expect(msg).toMatch(/route\.service: service "orders" port 8080 would get the nginx upstream name "orders-8080", which is already the upstream of service "orders-8080" port 80/);
    // What was accepted still synthesizes.
    expect(() => synthJson(stack)).not.toThrow();
  });

  it('a second port of a service whose suffixed name is free still works', () => {
    const { stack, target, make } = gateway();
    const orders = deployService(stack, target, 'orders', [80, 8080]);
    const gw = make();
    gw.addRoute({ path: '/b', service: orders, port: 80 });
    gw.addRoute({ path: '/c', service: orders, port: 8080 });
    expect(gw.renderConfig()).toContain('upstream orders-8080 {');
  });

  it('a duplicate route names the service it is routed to', () => {
    const { stack, target, make } = gateway();
    const orders = deployService(stack, target, 'orders', [8080]);
    const invoices = deployService(stack, target, 'invoices', [8080]);
    const gw = make();
    gw.addRoute({ path: '/v1', service: orders, port: 8080 });
    expect(userErrorOf(() => gw.addRoute({ path: '/v1', service: invoices, port: 8080 }))).toContain('already routed to "orders"');
  });
});
