import { IConstruct } from 'constructs';
import { z } from 'zod';
import { RegionRef, RegionRefSchema } from '../residency/region-ref';
import { SovereignStackError, parseProps, requireProps } from '../util/errors';
import { IWorkloadTarget, describeTarget } from './target';

/** What every component takes besides its own options. */
export interface ComponentProps {
  readonly target: IWorkloadTarget;
  readonly location?: RegionRef;
}

/**
 * Validates a component's props before the component creates anything: the target, the optional
 * location override, the options with the component's schema, and (given `workloadName`) that
 * the target has no workload of that name yet. Errors name `<Component> <path> props.<prop>`.
 */
export function parseComponentProps<S extends z.ZodType>(
  component: string, scope: IConstruct, id: string, props: ComponentProps & object, schema: S,
  workloadName?: { readonly prop: string; readonly of: (options: z.output<S>) => string },
): { target: IWorkloadTarget; location?: RegionRef; options: z.output<S>; what: string } {
  const what = `${component} ${scope?.node?.path ? `${scope.node.path}/` : ''}${id} props`;
  const { target, location, ...options } = requireProps(props, what, '{ target, ... }');
  if (!target || typeof target.deploy !== 'function' || typeof target.findWorkload !== 'function') {
    throw new SovereignStackError(`invalid ${what}:\n  - ${what}.target: is required (a KubernetesTarget, a DockerTarget or another IWorkloadTarget)`);
  }
  if (location !== undefined) parseProps(RegionRefSchema, location, `${what}.location`);
  const parsed = parseProps(schema, options, what);
  // The target refuses a duplicate name too, but only once the component exists: check first.
  const name = workloadName?.of(parsed);
  if (name !== undefined && target.findWorkload(name)) {
    throw new SovereignStackError(`invalid ${what}:\n  - ${what}.${workloadName!.prop}: a workload named "${name}" is already deployed on ` +
      `${describeTarget(target)}; workload names are host names and must be unique per target`);
  }
  return { target, location, options: parsed, what };
}
