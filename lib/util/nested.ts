import { z } from 'zod';

/**
 * Validates `value` with a component's own schema and reports its issues under `path` of the
 * enclosing schema, so users see `services[1].database.storageGi` rather than the component's
 * internal prop names.
 */
export function addNestedIssues(
  schema: z.ZodType, value: unknown, path: PropertyKey[], ctx: z.RefinementCtx,
): void {
  const result = schema.safeParse(value);
  if (result.success) return;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: 'custom', path: [...path, ...issue.path], message: issue.message });
  }
}
