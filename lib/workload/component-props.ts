import { isDeepStrictEqual } from 'util';
import { IConstruct } from 'constructs';
import { z } from 'zod';
import { RegionRef, RegionRefSchema } from '../residency/region-ref';
import { SovereignStackError, parseProps, requireProps } from '../util/errors';
import { CHECK_TRUSTED_ENV, IWorkloadTarget, describeTarget } from './target';

/** What every component takes besides its own options. */
export interface ComponentProps {
  readonly target: IWorkloadTarget;
  readonly location?: RegionRef;
}

/** Options a composition of this library validated with a component's schema (see `withValidatedOptions`). */
const validated = new WeakMap<object, { readonly schema: z.ZodType; readonly options: unknown }>();

/**
 * Marks `props`, a new object a composition of this library builds for a component (the
 * ReferenceDeployment's default hooks), as holding options it has just validated with the
 * component's own `schema`, giving `options`: the component takes them instead of parsing the same
 * options again (at 500 services, each service's and database's options were parsed twice).
 * Props from anywhere else are parsed in full.
 * @internal
 */
export function withValidatedOptions<P extends object>(props: P, schema: z.ZodType, options: unknown): P {
  validated.set(props, { schema, options });
  return props;
}

function validatedOptionsOf<S extends z.ZodType>(given: object, schema: S, options: unknown, what: string): z.output<S> {
  const known = validated.get(given);
  if (!known || known.schema !== schema) return parseProps(schema, options, what);
  if (process.env[CHECK_TRUSTED_ENV] === '1' && !isDeepStrictEqual(parseProps(schema, options, what), known.options)) {
    throw new Error(`${what}: the options validated by the composition differ from the component's own parse`);
  }
  return known.options as z.output<S>;
}

/**
 * Validates a component's props before the component creates anything: the target, the optional
 * location override, the options with the component's schema, and (given `workloadName`) that
 * the target has no workload of that name yet. Errors name `<Component> <path> props.<prop>`.
 * `given` is the props object the component received, where a composition may have marked its
 * options as validated (`withValidatedOptions`); they are then not parsed again.
 */
export function parseComponentProps<S extends z.ZodType>(
  component: string, scope: IConstruct, id: string, props: ComponentProps & object, schema: S,
  workloadName?: { readonly prop: string; readonly of: (options: z.output<S>) => string },
  given: object = props,
): { target: IWorkloadTarget; location?: RegionRef; options: z.output<S>; what: string } {
  const what = `${component} ${scope?.node?.path ? `${scope.node.path}/` : ''}${id} props`;
  const { target, location, ...options } = requireProps(props, what, '{ target, ... }');
  if (!target || typeof target.deploy !== 'function' || typeof target.findWorkload !== 'function') {
    throw new SovereignStackError(`invalid ${what}:\n  - ${what}.target: is required (a KubernetesTarget, a DockerTarget or another IWorkloadTarget)`);
  }
  if (location !== undefined) parseProps(RegionRefSchema, location, `${what}.location`);
  const parsed = validatedOptionsOf(given, schema, options, what);
  // The target refuses a duplicate name too, but only once the component exists: check first.
  const name = workloadName?.of(parsed);
  if (name !== undefined && target.findWorkload(name)) {
    throw new SovereignStackError(`invalid ${what}:\n  - ${what}.${workloadName!.prop}: a workload named "${name}" is already deployed on ` +
      `${describeTarget(target)}; workload names are host names and must be unique per target`);
  }
  return { target, location, options: parsed, what };
}
