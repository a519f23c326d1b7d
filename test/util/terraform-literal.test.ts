import { Lazy, TerraformStack } from 'cdktf';
import { Password } from '@cdktf/provider-random/lib/password';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { KubernetesTarget, MicroService, OSLO_REGION, PostgresDatabase } from '../../lib';
import { escapeTemplateText, terraformLiteral } from '../../lib/util/terraform-literal';
import { findByName, newStack, synthJson } from '../support/synth';

describe('terraformLiteral', () => {
  it('escapes interpolations and directives in plain text, and nothing else', () => {
    expect(escapeTemplateText('${OWNER_PASSWORD:-} %{ if x } $HOME 100% {x} $${kept}')).toBe('$${OWNER_PASSWORD:-} %%{ if x } $HOME 100% {x} $$${kept}');
  });

  it('leaves references alone and escapes the text around them, also inside lazy values', () => {
    const { stack } = newStack();
    new RandomProvider(stack, 'random');
    const password = new Password(stack, 'pw', { length: 20 }).result;
    const later = Lazy.stringValue({ produce: () => `x=\${X} pw=${password}` });
    const value = terraformLiteral(`a \${file("/etc/hostname")} ${password} ${later}`);
    // Resolve through a resource, as Terraform would see it.
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    target.deploy(stack, {
      name: 'probe', component: 'service', kind: 'stateless', image: 'registry.example.no/probe:1',
      env: [{ name: 'V', value }], resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
    });
    const env = findByName(synthJson(stack as TerraformStack), 'kubernetes_deployment_v1', 'probe').spec.template.spec.container[0].env;
    // Escaped once here, and once more when the target escapes the workload: `$$${` is the literal `$${`.
    expect(env[0].value).toBe('a $$${file("/etc/hostname")} ${random_password.pw.result} x=$$${X} pw=${random_password.pw.result}');
  });

  it('keeps user strings from becoming Terraform expressions on the deployer\'s machine', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    new MicroService(stack, 'svc', {
      target, name: 'orders', image: 'registry.example.no/orders:1', port: 8080,
      env: { LEAK: '${file("/etc/hostname")}', SHELLISH: '${HOME:-x} %{ if true }y%{ endif }' },
    });
    new PostgresDatabase(stack, 'db', { target, serviceName: 'orders' });
    const json = synthJson(stack);
    const env = findByName(json, 'kubernetes_deployment_v1', 'orders').spec.template.spec.container[0].env;
    expect(env).toContainEqual({ name: 'LEAK', value: '$${file("/etc/hostname")}' });
    expect(env).toContainEqual({ name: 'SHELLISH', value: '$${HOME:-x} %%{ if true }y%%{ endif }' });
    const init = findByName(json, 'kubernetes_config_map_v1', 'orders-db-config').data['docker-entrypoint-initdb.d_10-create-owner.sh'];
    expect(init).toContain('"$${OWNER_PASSWORD:-}"');
    expect(init).not.toMatch(/(^|[^$])\$\{OWNER_PASSWORD/);
  });
});
