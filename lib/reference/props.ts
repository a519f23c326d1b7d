import type { NginxGatewayOptions } from '../gateway/props';
import type { PostgresBackupOptions, PostgresDatabaseOptions } from '../postgres/props';
import type { RabbitMqClusterOptions } from '../rabbitmq/props';
import type { ResidencyPolicy } from '../residency/policy';
import type { IWorkloadTarget } from '../workload/target';
import type { EnvVar, SecretMountInput } from '../workload/workload';

// The documented contract of MicroService and ReferenceDeployment: hand-written, so every prop
// keeps its doc and default in the published .d.ts. The zod schemas in micro-service.ts and
// reference-deployment.ts validate these and are bound to them at compile time (SchemaMatches).
// Where a component's options nest (gateway, database, messaging, databaseBackup), its own
// option types are used by name.

/** CPU and memory of a service's container. */
export interface MicroServiceResources {
  /**
   * CPU request (a Kubernetes quantity).
   * @default '100m'
   */
  readonly cpu?: string;
  /**
   * Memory request.
   * @default '256Mi'
   */
  readonly memory?: string;
  /**
   * Memory limit; the request must not exceed it.
   * @default '512Mi'
   */
  readonly memoryLimit?: string;
}

/** A stateless service of yours, as MicroService and ReferenceDeployment's services take it. */
export interface MicroServiceOptions {
  /** Service name: workload name, host name, upstream name. A DNS-1123 label of at most 30 characters. */
  readonly name: string;
  /** Container image; it must run as a non-root user (runAsNonRoot is enforced). */
  readonly image: string;
  /** Port the service listens on (HTTP). */
  readonly port: number;
  /**
   * Number of replicas.
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Plain environment variables (no secrets here: they would land in the JSON).
   * @default {}
   */
  readonly env?: Record<string, string>;
  /**
   * HTTP path answering 200 when the service is ready; without one a TCP check is used.
   * @default - TCP check on the port
   */
  readonly healthPath?: string;
  /**
   * CPU and memory.
   * @default { cpu: '100m', memory: '256Mi', memoryLimit: '512Mi' }
   */
  readonly resources?: MicroServiceResources;
  /**
   * Seconds the service gets to finish in-flight requests after SIGTERM.
   * @default 30
   */
  readonly gracePeriodSeconds?: number;
  /**
   * Seconds to keep serving after the pod is told to stop, so the gateway stops sending first (a
   * preStop `sh -c "sleep N"`): nginx keeps a pod's address for its resolver validity (10 s) after
   * the pod leaves the endpoints, and the cluster DNS may answer with it for its TTL (5 s) more.
   * Shorter, the gateway routes requests to a pod that has stopped. Set 0 for images without a
   * shell (distroless).
   * @default 15
   */
  readonly preStopDelaySeconds?: number;
}

/** Props of a MicroService. */
export interface MicroServiceProps extends MicroServiceOptions {
  /** Where the service runs: a KubernetesTarget, a DockerTarget or another IWorkloadTarget. */
  readonly target: IWorkloadTarget;
  /**
   * Further environment: connection settings of its database and broker, with passwords as
   * secret references.
   * @default []
   */
  readonly connectionEnv?: EnvVar[];
  /**
   * Files its connections need: the CA certificate of a database or broker that serves TLS
   * (`connection.mounts()`: only the `ca.crt` key of the server's Secret).
   * @default []
   */
  readonly connectionMounts?: SecretMountInput[];
}

/** What a service of the reference deployment publishes and consumes on the platform exchange. */
export interface ServiceMessagingOptions {
  /**
   * Routing keys the service publishes to.
   * @default []
   */
  readonly publishes?: string[];
  /**
   * Routing keys the service consumes (a queue bound to each).
   * @default []
   */
  readonly consumes?: string[];
}

/** One service as ReferenceDeployment and `addService` take it. */
export interface ServiceSpec extends MicroServiceOptions {
  /**
   * URI prefixes the gateway forwards to this service.
   * @default []
   */
  readonly routes?: string[];
  /**
   * Give the service its own PostgreSQL (PostgresDatabase options; its serviceName is the
   * service's name). `{}` asks for one with the defaults.
   * @default - no database
   */
  readonly database?: Omit<PostgresDatabaseOptions, 'serviceName'>;
  /**
   * Routing keys the service publishes to and consumes from the platform exchange; a RabbitMQ
   * cluster is created when any service has them.
   * @default - no messaging
   */
  readonly messaging?: ServiceMessagingOptions;
}

/** The residency choice of a ReferenceDeployment. */
export interface ReferenceResidencyOptions {
  /** The stack's residency policy: 'eea', 'eea-sovereign' or `{ allowCountries: [...] }`. */
  readonly policy: ResidencyPolicy;
}

/** Props of a ReferenceDeployment. */
export interface ReferenceDeploymentProps {
  /** Where everything runs: a KubernetesTarget, a DockerTarget or another IWorkloadTarget. */
  readonly target: IWorkloadTarget;
  /** The NGINX gateway (NginxGateway options); its routes come from `services[].routes`. */
  readonly gateway: Omit<NginxGatewayOptions, 'routes'>;
  /**
   * The services. More can be added with `addService`.
   * @default []
   */
  readonly services?: ServiceSpec[];
  /**
   * The RabbitMQ cluster (RabbitMqCluster options), created when any service uses messaging.
   * @default - RabbitMqCluster defaults
   */
  readonly messaging?: RabbitMqClusterOptions;
  /**
   * The stack's residency policy. Left out, the stack's guard keeps the policy it has (one chosen
   * with `ResidencyGuard.ensure(stack, { policy })`), else 'eea'.
   * @default - the stack's policy ('eea' unless chosen on the guard)
   */
  readonly residency?: ReferenceResidencyOptions;
  /**
   * Backups of every service's database (pgBackRest to an S3-compatible object store in an EEA
   * location; see PostgresDatabase `backup`). A service's own `database.backup` takes precedence.
   * @default - no backups unless a service's database asks for them
   */
  readonly databaseBackup?: PostgresBackupOptions;
}
