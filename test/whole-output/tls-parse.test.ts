/**
 * Terraform's own parser over stacks with encryption in transit on: Kubernetes with cert-manager
 * Certificates (kubernetes_manifest) for every database and the broker, and Docker with existing
 * certificate Secrets (sensitive variables). See terraform-parse.test.ts for how the check works.
 */
import { App, TerraformStack, Testing } from 'cdktf';
import { DockerTarget, KubernetesTarget, OSLO_REGION, ReferenceDeployment, ResidencyGuard } from '../../lib';
import { DEVELOPER_MACHINE } from '../../stacks/local';
import { EXAMPLE_SERVICES } from '../../stacks/platform-services';
import { describeWithTerraform, terraformCheck } from '../support/terraform-check';

const CERT_MANAGER = { certManager: { issuerName: 'platform-ca' } };

function kubernetesWithTls(app: App): TerraformStack {
  const stack = new TerraformStack(app, 'tls-kubernetes');
  ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });
  new ReferenceDeployment(stack, 'platform', {
    target,
    gateway: { serverName: 'api.example.no', tls: { secretName: 'api-tls' } },
    services: EXAMPLE_SERVICES.map((s) => (s.database ? { ...s, database: { ...s.database, tls: CERT_MANAGER } } : s)),
    messaging: { replicas: 3, tls: CERT_MANAGER },
  });
  return stack;
}

function dockerWithTls(app: App): TerraformStack {
  const stack = new TerraformStack(app, 'tls-docker');
  ResidencyGuard.of(stack).useStateLocation(DEVELOPER_MACHINE);
  const target = new DockerTarget(stack, 'docker', { location: DEVELOPER_MACHINE });
  new ReferenceDeployment(stack, 'platform', {
    target,
    gateway: { serverName: 'localhost', replicas: 1 },
    services: EXAMPLE_SERVICES.map((s) => (s.database ? { ...s, database: { ...s.database, tls: { secretName: `${s.name}-db-tls` } } } : s)),
    messaging: { replicas: 1, tls: { secretName: 'rabbitmq-tls' } },
  });
  return stack;
}

describeWithTerraform('Terraform parses the stacks with TLS on', (terraform) => {
  jest.setTimeout(60000);

  it.each([['Kubernetes + cert-manager', kubernetesWithTls], ['Docker + existing secrets', dockerWithTls]] as const)(
    '%s: validate and plan report nothing',
    async (_name, build) => {
      const synthesized = JSON.parse(Testing.synth(build(Testing.app({ stackTraces: false })), true)) as { resource: Record<string, object> };
      if (build === kubernetesWithTls) expect(Object.keys(synthesized.resource.kubernetes_manifest ?? {}).length).toBeGreaterThan(1);
      const result = await terraformCheck(synthesized, { terraform });
      expect(result.diagnostics).toEqual([]);
      expect(Object.keys(result.plannedInputs).length).toBeGreaterThan(0);
    },
  );
});
