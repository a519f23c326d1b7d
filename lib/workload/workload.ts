/**
 * The target-neutral workload model. Components (gateway, PostgreSQL, RabbitMQ, services) describe
 * what they need as a `Workload`; targets (Kubernetes, Docker) decide how to realize it. Nothing
 * here knows about a provider package, so a third target never touches the components.
 */
import { z } from 'zod';
import {
  absolutePath, cidr, cpuQuantity, dnsLabel, dnsSubdomain, envName, imageRef, memoryQuantity, port,
} from '../util/schemas';

/** Kubernetes port names are IANA service names: at most 15 characters. */
const portName = dnsLabel.max(15, { message: 'must be at most 15 characters (port names are IANA service names)' });
const secretKey = z.string().regex(/^[-._a-zA-Z0-9]+$/, { message: 'must be a secret key of letters, digits, "-", "_" and "."' });
/** An argv entry: any text without NUL or newlines (it never reaches a shell unquoted). */
const argv = z.array(z.string().regex(/^[^\0\n]*$/, { message: 'must not contain NUL or newlines' })).min(1);

export const WorkloadPortSchema = z.object({
  /** Port name, used for named targets in probes and Services. */
  name: portName,
  /** Port the container listens on. */
  containerPort: port,
  /** Port other workloads connect to (the Service port). @default containerPort */
  servicePort: port.optional(),
  /** Host port published for public workloads on Docker. @default servicePort */
  hostPort: port.optional(),
}).strict();

/** An environment variable: a plain value or a reference to a key of a secret. */
export const EnvVarSchema = z.union([
  z.object({ name: envName, value: z.string() }).strict(),
  z.object({ name: envName, secretRef: z.object({ secret: dnsSubdomain, key: secretKey }).strict() }).strict(),
]);

/**
 * A secret the workload owns. `generated` keys are random values made at apply time (they live
 * only in Terraform state, never in synthesized JSON); `plain` keys are non-secret values stored
 * beside them (a user name). `existing` secrets are referenced, never created: on Kubernetes a
 * Secret of that name, on Docker one sensitive Terraform variable per key.
 */
export const SecretSpecSchema = z.discriminatedUnion('source', [
  z.object({
    source: z.literal('generated'),
    name: dnsSubdomain,
    generated: z.record(secretKey, z.object({
      /** @default 32 */
      length: z.number().int().min(16).max(128).default(32),
      /** Special characters are off by default: values end up in URLs and shells. @default false */
      special: z.boolean().default(false),
    }).strict()),
    /** Non-secret values stored in the same secret. @default {} */
    plain: z.record(secretKey, z.string()).default({}),
    /** Keep this secret on `terraform destroy` (datastore credentials). @default false */
    retain: z.boolean().default(false),
  }).strict(),
  z.object({
    source: z.literal('existing'),
    name: dnsSubdomain,
    /** The keys the workload reads from it. */
    keys: z.array(secretKey).min(1),
  }).strict(),
  // A TLS certificate issued to the workload (keys tls.crt, tls.key, ca.crt). Kubernetes: a
  // cert-manager Certificate for the workload's own host names; other targets refuse it.
  z.object({
    source: z.literal('certificate'),
    name: dnsSubdomain,
    /** The cert-manager issuer that signs it. */
    issuer: z.object({ name: dnsSubdomain, kind: z.enum(['Issuer', 'ClusterIssuer']) }).strict(),
  }).strict(),
]);

export const ConfigFileSchema = z.object({
  /** Full path of the file inside the container. */
  path: absolutePath,
  /** File content; may be a lazy token, so mutators called after construction still land. */
  content: z.string(),
  /**
   * The running workload applies changes to this file itself (a reconcile loop), so a change must
   * not restart it: the file stays out of the config hash, and targets deliver it where changes
   * reach running containers (Kubernetes: a ConfigMap `<name>-live-<file name>` per file, so each
   * may hold 1 MiB, projected into a directory the kubelet refreshes). Live files need a directory
   * of their own and distinct file names. The Docker provider replaces a
   * container whose uploads change, so on Docker a change still recreates the containers.
   * @default false
   */
  live: z.boolean().optional(),
}).strict();

/** A whole secret mounted as a directory of files, one per key. */
export const SecretMountSchema = z.object({
  secret: dnsSubdomain,
  mountPath: absolutePath,
  /** Only these keys become files (a client mounting the CA of a server's TLS secret, not its key). @default every key */
  keys: z.array(secretKey).min(1).optional(),
  /**
   * File mode. 0440 lets only root and the workload's group (fsGroup; group 0 on Docker) read;
   * 0444 is for public material such as a CA certificate, readable by any uid the image runs as.
   * @default '0440'
   */
  mode: z.enum(['0440', '0444']).default('0440'),
}).strict();

export const StorageRoleSchema = z.enum(['datastore', 'wal']);

export const PersistentVolumeSchema = z.object({
  name: dnsLabel,
  mountPath: absolutePath,
  /** Size in GiB. */
  sizeGi: z.number().int({ message: 'must be a whole number of GiB' }).min(1).max(65536),
  /** What the volume holds: datastore and WAL volumes land on the NVMe storage class. @default 'datastore' */
  role: StorageRoleSchema.default('datastore'),
  /** What kind of data, for the residency report (e.g. "postgresql-data"). @default 'volume' */
  dataKind: z.string().regex(/^[a-z0-9-]+$/).default('volume'),
  /** Storage class of this volume where the target has classes. @default the target's NVMe class */
  storageClassName: dnsSubdomain.optional(),
}).strict();

/** A scratch directory (emptyDir / tmpfs): lets images run with a read-only root filesystem. */
export const ScratchVolumeSchema = z.object({
  name: dnsLabel,
  mountPath: absolutePath,
  /** @default 64 */
  sizeMi: z.number().int().min(1).default(64),
  /** Back it with memory rather than node disk. @default false */
  memory: z.boolean().default(false),
}).strict();

const ProbeTimingSchema = {
  /** @default 0 */
  initialDelaySeconds: z.number().int().min(0).default(0),
  /** @default 10 */
  periodSeconds: z.number().int().min(1).default(10),
  /** @default 5 */
  timeoutSeconds: z.number().int().min(1).default(5),
  /** @default 3 */
  failureThreshold: z.number().int().min(1).default(3),
};

export const ProbeSchema = z.union([
  z.object({ exec: argv, ...ProbeTimingSchema }).strict(),
  z.object({ httpGet: z.object({ path: z.string().regex(/^\/[A-Za-z0-9._~/-]*$/), port }).strict(), ...ProbeTimingSchema }).strict(),
  z.object({ tcpSocket: z.object({ port }).strict(), ...ProbeTimingSchema }).strict(),
]);

export const ResourcesSchema = z.object({
  requests: z.object({ cpu: cpuQuantity, memory: memoryQuantity }).strict(),
  limits: z.object({ cpu: cpuQuantity.optional(), memory: memoryQuantity }).strict(),
}).strict();

export const SecurityContextSchema = z.object({
  /** UID the image runs as; required to enforce runAsNonRoot on images that start as root. */
  runAsUser: z.number().int().min(1).optional(),
  runAsGroup: z.number().int().min(1).optional(),
  /** Group that owns mounted volumes. @default runAsGroup */
  fsGroup: z.number().int().min(1).optional(),
  /** @default true */
  runAsNonRoot: z.boolean().default(true),
  /** @default true */
  readOnlyRootFilesystem: z.boolean().default(true),
}).strict();

/** Who may connect: another workload of the same target, or anyone (public). */
export const IngressRuleSchema = z.object({
  from: z.union([z.object({ workload: dnsLabel }).strict(), z.literal('public')]),
  ports: z.array(port).min(1),
}).strict();

export const PlacementSchema = z.object({
  /** Require nodes in the target's region and with its datastore node labels (KVM, NVMe). @default false */
  datastore: z.boolean().default(false),
  /** Spread replicas over distinct nodes. @default 'preferred' */
  spreadAcrossNodes: z.enum(['required', 'preferred', 'none']).default('preferred'),
}).strict();

export const DisruptionBudgetSchema = z.union([
  z.object({ maxUnavailable: z.number().int().min(1) }).strict(),
  z.object({ minAvailable: z.number().int().min(1) }).strict(),
]);

export const ShutdownSchema = z.object({
  /** Command run before the stop signal (drain connections, flush). */
  preStop: argv.optional(),
  /** Seconds between the stop signal and a forced kill. @default 30 */
  gracePeriodSeconds: z.number().int().min(1).max(3600).default(30),
  /** Signal that asks the process to stop gracefully. @default 'SIGTERM' */
  stopSignal: z.enum(['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR1']).default('SIGTERM'),
}).strict();

/** Access the workload needs to the orchestrator's API (peer discovery). */
export const ApiAccessRuleSchema = z.object({
  resources: z.array(z.string().regex(/^[a-z]+$/)).min(1),
  verbs: z.array(z.enum(['get', 'list', 'watch', 'create', 'update', 'patch'])).min(1),
}).strict();

/**
 * A container beside the workload's main container in every replica (a log shipper, a WAL
 * archiver). It shares the replica's persistent volumes, config files and secret mounts, runs with
 * the workload's security context, and has its own image, command, env and resources.
 */
export const SidecarSchema = z.object({
  /** Unique among the workload's containers (the main one is named after `component`). */
  name: dnsLabel.max(40),
  image: imageRef,
  command: argv.optional(),
  args: argv.optional(),
  /** @default [] */
  env: z.array(EnvVarSchema).default([]),
  resources: ResourcesSchema,
  /** Ports the sidecar listens on (an exporter's metrics port); they share the replica's network. @default [] */
  ports: z.array(WorkloadPortSchema).default([]),
  /** Mount the replica's persistent volumes (a WAL archiver does; an exporter has no business there). @default true */
  persistentVolumes: z.boolean().default(true),
  /**
   * The workload's secret mounts (by `mountPath`) this sidecar sees, on Kubernetes: an exporter
   * needs its own password file, not the superuser's. Docker shares every uploaded file with the
   * replica's sidecars (one files volume), so there it sees them all.
   * @default [] (none)
   */
  secretMounts: z.array(absolutePath).default([]),
}).strict();

/**
 * Where a workload serves Prometheus metrics: a named port of its main container or of a sidecar
 * (an exporter), and the path. Targets make it scrapable (pod annotations, a network policy edge
 * from the scraper, optionally a ServiceMonitor) without publishing it outside the platform.
 */
export const MetricsEndpointSchema = z.object({
  /** Name of the port serving metrics (main container or sidecar). */
  port: portName,
  /** @default '/metrics' */
  path: z.string().regex(/^\/[A-Za-z0-9._~/-]*$/, { message: 'must be a URL path such as "/metrics"' }).default('/metrics'),
}).strict();

/** Five cron fields (minute hour day-of-month month day-of-week), numbers, ranges, lists and steps. */
const cronField = '[0-9*][0-9*,/-]*';
const cronSchedule = z.string().max(100, { message: 'must be at most 100 characters', abort: true })
  .regex(new RegExp(`^${cronField}( ${cronField}){4}$`), { message: 'must be a cron schedule of five fields such as "0 1 * * 0" (minute hour day month weekday, in UTC)' });

/**
 * A command run on a schedule against the workload's data (a base backup). Each run mounts the
 * persistent volumes of replica 0, the config files and the secret mounts, runs with the
 * workload's security context, and never overlaps the previous run.
 */
export const ScheduledJobSchema = z.object({
  /** Unique within the workload; the job is `<workload>-<name>`. */
  name: dnsLabel.max(20),
  /** When it runs, in UTC. */
  schedule: cronSchedule,
  /** @default the workload's image */
  image: imageRef.optional(),
  command: argv,
  /** @default [] */
  env: z.array(EnvVarSchema).default([]),
  resources: ResourcesSchema,
  /** A run still going after this many seconds is stopped (and counts as failed). @default 21600 (6 h) */
  activeDeadlineSeconds: z.number().int().min(60).max(7 * 86400).default(21600),
}).strict();

/** Addresses outside the platform the workload's pods (and its scheduled jobs) may reach. */
export const ExternalEgressSchema = z.object({
  cidrs: z.array(cidr).min(1),
  ports: z.array(port).min(1),
}).strict();

export const WorkloadSchema = z.object({
  /** Unique within the target; becomes object names and host names. */
  name: dnsLabel.max(40, { message: 'must be at most 40 characters (room for replica and volume suffixes)' }),
  /** What the workload is (gateway, service, postgresql, rabbitmq): a label, nothing more. */
  component: dnsLabel,
  /** Stateful workloads get stable identities, persistent volumes and ordered rollout. */
  kind: z.enum(['stateless', 'stateful']),
  image: imageRef,
  /** @default 1 */
  replicas: z.number().int().min(1, { message: 'must be at least 1' }).max(100).default(1),
  command: argv.optional(),
  args: argv.optional(),
  ports: z.array(WorkloadPortSchema).default([]),
  /** @default [] */
  env: z.array(EnvVarSchema).default([]),
  /** Secrets this workload owns (created with it). @default [] */
  secrets: z.array(SecretSpecSchema).default([]),
  /** @default [] */
  configFiles: z.array(ConfigFileSchema).default([]),
  /** @default [] */
  secretMounts: z.array(SecretMountSchema).default([]),
  /** Persistent volumes, one per replica each (stateful only). @default [] */
  volumes: z.array(PersistentVolumeSchema).default([]),
  /** @default [] */
  scratch: z.array(ScratchVolumeSchema).default([]),
  probes: z.object({
    readiness: ProbeSchema.optional(),
    liveness: ProbeSchema.optional(),
    startup: ProbeSchema.optional(),
  }).strict().default({}),
  resources: ResourcesSchema,
  securityContext: SecurityContextSchema.default({ runAsNonRoot: true, readOnlyRootFilesystem: true }),
  placement: PlacementSchema.default({ datastore: false, spreadAcrossNodes: 'preferred' }),
  /** Who may connect; everything else is denied. More rules can be added later (`allowFrom`). @default [] */
  ingress: z.array(IngressRuleSchema).default([]),
  disruptionBudget: DisruptionBudgetSchema.optional(),
  shutdown: ShutdownSchema.default({ gracePeriodSeconds: 30, stopSignal: 'SIGTERM' }),
  /** Reachable from outside the platform (LoadBalancer / published host ports). @default false */
  public: z.boolean().default(false),
  /** Peers resolve each other before they are ready (clustered stores forming a cluster). @default false */
  publishNotReadyAddresses: z.boolean().default(false),
  /** Orchestrator API access; mounts a service-account token only when non-empty. @default [] */
  apiAccess: z.array(ApiAccessRuleSchema).default([]),
  /** Protect the workload's data from `terraform destroy` (prevent_destroy). @default true for stateful */
  retainData: z.boolean().optional(),
  /** Containers beside the main one in every replica. @default [] */
  sidecars: z.array(SidecarSchema).default([]),
  /** Commands run on a schedule against replica 0's volumes (stateful only). @default [] */
  scheduledJobs: z.array(ScheduledJobSchema).default([]),
  /** Destinations outside the platform its pods and jobs may reach (Kubernetes network policy). @default [] */
  externalEgress: z.array(ExternalEgressSchema).default([]),
  /** Where its Prometheus metrics are served. @default - no metrics endpoint */
  metrics: MetricsEndpointSchema.optional(),
}).strict().superRefine((w, ctx) => {
  if (w.kind === 'stateless' && w.volumes.length > 0) {
    ctx.addIssue({ code: 'custom', path: ['volumes'], message: 'only stateful workloads may have persistent volumes; use kind "stateful"' });
  }
  const unique = (items: string[], path: string, what: string) => {
    const seen = new Set<string>();
    items.forEach((n, i) => {
      if (seen.has(n)) ctx.addIssue({ code: 'custom', path: [path, i], message: `duplicate ${what} "${n}"` });
      seen.add(n);
    });
  };
  unique(w.ports.map((p) => p.name), 'ports', 'port name');
  // A replica's containers share one network: port names and numbers are unique across all of them.
  w.sidecars.forEach((c, i) => c.ports.forEach((p, j) => {
    const clash = [...w.ports, ...w.sidecars.slice(0, i).flatMap((o) => o.ports), ...c.ports.slice(0, j)]
      .find((o) => o.name === p.name || o.containerPort === p.containerPort);
    if (clash) ctx.addIssue({ code: 'custom', path: ['sidecars', i, 'ports', j], message: `port "${p.name}" (${p.containerPort}) clashes with port "${clash.name}" (${clash.containerPort}) of the same replica` });
  }));
  if (w.metrics && !podPorts(w).some((p) => p.name === w.metrics!.port)) {
    ctx.addIssue({ code: 'custom', path: ['metrics', 'port'], message: `must name a port of the workload or a sidecar (${podPorts(w).map((p) => p.name).join(', ') || 'none'})` });
  }
  unique(w.env.map((e) => e.name), 'env', 'environment variable');
  unique([...w.volumes.map((v) => v.name), ...w.scratch.map((v) => v.name)], 'volumes', 'volume name');
  unique(w.configFiles.map((f) => f.path), 'configFiles', 'config file path');
  unique(w.sidecars.map((c) => c.name), 'sidecars', 'sidecar name');
  w.sidecars.forEach((c, i) => {
    if (c.name === w.component) ctx.addIssue({ code: 'custom', path: ['sidecars', i, 'name'], message: `must differ from "${w.component}", the main container's name` });
    c.secretMounts.forEach((m, j) => {
      if (!w.secretMounts.some((s) => s.mountPath === m)) {
        ctx.addIssue({ code: 'custom', path: ['sidecars', i, 'secretMounts', j], message: `must be the mountPath of one of the workload's secretMounts (${w.secretMounts.map((s) => s.mountPath).join(', ') || 'none'})` });
      }
    });
  });
  unique(w.scheduledJobs.map((j) => j.name), 'scheduledJobs', 'scheduled job name');
  if (w.scheduledJobs.length > 0 && (w.kind !== 'stateful' || w.replicas !== 1)) {
    ctx.addIssue({ code: 'custom', path: ['scheduledJobs'], message: 'only single-replica stateful workloads may have scheduled jobs (a job mounts replica 0\'s volumes)' });
  }
  // Each live file gets a ConfigMap named after its file name.
  unique(w.configFiles.filter((f) => f.live).map((f) => splitPath(f.path).file.toLowerCase()), 'configFiles', 'live config file name');
  // A live directory is mounted whole: it would hide any other file or mount there.
  const liveDirs = new Set(w.configFiles.filter((f) => f.live).map((f) => splitPath(f.path).dir));
  w.configFiles.forEach((f, i) => {
    if (!f.live && liveDirs.has(splitPath(f.path).dir)) {
      ctx.addIssue({ code: 'custom', path: ['configFiles', i, 'path'], message: `is in ${splitPath(f.path).dir}, a directory of live config files; put live files in a directory of their own` });
    }
  });
  w.secretMounts.forEach((m, i) => {
    if (liveDirs.has(m.mountPath)) {
      ctx.addIssue({ code: 'custom', path: ['secretMounts', i, 'mountPath'], message: `is ${m.mountPath}, a directory of live config files; mount the secret elsewhere` });
    }
  });
  if (w.disruptionBudget && 'minAvailable' in w.disruptionBudget && w.disruptionBudget.minAvailable >= w.replicas) {
    ctx.addIssue({ code: 'custom', path: ['disruptionBudget', 'minAvailable'], message: `must be below replicas (${w.replicas}), or no node can ever be drained` });
  }
});

/** What components write (defaults optional). */
export type WorkloadProps = z.input<typeof WorkloadSchema>;
/** What targets read (defaults applied). */
export type Workload = z.output<typeof WorkloadSchema>;
export type WorkloadPort = z.output<typeof WorkloadPortSchema>;
export type EnvVar = z.output<typeof EnvVarSchema>;
export type SecretSpec = z.output<typeof SecretSpecSchema>;
export type Probe = z.output<typeof ProbeSchema>;
export type IngressRule = z.output<typeof IngressRuleSchema>;
export type PersistentVolume = z.output<typeof PersistentVolumeSchema>;
export type Sidecar = z.output<typeof SidecarSchema>;
export type ScheduledJob = z.output<typeof ScheduledJobSchema>;

export type MetricsEndpoint = z.output<typeof MetricsEndpointSchema>;

function podPorts(w: Pick<Workload, 'ports' | 'sidecars'>): WorkloadPort[] {
  return [...w.ports, ...w.sidecars.flatMap((c) => c.ports)];
}

/** The metrics endpoint with its container port, or undefined when the workload serves none. */
export function metricsEndpointOf(w: Workload): (MetricsEndpoint & { containerPort: number }) | undefined {
  const p = w.metrics && podPorts(w).find((o) => o.name === w.metrics!.port);
  return p && { ...w.metrics!, containerPort: p.containerPort };
}

/** The port other workloads use to reach `p`. */
export function servicePortOf(p: WorkloadPort): number {
  return p.servicePort ?? p.containerPort;
}

/** Whether `terraform destroy` must be refused for this workload's data. */
export function retainsData(w: Workload): boolean {
  return w.retainData ?? (w.kind === 'stateful' && w.volumes.length > 0);
}

/** A config file's directory and file name (targets mount files by directory). */
export function splitPath(path: string): { dir: string; file: string } {
  const i = path.lastIndexOf('/');
  return { dir: path.slice(0, i) || '/', file: path.slice(i + 1) };
}

/** A secret as components write it (defaults optional). */
export type SecretSpecInput = z.input<typeof SecretSpecSchema>;
/** A secret mounted as files. */
export type SecretMount = z.output<typeof SecretMountSchema>;
/** A secret mount as components write it (defaults optional). */
export type SecretMountInput = z.input<typeof SecretMountSchema>;
