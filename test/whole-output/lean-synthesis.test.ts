/**
 * Synthesis 10x faster, item 2: the lean token path (lib/cdktf-internals.ts) changes how fast a
 * stack synthesizes, never what it writes. Every example and fixture stack, and a stack built to
 * exercise every kind of token cdktf resolves, is synthesized by a real `app.synth()` twice: with
 * cdktf as shipped and with the lean path. The written files must be equal byte for byte.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  App, Fn, Lazy, TerraformOutput, TerraformStack, TerraformVariable, Token,
} from 'cdktf';
import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { KubernetesTarget, OSLO_REGION, ReferenceDeployment, ResidencyGuard } from '../../lib';
import {
  PINNED_INTERNALS, internalsMatchPin, leanMakeUniqueId, leanTokens, tokenStackTracesCaptured, useCdktfAsShipped,
} from '../../lib/cdktf-internals';
import * as fc from 'fast-check';
import { local } from '../../stacks/local';
import { osloProduction } from '../../stacks/oslo-production';
import { addServiceStack, escapeHatchStack, overrideDefaultsStack, subclassStack } from '../fixtures/client-stacks';

/** A stack with every token shape: references, lazies, list/number/map tokens, overrides, moves, cross-stack refs. */
function everyTokenShape(app: App): TerraformStack {
  const producer = new TerraformStack(app, 'producer');
  new KubernetesProvider(producer, 'k8s', {});
  const source = new ConfigMapV1(producer, 'source', { metadata: { name: 'source' }, data: { a: '1' } });

  const stack = new TerraformStack(app, 'tokens');
  ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  const platform = new ReferenceDeployment(stack, 'platform', {
    target, gateway: { serverName: 'api.example.no', rateLimit: { perSecond: 10 } },
    services: [{ name: 'orders', image: 'registry.example.no/orders:1.0.0', port: 8080, routes: ['/v1/orders'], database: {}, messaging: { publishes: ['orders.placed'] } }],
  });
  const variable = new TerraformVariable(stack, 'replicas', { type: 'number', default: 2 });
  const names = Fn.split(',', 'a,b,c');
  const counted = { n: 0 };
  const cm = new ConfigMapV1(stack, 'shapes', {
    metadata: {
      name: 'shapes',
      labels: Token.asStringMap(Fn.merge([{ a: 'b' }, { c: 'd' }])),
      annotations: { cross: source.metadata.name, literal: 'keep $${this} and %%{that} and 1e+25' },
    },
    data: {
      number: Token.asString(variable.numberValue),
      list: Fn.join('-', names),
      first: Fn.element(names, 0),
      lazy: Lazy.stringValue({ produce: () => `lazy-${++counted.n}` }),
      escaped: '$${not.a.reference}',
      sum: `${Token.asNumber(variable.value)}`,
    },
  });
  cm.addOverride('metadata.0.labels.override', '${var.replicas}');
  cm.addOverride('data.removed', undefined);
  cm.addOverride('lifecycle.ignore_changes', ['data']);
  platform.gateway.workload.resources.deployment?.addOverride('spec.0.replicas', Token.asString(variable.numberValue));
  const moved = new ConfigMapV1(stack, 'moved-from', { metadata: { name: 'moved' } });
  moved.moveTo('moved-target');
  new ConfigMapV1(stack, 'moved-to', { metadata: { name: 'moved' } }).addMoveTarget('moved-target');
  new ConfigMapV1(stack, 'imported', { metadata: { name: 'imported' } }).importFrom('platform/imported');
  new TerraformOutput(stack, 'names', { value: names });
  new TerraformOutput(stack, 'cross', { value: source.metadata.name });
  new TerraformOutput(stack, 'nested', { value: { a: undefined, b: [1, 2e30], c: { d: 'e' } } });
  stack.addOverride('terraform.required_version', '>= 1.5');
  return stack;
}

const BUILDERS: Record<string, (app: App) => void> = {
  'oslo-production': (app) => { osloProduction(app); },
  local: (app) => { local(app); },
  'client-stacks': (app) => { addServiceStack(app); overrideDefaultsStack(app); escapeHatchStack(app); subclassStack(app); },
  'every-token-shape': (app) => { everyTokenShape(app); },
};

/** Every file `app.synth()` wrote, path -> content. */
function synthesizedFiles(build: (app: App) => void, shipped: boolean): Map<string, string> {
  useCdktfAsShipped(shipped);
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lean-synth-'));
  try {
    const app = new App({ outdir, stackTraces: false });
    build(app);
    app.synth();
    const files = new Map<string, string>();
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else files.set(path.relative(outdir, p), fs.readFileSync(p, 'utf8'));
      }
    };
    walk(outdir);
    return files;
  } finally {
    useCdktfAsShipped(false);
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

describe('lean synthesis', () => {
  it('runs against the cdktf internals it was written for', () => {
    // If this fails, cdktf changed: review lib/cdktf-internals.ts against the new source, then re-pin.
    expect(internalsMatchPin()).toBe(true);
    expect(Object.keys(PINNED_INTERNALS).sort()).toEqual(['captureStackTrace', 'prepareStack', 'stackResolve', 'stackSynthesizeSha256', 'uniqueIdModuleSha256']);
  });

  it.each([true, false])('leaves no cdk.tf.json when the document cannot be written (cdktf as shipped: %s)', (shipped) => {
    useCdktfAsShipped(shipped);
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lean-synth-'));
    try {
      const app = new App({ outdir, stackTraces: false });
      const stack = new TerraformStack(app, 'broken');
      ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
      new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
      stack.addOverride('locals.count', BigInt(1)); // JSON cannot write a BigInt
      expect(() => app.synth()).toThrow(/BigInt/);
      expect(fs.readdirSync(path.join(outdir, 'stacks', 'broken')).filter((f) => f.includes('cdk.tf.json'))).toEqual([]);
    } finally {
      useCdktfAsShipped(false);
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('gives every path the logical id cdktf gives it', () => {
    useCdktfAsShipped(true);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const shipped: (c: string[]) => string = require('cdktf/lib/private/unique').makeUniqueId;
    useCdktfAsShipped(false);
    expect(shipped).not.toBe(leanMakeUniqueId);
    const component = fc.oneof(
      fc.constantFrom('Default', 'Resource', 'platform', 'svc-1', 'svc-1-db', 'db', 'a/b', 'ü', ''),
      fc.string({ maxLength: 12 }), fc.string({ minLength: 250, maxLength: 300 }),
    );
    fc.assert(fc.property(fc.array(component, { maxLength: 8 }), (components) => {
      let expected: string | Error;
      try { expected = shipped([...components]); } catch (e) { expected = e as Error; }
      if (expected instanceof Error) expect(() => leanMakeUniqueId([...components])).toThrow(expected.message);
      else expect(leanMakeUniqueId([...components])).toBe(expected);
    }), { numRuns: 3000 });
  });

  it.each(Object.keys(BUILDERS))('writes %s byte for byte as cdktf does', (name) => {
    const shipped = synthesizedFiles(BUILDERS[name], true);
    const lean = synthesizedFiles(BUILDERS[name], false);
    expect([...lean.keys()].sort()).toEqual([...shipped.keys()].sort());
    const stacks = [...shipped.keys()].filter((f) => f.endsWith('cdk.tf.json'));
    expect(stacks.length).toBeGreaterThan(0);
    for (const [file, content] of shipped) expect({ file, content: lean.get(file) }).toEqual({ file, content });
  });

  it('keeps the shapes the token stack exercises (the comparison is not vacuous)', () => {
    const files = synthesizedFiles(BUILDERS['every-token-shape'], false);
    const json = JSON.parse(files.get(path.join('stacks', 'tokens', 'cdk.tf.json'))!);
    const cm = json.resource.kubernetes_config_map_v1.shapes;
    expect(cm.data).toMatchObject({
      number: '${var.replicas}', list: '${join("-", split(",", "a,b,c"))}', escaped: '$${not.a.reference}',
    });
    expect(cm.data.lazy).toMatch(/^lazy-\d+$/);
    expect(cm.data.removed).toBeUndefined();
    expect(cm.metadata.annotations.cross).toMatch(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-producer\.outputs\./);
    expect(json.moved).toHaveLength(1);
    expect(json.import).toHaveLength(1);
    expect(json.output.nested.value).toEqual({ b: [1, 2e30], c: { d: 'e' } });
  });

  it('stops token stack capture only for an app that asked for no stack traces, unless the switch says keep them', () => {
    const before = process.env.SOVEREIGN_STACK_TOKEN_TRACES;
    try {
      delete process.env.SOVEREIGN_STACK_TOKEN_TRACES;
      leanTokens(new TerraformStack(new App({ stackTraces: false }), 's'));
      expect(tokenStackTracesCaptured()).toBe(false);
      expect(creationStackOf(new TerraformStack(new App({ stackTraces: false }), 't'))).toEqual([]);

      leanTokens(new TerraformStack(new App(), 's'));
      expect(tokenStackTracesCaptured()).toBe(true);

      process.env.SOVEREIGN_STACK_TOKEN_TRACES = '1';
      const traced = new TerraformStack(new App({ stackTraces: false }), 's');
      leanTokens(traced);
      expect(tokenStackTracesCaptured()).toBe(true);
      expect(creationStackOf(traced).length).toBeGreaterThan(0);
    } finally {
      if (before === undefined) delete process.env.SOVEREIGN_STACK_TOKEN_TRACES;
      else process.env.SOVEREIGN_STACK_TOKEN_TRACES = before;
      leanTokens(new TerraformStack(new App({ stackTraces: false }), 'reset'));
    }
  });

  it('reports a token that fails to resolve with cdktf\'s message; its creation stack only with the switch', () => {
    const failing = (app: App): void => {
      const stack = new TerraformStack(app, 'failing');
      new KubernetesProvider(stack, 'k8s', {});
      leanTokens(stack);
      new ConfigMapV1(stack, 'broken', {
        metadata: { name: 'broken' },
        data: { deep: Lazy.stringValue({ produce: () => { throw new Error('no value for "deep"'); } }) },
      });
    };
    const messageOf = (shipped: boolean): string => {
      try {
        synthesizedFiles(failing, shipped);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    const shipped = messageOf(true);
    expect(shipped).toMatch(/^Resolution error: no value for "deep"\.\nObject creation stack:\n {2}at /);
    expect(messageOf(false)).toBe('Resolution error: no value for "deep".');
    process.env.SOVEREIGN_STACK_TOKEN_TRACES = '1';
    try {
      expect(messageOf(false)).toMatch(/^Resolution error: no value for "deep"\.\nObject creation stack:\n {2}at /);
    } finally {
      delete process.env.SOVEREIGN_STACK_TOKEN_TRACES;
    }
  });

  it('skips the prepare resolve only for an app with a single stack, which has no references between stacks', () => {
    const producedIn = (stacks: number, shipped: boolean): { calls: number; backends: number } => {
      let calls = 0;
      let backends = 0;
      const files = synthesizedFiles((app) => {
        for (let i = 0; i < stacks; i++) {
          const stack = new TerraformStack(app, `s${i}`);
          ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
          new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
          new ConfigMapV1(stack, 'counted', { metadata: { name: 'counted' }, data: { n: Lazy.stringValue({ produce: () => `${++calls > 0}` }) } });
        }
      }, shipped);
      for (const [file, content] of files) if (file.endsWith('cdk.tf.json')) backends += JSON.parse(content).terraform.backend.local ? 1 : 0;
      return { calls, backends };
    };
    expect(producedIn(1, true)).toEqual({ calls: 2, backends: 1 }); // cdktf: prepare pass + synthesis
    expect(producedIn(1, false)).toEqual({ calls: 1, backends: 1 }); // lean: synthesis only, backend still ensured
    expect(producedIn(2, false)).toEqual({ calls: 4, backends: 2 }); // several stacks: the prepare pass is kept
  });
});

/** The creation stack of a token made now (after `leanTokens` saw `scope`). */
function creationStackOf(scope: Construct): string[] {
  return (Lazy.anyValue({ produce: () => scope.node.path }) as unknown as { creationStack: string[] }).creationStack;
}
