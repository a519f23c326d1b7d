/**
 * Synthesis 10x faster: the Kubernetes target renders its resources as RenderedResource (typed
 * provider config -> Terraform JSON, no provider class built). This proves that, for every
 * resource of every example and fixture stack, the body is the one the provider's own class
 * synthesizes from the same config, byte for byte, and that the escape hatches still work.
 */
import { App, TerraformElement, TerraformResource, TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { CronJobV1 } from '@cdktf/provider-kubernetes/lib/cron-job-v1';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { RoleBindingV1 } from '@cdktf/provider-kubernetes/lib/role-binding-v1';
import { RoleV1 } from '@cdktf/provider-kubernetes/lib/role-v1';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { StorageClassV1 } from '@cdktf/provider-kubernetes/lib/storage-class-v1';
import { Password } from '@cdktf/provider-random/lib/password';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { resolveAsStack, useCdktfAsShipped } from '../../lib/cdktf-internals';
import { RenderedResource } from '../../lib/targets/common/rendered-resource';
import { providerConfigToJson } from '../../lib/targets/common/terraform-json';
import { stableJson } from '../../lib/util/stable-json';
import { osloProduction } from '../../stacks/oslo-production';
import { addServiceStack, escapeHatchStack, overrideDefaultsStack, subclassStack } from '../fixtures/client-stacks';

type ProviderClass = new (scope: Construct, id: string, config: any) => TerraformResource;
const PROVIDER_CLASSES: Record<string, ProviderClass> = {
  kubernetes_config_map_v1: ConfigMapV1,
  kubernetes_cron_job_v1: CronJobV1,
  kubernetes_deployment_v1: DeploymentV1,
  kubernetes_namespace_v1: NamespaceV1,
  kubernetes_network_policy_v1: NetworkPolicyV1,
  kubernetes_pod_disruption_budget_v1: PodDisruptionBudgetV1,
  kubernetes_role_binding_v1: RoleBindingV1,
  kubernetes_role_v1: RoleV1,
  kubernetes_secret_v1: SecretV1,
  kubernetes_service_account_v1: ServiceAccountV1,
  kubernetes_service_v1: ServiceV1,
  kubernetes_stateful_set_v1: StatefulSetV1,
  kubernetes_storage_class_v1: StorageClassV1,
  random_password: Password,
};

/** The body (no metadata, no meta-arguments) an element synthesizes, as cdk.tf.json writes it. */
function bodyText(element: TerraformElement, stack: TerraformStack): string {
  const doc = resolveAsStack(stack, element.toTerraform()) as { resource: Record<string, Record<string, Record<string, unknown>>> };
  const body = { ...Object.values(Object.values(doc.resource)[0])[0] };
  for (const meta of ['//', 'depends_on', 'lifecycle']) delete body[meta];
  return stableJson(body)!;
}

/** Builds the provider class's twin of `r` from the same config in a scratch stack. */
function twinText(r: RenderedResource): string {
  const app = Testing.app();
  const scratch = new TerraformStack(app, 'twin');
  new KubernetesProvider(scratch, 'k8s', {});
  new RandomProvider(scratch, 'random', {});
  const Class = PROVIDER_CLASSES[r.terraformResourceType];
  expect({ type: r.terraformResourceType, known: Class !== undefined }).toEqual({ type: r.terraformResourceType, known: true });
  const twin = new Class(scratch, 'twin', r.providerConfig());
  // The same overrides (an escape hatch used by the fixture stacks) on both.
  Object.assign((twin as unknown as { rawOverrides: object }).rawOverrides, (r as unknown as { rawOverrides: object }).rawOverrides);
  useCdktfAsShipped(true);
  try {
    return bodyText(twin, scratch);
  } finally {
    useCdktfAsShipped(false);
  }
}

const STACKS: Record<string, (app: App) => TerraformStack[]> = {
  'oslo-production': (app) => [osloProduction(app)],
  'client-stacks': (app) => [addServiceStack(app), overrideDefaultsStack(app), escapeHatchStack(app), subclassStack(app)],
};

describe('RenderedResource bodies are the provider classes\' bodies', () => {
  const seenTypes = new Set<string>();

  it.each(Object.keys(STACKS))('%s: every rendered resource, byte for byte', (name) => {
    const stacks = STACKS[name](Testing.app({ stackTraces: false }));
    let compared = 0;
    for (const stack of stacks) {
      for (const r of stack.node.findAll().filter((c): c is RenderedResource => c instanceof RenderedResource)) {
        // Resolve the config's tokens first (references, lazy files) the same way for both.
        expect({ path: r.node.path, body: bodyText(r, stack) }).toEqual({ path: r.node.path, body: twinText(r) });
        seenTypes.add(r.terraformResourceType);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('covers every resource type the targets render', () => {
    expect([...seenTypes].sort()).toEqual(Object.keys(PROVIDER_CLASSES).sort());
  });
});

describe('the JSON converter', () => {
  it('renames arguments to snake_case, keeps the keys of maps, and sorts keys', () => {
    const { json, holdsTokens } = providerConfigToJson({
      metadata: { name: 'x', labels: { 'app.kubernetes.io/Name': 'y', b: 'z' }, annotations: { 'a/B': '1' } },
      spec: { selector: { matchLabels: { Key: 'v' } }, template: { spec: { nodeSelector: { 'Zone-A': 'n' }, containerPort: 1 } } },
      data: { 'etc_Conf.conf': 'text' },
    });
    expect(holdsTokens).toBe(false);
    expect(json).toEqual({
      data: { 'etc_Conf.conf': 'text' },
      metadata: { annotations: { 'a/B': '1' }, labels: { 'app.kubernetes.io/Name': 'y', b: 'z' }, name: 'x' },
      spec: { selector: { match_labels: { Key: 'v' } }, template: { spec: { container_port: 1, node_selector: { 'Zone-A': 'n' } } } },
    });
    expect(Object.keys(json)).toEqual(['data', 'metadata', 'spec']);
  });

  it('says when a body holds a token (string, number, lazy value, map key)', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 's');
    const token = new TerraformStackToken(stack);
    expect(providerConfigToJson({ a: token.string }).holdsTokens).toBe(true);
    expect(providerConfigToJson({ a: token.number }).holdsTokens).toBe(true);
    expect(providerConfigToJson({ a: token.lazy }).holdsTokens).toBe(true);
    expect(providerConfigToJson({ labels: { [token.string]: 'v' } }).holdsTokens).toBe(true);
    expect(providerConfigToJson({ a: ['plain', 1, { b: 'c' }] }).holdsTokens).toBe(false);
  });
});

class TerraformStackToken {
  public readonly string: string;
  public readonly number: number;
  public readonly lazy: unknown;
  constructor(stack: TerraformStack) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Lazy, TerraformVariable, Token } = require('cdktf') as typeof import('cdktf');
    const v = new TerraformVariable(stack, 'v', { type: 'string' });
    this.string = v.stringValue;
    this.number = Token.asNumber(v.value);
    this.lazy = Lazy.anyValue({ produce: () => 'x' });
  }
}

describe('escape hatches on rendered resources', () => {
  it('addOverride, dependsOn and lifecycle changes reach cdk.tf.json through cdktf\'s own path', () => {
    const app = Testing.app({ stackTraces: false });
    const stack = escapeHatchStack(app);
    const json = JSON.parse(Testing.synth(stack, true));
    const sts = Object.values<any>(json.resource.kubernetes_stateful_set_v1);
    expect(sts.some((s) => s.spec?.[0]?.min_ready_seconds === 30 || s.spec?.min_ready_seconds === 30)).toBe(true);
  });

  it('a resource changed after construction leaves the fast path and keeps what cdktf would write', () => {
    const app = Testing.app({ stackTraces: false });
    const stack = osloProduction(app);
    const r = stack.node.findAll().find((c): c is RenderedResource => c instanceof RenderedResource && c.terraformResourceType === 'kubernetes_service_v1')!;
    const extra = stack.node.findAll().find((c): c is RenderedResource => c instanceof RenderedResource && c.terraformResourceType === 'kubernetes_config_map_v1')!;
    const fast = (resolveAsStack(stack, r.toTerraform()) as any).resource.kubernetes_service_v1[r.friendlyUniqueId];
    expect(fast.depends_on).toHaveLength(1);
    expect(fast.lifecycle).toBeUndefined();
    r.dependsOn = [...(r.dependsOn ?? []), extra.fqn];
    r.lifecycle = { createBeforeDestroy: true };
    const body = (resolveAsStack(stack, r.toTerraform()) as any).resource.kubernetes_service_v1[r.friendlyUniqueId];
    // As cdktf writes it for any resource: a raw fqn in dependsOn stays an interpolation.
    expect(body.depends_on).toEqual([fast.depends_on[0], `\${kubernetes_config_map_v1.${extra.friendlyUniqueId}}`]);
    expect(body.lifecycle).toEqual({ create_before_destroy: true });
    expect(body.spec).toEqual(fast.spec);
  });
});
