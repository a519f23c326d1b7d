/**
 * describeWithServer's loud skip, seen from outside: a child jest runs a suite whose server is
 * missing next to another suite (jest prints nothing, not even console output, for a file whose
 * tests are all skipped when it runs several files). Without REQUIRE_REAL_SERVERS the message
 * must reach the output and the run pass; with REQUIRE_REAL_SERVERS=1 the run must fail.
 */
import { spawn } from 'child_process';
import * as path from 'path';

jest.setTimeout(120000);

const ROOT = path.join(__dirname, '..', '..');
const MESSAGE = 'REAL SERVER MISSING: no-such-server is not installed, so "a suite whose server is missing" cannot run.';

function childJest(requireServers: boolean): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1', FORCE_COLOR: '0' };
  delete env.REQUIRE_REAL_SERVERS;
  if (requireServers) env.REQUIRE_REAL_SERVERS = '1';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      require.resolve('jest/bin/jest'), '--ci', '--runInBand', '--testMatch', '**/test/integration/support/fixtures/*.fixture.ts',
    ], { cwd: ROOT, env });
    let output = '';
    child.stdout.on('data', (c) => { output += c; });
    child.stderr.on('data', (c) => { output += c; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('a missing real server', () => {
  let skipped: { code: number | null; output: string };
  let required: { code: number | null; output: string };
  beforeAll(async () => {
    [skipped, required] = await Promise.all([childJest(false), childJest(true)]);
  });

  it('is skipped loudly: the message is in the output and the run passes', () => {
    expect(skipped.output).toContain(`*** ${MESSAGE}`);
    expect(skipped.output).toMatch(/Tests: +2 skipped, 1 passed, 3 total/); // the suite's test and the message
    expect(skipped.code).toBe(0);
  });

  it('fails the run under REQUIRE_REAL_SERVERS=1', () => {
    expect(required.output).toContain('requires no-such-server (REQUIRE_REAL_SERVERS=1)');
    expect(required.output).toContain(MESSAGE);
    expect(required.output).toMatch(/Tests: +1 failed, 1 passed, 2 total/);
    expect(required.code).not.toBe(0);
  });
});
