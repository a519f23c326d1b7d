/**
 * Terraform state holds every generated password in plain text, and .tfvars files the values of
 * sensitive variables: git must ignore them wherever they appear in the checkout. Asked of git
 * itself (`git check-ignore --no-index`), so the test reads .gitignore exactly as git does.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

/** The sample paths git ignores (by .gitignore and the rest of git's exclude rules). */
function ignored(paths: string[]): string[] {
  const r = spawnSync('git', ['check-ignore', '--no-index', '--stdin'], { cwd: ROOT, input: paths.join('\n') + '\n', encoding: 'utf8' });
  // 0: some are ignored, 1: none is; anything else is an error (not a git checkout, no git).
  if (r.status !== 0 && r.status !== 1) throw new Error(`git check-ignore failed (${r.status}): ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

const SECRET_FILES = [
  'terraform.tfstate',
  'terraform.tfstate.backup',
  'terraform.local.tfstate', // cdktf's LocalBackend: terraform.<stack>.tfstate in the project root
  'terraform.local.tfstate.backup',
  '.terraform.tfstate.lock.info',
  'stacks/terraform.tfstate.d/dev/terraform.tfstate', // a workspace's state
  'cdktf.out/stacks/local/terraform.tfstate',
  'some/deep/folder/prod.tfstate',
  '.terraform/terraform.tfstate', // remote state cache (backend config)
  'cdktf.out/stacks/local/.terraform/providers/registry.terraform.io/kreuzwerker/docker/3.6.2/linux_amd64/terraform-provider-docker',
  'secrets.tfvars',
  'local.auto.tfvars',
  'stacks/production.tfvars.json',
  'crash.log',
  'crash.1712345678.log',
];

const KEPT_FILES = [
  '.terraform.lock.hcl', // provider versions and checksums: committed, as Terraform recommends
  'cdktf.json',
  'stacks/local.ts',
  'variables.tf',
  'README.md',
  'lib/targets/docker/docker-target.ts',
];

describe('.gitignore keeps secrets out of git', () => {
  it('ignores Terraform state, its backups and lock info, .terraform/, variable files and crash logs, anywhere in the tree', () => {
    expect(ignored(SECRET_FILES).sort()).toEqual([...SECRET_FILES].sort());
  });

  it('keeps the provider lock file and source files', () => {
    expect(ignored(KEPT_FILES)).toEqual([]);
  });

  it('ignores no file that is already tracked', () => {
    const r = spawnSync('git', ['ls-files', '--cached', '--ignored', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
  });
});
