import { TerraformElement, TerraformStack } from 'cdktf';
import { resolveAsStack } from '../../cdktf-internals';

/**
 * An element's final JSON body, as cdk.tf.json will hold it: overrides, aspects' changes and lazy
 * values resolved. What the residency guard judges, rather than what a construct was told.
 */
export function synthesizedBody(element: TerraformElement): any {
  const doc = resolveAsStack(TerraformStack.of(element), element.toTerraform()) as Record<string, Record<string, unknown>>;
  // resources and data sources: { type: { id: body } }; providers: { type: [body] }
  for (const kind of ['resource', 'data', 'provider']) {
    for (const entries of Object.values(doc[kind] ?? {})) {
      if (Array.isArray(entries)) return entries[0];
      if (entries && typeof entries === 'object') return Object.values(entries)[0];
    }
  }
  return undefined;
}

/** Provider blocks synthesize as objects or one-element lists; overrides may write either. */
export function asList(value: unknown): any[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}
