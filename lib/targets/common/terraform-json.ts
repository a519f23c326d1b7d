/**
 * A provider resource's typed config (camelCase, as `new StatefulSetV1(...)` takes it) -> the
 * Terraform JSON body the provider class would synthesize (snake_case), without building the
 * provider class: its constructor creates an output-reference object per nested block, and its
 * synthesis converts every struct through generated mapper functions, then cdktf walks the result
 * again for tokens. This walks the config once, and says whether it met a token on the way.
 *
 * The generated mappers rename each argument `fooBar` -> `foo_bar` and copy values; map arguments
 * (`labels`, `data`, ...) keep their keys, which are the user's. test/targets/rendered-resource.test.ts
 * compares every body we render with the provider class's own synthesis, byte for byte.
 */
import { markCanonical } from '../../util/stable-json';

/** Arguments whose value is a map with the user's keys, in the Kubernetes resources we render. */
const MAP_ARGUMENTS = new Set([
  'labels', 'annotations', 'data', 'binaryData', 'stringData', 'matchLabels', 'nodeSelector', 'parameters', 'requests', 'limits',
]);
/** `selector` is a map on a Service and a block (`{ matchLabels }`) elsewhere. */
const SELECTOR = 'selector';

const snakeNames = new Map<string, string>();
function snakeCase(name: string): string {
  let snake = snakeNames.get(name);
  if (snake === undefined) snakeNames.set(name, snake = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase());
  return snake;
}

/** Token numbers are encoded as doubles of magnitude 2^960 and above (cdktf's token map). */
const TOKEN_NUMBER_MAGNITUDE = 1e288;
const TOKEN_MARKER = 'TfToken[';

export interface TerraformJsonBody {
  /** The body, keys in sorted order (as cdk.tf.json writes them). */
  readonly json: Record<string, unknown>;
  /** Whether any value is (or holds) a token: then cdktf must resolve the body. */
  readonly holdsTokens: boolean;
  /**
   * Whether the body reads as cdk.tf.json writes it at every depth (sorted keys, none
   * integer-like, no empty object or list): a writer may then copy it out as it is.
   */
  readonly canonical: boolean;
}

/**
 * Converts a provider config to its Terraform JSON body (see the module comment). With `reuse`,
 * parts of the config that need no change are the body's own (see Converter): only for a body that
 * nothing will mutate (cdktf merges overrides into the body it gets from synthesizeAttributes,
 * having copied its plain objects but not its lists).
 */
export function providerConfigToJson(config: object, reuse = false): TerraformJsonBody {
  const converter = new Converter(reuse);
  const json = converter.members(config as Record<string, unknown>, false);
  return { json, holdsTokens: converter.tokens, canonical: converter.canonical && !converter.tokens };
}

/** Plain JSON with its keys kept (metadata, a lifecycle), the same way: undefined members left out, keys in sorted order. */
export function plainToJson(value: Record<string, unknown>): TerraformJsonBody {
  const converter = new Converter();
  const json = converter.members(value, true);
  return { json, holdsTokens: converter.tokens, canonical: converter.canonical && !converter.tokens };
}

/** Keys V8 enumerates before all others (array indices), whatever the insertion order. */
const INTEGER_LIKE = /^(0|[1-9][0-9]*)$/;

/**
 * One walk over a config. After each call, `tokens` and `canonical` describe the value just
 * converted (its whole subtree). A container that is not canonical (an empty map below it, say)
 * marks its canonical members so, for the writer to copy them out without walking them.
 */
class Converter {
  /**
   * @param reuse whether a part of the config that comes out unchanged (same keys in sorted
   *   order, same values) may be the body's part as it is, not a copy: for a body nothing mutates.
   *   A reused part is never marked (it is the config's).
   */
  constructor(private readonly reuse = false) {}

  /** Whether the last converted value is (or holds) a token: then cdktf must resolve it. */
  public tokens = false;
  /** Whether the last converted value reads as cdk.tf.json writes it (see TerraformJsonBody). */
  public canonical = true;

  public value(value: unknown, keepKeys: boolean): unknown {
    this.tokens = false;
    this.canonical = true;
    switch (typeof value) {
      case 'string':
        this.tokens = value.includes(TOKEN_MARKER);
        this.canonical = !value.includes('\u0000'); // stableJson's marker text starts with NUL
        return value;
      case 'number':
        this.tokens = Math.abs(value) >= TOKEN_NUMBER_MAGNITUDE;
        return value;
      case 'object':
        break;
      case 'function':
        this.tokens = true; // cdktf reports it when it resolves the body
        return value;
      default:
        return value; // undefined, boolean
    }
    if (value === null) return null;
    if (Array.isArray(value)) return this.list(value, keepKeys);
    if (typeof (value as { resolve?: unknown }).resolve === 'function') {
      this.tokens = true; // a lazy value: resolved by cdktf as it is, as the provider classes leave it
      return value;
    }
    return this.members(value as Record<string, unknown>, keepKeys);
  }

  /** A list: cdktf drops undefined elements. */
  private list(list: readonly unknown[], keepKeys: boolean): unknown[] {
    let out: unknown[] | undefined = this.reuse ? undefined : [];
    let tokens = false;
    let canonical = true;
    let finals: object[] | undefined;
    let count = 0;
    for (let i = 0; i < list.length; i++) {
      const c = this.value(list[i], keepKeys);
      if (this.tokens) tokens = true;
      if (!this.canonical) canonical = false;
      else if (!this.tokens && typeof c === 'object' && c !== null && c !== list[i]) (finals ??= []).push(c);
      if (out === undefined && (c === undefined || c !== list[i])) out = list.slice(0, i);
      if (c === undefined) continue;
      if (out !== undefined) out.push(c);
      count++;
    }
    return this.end(out ?? (list as unknown[]), count, tokens, canonical, finals);
  }

  /**
   * An object's members inserted in sorted order of their output names, undefined ones left out.
   * A block's argument names go to snake_case and its map arguments keep their keys; a map
   * (`keepKeys`) keeps its keys, which are the user's.
   */
  public members(source: Record<string, unknown>, keepKeys: boolean): Record<string, unknown> {
    const keys = Object.keys(source);
    const names = keepKeys ? keys : snakeNamesOf(keys);
    const order = sortedOrder(names);
    // Reusing: `source` itself while every member comes out as it went in, under the same name.
    let out: Record<string, unknown> | undefined = this.reuse && names === keys && order === undefined ? undefined : {};
    let tokens = false;
    let canonical = true;
    let finals: object[] | undefined;
    let count = 0;
    for (let n = 0; n < keys.length; n++) {
      const i = order ? order[n] : n;
      const key = keys[i];
      const v = source[key];
      let c: unknown;
      if (v !== undefined) {
        if (keepKeys) {
          if (key.includes(TOKEN_MARKER)) tokens = true;
          if (INTEGER_LIKE.test(key) || key === '__proto__' || key.includes('\u0000')) canonical = false;
        }
        c = this.value(v, keepKeys || MAP_ARGUMENTS.has(key) || (key === SELECTOR && isStringMap(v)));
        if (this.tokens) tokens = true;
        if (!this.canonical) canonical = false;
        else if (!this.tokens && typeof c === 'object' && c !== null && c !== v) (finals ??= []).push(c);
      }
      if (out === undefined && (c === undefined || c !== v)) out = leadingMembers(source, keys, n);
      if (c === undefined) continue;
      if (out !== undefined) out[names[i]] = c;
      count++;
    }
    return this.end(out ?? source, count, tokens, canonical, finals);
  }

  private end<T extends object>(out: T, count: number, tokens: boolean, canonical: boolean, finals: object[] | undefined): T {
    if (count === 0) canonical = false;
    if (!canonical && finals) for (const member of finals) markCanonical(member);
    this.tokens = tokens;
    this.canonical = canonical;
    return out;
  }
}

/** The block's argument names in snake_case: `keys` itself when none changes. */
function snakeNamesOf(keys: string[]): string[] {
  let names: string[] | undefined;
  for (let i = 0; i < keys.length; i++) {
    const name = snakeCase(keys[i]);
    if (names === undefined && name !== keys[i]) names = keys.slice(0, i);
    if (names !== undefined) names.push(name);
  }
  return names ?? keys;
}

/** The first `n` members of `source` (in `keys` order): all defined and unchanged so far. */
function leadingMembers(source: Record<string, unknown>, keys: readonly string[], n: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let j = 0; j < n; j++) out[keys[j]] = source[keys[j]];
  return out;
}

/**
 * The indices of `names` in sorted order, or undefined when they are sorted already (most are):
 * each object is built once, with its keys inserted in the order cdk.tf.json writes them.
 */
function sortedOrder(names: readonly string[]): number[] | undefined {
  let sorted = true;
  for (let i = 1; i < names.length && sorted; i++) sorted = names[i - 1] < names[i];
  if (sorted) return undefined;
  // An insertion sort: objects have a few keys, and Array.prototype.sort allocates ~0.7 KB of
  // merge state per call (70 MB over a 500-service synthesis).
  const order = new Array<number>(names.length);
  for (let i = 0; i < names.length; i++) {
    let j = i;
    while (j > 0 && names[order[j - 1]] > names[i]) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
  return order;
}

function isStringMap(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}
