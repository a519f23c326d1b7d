import { Testing } from 'cdktf';
import { local } from '../../stacks/local';
import { osloProduction } from '../../stacks/oslo-production';
import { resourcesOf, synthJson } from '../support/synth';

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
    const containers = Object.values(resourcesOf(json, 'docker_container'));
    const names = containers.map((c: any) => c.name).sort();
    expect(names).toEqual([
      'sovereign-gateway-0', 'sovereign-invoices-0', 'sovereign-invoices-db-0', 'sovereign-notifications-0',
      'sovereign-orders-0', 'sovereign-orders-db-0', 'sovereign-rabbitmq-0', 'sovereign-rabbitmq-1', 'sovereign-rabbitmq-2',
    ]);
    const published = containers.filter((c: any) => c.ports).map((c: any) => c.name);
    expect(published).toEqual(['sovereign-gateway-0']);
  });

  it('oslo-production refuses a non-EEA region', () => {
    expect(() => Testing.synth(osloProduction(Testing.app({ stackTraces: false }), 'aws:us-east-1'), true))
      .toThrow(/residency violation \[policy eea\]: postgresql-data \(primary copy\) at aws:us-east-1/);
  });
});
