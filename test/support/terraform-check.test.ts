/**
 * The check must be able to fail: hand-written cdk.tf.json documents prove that an unescaped
 * shell expansion is refused, that an unescaped `${file(...)}` is evaluated (and an escaped one
 * is not), and that the reference mapping neither breaks valid stacks nor hides bad references.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ReferenceRewriter, describeWithTerraform, terraformCheck, toTerraformData } from './terraform-check';

const HOSTNAME_FILE = '/etc/hostname';
const SHELL_EXPANSION = 'if [ -z "${OWNER_PASSWORD:-}" ]; then exit 1; fi';

/** A stack shaped like cdktf's output: providers, backend, required_providers and all. */
function stack(resource: Record<string, Record<string, object>>, extra: object = {}): object {
  return {
    terraform: {
      backend: { local: { path: '/nonexistent/terraform.tfstate' } },
      required_providers: { docker: { source: 'kreuzwerker/docker', version: '3.6.2' } },
    },
    provider: { docker: [{}], random: [{}] },
    resource,
    ...extra,
  };
}

describe('ReferenceRewriter (no terraform needed)', () => {
  const rw = new ReferenceRewriter(new Map([
    ['random_password.p', 'random_password__p'],
    ['data.docker_network.n', 'data__docker_network__n'],
  ]));

  it('rewrites references inside interpolations only', () => {
    expect(rw.template('PASSWORD=${random_password.p.result}'))
      .toBe('PASSWORD=${join("", [terraform_data.random_password__p.triggers_replace, ".result"])}');
    expect(rw.template('${data.docker_network.n}')).toBe('${terraform_data.data__docker_network__n.triggers_replace}');
    expect(rw.template('${upper("x-${random_password.p.result}")}'))
      .toBe('${upper("x-${join("", [terraform_data.random_password__p.triggers_replace, ".result"])}")}');
    expect(rw.template('%{ if random_password.p.length > 0 }y%{ endif }'))
      .toBe('%{ if join("", [terraform_data.random_password__p.triggers_replace, ".length"]) > 0 }y%{ endif }');
  });

  it('copies literal text, escapes and unknown references byte for byte', () => {
    for (const s of [
      'random_password.p.result',
      '$${random_password.p.result}',
      '%%{ if random_password.p.result }',
      '$$${random_password.p.result}',
      '${var.random_password.p}',
      '${OWNER_PASSWORD:-}',
      '${random_password.q.result}',
      '${file("/etc/hostname")} %{ if true }y%{ endif }',
      '${"unterminated',
    ]) expect(rw.template(s)).toBe(s);
  });

  it('maps depends_on entries to the stand-in resource', () => {
    expect(rw.address('random_password.p')).toBe('terraform_data.random_password__p');
    expect(rw.address('random_password.q')).toBe('random_password.q');
  });

  it('refuses blocks it cannot stand in for', () => {
    expect(() => toTerraformData({ module: { m: { source: './m' } } })).toThrow(/"module" blocks are not supported/);
    expect(() => toTerraformData({ resource: { a: { b: { count: 2 } } } })).toThrow(/a\.b uses "count"/);
  });
});

describeWithTerraform('terraformCheck', (terraform) => {
  jest.setTimeout(60000);
  const check = (json: object, variables?: Record<string, unknown>) => terraformCheck(json, { terraform, variables });

  it('FAILS on an unescaped shell expansion, naming the resource and argument', async () => {
    const result = await check(stack({
      kubernetes_config_map_v1: { init: { data: { 'init.sh': SHELL_EXPANSION } } },
    }));
    expect(result.valid).toBe(false);
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatch(/^kubernetes_config_map_v1\.init \(data\.init\.sh\): Extra characters after interpolation expression/);
    expect(result.diagnostics[0]).toContain('${OWNER_PASSWORD:-}');
  });

  it('FAILS on an unescaped shell expansion in provider settings, outputs and object keys', async () => {
    const shell = '${HOME:-x}';
    const inProvider = await check({ ...stack({}), provider: { docker: [{ host: shell }] } });
    expect(inProvider.diagnostics).toEqual([expect.stringMatching(/^provider\.docker \(host\): Extra characters after interpolation/)]);
    const inOutput = await check(stack({}, { output: { o: { value: shell } } }));
    expect(inOutput.diagnostics).toEqual([expect.stringMatching(/^output\.o \(value\): Extra characters after interpolation/)]);
    const inKey = await check(stack({ docker_container: { c: { labels: { [shell]: 'v' } } } }));
    expect(inKey.diagnostics).toEqual([expect.stringMatching(/^docker_container\.c \(labels\.\$\{HOME:-x\}\): Extra characters/)]);
  });

  it('EVALUATES an unescaped ${file(...)} and keeps an escaped one literal', async () => {
    const hostname = fs.readFileSync(HOSTNAME_FILE, 'utf8');
    const result = await check(stack({
      docker_container: {
        c: {
          env: [`LEAK=\${file("${HOSTNAME_FILE}")}`, `SAFE=$\${file("${HOSTNAME_FILE}")}`],
          command: ['%{ if true }y%{ endif }', '%%{ if true }y%%{ endif }'],
        },
      },
    }));
    expect(result.diagnostics).toEqual([]);
    const input = result.plannedInputs['docker_container.c'] as { env: string[]; command: string[] };
    expect(input.env).toEqual([`LEAK=${hostname}`, `SAFE=\${file("${HOSTNAME_FILE}")}`]);
    expect(input.command).toEqual(['y', '%{ if true }y%{ endif }']);
  });

  it('plans a cdktf-shaped stack: references, depends_on, lifecycle, variables, data, outputs', async () => {
    const result = await check(stack({
      random_password: { p: { length: 24, special: false } },
      docker_image: { i: { name: 'nginx:1.27', keep_locally: true } },
      docker_container: {
        c: {
          name: '${var.prefix}-c',
          image: '${docker_image.i.image_id}',
          env: ['PASSWORD=${random_password.p.result}', 'NET=${data.docker_network.n.name}', 'N=${var.replicas + 1}'],
          networks_advanced: [{ name: '${data.docker_network.n.name}' }],
          upload: [{ file: '/x', content: '${base64encode(random_password.p.result)}' }],
          depends_on: ['docker_image.i', 'random_password.p'],
          lifecycle: { prevent_destroy: true, create_before_destroy: true, ignore_changes: ['env', 'image'] },
        },
      },
    }, {
      data: { docker_network: { n: { name: 'bridge' } } },
      variable: { prefix: { type: 'string' }, replicas: { type: 'number' }, with_default: { type: 'string', default: 'd' } },
      output: { password_ref: { value: '${random_password.p.result}', sensitive: true } },
    }), { replicas: 2 });
    expect(result.diagnostics).toEqual([]);
    expect(Object.keys(result.plannedInputs).sort()).toEqual([
      'data.docker_network.n', 'docker_container.c', 'docker_image.i', 'provider.docker', 'provider.random', 'random_password.p',
    ]);
    expect(result.plannedInputs['docker_container.c']).toEqual({
      name: 'dummy-c',
      image: 'docker_image.i.image_id',
      env: ['PASSWORD=random_password.p.result', 'NET=data.docker_network.n.name', 'N=3'],
      networks_advanced: [{ name: 'data.docker_network.n.name' }],
      upload: [{ file: '/x', content: Buffer.from('random_password.p.result').toString('base64') }],
    });
    expect(result.plannedOutputs).toEqual({ password_ref: 'random_password.p.result' });
  });

  it('FAILS on a reference to a resource that does not exist, and on a cycle', async () => {
    const missing = await check(stack({ docker_container: { c: { image: '${docker_image.missing.image_id}' } } }));
    expect(missing.diagnostics).toEqual([expect.stringMatching(/^docker_container\.c \(image\): Reference to undeclared resource/)]);
    const cycle = await check(stack({
      docker_container: { a: { name: '${docker_container.b.name}' }, b: { name: '${docker_container.a.name}' } },
    }));
    expect(cycle.valid).toBe(false);
    expect(cycle.diagnostics.join('\n')).toMatch(/Cycle/);
  });

  it('removes its temp dir', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tfc-root-'));
    try {
      await terraformCheck(stack({ random_password: { p: { length: 8 } } }), { terraform, tmpRoot: root });
      await terraformCheck(stack({ random_password: { p: { length: '${OWNER_PASSWORD:-}' } } }), { terraform, tmpRoot: root });
      expect(fs.readdirSync(root)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
