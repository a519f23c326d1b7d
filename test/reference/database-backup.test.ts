import { TerraformStack } from 'cdktf';
import { KubernetesTarget, OSLO_REGION, ReferenceDeployment, ResidencyGuard, ServiceSpec } from '../../lib';
import { EXAMPLE_SERVICES } from '../../stacks/platform-services';
import { userErrorOf } from '../support/errors';
import { synthError } from '../support/residency';
import { findByName, newStack, resourcesOf, synthJson } from '../support/synth';

const GATEWAY = { serverName: 'api.example.no' };
const BACKUP = {
  location: OSLO_REGION,
  objectStore: { bucket: 'platform-backups', endpoint: 's3.oslo-1.example.no', region: 'oslo-1' },
  image: 'registry.example.no/postgres-pgbackrest:17.2',
};

function platform(databaseBackup: object | undefined, services: ServiceSpec[] = EXAMPLE_SERVICES) {
  const { app } = newStack();
  const stack = new TerraformStack(app, 'platform-backups');
  ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  new ReferenceDeployment(stack, 'platform', { target, gateway: GATEWAY, services, databaseBackup: databaseBackup as any });
  return stack;
}

describe('ReferenceDeployment.databaseBackup', () => {
  it('backs up every service database to the declared store', () => {
    const json = synthJson(platform(BACKUP));
    expect(Object.values(resourcesOf(json, 'kubernetes_cron_job_v1')).map((c: any) => c.metadata.name).sort())
      .toEqual(['invoices-db-diff-backup', 'invoices-db-full-backup', 'orders-db-diff-backup', 'orders-db-full-backup']);
  });

  it('lets a service choose its own backup', () => {
    const services = EXAMPLE_SERVICES.map((s) => (s.name === 'orders'
      ? { ...s, database: { ...s.database, backup: { ...BACKUP, retentionFull: 12 } } }
      : s));
    const json = synthJson(platform(BACKUP, services));
    expect(findByName(json, 'kubernetes_config_map_v1', 'orders-db-config').data['etc_pgbackrest_pgbackrest.conf']).toContain('repo1-retention-full=12');
    expect(findByName(json, 'kubernetes_config_map_v1', 'invoices-db-config').data['etc_pgbackrest_pgbackrest.conf']).toContain('repo1-retention-full=4');
  });

  it('refuses a backup outside the EEA at synth, as the guard does', () => {
    expect(synthError(platform({ ...BACKUP, location: 'aws:us-east-1' }))).toContain('postgresql-data (backup copy) at aws:us-east-1');
  });

  it('names the prop path of a bad backup', () => {
    expect(userErrorOf(() => platform({ ...BACKUP, fullSchedule: 'sometimes' }))).toMatch(/props\.databaseBackup\.fullSchedule: must be a cron schedule/);
  });
});
