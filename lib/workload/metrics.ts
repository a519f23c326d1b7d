/**
 * Metrics exporters beside a component's server: the option every component takes, and the port
 * every exporter serves. Pure: no constructs, no provider packages.
 */
import { z } from 'zod';
import { imageRef } from '../util/schemas';

/** Exporter sidecars serve on a port named `metrics` (what ServiceMonitors select). */
export const METRICS_PORT_NAME = 'metrics';

/** The `metrics` option of a component with an exporter sidecar. */
export function exporterOptionsSchema(defaultImage: string) {
  return z.object({
    /** Run the exporter and declare the metrics endpoint. @default true */
    enabled: z.boolean().default(true),
    /** The exporter's image. */
    image: imageRef.default(defaultImage),
  }).strict().default({ enabled: true, image: defaultImage });
}
