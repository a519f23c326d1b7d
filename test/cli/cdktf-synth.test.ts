/**
 * The example app as a user runs it, `npm run synth` and the real `cdktf synth`, in a copy of the
 * app's inputs (cdktf.json, package.json, the tsconfigs, stacks/, lib/; node_modules linked) so
 * that builds and edits here never touch the checkout's dist/ or cdktf.out/:
 * - both commands run the same compiled app with plain `node` (no TypeScript runner) and write the
 *   same cdktf.out, byte for byte: both stacks and their residency reports;
 * - a run in a non-EEA region exits non-zero with the guard's message, not a stack trace, and
 *   leaves no cdk.tf.json of the refused stack behind (not even one from an earlier run);
 * - the app is rebuilt before it runs: an edit to stacks/ or lib/ is what runs next, and a type
 *   error stops the synth before any JavaScript runs.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');
jest.setTimeout(240000);

const cdktfJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdktf.json'), 'utf8'));
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

const COPY = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'ss-app-'));
for (const entry of ['cdktf.json', 'package.json', 'tsconfig.json', 'tsconfig.app.json', 'stacks', 'lib']) {
  fs.cpSync(path.join(ROOT, entry), path.join(COPY, entry), { recursive: true });
}
fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(COPY, 'node_modules'));
afterAll(() => fs.rmSync(COPY, { recursive: true, force: true }));

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd: COPY,
    encoding: 'utf8',
    env: { ...process.env, CHECKPOINT_DISABLE: '1', CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1', CI: '1', ...env },
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}
const cdktfSynth = (outdir: string, env?: Record<string, string>) =>
  run(path.join(COPY, 'node_modules', '.bin', 'cdktf'), ['synth', '--output', outdir], env);
const npmSynth = (env?: Record<string, string>) => run('npm', ['run', '--silent', 'synth'], env);

/** Every file under `dir`, relative, with its bytes. */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, rel);
    if (fs.statSync(full).isFile()) files[rel] = fs.readFileSync(full, 'utf8');
  }
  return files;
}

describe('the example app command', () => {
  it('is the same for `npm run synth` and cdktf.json: a tsc -b build, then plain node on the compiled app', () => {
    expect(packageJson.scripts.synth).toBe(cdktfJson.app);
    expect(cdktfJson.app).toBe('node node_modules/typescript/bin/tsc -b tsconfig.app.json && node dist/app/stacks/main.js');
  });

  it('builds into dist/app, apart from the package build (dist/lib), from a config that lists every file it compiles', () => {
    // `tsc -b` decides "up to date" from the files the config lists, not the ones it reaches by
    // import: a source file compiled but not listed could be edited and the old JS would run.
    const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.app.json'), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
    })!;
    expect(config.errors).toEqual([]);
    expect(path.relative(ROOT, config.options.outDir!)).toBe(path.join('dist', 'app'));
    expect(config.options.incremental).toBe(true);
    const roots = new Set(config.fileNames.map((f) => path.resolve(f)));
    expect(roots.has(path.join(ROOT, 'stacks', 'main.ts'))).toBe(true);
    const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
    const compiled = program.getSourceFiles().map((f) => path.resolve(f.fileName))
      .filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`));
    expect(compiled.length).toBeGreaterThan(10);
    expect(compiled.filter((f) => !roots.has(f))).toEqual([]);
  });
});

describe('cdktf synth (CLI) and npm run synth', () => {
  const outdir = path.join(COPY, 'cli.out');
  const file = (stack: string, name: string) => path.join(outdir, 'stacks', stack, name);

  it('cdktf synth synthesizes both example stacks with their residency reports', () => {
    const { status, output } = cdktfSynth(outdir);
    expect({ status, output }).toEqual({ status: 0, output: expect.any(String) });
    for (const stack of ['oslo-production', 'local']) {
      expect(fs.existsSync(file(stack, 'cdk.tf.json'))).toBe(true);
      const report = JSON.parse(fs.readFileSync(file(stack, 'residency-report.json'), 'utf8'));
      expect(report.verdict).toBe('compliant');
      expect(report.datastores.length).toBeGreaterThanOrEqual(3);
    }
    expect(fs.readFileSync(file('oslo-production', 'cdk.tf.json'), 'utf8')).not.toMatch(/"password":\s*"[^$]/);
  });

  it('npm run synth writes the same cdktf.out as cdktf synth, byte for byte, and only dist/app', () => {
    const { status, output } = npmSynth();
    expect({ status, output }).toEqual({ status: 0, output: expect.any(String) });
    const written = tree(path.join(COPY, 'cdktf.out'));
    expect(Object.keys(written).sort()).toEqual([
      'manifest.json',
      path.join('stacks', 'local', 'cdk.tf.json'),
      path.join('stacks', 'local', 'residency-report.json'),
      path.join('stacks', 'oslo-production', 'cdk.tf.json'),
      path.join('stacks', 'oslo-production', 'residency-report.json'),
    ]);
    expect(written).toEqual(tree(outdir));
    expect(fs.readdirSync(path.join(COPY, 'dist'))).toEqual(['app']);
  });

  it('cdktf synth refuses the production stack in aws:us-east-1 and removes its earlier cdk.tf.json', () => {
    expect(fs.existsSync(file('oslo-production', 'cdk.tf.json'))).toBe(true); // from the run above
    const { status, output } = cdktfSynth(outdir, { SOVEREIGN_REGION: 'aws:us-east-1' });
    expect(status).not.toBe(0);
    expect(output).toContain('residency violation [policy eea-sovereign]');
    expect(output).toContain('aws:us-east-1');
    expect(output).toContain('US (United States)');
    expect(output).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m); // a message, not a stack trace
    expect(fs.existsSync(file('oslo-production', 'cdk.tf.json'))).toBe(false);
    expect(fs.existsSync(file('oslo-production', 'residency-report.json'))).toBe(false);
  });

  it('SOVEREIGN_REGION=aws:us-east-1 npm run synth exits 1 with the residency message', () => {
    const stackFile = path.join(COPY, 'cdktf.out', 'stacks', 'oslo-production', 'cdk.tf.json');
    expect(fs.existsSync(stackFile)).toBe(true); // from the run above
    const { status, output } = npmSynth({ SOVEREIGN_REGION: 'aws:us-east-1' });
    expect(status).toBe(1);
    expect(output).toContain('residency violation [policy eea-sovereign]');
    expect(output).toContain('US (United States)');
    expect(output).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
    expect(fs.existsSync(stackFile)).toBe(false);
  });
});

describe('no stale JavaScript', () => {
  const append = (rel: string, text: string) => fs.appendFileSync(path.join(COPY, rel), `\n${text}\n`);

  it('an edit to stacks/ or lib/ is what the next synth runs', () => {
    append(path.join('stacks', 'local.ts'), "console.log('edited stacks/local.ts ran');");
    append(path.join('lib', 'index.ts'), "console.log('edited lib/index.ts ran');");
    const { status, output } = npmSynth();
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('edited stacks/local.ts ran') });
    expect(output).toContain('edited lib/index.ts ran');
  });

  it('a type error stops the synth before any of the app runs', () => {
    append(path.join('stacks', 'local.ts'), "export const notANumber: number = 'one';");
    const { status, output } = npmSynth();
    expect(status).not.toBe(0);
    expect(output).toContain('error TS2322');
    expect(output).not.toContain('edited stacks/local.ts ran'); // not the previous build's app either
  });
});
