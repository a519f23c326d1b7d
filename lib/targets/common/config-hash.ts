import { createHash } from 'crypto';
import { Lazy, TerraformStack } from 'cdktf';
import { resolveAsStack } from '../../cdktf-internals';
import { Workload } from '../../workload/workload';

/**
 * A lazy hash of the workload's config files, resolved at synth: put on the pod template (or a
 * container label) so changing a config file rolls the pods. Live files are left out: the workload
 * applies them itself, without a restart.
 */
export function configHash(workload: Workload): string {
  return Lazy.stringValue({ produce: (ctx) => hashOf(workload, (content) => ctx.resolve(content)) });
}

/** The same hash, computed now (at synthesis) with every file resolved as the stack resolves it. */
export function configHashNow(workload: Workload, stack: TerraformStack): string {
  return hashOf(workload, (content) => resolveAsStack(stack, content));
}

function hashOf(workload: Workload, resolve: (content: string) => unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(workload.configFiles.filter((f) => !f.live).map((f) => [f.path, resolve(f.content)])))
    .digest('hex')
    .slice(0, 16);
}
