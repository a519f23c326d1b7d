import { Lazy } from 'cdktf';
import { Construct } from 'constructs';
import { z } from 'zod';
import { RegionRef } from '../residency/region-ref';
import { parseComponentProps } from '../workload/component-props';
import { SovereignStackError, parseProps } from '../util/errors';
import { cpuQuantity, dnsLabel, imageRef } from '../util/schemas';
import { imageTagVersion } from '../util/versions';
import { connectionEnv } from '../workload/connection-env';
import { DeployedWorkload, IWorkloadTarget, builtByComponent } from '../workload/target';
import { ClientTls, ServerTlsParts, ServerTlsSchema, clientTlsOf, serverTlsParts } from '../workload/server-tls';
import { EnvVar, SecretMountInput, WorkloadProps } from '../workload/workload';
import {
  QueueMode, RabbitMqConfSpecInput, amqpName, queueMode, rabbitMqConfSpec, rabbitmqMemoryLimit, routingKey,
} from './rabbitmq-spec';
import {
  diskFreeLimitMi, interNodeTlsErlArgs, renderEnabledPlugins, renderInterNodeTlsConfig, renderRabbitMqConf,
} from './render-rabbitmq-conf';
import { renderRabbitMqDefinitions } from './render-rabbitmq-definitions';
import { renderServiceUsersFile, renderUserReconcileScript } from './render-user-bootstrap';

/** The official image the cluster runs by default (Alpine-based; its rabbitmq user is uid 100, gid 101). */
export const DEFAULT_RABBITMQ_IMAGE = 'rabbitmq:3.13.7-management-alpine';
/** AMQP 0-9-1: what services connect to. */
export const AMQP_PORT = 5672;
/** AMQP 0-9-1 over TLS: what services connect to when the cluster has `tls`. */
export const AMQPS_PORT = 5671;
/** Erlang distribution (inter-node traffic and CLI tools). */
export const CLUSTERING_PORT = 25672;
/** Erlang port mapper: peers look each other's distribution port up here. */
export const EPMD_PORT = 4369;
export const PROMETHEUS_PORT = 15692;
export const MANAGEMENT_PORT = 15672;

const CONF_DIR = '/etc/rabbitmq';
const CONF_FILE = `${CONF_DIR}/rabbitmq.conf`;
const ENV_FILE = `${CONF_DIR}/rabbitmq-env.conf`;
const PLUGINS_FILE = `${CONF_DIR}/enabled_plugins`;
/** Per-service data, applied by the running node (live): out of the pod-template hash. */
const TOPOLOGY_DIR = `${CONF_DIR}/topology`;
const DEFINITIONS_FILE = `${TOPOLOGY_DIR}/definitions.json`;
const SERVICE_USERS_FILE = `${TOPOLOGY_DIR}/users.sh`;
const BOOTSTRAP_FILE = `${CONF_DIR}/bootstrap-users.sh`;
/** Exists once the node's users and definitions are applied: the readiness check tests it. */
const BOOTSTRAP_READY_FILE = '/tmp/rabbitmq-bootstrap.ready';
const USERS_DIR = `${CONF_DIR}/users`;
const COOKIE_DIR = `${CONF_DIR}/cookie`;
const COOKIE_KEY = 'cookie';
/** The TLS Secret (tls.crt, tls.key, ca.crt), mounted read-only. */
const TLS_DIR = `${CONF_DIR}/tls`;
const INTER_NODE_TLS_FILE = `${CONF_DIR}/inter_node_tls.config`;
/** The data volume, also HOME (where Erlang and every CLI tool look for `.erlang.cookie`). */
const DATA_DIR = '/var/lib/rabbitmq';
/**
 * Seconds of the grace period kept for the node's own stop after the preStop waits (it closes
 * connections and flushes queues on SIGTERM).
 */
export const SHUTDOWN_RESERVE_SECONDS = 60;

/** Users RabbitMQ or this construct reserve. */
const RESERVED_USERS = new Set(['guest']);

/**
 * Container user of the official images: the Alpine variants create rabbitmq as uid 100 / gid 101,
 * the Ubuntu ones as 999 / 999.
 */
export function rabbitmqUserOfImage(image: string): { uid: number; gid: number } {
  const tag = image.split('@')[0].split('/').pop()?.split(':')[1] ?? '';
  return tag.includes('alpine') ? { uid: 100, gid: 101 } : { uid: 999, gid: 999 };
}

/** The RabbitMQ version an image tag names (`rabbitmq:3.13.7-management` -> "3.13.7"), or undefined. */
export function rabbitmqVersionOfImage(image: string): string | undefined {
  const v = imageTagVersion(image);
  return v ? `${v.major}.${v.minor}.${v.patch}` : undefined;
}

export const RabbitMqClusterOptionsSchema = z.object({
  /**
   * Workload name: host names, object names and the secrets `<name>-erlang-cookie` and `<name>-users`
   * derive from it.
   * @default 'rabbitmq'
   */
  name: dnsLabel.max(30, { message: 'must be at most 30 characters (room for "-erlang-cookie" and replica suffixes)' }).default('rabbitmq'),
  /**
   * Number of nodes, odd: with `pause_minority` a node keeps serving only while it sees a strict
   * majority, so an even cluster split in half stops on both sides. 1 is for development only.
   * @default 3
   */
  replicas: z.number().int({ message: 'must be a whole number of nodes' }).min(1, { message: 'must be at least 1' }).max(99).default(3),
  /**
   * The official `rabbitmq` image (or a compatible one) with a version tag; the version (RabbitMQ
   * >= 3.8) selects what is rendered. Alpine tags run as uid 100, others as uid 999. Pin a digest
   * after the tag for reproducible deployments.
   * @default 'rabbitmq:3.13.7-management-alpine'
   */
  image: imageRef.default(DEFAULT_RABBITMQ_IMAGE),
  /**
   * Queue replication. `classic-mirrored` applies an `ha-all` policy (every queue mirrored to every
   * node, synchronised automatically); it exists on RabbitMQ 3.x only. `quorum` declares quorum
   * queues (Raft), the only choice from RabbitMQ 4.0. The default does not follow the image: queue
   * type cannot change in place, so moving to 4.x is a migration you opt into with `quorum`.
   * @default 'classic-mirrored'
   */
  queueMode: queueMode.default('classic-mirrored'),
  /**
   * Container memory limit (also its request); the memory and disk alarms derive from it. 512Mi
   * (a booted node uses about 150 MiB) to 1Ti.
   * @default '2Gi'
   */
  memoryLimit: rabbitmqMemoryLimit.default('2Gi'),
  /**
   * CPU request. No CPU limit: a throttled node misses heartbeats and looks partitioned.
   * @default '500m'
   */
  cpu: cpuQuantity.default('500m'),
  /**
   * Size of each node's data volume in GiB (NVMe): message store, queue indexes, Raft logs. It must
   * hold the disk free limit (the memory limit, at least 1Gi) plus 1 GiB, or the node boots with
   * its disk alarm on and blocks every publisher.
   * @default 20
   */
  storageGi: z.number().int({ message: 'must be a whole number of GiB' }).min(1, { message: 'must be at least 1' }).max(65536).default(20),
  /**
   * The virtual host every service user works in.
   * @default 'platform'
   */
  vhost: amqpName.default('platform'),
  /**
   * The durable topic exchange services publish to; consumers' queues are bound to it.
   * @default 'events'
   */
  exchange: amqpName.default('events'),
  /**
   * Refuse `terraform destroy` of the nodes' data and the Erlang cookie (prevent_destroy). Opt out
   * for throw-away stacks (CI, previews).
   * @default true
   */
  retainOnDelete: z.boolean().default(true),
  /**
   * Encryption in transit for clients: AMQPS on 5671 with the certificate from an existing Secret
   * (`secretName`: tls.crt, tls.key, ca.crt) or, on Kubernetes, a cert-manager Certificate
   * (`certManager`); the plaintext listener on 5672 is off, and the connection env tells services
   * to connect with `amqps://` and verify the CA. The certificate must name every host clients and
   * peers use (the cert-manager Certificate does).
   * @default - plaintext AMQP on 5672: set it for any broker carrying personal data
   */
  tls: ServerTlsSchema.optional(),
  /**
   * With `tls`: Erlang distribution (inter-node traffic: queue contents replicated between nodes,
   * and the CLI tools' traffic) over TLS too (inet_tls_dist, both sides verified against the CA).
   * Needs a certificate valid for every node's host name, usable for server and client auth.
   * @default true (when `tls` is set)
   */
  interNodeTls: z.boolean().default(true),
  /**
   * Seconds a stopping node may take before it is killed. Before the stop signal (Kubernetes
   * preStop) the node waits, within this period less 60 s kept for its own stop, for quorum queues
   * to keep a quorum without it and for its classic mirrors to be synchronised elsewhere, then
   * drains its clients (see `shutdownWaits`). 120 to 3600.
   * @default 600
   */
  shutdownGracePeriodSeconds: z.number().int({ message: 'must be a whole number of seconds' })
    .min(120, { message: 'must be at least 120: the node needs 60 s for its own stop and the waits before it the rest' })
    .max(3600, { message: 'must be at most 3600' }).default(600),
}).strict().superRefine((o, ctx) => {
  // The disk alarm goes off when free space on the volume falls below the disk free limit.
  const diskLimitMi = diskFreeLimitMi(o.memoryLimit);
  const minStorageGi = Math.ceil(diskLimitMi / 1024) + 1;
  if (o.storageGi < minStorageGi) {
    ctx.addIssue({
      code: 'custom', path: ['storageGi'],
      message: `must be at least ${minStorageGi}: the node blocks publishers while the volume has less than ${diskLimitMi} MiB free ` +
        `(the disk free limit follows memoryLimit ${o.memoryLimit}, at least 1Gi), and messages need room above that`,
    });
  }
  const version = rabbitmqVersionOfImage(o.image);
  if (version === undefined) {
    ctx.addIssue({
      code: 'custom', path: ['image'],
      message: `"${o.image}" names no version; tag it with a RabbitMQ version such as "${DEFAULT_RABBITMQ_IMAGE}" (a digest may follow the tag)`,
    });
    return;
  }
  // The renderers' own guards (version floor, classic mirroring removed in 4.0, odd cluster size,
  // memory), reported against these props.
  const spec = rabbitMqConfSpec.safeParse({
    rabbitmqVersion: version,
    queueMode: o.queueMode,
    memoryLimit: o.memoryLimit,
    discovery: { kind: 'kubernetes', headlessServiceName: 'validation', namespace: 'validation', replicas: o.replicas },
  });
  if (spec.success) return;
  for (const issue of spec.error.issues) {
    const [head, next] = issue.path;
    const path = head === 'rabbitmqVersion' ? ['image']
      : head === 'discovery' && next === 'replicas' ? ['replicas']
        : issue.path.length > 0 ? issue.path : ['image'];
    const message = head === 'rabbitmqVersion' ? `"${o.image}" is RabbitMQ ${version}; ${issue.message}` : issue.message;
    ctx.addIssue({ code: 'custom', path, message });
  }
}, { when: (payload) => payload.issues.length === 0 });

/** Plain options of a RabbitMqCluster (types derived from the schema, so they cannot drift). */
export type RabbitMqClusterOptions = z.input<typeof RabbitMqClusterOptionsSchema>;

export interface RabbitMqClusterProps extends RabbitMqClusterOptions {
  /** Where the cluster runs: a KubernetesTarget, a DockerTarget, or a target of your own. */
  readonly target: IWorkloadTarget;
  /**
   * Where the queued messages live, when not where the target is. Checked by the residency guard:
   * a location outside the stack's policy fails synthesis.
   * @default the target's location
   */
  readonly location?: RegionRef;
}

export const ServiceUserOptionsSchema = z.object({
  /**
   * The service (a DNS label): its user name, its password's key in `<name>-users`, and the prefix
   * of its queues.
   */
  service: dnsLabel.refine((s) => !RESERVED_USERS.has(s), { message: 'must not be "guest" (RabbitMQ\'s built-in user)' }),
  /**
   * Routing keys the service publishes with (no wildcards). Any key grants write on the exchange.
   * @default []
   */
  publishes: z.array(routingKey.refine((k) => !/(^|\.)[*#](\.|$)/.test(k), {
    message: 'must be a concrete routing key: "*" and "#" are wildcards for bindings, a publisher sends one key',
  })).default([]),
  /**
   * Routing keys (or topic patterns with "*" and "#") the service consumes. Each gets a durable
   * queue `<service>.<key>` bound to the exchange with that key ("*" becomes "any" and "#" becomes
   * "all" in the queue name).
   * @default []
   */
  consumes: z.array(routingKey).default([]),
}).strict().superRefine((o, ctx) => {
  const seen = new Map<string, string>();
  o.consumes.forEach((key, i) => {
    const queue = queueNameOf(o.service, key);
    if (queue.length > 255) {
      ctx.addIssue({ code: 'custom', path: ['consumes', i], message: `gives the queue name "${queue.slice(0, 40)}...", longer than RabbitMQ's 255 characters; use a shorter key` });
    }
    const other = seen.get(queue);
    if (other !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['consumes', i], message: `"${key}" gives the queue "${queue}", as "${other}" does; list each key once` });
    }
    seen.set(queue, key);
  });
});

/** What `addServiceUser` takes. */
export type ServiceUserOptions = z.input<typeof ServiceUserOptionsSchema>;

/** `invoices` consuming `orders.created` reads from the queue `invoices.orders.created`. */
export function queueNameOf(service: string, key: string): string {
  const words = key.split('.').map((w) => (w === '*' ? 'any' : w === '#' ? 'all' : w));
  return `${service}.${words.join('.')}`;
}

/** An Erlang (PCRE) regex matching exactly one of `names`, or nothing at all. */
function exactly(names: readonly string[]): string {
  if (names.length === 0) return '^$';
  const escaped = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return escaped.length === 1 ? `^${escaped[0]}$` : `^(${escaped.join('|')})$`;
}

/** How a service reaches the broker. */
export interface RabbitMqConnectionProps {
  readonly host: string;
  readonly port: number;
  readonly vhost: string;
  /** The exchange to publish to. */
  readonly exchange: string;
  readonly username: string;
  /** The queues the service consumes from. */
  readonly queues: readonly string[];
  /** The Secret holding the password. */
  readonly secretName: string;
  /** The password's key in that Secret. */
  readonly passwordKey: string;
  /** How the client verifies the broker, when it serves AMQPS. @default - plaintext AMQP */
  readonly tls?: ClientTls;
}

/**
 * How a service connects: host, port, vhost, user, the exchange, its queues, and where its password
 * lives. The password itself is never here: `env()` hands it over as a secret reference.
 */
export class RabbitMqConnection implements RabbitMqConnectionProps {
  public readonly host: string;
  public readonly port: number;
  public readonly vhost: string;
  public readonly exchange: string;
  public readonly username: string;
  public readonly queues: readonly string[];
  public readonly secretName: string;
  public readonly passwordKey: string;
  public readonly tls?: ClientTls;

  constructor(props: RabbitMqConnectionProps) {
    this.host = props.host;
    this.port = props.port;
    this.vhost = props.vhost;
    this.exchange = props.exchange;
    this.username = props.username;
    this.queues = [...props.queues];
    this.secretName = props.secretName;
    this.passwordKey = props.passwordKey;
    this.tls = props.tls;
  }

  /**
   * Environment entries for the service's workload: `<prefix>_HOST`, `<prefix>_PORT`,
   * `<prefix>_VHOST`, `<prefix>_USER`, `<prefix>_EXCHANGE` as values and `<prefix>_PASSWORD` as a
   * secret reference; with TLS also `<prefix>_URL` (`amqps://host:5671/vhost`, without credentials:
   * give user and password separately) and `<prefix>_CA_FILE` (the CA that `mounts()` puts in the
   * service's container; verify the server's certificate and host name against it).
   */
  public env(prefix = 'AMQP'): EnvVar[] {
    const tls: Record<string, string> = this.tls
      ? { URL: `amqps://${this.host}:${this.port}/${encodeURIComponent(this.vhost)}`, CA_FILE: this.tls.caFile }
      : {};
    return connectionEnv(prefix,
      { HOST: this.host, PORT: String(this.port), VHOST: this.vhost, USER: this.username, EXCHANGE: this.exchange, ...tls },
      { secret: this.secretName, key: this.passwordKey });
  }

  /** What the service's workload must mount to connect: the CA file (only `ca.crt`) with TLS, else nothing. */
  public mounts(): SecretMountInput[] {
    return this.tls ? [this.tls.caMount] : [];
  }
}

interface ServiceUser {
  readonly service: string;
  readonly publishes: readonly string[];
  readonly consumes: readonly string[];
}

/**
 * A RabbitMQ cluster for the platform's events: an odd number of nodes (3 by default) on the
 * target's NVMe storage, one node per machine, forming a cluster on their own (the Kubernetes peer
 * discovery plugin on Kubernetes, a fixed peer list elsewhere) with `pause_minority` partition
 * handling: a node that cannot see a majority stops serving rather than diverge.
 *
 * Queues are replicated to survive the loss of a node. On RabbitMQ 3.x the default
 * (`queueMode: 'classic-mirrored'`) is an `ha-all` policy: every queue is mirrored to every node and
 * new mirrors synchronise automatically, so stopping the node holding a queue's master promotes a
 * synchronised mirror with no message lost. RabbitMQ 4.0 removed classic mirroring (new `ha-*`
 * policies are rejected, old ones do nothing): quorum queues (`queueMode: 'quorum'`, Raft-replicated,
 * available since 3.8) are the forward path, and choosing classic mirroring with a 4.x image fails
 * synthesis. Queue type is fixed when a queue is created, so switching an existing cluster is a
 * migration (a new vhost or a blue-green cluster), not a flag.
 *
 * Topology is predeclared in definitions.json: the vhost, a durable topic exchange, and for each
 * consumed routing key a durable queue `<service>.<key>` bound to it. Each service gets a user of
 * its own with least privilege: configure nothing (clients must not declare, only use the
 * predeclared topology), write the exchange if it publishes, read its own queues if it consumes.
 * Topic permissions narrow its publishing to its own routing keys (`orders` cannot publish
 * `invoices.issued`). Its password is generated at apply time into the Secret `<name>-users` (one
 * key per service); users are created from those files (definitions.json cannot carry a password
 * without a hash Terraform cannot compute). `addServiceUser` works after construction too.
 *
 * Adding a service restarts no node: definitions and users are live files (`<name>-live` on
 * Kubernetes, out of the pod-template hash) that a loop beside each node applies whenever they or
 * the passwords change (rabbitmqctl import_definitions, add_user, set_permissions,
 * set_topic_permissions). A node is ready only once that has succeeded; when applying fails for
 * three minutes, it stops being ready. Only rabbitmq.conf, the env file and the plugins roll the nodes.
 *
 * Network: peers reach each other on epmd (4369) and distribution (25672); clients admitted with
 * `allowClient` reach AMQP (5672), or with `tls` AMQPS (5671) only: the plaintext listener is off
 * and, unless `interNodeTls: false`, distribution runs over TLS too. Prometheus metrics (15692,
 * rabbitmq_prometheus) admit the target's scraper only (KubernetesTarget `metrics.scraper`);
 * management (15672) admits nobody.
 *
 * @example
 * const broker = new RabbitMqCluster(stack, 'messaging', { target });
 * const amqp = broker.addServiceUser({ service: 'invoices', consumes: ['orders.created'] });
 * // in the service's workload: env: [...amqp.env()]; then broker.allowClient(invoices);
 */
export class RabbitMqCluster extends Construct {
  /** The realized workload (its provider resources are in `workload.resources`). */
  public readonly workload: DeployedWorkload;
  /** RabbitMQ version, from the image tag. */
  public readonly version: string;
  public readonly queueMode: QueueMode;
  public readonly vhost: string;
  public readonly exchange: string;
  /** Secret holding one generated password per service user, keyed by service. */
  public readonly usersSecretName: string;
  /** Secret holding the Erlang cookie (key `cookie`). */
  public readonly cookieSecretName: string;
  /** Where clients reach AMQP: host name and port (the Service on Kubernetes, the first node's container on Docker). */
  public readonly endpoint: { readonly host: string; readonly port: number };
  private readonly users = new Map<string, ServiceUser>();
  private readonly rendered = new Map<string, { readonly users: number; readonly text: string }>();
  private readonly target: IWorkloadTarget;
  /** The TLS Secret and its mount, when the cluster serves AMQPS. */
  private readonly tls?: ServerTlsParts;
  /** The port clients connect to: AMQPS (5671) with `tls`, AMQP (5672) without. */
  private readonly clientPort: number;

  constructor(scope: Construct, id: string, props: RabbitMqClusterProps) {
    const { target, location, options: o } = parseComponentProps('RabbitMqCluster', scope, id, props, RabbitMqClusterOptionsSchema, { prop: 'name', of: (r) => r.name });
    super(scope, id);

    this.target = target;
    this.version = rabbitmqVersionOfImage(o.image)!;
    this.queueMode = o.queueMode;
    this.vhost = o.vhost;
    this.exchange = o.exchange;
    this.usersSecretName = `${o.name}-users`;
    this.cookieSecretName = `${o.name}-erlang-cookie`;
    const { uid, gid } = rabbitmqUserOfImage(o.image);
    const kubernetesDiscovery = target.targetKind === 'kubernetes';
    const lazy = (produce: () => string) => Lazy.stringValue({ produce });
    const diagnostics = (...check: string[]) => ['rabbitmq-diagnostics', '-q', ...check];
    const tls = o.tls ? serverTlsParts(o.tls, o.name, TLS_DIR) : undefined;
    this.tls = tls;
    this.clientPort = tls ? AMQPS_PORT : AMQP_PORT;
    const interNodeTls = tls !== undefined && o.interNodeTls;

    const workload: WorkloadProps = {
      name: o.name,
      component: 'rabbitmq',
      kind: 'stateful',
      image: o.image,
      replicas: o.replicas,
      // Docker has no postStart hook, so the same wrapper runs everywhere: put the cookie where
      // Erlang wants it (its own file, mode 0400: Erlang refuses a readable one), start the user
      // bootstrap loop in the background (it waits for the node, then applies users and definitions
      // whenever they change), then hand over to the image's entrypoint.
      command: ['sh', '-c', [
        'set -eu',
        `rm -f "$HOME/.erlang.cookie"`,
        `install -m 0400 ${COOKIE_DIR}/${COOKIE_KEY} "$HOME/.erlang.cookie"`,
        `(sh ${BOOTSTRAP_FILE} &)`,
        'exec docker-entrypoint.sh rabbitmq-server',
      ].join('; ')],
      ports: [
        tls ? { name: 'amqps', containerPort: AMQPS_PORT } : { name: 'amqp', containerPort: AMQP_PORT },
        { name: 'clustering', containerPort: CLUSTERING_PORT },
        { name: 'epmd', containerPort: EPMD_PORT },
        { name: 'prometheus', containerPort: PROMETHEUS_PORT },
        { name: 'management', containerPort: MANAGEMENT_PORT },
      ],
      // rabbitmq_prometheus (enabled in enabled_plugins): the target admits its scraper on 15692.
      metrics: { port: 'prometheus', path: '/metrics' },
      env: [
        { name: 'HOME', value: DATA_DIR },
        // Read by rabbitmq-server and every CLI tool (probes, preStop, user bootstrap) alike.
        { name: 'RABBITMQ_CONF_ENV_FILE', value: ENV_FILE },
        { name: 'RABBITMQ_CONFIG_FILE', value: CONF_FILE },
        { name: 'RABBITMQ_ENABLED_PLUGINS_FILE', value: PLUGINS_FILE },
        // Logs go to stdout only: no log file grows inside the container.
        { name: 'RABBITMQ_LOGS', value: '-' },
      ],
      secrets: [
        {
          source: 'generated',
          name: this.cookieSecretName,
          generated: { [COOKIE_KEY]: { length: 64 } },
          // Every node of the cluster and its data are bound to the cookie.
          retain: o.retainOnDelete,
        },
        // Starts empty: addServiceUser adds one key per service.
        { source: 'generated', name: this.usersSecretName, generated: {} },
        ...(tls ? [tls.secret] : []),
      ],
      configFiles: [
        { path: CONF_FILE, content: lazy(() => renderRabbitMqConf(this.confSpec(o))) },
        { path: ENV_FILE, content: lazy(() => this.renderEnvFile(o.name, interNodeTls)) },
        ...(tls && interNodeTls
          ? [{ path: INTER_NODE_TLS_FILE, content: renderInterNodeTlsConfig({ certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile }) }]
          : []),
        { path: PLUGINS_FILE, content: lazy(() => renderEnabledPlugins(this.confSpec(o))) },
        // The same loop on every node, whatever the services: only rabbitmq.conf, the env file and
        // the plugins ask for a restart.
        { path: BOOTSTRAP_FILE, content: renderUserReconcileScript({
          usersFile: SERVICE_USERS_FILE, definitionsFile: DEFINITIONS_FILE, passwordDir: USERS_DIR, readyFile: BOOTSTRAP_READY_FILE,
        }) },
        // Per-service data: applied by the running nodes (the loop above), so a new service restarts none.
        { path: DEFINITIONS_FILE, live: true, content: lazy(() => this.perUserCount('definitions', () => this.renderDefinitions())) },
        { path: SERVICE_USERS_FILE, live: true, content: lazy(() => this.perUserCount('users', () => this.renderServiceUsers())) },
      ],
      secretMounts: [
        { secret: this.usersSecretName, mountPath: USERS_DIR },
        { secret: this.cookieSecretName, mountPath: COOKIE_DIR },
        ...(tls ? [tls.mount] : []),
      ],
      // Queued messages are personal data too: the residency guard records this volume.
      volumes: [{ name: 'data', mountPath: DATA_DIR, sizeGi: o.storageGi, role: 'datastore', dataKind: 'rabbitmq-messages' }],
      scratch: [
        { name: 'tmp', mountPath: '/tmp', sizeMi: 64 },
        // Nothing is logged to files (RABBITMQ_LOGS=-); the image still opens an upgrade log here.
        { name: 'log', mountPath: '/var/log/rabbitmq', sizeMi: 64 },
      ],
      probes: {
        // The users and definitions applied (a failed bootstrap is a pod that is not ready), and the
        // listeners accept connections. Only gates the client Service: peers see each other before
        // they are ready (publishNotReadyAddresses).
        readiness: {
          exec: ['sh', '-c', `test -e ${BOOTSTRAP_READY_FILE} && exec ${diagnostics('check_port_connectivity').join(' ')}`],
          periodSeconds: 20, timeoutSeconds: 15, failureThreshold: 3,
        },
        // The runtime answers. `ping` rather than `status`: status can take seconds on a loaded node,
        // and a restart costs far more than a slow answer. Five minutes of silence before a restart.
        liveness: { exec: diagnostics('ping'), periodSeconds: 60, timeoutSeconds: 30, failureThreshold: 5 },
        // First boot waits for peers and table sync; a restart replays queues: up to 15 minutes.
        startup: { exec: diagnostics('ping'), periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 90 },
      },
      resources: {
        requests: { cpu: o.cpu, memory: o.memoryLimit },
        limits: { memory: o.memoryLimit },
      },
      // The root filesystem stays read-only: config is mounted, data, HOME and the cookie are on
      // the volume, and /tmp and /var/log/rabbitmq are scratch.
      securityContext: { runAsUser: uid, runAsGroup: gid, fsGroup: gid, runAsNonRoot: true, readOnlyRootFilesystem: true },
      placement: { datastore: true, spreadAcrossNodes: 'required' },
      // Peers among themselves only; clients come with allowClient().
      ingress: [{ from: { workload: o.name }, ports: [EPMD_PORT, CLUSTERING_PORT] }],
      disruptionBudget: { maxUnavailable: 1 },
      publishNotReadyAddresses: true,
      // The Kubernetes peer discovery plugin reads the headless Service's endpoints and posts events.
      apiAccess: kubernetesDiscovery
        ? [{ resources: ['endpoints'], verbs: ['get'] }, { resources: ['events'], verbs: ['create'] }]
        : [],
      shutdown: {
        preStop: preStopCommand(o.replicas, o.queueMode, o.shutdownGracePeriodSeconds),
        gracePeriodSeconds: o.shutdownGracePeriodSeconds,
        // RabbitMQ stops gracefully on SIGTERM (Docker's only shutdown path: it has no preStop).
        stopSignal: 'SIGTERM',
      },
      retainData: o.retainOnDelete,
    };

    this.workload = target.deploy(this, builtByComponent(workload), { location });
    this.endpoint = this.workload.endpoint(this.clientPort);
  }

  /**
   * Adds a service's user (and queues): least-privilege permissions on the vhost, a durable queue
   * `<service>.<key>` bound to the exchange per consumed key, and a password generated at apply time
   * as the key `<service>` of the Secret `<name>-users`. Works after construction too.
   */
  public addServiceUser(options: ServiceUserOptions): RabbitMqConnection {
    const u = parseProps(ServiceUserOptionsSchema, options, `${this.node.path} addServiceUser`);
    if (this.users.has(u.service)) {
      throw new SovereignStackError(
        `${this.node.path}: addServiceUser: service "${u.service}" already has a user; call addServiceUser once per service with all its publishes and consumes`,
      );
    }
    this.users.set(u.service, { service: u.service, publishes: u.publishes, consumes: u.consumes });
    this.workload.addGeneratedSecretKey(this.usersSecretName, u.service, { length: 32 });
    const endpoint = this.workload.endpoint(this.clientPort);
    return new RabbitMqConnection({
      host: endpoint.host,
      port: endpoint.port,
      vhost: this.vhost,
      exchange: this.exchange,
      username: u.service,
      queues: u.consumes.map((key) => queueNameOf(u.service, key)),
      secretName: this.usersSecretName,
      passwordKey: u.service,
      tls: this.tls && clientTlsOf(this.workload.workload.name, this.tls.secretName),
    });
  }

  /** Admits `client`'s pods on AMQP (5672), or AMQPS (5671) with `tls`, only (network policy; Docker cannot enforce it). */
  public allowClient(client: DeployedWorkload): void {
    this.workload.allowFrom(client, [this.clientPort]);
  }

  /** Names of the services with a user, in the order they were added. */
  public get serviceUsers(): string[] {
    return [...this.users.keys()];
  }

  /**
   * How nodes find each other: the only target-specific knowledge here. On Kubernetes the plugin
   * lists the headless Service's endpoints; its host name suffix must be exactly what follows the
   * pod name in the replica host names, so both are read from them.
   */
  private discovery(name: string, replicas: number): RabbitMqConfSpecInput['discovery'] {
    const hosts = this.workload.replicaHosts;
    if (this.target.targetKind === 'kubernetes') {
      const [pod, headless, namespace, svc, ...domain] = (hosts[0] ?? '').split('.');
      if (pod !== `${name}-0` || !headless || !namespace || svc !== 'svc' || domain.length === 0) {
        throw new SovereignStackError(
          `${this.node.path}: the Kubernetes target gave the replica host "${hosts[0]}"; peer discovery needs ` +
          '"<name>-0.<headless service>.<namespace>.svc.<cluster domain>"',
        );
      }
      return { kind: 'kubernetes', headlessServiceName: headless, namespace, clusterDomain: domain.join('.'), replicas };
    }
    return { kind: 'classic', peers: hosts.map((h) => `rabbit@${h}`) };
  }

  private confSpec(o: z.output<typeof RabbitMqClusterOptionsSchema>): RabbitMqConfSpecInput {
    return {
      rabbitmqVersion: this.version,
      queueMode: o.queueMode,
      memoryLimit: o.memoryLimit,
      amqpPort: AMQP_PORT,
      managementPort: MANAGEMENT_PORT,
      prometheusPort: PROMETHEUS_PORT,
      definitionsPath: DEFINITIONS_FILE,
      discovery: this.discovery(o.name, o.replicas),
      tls: this.tls && { certFile: this.tls.certFile, keyFile: this.tls.keyFile, caFile: this.tls.caFile, amqpsPort: AMQPS_PORT },
    };
  }

  /**
   * rabbitmq-env.conf (sourced by a shell): the node's stable name, `rabbit@<host>` where host is
   * the replica's stable host name (`rabbitmq-0.rabbitmq-headless.<ns>.svc.cluster.local` on
   * Kubernetes, `rabbitmq-0` on Docker), so the name, and with it the node's data directory,
   * survives restarts and rescheduling. Long names when the host name has dots.
   */
  private renderEnvFile(name: string, interNodeTls: boolean): string {
    const first = this.workload.replicaHosts[0] ?? `${name}-0`;
    const suffix = first.slice(`${name}-0`.length);
    if (!/^(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(suffix)) {
      throw new SovereignStackError(`${this.node.path}: replica host "${first}" does not start with "${name}-0"`);
    }
    return [
      '# rendered by sovereign-stack; read by rabbitmq-server and every CLI tool (probes, preStop, user bootstrap)',
      `NODENAME=rabbit@$(hostname)${suffix}`,
      `USE_LONGNAME=${suffix.includes('.') ? 'true' : 'false'}`,
      // Distribution over TLS for the node and for every CLI tool (probes, preStop, bootstrap).
      ...(interNodeTls
        ? [`SERVER_ADDITIONAL_ERL_ARGS="${interNodeTlsErlArgs(INTER_NODE_TLS_FILE)}"`, `CTL_ERL_ARGS="${interNodeTlsErlArgs(INTER_NODE_TLS_FILE)}"`]
        : []),
      '',
    ].join('\n');
  }

  /**
   * Users are only ever added (addServiceUser refuses a second call per service): their count says
   * whether a file rendered before is still current. Synthesis reads each file several times.
   */
  private perUserCount(file: string, render: () => string): string {
    const known = this.rendered.get(file);
    if (known?.users === this.users.size) return known.text;
    const text = render();
    this.rendered.set(file, { users: this.users.size, text });
    return text;
  }

  private renderDefinitions(): string {
    const users = [...this.users.values()];
    return renderRabbitMqDefinitions({
      rabbitmqVersion: this.version,
      queueMode: this.queueMode,
      vhosts: [this.vhost],
      exchanges: [{ name: this.exchange, vhost: this.vhost, type: 'topic' }],
      queues: users.flatMap((u) => u.consumes.map((key) => ({ name: queueNameOf(u.service, key), vhost: this.vhost }))),
      bindings: users.flatMap((u) => u.consumes.map((key) => ({
        vhost: this.vhost, exchange: this.exchange, queue: queueNameOf(u.service, key), routingKey: key,
      }))),
    });
  }

  /**
   * Least privilege per service (RabbitMQ access control): basic.publish needs write on the
   * exchange, basic.consume / basic.get need read on the queue; declaring anything needs configure,
   * which nobody gets (the topology is predeclared; clients must not assert it, passive checks aside).
   * Topic permissions on the exchange narrow publishing to the service's own routing keys.
   */
  private renderServiceUsers(): string {
    return renderServiceUsersFile({
      users: [...this.users.values()].map((u) => ({
        name: u.service,
        vhost: this.vhost,
        configure: '^$',
        write: exactly(u.publishes.length > 0 ? [this.exchange] : []),
        read: exactly(u.consumes.map((key) => queueNameOf(u.service, key))),
        topic: { exchange: this.exchange, write: exactly(u.publishes), read: '^$' },
      })),
    });
  }
}

/** How long each step before a node stops may wait, in seconds (see `preStopCommand`). */
export interface ShutdownWaits {
  /** rabbitmq-upgrade await_online_quorum_plus_one: quorum queues keep a quorum without this node. */
  readonly quorumPlusOne: number;
  /** rabbitmq-upgrade await_online_synchronized_mirror: classic mirrors elsewhere are in sync (0 in quorum mode). */
  readonly synchronizedMirror: number;
  /** rabbitmq-upgrade drain: clients move to other nodes. */
  readonly drain: number;
}

/**
 * The grace period less SHUTDOWN_RESERVE_SECONDS, shared out: the drain gets a fifth (at most 120 s),
 * and the waits the rest; in classic-mirrored mode two thirds of that goes to mirror
 * synchronisation, which is what a stop must not cut short (a node stopped with unsynchronised
 * mirrors loses the messages only it held). Each wait ends as soon as its condition holds.
 */
export function shutdownWaits(gracePeriodSeconds: number, mode: QueueMode): ShutdownWaits {
  const budget = gracePeriodSeconds - SHUTDOWN_RESERVE_SECONDS;
  const drain = Math.min(120, Math.floor(budget / 5));
  const waits = budget - drain;
  if (mode === 'quorum') return { quorumPlusOne: waits, synchronizedMirror: 0, drain };
  const quorumPlusOne = Math.floor(waits / 3);
  return { quorumPlusOne, synchronizedMirror: waits - quorumPlusOne, drain };
}

/**
 * Before a node stops (Kubernetes preStop; Docker has none and relies on SIGTERM): wait until
 * stopping it keeps every quorum queue above quorum and every mirror synchronised, then drain it
 * (maintenance mode: clients move to other nodes; a restart revives the node). The waits share
 * the grace period (shutdownWaits), so together they end before the kill, and none blocks the stop.
 */
export function preStopCommand(replicas: number, mode: QueueMode, gracePeriodSeconds: number): string[] | undefined {
  if (replicas === 1) return undefined;
  const w = shutdownWaits(gracePeriodSeconds, mode);
  const steps = [
    `rabbitmq-upgrade -q await_online_quorum_plus_one -t ${w.quorumPlusOne} || true`,
    ...(mode === 'classic-mirrored' ? [`rabbitmq-upgrade -q await_online_synchronized_mirror -t ${w.synchronizedMirror} || true`] : []),
    `rabbitmq-upgrade -q drain -t ${w.drain} || true`,
  ];
  return ['sh', '-c', steps.join('; ')];
}
