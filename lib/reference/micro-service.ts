import { Construct } from 'constructs';
import { z } from 'zod';
import { SERVICE_STOP_DELAY_SECONDS } from '../gateway/nginx-gateway';
import { SovereignStackError, parseProps, requireProps } from '../util/errors';
import { boundedString, cpuQuantity, dnsLabel, envName, imageRef, memoryQuantity, memoryToMi, port } from '../util/schemas';
import { parseComponentProps } from '../workload/component-props';
import type { SchemaMatches } from '../util/schema-binding';
import { DeployedWorkload, builtByComponent } from '../workload/target';
import { EnvVarSchema, SecretMountSchema } from '../workload/workload';
import type { MicroServiceOptions, MicroServiceProps } from './props';

// The documented props live in props.ts; importable from here as before.
export type { MicroServiceOptions, MicroServiceProps, MicroServiceResources } from './props';

export const MicroServiceOptionsSchema = z.object({
  /** Service name: workload name, host name, upstream name. A DNS-1123 label. */
  name: dnsLabel.max(30, { message: 'must be at most 30 characters (room for "-db" and other suffixes)' }),
  /** Container image; it must run as a non-root user (runAsNonRoot is enforced). */
  image: imageRef,
  /** Port the service listens on (HTTP). */
  port,
  /** @default 2 */
  replicas: z.number().int().min(1).max(100).default(2),
  /** Plain environment variables (no secrets here: they would land in the JSON). @default {} */
  env: z.record(envName, z.string()).default({}),
  /**
   * HTTP path answering 200 when the service is ready; without one a TCP check is used.
   * @default - TCP check on the port
   */
  healthPath: boundedString(1024).regex(/^\/[A-Za-z0-9._~/-]*$/, { message: 'must be a path such as "/healthz"' }).optional(),
  /** @default { cpu: '100m', memory: '256Mi' } requests, memory limit '512Mi' */
  resources: z.object({
    cpu: cpuQuantity.default('100m'),
    memory: memoryQuantity.default('256Mi'),
    memoryLimit: memoryQuantity.default('512Mi'),
  }).strict().default({ cpu: '100m', memory: '256Mi', memoryLimit: '512Mi' }),
  /** Seconds the service gets to finish in-flight requests after SIGTERM. @default 30 */
  gracePeriodSeconds: z.number().int().min(1).max(3600).default(30),
  /**
   * Seconds to keep serving after the pod is told to stop, so the gateway stops sending first (a
   * preStop `sh -c "sleep N"`): nginx keeps a pod's address for its resolver validity (10 s) after
   * the pod leaves the endpoints, and the cluster DNS may answer with it for its TTL (5 s) more.
   * Shorter, the gateway routes requests to a pod that has stopped. Set 0 for images without a
   * shell (distroless).
   * @default 15
   */
  preStopDelaySeconds: z.number().int().min(0).max(120).default(SERVICE_STOP_DELAY_SECONDS),
}).strict();

/** Compile-time binding: the documented MicroServiceOptions and the schema describe the same props. */
export const MICRO_SERVICE_OPTIONS_MATCH_SCHEMA: SchemaMatches<MicroServiceOptions, typeof MicroServiceOptionsSchema> = true;

/** Longest time a pod may take to stop (the kubelet's and our workload model's bound). */
const MAX_STOP_SECONDS = 3600;

/**
 * Rules across a service's options, for MicroService and for ReferenceDeployment's services: the
 * memory request must fit the limit (the Kubernetes API refuses a request above it), and the grace
 * period with the preStop pause must fit the hour a pod may take to stop.
 */
export function checkMicroServiceOptions(o: z.output<typeof MicroServiceOptionsSchema>, ctx: z.RefinementCtx): void {
  if (memoryToMi(o.resources.memory) > memoryToMi(o.resources.memoryLimit)) {
    ctx.addIssue({
      code: 'custom', path: ['resources', 'memory'],
      message: `must not exceed resources.memoryLimit (${o.resources.memory} > ${o.resources.memoryLimit}); Kubernetes refuses a request above the limit`,
    });
  }
  if (o.gracePeriodSeconds + o.preStopDelaySeconds > MAX_STOP_SECONDS) {
    ctx.addIssue({
      code: 'custom', path: ['gracePeriodSeconds'],
      message: `plus preStopDelaySeconds (${o.gracePeriodSeconds} + ${o.preStopDelaySeconds}) must be at most ${MAX_STOP_SECONDS} seconds, the longest a pod may take to stop`,
    });
  }
}

/** MicroService's options schema (a composition that validated options with it may say so: `withValidatedOptions`). */
export const MicroServiceSchema = MicroServiceOptionsSchema.superRefine(checkMicroServiceOptions);
const ConnectionEnvSchema = z.array(EnvVarSchema).default([]);
const ConnectionMountsSchema = z.array(SecretMountSchema).default([]);

/**
 * One of your stateless services: a Deployment (or containers) with a Service, a hardened pod, a
 * disruption budget when it has more than one replica, and no ingress until someone is allowed in
 * (the gateway adds itself when it routes to the service).
 */
export class MicroService extends Construct {
  public readonly workload: DeployedWorkload;
  public readonly name: string;
  public readonly port: number;

  constructor(scope: Construct, id: string, props: MicroServiceProps) {
    const what = `MicroService ${scope?.node?.path ? `${scope.node.path}/` : ''}${id} props`;
    const { connectionEnv: givenConnectionEnv, connectionMounts: givenMounts, ...rest } = requireProps(props, what, '{ target, name, image, port }');
    const { target, options: o } = parseComponentProps('MicroService', scope, id, rest, MicroServiceSchema, { prop: 'name', of: (m) => m.name }, props);
    const connectionEnv = parseProps(ConnectionEnvSchema, givenConnectionEnv, `${what}.connectionEnv`);
    const connectionMounts = parseProps(ConnectionMountsSchema, givenMounts, `${what}.connectionMounts`);
    const seen = new Set<string>();
    connectionEnv.forEach((e, i) => {
      if (Object.prototype.hasOwnProperty.call(o.env, e.name)) {
        throw new SovereignStackError(`invalid ${what}:\n  - ${what}.env.${e.name}: is also set by connectionEnv[${i}] (a database or broker ` +
          'connection); remove it from env or rename it');
      }
      if (seen.has(e.name)) {
        throw new SovereignStackError(`invalid ${what}:\n  - ${what}.connectionEnv[${i}].name: "${e.name}" is set twice; set each variable once`);
      }
      seen.add(e.name);
    });
    super(scope, id);
    this.name = o.name;
    this.port = o.port;
    const probe = o.healthPath
      ? { httpGet: { path: o.healthPath, port: o.port } }
      : { tcpSocket: { port: o.port } };
    this.workload = target.deploy(this, builtByComponent({
      name: o.name,
      component: 'service',
      kind: 'stateless',
      image: o.image,
      replicas: o.replicas,
      ports: [{ name: 'http', containerPort: o.port }],
      env: [...Object.entries(o.env).map(([name, value]) => ({ name, value })), ...connectionEnv],
      secretMounts: connectionMounts,
      scratch: [{ name: 'tmp', mountPath: '/tmp' }],
      probes: { readiness: { ...probe, periodSeconds: 5 }, liveness: { ...probe, initialDelaySeconds: 10 } },
      resources: { requests: { cpu: o.resources.cpu, memory: o.resources.memory }, limits: { memory: o.resources.memoryLimit } },
      disruptionBudget: o.replicas > 1 ? { maxUnavailable: 1 } : undefined,
      // Give the load balancer time to stop sending before the process gets SIGTERM.
      shutdown: {
        preStop: o.preStopDelaySeconds > 0 ? ['sh', '-c', `sleep ${o.preStopDelaySeconds}`] : undefined,
        gracePeriodSeconds: o.gracePeriodSeconds + o.preStopDelaySeconds,
      },
    }));
  }
}
