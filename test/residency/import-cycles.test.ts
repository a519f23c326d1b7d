/**
 * No import cycles in lib/residency (issue 14: datastore.ts <-> residency-guard.ts was one): every
 * relative import of its modules, type-only ones included, walked as a graph.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const LIB = path.join(__dirname, '..', '..', 'lib');

/** The .ts files `file` imports or re-exports by relative path. */
function relativeImports(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.resolve(path.dirname(file), spec))
    .map((p) => (fs.existsSync(`${p}.ts`) ? `${p}.ts` : path.join(p, 'index.ts')));
}

/** Every cycle reachable from `roots`, each as the list of files around it. */
function importCycles(roots: string[]): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    const at = stack.indexOf(file);
    if (at >= 0) {
      cycles.push([...stack.slice(at), file].map((f) => path.relative(LIB, f)));
      return;
    }
    if (done.has(file)) return;
    stack.push(file);
    for (const next of relativeImports(file)) visit(next);
    stack.pop();
    done.add(file);
  };
  roots.forEach(visit);
  return cycles;
}

describe('lib/residency imports', () => {
  const residency = fs.readdirSync(path.join(LIB, 'residency')).filter((f) => f.endsWith('.ts')).map((f) => path.join(LIB, 'residency', f));

  it('reads the imports (the walk sees datastore.ts import the guard)', () => {
    expect(residency.length).toBeGreaterThan(5);
    expect(relativeImports(path.join(LIB, 'residency', 'datastore.ts'))).toContain(path.join(LIB, 'residency', 'residency-guard.ts'));
  });

  it('the walk finds a cycle when there is one', () => {
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'cycle-'));
    fs.writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b';\nexport const a = b;\n");
    fs.writeFileSync(path.join(dir, 'b.ts'), "import type { a } from './a';\nexport const b: typeof a = 1;\n");
    expect(importCycles([path.join(dir, 'a.ts')]).length).toBe(1);
  });

  it('has no cycle among its modules and what they import', () => {
    const inResidency = importCycles(residency).filter((c) => c.some((f) => f.startsWith(`residency${path.sep}`)));
    expect(inResidency).toEqual([]);
  });
});
