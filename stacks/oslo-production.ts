import { App, S3Backend, TerraformStack } from 'cdktf';
import { KubernetesTarget, OSLO_REGION, RegionRef, ReferenceDeployment, ResidencyGuard } from '../lib';
import { EXAMPLE_SERVICES } from './platform-services';

/**
 * Production: Kubernetes in the Oslo region, TLS gateway, one PostgreSQL per service that asks for
 * one, and a 3-node RabbitMQ with ha-all, TLS to both (cert-manager), under the `eea-sovereign` policy (no operator under a
 * non-EEA law such as the US CLOUD Act). Terraform state, which holds every generated password,
 * is kept in an S3-compatible object store in the same Oslo datacentre: encrypted, locked with a
 * lock file (Terraform >= 1.10), and declared to the guard. Database backups (WAL archive and
 * base backups, pgBackRest) go to an object store there too. `region` exists so the guard can be
 * shown refusing a non-EEA region (see README).
 */
/** Server certificates issued by cert-manager from the platform's CA. */
const PLATFORM_TLS = { certManager: { issuerName: 'platform-ca', issuerKind: 'ClusterIssuer' as const } };

export function osloProduction(app: App, region: RegionRef = OSLO_REGION): TerraformStack {
  const stack = new TerraformStack(app, 'oslo-production');
  ResidencyGuard.ensure(stack, { policy: 'eea-sovereign', stateLocation: OSLO_REGION });
  const backend = new S3Backend(stack, {
    bucket: 'sovereign-stack-terraform-state',
    key: 'oslo-production/terraform.tfstate',
    region: 'oslo-1',
    endpoints: { s3: 'https://s3.oslo-1.example.no' },
    usePathStyle: true,
    encrypt: true,
    // Not AWS: no account, region or metadata service to check.
    skipCredentialsValidation: true,
    skipRegionValidation: true,
    skipRequestingAccountId: true,
    skipMetadataApiCheck: true,
  });
  // S3-native state locking (cdktf 0.21 predates the setting).
  backend.addOverride('use_lockfile', true);
  const target = new KubernetesTarget(stack, 'cluster', { region, namespace: 'platform' });
  new ReferenceDeployment(stack, 'platform', {
    target,
    gateway: { serverName: 'api.example.no', tls: { secretName: 'api-tls' }, rateLimit: { perSecond: 10, burst: 20 } },
    // Database and AMQP traffic carries personal data: TLS on both, certificates from cert-manager
    // (a CA ClusterIssuer named platform-ca; README, Encryption in transit).
    services: EXAMPLE_SERVICES.map((s) => (s.database ? { ...s, database: { ...s.database, tls: PLATFORM_TLS } } : s)),
    messaging: { replicas: 3, tls: PLATFORM_TLS },
    residency: { policy: 'eea-sovereign' },
    // Every database archives its WAL and takes base backups to the object store in the same Oslo
    // datacentre (keys in the existing Secret <service>-db-backup-credentials); the guard judges it.
    databaseBackup: {
      location: OSLO_REGION,
      objectStore: { bucket: 'sovereign-stack-backups', endpoint: 's3.oslo-1.example.no', region: 'oslo-1' },
      image: 'registry.example.no/postgres-pgbackrest:17.2',
    },
  });
  return stack;
}
