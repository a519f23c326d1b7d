import { Testing } from 'cdktf';
import { local } from '../../stacks/local';
import { osloProduction } from '../../stacks/oslo-production';
import { TF_REF, literalSecrets } from '../support/secret-scan';
import { dockerReplicas, resourcesOf, synthJson } from '../support/synth';

describe('example stacks', () => {
  it('oslo-production matches its snapshot', () => {
    const stack = osloProduction(Testing.app({ stackTraces: false }));
    expect(JSON.parse(Testing.synth(stack, true))).toMatchSnapshot();
  });

  it('local matches its snapshot', () => {
    const stack = local(Testing.app({ stackTraces: false }));
    expect(JSON.parse(Testing.synth(stack, true))).toMatchSnapshot();
  });

  it('local runs the same services as Docker containers, publishing only the gateway', () => {
    const json = synthJson(local(Testing.app({ stackTraces: false })));
    const containers = dockerReplicas(json);
    const names = containers.map((c: any) => c.name).sort();
    expect(names).toEqual([
      'sovereign-gateway-0', 'sovereign-invoices-0', 'sovereign-invoices-db-0', 'sovereign-notifications-0',
      'sovereign-orders-0', 'sovereign-orders-db-0', 'sovereign-rabbitmq-0', 'sovereign-rabbitmq-1', 'sovereign-rabbitmq-2',
    ]);
    const published = containers.filter((c: any) => c.ports).map((c: any) => c.name);
    expect(published).toEqual(['sovereign-gateway-0']);
  });

  it('puts no secret value in either stack', () => {
    for (const build of [osloProduction, local]) {
      const json = synthJson(build(Testing.app({ stackTraces: false })));
      expect(literalSecrets(json)).toEqual([]);
      // Docker env is "NAME=value" strings: secret-looking names must carry references.
      const envs = Object.values(resourcesOf(json, 'docker_container')).flatMap((c: any) => c.env ?? []) as string[];
      for (const e of envs.filter((e) => /PASSWORD|COOKIE|SECRET/.test(e.split('=')[0]))) {
        // NAME_FILE names the file that holds the secret (POSTGRES_PASSWORD_FILE): a path.
        expect(e.slice(e.indexOf('=') + 1)).toMatch(/_FILE=/.test(e) ? /^\/run\/secrets\/[a-z0-9/_-]+$/ : TF_REF);
      }
    }
  });

  it('oslo-production backs up every database to the Oslo object store', () => {
    const json = synthJson(osloProduction(Testing.app({ stackTraces: false })));
    const cronJobs = Object.values(resourcesOf(json, 'kubernetes_cron_job_v1')).map((c: any) => c.metadata.name).sort();
    expect(cronJobs).toEqual(['invoices-db-diff-backup', 'invoices-db-full-backup', 'orders-db-diff-backup', 'orders-db-full-backup']);
    for (const db of ['orders-db', 'invoices-db']) {
      const config = Object.values(resourcesOf(json, 'kubernetes_config_map_v1')).find((c: any) => c.metadata.name === `${db}-config`) as any;
      expect(config.data['etc_pgbackrest_pgbackrest.conf']).toContain('repo1-s3-endpoint=s3.oslo-1.example.no');
      expect(config.data['etc_postgresql_postgresql.conf']).toContain('archive_mode = on');
    }
  });

  it('oslo-production refuses a non-EEA region', () => {
    expect(() => Testing.synth(osloProduction(Testing.app({ stackTraces: false }), 'aws:us-east-1'), true))
      .toThrow(/residency violation \[policy eea-sovereign\]: postgresql-data \(primary copy\) at aws:us-east-1/);
  });
});
