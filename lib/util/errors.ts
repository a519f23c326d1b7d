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

/** One line per issue: `<what>.<path>: <rule>`. */
export function formatZodError(what: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => `  - ${formatIssuePath(what, issue.path)}: ${issue.message}`);
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
