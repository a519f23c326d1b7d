import { TerraformElement, TerraformStack } from 'cdktf';
import { resolveAsStack } from '../../cdktf-internals';
import { RenderedResource } from './rendered-resource';

/**
 * An element's final JSON body, as cdk.tf.json will hold it: overrides, aspects' changes and lazy
 * values resolved. What the residency guard judges, rather than what a construct was told.
 */
export function synthesizedBody(element: TerraformElement): any {
  // resources and data sources: { type: { id: body } }; providers: { type: [body] }
  return bodyOf(resolveAsStack(TerraformStack.of(element), element.toTerraform()) as Record<string, Record<string, unknown>>);
}

/**
 * The members `keys` of the block at `path` in an element's final body (each step a nested block,
 * written as an object or a one-element list), resolved as cdk.tf.json will hold them. Only that
 * part is resolved: the rest of the body (config hashes, rendered files) is not produced for it.
 * When a step is itself a token (an override with a lazy value), the whole body is resolved.
 */
export function synthesizedBlock(element: TerraformElement, path: readonly string[], keys: readonly string[]): any {
  if (element instanceof RenderedResource) {
    // Only that block is rendered from the resource's config (no config files hashed for it).
    const rendered = element.renderedBlock(path, keys);
    if (rendered) return rendered.block && Object.fromEntries(keys.map((k) => [k, rendered.block![k]]));
  }
  const doc = element.toTerraform() as Record<string, Record<string, unknown>>;
  let block: unknown = bodyOf(doc);
  for (const step of path) {
    block = isPlainBlock(block) ? asList((block as Record<string, unknown>)[step])[0] : TOKEN;
    if (block === TOKEN) break;
  }
  if (block === TOKEN || (block !== undefined && !isPlainBlock(block))) {
    let whole: unknown = synthesizedBody(element);
    for (const step of path) whole = asList((whole as Record<string, unknown> | undefined)?.[step])[0];
    block = whole;
  } else if (block !== undefined) {
    block = resolveAsStack(TerraformStack.of(element), Object.fromEntries(keys.map((k) => [k, (block as Record<string, unknown>)[k]])));
  }
  if (block === undefined || block === null) return undefined;
  return Object.fromEntries(keys.map((k) => [k, (block as Record<string, unknown>)[k]]));
}

const TOKEN = Symbol('token');

/** A block as plain JSON at this level: not a token string, not a lazy or otherwise resolvable value. */
function isPlainBlock(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && typeof (x as { resolve?: unknown }).resolve !== 'function';
}

function bodyOf(doc: Record<string, Record<string, unknown>>): unknown {
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
