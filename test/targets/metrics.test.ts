/**
 * Metrics endpoints (issue 16, item 11): the workload model's declaration, and how both targets
 * realize it: pod annotations, the scraper's network policy edge to exactly the metrics port, the
 * optional ServiceMonitor, and on Docker a sidecar in the replica's network namespace.
 */
import { TerraformStack } from 'cdktf';
import {
  DockerTarget, KubernetesTarget, NginxGateway, OSLO_REGION, PostgresDatabase, ReferenceDeployment, ResidencyGuard, SovereignStackError,
} from '../../lib';
import { parseProps } from '../../lib/util/errors';
import { WorkloadSchema } from '../../lib/workload/workload';
import { KubernetesTargetProps } from '../../lib/targets/kubernetes/kubernetes-target';
import { metricsEndpointOf } from '../../lib/workload/workload';
import { EXAMPLE_SERVICES } from '../../stacks/platform-services';
import { userErrorOf } from '../support/errors';
import { scraperIngress } from '../support/network-edges';
import { literalSecrets } from '../support/secret-scan';
import { findByName, newStack, resourcesOf, synthJson } from '../support/synth';
import { statefulWorkload } from '../support/workloads';

/** The ledger with an exporter sidecar serving :9400/metrics. */
const withExporter = (overrides: object = {}) => statefulWorkload({
  sidecars: [{
    name: 'exporter', image: 'registry.example.no/ledger-exporter:1.0.0',
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
    ports: [{ name: 'metrics', containerPort: 9400 }],
  }],
  metrics: { port: 'metrics', path: '/metrics' },
  ...overrides,
});

function kubernetes(options: Partial<KubernetesTargetProps> = {}, workload = withExporter()) {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, ...options });
  target.deploy(stack, workload);
  return { stack, json: synthJson(stack) };
}

describe('Workload metrics endpoint (model)', () => {
  const parse = (w: object) => parseProps(WorkloadSchema, w, 'workload');

  it('names a port of the main container or a sidecar, with /metrics as the default path', () => {
    const w = parse({ ...withExporter(), metrics: { port: 'metrics' } });
    expect(metricsEndpointOf(w)).toEqual({ port: 'metrics', path: '/metrics', containerPort: 9400 });
    expect(metricsEndpointOf(parse({ ...statefulWorkload(), metrics: { port: 'db', path: '/stats' } })))
      .toEqual({ port: 'db', path: '/stats', containerPort: 5000 });
    expect(metricsEndpointOf(parse(statefulWorkload()))).toBeUndefined();
  });

  it('refuses a metrics port that names no port, and a path that is no URL path', () => {
    expect(() => parse({ ...withExporter(), metrics: { port: 'nope' } }))
      .toThrow(/workload\.metrics\.port: must name a port of the workload or a sidecar \(db, metrics\)/);
    expect(() => parse({ ...withExporter(), metrics: { port: 'metrics', path: 'metrics?x=1' } }))
      .toThrow(/workload\.metrics\.path: must be a URL path such as "\/metrics"/);
  });

  it('refuses sidecar ports that clash with another container of the replica (one network per replica)', () => {
    const clash = (port: object) => () => parse(withExporter({
      sidecars: [{ name: 'exporter', image: 'registry.example.no/x:1.0.0', resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } }, ports: [port] }],
      metrics: undefined,
    }));
    expect(clash({ name: 'metrics', containerPort: 5000 })).toThrow(/workload\.sidecars\[0\]\.ports\[0\]: port "metrics" \(5000\) clashes with port "db" \(5000\)/);
    expect(clash({ name: 'db', containerPort: 9400 })).toThrow(/clashes with port "db"/);
    expect(clash({ name: 'metrics', containerPort: 9400 })).not.toThrow();
  });
});

describe('KubernetesTarget metrics', () => {
  it('annotates the pods with the scrape port and path of the exporter', () => {
    const { json } = kubernetes();
    const template = findByName(json, 'kubernetes_stateful_set_v1', 'ledger').spec.template;
    expect(template.metadata.annotations).toEqual(expect.objectContaining({
      'prometheus.io/scrape': 'true', 'prometheus.io/port': '9400', 'prometheus.io/path': '/metrics',
    }));
    expect(template.spec.container[1]).toEqual(expect.objectContaining({ name: 'exporter', port: [{ name: 'metrics', container_port: 9400, protocol: 'TCP' }] }));
    // The exporter's port is on no Service but the metrics one: never behind the workload's own Service.
    expect(findByName(json, 'kubernetes_service_v1', 'ledger').spec.port.map((p: any) => p.name)).toEqual(['db']);
  });

  it('admits the scraper (kube-prometheus defaults, or the target option) on exactly the metrics port', () => {
    expect(findByName(kubernetes().json, 'kubernetes_network_policy_v1', 'ledger').spec.ingress).toEqual([
      { ports: [{ port: '5000', protocol: 'TCP' }], from: [{ pod_selector: { match_labels: { 'app.kubernetes.io/name': 'api' } } }] },
      scraperIngress(9400),
    ]);
    const custom = kubernetes({ metrics: { scraper: { namespace: 'observability', podLabels: { 'app.kubernetes.io/instance': 'victoria' } } } });
    expect(findByName(custom.json, 'kubernetes_network_policy_v1', 'ledger').spec.ingress[1])
      .toEqual(scraperIngress(9400, 'observability', { 'app.kubernetes.io/instance': 'victoria' }));
    // No metrics endpoint, no scraper edge and no annotations.
    const plain = kubernetes({}, statefulWorkload());
    expect(findByName(plain.json, 'kubernetes_network_policy_v1', 'ledger').spec.ingress).toHaveLength(1);
    expect(findByName(plain.json, 'kubernetes_stateful_set_v1', 'ledger').spec.template.metadata.annotations['prometheus.io/scrape']).toBeUndefined();
  });

  it('leaves the annotations off on request (ServiceMonitors only), keeping the edge', () => {
    const { json } = kubernetes({ metrics: { annotations: false } });
    expect(Object.keys(findByName(json, 'kubernetes_stateful_set_v1', 'ledger').spec.template.metadata.annotations).filter((k) => k.startsWith('prometheus.io/'))).toEqual([]);
    expect(findByName(json, 'kubernetes_network_policy_v1', 'ledger').spec.ingress).toContainEqual(scraperIngress(9400));
  });

  it('emits no ServiceMonitor by default', () => {
    const { json } = kubernetes();
    expect(resourcesOf(json, 'kubernetes_manifest')).toEqual({});
    expect(Object.values(resourcesOf(json, 'kubernetes_service_v1')).map((s: any) => s.metadata.name).sort()).toEqual(['ledger', 'ledger-headless']);
  });

  it('emits a ServiceMonitor selecting a headless metrics Service whose port is named "metrics", when asked', () => {
    const { json } = kubernetes({ metrics: { serviceMonitors: true, serviceMonitorLabels: { release: 'kube-prometheus-stack' } } });
    const service = findByName(json, 'kubernetes_service_v1', 'ledger-metrics');
    expect(service.spec).toEqual(expect.objectContaining({
      cluster_ip: 'None',
      selector: { 'app.kubernetes.io/name': 'ledger' },
      port: [{ name: 'metrics', port: 9400, target_port: 'metrics', protocol: 'TCP' }],
    }));
    expect(service.metadata.labels['sovereign-stack.io/metrics']).toBe('ledger');
    const monitors = Object.values(resourcesOf(json, 'kubernetes_manifest'));
    expect(monitors).toHaveLength(1);
    const m = (monitors[0] as any).manifest;
    expect(m).toEqual({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'ledger', namespace: 'platform', labels: expect.objectContaining({ release: 'kube-prometheus-stack', 'app.kubernetes.io/name': 'ledger' }) },
      spec: {
        selector: { matchLabels: { 'sovereign-stack.io/metrics': 'ledger' } },
        namespaceSelector: { matchNames: ['platform'] },
        endpoints: [{ port: 'metrics', path: '/metrics', scheme: 'http' }],
      },
    });
    // Only the metrics Service carries the selected label: no pod is scraped twice.
    const selected = Object.values(resourcesOf(json, 'kubernetes_service_v1')).filter((s: any) => s.metadata.labels['sovereign-stack.io/metrics'] === 'ledger');
    expect(selected).toHaveLength(1);
    expect((monitors[0] as any).depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^kubernetes_service_v1\./)]));
  });

  it('refuses bad metrics options with the prop path', () => {
    const { stack } = newStack();
    expect(userErrorOf(() => new KubernetesTarget(stack, 'bad', { region: OSLO_REGION, metrics: { scraper: { namespace: 'Not_A_Namespace' } } } as any)))
      .toMatch(/metrics\.scraper\.namespace/);
    expect(userErrorOf(() => new KubernetesTarget(stack, 'bad2', { region: OSLO_REGION, metrics: { serviceMonitor: true } } as any)))
      .toMatch(/metrics/);
  });

  it('covers all three components in a reference deployment, with no secret value in the JSON', () => {
    const { app } = newStack();
    const stack = new TerraformStack(app, 'metrics-platform');
    ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, metrics: { serviceMonitors: true } });
    new ReferenceDeployment(stack, 'platform', { target, gateway: { serverName: 'api.example.no' }, services: EXAMPLE_SERVICES, messaging: { replicas: 3 } });
    const json = synthJson(stack);
    const monitors = Object.values(resourcesOf(json, 'kubernetes_manifest')).map((r: any) => `${r.manifest.metadata.name}:${r.manifest.spec.endpoints[0].port}`);
    expect(monitors.sort()).toEqual(['gateway:metrics', 'invoices-db:metrics', 'orders-db:metrics', 'rabbitmq:metrics']);
    expect(findByName(json, 'kubernetes_service_v1', 'rabbitmq-metrics').spec.port).toEqual([{ name: 'metrics', port: 15692, target_port: 'prometheus', protocol: 'TCP' }]);
    expect(literalSecrets(json)).toEqual([]);
    // The monitoring passwords are generated at apply time and referenced, never written.
    const monitoring = findByName(json, 'kubernetes_secret_v1', 'orders-db-monitoring');
    expect(monitoring.data.password).toMatch(/^\$\{random_password\.[^}]+\.result\}$/);
    expect(JSON.stringify(json)).not.toMatch(/DATA_SOURCE_PASS=|DATA_SOURCE_NAME=|postgresql:\/\/[^"]*:[^"]*@/);
  });
});

describe('Component metrics options', () => {
  it('turns the gateway exporter and its stub_status server off together', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    const on = new NginxGateway(stack, 'gw-on', { target, name: 'gw-on', serverName: 'api.example.no' });
    const off = new NginxGateway(stack, 'gw-off', { target, name: 'gw-off', serverName: 'api.example.no', metrics: { enabled: false } });
    const service = target.deploy(stack, { name: 'orders', component: 'service', kind: 'stateless', image: 'registry.example.no/orders:1.0.0', ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } } });
    on.addRoute({ path: '/v1/orders', service, port: 8080 });
    off.addRoute({ path: '/v1/orders', service, port: 8080 });
    const json = synthJson(stack);
    expect(on.renderConfig()).toMatch(/server \{\n\t\tlisten 127\.0\.0\.1:8082;\n\t\taccess_log off;\n\t\tlocation = \/stub_status \{\n\t\t\tstub_status;/);
    expect(off.renderConfig()).not.toContain('stub_status');
    expect(findByName(json, 'kubernetes_deployment_v1', 'gw-on').spec.template.spec.container.map((c: any) => c.name)).toEqual(['gateway', 'nginx-exporter']);
    expect(findByName(json, 'kubernetes_deployment_v1', 'gw-off').spec.template.spec.container.map((c: any) => c.name)).toEqual(['gateway']);
    expect(findByName(json, 'kubernetes_network_policy_v1', 'gw-off').spec.ingress).toHaveLength(1);
  });

  it('keeps the exporters off the data volume (Kubernetes and Docker); the WAL archiver keeps it', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    new PostgresDatabase(stack, 'db', { target, serviceName: 'orders' });
    const pod = findByName(synthJson(stack), 'kubernetes_stateful_set_v1', 'orders-db').spec.template.spec;
    const exporter = pod.container.find((c: any) => c.name === 'postgres-exporter');
    expect(exporter.volume_mount.map((m: any) => m.mount_path)).not.toContain('/var/lib/postgresql/data');
    expect(exporter.volume_mount.map((m: any) => m.mount_path)).toContain('/run/secrets/postgresql-monitoring');
    const docker = newStack();
    const local = new DockerTarget(docker.stack, 'local', { location: OSLO_REGION });
    new PostgresDatabase(docker.stack, 'db', { target: local, serviceName: 'orders' });
    const sidecar = Object.values(resourcesOf(synthJson(docker.stack), 'docker_container')).find((c: any) => c.name === 'sovereign-orders-db-0-postgres-exporter') as any;
    expect(sidecar.volumes.filter((v: any) => v.volume_name)).toEqual([]);
    expect(sidecar.volumes.filter((v: any) => v.from_container)).toHaveLength(1); // the files (its password)
  });

  it('mounts into each sidecar only the secrets it names: the exporter its own password, the archiver none (Kubernetes)', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    new PostgresDatabase(stack, 'db', {
      target, serviceName: 'orders', tls: { secretName: 'orders-db-tls' },
      backup: { location: OSLO_REGION, objectStore: { bucket: 'orders-backups', endpoint: 's3.oslo-1.example.no', region: 'oslo-1' }, image: 'registry.example.no/postgres-pgbackrest:17.2' },
    });
    const pod = findByName(synthJson(stack), 'kubernetes_stateful_set_v1', 'orders-db').spec.template.spec;
    const secretPaths = (name: string) => pod.container.find((c: any) => c.name === name).volume_mount
      .map((m: any) => m.mount_path).filter((p: string) => p.startsWith('/run/secrets/'));
    expect(secretPaths('postgresql')).toEqual(['/run/secrets/postgresql', '/run/secrets/postgresql-tls', '/run/secrets/postgresql-monitoring']);
    expect(secretPaths('postgres-exporter')).toEqual(['/run/secrets/postgresql-monitoring']);
    expect(secretPaths('wal-archiver')).toEqual([]);
    expect(userErrorOf(() => parseProps(WorkloadSchema, withExporter({
      sidecars: [{ name: 'exporter', image: 'registry.example.no/x:1.0.0', resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } }, secretMounts: ['/run/secrets/nope'] }],
      metrics: undefined,
    }), 'workload'))).toMatch(/workload\.sidecars\[0\]\.secretMounts\[0\]: must be the mountPath of one of the workload's secretMounts/);
  });

  it('refuses a service whose database role would be the monitoring role', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    expect(userErrorOf(() => new PostgresDatabase(stack, 'db', { target, serviceName: 'sovereign-monitoring' })))
      .toMatch(/serviceName: must not give the name "sovereign_monitoring"/);
  });
});

describe('DockerTarget metrics', () => {
  it('runs a sidecar in its replica\'s network namespace, so its port is the replica\'s on the platform network, published nowhere', () => {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    target.deploy(stack, withExporter({ replicas: 1, ingress: [] }));
    const containers = resourcesOf(synthJson(stack), 'docker_container');
    const [id, replica] = Object.entries(containers).find(([, c]: [string, any]) => c.name === 'sovereign-ledger-0')!;
    const sidecar = Object.values(containers).find((c: any) => c.name === 'sovereign-ledger-0-exporter') as any;
    expect(sidecar.network_mode).toBe(`container:\${docker_container.${id}.id}`);
    expect(sidecar.networks_advanced).toBeUndefined();
    expect(sidecar.ports).toBeUndefined();
    expect((replica as any).ports).toBeUndefined();
    expect((replica as any).networks_advanced[0].aliases).toContain('ledger-0');
  });
});

it('keeps SovereignStackError the user-facing error of the model', () => {
  expect(() => parseProps(WorkloadSchema, { ...withExporter(), metrics: { port: 'x' } }, 'workload')).toThrow(SovereignStackError);
});
