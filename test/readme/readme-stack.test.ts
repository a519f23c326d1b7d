/**
 * The README's "A stack, as users write it" example, run as a user would: the code block itself,
 * importing the library instead of the package name, synthesized into a fresh folder. A README
 * that shows a stack the guard refuses (or that does not compile) fails here.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
jest.setTimeout(60000);

function exampleCode(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A stack, as users write it'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README has no ts block under "A stack, as users write it"');
  return block[1];
}

describe('README: a stack, as users write it', () => {
  it('synthesizes, passes the residency guard and writes its report', () => {
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'readme-'));
    const code = exampleCode().replace(/from 'sovereign-stack'/g, `from ${JSON.stringify(path.join(ROOT, 'lib'))}`);
    expect(code).toContain('synthApp(');
    fs.writeFileSync(path.join(dir, 'main.ts'), code);
    const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, 'main.ts')], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' },
    });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const out = path.join(dir, 'cdktf.out', 'stacks', 'oslo-production');
    const report = JSON.parse(fs.readFileSync(path.join(out, 'residency-report.json'), 'utf8'));
    expect(report).toEqual(expect.objectContaining({ policy: 'eea-sovereign', verdict: 'compliant' }));
    const json = JSON.parse(fs.readFileSync(path.join(out, 'cdk.tf.json'), 'utf8'));
    expect(Object.keys(json.resource.kubernetes_stateful_set_v1)).toHaveLength(4); // orders, invoices, reports, broker
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
