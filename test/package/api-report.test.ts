/**
 * The package's public surface, from the declarations a user's editor reads:
 * - the API report (api-extractor, non-local mode, as on CI) must equal the checked-in
 *   api/sovereign-stack.api.md, so the surface cannot grow or change unnoticed (`npm run api`
 *   updates the report after a deliberate change, and the API reference in docs/api/).
 * - every prop of every construct's props (and the option types nested in them) carries its doc,
 *   and an optional prop its `@default`, in the emitted .d.ts (what an editor shows on hover).
 * One declaration build, as the package build does it (tsc -p tsconfig.build.json, declarations
 * only), serves both.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');
const REPORT = path.join(ROOT, 'api', 'sovereign-stack.api.md');
jest.setTimeout(240_000);

/** Builds the declarations of lib/ into `outDir` (outDir/lib/index.d.ts), as the package build does. */
function buildDeclarations(outDir: string): void {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--emitDeclarationOnly', '--outDir', outDir],
    { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`declaration build failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
}

/** Lines only in `a` (-) and only in `b` (+), in order: enough to say what changed in a report. */
function lineDiff(a: string, b: string): string {
  const left = a.split('\n');
  const right = b.split('\n');
  const inRight = new Set(right);
  const inLeft = new Set(left);
  return [...left.filter((l) => !inRight.has(l)).map((l) => `- ${l}`), ...right.filter((l) => !inLeft.has(l)).map((l) => `+ ${l}`)].join('\n');
}

interface ApiCheck {
  readonly changed: boolean;
  readonly messages: string[];
  readonly report: string;
}

/** Runs api-extractor with the project's configuration on the declarations in `outDir`, non-local (CI) mode. */
function runApiExtractor(outDir: string): ApiCheck {
  // Loaded here, not at the top: only this test needs it (it brings its own TypeScript).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Extractor, ExtractorConfig } = require('@microsoft/api-extractor') as typeof import('@microsoft/api-extractor');
  const configFile = path.join(ROOT, 'api-extractor.json');
  const configObject = ExtractorConfig.loadFile(configFile);
  configObject.mainEntryPointFilePath = path.join(outDir, 'lib', 'index.d.ts');
  configObject.apiReport = { ...configObject.apiReport!, reportTempFolder: path.join(outDir, 'api-temp') };
  configObject.docModel = { enabled: false };
  const config = ExtractorConfig.prepare({ configObject, configObjectFullPath: configFile, packageJsonFullPath: path.join(ROOT, 'package.json') });
  const messages: string[] = [];
  const result = Extractor.invoke(config, {
    localBuild: false,
    messageCallback: (m) => {
      if (m.logLevel === 'error' || m.logLevel === 'warning') messages.push(`${m.logLevel} ${m.messageId}: ${m.text}`);
      m.handled = true;
    },
  });
  const report = fs.readFileSync(path.join(outDir, 'api-temp', path.basename(REPORT)), 'utf8');
  return { changed: result.apiReportChanged, messages: messages.filter((m) => !/changed the API signature/.test(m)), report };
}

/**
 * Props of the components the other issue-14 rooms are converting to hand-written interfaces
 * (their props are still derived from zod, so the .d.ts has no docs or defaults for them yet), by
 * type name or by the prop path where they nest. Not walked. The lead empties this list when
 * those components land.
 */
const NOT_YET_DOCUMENTED = new Set([
  // The workload model's env and secret mounts (lib/workload/workload.ts, zod-derived), as connections hand them over.
  'MicroService.connectionEnv', 'MicroService.connectionMounts',
]);

/** Types users receive from the library rather than write (a Region comes from defineRegion). */
const NOT_WRITTEN_BY_USERS = new Set(['Region']);

/** Functions whose first parameter is a props object users write, checked like a construct's props. */
const PROPS_FUNCTIONS = ['defineRegion'];

interface PropsFinding {
  readonly checked: string[];
  readonly problems: string[];
  readonly skipped: string[];
}

/**
 * Walks, in the emitted declarations, the props of every exported construct (the third constructor
 * parameter) and of PROPS_FUNCTIONS, and the object types of our own declared inside them: every
 * prop needs a doc comment, and an optional prop its `@default`.
 */
function undocumentedProps(outDir: string): PropsFinding {
  const index = path.join(outDir, 'lib', 'index.d.ts');
  const program = ts.createProgram([index], {
    module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, target: ts.ScriptTarget.ES2022,
    strict: true, skipLibCheck: true, types: ['node'], noEmit: true,
  });
  const checker = program.getTypeChecker();
  const ours = (d: ts.Node) => path.resolve(d.getSourceFile().fileName).startsWith(path.join(outDir, 'lib') + path.sep);
  const nameOf = (t: ts.Type): string => t.aliasSymbol?.name ?? t.getSymbol()?.name ?? checker.typeToString(t);
  /** The names a type goes by: `Omit<NginxGatewayOptions, 'routes'>` is also NginxGatewayOptions. */
  const namesOf = (t: ts.Type): string[] => [nameOf(t), ...(t.aliasTypeArguments ?? []).flatMap((a) => namesOf(a))];
  const checked: string[] = [];
  const problems: string[] = [];
  const skipped: string[] = [];
  const seen = new Set<ts.Type>();

  /**
   * The object types of our own a prop's type is made of (arrays and unions unwrapped): plain data
   * (no methods) whose props are all declared in our declarations, `Omit<...>` of ours included.
   */
  const nested = (t: ts.Type): ts.Type[] => {
    if (t.isUnion()) return t.types.flatMap(nested);
    if (checker.isArrayType(t) || checker.isTupleType(t)) return checker.getTypeArguments(t as ts.TypeReference).flatMap(nested);
    if (!(t.flags & ts.TypeFlags.Object) || t.getCallSignatures().length > 0 || t.getConstructSignatures().length > 0) return [];
    const props = checker.getPropertiesOfType(t);
    const data = props.every((p) => !(p.flags & ts.SymbolFlags.Method) && checker.getTypeOfSymbol(p).getCallSignatures().length === 0);
    return props.length > 0 && data && props.every((p) => (p.declarations ?? []).some(ours)) ? [t] : [];
  };

  const walk = (type: ts.Type, where: string): void => {
    if (seen.has(type)) return;
    seen.add(type);
    if (namesOf(type).some((n) => NOT_WRITTEN_BY_USERS.has(n))) return;
    if (NOT_YET_DOCUMENTED.has(where) || namesOf(type).some((n) => NOT_YET_DOCUMENTED.has(n))) {
      skipped.push(`${where} (${namesOf(type).join(' ')})`);
      return;
    }
    checked.push(`${where} (${nameOf(type)})`);
    for (const prop of checker.getPropertiesOfType(type)) {
      const at = `${where}.${prop.name}`;
      const doc = ts.displayPartsToString(prop.getDocumentationComment(checker)).trim();
      const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
      if (!doc) problems.push(`${at}: no doc comment`);
      if (optional && !prop.getJsDocTags(checker).some((t) => t.name === 'default')) problems.push(`${at}: optional, without @default`);
      const decl = prop.valueDeclaration ?? prop.declarations?.[0];
      if (!decl) continue;
      for (const inner of nested(checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(prop, decl)))) walk(inner, at);
    }
  };

  const module = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = symbol.valueDeclaration;
    if (!decl) continue;
    const staticType = checker.getTypeOfSymbolAtLocation(symbol, decl);
    if (symbol.flags & ts.SymbolFlags.Class) {
      const props = staticType.getConstructSignatures()[0]?.getParameters()[2];
      if (props) walk(checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(props, decl)), exported.name);
    } else if (PROPS_FUNCTIONS.includes(exported.name)) {
      const props = staticType.getCallSignatures()[0]?.getParameters()[0];
      if (props) walk(checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(props, decl)), exported.name);
    }
  }
  return { checked, problems, skipped };
}

describe('the public API', () => {
  let outDir: string;
  beforeAll(() => {
    outDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'api-'));
    buildDeclarations(outDir);
  });
  afterAll(() => {
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('matches the checked-in API report (run `npm run api` after a deliberate change, and review the diff)', () => {
    const { changed, messages, report } = runApiExtractor(outDir);
    expect(messages).toEqual([]);
    const checkedIn = fs.readFileSync(REPORT, 'utf8');
    expect(report.length).toBeGreaterThan(1000);
    // On a difference, the lines that changed, not two whole reports.
    expect(changed ? lineDiff(checkedIn, report) : '').toBe('');
    expect(changed).toBe(false);
  });

  it('documents every prop of every construct, with the @default of each optional one, in the emitted .d.ts', () => {
    const { checked, problems, skipped } = undocumentedProps(outDir);
    // The walk reaches the constructs and the option types nested in them.
    expect(checked).toEqual(expect.arrayContaining([
      'KubernetesTarget (KubernetesTargetProps)', 'DockerTarget (DockerTargetProps)', 'ReferenceDeployment (ReferenceDeploymentProps)',
      'ReferenceDeployment.services (ServiceSpec)', 'MicroService (MicroServiceProps)', 'ResidencyGuard (ResidencyGuardProps)',
      'defineRegion (DefineRegionProps)',
    ]));
    expect(skipped.length).toBeLessThanOrEqual(20);
    expect(problems).toEqual([]);
  });
});
