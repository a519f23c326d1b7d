/**
 * The bench compares our ReferenceDeployment with the same platform written by hand in plain
 * cdktf (bench/plain-cdktf-platform.ts). The comparison is only fair while both synthesize the
 * same thing: this synthesizes both at 3 services, as the bench does (App, stackTraces off,
 * app.synth()), and requires the same resource types with each type's count within 10% of ours.
 * At 3 services one resource more or less per service moves a type by 3, which the tolerance
 * catches for every type; a shared resource more or less moves it by 1. When our output changes
 * shape on purpose, change the fixture to match.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { ourPlatform } from '../../bench/ours-platform';
import { plainPlatform, plainServices } from '../../bench/plain-cdktf-platform';

const SERVICES = 3;
const TOLERANCE = 0.1;

interface Synthesized {
  readonly counts: Record<string, number>;
  readonly total: number;
  readonly outputs: number;
  readonly json: { resource: Record<string, Record<string, any>> };
}

function synth(build: (stack: TerraformStack) => void): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-fixture-'));
  try {
    const app = new App({ outdir, stackTraces: false });
    build(new TerraformStack(app, 'bench'));
    app.synth();
    const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'bench', 'cdk.tf.json'), 'utf8'));
    const counts = Object.fromEntries(Object.entries(json.resource as Record<string, object>).map(([type, byId]) => [type, Object.keys(byId).length]));
    return { counts, total: Object.values(counts).reduce((a, b) => a + b, 0), outputs: Object.keys(json.output ?? {}).length, json };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** Every string anywhere in a resource type's bodies, joined (the rendered config files among them). */
function text(s: Synthesized, type: string): string {
  return JSON.stringify(s.json.resource[type] ?? {});
}

describe('the plain-cdktf bench fixture synthesizes what ReferenceDeployment does', () => {
  let ours: Synthesized;
  let plain: Synthesized;
  beforeAll(() => {
    ours = synth((stack) => ourPlatform(stack, SERVICES));
    plain = synth((stack) => plainPlatform(stack, plainServices(SERVICES)));
  });

  it('has the same resource types as ours', () => {
    expect(Object.keys(plain.counts).sort()).toEqual(Object.keys(ours.counts).sort());
  });

  it(`has each type's count within ${TOLERANCE * 100}% of ours, and the total`, () => {
    const off = Object.entries(ours.counts)
      .filter(([type, n]) => Math.abs((plain.counts[type] ?? 0) - n) > TOLERANCE * n)
      .map(([type, n]) => `${type}: ours ${n}, plain ${plain.counts[type] ?? 0}`);
    expect(off).toEqual([]);
    expect(Math.abs(plain.total - ours.total)).toBeLessThanOrEqual(TOLERANCE * ours.total);
    expect(plain.outputs).toBe(ours.outputs);
  });

  it("repeats every service in the shared config, as ours does (nginx.conf, the broker's queues and users)", () => {
    for (const s of [ours, plain]) {
      for (let i = 0; i < SERVICES; i++) {
        const configs = text(s, 'kubernetes_config_map_v1');
        expect(configs).toContain(`proxy_pass http://svc-${i};`);
        expect(configs).toContain(`ensure_user 'svc-${i}'`);
        // definitions.json, indented or one entry per line
        expect(configs).toMatch(new RegExp(`"name\\\\": ?\\\\"svc-${i}\\.svc-\\d+\\.changed\\\\"`));
        expect(text(s, 'kubernetes_secret_v1')).toContain(`"svc-${i}":"\${random_password.`);
      }
    }
  });

  it('imports neither the library nor a provider barrel', () => {
    const source = fs.readFileSync(path.join(__dirname, '..', '..', 'bench', 'plain-cdktf-platform.ts'), 'utf8');
    const imports = [...source.matchAll(/from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
    expect(imports.filter((i) => !/^(crypto|cdktf|@cdktf\/provider-(kubernetes|random)\/lib\/[a-z0-9-]+)$/.test(i))).toEqual([]);
  });
});
