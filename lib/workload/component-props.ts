import { IConstruct } from 'constructs';
import { z } from 'zod';
import { RegionRef, RegionRefSchema } from '../residency/region-ref';
import { SovereignStackError, parseProps } from '../util/errors';
import { IWorkloadTarget } from './target';

/** What every component takes besides its own options. */
export interface ComponentProps {
  readonly target: IWorkloadTarget;
  readonly location?: RegionRef;
}

/**
 * Validates a component's props before the component creates anything: the target, the optional
 * location override, then the options with the component's schema. Errors name
 * `<Component> <path> props.<prop>`.
 */
export function parseComponentProps<S extends z.ZodType>(
  component: string, scope: IConstruct, id: string, props: ComponentProps & object, schema: S,
): { target: IWorkloadTarget; location?: RegionRef; options: z.output<S>; what: string } {
  const what = `${component} ${scope.node.path ? `${scope.node.path}/` : ''}${id} props`;
  const { target, location, ...options } = props ?? ({} as ComponentProps);
  if (!target || typeof target.deploy !== 'function') {
    throw new SovereignStackError(`invalid ${what}:\n  - ${what}.target: is required (a KubernetesTarget, a DockerTarget or another IWorkloadTarget)`);
  }
  if (location !== undefined) parseProps(RegionRefSchema, location, `${what}.location`);
  return { target, location, options: parseProps(schema, options, what), what };
}
