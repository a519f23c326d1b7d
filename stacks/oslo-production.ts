import { App, TerraformStack } from 'cdktf';
import { KubernetesTarget, OSLO_REGION, RegionRef, ReferenceDeployment } from '../lib';
import { EXAMPLE_SERVICES } from './platform-services';

/**
 * Production: Kubernetes in the Oslo region, TLS gateway, one PostgreSQL per service that asks for
 * one, and a 3-node RabbitMQ with ha-all. `region` exists so the guard can be shown refusing a
 * non-EEA region (see README).
 */
export function osloProduction(app: App, region: RegionRef = OSLO_REGION): TerraformStack {
  const stack = new TerraformStack(app, 'oslo-production');
  const target = new KubernetesTarget(stack, 'cluster', { region, namespace: 'platform' });
  new ReferenceDeployment(stack, 'platform', {
    target,
    gateway: { serverName: 'api.example.no', tls: { secretName: 'api-tls' }, rateLimit: { perSecond: 10, burst: 20 } },
    services: EXAMPLE_SERVICES,
    messaging: { replicas: 3 },
    residency: { policy: 'eea' },
  });
  return stack;
}
