/**
 * The residency matrix for backup locations: a PostgreSQL database's object store is a `backup`
 * copy of its data, judged by the guard like the primary and listed in the report.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import {
  KubernetesTarget, OSLO_REGION, PostgresDatabase, RegionRef, ResidencyGuard, ResidencyPolicy, defineRegion,
} from '../../lib';
import { synthError } from '../support/residency';
import { newStack, synthJson } from '../support/synth';

const OSLO_OBJECT_STORE = defineRegion({ id: 'onprem:oslo-s3', country: 'NO', city: 'Oslo', operatorJurisdiction: 'NO' });

function stackWithBackupAt(location: RegionRef, policy: ResidencyPolicy = 'eea') {
  const { stack } = newStack('oslo-production');
  ResidencyGuard.of(stack).usePolicy(policy);
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  new PostgresDatabase(stack, 'orders-db', {
    target, serviceName: 'orders',
    backup: {
      location,
      objectStore: { bucket: 'platform-backups', endpoint: 's3.example.test', region: 'r1' },
      image: 'registry.example.no/postgres-pgbackrest:17.2',
    },
  });
  return stack;
}

describe('backup locations under the residency policies', () => {
  test.each([
    ['aws:us-east-1', 'eea', 'US (United States)'],
    ['aws:eu-west-2', 'eea', 'GB'],
    ['oci:eu-zurich-1', 'eea', 'CH'],
    ['aws:eu-north-1', 'eea-sovereign', 'operator'],
  ] as const)('a backup to %s is refused under %s', (location, policy, why) => {
    const message = synthError(stackWithBackupAt(location, policy));
    expect(message).toContain(`postgresql-data (backup copy) at ${location}`);
    expect(message).toContain(`[policy ${policy}]`);
    expect(message).toContain(why);
    expect(message).toContain('Fix:');
  });

  test.each([
    ['an Oslo object store (defineRegion)', OSLO_OBJECT_STORE, 'eea-sovereign'],
    ['the Oslo region', OSLO_REGION, 'eea-sovereign'],
    ['upcloud:fi-hel1', 'upcloud:fi-hel1', 'eea'],
    ['aws:eu-north-1', 'aws:eu-north-1', 'eea'],
  ] as const)('a backup to %s passes under %s', (_what, location, policy) => {
    expect(() => synthJson(stackWithBackupAt(location, policy))).not.toThrow();
  });

  it('lists the backup copy in residency-report.json', () => {
    const outdir = fs.mkdtempSync(path.join(process.env.TMPDIR!, 'backup-report-'));
    const app = new App({ outdir, stackTraces: false });
    const stack = new TerraformStack(app, 'oslo-production');
    ResidencyGuard.ensure(stack, { stateLocation: OSLO_REGION });
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    new PostgresDatabase(stack, 'orders-db', {
      target, serviceName: 'orders',
      backup: { location: OSLO_OBJECT_STORE, objectStore: { bucket: 'b-1', endpoint: 's3.example.test', region: 'r1' }, image: 'pgbr:17' },
    });
    app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'oslo-production', 'residency-report.json'), 'utf8'));
    expect(report.verdict).toBe('compliant');
    expect(report.datastores).toContainEqual(expect.objectContaining({
      path: 'oslo-production/orders-db/datastore-data', kind: 'postgresql-data', role: 'backup', location: 'onprem:oslo-s3', country: 'NO', verdict: 'compliant',
    }));
  });
});
