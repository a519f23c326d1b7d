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
      const keys = Object.keys(def.shape!);
      const members = keys.map((k) => applierOf(def.shape![k]));
      return (value) => {
        const input = value as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (let i = 0; i < keys.length; i++) {
          const r = members[i](input[keys[i]]);
          if (r !== undefined || keys[i] in input) out[keys[i]] = r;
        }
        return out;
      };
    }
    case 'array': {
      const element = applierOf(def.element!);
      return (value) => (value as unknown[]).map(element);
    }
    case 'record': {
      const member = applierOf(def.valueType!);
      return (value) => Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, member(v)]));
    }
    case 'union': {
      const options = def.options!;
      return (value) => applierOf(unionOption(options, value))(value);
    }
    case 'string': case 'number': case 'boolean': case 'enum': case 'literal':
      return (value) => value;
    default:
      throw new Error(`withSchemaDefaults: unsupported schema type "${def.type}"`);
  }
}

/**
 * The union member a value of ours belongs to: the literal it equals, or the first object whose
 * keys hold all of the value's keys and all of its required ones.
 */
function unionOption(options: z.ZodType[], value: unknown): z.ZodType {
  for (const option of options) {
    const def = defOf(option);
    if (def.type === 'literal' && def.values!.includes(value)) return option;
    if (def.type === 'object' && typeof value === 'object' && value !== null && fitsObject(def, value as Record<string, unknown>)) return option;
  }
  throw new Error(`withSchemaDefaults: no member of the union fits ${JSON.stringify(value)?.slice(0, 200)}`);
}

function fitsObject(def: Def, value: Record<string, unknown>): boolean {
  const shape = def.shape!;
  if (!Object.keys(value).every((k) => k in shape)) return false;
  return Object.entries(shape).every(([k, s]) => {
    const t = defOf(s).type;
    if (t === 'optional' || t === 'default') return true;
    if (value[k] === undefined) return false;
    const d = defOf(s);
    return d.type !== 'literal' || d.values!.includes(value[k]); // a discriminator must match
  });
}
