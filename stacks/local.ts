import { App, TerraformStack } from 'cdktf';
import { DockerTarget, ReferenceDeployment, ResidencyGuard, defineRegion } from '../lib';
import { EXAMPLE_SERVICES } from './platform-services';

/**
 * Where a developer's Docker host is. Local data is still personal data when it is a copy of
 * production, so the residency guard checks it too: change the country if your machine is not
 * in Norway.
 */
export const DEVELOPER_MACHINE = defineRegion({ id: 'local:developer-machine', country: 'NO', city: 'Oslo', operator: 'you' });

/** The same platform on one Docker host: plain HTTP on 127.0.0.1:8080, one replica each. */
export function local(app: App): TerraformStack {
  const stack = new TerraformStack(app, 'local');
  // A local backend: the state (every generated password) is on the developer's machine too.
  ResidencyGuard.ensure(stack, { stateLocation: DEVELOPER_MACHINE });
  const target = new DockerTarget(stack, 'docker', { location: DEVELOPER_MACHINE });
  new ReferenceDeployment(stack, 'platform', {
    target,
    gateway: { serverName: 'localhost', replicas: 1, rateLimit: { perSecond: 10, burst: 20 } },
    services: EXAMPLE_SERVICES.map((s) => ({ ...s, replicas: 1 })),
    messaging: { replicas: 3 },
  });
  return stack;
}
