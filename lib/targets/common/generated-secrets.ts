import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Password } from '@cdktf/provider-random/lib/password';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { SecretSpec } from '../../workload/workload';

/**
 * Creates one `random_password` per generated key of `secret` and returns key -> token. The value
 * exists only in Terraform state: synthesized JSON holds a reference, never the password.
 */
export function generateSecretValues(
  scope: Construct, secret: Extract<SecretSpec, { source: 'generated' }>,
): Record<string, string> {
  ensureRandomProvider(scope);
  const values: Record<string, string> = {};
  for (const [key, rule] of Object.entries(secret.generated)) {
    const password = new Password(scope, `${secret.name}-${key}`, {
      length: rule.length,
      special: rule.special,
      lifecycle: secret.retain ? { preventDestroy: true } : undefined,
    });
    values[key] = password.result;
  }
  return values;
}

/** One hashicorp/random provider per stack, whichever target asks first. */
function ensureRandomProvider(scope: Construct): void {
  const stack = TerraformStack.of(scope);
  if (!stack.node.tryFindChild('random')) new RandomProvider(stack, 'random', {});
}
