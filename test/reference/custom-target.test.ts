/**
 * Name checks on a target that only implements IWorkloadTarget (no WorkloadTarget base class):
 * components and the reference deployment must refuse a taken workload name before creating
 * anything, with the prop that chose it, as they do on our own targets.
 */
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { DeployOptions, DeployedWorkload, IWorkloadTarget, KubernetesTarget, MicroService, OSLO_REGION, PostgresDatabase, ReferenceDeployment, WorkloadProps } from '../../lib';

/** A target of a user's own, by composition: it hands every workload to a target it wraps. */
class WrappingTarget implements IWorkloadTarget {
  public readonly targetKind = 'wrapping';
  public readonly location = OSLO_REGION;
  public readonly dnsResolver: string;
  private readonly deployed = new Map<string, DeployedWorkload>();

  constructor(private readonly inner: IWorkloadTarget) {
    this.dnsResolver = inner.dnsResolver;
  }

  public deploy(scope: Construct, workload: WorkloadProps, options?: DeployOptions): DeployedWorkload {
    const d = this.inner.deploy(scope, workload, options);
    this.deployed.set(d.workload.name, d);
    return d;
  }

  public findWorkload(name: string): DeployedWorkload | undefined {
    return this.deployed.get(name);
  }
}

function setup() {
  const stack = new TerraformStack(Testing.app({ stackTraces: false }), 'custom');
  const target = new WrappingTarget(new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' }));
  new MicroService(stack, 'orders', { target, name: 'orders', image: 'registry.example.no/orders:1.0.0', port: 8080 });
  return { stack, target };
}

describe('a target that only implements IWorkloadTarget', () => {
  it('a component refuses a taken name by its prop, and creates nothing', () => {
    const { stack, target } = setup();
    new PostgresDatabase(stack, 'orders-db', { target, serviceName: 'orders' });
    expect(() => new PostgresDatabase(stack, 'again-db', { target, serviceName: 'orders' }))
      .toThrow(/invalid PostgresDatabase custom\/again-db props:\n {2}- .*props\.serviceName: a workload named "orders-db" is already deployed on the wrapping target/);
    expect(stack.node.tryFindChild('again-db')).toBeUndefined();
  });

  it('the reference deployment refuses a service whose name is taken, and creates nothing', () => {
    const { stack, target } = setup();
    expect(() => new ReferenceDeployment(stack, 'platform', {
      target,
      gateway: { serverName: 'api.example.no' },
      services: [{ name: 'orders', image: 'registry.example.no/orders:1.0.0', port: 8080, routes: ['/v1/orders'] }],
    })).toThrow(/props\.services\[0\]\.name: "orders" is already a workload on the wrapping target/);
    expect(stack.node.tryFindChild('platform')).toBeUndefined();
  });

  it('addService refuses a taken name before creating anything', () => {
    const { stack, target } = setup();
    const platform = new ReferenceDeployment(stack, 'platform', { target, gateway: { serverName: 'api.example.no' }, services: [] });
    expect(() => platform.addService({ name: 'orders', image: 'registry.example.no/orders:1.0.0', port: 8080, routes: ['/v1/orders'] }))
      .toThrow(/addService "orders".*name: "orders" is already a workload on the wrapping target/s);
    expect(platform.node.tryFindChild('orders')).toBeUndefined();
    expect(platform.serviceNames).toEqual([]);
  });
});
