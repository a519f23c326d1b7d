/**
 * The ONE place that reaches into cdktf's private modules.
 *
 * cdktf has no public way to write a file beside a stack's cdk.tf.json at synthesis (the residency
 * report); its own constructs use `addCustomSynthesis` from `cdktf/lib/synthesize/synthesizer`,
 * which the package does not export from its entry point. Everything else in this library imports
 * `cdktf` plainly, so for the private part, moving to the community fork (CDK Terrain, package
 * `cdktn`, which keeps this module at the same path) is one line here; what else a move takes is
 * in the README ("CDK Terrain (cdktn)"). test/package/cdktf-internals.test.ts keeps every other
 * file free of `cdktf/lib/...` imports.
 */
import type { IConstruct } from 'constructs';
import type { ISynthesisSession } from 'cdktf';
import { addCustomSynthesis as cdktfAddCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';

/** What runs when the construct it is attached to is synthesized. */
export interface CustomSynthesis {
  /**
   * Called once per synthesis of the stack, after its validations passed and its working directory
   * under `session.outdir` exists, before cdk.tf.json is written there.
   */
  onSynthesize(session: ISynthesisSession): void;
}

/** Attaches `synthesis` to `construct`: cdktf calls it when the construct is synthesized. */
export function addCustomSynthesis(construct: IConstruct, synthesis: CustomSynthesis): void {
  cdktfAddCustomSynthesis(construct, synthesis);
}
