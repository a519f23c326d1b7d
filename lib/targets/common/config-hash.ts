import { createHash } from 'crypto';
import { Lazy } from 'cdktf';
import { Workload } from '../../workload/workload';

/**
 * A lazy hash of the workload's config files, resolved at synth: put on the pod template (or a
 * container label) so changing a config file rolls the pods. Live files are left out: the workload
 * applies them itself, without a restart.
 */
export function configHash(workload: Workload): string {
  return Lazy.stringValue({
    produce: (ctx) => createHash('sha256')
      .update(JSON.stringify(workload.configFiles.filter((f) => !f.live).map((f) => [f.path, ctx.resolve(f.content)])))
      .digest('hex')
      .slice(0, 16),
  });
}
