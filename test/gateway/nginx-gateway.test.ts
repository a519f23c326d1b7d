import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { DeployedWorkload, DockerTarget, IWorkloadTarget, KubernetesTarget, OSLO_REGION } from '../../lib';
import { NginxGateway, NginxGatewayOptions } from '../../lib/gateway/nginx-gateway';
import { dockerFiles, dockerReplicas, findByName, newStack, resourcesOf, synthJson } from '../support/synth';
import { userErrorOf } from '../support/errors';
import { scraperIngress } from '../support/network-edges';
import { effectiveRoute } from './nginx-conf-tree';

const CONF_KEY = 'etc_nginx_nginx.conf';
const GATEWAY_SELECTOR = { pod_selector: { match_labels: { 'app.kubernetes.io/name': 'gateway' } } };

/** A plain HTTP service listening on 8080; `servicePort` is what other workloads connect to. */
function deployService(stack: TerraformStack, target: IWorkloadTarget, name: string, servicePort?: number): DeployedWorkload {
  return target.deploy(new Construct(stack, name), {
    name,
    component: 'service',
    kind: 'stateless',
    image: `registry.example.no/${name}:1.0.0`,
    ports: [{ name: 'http', containerPort: 8080, servicePort }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  });
}

function kubernetes() {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });
  const orders = deployService(stack, target, 'orders');
  const invoices = deployService(stack, target, 'invoices', 80);
  return { stack, target, orders, invoices };
}

/** The example gateway: TLS, a default limit, and two routes added AFTER construction. */
function kubernetesGateway(options: Partial<NginxGatewayOptions> = {}) {
  const env = kubernetes();
  const gateway = new NginxGateway(env.stack, 'gateway', {
    target: env.target,
    serverName: 'api.example.no',
    tls: { secretName: 'api-tls' },
    rateLimit: { perSecond: 10, burst: 20 },
    ...options,
  });
  gateway.addRoute({ path: '/v1/orders', service: env.orders, port: 8080 });
  gateway.addRoute({ path: '/v1/invoices', service: env.invoices, port: 80, rateLimit: { perMinute: 60 } });
  return { ...env, gateway };
}

describe('NginxGateway on Kubernetes', () => {
  it('runs 2 replicas behind a LoadBalancer Service on 80 and 443', () => {
    const { stack } = kubernetesGateway();
    const json = synthJson(stack);
    const deployment = findByName(json, 'kubernetes_deployment_v1', 'gateway');
    expect(deployment.spec.replicas).toBe('2');
    expect(deployment.spec.template.spec.container[0].image).toBe('nginxinc/nginx-unprivileged:1.28.3-alpine');
    const service = findByName(json, 'kubernetes_service_v1', 'gateway');
    expect(service.spec.type).toBe('LoadBalancer');
    expect(service.spec.external_traffic_policy).toBe('Local');
    expect(service.spec.port).toEqual([
      { name: 'http', port: 80, target_port: 'http', protocol: 'TCP' },
      { name: 'https', port: 443, target_port: 'https', protocol: 'TCP' },
    ]);
    expect(findByName(json, 'kubernetes_pod_disruption_budget_v1', 'gateway').spec.max_unavailable).toBe('1');
  });

  it('mounts an nginx.conf with the routes added after construction, keepalive upstreams and rate limits', () => {
    const { stack, gateway } = kubernetesGateway();
    const json = synthJson(stack);
    const conf: string = findByName(json, 'kubernetes_config_map_v1', 'gateway-config').data[CONF_KEY];
    expect(conf).toBe(gateway.renderConfig());
    expect(conf).toContain('limit_req_zone $binary_remote_addr zone=gateway-default:10m rate=10r/s;');
    expect(conf).toContain('limit_req_zone $binary_remote_addr zone=route-v1-invoices:10m rate=60r/m;');
    expect(conf).toContain('proxy_http_version 1.1;');
    // One server per pod (the headless Service, re-resolved): max_fails can take a bad pod out.
    // Idle connections close after 4 s, before a Node.js or uvicorn service closes them (5 s).
    expect(conf).toMatch(/upstream orders \{\n\s+zone upstream_orders 64k;\n\s+server orders-headless\.platform\.svc\.cluster\.local:8080 resolve max_fails=3;\n\s+keepalive 32;\n\s+keepalive_timeout 4s;\n\s+\}/);
    expect(conf).toContain('resolver kube-dns.kube-system.svc.cluster.local valid=10s ipv6=off;');
    expect(conf).toContain('error_log /dev/stderr warn;');
    // The Service port (80), not the container port: Kubernetes Services listen on the service port.
    // Pods listen on the container port (8080), whatever port the Service maps (80).
    expect(conf).toMatch(/upstream invoices \{\n\s+zone upstream_invoices 64k;\n\s+server invoices-headless\.platform\.svc\.cluster\.local:8080 resolve max_fails=3;\n\s+keepalive 32;\n\s+keepalive_timeout 4s;\n\s+\}/);
    // The gateway's limit and proxy settings are inherited from the server; a route's own limit replaces its limit.
    expect(effectiveRoute(conf, '/v1/orders', (n) => n === 'limit_req' || n === 'proxy_pass'))
      .toEqual(['limit_req zone=gateway-default burst=20 nodelay;', 'proxy_pass http://orders;']);
    expect(effectiveRoute(conf, '/v1/invoices', (n) => n === 'limit_req' || n === 'proxy_pass'))
      .toEqual(['limit_req zone=route-v1-invoices burst=120 nodelay;', 'proxy_pass http://invoices;']);
    expect(effectiveRoute(conf, '/v1/invoices')).toContain('proxy_set_header X-Request-ID $gateway_request_id;');
    expect(conf).toContain('server_name api.example.no;');
    expect(conf).toContain('ssl_certificate /etc/nginx/tls/tls.crt;');
    expect(conf).toContain('ssl_certificate_key /etc/nginx/tls/tls.key;');
    expect(conf).toContain('return 301 https://$host$request_uri;');
    expect(conf).toContain('pid /tmp/nginx.pid;');
    expect(gateway.routes.map((r) => r.path)).toEqual(['/v1/orders', '/v1/invoices']);
  });

  it('mounts the TLS secret and the config file into a hardened, non-root pod', () => {
    const { stack } = kubernetesGateway();
    const json = synthJson(stack);
    const pod = findByName(json, 'kubernetes_deployment_v1', 'gateway').spec.template.spec;
    expect(pod.security_context).toEqual(expect.objectContaining({ run_as_user: '101', run_as_group: '101', run_as_non_root: true }));
    expect(pod.termination_grace_period_seconds).toBe(30);
    expect(pod.topology_spread_constraint[0]).toEqual(expect.objectContaining({ topology_key: 'kubernetes.io/hostname', when_unsatisfiable: 'ScheduleAnyway' }));
    const tlsVolume = pod.volume.find((v: any) => v.secret);
    expect(tlsVolume.secret.secret_name).toBe('api-tls');
    expect(pod.volume).toContainEqual(expect.objectContaining({ name: 'tmp', empty_dir: expect.anything() }));
    const c = pod.container[0];
    expect(c.volume_mount).toContainEqual({ name: tlsVolume.name, mount_path: '/etc/nginx/tls', read_only: true });
    expect(c.volume_mount).toContainEqual({ name: 'config', mount_path: '/etc/nginx/nginx.conf', sub_path: CONF_KEY, read_only: true });
    expect(c.volume_mount).toContainEqual({ name: 'tmp', mount_path: '/tmp' });
    expect(c.security_context.read_only_root_filesystem).toBe(true);
    expect(c.port.map((p: any) => p.container_port)).toEqual([8080, 8443]);
    expect(c.readiness_probe.http_get).toEqual({ path: '/healthz', port: '8080' });
    expect(c.liveness_probe.http_get).toEqual({ path: '/healthz', port: '8080' });
    expect(c.lifecycle.pre_stop).toEqual([{ exec: { command: ['sh', '-c', 'sleep 5'] } }]);
    // A config change rolls the pods.
    expect(findByName(json, 'kubernetes_deployment_v1', 'gateway').spec.template.metadata.annotations['sovereign-stack.io/config-hash']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('adds the network policy edge gateway -> service on the route port, and admits the public on 8080/8443', () => {
    const { stack } = kubernetesGateway();
    const json = synthJson(stack);
    expect(findByName(json, 'kubernetes_network_policy_v1', 'orders').spec.ingress)
      .toEqual([{ ports: [{ port: '8080', protocol: 'TCP' }], from: [GATEWAY_SELECTOR] }]);
    // Service port 80 maps to the pod port 8080: policies match pod ports.
    expect(findByName(json, 'kubernetes_network_policy_v1', 'invoices').spec.ingress)
      .toEqual([{ ports: [{ port: '8080', protocol: 'TCP' }], from: [GATEWAY_SELECTOR] }]);
    // The public on the listeners; the metrics scraper on the exporter's port only (never stub_status).
    expect(findByName(json, 'kubernetes_network_policy_v1', 'gateway').spec.ingress)
      .toEqual([{ ports: [{ port: '8080', protocol: 'TCP' }, { port: '8443', protocol: 'TCP' }] }, scraperIngress(9113)]);
  });

  it('takes routes in props too, sharing one upstream per service', () => {
    const { stack, target, orders } = kubernetes();
    const gateway = new NginxGateway(stack, 'gateway', {
      target,
      serverName: 'api.example.no',
      routes: [{ path: '/v1/orders', service: orders, port: 8080 }, { path: '/v2/orders/', service: orders, port: 8080 }],
    });
    const conf = gateway.renderConfig();
    expect(conf.match(/^\tupstream /gm)).toHaveLength(1);
    expect(conf).toContain('location = /v2/orders {');
    expect(conf).toContain('location /v2/orders/ {');
    expect(conf).not.toContain('limit_req zone'); // no rate limit asked for
    expect(conf).not.toContain('ssl_certificate');
    const json = synthJson(stack);
    expect(findByName(json, 'kubernetes_service_v1', 'gateway').spec.port).toEqual([{ name: 'http', port: 80, target_port: 'http', protocol: 'TCP' }]);
    expect(findByName(json, 'kubernetes_network_policy_v1', 'orders').spec.ingress).toHaveLength(1);
  });

  it('closes idle upstream connections after upstreamKeepaliveTimeoutSeconds (default 4, below the services\' own idle timeout)', () => {
    const timeoutOf = (o: { upstreamKeepaliveTimeoutSeconds?: number }) => {
      const { stack, target, orders } = kubernetes();
      const gateway = new NginxGateway(stack, 'gateway', { target, serverName: 'api.example.no', routes: [{ path: '/v1/orders', service: orders, port: 8080 }], ...o });
      return /^\t\tkeepalive_timeout (\d+)s;$/m.exec(gateway.renderConfig())?.[1];
    };
    expect(timeoutOf({})).toBe('4');
    expect(timeoutOf({ upstreamKeepaliveTimeoutSeconds: 2 })).toBe('2');
    expect(timeoutOf({ upstreamKeepaliveTimeoutSeconds: 60 })).toBeUndefined(); // nginx's own default: left out
    const { stack, target } = kubernetes();
    expect(userErrorOf(() => new NginxGateway(stack, 'gateway', { target, serverName: 'api.example.no', upstreamKeepaliveTimeoutSeconds: 0 })))
      .toMatch(/upstreamKeepaliveTimeoutSeconds: must be at least 1/);
  });

  it('has no disruption budget with a single replica (it could never be drained otherwise)', () => {
    const { stack } = kubernetesGateway({ replicas: 1 });
    const json = synthJson(stack);
    expect(findByName(json, 'kubernetes_deployment_v1', 'gateway').spec.replicas).toBe('1');
    expect(Object.keys(resourcesOf(json, 'kubernetes_pod_disruption_budget_v1'))).toHaveLength(0);
  });

  it('fails synthesis with a clear message when no route was ever added', () => {
    const { stack, target } = kubernetes();
    new NginxGateway(stack, 'gateway', { target, serverName: 'api.example.no' });
    expect(() => synthJson(stack)).toThrow(/NginxGateway test\/gateway has no routes: add one with gateway\.addRoute/);
  });

  it('matches the snapshot (TLS, default and per-route limits, two routes)', () => {
    const { stack } = kubernetesGateway();
    expect(Testing.synth(stack)).toMatchSnapshot();
  });
});

describe('NginxGateway on Docker', () => {
  function dockerGateway() {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    const orders = deployService(stack, target, 'orders', 80);
    const gateway = new NginxGateway(stack, 'gateway', { target, serverName: 'localhost', tls: { secretName: 'api-tls' } });
    gateway.addRoute({ path: '/v1/orders', service: orders, port: 80 });
    return { stack, gateway, json: synthJson(stack) };
  }

  it('publishes 8080/8443 on loopback, one host port per replica', () => {
    const { json } = dockerGateway();
    const containers = dockerReplicas(json).filter((c: any) => c.name.startsWith('sovereign-gateway'));
    expect(containers.map((c: any) => c.name).sort()).toEqual(['sovereign-gateway-0', 'sovereign-gateway-1']);
    const ports = Object.fromEntries(containers.map((c: any) => [c.name, c.ports]));
    expect(ports['sovereign-gateway-0']).toEqual([
      { internal: 8080, external: 8080, ip: '127.0.0.1' },
      { internal: 8443, external: 8443, ip: '127.0.0.1' },
    ]);
    expect(ports['sovereign-gateway-1']).toEqual([
      { internal: 8080, external: 8081, ip: '127.0.0.1' },
      { internal: 8443, external: 8444, ip: '127.0.0.1' },
    ]);
    const orders: any = Object.values(resourcesOf(json, 'docker_container')).find((c: any) => c.name === 'sovereign-orders-0');
    expect(orders.ports).toBeUndefined();
  });

  it('uploads nginx.conf (services reached on their container port) and runs nginx as uid 101 with a graceful stop', () => {
    const { json, gateway } = dockerGateway();
    const c: any = Object.values(resourcesOf(json, 'docker_container')).find((x: any) => x.name === 'sovereign-gateway-0');
    const conf = dockerFiles(json, 'sovereign-gateway-0').find((u) => u.file === '/etc/nginx/nginx.conf')!;
    expect(conf.content).toBe(gateway.renderConfig());
    // Docker has no Service in front: the container listens on 8080 although the service port is 80.
    expect(conf.content).toContain('server orders:8080 resolve max_fails=3;');
    expect(conf.content).toContain('resolver 127.0.0.11 valid=10s ipv6=off;'); // Docker's embedded DNS
    // Clients reach the published 8443, not 443.
    expect(conf.content).toContain('return 301 https://$host:8443$request_uri;');
    expect(c).toEqual(expect.objectContaining({ user: '101:101', read_only: true, stop_signal: 'SIGQUIT', stop_timeout: 30 }));
    expect(c.tmpfs).toEqual({ '/tmp': expect.stringContaining('rw') });
    expect(c.healthcheck.test).toEqual(['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1']);
  });

  it('turns the TLS secret into sensitive variables uploaded as files, never literals', () => {
    const { json } = dockerGateway();
    const variables = Object.entries(json.variable ?? {});
    expect(variables).toHaveLength(2);
    for (const [, v] of variables) {
      expect(v).toEqual(expect.objectContaining({ sensitive: true, type: 'string' }));
      expect(v.default).toBeUndefined();
    }
    const c: any = Object.values(resourcesOf(json, 'docker_container')).find((x: any) => x.name === 'sovereign-gateway-0');
    expect(c.read_only).toBe(true);
    const cert = dockerFiles(json, 'sovereign-gateway-0').find((u) => u.file === '/etc/nginx/tls/tls.crt')!;
    const key = dockerFiles(json, 'sovereign-gateway-0').find((u) => u.file === '/etc/nginx/tls/tls.key')!;
    expect(cert.content).toMatch(/^\$\{var\.[A-Za-z0-9_-]+\}$/);
    expect(key.content).toMatch(/^\$\{var\.[A-Za-z0-9_-]+\}$/);
    expect(cert.content).not.toBe(key.content);
  });
});

describe('NginxGateway rate limits', () => {
  function confWith(options: Partial<NginxGatewayOptions>, routeLimit?: NginxGatewayOptions['rateLimit']): string {
    const { stack, target, orders } = kubernetes();
    const gateway = new NginxGateway(stack, 'gateway', { target, serverName: 'api.example.no', ...options });
    gateway.addRoute({ path: '/v1/orders', service: orders, port: 8080, rateLimit: routeLimit });
    return gateway.renderConfig();
  }

  it("divides a 'gateway'-scoped rate over the replicas", () => {
    const conf = confWith({ replicas: 3, rateLimit: { perSecond: 30, scope: 'gateway' } });
    expect(conf).toContain('zone=gateway-default:10m rate=10r/s;');
    expect(conf).toContain('limit_req zone=gateway-default burst=20 nodelay;'); // default burst 2 x 30, divided by 3
  });

  it('keeps a per-replica rate as stated (the default scope)', () => {
    const conf = confWith({ replicas: 3, rateLimit: { perSecond: 30 } });
    expect(conf).toContain('zone=gateway-default:10m rate=30r/s;');
    expect(conf).toContain('limit_req zone=gateway-default burst=60 nodelay;');
  });

  it('rounds a divided rate and burst up, and honours nodelay: false', () => {
    const conf = confWith({ replicas: 3 }, { perMinute: 100, burst: 10, scope: 'gateway', nodelay: false });
    expect(conf).toContain('zone=route-v1-orders:10m rate=34r/m;');
    expect(conf).toMatch(/limit_req zone=route-v1-orders burst=4;/);
  });
});

describe('NginxGateway validation', () => {
  it('rejects a hostile serverName naming the prop, before creating anything', () => {
    const { stack, target, orders } = kubernetes();
    const message = userErrorOf(() => new NginxGateway(stack, 'gateway', {
      target, serverName: 'api.example.no; }', routes: [{ path: '/v1/orders', service: orders, port: 8080 }],
    }));
    expect(message).toMatch(/NginxGateway test\/gateway props\.serverName: must be a DNS name/);
    expect(stack.node.tryFindChild('gateway')).toBeUndefined();
    expect(target.workloadNames).not.toContain('gateway');
    // The initial route was not applied either.
    expect(findByName(synthJson(stack), 'kubernetes_network_policy_v1', 'orders').spec.ingress).toEqual([]);
  });

  it('rejects a hostile route path in props, naming routes[i].path, before creating anything', () => {
    const { stack, target, orders } = kubernetes();
    const message = userErrorOf(() => new NginxGateway(stack, 'gateway', {
      target, serverName: 'api.example.no', routes: [{ path: '/v1/$x', service: orders, port: 8080 }],
    }));
    expect(message).toMatch(/props\.routes\[0\]\.path: must be "\/" followed only by/);
    expect(stack.node.tryFindChild('gateway')).toBeUndefined();
    expect(findByName(synthJson(stack), 'kubernetes_network_policy_v1', 'orders').spec.ingress).toEqual([]);
  });

  it('rejects a hostile path in addRoute naming route.path, and keeps nothing of it', () => {
    const { stack, gateway, target } = kubernetesGateway();
    const extra = deployService(stack, target, 'extra');
    const before = gateway.renderConfig();
    const message = userErrorOf(() => gateway.addRoute({ path: '/v1/$x', service: extra, port: 8080 }));
    expect(message).toMatch(/NginxGateway test\/gateway route\.path: must be "\/" followed only by/);
    expect(userErrorOf(() => gateway.addRoute({ path: '/v1/x; }', service: extra, port: 8080 }))).toMatch(/route\.path/);
    expect(gateway.routes).toHaveLength(2);
    expect(gateway.renderConfig()).toBe(before);
    const json = synthJson(stack);
    expect(findByName(json, 'kubernetes_network_policy_v1', 'extra').spec.ingress).toEqual([]);
    expect(findByName(json, 'kubernetes_config_map_v1', 'gateway-config').data[CONF_KEY]).not.toContain('extra');
  });

  it('rejects duplicate paths, undeclared ports, the health path and services of another target', () => {
    const { gateway } = kubernetesGateway();
    const elsewhere = kubernetes();
    const orders = gateway.routes[0].service;
    expect(userErrorOf(() => gateway.addRoute({ path: '/v1/orders', service: orders, port: 8080 })))
      .toMatch(/route\.path: duplicate route path "\/v1\/orders" \(already routed to "orders"\)/);
    // "/v1/orders/" routes the same paths as "/v1/orders": nginx would get the same two locations twice.
    expect(userErrorOf(() => gateway.addRoute({ path: '/v1/orders/', service: orders, port: 8080 })))
      .toMatch(/route\.path: duplicate route path "\/v1\/orders\/" \(the same route as "\/v1\/orders", a trailing slash changes nothing; already routed to "orders"\)/);
    expect(gateway.routeOf('/v1/orders/')?.path).toBe('/v1/orders');
    expect(userErrorOf(() => gateway.addRoute({ path: '/healthz/', service: orders, port: 8080 })))
      .toMatch(/route\.path: is the gateway's health endpoint/);
    expect(userErrorOf(() => gateway.addRoute({ path: '/v1/other', service: orders, port: 9999 })))
      .toMatch(/route\.port: service "orders" has no port 9999 \(its ports: 8080\)/);
    expect(userErrorOf(() => gateway.addRoute({ path: '/healthz', service: orders, port: 8080 })))
      .toMatch(/route\.path: is the gateway's health endpoint/);
    const foreign = deployService(elsewhere.stack, elsewhere.target, 'foreign');
    expect(userErrorOf(() => gateway.addRoute({ path: '/foreign', service: foreign, port: 8080 })))
      .toMatch(/route\.service: "foreign" is not deployed on the gateway's target test\/cluster/);
    expect(userErrorOf(() => gateway.addRoute({ path: '/v1/x', service: orders, port: 8080, rateLimit: { perSecond: 1, perMinute: 60 } })))
      .toMatch(/route\.rateLimit\.perSecond: set exactly one of perSecond or perMinute/);
    expect(gateway.routes).toHaveLength(2);
  });

  it('rejects a second gateway of the same name on one target before creating it', () => {
    const { stack, target } = kubernetesGateway();
    expect(userErrorOf(() => new NginxGateway(stack, 'second', { target, serverName: 'b.example.no' })))
      .toMatch(/props\.name: a workload named "gateway" is already deployed on target test\/cluster/);
    expect(stack.node.tryFindChild('second')).toBeUndefined();
  });

  it('derives nginxVersion from the image tag, and asks for it when the tag names none', () => {
    const { stack, target } = kubernetes();
    expect(new NginxGateway(stack, 'default', { target, serverName: 'a.example.no', name: 'gw-a' }).nginxVersion).toBe('1.28.3');
    expect(new NginxGateway(stack, 'tagged', { target, serverName: 'b.example.no', name: 'gw-b', image: 'nginxinc/nginx-unprivileged:1.22-alpine' }).nginxVersion).toBe('1.22.0');
    const message = userErrorOf(() => new NginxGateway(stack, 'untagged', { target, serverName: 'c.example.no', name: 'gw-c', image: 'nginxinc/nginx-unprivileged:alpine' }));
    expect(message).toMatch(/props\.nginxVersion: is required because the tag of image "nginxinc\/nginx-unprivileged:alpine" names no version; set nginxVersion/);
    expect(stack.node.tryFindChild('untagged')).toBeUndefined();
    const explicit = new NginxGateway(stack, 'explicit', { target, serverName: 'd.example.no', name: 'gw-d', image: 'nginxinc/nginx-unprivileged:alpine', nginxVersion: '1.22.1' });
    expect(explicit.nginxVersion).toBe('1.22.1');
  });

  it('renders version-specific HTTP/2 syntax for the derived version', () => {
    const old = kubernetesGateway({ image: 'nginxinc/nginx-unprivileged:1.22-alpine' }).gateway.renderConfig();
    expect(old).toContain('listen 8443 ssl http2;');
    // Before 1.27.3 open-source nginx cannot re-resolve upstreams: the Service address, no resolver.
    expect(old).toMatch(/server orders\.platform\.svc\.cluster\.local:8080 max_fails=3/);
    expect(old).not.toContain('resolve');
    const current = kubernetesGateway().gateway.renderConfig();
    expect(current).toContain('listen 8443 ssl;');
    expect(current).toContain('http2 on;');
  });
});
