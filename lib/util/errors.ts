import type { z } from 'zod';

/**
 * An error meant for the person running `cdktf synth`: its message says what is wrong and what to
 * do. `stacks/` entry points print only the message (no stack trace) for these.
 */
export class SovereignStackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SovereignStackError';
  }
}

/** Renders a zod issue path the way users wrote it: `services[1].database.storageGi`. */
export function formatIssuePath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out || '(root)';
}

/** What a value is, in the words of a message: "null", "an array", "a number (NaN)". */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return `the number ${String(value)}`;
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

const ARTICLE: Record<string, string> = { array: 'an array', object: 'an object', int: 'an integer', undefined: 'nothing' };

/**
 * One issue in words that say what the prop must be. zod's own wording ("Invalid input",
 * "Invalid input: expected string, received number") is replaced; our schemas' messages are kept.
 * For issues re-reported under another path (a component's options inside a pattern's props).
 */
export function issueMessage(issue: z.core.$ZodIssue): string {
  const raw = issue as z.core.$ZodIssue & {
    expected?: string; errors?: z.core.$ZodIssue[][]; issues?: z.core.$ZodIssue[];
    options?: unknown[]; discriminator?: string;
  };
  if (issue.code === 'invalid_type') {
    const expected = raw.expected ?? 'another type';
    const got = /received (\w+)/.exec(issue.message)?.[1];
    return `must be ${ARTICLE[expected] ?? `a ${expected}`}${got ? ` (got ${got === 'undefined' ? 'nothing' : got})` : ''}`;
  }
  if (issue.code === 'invalid_union') {
    if (raw.discriminator && raw.options) {
      return `must be one of ${raw.options.map((o) => JSON.stringify(o)).join(', ')}`;
    }
    if (issue.message !== 'Invalid input') return issue.message;
    // Every alternative failed: say what each one wanted.
    const wanted = [...new Set((raw.errors ?? []).map((alt) => alt.map((i) => issueMessage(i)).join(', ')).filter(Boolean))];
    return wanted.length ? `matches none of the accepted forms: ${wanted.join('; or ')}` : 'is not one of the accepted forms';
  }
  if (issue.code === 'invalid_key') {
    const inner = raw.issues?.map((i) => issueMessage(i)).join(', ');
    return `is not an accepted key${inner ? `: ${inner}` : ''}`;
  }
  if (issue.code === 'unrecognized_keys') {
    // zod's "Unrecognized key: "x"" names the key; say what to do about it.
    return `${issue.message} (not a prop here; check the spelling)`;
  }
  if (issue.code === 'invalid_element') return 'has an invalid entry';
  const typed = /^Invalid input: expected (\w+), received (\w+)$/.exec(issue.message);
  if (typed) return `must be ${ARTICLE[typed[1]] ?? `a ${typed[1]}`} (got ${typed[2] === 'undefined' ? 'nothing' : typed[2]})`;
  if (issue.message === 'Invalid input' || issue.message.startsWith('Invalid input:')) return 'is not accepted here';
  return issue.message;
}

/** One line per issue: `<what>.<path>: <rule>`. */
export function formatZodError(what: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => `  - ${formatIssuePath(what, issue.path)}: ${issueMessage(issue)}`);
  return `invalid ${what}:\n${lines.join('\n')}`;
}

/**
 * Parses user-supplied props with a zod schema and returns the validated (defaulted) value, or
 * throws a SovereignStackError naming every bad prop path and its rule. Nothing is created before
 * props are valid, so a bad prop never leaves a half-built construct tree behind.
 */
export function parseProps<S extends z.ZodType>(schema: S, props: unknown, what: string): z.output<S> {
  const result = schema.safeParse(props);
  if (!result.success) throw new SovereignStackError(formatZodError(what, result.error));
  return result.data;
}

/**
 * The props object of a construct, or a SovereignStackError when there is none: `new X(scope, id)`
 * from JavaScript, or `undefined` / `null` / a non-object passed on purpose. `example` shows the
 * smallest props that work.
 */
export function requireProps<T>(props: T, what: string, example: string): NonNullable<T> {
  if (typeof props !== 'object' || props === null || Array.isArray(props)) {
    throw new SovereignStackError(`invalid ${what}:\n  - ${what}: must be an object such as ${example} (got ${describeValue(props)})`);
  }
  return props as NonNullable<T>;
}
