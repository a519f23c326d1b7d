/**
 * The real `cdktf synth` on the example app, as a user runs it: a compliant run writes both stacks
 * and their residency reports; a run in a non-EEA region exits non-zero with the guard's message
 * and leaves no cdk.tf.json of the refused stack behind (not even one from an earlier run).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
jest.setTimeout(120000);

// tsx (the app command) listens on a unix socket under TMPDIR, and a socket path may not exceed
// 107 bytes: jest's TMPDIR lies under the checkout, which may be deep. A short one for the CLI.
const SHORT_TMPDIR = fs.mkdtempSync('/tmp/ss-cli-');
afterAll(() => fs.rmSync(SHORT_TMPDIR, { recursive: true, force: true }));

function synth(outdir: string, env: Record<string, string> = {}) {
  const result = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'cdktf'), ['synth', '--output', outdir], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TMPDIR: SHORT_TMPDIR, CHECKPOINT_DISABLE: '1', CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1', CI: '1', ...env },
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

describe('cdktf synth (CLI)', () => {
  const outdir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'cdktf-cli-'));
  const file = (stack: string, name: string) => path.join(outdir, 'stacks', stack, name);

  it('synthesizes both example stacks with their residency reports', () => {
    const { status, output } = synth(outdir);
    expect({ status, output }).toEqual({ status: 0, output: expect.any(String) });
    for (const stack of ['oslo-production', 'local']) {
      expect(fs.existsSync(file(stack, 'cdk.tf.json'))).toBe(true);
      const report = JSON.parse(fs.readFileSync(file(stack, 'residency-report.json'), 'utf8'));
      expect(report.verdict).toBe('compliant');
      expect(report.datastores.length).toBeGreaterThanOrEqual(3);
    }
    expect(fs.readFileSync(file('oslo-production', 'cdk.tf.json'), 'utf8')).not.toMatch(/"password":\s*"[^$]/);
  });

  it('refuses the production stack in aws:us-east-1 and removes its earlier cdk.tf.json', () => {
    expect(fs.existsSync(file('oslo-production', 'cdk.tf.json'))).toBe(true); // from the run above
    const { status, output } = synth(outdir, { SOVEREIGN_REGION: 'aws:us-east-1' });
    expect(status).not.toBe(0);
    expect(output).toContain('residency violation [policy eea-sovereign]');
    expect(output).toContain('aws:us-east-1');
    expect(output).toContain('US (United States)');
    expect(output).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m); // a message, not a stack trace
    expect(fs.existsSync(file('oslo-production', 'cdk.tf.json'))).toBe(false);
    expect(fs.existsSync(file('oslo-production', 'residency-report.json'))).toBe(false);
  });
});
