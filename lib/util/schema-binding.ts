/**
 * Compile-time binding between a hand-written props interface (the documented public contract)
 * and the internal zod schema that validates it, so that docs, types and validation cannot drift.
 *
 * ```ts
 * // lib/postgres/schema.ts
 * export const PostgresDatabaseOptionsSchema = z.object({ ... });
 * // fails to compile when a prop is missing on either side, or its type differs:
 * const _bound: SchemaMatches<PostgresDatabaseOptions, typeof PostgresDatabaseOptionsSchema> = true;
 * ```
 *
 * Two types match when they have the same keys, each key is optional on both sides or on neither,
 * and the value types are mutually assignable (nested objects compared the same way, key by key).
 * `readonly` is ignored (interfaces are readonly, zod's inputs are not).
 */
import type { z } from 'zod';

type Plain<T> = T extends readonly unknown[] ? T : T extends object ? { -readonly [K in keyof T]: T[K] } : T;

type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;

type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Whether T is a plain object type to compare key by key (not a function, array or class instance). */
type IsRecordLike<T> = T extends (...args: never[]) => unknown ? false : T extends readonly unknown[] ? false : T extends object ? true : false;

/** `true` when A and B describe the same props (see the module comment), else a description of the first difference. */
export type SameShape<A, B> =
  SameKeys<A, B> extends false
    ? { readonly missingInSchema: Exclude<keyof A, keyof B>; readonly missingInInterface: Exclude<keyof B, keyof A> }
    : [OptionalKeys<A>] extends [OptionalKeys<B>]
      ? [OptionalKeys<B>] extends [OptionalKeys<A>]
        ? { [K in keyof A & keyof B]-?: SameValue<NonNullable<A[K]>, NonNullable<B[K]>> }[keyof A & keyof B] extends true ? true
          : { readonly differingProps: { [K in keyof A & keyof B]-?: SameValue<NonNullable<A[K]>, NonNullable<B[K]>> extends true ? never : K }[keyof A & keyof B] }
        : { readonly optionalOnlyInSchema: Exclude<OptionalKeys<B>, OptionalKeys<A>> }
      : { readonly optionalOnlyInInterface: Exclude<OptionalKeys<A>, OptionalKeys<B>> };

type SameValue<A, B> =
  [IsRecordLike<A>, IsRecordLike<B>] extends [true, true]
    ? (MutuallyAssignable<Plain<A>, Plain<B>> extends true ? (SameKeys<A, B> extends true ? true : SameShape<A, B>) : SameShape<A, B>)
    : MutuallyAssignable<Plain<A>, Plain<B>>;

/**
 * `true` when the props interface `P` and the input of the zod schema `S` match; use it as the type
 * of a `const ... = true` so that a mismatch fails the build and names the props that differ.
 */
export type SchemaMatches<P, S extends z.ZodType> = SameShape<P, z.input<S>>;
