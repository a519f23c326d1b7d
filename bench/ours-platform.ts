/**
 * The bench's cases on sovereign-stack: the platform (a ReferenceDeployment on a KubernetesTarget,
 * every service routed, with its own database and broker messaging) and, opt-in, bare stateful
 * workloads deployed on the target. bench/plain-cdktf-platform.ts is the platform by hand.
 */
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { KubernetesTarget, OSLO_REGION, ReferenceDeployment, ResidencyGuard, ServiceSpec, WorkloadProps } from '../lib';

/** Every service routed, with its own database, publishing and consuming on the bus. */
export function benchService(i: number, n: number): ServiceSpec {
  return {
    name: `svc-${i}`, image: 'registry.example.no/svc:1.0.0', port: 8080, routes: [`/v1/svc-${i}`],
    database: {}, messaging: { publishes: [`svc-${i}.changed`], consumes: [`svc-${(i + 1) % n}.changed`] },
  };
}

function target(stack: TerraformStack): KubernetesTarget {
  ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
  return new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
}

/** The platform of `n` services. */
export function ourPlatform(stack: TerraformStack, n: number): void {
  new ReferenceDeployment(stack, 'platform', {
    target: target(stack), gateway: { serverName: 'api.example.no', rateLimit: { perSecond: 10 } },
    services: Array.from({ length: n }, (_, i) => benchService(i, n)),
  });
}

function statefulWorkload(i: number): WorkloadProps {
  return {
    name: `store-${i}`, component: 'datastore', kind: 'stateful', image: 'registry.example.no/store:1.0.0', replicas: 3,
    ports: [{ name: 'db', containerPort: 5432 }],
    secrets: [{ source: 'generated', name: `store-${i}-credentials`, generated: { password: {} } }],
    env: [{ name: 'PASSWORD', secretRef: { secret: `store-${i}-credentials`, key: 'password' } }],
    configFiles: [{ path: '/etc/store/store.conf', content: `id = ${i}\n` }],
    volumes: [{ name: 'data', mountPath: '/data', sizeGi: 20 }],
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    placement: { datastore: true, spreadAcrossNodes: 'required' },
    disruptionBudget: { maxUnavailable: 1 },
  };
}

/** `n` stateful 3-replica workloads deployed straight on the target (no components). */
export function ourWorkloads(stack: TerraformStack, n: number): void {
  const t = target(stack);
  for (let i = 0; i < n; i++) t.deploy(new Construct(stack, `store-${i}`), statefulWorkload(i));
}
