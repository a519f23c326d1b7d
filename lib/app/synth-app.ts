import { App } from 'cdktf';
import { SovereignStackError } from '../util/errors';

/**
 * Builds and synthesizes an app; on a prop error or a failed validation (residency, secrets) it
 * prints only the message, no stack trace, and exits 1. Any other error is a bug: rethrown whole.
 */
export function synthApp(build: (app: App) => void, app: App = new App({ stackTraces: false })): void {
  try {
    build(app);
    app.synth();
  } catch (e) {
    if (e instanceof SovereignStackError || (e instanceof Error && /^Validation failed/.test(e.message))) {
      process.stderr.write(`\nsovereign-stack: synthesis refused.\n${e.message.trim()}\n\n`);
      process.exit(1);
    }
    throw e;
  }
}
