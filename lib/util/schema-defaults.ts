/**
 * A value as a zod schema would output it, with the schema's defaults applied but nothing
 * checked: for values this library built itself from options that were validated already (a
 * component's workload), where running every check again cost more than building the value.
 *
 * Supports the schema shapes the Workload model uses (objects, arrays, records, unions of
 * objects or literals, defaults, optionals, scalars). Any other shape throws, so a schema change
 * cannot slip past it: the tests compare this with `schema.parse` on every workload they build
 * (SOVEREIGN_STACK_CHECK_TRUSTED, set by test/setup-jest.ts).
 */
import type { z } from 'zod';

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  values?: unknown[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

export function withSchemaDefaults<S extends z.ZodType>(schema: S, value: z.input<S>): z.output<S> {
  return applierOf(schema)(value) as z.output<S>;
}

type Applier = (value: unknown) => unknown;

/** Each schema's applier, built once: the schema's shape is read then, not on every value. */
const appliers = new WeakMap<z.ZodType, Applier>();

function applierOf(schema: z.ZodType): Applier {
  let applier = appliers.get(schema);
  if (!applier) {
    // Set before building, so a schema that refers to itself would find its (late-bound) applier.
    appliers.set(schema, (value) => applier!(value));
    applier = build(schema);
    appliers.set(schema, applier);
  }
  return applier;
}

function build(schema: z.ZodType): Applier {
  const def = defOf(schema);
  switch (def.type) {
    case 'default': {
      // As zod 4 does: a default is the output as it is (its inner schema does not run on it).
      const inner = applierOf(def.innerType!);
      return (value) => (value === undefined ? def.defaultValue : inner(value));
    }
    case 'optional': {
      const inner = applierOf(def.innerType!);
      return (value) => (value === undefined ? undefined : inner(value));
    }
    case 'object': {
      const shape = def.shape!;
      const keys = Object.keys(shape);
      const known = new Set(keys);
      const members = keys.map((k) => applierOf(shape[k]));
      // Copied only when a default is applied or a key the shape lacks is dropped (as zod strips it).
      return (value) => {
        const input = value as Record<string, unknown>;
        let out: Record<string, unknown> | undefined;
        for (const k in input) {
          if (!known.has(k)) {
            out = {};
            break;
          }
        }
        for (let i = 0; i < keys.length; i++) {
          const v = input[keys[i]];
          const r = members[i](v);
          if (out === undefined && r !== v) {
            out = {};
            for (let j = 0; j < i; j++) if (keys[j] in input) out[keys[j]] = input[keys[j]];
          }
          if (out !== undefined && (r !== undefined || keys[i] in input)) out[keys[i]] = r;
        }
        return out ?? input;
      };
    }
    case 'array': {
      const element = applierOf(def.element!);
      return (value) => copyOnChange(value as unknown[], element);
    }
    case 'record': {
      const member = applierOf(def.valueType!);
      return (value) => {
        const input = value as Record<string, unknown>;
        const keys = Object.keys(input);
        const values = copyOnChange(keys.map((k) => input[k]), member);
        return keys.every((k, i) => values[i] === input[k]) ? input : Object.fromEntries(keys.map((k, i) => [k, values[i]]));
      };
    }
    case 'union': {
      const options = def.options!;
      const fits = options.map(fitOf);
      return (value) => {
        const i = fits.findIndex((fit) => fit(value));
        if (i < 0) throw new Error(`withSchemaDefaults: no member of the union fits ${JSON.stringify(value)?.slice(0, 200)}`);
        return applierOf(options[i])(value);
      };
    }
    case 'string': case 'number': case 'boolean': case 'enum': case 'literal':
      return (value) => value;
    default:
      throw new Error(`withSchemaDefaults: unsupported schema type "${def.type}"`);
  }
}

/** `list` with `apply` applied to each element: `list` itself when no element changes. */
function copyOnChange(list: readonly unknown[], apply: Applier): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < list.length; i++) {
    const r = apply(list[i]);
    if (out === undefined && r !== list[i]) out = list.slice(0, i);
    if (out !== undefined) out.push(r);
  }
  return (out ?? list) as unknown[];
}

/**
 * Whether a value of ours belongs to a union member: it equals the literal, or it is an object
 * whose keys the member's shape holds, with all the member's required ones (and a discriminator
 * literal that matches). Read from the member's shape once.
 */
function fitOf(option: z.ZodType): (value: unknown) => boolean {
  const def = defOf(option);
  if (def.type === 'literal') return (value) => def.values!.includes(value);
  if (def.type !== 'object') return () => false;
  const shape = def.shape!;
  const required: string[] = [];
  const literals: [string, unknown[]][] = [];
  for (const [k, s] of Object.entries(shape)) {
    const d = defOf(s);
    if (d.type === 'optional' || d.type === 'default') continue;
    required.push(k);
    if (d.type === 'literal') literals.push([k, d.values!]);
  }
  const known = new Set(Object.keys(shape));
  return (value) => {
    if (typeof value !== 'object' || value === null) return false;
    const v = value as Record<string, unknown>;
    for (const k in v) if (!known.has(k)) return false;
    return required.every((k) => v[k] !== undefined) && literals.every(([k, values]) => values.includes(v[k]));
  };
}
