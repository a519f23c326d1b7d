/**
 * The gateway's workload builder and option schema, without synthesizing: validated options in,
 * WorkloadProps out.
 */
import { WorkloadSchema } from '../../lib/workload/workload';
import { NginxGatewayOptionsSchema } from '../../lib/gateway/schema';
import { gatewayWorkload } from '../../lib/gateway/workload';
import type { NginxGatewayOptions } from '../../lib/gateway/props';

const options = (o: Partial<NginxGatewayOptions> = {}) => NginxGatewayOptionsSchema.parse({ serverName: 'api.example.no', ...o });
const build = (o: Partial<NginxGatewayOptions> = {}) => gatewayWorkload(options(o), { nginxConf: 'CONF' });

describe('gateway options schema', () => {
  it('resolves the nginx version from the image tag, or takes the option', () => {
    expect(options().nginxVersion).toBe('1.28.3');
    expect(options({ image: 'nginxinc/nginx-unprivileged:1.27-alpine' }).nginxVersion).toBe('1.27.0');
    expect(options({ image: 'nginxinc/nginx-unprivileged:alpine', nginxVersion: '1.22.1' }).nginxVersion).toBe('1.22.1');
  });

  it('fills the documented defaults', () => {
    expect(options()).toMatchObject({
      name: 'gateway', replicas: 2, image: 'nginxinc/nginx-unprivileged:1.28.3-alpine', routes: [], clientMaxBodySize: '1m',
      upstreamKeepalive: 32, upstreamKeepaliveTimeoutSeconds: 4,
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      metrics: { enabled: true, image: 'nginx/nginx-prometheus-exporter:1.5.3' },
    });
    expect(NginxGatewayOptionsSchema.parse({ serverName: 'a.b', tls: { secretName: 'api-tls' }, rateLimit: { perSecond: 1 } }))
      .toMatchObject({ tls: { reloadCheckSeconds: 30 }, rateLimit: { nodelay: true, scope: 'per-replica' } });
  });

  it('refuses a tag without a version and no nginxVersion, naming the prop', () => {
    const result = NginxGatewayOptionsSchema.safeParse({ serverName: 'a.b', image: 'nginxinc/nginx-unprivileged:alpine' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message.slice(0, 40)]))
      .toEqual([['nginxVersion', 'is required because the tag of image "ng']]);
  });
});

describe('gatewayWorkload', () => {
  it('is a valid workload: nginx as uid 101 on a read-only root, the lazy nginx.conf mounted, probes on /healthz', () => {
    const w = build();
    expect(() => WorkloadSchema.parse(w)).not.toThrow();
    expect(w).toMatchObject({
      name: 'gateway', component: 'gateway', kind: 'stateless', image: 'nginxinc/nginx-unprivileged:1.28.3-alpine', replicas: 2,
      ports: [{ name: 'http', containerPort: 8080, servicePort: 80, hostPort: 8080 }],
      configFiles: [{ path: '/etc/nginx/nginx.conf', content: 'CONF' }],
      securityContext: { runAsUser: 101, runAsGroup: 101, runAsNonRoot: true, readOnlyRootFilesystem: true },
      ingress: [{ from: 'public', ports: [8080] }],
      disruptionBudget: { maxUnavailable: 1 },
      shutdown: { preStop: ['sh', '-c', 'sleep 5'], stopSignal: 'SIGQUIT', gracePeriodSeconds: 30 },
      public: true,
    });
    expect(w.command).toBeUndefined();
    expect(w.probes?.readiness).toMatchObject({ httpGet: { path: '/healthz', port: 8080 } });
    expect(w.secrets).toEqual([]);
  });

  it('runs the NGINX exporter beside nginx, reading stub_status over loopback', () => {
    const w = build();
    expect(w.sidecars).toEqual([expect.objectContaining({
      name: 'nginx-exporter',
      image: 'nginx/nginx-prometheus-exporter:1.5.3',
      args: ['--nginx.scrape-uri=http://127.0.0.1:8082/stub_status', '--web.listen-address=:9113'],
      ports: [{ name: 'metrics', containerPort: 9113 }],
    })]);
    expect(w.metrics).toEqual({ port: 'metrics', path: '/metrics' });
    const off = build({ metrics: { enabled: false } });
    expect(off.sidecars).toBeUndefined();
    expect(off.metrics).toBeUndefined();
  });

  it('with TLS: the https port, the certificate Secret mounted, and the reload loop as the command', () => {
    const w = build({ tls: { secretName: 'api-tls', reloadCheckSeconds: 45 } });
    expect(w.ports?.map((p) => [p.name, p.containerPort, p.servicePort])).toEqual([['http', 8080, 80], ['https', 8443, 443]]);
    expect(w.secrets).toEqual([{ source: 'existing', name: 'api-tls', keys: ['tls.crt', 'tls.key'] }]);
    expect(w.secretMounts).toEqual([{ secret: 'api-tls', mountPath: '/etc/nginx/tls' }]);
    expect(w.command?.slice(0, 2)).toEqual(['sh', '-c']);
    expect(w.command?.[2]).toContain('while sleep 45; do');
    expect(w.ingress).toEqual([{ from: 'public', ports: [8080, 8443] }]);
  });

  it('probes get a listener of their own behind the PROXY protocol; one replica has no disruption budget', () => {
    const w = build({ clientAddress: { proxyProtocol: true, trustedProxies: ['10.0.0.0/8'] }, replicas: 1 });
    expect(w.probes?.liveness).toMatchObject({ httpGet: { path: '/healthz', port: 8081 } });
    expect(w.disruptionBudget).toBeUndefined();
    expect(w.replicas).toBe(1);
  });
});
