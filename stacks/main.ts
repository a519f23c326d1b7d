/**
 * The example app (`npm run synth`): `oslo-production` (Kubernetes) and `local` (Docker).
 *
 * SOVEREIGN_REGION=<catalogue id> synthesizes the production stack in another region, e.g.
 * `SOVEREIGN_REGION=aws:us-east-1 npm run synth` shows the residency guard refusing it.
 */
import { synthApp } from '../lib';
import { local } from './local';
import { osloProduction } from './oslo-production';

synthApp((app) => {
  osloProduction(app, process.env.SOVEREIGN_REGION || undefined);
  local(app);
});
