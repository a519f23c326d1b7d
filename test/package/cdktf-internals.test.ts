/**
 * cdktf's private modules are reached from one file only (lib/cdktf-internals.ts), so a move to
 * another build of cdktf (CDK Terrain, `cdktn`) changes one deep import, not a search through the
 * library. The adapter is internal: it is not part of the package's public API.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { addCustomSynthesis } from '../../lib/cdktf-internals';

const ROOT = path.join(__dirname, '..', '..');
const ADAPTER = path.join('lib', 'cdktf-internals.ts');
const DEEP_IMPORT = /(?:from\s+|require\(\s*|import\(\s*)['"](cdktf\/[^'"]+)['"]/g;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('cdktf internals adapter', () => {
  const files = ['lib', 'stacks', 'bench'].flatMap((d) => sources(path.join(ROOT, d)));
  const deepImports = files.flatMap((f) =>
    [...fs.readFileSync(f, 'utf8').matchAll(DEEP_IMPORT)].map((m) => ({ file: path.relative(ROOT, f), module: m[1] })));

  it('is the only library file that deep-imports cdktf', () => {
    expect(deepImports.filter((i) => i.file !== ADAPTER)).toEqual([]);
    expect(deepImports.filter((i) => i.file === ADAPTER).map((i) => i.module).sort()).toEqual([
      'cdktf/lib/_tokens', 'cdktf/lib/private/unique', 'cdktf/lib/synthesize/synthesizer', 'cdktf/lib/tokens/private/resolve',
      'cdktf/lib/tokens/private/stack-trace',
    ]);
  });

  it('is not exported from the public entry point', () => {
    const index = fs.readFileSync(path.join(ROOT, 'lib', 'index.ts'), 'utf8');
    expect(index).not.toMatch(/cdktf-internals/);
  });

  it('still runs a custom synthesis when the stack is synthesized', () => {
    // If a cdktf (or cdktn) release moves or changes the module, this fails here, not at a user's synth.
    const app = Testing.app({ stackTraces: false });
    const stack = new TerraformStack(app, 'adapter');
    const seen: string[] = [];
    addCustomSynthesis(new Construct(stack, 'probe'), { onSynthesize: (session) => seen.push(session.outdir) });
    app.synth();
    expect(seen).toEqual([app.outdir]);
  });
});
