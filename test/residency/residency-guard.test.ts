import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import {
  KubernetesTarget, OSLO_REGION, RegionRef, ResidencyGuard, defineRegion,
} from '../../lib';
import { LoopbackTarget } from '../fixtures/loopback-target';
import { ObjectStore, synthError } from '../support/residency';
import { newStack, synthJson } from '../support/synth';
import { statefulWorkload } from '../support/workloads';

function stackIn(region: RegionRef, location?: RegionRef) {
  const { app, stack } = newStack('oslo-production');
  const target = new KubernetesTarget(stack, 'cluster', { region });
  target.deploy(new Construct(stack, 'ledger'), statefulWorkload(), { location });
  return { app, stack };
}



describe('ResidencyGuard', () => {
  it('fails a stateful workload in aws:us-east-1, naming path, kind, location, country, policy and fix', () => {
    const message = synthError(stackIn('aws:us-east-1').stack);
    expect(message).toContain('[oslo-production/ledger/datastore-data]');
    expect(message).toContain('ledger-data (primary copy) at aws:us-east-1');
    expect(message).toContain('US (United States)');
    expect(message).toContain('[policy eea]');
    expect(message).toContain('Fix:');
  });

  it('passes in Oslo and writes residency-report.json beside cdk.tf.json', () => {
    const outdir = fs.mkdtempSync(path.join(process.env.TMPDIR!, 'report-'));
    const app = new App({ outdir, stackTraces: false });
    const stack = new TerraformStack(app, 'oslo-production');
    new ResidencyGuard(stack, 'ResidencyGuard', { stateLocation: OSLO_REGION });
    new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION }).deploy(new Construct(stack, 'ledger'), statefulWorkload());
    app.synth();
    const dir = path.join(outdir, 'stacks', 'oslo-production');
    expect(fs.existsSync(path.join(dir, 'cdk.tf.json'))).toBe(true);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'residency-report.json'), 'utf8'));
    expect(report).toEqual({
      stack: 'oslo-production', policy: 'eea', verdict: 'compliant',
      datastores: [expect.objectContaining({
        path: 'oslo-production/ledger/datastore-data', kind: 'ledger-data', role: 'primary', location: OSLO_REGION.id,
        country: 'NO', operatorJurisdiction: 'NO', verdict: 'compliant',
        placement: expect.stringContaining('topology.kubernetes.io/region In [oslo-1]'),
      })],
      terraformState: expect.objectContaining({ kind: 'terraform-state', backend: 'local', location: OSLO_REGION.id, verdict: 'compliant' }),
      waivers: [],
    });
  });

  it('removes the stale cdk.tf.json of a stack that now violates the policy', () => {
    const outdir = fs.mkdtempSync(path.join(process.env.TMPDIR!, 'stale-'));
    const build = (region: RegionRef) => {
      const app = new App({ outdir, stackTraces: false });
      const stack = new TerraformStack(app, 'oslo-production');
      ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
      new KubernetesTarget(stack, 'cluster', { region }).deploy(new Construct(stack, 'ledger'), statefulWorkload());
      return app;
    };
    build(OSLO_REGION).synth();
    const file = path.join(outdir, 'stacks', 'oslo-production', 'cdk.tf.json');
    expect(fs.existsSync(file)).toBe(true);
    expect(() => build('aws:us-east-1').synth()).toThrow(/residency violation/);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(path.join(outdir, 'stacks', 'oslo-production', 'residency-report.json'))).toBe(false);
  });

  it('fails closed on an unknown region id, pointing at defineRegion', () => {
    const message = synthError(stackIn('acme:oslo-basement').stack);
    expect(message).toContain('unknown location "acme:oslo-basement"');
    expect(message).toContain('defineRegion');
  });

  it('accepts a location declared with defineRegion', () => {
    const basement = defineRegion({ id: 'acme:oslo-basement', country: 'NO', city: 'Oslo' });
    expect(() => synthJson(stackIn(basement).stack)).not.toThrow();
  });

  it('fails a datastore overriding its location outside the EEA while its target is in Oslo', () => {
    const message = synthError(stackIn(OSLO_REGION, 'aws:eu-west-2').stack);
    expect(message).toContain('aws:eu-west-2 (London, GB)');
    expect(message).toContain('outside the EEA');
  });

  it('checks the volumes of a target of your own: the base class records them, not the target', () => {
    const { stack } = newStack('s');
    const deployed = new LoopbackTarget(stack, 'loopback', {}).deploy(new Construct(stack, 'ledger'), statefulWorkload(), { location: 'aws:us-east-1' });
    expect(deployed.datastores.map((d) => d.node.path)).toEqual(['s/ledger/datastore-data']);
    expect(synthError(stack)).toContain('ledger-data (primary copy) at aws:us-east-1');
  });

  it('checks backup copies declared on a workload\'s datastore record', () => {
    const { stack } = newStack('s');
    const deployed = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION }).deploy(new Construct(stack, 'ledger'), statefulWorkload());
    expect(deployed.datastores.map((d) => d.datastoreKind)).toEqual(['ledger-data']);
    deployed.datastores[0].addLocation('backup', 'upcloud:fi-hel1');
    expect(() => synthJson(stack)).not.toThrow();
    deployed.datastores[0].addLocation('backup', 'aws:us-east-1');
    expect(synthError(stack)).toContain('ledger-data (backup copy) at aws:us-east-1');
  });

  it('fails a user-defined IDatastore outside the EEA, and lists every violation', () => {
    const { stack } = stackIn('oci:eu-zurich-1');
    new ObjectStore(stack, 'exports', [{ role: 'primary', location: 'aws:eu-north-1' }, { role: 'backup', location: 'gcp:europe-west6' }]);
    const message = synthError(stack);
    expect(message).toContain('datastore oslo-production/exports: residency violation [policy eea]: object-storage (backup copy) at gcp:europe-west6');
    expect(message).toContain('oci:eu-zurich-1');
    expect(message).not.toContain('object-storage (primary copy)');
  });

  it('applies eea-sovereign: an EEA region run by a US operator fails with CLOUD Act exposure', () => {
    const { stack } = newStack('s', { stateLocation: false });
    new ResidencyGuard(stack, 'ResidencyGuard', { policy: 'eea-sovereign', stateLocation: OSLO_REGION });
    new KubernetesTarget(stack, 'cluster', { region: 'azure:norwayeast' }).deploy(new Construct(stack, 'ledger'), statefulWorkload());
    const message = synthError(stack);
    expect(message).toContain('[policy eea-sovereign]');
    expect(message).toContain('CLOUD Act');
  });

  it('applies an allowCountries policy', () => {
    const { stack } = newStack('s');
    ResidencyGuard.of(stack).usePolicy({ allowCountries: ['NO'] });
    new KubernetesTarget(stack, 'cluster', { region: 'aws:eu-north-1' }).deploy(new Construct(stack, 'ledger'), statefulWorkload());
    expect(synthError(stack)).toContain('[policy allowCountries[NO]]');
  });

  it('refuses a second, different policy for one stack', () => {
    const { stack } = newStack('s');
    ResidencyGuard.of(stack).usePolicy('eea-sovereign');
    expect(() => ResidencyGuard.of(stack).usePolicy('eea')).toThrow(/already eea-sovereign/);
  });
});

describe('ResidencyGuard.ensure (the factory)', () => {
  it('creates the stack\'s guard with its props, under the id the stack-level check uses', () => {
    const stack = new TerraformStack(new App({ stackTraces: false }), 's');
    const guard = ResidencyGuard.ensure(new Construct(stack, 'deep'), { policy: 'eea-sovereign', stateLocation: OSLO_REGION });
    expect(guard.node.scope).toBe(stack);
    expect(guard.policy).toBe('eea-sovereign');
    expect(ResidencyGuard.of(stack)).toBe(guard);
    expect(guard.findings().find((f) => f.kind === 'terraform-state')).toEqual(expect.objectContaining({ location: OSLO_REGION.id, verdict: 'compliant' }));
  });

  it('configures the guard a datastore already added, which the constructor cannot', () => {
    const { stack } = newStack('s', { stateLocation: false });
    new KubernetesTarget(stack, 'cluster', { region: 'azure:norwayeast' }).deploy(new Construct(stack, 'ledger'), statefulWorkload());
    expect(() => new ResidencyGuard(stack, 'ResidencyGuard', { policy: 'eea-sovereign' }))
      .toThrow(/exactly one ResidencyGuard: add or configure it with ResidencyGuard\.ensure\(stack, \{ policy, stateLocation \}\)/);
    const guard = ResidencyGuard.ensure(stack, { policy: 'eea-sovereign', stateLocation: OSLO_REGION });
    expect(guard).toBe(ResidencyGuard.of(stack));
    expect(synthError(stack)).toContain('CLOUD Act');
  });

  it('refuses props that contradict what the stack already chose', () => {
    const { stack } = newStack('s');
    ResidencyGuard.ensure(stack, { policy: 'eea-sovereign' });
    expect(() => ResidencyGuard.ensure(stack, { policy: 'eea' })).toThrow(/already eea-sovereign/);
    expect(() => ResidencyGuard.ensure(stack, { stateLocation: 'aws:eu-north-1' })).toThrow(/already declared at/);
    expect(() => ResidencyGuard.ensure(stack, { policy: 'eea-sovereign', stateLocation: OSLO_REGION })).not.toThrow();
  });
});
