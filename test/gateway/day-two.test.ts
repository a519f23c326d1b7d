/**
 * Day-two operations of the gateway (issue 16, items 3, 5, 6 and 7): real client addresses,
 * certificate renewal, workers sized from the CPU request, current default images. The same
 * behaviour on the real nginx: test/integration/nginx-day-two.test.ts.
 */
import { Construct } from 'constructs';
import { DeployedWorkload, KubernetesTarget, OSLO_REGION } from '../../lib';
import { DEFAULT_NGINX_IMAGE, NginxGateway, NginxGatewayOptions } from '../../lib/gateway/nginx-gateway';
import { renderNginxCommand } from '../../lib/gateway/render-nginx-command';
import { renderNginxConf } from '../../lib/gateway/render-nginx-conf';
import { CONNECTION_KI, NGINX_BASE_MI, gatewayWorkerBudget } from '../../lib/gateway/worker-budget';
import { DEFAULT_POSTGRES_IMAGE } from '../../lib/postgres/postgres-database';
import { findByName, newStack, synthJson } from '../support/synth';
import { userErrorOf } from '../support/errors';

function gatewayOn(options: Partial<NginxGatewayOptions> = {}, services = 1) {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });
  const deployed: DeployedWorkload[] = Array.from({ length: services }, (_, i) => target.deploy(new Construct(stack, `svc${i}`), {
    name: `svc${i}`, component: 'service', kind: 'stateless', image: 'registry.example.no/svc:1.0.0',
    ports: [{ name: 'http', containerPort: 8080 }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  }));
  const gateway = new NginxGateway(stack, 'gateway', {
    target, serverName: 'api.example.no', ...options,
    routes: deployed.map((service, i) => ({ path: `/v1/s${i}`, service, port: 8080 })),
  });
  return { stack, gateway };
}

const container = (stack: ReturnType<typeof newStack>['stack']) =>
  findByName(synthJson(stack), 'kubernetes_deployment_v1', 'gateway').spec.template.spec.container[0];

const base = {
  nginxVersion: '1.28.3',
  serverName: 'api.example.no',
  upstreams: [{ name: 'api', servers: [{ host: '10.0.0.1', port: 8080 }] }],
  routes: [{ path: '/v1', upstream: 'api' }],
};

describe('item 7: default images', () => {
  it('nginx on the 1.28 stable line (upstream resolve), PostgreSQL on the latest 17.x', () => {
    expect(DEFAULT_NGINX_IMAGE).toBe('nginxinc/nginx-unprivileged:1.28.3-alpine');
    expect(DEFAULT_POSTGRES_IMAGE).toBe('postgres:17.12');
    const { gateway } = gatewayOn();
    expect(gateway.nginxVersion).toBe('1.28.3');
    // 1.28 re-resolves each service's pods.
    expect(gateway.renderConfig()).toMatch(/server svc0-headless\.platform\.svc\.cluster\.local:8080 resolve/);
  });

  it('a digest after the tag pins the image; the version still comes from the tag', () => {
    const pinned = `nginxinc/nginx-unprivileged:1.28.3-alpine@sha256:${'a1'.repeat(32)}`;
    const { stack, gateway } = gatewayOn({ image: pinned });
    expect(gateway.nginxVersion).toBe('1.28.3');
    expect(container(stack).image).toBe(pinned);
  });

  it.each([
    ['a short digest', `nginxinc/nginx-unprivileged:1.28.3-alpine@sha256:${'a'.repeat(12)}`],
    ['upper-case hex', `nginxinc/nginx-unprivileged:1.28.3-alpine@sha256:${'A'.repeat(64)}`],
    ['another algorithm', `nginxinc/nginx-unprivileged:1.28.3-alpine@md5:${'a'.repeat(32)}`],
  ])('refuses %s, naming the prop', (_what, image) => {
    expect(userErrorOf(() => gatewayOn({ image }))).toMatch(/image: .*"@sha256:" followed by 64 lower-case hex digits/);
  });

  it('a digest without a tag needs nginxVersion', () => {
    const image = `nginxinc/nginx-unprivileged@sha256:${'b'.repeat(64)}`;
    expect(userErrorOf(() => gatewayOn({ image }))).toMatch(/nginxVersion: is required because the tag of image/);
    expect(gatewayOn({ image, nginxVersion: '1.28.3' }).gateway.nginxVersion).toBe('1.28.3');
  });
});

describe('item 6: workers sized from the CPU request and the memory limit', () => {
  const budget = (o: Partial<Parameters<typeof gatewayWorkerBudget>[0]>) => gatewayWorkerBudget({
    cpuRequest: '100m', memoryLimit: '256Mi', maxWorkerConnections: 1024, sharedZonesMi: 10, tls: true, upstreamKeepalive: 32, upstreams: 2, ...o,
  });

  it.each([
    ['100m', undefined, 1], ['1', undefined, 1], ['1500m', undefined, 2], ['2', undefined, 2], ['2.5', undefined, 3],
    ['4', '2', 2], ['250m', '500m', 1], ['200', undefined, 64],
  ])('cpu request %s (limit %s) -> %i worker(s), never "auto"', (cpuRequest, cpuLimit, workers) => {
    expect(budget({ cpuRequest, cpuLimit, memoryLimit: '8Gi' }).workerProcesses).toBe(workers);
  });

  it('connections per worker: what the memory limit holds over twice the workers (reloads), at most 1024', () => {
    expect(budget({})).toEqual({ workerProcesses: 1, workerConnections: 1024, upstreamKeepalive: 32 });
    // 4 workers in 256Mi with TLS and one zone: (256 - 16 - 20) / 8 MiB at 32 KiB a slot.
    const four = budget({ cpuRequest: '4' });
    expect(four.workerConnections).toBe(Math.floor(((256 - NGINX_BASE_MI - 20) / 8) * 1024 / CONNECTION_KI));
    expect(four.workerConnections).toBe(880);
    expect(budget({ cpuRequest: '4', memoryLimit: '1Gi' }).workerConnections).toBe(1024);
  });

  it('idle upstream keepalive connections take at most half of a worker\'s connections, at least one per service', () => {
    expect(budget({ upstreams: 16 }).upstreamKeepalive).toBe(32);
    expect(budget({ upstreams: 40 }).upstreamKeepalive).toBe(12); // 1024 / 2 / 40
    expect(budget({ upstreams: 2000 }).upstreamKeepalive).toBe(1);
    expect(budget({ upstreamKeepalive: 0 }).upstreamKeepalive).toBe(0);
  });

  it('refuses a memory limit too small for the workers, naming the props and the size that fits', () => {
    expect(() => budget({ cpuRequest: '8', memoryLimit: '64Mi' }))
      .toThrow(/resources\.limits\.memory 64Mi is too small for 8 nginx worker\(s\) \(from resources\.requests\.cpu 8\).*at least 68Mi/);
  });

  it('the gateway refuses a memory limit its CPU request cannot live in, as a user error', () => {
    expect(userErrorOf(() => gatewayOn({ resources: { requests: { cpu: '16', memory: '64Mi' }, limits: { memory: '64Mi' } } })))
      .toMatch(/resources\.limits\.memory 64Mi is too small for 16 nginx worker\(s\).*raise the memory limit to at least \d+Mi or lower the CPU request/);
  });

  it('the gateway renders the derived numbers (not worker_processes auto) and caps keepalive by them', () => {
    expect(gatewayOn().gateway.renderConfig()).toMatch(/^worker_processes 1;$/m);
    const big = gatewayOn({ resources: { requests: { cpu: '3', memory: '256Mi' }, limits: { memory: '512Mi' } } }, 3);
    const conf = big.gateway.renderConfig();
    expect(conf).toMatch(/^worker_processes 3;$/m);
    expect(conf).toMatch(/^\tworker_connections 1024;$/m);
    expect(conf).not.toContain('worker_processes auto');
    const many = gatewayOn({ upstreamKeepalive: 64 }, 20).gateway.renderConfig();
    expect(many.match(/^\t\tkeepalive 25;$/gm)).toHaveLength(20); // 1024 / 2 / 20
  });

  it('the renderer takes a number or "auto" (its own default) and nothing else', () => {
    expect(renderNginxConf(base)).toMatch(/^worker_processes auto;$/m);
    expect(renderNginxConf({ ...base, workerProcesses: 2 })).toMatch(/^worker_processes 2;$/m);
    expect(userErrorOf(() => renderNginxConf({ ...base, workerProcesses: 0 }))).toMatch(/workerProcesses: must be at least 1/);
  });
});

describe('item 3: real client addresses', () => {
  it('X-Forwarded-For is set to the client address, never appended to what the client sent', () => {
    const conf = renderNginxConf(base);
    expect(conf).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    expect(conf).not.toContain('$proxy_add_x_forwarded_for');
    expect(conf).not.toContain('set_real_ip_from');
    // The rate limit keys on the client address (after realip, the real one).
    expect(renderNginxConf({ ...base, rateLimits: [{ name: 'api', ratePerSecond: 1 }] })).toContain('limit_req_zone $binary_remote_addr zone=api:10m rate=1r/s;');
  });

  it('behind trusted proxies: the right-most address they did not add, from X-Forwarded-For', () => {
    const conf = renderNginxConf({ ...base, clientAddress: { trustedProxies: ['10.0.0.0/8', '192.0.2.7', 'fd00::/8'] } });
    expect(conf).toContain('\tset_real_ip_from 10.0.0.0/8;\n\tset_real_ip_from 192.0.2.7;\n\tset_real_ip_from fd00::/8;\n\treal_ip_header X-Forwarded-For;\n\treal_ip_recursive on;\n');
    expect(conf).toMatch(/listen 8080;/);
  });

  it('PROXY protocol: every listener takes it, the address comes from trusted peers, probes get a listener of their own', () => {
    const conf = renderNginxConf({
      ...base, healthPort: 8081, clientAddress: { proxyProtocol: true, trustedProxies: ['10.0.0.0/8'] },
      tls: { certificatePath: '/etc/nginx/tls/tls.crt', keyPath: '/etc/nginx/tls/tls.key' },
    });
    expect(conf).toContain('\tset_real_ip_from 10.0.0.0/8;\n\treal_ip_header proxy_protocol;\n');
    expect(conf).toContain('listen 8443 ssl proxy_protocol;');
    expect(conf).toContain('listen 8080 proxy_protocol;');
    expect(conf).toMatch(/server {\n\t\tlisten 8081;\n\n\t\tlocation = \/healthz {/);
  });

  it.each([
    [{ clientAddress: { proxyProtocol: true } }, /clientAddress\.trustedProxies: must list the load balancer's addresses when proxyProtocol is on/],
    [{ clientAddress: { trustedProxies: ['10.0.0.0/33'] } }, /clientAddress\.trustedProxies\[0\]: must be an IPv4 or IPv6 address or CIDR range/],
    [{ clientAddress: { trustedProxies: ['10.0.0.0/8; allow all'] } }, /clientAddress\.trustedProxies\[0\]: must be an IPv4 or IPv6/],
    [{ clientAddress: { trustedProxies: ['proxy.example.no'] } }, /clientAddress\.trustedProxies\[0\]: must be an IPv4 or IPv6/],
    [{ healthPort: 8080 }, /healthPort: must differ from httpPort and httpsPort/],
  ])('refuses %j', (extra, message) => {
    expect(userErrorOf(() => renderNginxConf({ ...base, ...extra } as never))).toMatch(message);
  });

  it('the gateway: PROXY protocol moves its probes to port 8081 (never published); the option is validated up front', () => {
    const { stack, gateway } = gatewayOn({ clientAddress: { proxyProtocol: true, trustedProxies: ['10.0.0.0/8'] } });
    expect(gateway.renderConfig()).toContain('listen 8080 proxy_protocol;');
    const c = container(stack);
    expect(c.readiness_probe.http_get).toEqual({ path: '/healthz', port: '8081' });
    expect(c.liveness_probe.http_get).toEqual({ path: '/healthz', port: '8081' });
    expect(c.port.map((p: { container_port: number }) => p.container_port)).toEqual([8080]);
    expect(gatewayOn().gateway.renderConfig()).not.toContain('8081');
    expect(userErrorOf(() => gatewayOn({ clientAddress: { proxyProtocol: true } })))
      .toMatch(/clientAddress\.trustedProxies: must list the load balancer's address ranges when proxyProtocol is on/);
  });
});

describe('item 5: certificate renewal reaches nginx', () => {
  const spec = { confPath: '/etc/nginx/nginx.conf', pidPath: '/tmp/nginx.pid', watchFiles: ['/etc/nginx/tls/tls.crt', '/etc/nginx/tls/tls.key'] };

  it('with watched files: sh -c, a checksum loop that tests before it reloads, nginx exec\'d in the foreground', () => {
    const [sh, flag, script] = renderNginxCommand({ ...spec, intervalSeconds: 30 });
    expect([sh, flag]).toEqual(['sh', '-c']);
    expect(script).toContain('sums() { md5sum /etc/nginx/tls/tls.crt /etc/nginx/tls/tls.key 2>&1; }');
    expect(script).toContain('while sleep 30; do');
    expect(script).toMatch(/if nginx -c \/etc\/nginx\/nginx.conf -t -q; then nginx -c \/etc\/nginx\/nginx.conf -s reload && last=\$now/);
    expect(script.endsWith("exec nginx -c /etc/nginx/nginx.conf -g 'daemon off;'")).toBe(true);
    // Terraform reads "${", Kubernetes expands "$(NAME)" and turns "$$" into "$".
    expect(script).not.toMatch(/\$\{|\$\$|\$\(/);
    // Nothing is written: the root filesystem stays read-only.
    expect(script).not.toMatch(/>\s*\/(?!dev\/)/);
  });

  it('without watched files: nginx alone', () => {
    expect(renderNginxCommand({ confPath: '/etc/nginx/nginx.conf', pidPath: '/tmp/nginx.pid' }))
      .toEqual(['nginx', '-c', '/etc/nginx/nginx.conf', '-g', 'daemon off;']);
  });

  it('refuses paths that could carry shell syntax, and bad intervals', () => {
    expect(userErrorOf(() => renderNginxCommand({ ...spec, watchFiles: ['/etc/tls.crt; rm -rf /'] }))).toMatch(/watchFiles\[0\]: must be an absolute path/);
    expect(userErrorOf(() => renderNginxCommand({ ...spec, intervalSeconds: 0 }))).toMatch(/intervalSeconds: must be at least 1/);
  });

  it('the gateway with TLS runs the loop on its mounted Secret (tls.reloadCheckSeconds); without TLS the image\'s own command', () => {
    const { stack } = gatewayOn({ tls: { secretName: 'api-tls', reloadCheckSeconds: 20 } });
    const c = container(stack);
    expect(c.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(c.command[2]).toContain('md5sum /etc/nginx/tls/tls.crt /etc/nginx/tls/tls.key');
    expect(c.command[2]).toContain('while sleep 20; do');
    expect(c.command[2]).toContain('[ -s /tmp/nginx.pid ]');
    expect(container(gatewayOn({ tls: { secretName: 'api-tls' } }).stack).command[2]).toContain('while sleep 30; do');
    expect(container(gatewayOn().stack).command).toBeUndefined();
    expect(userErrorOf(() => gatewayOn({ tls: { secretName: 'api-tls', reloadCheckSeconds: 0 } }))).toMatch(/tls\.reloadCheckSeconds: must be at least 1/);
  });
});
