/**
 * Deployable, item 0: Terraform's own parser accepts every stack this repository synthesizes.
 *
 * Each stack goes through terraformCheck (test/support/terraform-check.ts): init, validate and
 * plan with every resource standing in as a built-in terraform_data, strings untouched. A literal
 * `${` or `%{` that reaches the JSON unescaped either breaks validate or is evaluated on the
 * deployer's machine; the LEAK stacks prove a user's `${file(...)}` reaches the container as text.
 */
import * as fs from 'fs';
import { App, TerraformStack, Testing } from 'cdktf';
import { DockerTarget, KubernetesTarget, OSLO_REGION, ReferenceDeployment, ResidencyGuard, ServiceSpec } from '../../lib';
import { DEVELOPER_MACHINE, local } from '../../stacks/local';
import { osloProduction } from '../../stacks/oslo-production';
import { addServiceStack, escapeHatchStack, overrideDefaultsStack, subclassStack } from '../fixtures/client-stacks';
import { describeWithTerraform, terraformCheck } from '../support/terraform-check';

const LEAK = '${file("/etc/hostname")}';
const SHELLISH = '${HOME:-x} %{ if true }y%{ endif }';

/** A service whose env Terraform would evaluate if it reached the JSON unescaped. */
const LEAKY: ServiceSpec = {
  name: 'leaky', image: 'registry.example.no/leaky:1.0.0', port: 8080, routes: ['/v1/leaky'],
  env: { LEAK, SHELLISH }, database: {}, messaging: { publishes: ['leaky.happened'] },
};

function leakyKubernetes(app: App): TerraformStack {
  const stack = new TerraformStack(app, 'leaky-kubernetes');
  ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });
  new ReferenceDeployment(stack, 'platform', {
    target, services: [LEAKY],
    gateway: { serverName: 'api.example.no', tls: { secretName: 'api-tls' }, rateLimit: { perSecond: 10, burst: 20 } },
  });
  return stack;
}

function leakyDocker(app: App): TerraformStack {
  const stack = new TerraformStack(app, 'leaky-docker');
  ResidencyGuard.of(stack).useStateLocation(DEVELOPER_MACHINE);
  const target = new DockerTarget(stack, 'docker', { location: DEVELOPER_MACHINE });
  new ReferenceDeployment(stack, 'platform', {
    target, services: [LEAKY],
    gateway: { serverName: 'localhost', replicas: 1, rateLimit: { perSecond: 10, burst: 20 } },
  });
  return stack;
}

const STACKS: Array<[string, (app: App) => TerraformStack]> = [
  ['osloProduction', (app) => osloProduction(app)],
  ['local', local],
  ['addServiceStack', addServiceStack],
  ['overrideDefaultsStack', overrideDefaultsStack],
  ['escapeHatchStack', escapeHatchStack],
  ['subclassStack', subclassStack],
  // The two leaky stacks are checked (diagnostics first) by their own test below.
];

function synthesize(build: (app: App) => TerraformStack): object {
  return JSON.parse(Testing.synth(build(Testing.app({ stackTraces: false })), true)) as object;
}

/** Every value an env var named `name` gets: Docker "NAME=value" strings, Kubernetes {name, value}. */
function envValues(value: unknown, name: string): unknown[] {
  if (typeof value === 'string') return value.startsWith(`${name}=`) ? [value.slice(name.length + 1)] : [];
  if (Array.isArray(value)) return value.flatMap((v) => envValues(v, name));
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.name === name && 'value' in o) return [o.value];
    return Object.values(o).flatMap((v) => envValues(v, name));
  }
  return [];
}

function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(allStrings);
  return [];
}

describeWithTerraform('Terraform parses every synthesized stack', (terraform) => {
  // init + validate + plan + show, ~1-2 s per stack here; generous for a loaded CI machine.
  jest.setTimeout(60000);

  it.each(STACKS)('%s: validate and plan report nothing', async (_name, build) => {
    const result = await terraformCheck(synthesize(build), { terraform });
    expect(result.diagnostics).toEqual([]);
    expect(Object.keys(result.plannedInputs).length).toBeGreaterThan(0);
  });

  it.each([['Kubernetes', leakyKubernetes], ['Docker', leakyDocker]] as const)(
    'a user env value reaches the %s workload literally, never evaluated',
    async (_target, build) => {
      const hostname = fs.readFileSync('/etc/hostname', 'utf8');
      const result = await terraformCheck(synthesize(build), { terraform });
      expect(result.diagnostics).toEqual([]);
      // One value per replica (Docker has a container each), all of them the literal text.
      expect([...new Set(envValues(result.plannedInputs, 'LEAK'))]).toEqual([LEAK]);
      expect([...new Set(envValues(result.plannedInputs, 'SHELLISH'))]).toEqual([SHELLISH]);
      const planned = allStrings(result.plannedInputs);
      expect(planned).not.toContain(hostname);
      expect(planned.filter((s) => s.includes(`LEAK=${hostname}`))).toEqual([]);
    },
  );
});
