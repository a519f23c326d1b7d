import { App, TerraformStack } from 'cdktf';
import { isDatastore } from '../residency/datastore';
import { ResidencyGuard } from '../residency/residency-guard';
import { SovereignStackError } from '../util/errors';

/**
 * Builds and synthesizes an app; on a prop error or a failed validation (residency, secrets) it
 * prints only the message, no stack trace, and exits 1. Any other error is a bug: rethrown whole.
 *
 * Every stack that holds a datastore is judged, also one with only datastores of your own
 * (`IDatastore`) and none of our targets: such a stack gets a ResidencyGuard before synthesis.
 */
export function synthApp(build: (app: App) => void, app: App = new App({ stackTraces: false })): void {
  try {
    build(app);
    for (const stack of app.node.findAll().filter((c): c is TerraformStack => c instanceof TerraformStack)) {
      if (stack.node.findAll().some(isDatastore)) ResidencyGuard.of(stack);
    }
    app.synth();
  } catch (e) {
    if (e instanceof SovereignStackError || (e instanceof Error && /^Validation failed/.test(e.message))) {
      // cdktf suggests skipValidation under every failure; it does not skip the residency check.
      const message = e.message.trim().replace(/\n*If you wish to ignore these validations.*$/s, '');
      process.stderr.write(`\nsovereign-stack: synthesis refused.\n${message}\n\n`);
      process.exit(1);
    }
    throw e;
  }
}
