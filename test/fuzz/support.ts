/**
 * The property-based fuzz suite's shared parts (issue 13). Each property starts from a VALID input
 * of one renderer or construct and replaces at most one prop with a generated value, valid or not.
 * Then exactly one of two things must happen:
 * - the input is refused with a SovereignStackError whose message names the prop that was replaced
 *   (as the user wrote it: `nginxConf.upstreams[0].servers[0].host`), or a prop that a rule
 *   relates it to and that the message names (`memoryLimit` when maxConnections does not fit it);
 * - the input is accepted, and what it renders passes the checks of the property (and, in
 *   test/integration/fuzz-real-servers.test.ts, the real server's own check).
 *
 * Seeded and bounded: FUZZ_SEED picks another seed, FUZZ_RUNS_SCALE multiplies every numRuns
 * (both print in the summary, so a failure can be replayed).
 */
import * as fc from 'fast-check';
import { SovereignStackError, formatIssuePath } from '../../lib/util/errors';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const SCALE = Number(process.env.FUZZ_RUNS_SCALE ?? 1);

/** numRuns for a property: `base` times FUZZ_RUNS_SCALE. */
export const runs = (base: number): number => Math.max(1, Math.round(base * SCALE));

/** fast-check parameters: the suite's seed, and no shrinking past a few seconds. */
export function params(numRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: runs(numRuns), interruptAfterTimeLimit: 120_000, endOnFailure: false };
}

export type Path = ReadonlyArray<string | number>;

/** A valid input with at most one prop replaced. `path` is undefined when nothing was replaced. */
export interface Case<T> {
  readonly input: T;
  readonly path?: Path;
  readonly value?: unknown;
}

/** A deep copy of `obj` with `value` at `path` (the whole input for `[]`). */
export function setPath<T>(obj: T, path: Path, value: unknown): T {
  if (path.length === 0) return value as T;
  const copy: any = Array.isArray(obj) ? [...(obj as unknown[])] : { ...(obj as object) };
  const [head, ...rest] = path;
  copy[head] = setPath(copy[head], rest, value);
  if (value === undefined && rest.length === 0) delete copy[head];
  return copy as T;
}

/**
 * Cases from a valid input: about one in eight is left as generated, the others replace one of
 * the listed props with a value from its arbitrary.
 */
export function cases<T>(valid: fc.Arbitrary<T>, mutations: ReadonlyArray<readonly [Path, fc.Arbitrary<unknown>]>): fc.Arbitrary<Case<T>> {
  return fc.oneof(
    { weight: 1, arbitrary: valid.map((input) => ({ input })) },
    {
      weight: 7,
      arbitrary: fc.oneof(...mutations.map(([path, arb]) => fc.tuple(valid, arb)
        // Only props whose parent exists in this input: a lone field of a missing object is not one prop.
        .filter(([input]) => parentExists(input, path))
        .map(([input, value]) => ({ input: setPath(input, path, value), path, value })))),
    },
  );
}

function parentExists(input: unknown, path: Path): boolean {
  let here: any = input;
  for (const segment of path.slice(0, -1)) {
    if (typeof here !== 'object' || here === null || !(segment in here)) return false;
    here = here[segment];
  }
  return typeof here === 'object' && here !== null;
}

/** Counters per target, printed when the file ends. */
export class FuzzStats {
  private readonly rows = new Map<string, { cases: number; refused: number; accepted: number; namedByLeaf: number; checks: number; refusedAtSynth: number }>();

  row(target: string) {
    let r = this.rows.get(target);
    if (!r) {
      r = { cases: 0, refused: 0, accepted: 0, namedByLeaf: 0, checks: 0, refusedAtSynth: 0 };
      this.rows.set(target, r);
    }
    return r;
  }

  /** One summary line per target, and the totals. */
  print(title: string): void {
    const total = { cases: 0, refused: 0, accepted: 0, namedByLeaf: 0, checks: 0, refusedAtSynth: 0 };
    const lines = [...this.rows].map(([target, r]) => {
      for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r[k];
      return `  ${target.padEnd(34)} ${String(r.cases).padStart(5)} cases ${String(r.refused).padStart(5)} refused ${String(r.accepted).padStart(5)} accepted` +
        `${r.checks ? ` ${r.checks} output checks` : ''}${r.refusedAtSynth ? `, ${r.refusedAtSynth} refused at synth by a validation` : ''}` +
        `${r.namedByLeaf ? ` (${r.namedByLeaf} refusals named a related prop)` : ''}`;
    });
    process.stdout.write(`\n${title} (seed ${FUZZ_SEED}, runs x${SCALE}):\n${lines.join('\n')}\n` +
      `  ${'total'.padEnd(34)} ${String(total.cases).padStart(5)} cases ${String(total.refused).padStart(5)} refused ${String(total.accepted).padStart(5)} accepted ${total.checks} output checks\n`);
  }

  totals() {
    const t = { cases: 0, refused: 0, accepted: 0, checks: 0, refusedAtSynth: 0 };
    for (const r of this.rows.values()) {
      t.cases += r.cases; t.refused += r.refused; t.accepted += r.accepted; t.checks += r.checks; t.refusedAtSynth += r.refusedAtSynth;
    }
    return t;
  }
}

/**
 * Runs one case. A refusal must be a SovereignStackError naming the replaced prop (under `prefix`,
 * the name the message gives the input), or naming it by its prop name when a rule across props
 * refused it under a related prop (`related` lists the paths that may be blamed instead, as
 * patterns over the formatted path). An accepted case goes to `accept`. Returns the output, or
 * undefined when refused.
 */
export function runCase<T, O>(
  stats: FuzzStats, target: string, c: Case<T>, prefix: string,
  run: (input: T) => O,
  accept: (output: O, c: Case<T>) => void,
  related: ReadonlyArray<RegExp> = [],
): O | undefined {
  const row = stats.row(target);
  row.cases++;
  let output: O;
  try {
    output = run(c.input);
  } catch (e) {
    row.refused++;
    if (!(e instanceof SovereignStackError)) {
      throw new Error(`${target}: a ${(e as Error)?.constructor?.name ?? typeof e} instead of a SovereignStackError for ${describe(c)}:\n${(e as Error)?.stack ?? e}`);
    }
    const how = namesProp(e.message, prefix, c.path, related);
    if (!how) throw new Error(`${target}: the refusal does not name ${c.path ? formatIssuePath(prefix, c.path) : 'any prop of the (unchanged, valid) input'} for ${describe(c)}:\n${e.message}`);
    if (how === 'leaf') row.namedByLeaf++;
    return undefined;
  }
  row.accepted++;
  accept(output, c);
  return output;
}

/** 'full' when the message names the path, 'leaf' when a related prop is blamed and this one named, else undefined. */
export function namesProp(message: string, prefix: string, path: Path | undefined, related: ReadonlyArray<RegExp>): 'full' | 'leaf' | undefined {
  if (!path) {
    // A generated valid input may still break a rule across props; the message must say which.
    return message.includes(`${prefix}.`) || message.includes(`${prefix}:`) || message.includes(`${prefix}[`) ? 'full' : undefined;
  }
  const full = formatIssuePath(prefix, path);
  if ([':', '.', '['].some((c) => message.includes(`${full}${c}`))) return 'full';
  // A prop the object does not have: zod names the key on the object.
  const key = path[path.length - 1];
  if (message.includes(`${formatIssuePath(prefix, path.slice(0, -1))}: Unrecognized key: "${String(key)}"`)) return 'full';
  // A rule across props may blame a related one (a route naming an upstream that was renamed).
  return related.some((r) => r.test(message)) ? 'leaf' : undefined;
}

function describe(c: Case<unknown>): string {
  const show = (v: unknown) => {
    try {
      const s = JSON.stringify(v, (_k, x) => (typeof x === 'object' && x !== null && 'node' in x ? `<${x.constructor?.name}>` : x));
      return s === undefined ? String(v) : s.length > 400 ? `${s.slice(0, 400)}...` : s;
    } catch {
      return String(v);
    }
  };
  return c.path ? `${c.path.join('.')} = ${show(c.value)} in ${show(c.input)}` : `the valid input ${show(c.input)}`;
}

// -----------------------------------------------------------------------------------------------
// Values. Each prop arbitrary mixes values the schema should accept (near the edges) with values it
// should refuse: wrong types, injection characters, huge numbers and strings.
// -----------------------------------------------------------------------------------------------

/** Anything at all: wrong types, special numbers, strings with config and shell metacharacters. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, true, false, 0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -0, [], {}, [1], { a: 1 }),
  fc.constantFrom('', ' ', '\n', ';', '{', '}', '#', '$', '"', "'", '\\', '${x}', '%{x}', '..', '../x', '\u0000', 'é', '\u202e'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.integer(),
  fc.double(),
);

/** Strings built around a valid one: injected metacharacters, case, length. */
export function nearString(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const inject = fc.constantFrom(';', '\n', ' ', '{', '}', '#', '$', '"', "'", '\\', '/', '..', ':', '@', '*', '%', '\r', '\t', '\u0000', 'é', '=', ',');
  return fc.oneof(
    valid,
    fc.tuple(valid, inject, fc.nat({ max: 64 })).map(([v, c, at]) => `${v.slice(0, at % (v.length + 1))}${c}${v.slice(at % (v.length + 1))}`),
    valid.map((v) => v.toUpperCase()),
    fc.tuple(valid, fc.integer({ min: 2, max: 40 })).map(([v, n]) => v.repeat(n)),
    fc.tuple(valid, fc.constantFrom('-', '.', '_', '/')).map(([v, c]) => `${c}${v}${c}`),
  );
}

/** Integers and non-integers around `min` and `max`, and far outside. */
export function nearInt(min: number, max: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.integer({ min, max }),
    fc.constantFrom(min, max, min - 1, max + 1, 0, -1, min + 0.5, max * 1000, Number.MAX_SAFE_INTEGER),
    fc.integer({ min: -2 * Math.abs(max) - 10, max: 2 * Math.abs(max) + 10 }),
    fc.constantFrom(String(min), NaN, Infinity, null),
  );
}

/** Memory quantities of every unit and size, and malformed ones. */
export const memoryQuantities: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.constantFrom('Ki', 'Mi', 'Gi', 'Ti')).map(([n, u]) => `${n}${u}`),
  fc.tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom('Ki', 'Mi', 'Gi', 'Ti')).map(([n, u]) => `${n}${u}`),
  fc.constantFrom('1GB', '512M', '1e3Mi', '-1Mi', '1.5Gi', '0x10Mi', ' 1Gi', '1Gi ', '1gi', 'Gi', '999999999Ti', '99999999999999Ti', 512),
);

/** Versions: strict ones and the texts semver.coerce would have read a version out of. */
export const versionTexts: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 40 }), fc.option(fc.integer({ min: 0, max: 20 }))).map(([a, b, c]) => (c === null ? `${a}.${b}` : `${a}.${b}.${c}`)),
  fc.constantFrom('3.10.8\nlisteners.tcp.2 = 127.0.0.1:47679\nheartbeat = 7\n#', 'latest', 'v1.2.3', '1.2.3-rc.1', '1.2.3-alpine', '1.2.3 ', 'x1.2', '1', '1.2.3.4', '01.2', '1.2;', '4.0.0-rc.1'),
  nearString(fc.constantFrom('3.13.7', '1.22.1', '1.27.3', '15', '4.0')),
);

/**
 * The fastest of `times` runs of `fn`, in ms, each expected to throw a SovereignStackError. The
 * fastest, so that a garbage collection or a busy machine does not count: what is measured is the
 * work the input makes (seconds for a backtracking pattern), not the noise.
 */
/** zod's own linear patterns: its code-point counter (length checks) and its numeric record-key test. */
const ZOD_INTERNALS: ReadonlySet<string> = new Set(['[\\uD800-\\uDBFF]', '^-?\\d+(?:\\.\\d+)?$']);

/**
 * The longest string any regular expression was run on while `fn` ran (every pattern goes through
 * RegExp.prototype.exec: test, match and replace call it). Length limits must come first, so a
 * 60,000-character value is refused before a pattern, linear or not, ever scans it. Counted, not
 * timed: a busy machine cannot make it flaky.
 */
export function longestPatternInput(fn: () => unknown): number {
  const exec = RegExp.prototype.exec;
  let longest = 0;
  RegExp.prototype.exec = function patched(this: RegExp, input: string) {
    // zod's own linear internals are not ours to bound.
    const length = String(input).length;
    if (length > longest && !ZOD_INTERNALS.has(this.source)) longest = length;
    return exec.call(this, input);
  };
  try {
    fn();
  } catch {
    /* refused or accepted: the other suites check the outcome */
  } finally {
    RegExp.prototype.exec = exec;
  }
  return longest;
}

/** Refused with a SovereignStackError; returns the longest input any pattern scanned on the way. */
export function refusedBeforePatterns(fn: () => unknown): number {
  let refused = false;
  const longest = longestPatternInput(() => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof SovereignStackError)) throw e;
      refused = true;
    }
  });
  if (!refused) throw new Error('expected a refusal');
  return longest;
}
