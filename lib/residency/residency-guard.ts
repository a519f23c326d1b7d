import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformBackend, TerraformStack } from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import { addCustomSynthesis, leanTokens, synthesisMemo } from '../cdktf-internals';
import { SovereignStackError, parseProps } from '../util/errors';
import { DatastoreRole, IDatastore, isDatastore, isOwnRecord, placementEvidenceOf } from './datastore-record';
import { COUNTRY_NAMES } from './eea';
import { ResidencyPolicy, ResidencyPolicySchema, describePolicy, evaluateRegion } from './policy';
import { Region } from './region';
import { RegionRef, RegionRefSchema, regionId, resolveRegionRef } from './region-ref';
import { OSLO_REGION, lookupRegion, regions } from './regions';

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
  /**
   * Where the synthesized resources actually put the data (primary copies realized by a target),
   * read from the final output: node labels, or the Docker host.
   */
  readonly placement?: string;
  readonly verdict: 'compliant' | 'violation' | 'waived';
  readonly reason: string;
  /** Why a violation was accepted, as the stack's author put it on the record. */
  readonly waiver?: string;
}

/** Where the stack's Terraform state (every generated password is in it) is kept. */
export interface StateBackendFinding extends ResidencyFinding {
  /** The backend type (`local`, `s3`, `azurerm`, `gcs`, `pg`, `http`, ...). */
  readonly backend: string;
}

export interface ResidencyGuardProps {
  /**
   * `'eea'`: every datastore in one of the 30 EEA states. `'eea-sovereign'`: also operated from an
   * EEA jurisdiction (no US CLOUD Act exposure). `{ allowCountries: ['NO'] }`: only these.
   * @default 'eea'
   */
  readonly policy?: ResidencyPolicy;
  /**
   * Where the stack's Terraform state lives. The state holds every generated password, so it is a
   * datastore like any other. Required unless the backend names its location itself (an S3
   * backend on AWS, without a custom endpoint, is in `aws:<region>`); a local backend is wherever
   * `terraform` runs.
   * @default - inferred from an AWS S3 backend; otherwise synthesis fails until it is declared
   */
  readonly stateLocation?: RegionRef;
}

const GUARD_ID = 'ResidencyGuard';

/** Keys of the guard's judgements in a synthesis memo (besides each datastore's). */
const DATASTORES = {};
const STATE = {};

/** Locations suggested in fixes, best first: each is offered only when the active policy allows it. */
const SUGGESTIONS: readonly (() => Region | undefined)[] = [
  () => OSLO_REGION,
  ...['upcloud:no-svg1', 'upcloud:fi-hel1', 'hetzner:hel1', 'scaleway:nl-ams', 'ovh:gra', 'azure:norwayeast', 'aws:eu-north-1', 'gcp:europe-north1']
    .map((id) => () => lookupRegion(id)),
];

/**
 * The stack-level residency check (Schrems II). Targets and datastores add it automatically; add
 * it by hand to choose a policy or declare where Terraform state lives. It checks every construct
 * implementing IDatastore in the stack against the policy, where our own datastores are judged by
 * the placement their synthesized resources actually got (after overrides and aspects), and the
 * stack's Terraform state as a datastore. It fails synthesis listing every violation, removes any
 * stale cdk.tf.json of the failing stack, and writes `residency-report.json` beside cdk.tf.json
 * when the stack passes. Skipping cdktf's validations does not skip it: the check runs again when
 * the stack is written, before cdk.tf.json exists (within one synthesis each datastore is judged once). The only way past a violation is a waiver
 * with a reason (`waive`), listed in the report.
 */
export class ResidencyGuard extends Construct {
  /**
   * The stack's guard: created with `props` if the stack has none yet, else the existing one with
   * `props` applied (a policy or state location different from one already chosen is an error, as
   * with `usePolicy` / `useStateLocation`). The way to add or configure the guard:
   * `ResidencyGuard.ensure(stack, { policy: 'eea-sovereign', stateLocation: OSLO_REGION })`.
   */
  public static ensure(scope: IConstruct, props: ResidencyGuardProps = {}): ResidencyGuard {
    const stack = TerraformStack.of(scope);
    const existing = stack.node.tryFindChild(GUARD_ID);
    if (!(existing instanceof ResidencyGuard)) return new ResidencyGuard(stack, GUARD_ID, props);
    if (props?.policy !== undefined) existing.usePolicy(props.policy);
    if (props?.stateLocation !== undefined) existing.useStateLocation(props.stateLocation);
    return existing;
  }

  /** The stack's guard, created with the default policy if the stack has none yet. */
  public static of(scope: IConstruct): ResidencyGuard {
    return ResidencyGuard.ensure(scope);
  }

  private _policy: ResidencyPolicy;
  private policyChosen: boolean;
  private stateLocation?: RegionRef;
  private readonly waivers = new Map<string, string>();

  /**
   * Prefer `ResidencyGuard.ensure(stack, props)`, which needs no id and works whether or not a
   * datastore already added the guard. The constructor stays for stacks written before it: it
   * takes only the stack as scope and `'ResidencyGuard'` as id, before anything else in the stack.
   */
  constructor(scope: Construct, id: string, props: ResidencyGuardProps = {}) {
    const stack = TerraformStack.of(scope);
    if (stack.node.tryFindChild(GUARD_ID) || id !== GUARD_ID || scope !== stack) {
      throw new SovereignStackError(
        `a stack has exactly one ResidencyGuard: add or configure it with ResidencyGuard.ensure(stack, { policy, stateLocation }) ` +
        `(at ${scope.node.path}/${id})`,
      );
    }
    const policy = props?.policy === undefined ? 'eea' : parseProps(ResidencyPolicySchema, props.policy, 'residency policy');
    if (props?.stateLocation !== undefined) parseProps(RegionRefSchema, props.stateLocation, 'ResidencyGuard props.stateLocation');
    super(scope, id);
    leanTokens(this);
    this._policy = policy;
    this.policyChosen = props?.policy !== undefined;
    this.stateLocation = props?.stateLocation;
    this.node.addValidation({ validate: () => this.validateStack() });
    addCustomSynthesis(this, {
      onSynthesize: (session) => {
        // Runs even with `new App({ skipValidation: true })`, before cdk.tf.json is written. One
        // judgement for both the refusal and the report: each reads every datastore's synthesized body.
        const findings = this.findings();
        const violations = findings.filter((f) => f.verdict === 'violation').map((f) => `[${f.path}] ${this.message(f)}`);
        if (violations.length > 0) {
          this.removeStaleOutput();
          throw new SovereignStackError(
            `residency check failed for stack ${stack.node.id}; no cdk.tf.json was written:\n${violations.map((v) => `  - ${v}`).join('\n')}`,
          );
        }
        const dir = path.join(session.outdir, session.manifest.forStack(stack).workingDirectory);
        fs.writeFileSync(path.join(dir, RESIDENCY_REPORT_FILE), `${JSON.stringify(this.reportOf(findings), null, 2)}\n`);
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

  /** Declares where the stack's Terraform state lives (see `ResidencyGuardProps.stateLocation`). */
  public useStateLocation(location: RegionRef): void {
    parseProps(RegionRefSchema, location, 'ResidencyGuard stateLocation');
    if (this.stateLocation !== undefined && regionId(this.stateLocation) !== regionId(location)) {
      throw new SovereignStackError(
        `Terraform state of stack ${TerraformStack.of(this).node.path} is already declared at ${regionId(this.stateLocation)}; ` +
        `refusing to move it to ${regionId(location)}: one stack has one backend`,
      );
    }
    this.stateLocation = location;
  }

  /**
   * Accepts the violations of every datastore at or under `scope`, on the record: the reason is
   * listed in residency-report.json beside the finding (e.g. "holds only public product images,
   * no personal data"). A whole stack and the Terraform state cannot be waived.
   */
  public waive(scope: IConstruct, reason: string): void {
    const stack = TerraformStack.of(this);
    if (typeof reason !== 'string' || reason.trim().length < 10) {
      throw new SovereignStackError(`a residency waiver for ${scope?.node?.path ?? '(nothing)'} needs a reason of at least 10 characters, for the report`);
    }
    if (!scope?.node || TerraformStack.of(scope) !== stack || scope === stack) {
      throw new SovereignStackError('a residency waiver names one datastore (or the construct holding it) in this stack, never the whole stack');
    }
    if (!scope.node.findAll().some(isDatastore)) {
      throw new SovereignStackError(`${scope.node.path} holds no datastore: nothing to waive`);
    }
    this.waivers.set(scope.node.path, reason.trim());
  }

  /** Every datastore location in the stack, judged against the policy, the Terraform state last. */
  public findings(): ResidencyFinding[] {
    return [...this.datastores().flatMap((d) => this.judge(d)), this.judgeState()];
  }

  /** Error messages for one datastore (empty when compliant or waived). */
  public violationsOf(datastore: IDatastore): string[] {
    return this.judge(datastore).filter((f) => f.verdict === 'violation').map((f) => this.message(f));
  }

  /** The evidence a data protection officer can file. Deterministic: no timestamps. */
  public report(): object {
    return this.reportOf(this.findings());
  }

  /**
   * Validation of one of our own Datastore records (it calls this): its violations, and no
   * deployable output left behind when there are any.
   * @internal
   */
  public validateRecord(datastore: IDatastore): string[] {
    const violations = this.violationsOf(datastore);
    if (violations.length > 0) this.removeStaleOutput();
    return violations;
  }

  private reportOf(findings: ResidencyFinding[]): object {
    const state = findings[findings.length - 1];
    const datastores = findings.slice(0, -1);
    return {
      stack: TerraformStack.of(this).node.id,
      policy: describePolicy(this._policy),
      verdict: findings.some((f) => f.verdict === 'violation') ? 'violation' : 'compliant',
      datastores,
      terraformState: state,
      waivers: datastores.filter((f) => f.verdict === 'waived').map((f) => ({ path: f.path, role: f.role, location: f.location, reason: f.waiver })),
    };
  }

  private datastores(): IDatastore[] {
    const stack = TerraformStack.of(this);
    return synthesisMemo(stack, DATASTORES, () => stack.node.findAll().filter(isDatastore));
  }

  /** One judgement per synthesis serves the datastore's validation and the report. */
  private judge(d: IDatastore): ResidencyFinding[] {
    return synthesisMemo(TerraformStack.of(this), d, () => this.judgeNow(d));
  }

  private judgeNow(d: IDatastore): ResidencyFinding[] {
    const waiver = this.waiverOf(d);
    const evidence = placementEvidenceOf(d);
    let locations: readonly { role: DatastoreRole; location: RegionRef }[];
    try {
      locations = [...d.datastoreLocations];
    } catch {
      locations = [];
    }
    const findings = locations.map(({ role, location }) => {
      const finding = this.judgeLocation(d.node.path, String(d.datastoreKind), role, location);
      if (role !== 'primary' || !evidence) return finding;
      const misplaced = evidence.problems.length > 0;
      return {
        ...finding,
        placement: evidence.placement,
        verdict: finding.verdict === 'violation' || misplaced ? 'violation' as const : finding.verdict,
        reason: misplaced
          ? `the synthesized placement does not match the record (${evidence.problems.join('; ')})${finding.verdict === 'violation' ? `; and ${finding.reason}` : ''}`
          : finding.reason,
      };
    });
    if (locations.length === 0) {
      findings.push({
        path: d.node.path, kind: String(d.datastoreKind), role: 'primary', location: '(none)', verdict: 'violation',
        reason: 'it declares no location at all (datastoreLocations is empty or unreadable)',
      });
    }
    return waiver === undefined ? findings : findings.map((f) => (f.verdict === 'violation' ? { ...f, verdict: 'waived' as const, waiver } : f));
  }

  private judgeLocation(where: string, kind: string, role: DatastoreRole, location: RegionRef): ResidencyFinding {
    const base = { path: where, kind, role, location: regionId(location) };
    const region = resolveRegionRef(location);
    if (!region) {
      const unknown = typeof location === 'string'
        ? `unknown location "${location}": it is not in the region catalogue, so its country cannot be checked (unknown locations fail closed)${didYouMean(location)}`
        : `"${regionId(location)}" is not a Region made by defineRegion(), so nothing vouches for its country (hand-built regions fail closed)`;
      return { ...base, verdict: 'violation', reason: unknown };
    }
    const facts = {
      ...base,
      country: region.country,
      countryName: COUNTRY_NAMES[region.country],
      city: region.city,
      operator: region.operator,
      operatorJurisdiction: region.operatorJurisdiction,
    };
    const verdict = evaluateRegion(region, this._policy);
    return { ...facts, verdict: verdict.allowed ? 'compliant' : 'violation', reason: verdict.reason };
  }

  private judgeState(): StateBackendFinding {
    const stack = TerraformStack.of(this);
    return synthesisMemo(stack, STATE, () => this.judgeStateNow(stack));
  }

  private judgeStateNow(stack: TerraformStack): StateBackendFinding {
    const backend = stack.node.findAll().find((c): c is TerraformBackend => c instanceof TerraformBackend);
    const config = backendConfig(backend);
    const where = `${stack.node.path}/terraform-state`;
    const location = this.stateLocation ?? inferStateLocation(config);
    if (location === undefined) {
      return {
        path: where, kind: 'terraform-state', role: 'primary', location: '(undeclared)', backend: config.type, verdict: 'violation',
        reason: `the ${config.type} backend does not say where Terraform state (which holds every generated password) is kept` +
          (config.type === 'local' ? ': a local backend keeps it wherever terraform runs' : ''),
      };
    }
    return { ...this.judgeLocation(where, 'terraform-state', 'primary', location), backend: config.type };
  }

  private waiverOf(d: IDatastore): string | undefined {
    for (const [scope, reason] of this.waivers) {
      if (d.node.path === scope || d.node.path.startsWith(`${scope}/`)) return reason;
    }
    return undefined;
  }

  private message(f: ResidencyFinding): string {
    const where = f.country ? `${f.location} (${f.city ? `${f.city}, ` : ''}${f.country})` : f.location;
    const allowed = SUGGESTIONS.map((s) => s()).filter((r): r is Region => !!r && evaluateRegion(r, this._policy).allowed).slice(0, 2);
    const examples = allowed.length > 0
      ? `for example ${allowed.map((r) => (r === OSLO_REGION ? 'OSLO_REGION' : r.id)).join(' or ')}`
      : 'declare one with defineRegion({ id, country, ... })';
    const fix = f.kind === 'terraform-state'
      ? `Fix: keep state in a backend in a location the policy allows (${examples}) and declare it: ResidencyGuard.ensure(stack, { stateLocation })`
      : f.placement !== undefined && /synthesized placement/.test(f.reason)
        ? 'Fix: remove the override or aspect that moves its pods (node affinity, node_name, the Docker host), or deploy it on a target in its location'
        : f.country
          ? `Fix: move it to a location the policy allows (${examples}), or change the policy deliberately; a datastore that holds no personal data can be waived on the record: ResidencyGuard.of(stack).waive(construct, reason)`
          : 'Fix: use a catalogue id (see `regions`) or declare the location with defineRegion({ id, country, ... }) and pass the Region';
    return `residency violation [policy ${describePolicy(this._policy)}]: ${f.kind} (${f.role} copy) at ${where}: ${f.reason.replace(/\.$/, '')}. ${fix}`;
  }

  private validateStack(): string[] {
    // Our own Datastore records validate themselves (validateRecord); here user-defined IDatastores and the state.
    const others = this.datastores().filter((d) => !isOwnRecord(d));
    const state = this.judgeState();
    const messages = [
      ...others.flatMap((d) => this.violationsOf(d).map((m) => `datastore ${d.node.path}: ${m}`)),
      ...(state.verdict === 'violation' ? [`terraform state: ${this.message(state)}`] : []),
    ];
    if (messages.length > 0) this.removeStaleOutput();
    return messages;
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

interface BackendConfig {
  readonly type: string;
  readonly settings: Record<string, unknown>;
}

function backendConfig(backend: TerraformBackend | undefined): BackendConfig {
  if (!backend) return { type: 'local', settings: {} };
  const doc = backend.toTerraform() as { terraform?: { backend?: Record<string, Record<string, unknown>> } };
  const [type, settings] = Object.entries(doc.terraform?.backend ?? {})[0] ?? ['local', {}];
  return { type, settings: settings ?? {} };
}

/** Only an S3 backend on AWS itself names its location: `aws:<region>`. */
function inferStateLocation(config: BackendConfig): string | undefined {
  const s = config.settings;
  if (config.type !== 's3' || typeof s.region !== 'string' || s.endpoint || s.endpoints) return undefined;
  return `aws:${s.region}`;
}

/** " Did you mean ...?" for a mistyped catalogue id, or nothing. */
function didYouMean(id: string): string {
  const lower = id.toLowerCase();
  const scored = Object.keys(regions)
    .map((candidate) => ({ candidate, distance: editDistance(lower, candidate) }))
    .filter((c) => c.distance <= Math.max(2, Math.floor(c.candidate.length / 5)))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, 3);
  return scored.length > 0 ? `. Did you mean ${scored.map((c) => `"${c.candidate}"`).join(' or ')}?` : '';
}

/** Levenshtein distance (small strings: ids). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
