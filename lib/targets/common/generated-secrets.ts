import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import type { PasswordConfig } from '@cdktf/provider-random/lib/password';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { SovereignStackError } from '../../util/errors';
import { RenderedResource, renderedResource } from './rendered-resource';
import { SecretSpec, Workload } from '../../workload/workload';

/**
 * Creates one `random_password` per generated key of `secret` and returns key -> token. The value
 * exists only in Terraform state: synthesized JSON holds a reference, never the password.
 */
export function generateSecretValues(
  scope: Construct, secret: Extract<SecretSpec, { source: 'generated' }>,
): Record<string, string> {
  return Object.fromEntries(Object.entries(generatePasswords(scope, secret)).map(([key, pw]) => [key, pw.getStringAttribute('result')]));
}

/** One generated value: a `random_password` whose result stays in Terraform state. */
export function generateSecretValue(
  scope: Construct, secret: Extract<SecretSpec, { source: 'generated' }>, key: string,
  rule: { length: number; special: boolean },
): string {
  return generatePassword(scope, secret, key, rule).getStringAttribute('result');
}

/** The `random_password` of each generated key of `secret`: key -> resource. */
export function generatePasswords(
  scope: Construct, secret: Extract<SecretSpec, { source: 'generated' }>,
): Record<string, RenderedResource> {
  return Object.fromEntries(Object.entries(secret.generated).map(([key, rule]) => [key, generatePassword(scope, secret, key, rule)]));
}

/** The `random_password` resource of one generated key; its `result` is the value. */
export function generatePassword(
  scope: Construct, secret: Extract<SecretSpec, { source: 'generated' }>, key: string,
  rule: { length: number; special: boolean },
): RenderedResource {
  ensureRandomProvider(scope);
  return renderedResource<PasswordConfig>(scope, `${secret.name}-${key}`, 'random_password', {
    length: rule.length,
    special: rule.special,
    lifecycle: secret.retain ? { preventDestroy: true } : undefined,
  });
}

/** The generated secret `name` of workload `w`, or a clear error. */
export function generatedSecretOf(w: Workload, name: string): Extract<SecretSpec, { source: 'generated' }> {
  const secret = w.secrets.find((s) => s.name === name);
  if (!secret || secret.source !== 'generated') {
    throw new SovereignStackError(`workload "${w.name}" has no generated secret "${name}" to add a key to`);
  }
  return secret;
}

/** One hashicorp/random provider per stack, whichever target asks first. */
function ensureRandomProvider(scope: Construct): void {
  const stack = TerraformStack.of(scope);
  if (!stack.node.tryFindChild('random')) new RandomProvider(stack, 'random', {});
}
