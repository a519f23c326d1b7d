/**
 * The converter from a provider config to its Terraform JSON body: what it reuses, what it copies,
 * and that an override (which cdktf merges into the body it is given) never reaches the config.
 */
import { Testing, TerraformStack } from 'cdktf';
import { SecretV1Config } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { ServiceV1Config } from '@cdktf/provider-kubernetes/lib/service-v1';
import { providerConfigToJson } from '../../lib/targets/common/terraform-json';
import { renderedResource } from '../../lib/targets/common/rendered-resource';

describe('providerConfigToJson', () => {
  const config = () => ({
    metadata: { labels: { app: 'orders' }, name: 'orders' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'orders' } }, ports: [{ name: 'http', port: 80 }] },
  });

  it('reuses, when asked, the parts that come out as they went in, and copies the rest', () => {
    const c = config();
    const { json } = providerConfigToJson(c, true);
    const metadata = json.metadata as Record<string, unknown>;
    expect(metadata).toBe(c.metadata); // single-word keys in sorted order, unchanged values
    expect(json.spec).not.toBe(c.spec); // matchLabels -> match_labels
    expect((json.spec as { ports: unknown[] }).ports).toBe(c.spec.ports);
    expect(json).toEqual({ metadata: c.metadata, spec: { ports: [{ name: 'http', port: 80 }], replicas: 2, selector: { match_labels: { app: 'orders' } } } });
  });

  it('copies everything by default, and the same JSON either way', () => {
    const c = config();
    const copied = providerConfigToJson(c).json;
    expect(copied.metadata).not.toBe(c.metadata);
    expect((copied.spec as { ports: unknown[] }).ports).not.toBe(c.spec.ports);
    expect(JSON.stringify(copied)).toBe(JSON.stringify(providerConfigToJson(c, true).json));
  });

  it('drops undefined members and list elements in both modes (a copy then)', () => {
    const c = { metadata: { name: 'x', namespace: undefined }, spec: [undefined, { a: 1 }] };
    for (const reuse of [false, true]) {
      const { json } = providerConfigToJson(c, reuse);
      expect(json).toEqual({ metadata: { name: 'x' }, spec: [{ a: 1 }] });
      expect(Object.keys(json.metadata as object)).toEqual(['name']);
    }
  });

  it('never lets an override reach the config it renders from', () => {
    // cdktf copies a body's plain objects before merging overrides into it, but not its lists:
    // an override into a list element would change the config if the body shared that list.
    const stack = new TerraformStack(Testing.app(), 's');
    const shared = { labels: { app: 'orders' }, name: 'orders' };
    const ports = [{ name: 'http', port: 80 }];
    const secret = renderedResource<SecretV1Config>(stack, 'secret', 'kubernetes_secret_v1', { metadata: shared });
    const service = renderedResource<ServiceV1Config>(stack, 'service', 'kubernetes_service_v1', { metadata: { name: 'orders' }, spec: { port: ports } });
    Testing.synth(stack);
    secret.addOverride('metadata.labels.team', 'payments');
    service.addOverride('spec.port.0.name', 'https');
    const json = JSON.parse(Testing.synth(stack));
    expect(json.resource.kubernetes_secret_v1.secret.metadata.labels).toEqual({ app: 'orders', team: 'payments' });
    expect(json.resource.kubernetes_service_v1.service.spec.port).toEqual([{ name: 'https', port: 80 }]);
    expect(shared).toEqual({ labels: { app: 'orders' }, name: 'orders' });
    expect(ports).toEqual([{ name: 'http', port: 80 }]);
  });
});
