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

/** Converts a provider config to its Terraform JSON body (see the module comment). */
export function providerConfigToJson(config: object): TerraformJsonBody {
  const state = { tokens: false, canonical: true };
  const json = convertBlock(config as Record<string, unknown>, state);
  return { json, holdsTokens: state.tokens, canonical: state.canonical && !state.tokens };
}

interface State { tokens: boolean; canonical: boolean }

/** Keys V8 enumerates before all others (array indices), whatever the insertion order. */
const INTEGER_LIKE = /^(0|[1-9][0-9]*)$/;

function checkKey(key: string, state: State): void {
  if (key.includes(TOKEN_MARKER)) state.tokens = true;
  if (INTEGER_LIKE.test(key) || key === '__proto__' || key.includes('\u0000')) state.canonical = false;
}

function convertValue(value: unknown, state: State, keepKeys: boolean): unknown {
  switch (typeof value) {
    case 'string':
      if (value.includes(TOKEN_MARKER)) state.tokens = true;
      if (value.includes('\u0000')) state.canonical = false; // stableJson's marker text starts with NUL
      return value;
    case 'number':
      if (Math.abs(value) >= TOKEN_NUMBER_MAGNITUDE) state.tokens = true;
      return value;
    case 'object':
      break;
    case 'function':
      state.tokens = true; // cdktf reports it when it resolves the body
      return value;
    default:
      return value; // undefined, boolean
  }
  if (value === null) return null;
  if (Array.isArray(value)) {
    if (value.length === 0) state.canonical = false;
    const out: unknown[] = [];
    for (const item of value) {
      const c = convertValue(item, state, keepKeys);
      if (c !== undefined) out.push(c); // cdktf drops undefined list elements
    }
    return out;
  }
  if (typeof (value as { resolve?: unknown }).resolve === 'function') {
    state.tokens = true; // a lazy value: resolved by cdktf as it is, as the provider classes leave it
    return value;
  }
  return keepKeys ? convertMap(value as Record<string, unknown>, state) : convertBlock(value as Record<string, unknown>, state);
}

/** A block: argument names to snake_case; map arguments keep their keys. */
function convertBlock(block: Record<string, unknown>, state: State): Record<string, unknown> {
  const keys = Object.keys(block);
  return convertMembers(block, keys, keys.map(snakeCase), state, (key, v) => convertValue(v, state, MAP_ARGUMENTS.has(key) || (key === SELECTOR && isStringMap(v))));
}

/** A map: the user's keys as they are, values copied. */
function convertMap(map: Record<string, unknown>, state: State): Record<string, unknown> {
  const keys = Object.keys(map);
  return convertMembers(map, keys, keys, state, (key, v) => {
    checkKey(key, state);
    return convertValue(v, state, true);
  });
}

/** The converted members of `source` under their output `names`, inserted in sorted order, undefined ones left out. */
function convertMembers(
  source: Record<string, unknown>, keys: readonly string[], names: readonly string[], state: State,
  convert: (key: string, value: unknown) => unknown,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const order = sortedOrder(names);
  let count = 0;
  for (let n = 0; n < keys.length; n++) {
    const i = order ? order[n] : n;
    const v = source[keys[i]];
    if (v === undefined) continue;
    const c = convert(keys[i], v);
    if (c === undefined) continue;
    out[names[i]] = c;
    count++;
  }
  if (count === 0) state.canonical = false;
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
  return names.map((_, i) => i).sort((a, b) => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0));
}

function isStringMap(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}
