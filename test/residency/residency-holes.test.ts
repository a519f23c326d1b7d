/**
 * The ways past the residency guard that an audit found, each closed: the report is true to the
 * synthesized placement, the check cannot be skipped, Terraform state counts, advice obeys the
 * policy, and regions cannot be forged.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Aspects, IAspect, Lazy, S3Backend, TerraformStack, Testing } from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import {
  Datastore, DatastoreLocation, DockerTarget, KubernetesTarget, OSLO_REGION, PostgresDatabase, RabbitMqCluster,
  Region, ResidencyGuard, SovereignStackError, defineRegion, regions, resolveRegionRef, synthApp,
} from '../../lib';
import { addServiceStack, escapeHatchStack, overrideDefaultsStack, subclassStack } from '../fixtures/client-stacks';
import { local } from '../../stacks/local';
import { osloProduction } from '../../stacks/oslo-production';
import { ObjectStore, synthError } from '../support/residency';
import { newStack, synthJson } from '../support/synth';
import { statefulWorkload } from '../support/workloads';


function database(region: string | Region = OSLO_REGION, location?: string | Region) {
  const { app, stack } = newStack('s');
  const target = new KubernetesTarget(stack, 'cluster', { region });
  const db = new PostgresDatabase(stack, 'db', { target, serviceName: 'orders', location });
  return { app, stack, target, db };
}

/** The synthesized StatefulSet of a component, and the node label values its pods require. */
function requiredNodeLabels(stack: TerraformStack, json: any, component: IConstruct): Record<string, string[]> {
  const resource = component.node.findChild('Resource') as any;
  const sts = json.resource.kubernetes_stateful_set_v1[stack.getLogicalId(resource)];
  const terms = sts.spec.template.spec.affinity?.node_affinity?.required_during_scheduling_ignored_during_execution?.node_selector_term ?? [];
  expect(terms).toHaveLength(1);
  return Object.fromEntries(terms[0].match_expressions.map((e: any) => [e.key, e.values]));
}


describe('residency: evidence equals placement', () => {
  it('pins a datastore that overrides its location to that location, and reports the placement it got', () => {
    const { stack, db } = database('aws:us-east-1', OSLO_REGION);
    const json = synthJson(stack); // the database is judged at Oslo, and really runs there
    expect(requiredNodeLabels(stack, json, db)).toEqual(expect.objectContaining({
      'topology.kubernetes.io/region': ['oslo-1'],
      'node-restriction.kubernetes.io/sovereign-stack-region': ['oslo-1'],
    }));
    const finding = ResidencyGuard.of(stack).findings().find((f) => f.kind === 'postgresql-data')!;
    expect(finding.location).toBe(OSLO_REGION.id);
    expect(finding.placement).toContain('topology.kubernetes.io/region In [oslo-1]');
  });

  it.each([
    ['oslo-production', osloProduction], ['client-add-service', addServiceStack], ['client-overrides', overrideDefaultsStack],
    ['client-escape-hatch', escapeHatchStack], ['client-subclass', subclassStack],
  ] as const)('%s: every datastore\'s reported location is the region its synthesized pods require', (_name, build) => {
    const stack = build(Testing.app({ stackTraces: false }));
    const json = synthJson(stack);
    const records = stack.node.findAll().filter((c): c is Datastore => c instanceof Datastore);
    expect(records.length).toBeGreaterThan(0);
    const findings = ResidencyGuard.of(stack).findings();
    for (const record of records) {
      const reported = findings.filter((f) => f.path === record.node.path && f.role === 'primary');
      expect(reported).toHaveLength(1);
      // The report names the location by id; the reference stacks use OSLO_REGION or catalogue ids.
      const label = (reported[0].location === OSLO_REGION.id ? OSLO_REGION : resolveRegionRef(reported[0].location)!).kubernetesRegionLabel;
      const required = requiredNodeLabels(stack, json, record.node.scope!);
      expect(required['topology.kubernetes.io/region']).toEqual([label]);
      expect(required['node-restriction.kubernetes.io/sovereign-stack-region']).toEqual([label]);
    }
  });

  it('local: every datastore is on the Docker host the report names, never one DOCKER_HOST picks at apply', () => {
    const stack = local(Testing.app({ stackTraces: false }));
    const json = synthJson(stack) as any;
    expect(Object.values<any>(json.provider.docker)[0].host).toBe('unix:///var/run/docker.sock');
    const datastores = ResidencyGuard.of(stack).findings().filter((f) => f.kind !== 'terraform-state');
    expect(datastores.length).toBe(3);
    for (const f of datastores) {
      expect(f.location).toBe('local:developer-machine');
      expect(f.placement).toBe('Docker volumes on the host unix:///var/run/docker.sock');
    }
  });
});

describe('residency: the guard judges what is synthesized', () => {
  const statefulSet = (db: PostgresDatabase) => db.workload.resources.statefulSet!;
  const AFFINITY = 'spec.template.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution';

  it('refuses an override that moves the pods to another region', () => {
    const { stack, db } = database();
    statefulSet(db).addOverride(`${AFFINITY}.node_selector_term`, [{ match_expressions: [{ key: 'topology.kubernetes.io/region', operator: 'In', values: ['us-east-1'] }] }]);
    const message = synthError(stack);
    expect(message).toContain('[s/db/datastore-data]');
    expect(message).toContain('the synthesized placement does not match the record');
    expect(message).toContain('does not require topology.kubernetes.io/region=oslo-1');
  });

  it('refuses a second, ORed node selector term and a nulled affinity', () => {
    const ored = database();
    const term = statefulSet(ored.db).addOverride(`${AFFINITY}.node_selector_term`, [
      { match_expressions: [{ key: 'topology.kubernetes.io/region', operator: 'In', values: ['oslo-1'] }, { key: 'node-restriction.kubernetes.io/sovereign-stack-region', operator: 'In', values: ['oslo-1'] }] },
      { match_expressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] },
    ]);
    expect(term).toBeUndefined();
    expect(synthError(ored.stack)).toMatch(/node selector term \d does not require topology\.kubernetes\.io\/region=oslo-1/);

    const nulled = database();
    statefulSet(nulled.db).addOverride('spec.template.spec.affinity', null);
    expect(synthError(nulled.stack)).toContain('no required node affinity');

    const named = database();
    statefulSet(named.db).addOverride('spec.template.spec.node_name', 'us-node-1');
    expect(synthError(named.stack)).toContain('node_name "us-node-1"');
  });

  it('judges overrides whose values are lazy, at the placement or above it', () => {
    const usEast = { node_affinity: { required_during_scheduling_ignored_during_execution: { node_selector_term: [{ match_expressions: [{ key: 'topology.kubernetes.io/region', operator: 'In', values: ['us-east-1'] }] }] } } };
    const lazyAffinity = database();
    statefulSet(lazyAffinity.db).addOverride('spec.template.spec.affinity', Lazy.anyValue({ produce: () => usEast }));
    expect(synthError(lazyAffinity.stack)).toContain('does not require topology.kubernetes.io/region=oslo-1');

    const lazyTemplate = database();
    statefulSet(lazyTemplate.db).addOverride('spec.template', Lazy.anyValue({ produce: () => ({ spec: { affinity: usEast } }) }));
    expect(synthError(lazyTemplate.stack)).toContain('does not require topology.kubernetes.io/region=oslo-1');
  });

  it('refuses an aspect that widens the pin after construction', () => {
    const { stack } = database();
    class AnyRegion implements IAspect {
      public visit(node: IConstruct): void {
        if ((node as any).terraformResourceType === 'kubernetes_stateful_set_v1') {
          (node as any).addOverride(`${AFFINITY}.node_selector_term.0.match_expressions.0.values`, ['oslo-1', 'us-east-1']);
        }
      }
    }
    Aspects.of(stack).add(new AnyRegion());
    expect(synthError(stack)).toContain('does not require topology.kubernetes.io/region=oslo-1');
  });

  it('treats a persistent volume as a datastore even when the workload does not ask to be placed like one', () => {
    const { stack } = newStack('s');
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    target.deploy(new Construct(stack, 'ledger'), statefulWorkload({ placement: { datastore: false } }));
    expect(synthError(stack)).toContain('no required node affinity: they may run on any node, in any region');
  });
});

describe('residency: not skippable', () => {
  function violating(outdir: string, options: { skipValidation?: boolean } = {}) {
    const app = new App({ outdir, stackTraces: false, ...options });
    const stack = new TerraformStack(app, 'prod');
    ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
    const target = new KubernetesTarget(stack, 'cluster', { region: 'aws:us-east-1' });
    const db = new PostgresDatabase(stack, 'db', { target, serviceName: 'orders' });
    return { app, stack, db };
  }
  const outdirOf = () => fs.mkdtempSync(path.join(process.env.TMPDIR!, 'skip-'));

  it('writes no cdk.tf.json with skipValidation, nor with the CLI\'s continue-on-error switch', () => {
    const outdir = outdirOf();
    const { app } = violating(outdir, { skipValidation: true });
    expect(() => app.synth()).toThrow(SovereignStackError);
    expect(() => app.synth()).toThrow(/no cdk\.tf\.json was written[\s\S]*\[prod\/db\/datastore-data\][\s\S]*aws:us-east-1/);
    expect(fs.existsSync(path.join(outdir, 'stacks', 'prod', 'cdk.tf.json'))).toBe(false);

    process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS = 'true';
    try {
      const again = outdirOf();
      expect(() => violating(again, { skipValidation: true }).app.synth()).toThrow(/residency check failed/);
      expect(fs.existsSync(path.join(again, 'stacks', 'prod', 'cdk.tf.json'))).toBe(false);
    } finally {
      delete process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS;
    }
  });

  it('judges each datastore once per synthesis (validation and report share it), and afresh in the next', () => {
    const outdir = outdirOf();
    const { app, stack, db } = violating(outdir);
    ResidencyGuard.of(stack).waive(db, 'holds only synthetic load-test data, no personal data');
    const datastores = stack.node.findAll().filter((c) => 'datastoreLocations' in c).length;
    expect(datastores).toBeGreaterThan(0);
    const judged = jest.spyOn(ResidencyGuard.prototype as unknown as { judgeNow: () => unknown }, 'judgeNow');
    try {
      app.synth();
      expect(judged).toHaveBeenCalledTimes(datastores);
      app.synth();
      expect(judged).toHaveBeenCalledTimes(2 * datastores);
      // Outside a synthesis nothing is kept: a report asked for now is judged now.
      ResidencyGuard.of(stack).report();
      expect(judged).toHaveBeenCalledTimes(3 * datastores);
    } finally {
      judged.mockRestore();
    }
  });

  it('lets a datastore past only with a waiver on the record, listed in residency-report.json', () => {
    const outdir = outdirOf();
    const { app, stack, db } = violating(outdir);
    const guard = ResidencyGuard.of(stack);
    expect(() => guard.waive(db, 'short')).toThrow(/reason of at least 10 characters/);
    expect(() => guard.waive(stack, 'the whole stack, please')).toThrow(/never the whole stack/);
    guard.waive(db, 'holds only synthetic load-test data, no personal data');
    app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'prod', 'residency-report.json'), 'utf8'));
    expect(report.verdict).toBe('compliant');
    expect(report.waivers).toEqual([{ path: 'prod/db/datastore-data', role: 'primary', location: 'aws:us-east-1', reason: 'holds only synthetic load-test data, no personal data' }]);
    expect(report.datastores[0]).toEqual(expect.objectContaining({ verdict: 'waived', waiver: 'holds only synthetic load-test data, no personal data' }));
  });
});

describe('residency: Terraform state is a datastore', () => {
  function withBackend(configure: (stack: TerraformStack) => void, policy: 'eea' | 'eea-sovereign' = 'eea') {
    const { stack } = newStack('s', { stateLocation: false });
    ResidencyGuard.of(stack).usePolicy(policy);
    configure(stack);
    new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION }).deploy(new Construct(stack, 'ledger'), statefulWorkload());
    return stack;
  }

  it('refuses an undeclared local backend, and state kept in the United States', () => {
    expect(synthError(withBackend(() => undefined))).toContain('terraform-state (primary copy) at (undeclared): the local backend does not say where');
    const us = withBackend((stack) => new S3Backend(stack, { bucket: 'state', key: 'prod.tfstate', region: 'us-east-1' }));
    expect(synthError(us)).toMatch(/terraform-state \(primary copy\) at aws:us-east-1 .*outside the EEA/);
  });

  it('infers an AWS S3 backend\'s region, but not an S3-compatible store\'s, and reports the backend', () => {
    const aws = withBackend((stack) => new S3Backend(stack, { bucket: 'state', key: 'prod.tfstate', region: 'eu-north-1' }));
    expect(() => synthJson(aws)).not.toThrow();
    expect(ResidencyGuard.of(aws).findings().find((f) => f.kind === 'terraform-state')).toEqual(expect.objectContaining({
      backend: 's3', location: 'aws:eu-north-1', country: 'SE', verdict: 'compliant',
    }));
    const compatible = withBackend((stack) => new S3Backend(stack, { bucket: 'state', key: 'k', region: 'oslo-1', endpoints: { s3: 'https://s3.example.no' } }));
    expect(synthError(compatible)).toContain('the s3 backend does not say where Terraform state');
    ResidencyGuard.of(compatible).useStateLocation(OSLO_REGION);
    expect(() => synthJson(compatible)).not.toThrow();
  });

  it('the production example keeps state in Oslo under eea-sovereign, in a remote, encrypted, locked backend', () => {
    const stack = osloProduction(Testing.app({ stackTraces: false }));
    const json = synthJson(stack) as any;
    expect(json.terraform.backend.s3).toEqual(expect.objectContaining({ encrypt: true, use_lockfile: true }));
    const guard = ResidencyGuard.of(stack);
    expect(guard.policy).toBe('eea-sovereign');
    const report = guard.report() as any;
    expect(report.policy).toBe('eea-sovereign');
    expect(report.terraformState).toEqual(expect.objectContaining({ backend: 's3', location: OSLO_REGION.id, verdict: 'compliant' }));
  });
});

describe('residency: advice that obeys the policy', () => {
  it('suggests only locations the active policy allows', () => {
    const { stack } = newStack('s');
    ResidencyGuard.of(stack).usePolicy('eea-sovereign');
    new KubernetesTarget(stack, 'cluster', { region: 'aws:us-east-1' }).deploy(new Construct(stack, 'ledger'), statefulWorkload());
    const fix = synthError(stack).split('Fix:')[1];
    expect(fix).toContain('OSLO_REGION');
    expect(fix).not.toMatch(/aws:|azure:|gcp:|oci:/);

    const { stack: swedish } = newStack('t');
    ResidencyGuard.of(swedish).usePolicy({ allowCountries: ['SE'] });
    new KubernetesTarget(swedish, 'cluster', { region: OSLO_REGION }).deploy(new Construct(swedish, 'ledger'), statefulWorkload());
    const suggested = /for example ([^)]*)\)/.exec(synthError(swedish))![1].split(' or ');
    for (const id of suggested) expect(regions[id].country).toBe('SE');
  });

  it('answers a mistyped id with the catalogue ids it is closest to', () => {
    const { stack } = newStack('s');
    new KubernetesTarget(stack, 'cluster', { region: 'azure:norwayeas' }).deploy(new Construct(stack, 'ledger'), statefulWorkload());
    expect(synthError(stack)).toContain('Did you mean "azure:norwayeast"');
  });
});

describe('residency: regions cannot be forged', () => {
  it('refuses a catalogue id or a catalogued node label in defineRegion', () => {
    expect(() => defineRegion({ id: 'aws:us-east-1', country: 'NO' })).toThrow(/region\.id: "aws:us-east-1" is a catalogue region \(US/);
    expect(() => defineRegion({ id: 'acme:oslo', country: 'NO', kubernetesRegionLabel: 'us-east-1' })).toThrow(/region\.kubernetesRegionLabel: "us-east-1" is the node label of catalogue region aws:us-east-1/);
    expect(() => defineRegion({ id: 'acme:us-east-1', country: 'NO' })).toThrow(/node label of catalogue region aws:us-east-1/);
  });

  it('refuses a hand-built Region object anywhere a location is taken', () => {
    const forged = { id: 'acme:oslo', country: 'NO', operator: 'acme', operatorJurisdiction: 'NO', kubernetesRegionLabel: 'oslo-1' } as Region;
    expect(resolveRegionRef(forged)).toBeUndefined();
    const { stack } = newStack('s', { stateLocation: false });
    expect(() => new KubernetesTarget(stack, 'cluster', { region: forged })).toThrow(/props\.region: .*defineRegion/);
    expect(() => ResidencyGuard.of(stack).useStateLocation(forged)).toThrow(/defineRegion/);
    const store = new ObjectStore(stack, 'bucket', [{ role: 'primary', location: forged }]);
    expect(ResidencyGuard.of(stack).violationsOf(store)[0]).toContain('not a Region made by defineRegion()');
    expect(Object.isFrozen(defineRegion({ id: 'acme:oslo', country: 'NO' }))).toBe(true);
  });

  it('hands out copies of a datastore\'s locations, so a caller cannot drop its backup copy', () => {
    const { stack, db } = database();
    const record = db.workload.datastores[0];
    record.addLocation('backup', 'aws:us-east-1');
    const copy = record.datastoreLocations as DatastoreLocation[];
    expect(() => copy.pop()).toThrow();
    expect(record.datastoreLocations).toHaveLength(2);
    expect(synthError(stack)).toContain('postgresql-data (backup copy) at aws:us-east-1');
  });

  it('requires a remote Docker host to be declared where it stands', () => {
    const remote = (options: object) => {
      const { stack } = newStack('s');
      const target = new DockerTarget(stack, 'docker', { location: OSLO_REGION, host: 'ssh://deploy@db.example.com', ...options });
      new RabbitMqCluster(stack, 'mq', { target, replicas: 1 });
      return stack;
    };
    expect(synthError(remote({}))).toContain('ssh://deploy@db.example.com is a remote machine: declare where it stands with remoteHostLocation');
    expect(synthError(remote({ remoteHostLocation: 'aws:us-east-1' }))).toContain('stands at aws:us-east-1, not at the target\'s location');
    expect(() => synthJson(remote({ remoteHostLocation: OSLO_REGION }))).not.toThrow();
    const nulled = remote({ remoteHostLocation: OSLO_REGION });
    (nulled.node.findChild('docker').node.findChild('provider') as any).addOverride('host', null);
    expect(synthError(nulled)).toContain('it would take DOCKER_HOST at apply time');
  });

  it('judges a stack whose only datastore is one of yours (synthApp adds the guard)', () => {
    const outdir = fs.mkdtempSync(path.join(process.env.TMPDIR!, 'own-'));
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => { throw new Error('exit'); }) as never);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => synthApp((app) => {
        const stack = new TerraformStack(app, 'exports');
        new ObjectStore(stack, 'bucket', [{ role: 'primary', location: 'aws:us-east-1' }]);
      }, new App({ outdir, stackTraces: false }))).toThrow('exit');
      expect(exit).toHaveBeenCalledWith(1);
      const printed = stderr.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toContain('object-storage (primary copy) at aws:us-east-1');
      expect(printed).not.toContain('skipValidation');
      expect(fs.existsSync(path.join(outdir, 'stacks', 'exports', 'cdk.tf.json'))).toBe(false);
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
    }
  });
});

describe('residency: a Docker datastore lives on its host', () => {
  it('refuses a datastore whose record names another location than the Docker host', () => {
    const { stack } = newStack('s');
    const target = new DockerTarget(stack, 'docker', { location: OSLO_REGION });
    new PostgresDatabase(stack, 'db', { target, serviceName: 'orders', location: 'upcloud:fi-hel1' });
    expect(synthError(stack)).toContain(`its volumes are on the Docker host at ${OSLO_REGION.id}, not at upcloud:fi-hel1`);
  });
});
