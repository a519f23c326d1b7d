// What an editor shows on hover comes from the emitted .d.ts: every prop of the PostgreSQL contract
// must arrive there with its doc, and every optional one with its @default.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const LIB = path.join(__dirname, '..', '..', 'lib', 'postgres');

/**
 * The declarations emitted for a file. Files whose schemas have inferred types report diagnostics
 * for those (isolated emit cannot infer them); their interfaces are emitted all the same.
 */
function emittedDeclarations(file: string, diagnosticsExpected = false): ts.SourceFile {
  const { outputText, diagnostics } = ts.transpileDeclaration(fs.readFileSync(path.join(LIB, file), 'utf8'), {
    fileName: file, compilerOptions: { declaration: true, removeComments: false },
  });
  if (!diagnosticsExpected) expect(diagnostics ?? []).toEqual([]);
  return ts.createSourceFile(file.replace(/\.ts$/, '.d.ts'), outputText, ts.ScriptTarget.Latest, true);
}

/** Each exported interface's props with their TSDoc as emitted: [interface.prop, optional, doc]. */
function documentedProps(d: ts.SourceFile): Array<[string, boolean, string]> {
  const out: Array<[string, boolean, string]> = [];
  for (const statement of d.statements) {
    if (!ts.isInterfaceDeclaration(statement)) continue;
    for (const member of statement.members) {
      if (!ts.isPropertySignature(member)) continue;
      const docs = ts.getJSDocCommentsAndTags(member).map((doc) => doc.getText(d)).join('\n');
      out.push([`${statement.name.text}.${member.name.getText(d)}`, member.questionToken !== undefined, docs]);
    }
  }
  return out;
}

describe('the PostgreSQL props as emitted in .d.ts', () => {
  const props = documentedProps(emittedDeclarations('props.ts'));

  it('covers the contract users write', () => {
    const interfaces = new Set(props.map(([name]) => name.split('.')[0]));
    // PostgresBackupObjectStore declares no member of its own: it is S3RepositorySpec without `type`,
    // whose props are checked with the renderer specs below.
    expect([...interfaces].sort()).toEqual([
      'PostgresBackupOptions', 'PostgresCertManagerOptions', 'PostgresDatabaseOptions',
      'PostgresDatabaseProps', 'PostgresMajorVersionUpgradeOptions', 'PostgresMetricsOptions', 'PostgresTlsOptions',
    ]);
    expect(props.length).toBeGreaterThan(30);
  });

  it('documents every prop', () => {
    expect(props.filter(([, , doc]) => !/^\/\*\*\s*\S/.test(doc)).map(([name]) => name)).toEqual([]);
  });

  it('gives every optional prop its @default', () => {
    expect(props.filter(([, optional, doc]) => optional && !/@default \S/.test(doc)).map(([name]) => name)).toEqual([]);
  });
});

describe('the renderer specs as emitted in .d.ts', () => {
  const specs = ['postgres-spec.ts', 'pgbackrest-spec.ts', 'render-init-owner.ts'].flatMap((file) => documentedProps(emittedDeclarations(file, true)));

  it('covers every spec users hand to a renderer', () => {
    expect([...new Set(specs.map(([name]) => name.split('.')[0]))].sort()).toEqual([
      'InitOwnerMonitoringSpec', 'InitOwnerSpec', 'PgBackRestConfSpec', 'PosixRepositorySpec', 'PostgresArchiveSpec',
      'PostgresConfSpec', 'PostgresHbaSpec', 'PostgresMemory', 'PostgresMemoryInput', 'PostgresSslSpec', 'S3RepositorySpec', 'WalSpoolSpec',
    ]);
  });

  it('documents every prop of the specs, and gives every optional one its @default', () => {
    // PostgresMemory and PostgresMemoryInput are derived figures and their inputs, not options.
    const options = specs.filter(([name]) => !name.startsWith('PostgresMemory'));
    expect(options.filter(([, , doc]) => !/^\/\*\*\s*\S/.test(doc)).map(([name]) => name)).toEqual([]);
    expect(options.filter(([, optional, doc]) => optional && !/@default \S/.test(doc)).map(([name]) => name)).toEqual([]);
  });
});
