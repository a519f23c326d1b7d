/**
 * addRoute validates what a route adds to nginx.conf: the whole spec with the first route, then
 * only the new upstream (the address the target gives) for each later one. A bad address is
 * refused the same way whether it comes first or later.
 */
import { Construct } from 'constructs';
import { DeployedWorkload, KubernetesTarget, NginxGateway, NginxGatewayOptions, OSLO_REGION } from '../../lib';
import { newStack } from '../support/synth';
import { userErrorOf } from '../support/errors';

function setup(names: string[], options: Partial<NginxGatewayOptions> = {}) {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });
  const services = names.map((name) => target.deploy(new Construct(stack, name), {
    name, component: 'service', kind: 'stateless', image: `registry.example.no/${name}:1.0.0`,
    ports: [{ name: 'http', containerPort: 8080 }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  }));
  const gateway = new NginxGateway(stack, 'gateway', { target, serverName: 'api.example.no', ...options });
  return { gateway, services };
}

/** A service whose target hands out an address nginx cannot use (a custom target's bug). */
function withBadAddress(service: DeployedWorkload): DeployedWorkload {
  const bad = { host: 'pods of bad', port: 8080 };
  Object.assign(service, { podsEndpoint: () => bad, endpoint: () => bad });
  return service;
}

const REFUSAL = /route\.service: nginx cannot reach service "(\w+)" at the address its target gives \(nginxConf\.upstreams\[0\]\.servers\[0\]\.host: must be a DNS name/;

describe('NginxGateway.addRoute validates what each route adds', () => {
  it('refuses a bad upstream address on the first route (whole spec validated)', () => {
    const { gateway, services: [orders] } = setup(['orders']);
    expect(userErrorOf(() => gateway.addRoute({ path: '/v1/orders', service: withBadAddress(orders), port: 8080 }))).toMatch(REFUSAL);
    expect(gateway.routes).toHaveLength(0);
  });

  it('refuses it the same way on a later route (only the new upstream validated), and adds nothing', () => {
    const { gateway, services: [orders, invoices] } = setup(['orders', 'invoices']);
    gateway.addRoute({ path: '/v1/orders', service: orders, port: 8080 });
    const message = userErrorOf(() => gateway.addRoute({ path: '/v1/invoices', service: withBadAddress(invoices), port: 8080 }));
    expect(message).toMatch(REFUSAL);
    expect(message).toContain('"invoices"');
    expect(gateway.routes.map((r) => r.path)).toEqual(['/v1/orders']);
    expect(gateway.renderConfig()).not.toContain('invoices');
  });

  it('a second path to a known upstream adds no upstream, and renders as one', () => {
    const { gateway, services: [orders] } = setup(['orders']);
    gateway.addRoute({ path: '/v1/orders', service: orders, port: 8080 });
    gateway.addRoute({ path: '/v2/orders', service: orders, port: 8080, rateLimit: { perMinute: 60 } });
    const conf = gateway.renderConfig();
    expect(conf.match(/^\s*upstream orders \{$/gm)).toHaveLength(1);
    expect(conf).toContain('limit_req_zone $binary_remote_addr zone=route-v2-orders:10m rate=60r/m;');
  });

  it('a later route whose own rate-limit zone does not fit the memory limit is refused when added', () => {
    // 24Mi holds nginx, one worker and an upstream zone, but not a 10 MiB rate-limit zone as well.
    const resources = { requests: { cpu: '100m', memory: '16Mi' }, limits: { memory: '24Mi' } };
    const { gateway, services: [orders, invoices] } = setup(['orders', 'invoices'], { resources });
    gateway.addRoute({ path: '/v1/orders', service: orders, port: 8080 });
    expect(userErrorOf(() => gateway.addRoute({ path: '/v1/invoices', service: invoices, port: 8080, rateLimit: { perSecond: 5 } })))
      .toMatch(/resources\.limits\.memory 24Mi is too small for 1 nginx worker\(s\)/);
    expect(gateway.routes).toHaveLength(1);
  });
});
