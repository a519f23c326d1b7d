/**
 * The architecture as a test: components never import a provider package (only targets do), and
 * nothing imports a provider's barrel (~0.5 s and ~180 MB per process for kubernetes).
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const PROVIDER_IMPORT = /from\s+['"](@cdktf\/provider-[a-z]+)(\/[^'"]*)?['"]/g;

function providerImports(file: string): Array<{ pkg: string; deep: boolean }> {
  return [...fs.readFileSync(file, 'utf8').matchAll(PROVIDER_IMPORT)].map((m) => ({ pkg: m[1], deep: !!m[2] }));
}

describe('architecture', () => {
  const files = ['lib', 'stacks', 'bench'].flatMap((d) => sources(path.join(ROOT, d)));

  it('reads the source tree', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.some((f) => providerImports(f).length > 0)).toBe(true); // the pattern does match
  });

  // The bench's plain-cdktf fixture is the platform written with the providers instead of the
  // library: importing them is its point (deep imports only, as below).
  const PLAIN_CDKTF_FIXTURE = path.join('bench', 'plain-cdktf-platform.ts');

  it('only lib/targets (and the plain-cdktf bench fixture) imports provider packages', () => {
    const offenders = files
      .filter((f) => providerImports(f).length > 0)
      .map((f) => path.relative(ROOT, f))
      .filter((f) => !f.startsWith(path.join('lib', 'targets') + path.sep) && f !== PLAIN_CDKTF_FIXTURE);
    expect(offenders).toEqual([]);
  });

  it('imports providers only by deep import, never the barrel', () => {
    const barrels = files.flatMap((f) => providerImports(f).filter((i) => !i.deep).map((i) => `${path.relative(ROOT, f)}: ${i.pkg}`));
    expect(barrels).toEqual([]);
  });
});
