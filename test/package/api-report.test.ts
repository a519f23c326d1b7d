/**
 * The package's public surface, from the declarations a user's editor reads:
 * - the API report (api-extractor, non-local mode, as on CI) must equal the checked-in
 *   api/sovereign-stack.api.md, so the surface cannot grow or change unnoticed (`npm run api`
 *   updates the report after a deliberate change, and the API reference in docs/api/).
 * The declarations are built as the package build does (tsc -p tsconfig.build.json, declarations only).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

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

});
