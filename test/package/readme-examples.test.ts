/**
 * The README's Installation examples, run: cdktf's matchers with nested objects, and the escape
 * hatches (`node.defaultChild`, `workload.resources`). Written as a user's test would be.
 */
import { TerraformResource, TerraformStack, Testing } from 'cdktf';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { KubernetesTarget, OSLO_REGION, PostgresDatabase, ReferenceDeployment } from '../../lib';

function userStack() {
  const app = Testing.app({ stackTraces: false });
  const stack = new TerraformStack(app, 'oslo-production');
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });
  const platform = new ReferenceDeployment(stack, 'platform', {
    target,
    gateway: { serverName: 'api.example.no' },
    services: [{ name: 'orders', image: 'registry.example.no/orders:1.4.2', port: 8080, routes: ['/v1/orders'], database: {} }],
  });
  const reports = new PostgresDatabase(stack, 'reports-db', { target, serviceName: 'reports' });
  return { stack, platform, reports };
}

describe('README: testing your stacks with cdktf matchers', () => {
  const { stack } = userStack();
  const synthesized = Testing.synth(stack);

  it('matches nested blocks only with expect.objectContaining', () => {
    expect(synthesized).toHaveResourceWithProperties(StatefulSetV1, {
      metadata: expect.objectContaining({ name: 'orders-db', namespace: 'platform' }),
      spec: expect.objectContaining({
        replicas: '1',
        template: expect.objectContaining({
          spec: expect.objectContaining({ security_context: expect.objectContaining({ run_as_non_root: true }) }),
        }),
      }),
    });
    // A plain nested object must match the whole block, so this partial one does not match.
    expect(synthesized).not.toHaveResourceWithProperties(StatefulSetV1, { metadata: { name: 'orders-db' } });
  });

  it('checks a resource type with toHaveResource', () => {
    expect(synthesized).toHaveResource(DeploymentV1);
  });
});

describe('README: escape hatches', () => {
  it('node.defaultChild is the StatefulSet / Deployment behind a component', () => {
    const { stack, platform, reports } = userStack();
    (reports.node.defaultChild as TerraformResource).addOverride('spec.min_ready_seconds', 10);
    (platform.gateway.node.defaultChild as TerraformResource).addOverride('spec.revision_history_limit', 3);
    platform.service('orders').database!.workload.resources.statefulSet!.addOverride('spec.min_ready_seconds', 20);
    const json = JSON.parse(Testing.synth(stack));
    const byName = (type: string, name: string) => Object.values<any>(json.resource[type]).find((r) => r.metadata.name === name);
    expect(byName('kubernetes_stateful_set_v1', 'reports-db').spec.min_ready_seconds).toBe(10);
    expect(byName('kubernetes_stateful_set_v1', 'orders-db').spec.min_ready_seconds).toBe(20);
    expect(byName('kubernetes_deployment_v1', 'gateway').spec.revision_history_limit).toBe(3);
    expect(reports.node.defaultChild).toBe(reports.workload.resources.statefulSet);
  });
});
