import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { addCustomSynthesis } from '../cdktf-internals';
import { Construct, IConstruct } from 'constructs';
import { SovereignStackError, parseProps } from '../util/errors';
import { COUNTRY_NAMES } from './eea';
import { ResidencyPolicy, ResidencyPolicySchema, describePolicy, evaluateRegion } from './policy';
import { regionId, resolveRegionRef } from './region-ref';
import { Datastore, DatastoreRole, IDatastore, isDatastore } from './datastore';

export const RESIDENCY_REPORT_FILE = 'residency-report.json';

/** One location of one datastore, judged. */
export interface ResidencyFinding {
  readonly path: string;
  readonly kind: string;
  readonly role: DatastoreRole;
  readonly location: string;
  readonly country?: string;
  readonly countryName?: string;
  readonly city?: string;
  readonly operator?: string;
  readonly operatorJurisdiction?: string;
  readonly verdict: 'compliant' | 'violation';
  readonly reason: string;
}

export interface ResidencyGuardProps {
  /**
   * `'eea'`: every datastore in one of the 30 EEA states. `'eea-sovereign'`: also operated from an
   * EEA jurisdiction (no US CLOUD Act exposure). `{ allowCountries: ['NO'] }`: only these.
   * @default 'eea'
   */
  readonly policy?: ResidencyPolicy;
}

const GUARD_ID = 'ResidencyGuard';

/**
 * The stack-level residency check (Schrems II). Targets and datastores add it automatically; add
 * it by hand to choose a policy. It checks every construct implementing IDatastore in the stack
 * (our own Datastore records check themselves), fails synthesis listing every violation, removes
 * any stale cdk.tf.json of the failing stack, and writes `residency-report.json` beside
 * cdk.tf.json when the stack passes.
 */
export class ResidencyGuard extends Construct {
  /** The stack's guard, created with the default policy if the stack has none yet. */
  public static of(scope: IConstruct): ResidencyGuard {
    const stack = TerraformStack.of(scope);
    const existing = stack.node.tryFindChild(GUARD_ID);
    if (existing instanceof ResidencyGuard) return existing;
    return new ResidencyGuard(stack, GUARD_ID, {});
  }

  private _policy: ResidencyPolicy;
  private policyChosen: boolean;

  constructor(scope: Construct, id: string, props: ResidencyGuardProps = {}) {
    const stack = TerraformStack.of(scope);
    if (stack.node.tryFindChild(GUARD_ID) || id !== GUARD_ID || scope !== stack) {
      throw new SovereignStackError(
        `a stack has exactly one ResidencyGuard, created as new ResidencyGuard(stack, '${GUARD_ID}', { policy }) ` +
        `before anything else, or changed with ResidencyGuard.of(stack).usePolicy(policy) (at ${scope.node.path}/${id})`,
      );
    }
    super(scope, id);
    this._policy = props.policy === undefined ? 'eea' : parseProps(ResidencyPolicySchema, props.policy, 'residency policy');
    this.policyChosen = props.policy !== undefined;
    this.node.addValidation({ validate: () => this.validateStack() });
    addCustomSynthesis(this, {
      onSynthesize: (session) => {
        const dir = path.join(session.outdir, session.manifest.forStack(stack).workingDirectory);
        fs.writeFileSync(path.join(dir, RESIDENCY_REPORT_FILE), `${JSON.stringify(this.report(), null, 2)}\n`);
      },
    });
  }

  public get policy(): ResidencyPolicy {
    return this._policy;
  }

  /** Sets the policy once; a second, different policy for the same stack is an error. */
  public usePolicy(policy: ResidencyPolicy): void {
    const parsed = parseProps(ResidencyPolicySchema, policy, 'residency.policy');
    if (this.policyChosen && describePolicy(parsed) !== describePolicy(this._policy)) {
      throw new SovereignStackError(
        `residency policy of stack ${TerraformStack.of(this).node.path} is already ${describePolicy(this._policy)}; ` +
        `refusing to change it to ${describePolicy(parsed)}: one stack has one policy`,
      );
    }
    this._policy = parsed;
    this.policyChosen = true;
  }

  /** Every datastore location in the stack, judged against the policy. */
  public findings(): ResidencyFinding[] {
    return this.datastores().flatMap((d) => this.judge(d));
  }

  /** Error messages for one datastore (empty when compliant). */
  public violationsOf(datastore: IDatastore): string[] {
    return this.judge(datastore).filter((f) => f.verdict === 'violation').map((f) => this.message(f));
  }

  /** The evidence a data protection officer can file. Deterministic: no timestamps. */
  public report(): object {
    const findings = this.findings();
    return {
      stack: TerraformStack.of(this).node.id,
      policy: describePolicy(this._policy),
      verdict: findings.every((f) => f.verdict === 'compliant') ? 'compliant' : 'violation',
      datastores: findings,
    };
  }

  private datastores(): IDatastore[] {
    return TerraformStack.of(this).node.findAll().filter(isDatastore);
  }

  private judge(d: IDatastore): ResidencyFinding[] {
    return d.datastoreLocations.map(({ role, location }) => {
      const base = { path: d.node.path, kind: d.datastoreKind, role, location: regionId(location) };
      const region = resolveRegionRef(location);
      if (!region) {
        return {
          ...base, verdict: 'violation' as const,
          reason: `unknown location "${regionId(location)}": it is not in the region catalogue, so its country cannot be checked (unknown locations fail closed)`,
        };
      }
      const verdict = evaluateRegion(region, this._policy);
      return {
        ...base,
        country: region.country,
        countryName: COUNTRY_NAMES[region.country],
        city: region.city,
        operator: region.operator,
        operatorJurisdiction: region.operatorJurisdiction,
        verdict: verdict.allowed ? 'compliant' as const : 'violation' as const,
        reason: verdict.reason,
      };
    });
  }

  private message(f: ResidencyFinding): string {
    const where = f.country ? `${f.location} (${f.city ? `${f.city}, ` : ''}${f.country})` : f.location;
    const fix = f.country
      ? 'Fix: move it to a location the policy allows (for example OSLO_REGION or aws:eu-north-1), or change the policy deliberately'
      : 'Fix: use a catalogue id (see `regions`) or declare the location with defineRegion({ id, country, ... }) and pass the Region';
    return `residency violation [policy ${describePolicy(this._policy)}]: ${f.kind} (${f.role} copy) at ${where}: ${f.reason.replace(/\.$/, '')}. ${fix}`;
  }

  private validateStack(): string[] {
    const datastores = this.datastores();
    if (datastores.some((d) => this.violationsOf(d).length > 0)) this.removeStaleOutput();
    // Our own Datastore records report themselves; here only user-defined IDatastores.
    return datastores
      .filter((d) => !(d instanceof Datastore))
      .flatMap((d) => this.violationsOf(d).map((m) => `datastore ${d.node.path}: ${m}`));
  }

  /**
   * `cdktf synth` keeps what an earlier run wrote; a stack that now violates the policy must not
   * leave a deployable cdk.tf.json behind.
   */
  private removeStaleOutput(): void {
    const outdir = App.of(this).outdir;
    const dir = path.join(outdir, 'stacks', TerraformStack.of(this).node.id);
    for (const file of ['cdk.tf.json', RESIDENCY_REPORT_FILE]) fs.rmSync(path.join(dir, file), { force: true });
  }
}
