import { z } from 'zod';
import type { SchemaMatches } from '../../lib/util/schema-binding';
const S = z.object({ a: z.number().default(1), b: z.string(), c: z.object({ d: z.enum(['x', 'y']).optional() }).optional() });
interface Good { readonly a?: number; readonly b: string; readonly c?: { readonly d?: 'x' | 'y' } }
interface MissingProp { readonly a?: number; readonly b: string }
interface WrongOptional { readonly a: number; readonly b: string; readonly c?: { readonly d?: 'x' | 'y' } }
interface WrongNested { readonly a?: number; readonly b: string; readonly c?: { readonly d?: 'x' | 'z' } }
interface ExtraNested { readonly a?: number; readonly b: string; readonly c?: { readonly d?: 'x' | 'y'; readonly e?: string } }
export const ok: SchemaMatches<Good, typeof S> = true;
// @ts-expect-error missing
export const e1: SchemaMatches<MissingProp, typeof S> = true;
// @ts-expect-error optional
export const e2: SchemaMatches<WrongOptional, typeof S> = true;
// @ts-expect-error nested value
export const e3: SchemaMatches<WrongNested, typeof S> = true;
// @ts-expect-error nested extra optional key
export const e4: SchemaMatches<ExtraNested, typeof S> = true;

// The escape hatch's roles are typed (issue 14, item 4): a misspelt role does not compile.
import type { DeployedWorkload } from '../../lib/workload/target';
export function roles(w: DeployedWorkload): unknown[] {
  // @ts-expect-error `statefulset` is not a role (it is `statefulSet`)
  const typo = w.resources.statefulset;
  return [typo, w.resources.statefulSet, w.resources['secret:orders-db-credentials'], w.resources.container0, w.resources['volume-data-0']];
}
