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
  return apply(schema, value) as z.output<S>;
}

function apply(schema: z.ZodType, value: unknown): unknown {
  const def = defOf(schema);
  switch (def.type) {
    case 'default':
      // As zod 4 does: a default is the output as it is (its inner schema does not run on it).
      return value === undefined ? def.defaultValue : apply(def.innerType!, value);
    case 'optional':
      return value === undefined ? undefined : apply(def.innerType!, value);
    case 'object': {
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(def.shape!)) {
        const r = apply(def.shape![key], input[key]);
        if (r !== undefined || key in input) out[key] = r;
      }
      return out;
    }
    case 'array':
      return (value as unknown[]).map((item) => apply(def.element!, item));
    case 'record':
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, apply(def.valueType!, v)]));
    case 'union':
      return apply(unionOption(def.options!, value), value);
    case 'string': case 'number': case 'boolean': case 'enum': case 'literal':
      return value;
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
