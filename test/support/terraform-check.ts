/**
 * Runs the real `terraform` binary over a synthesized cdk.tf.json, offline.
 *
 * No provider plugins can be had here (see /work/shared/notes/whole-output.md), so every
 * resource, data source and provider block becomes a built-in `terraform_data` whose `input` is
 * its own arguments with every string UNTOUCHED: Terraform then parses each `${...}` / `%{...}`
 * exactly as it would in the real resource, and `plan` evaluates them (a `${file(...)}` that
 * should have been escaped shows up as the file's content in the planned input).
 *
 * Only references to other synthesized blocks are rewritten, inside `${...}` expressions only:
 * `${type.name.attr}` becomes a reference to `terraform_data.type__name.triggers_replace`, which
 * holds the known marker string "type.name" (so the plan stays known and readable, and the
 * dependency graph, cycles included, is kept). A reference to a block that does not exist is
 * left alone, so Terraform reports it.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REQUIRE_REAL_SERVERS, findBinary } from '../integration/support/real-servers';

export interface TerraformCheckOptions {
  /** The terraform binary. @default findTerraform() */
  readonly terraform?: string;
  /** Values for variables; a variable with neither a value here nor a default gets a dummy. */
  readonly variables?: Record<string, unknown>;
  /** Where the temp dir goes; keep it short. @default '/tmp' */
  readonly tmpRoot?: string;
  /** Keep the temp dir (for debugging); its path is then in the result. @default false */
  readonly keepDir?: boolean;
  /** Per-command timeout. @default 60000 */
  readonly timeoutMs?: number;
}

export interface TerraformCheckResult {
  /** No error from init, validate or plan. */
  readonly valid: boolean;
  /** Errors, one readable line each, naming the synthesized address (and argument path). */
  readonly diagnostics: string[];
  readonly warnings: string[];
  /** Planned `input` per synthesized address (`type.name`, `data.type.name`, `provider.type`). */
  readonly plannedInputs: Record<string, unknown>;
  /** Planned output values by output name. */
  readonly plannedOutputs: Record<string, unknown>;
  /** Only with keepDir. */
  readonly dir?: string;
}

/** Stands in for a value Terraform only knows after apply (e.g. `uuid()`). */
export const UNKNOWN = '(known after apply)';

export const TERRAFORM_CANDIDATES = ['/usr/local/bin/terraform', 'terraform'];

export function findTerraform(): string | undefined {
  return findBinary(TERRAFORM_CANDIDATES);
}

/**
 * `describe` when terraform exists; otherwise a loud skip, or a failing suite under
 * REQUIRE_REAL_SERVERS=1 (as describeWithServer in test/integration/support/real-servers.ts).
 */
export function describeWithTerraform(name: string, body: (terraform: string) => void): void {
  const terraform = findTerraform();
  if (terraform) {
    describe(name, () => body(terraform));
    return;
  }
  const message = `TERRAFORM MISSING: no terraform binary (${TERRAFORM_CANDIDATES.join(' or ')}), so "${name}" ` +
    'cannot run. Install terraform >= 1.4 (built-in terraform_data) to run these tests.';
  if (REQUIRE_REAL_SERVERS) {
    describe(name, () => {
      it('requires terraform (REQUIRE_REAL_SERVERS=1)', () => {
        throw new Error(message);
      });
    });
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(`\n\n*** ${message} SKIPPING. ***\n`);
  describe.skip(name, () => body(''));
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Blocks the check cannot stand in for: better to refuse than to pass by ignoring them. */
const UNSUPPORTED_TOP_LEVEL = ['module', 'moved', 'import', 'removed', 'check'];
/** Resource keys that are Terraform meta-arguments, not arguments of the resource. */
const META_ARGUMENTS = new Set(['depends_on', 'lifecycle', 'provider', 'provisioner', 'connection', 'count', 'for_each', '//']);

export async function terraformCheck(synthesized: object, opts: TerraformCheckOptions = {}): Promise<TerraformCheckResult> {
  const terraform = opts.terraform ?? findTerraform();
  if (!terraform) throw new Error('terraformCheck: TERRAFORM MISSING (no /usr/local/bin/terraform, none on PATH)');
  const { config, origins } = toTerraformData(synthesized as JsonObject);
  const tfvars = dummyVariables(config, opts.variables ?? {});
  const file = new SpanWriter();
  file.write(config, []);
  const text = file.text();

  const dir = fs.mkdtempSync(path.join(opts.tmpRoot ?? '/tmp', 'tfc-'));
  try {
    fs.writeFileSync(path.join(dir, 'main.tf.json'), text);
    if (Object.keys(tfvars).length > 0) fs.writeFileSync(path.join(dir, 'terraform.tfvars.json'), JSON.stringify(tfvars));
    const run = (args: string[]) => runTerraform(terraform, args, dir, opts.timeoutMs ?? 60000);
    const describeDiag = (d: TfDiagnostic) => formatDiagnostic(d, file, text, origins);
    const diagnostics: string[] = [];
    const warnings: string[] = [];
    // Plan repeats validate's warnings: each is kept once.
    const collect = (ds: TfDiagnostic[]) => {
      for (const d of ds) {
        const line = describeDiag(d);
        if (d.severity === 'error') diagnostics.push(line);
        else if (!warnings.includes(line)) warnings.push(line);
      }
    };
    const done = (plannedInputs: Record<string, unknown> = {}, plannedOutputs: Record<string, unknown> = {}) => ({
      valid: diagnostics.length === 0, diagnostics, warnings, plannedInputs, plannedOutputs,
      ...(opts.keepDir ? { dir } : {}),
    });

    const init = await run(['init', '-backend=false', '-input=false', '-no-color']);
    const validate = await run(['validate', '-json', '-no-color']);
    const validated = parseJson<{ valid: boolean; diagnostics?: TfDiagnostic[] }>(validate.stdout);
    if (validated) collect(validated.diagnostics ?? []);
    if (init.code !== 0 && diagnostics.length === 0) diagnostics.push(`terraform init: ${init.stderr.trim() || init.stdout.trim()}`);
    if (!validated) diagnostics.push(`terraform validate: ${validate.stderr.trim() || validate.stdout.trim()}`);
    if (diagnostics.length > 0) return done();

    const plan = await run(['plan', '-refresh=false', '-input=false', '-lock=false', '-json', '-no-color', '-out=plan']);
    const planDiags = plan.stdout.split('\n').flatMap((line) => {
      const msg = parseJson<{ type?: string; diagnostic?: TfDiagnostic }>(line);
      return msg?.type === 'diagnostic' && msg.diagnostic ? [msg.diagnostic] : [];
    });
    collect(planDiags);
    if (plan.code !== 0 && diagnostics.length === 0) diagnostics.push(`terraform plan: ${plan.stderr.trim() || 'failed'}`);
    if (diagnostics.length > 0) return done();

    const show = await run(['show', '-json', '-no-color', 'plan']);
    const shown = parseJson<ShownPlan>(show.stdout);
    if (!shown) {
      diagnostics.push(`terraform show: ${show.stderr.trim() || 'no JSON'}`);
      return done();
    }
    const plannedInputs: Record<string, unknown> = {};
    for (const rc of shown.resource_changes ?? []) {
      const origin = origins.get(rc.name);
      if (rc.type !== 'terraform_data' || !origin) continue;
      const unknown = isObject(rc.change.after_unknown) ? rc.change.after_unknown.input : undefined;
      plannedInputs[origin] = withUnknowns(rc.change.after?.input ?? null, unknown);
    }
    const plannedOutputs: Record<string, unknown> = {};
    for (const [name, o] of Object.entries(shown.planned_values?.outputs ?? {})) plannedOutputs[name] = o.value;
    for (const [name, o] of Object.entries(shown.output_changes ?? {})) {
      if (!(name in plannedOutputs)) plannedOutputs[name] = withUnknowns(o.after ?? null, o.after_unknown);
    }
    return done(plannedInputs, plannedOutputs);
  } finally {
    if (!opts.keepDir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The mapping: synthesized JSON -> a configuration of terraform_data only.

interface Mapped {
  config: JsonObject;
  /** terraform_data name -> the synthesized address it stands in for. */
  origins: Map<string, string>;
}

export function toTerraformData(synth: JsonObject): Mapped {
  for (const key of Object.keys(synth)) {
    if (UNSUPPORTED_TOP_LEVEL.includes(key)) throw new Error(`terraformCheck: top-level "${key}" blocks are not supported`);
  }
  const origins = new Map<string, string>();
  /** "type.name" / "data.type.name" -> terraform_data name. */
  const targets = new Map<string, string>();
  const claim = (tdName: string, origin: string, refKey?: string) => {
    if (origins.has(tdName)) throw new Error(`terraformCheck: ${origin} and ${origins.get(tdName)} both map to terraform_data.${tdName}`);
    origins.set(tdName, origin);
    if (refKey) targets.set(refKey, tdName);
  };

  const bodies: Array<{ tdName: string; body: JsonObject }> = [];
  for (const [mode, prefix] of [['resource', ''], ['data', 'data.']] as const) {
    for (const [type, byName] of Object.entries(asObject(synth[mode]))) {
      for (const [name, body] of Object.entries(asObject(byName))) {
        const tdName = `${prefix ? 'data__' : ''}${type}__${name}`;
        claim(tdName, `${prefix}${type}.${name}`, `${prefix}${type}.${name}`);
        bodies.push({ tdName, body: asObject(body) });
      }
    }
  }
  // Providers: their settings are strings Terraform parses too. Nothing can reference them.
  for (const [type, blocks] of Object.entries(asObject(synth.provider))) {
    for (const block of Array.isArray(blocks) ? blocks : [blocks]) {
      const { alias, version: _version, ...settings } = asObject(block);
      const suffix = typeof alias === 'string' ? `.${alias}` : '';
      const tdName = `provider__${type}${suffix ? `__${alias}` : ''}`;
      claim(tdName, `provider.${type}${suffix}`);
      bodies.push({ tdName, body: settings });
    }
  }

  const rewrite = new ReferenceRewriter(targets);
  const terraformData: JsonObject = {};
  for (const { tdName, body } of bodies) {
    for (const meta of ['count', 'for_each'] as const) {
      if (meta in body) throw new Error(`terraformCheck: ${origins.get(tdName)} uses "${meta}", which is not supported`);
    }
    const input: JsonObject = {};
    for (const [k, v] of Object.entries(body)) if (!META_ARGUMENTS.has(k)) input[rewrite.template(k)] = rewrite.deep(v);
    const mapped: JsonObject = { input, triggers_replace: origins.get(tdName)! };
    if (Array.isArray(body.depends_on)) mapped.depends_on = body.depends_on.map((d) => rewrite.address(String(d)));
    if (isObject(body.lifecycle)) mapped.lifecycle = mapLifecycle(body.lifecycle, rewrite);
    terraformData[tdName] = mapped;
  }

  const config: JsonObject = {};
  const terraformBlock = asObject(synth.terraform);
  if (terraformBlock.required_version !== undefined) config.terraform = { required_version: terraformBlock.required_version };
  if (Object.keys(terraformData).length > 0) config.resource = { terraform_data: terraformData };
  // Variable blocks hold literal values (defaults are not templates): kept as they are.
  if (synth.variable !== undefined) config.variable = synth.variable;
  if (synth.locals !== undefined) config.locals = rewrite.deep(synth.locals);
  if (synth.output !== undefined) {
    const outputs: JsonObject = {};
    for (const [name, o] of Object.entries(asObject(synth.output))) {
      const { depends_on: deps, value, precondition, ...rest } = asObject(o);
      outputs[name] = {
        ...rest,
        value: rewrite.deep(value ?? null),
        ...(Array.isArray(deps) ? { depends_on: deps.map((d) => rewrite.address(String(d))) } : {}),
        ...(precondition !== undefined ? { precondition: rewrite.deep(precondition) } : {}),
      };
    }
    config.output = outputs;
  }
  return { config, origins };
}

function mapLifecycle(lifecycle: JsonObject, rewrite: ReferenceRewriter): JsonObject {
  const out: JsonObject = {};
  for (const key of ['prevent_destroy', 'create_before_destroy'] as const) {
    if (lifecycle[key] !== undefined) out[key] = lifecycle[key];
  }
  // The real attribute names do not exist on terraform_data; "input" holds them all.
  const ignore = lifecycle.ignore_changes;
  if (ignore === 'all' || (Array.isArray(ignore) && ignore.includes('all'))) out.ignore_changes = 'all';
  else if (Array.isArray(ignore) && ignore.length > 0) out.ignore_changes = ['input'];
  if (Array.isArray(lifecycle.replace_triggered_by)) {
    out.replace_triggered_by = lifecycle.replace_triggered_by.map((r) => rewrite.address(String(r)));
  }
  // Preconditions see only other blocks; postconditions use self.<real attribute>: dropped.
  if (lifecycle.precondition !== undefined) out.precondition = rewrite.deep(lifecycle.precondition);
  return out;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_-]*/y;
// type.name, or data.type.name, then attributes, indexes and splats (no templates inside keys).
const REFERENCE = /(data\.)?([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_-]*)((?:\.[A-Za-z_][A-Za-z0-9_-]*|\.[0-9]+|\[[0-9]+\]|\["[^"\\$%]*"\]|\.\*|\[\*\])*)/y;

/**
 * Rewrites references inside `${...}` / `%{...}` only, with HCL's template rules: `$${` and `%%{`
 * are literal text, quoted strings inside expressions are templates again. Everything else is
 * copied byte for byte.
 */
export class ReferenceRewriter {
  constructor(private readonly targets: Map<string, string>) {}

  deep(value: Json): Json {
    if (typeof value === 'string') return this.template(value);
    if (Array.isArray(value)) return value.map((v) => this.deep(v));
    if (isObject(value)) {
      // Object keys in expressions are templates too.
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.template(k), this.deep(v)]));
    }
    return value;
  }

  template(s: string): string {
    return this.scanTemplate(s, 0, false).out;
  }

  /** A depends_on / replace_triggered_by entry: a bare reference, not a template. */
  address(ref: string): string {
    REFERENCE.lastIndex = 0;
    const m = REFERENCE.exec(ref);
    const target = m ? this.targets.get(`${m[1] ?? ''}${m[2]}.${m[3]}`) : undefined;
    return target ? `terraform_data.${target}${ref.slice(m![0].length)}` : ref;
  }

  private scanTemplate(s: string, start: number, quoted: boolean): { out: string; end: number } {
    let out = '';
    let i = start;
    while (i < s.length) {
      const c = s[i];
      if (quoted && c === '\\') { out += s.slice(i, i + 2); i += 2; continue; }
      if (quoted && c === '"') break;
      if ((c === '$' || c === '%') && s[i + 1] === c && s[i + 2] === '{') { out += s.slice(i, i + 3); i += 3; continue; }
      if ((c === '$' || c === '%') && s[i + 1] === '{') {
        const e = this.scanExpression(s, i + 2);
        out += `${c}{${e.out}`;
        i = e.end;
        continue;
      }
      out += c;
      i++;
    }
    return { out, end: i };
  }

  /** From just after `${` to just after its closing `}` (or the end, for Terraform to report). */
  private scanExpression(s: string, start: number): { out: string; end: number } {
    let out = '';
    let depth = 0;
    let i = start;
    while (i < s.length) {
      const c = s[i];
      if (c === '"') {
        const t = this.scanTemplate(s, i + 1, true);
        out += `"${t.out}`;
        i = t.end;
        if (s[i] === '"') { out += '"'; i++; }
        continue;
      }
      if (c === '{') depth++;
      if (c === '}' && depth-- === 0) return { out: out + '}', end: i + 1 };
      if (/[A-Za-z_]/.test(c) && !/[A-Za-z0-9_.-]/.test(s[i - 1] ?? '')) {
        const r = this.reference(s, i);
        if (r) { out += r.out; i = r.end; continue; }
        IDENT.lastIndex = i;
        const ident = IDENT.exec(s)![0];
        out += ident;
        i += ident.length;
        continue;
      }
      out += c;
      i++;
    }
    return { out, end: i };
  }

  private reference(s: string, i: number): { out: string; end: number } | undefined {
    REFERENCE.lastIndex = i;
    const m = REFERENCE.exec(s);
    if (!m) return undefined;
    const key = `${m[1] ?? ''}${m[2]}.${m[3]}`;
    const target = this.targets.get(key);
    if (!target) return undefined;
    const marker = `terraform_data.${target}.triggers_replace`;
    // Keep the attribute path in the planned value ("random_password.x.result"): readable.
    const out = m[4] ? `join("", [${marker}, ${JSON.stringify(m[4])}])` : marker;
    return { out, end: i + m[0].length };
  }
}

function dummyVariables(config: JsonObject, given: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(asObject(config.variable))) {
    const decl = asObject(v);
    if (name in given) values[name] = given[name];
    else if (!('default' in decl)) values[name] = dummyFor(typeof decl.type === 'string' ? decl.type : 'string');
  }
  return values;
}

function dummyFor(type: string): unknown {
  const t = type.replace(/^\$\{(.*)\}$/s, '$1').trim();
  if (t === 'number') return 1;
  if (t === 'bool') return true;
  if (/^(list|set|tuple)\b/.test(t)) return [];
  if (/^(map|object)\b/.test(t)) return {};
  return 'dummy';
}

// ---------------------------------------------------------------------------------------------
// Writing main.tf.json while remembering where every value is, to name the address in errors.

interface Span { start: number; end: number; path: Array<string | number> }

class SpanWriter {
  private readonly parts: string[] = [];
  private bytes = 0;
  readonly spans: Span[] = [];

  text(): string { return this.parts.join(''); }

  write(value: Json, at: Array<string | number>): void {
    const start = this.bytes;
    if (Array.isArray(value)) {
      this.raw('[');
      value.forEach((v, i) => { if (i > 0) this.raw(','); this.write(v, [...at, i]); });
      this.raw(']');
    } else if (isObject(value)) {
      // One block per line: Terraform's snippets stay short.
      const nl = at.length <= 2 ? '\n' : '';
      this.raw('{' + nl);
      Object.entries(value).forEach(([k, v], i) => {
        if (i > 0) this.raw(',' + nl);
        const keyStart = this.bytes;
        this.raw(JSON.stringify(k));
        this.spans.push({ start: keyStart, end: this.bytes, path: [...at, k] });
        this.raw(':');
        this.write(v, [...at, k]);
      });
      this.raw(nl + '}');
    } else {
      this.raw(JSON.stringify(value));
    }
    this.spans.push({ start, end: this.bytes, path: at });
  }

  /** The innermost value at a byte offset. */
  at(byte: number): Span | undefined {
    let best: Span | undefined;
    for (const s of this.spans) {
      if (s.start <= byte && byte < s.end && (!best || s.end - s.start < best.end - best.start)) best = s;
    }
    return best;
  }

  private raw(s: string): void {
    this.parts.push(s);
    this.bytes += Buffer.byteLength(s);
  }
}

interface TfDiagnostic {
  severity: 'error' | 'warning';
  summary: string;
  detail?: string;
  address?: string;
  range?: { filename: string; start: { byte: number }; end: { byte: number } };
}

function formatDiagnostic(d: TfDiagnostic, file: SpanWriter, text: string, origins: Map<string, string>): string {
  let where = d.address ?? 'terraform';
  let excerpt = '';
  if (d.range?.filename === 'main.tf.json') {
    const span = file.at(d.range.start.byte);
    if (span) where = describePath(span.path, origins);
    const buf = Buffer.from(text);
    const lo = Math.max(span?.start ?? 0, d.range.start.byte - 40);
    const hi = Math.min(span?.end ?? buf.length, d.range.end.byte + 40);
    excerpt = ` [near: ${buf.subarray(lo, hi).toString()}]`;
  } else if (d.range) {
    where = d.range.filename;
  }
  return `${where}: ${d.summary}${d.detail ? `: ${d.detail}` : ''}${excerpt}`;
}

function describePath(p: Array<string | number>, origins: Map<string, string>): string {
  const attr = (rest: Array<string | number>) =>
    rest.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${k}`)).join('');
  if (p[0] === 'resource' && typeof p[2] === 'string') {
    const origin = origins.get(p[2]) ?? `terraform_data.${p[2]}`;
    // Skip the "input" level: the path then reads as the real resource's argument.
    const rest = p[3] === 'input' ? p.slice(4) : p.slice(3);
    return rest.length > 0 ? `${origin} (${attr(rest)})` : origin;
  }
  if (p[0] === 'output' && p.length > 1) return `output.${p[1]}${p.length > 2 ? ` (${attr(p.slice(2))})` : ''}`;
  if (p[0] === 'locals' && p.length > 1) return `local.${p[1]}`;
  if (p[0] === 'variable' && p.length > 1) return `var.${p[1]}`;
  return attr(p) || 'main.tf.json';
}

// ---------------------------------------------------------------------------------------------

interface ShownPlan {
  resource_changes?: Array<{ type: string; name: string; change: { after?: { input?: unknown } | null; after_unknown?: unknown } }>;
  planned_values?: { outputs?: Record<string, { value?: unknown }> };
  output_changes?: Record<string, { after?: unknown; after_unknown?: unknown }>;
}

/** `show -json` leaves unknown values out of `after`; put a visible marker in their place. */
function withUnknowns(after: unknown, unknown: unknown): unknown {
  if (unknown === true) return UNKNOWN;
  if (Array.isArray(unknown)) {
    const a = Array.isArray(after) ? after : [];
    return unknown.map((u, i) => withUnknowns(a[i] ?? null, u));
  }
  if (isObject(unknown) && isObject(after)) {
    const out: Record<string, unknown> = { ...after };
    for (const [k, u] of Object.entries(unknown)) out[k] = withUnknowns(after[k] ?? null, u);
    return out;
  }
  return after;
}

function runTerraform(bin: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  // Nothing from the caller's TF_* environment (workspace, CLI args, log, plugin cache) leaks in.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TF_')));
  Object.assign(env, { TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' });
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

function parseJson<T>(s: string): T | undefined {
  try {
    return JSON.parse(s) as T;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function asObject(v: unknown): JsonObject {
  return isObject(v) ? v : {};
}
