// A user's stack, as a new user writes it: everything of ours from the package entry point
// 'sovereign-stack', and App / TerraformStack from the cdktf they installed beside it (one copy,
// shared with the library through its peer dependency).
import { App, S3Backend, TerraformStack } from 'cdktf';
import { KubernetesTarget, OSLO_REGION, PostgresDatabase, ReferenceDeployment, ResidencyGuard, synthApp } from 'sovereign-stack';

synthApp((app: App) => {
  const stack = new TerraformStack(app, 'consumer');
  // Terraform state holds the generated passwords: keep it in the EEA too, in an S3-compatible
  // store, and tell the guard where (it refuses a stack whose state location is undeclared).
  ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
  const backend = new S3Backend(stack, {
    bucket: 'platform-tfstate',
    key: 'consumer.tfstate',
    region: 'oslo', // a name only: the endpoint decides where the state lives
    endpoints: { s3: 'https://objects.example.no' },
    usePathStyle: true,
    skipCredentialsValidation: true,
    skipRegionValidation: true,
    skipRequestingAccountId: true,
    skipMetadataApiCheck: true,
    skipS3Checksum: true,
  });
  backend.addOverride('use_lockfile', true); // S3-native locking (Terraform >= 1.10; cdktf 0.21 predates the setting)
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });

  const platform = new ReferenceDeployment(stack, 'platform', {
    target,
    gateway: { serverName: 'api.example.no', tls: { secretName: 'api-tls' }, rateLimit: { perSecond: 10, burst: 20 } },
    services: [
      { name: 'orders', image: 'registry.example.no/orders:1.4.2', port: 8080, replicas: 2,
        routes: ['/v1/orders'], database: { storageGi: 20 }, messaging: { publishes: ['orders.created'] } },
      { name: 'invoices', image: 'registry.example.no/invoices:2.0.1', port: 8080, routes: ['/v1/invoices'],
        database: {}, messaging: { consumes: ['orders.created'] } },
    ],
    messaging: { replicas: 3 },
    residency: { policy: 'eea' },
  });

  // A service added after construction, and one more route to it straight on the gateway.
  const search = platform.addService({ name: 'search', image: 'registry.example.no/search:1.0.0', port: 8080, routes: ['/v1/search'] });
  platform.gateway.addRoute({ path: '/v2/search', service: search.service.workload, port: 8080 });

  // A standalone database beside the pattern.
  const reports = new PostgresDatabase(stack, 'reports-db', { target, serviceName: 'reports', storageGi: 10 });
  reports.allowFrom(search.service.workload);

  // The escape hatch: the provider resources behind any workload.
  platform.service('orders').database!.workload.resources.statefulSet!.addOverride('spec.min_ready_seconds', 10);
});
