/**
 * Validated inputs of the pure RabbitMQ renderers (rabbitmq.conf, enabled_plugins,
 * definitions.json, the user bootstrap script). Types are derived from the zod schemas so the two
 * cannot drift. The version guard lives here: what a RabbitMQ version cannot run is refused before
 * anything is rendered.
 */
import { z } from 'zod';
import { absolutePath, dnsLabel, memoryQuantity, port } from '../util/schemas';
import { coerceVersion, semver } from '../util/versions';

/** RabbitMQ 4.0 removed classic queue mirroring (ha-* policy keys are rejected or ignored). */
export const MIRRORING_REMOVED_IN = '4.0.0';
/** Virtual host metadata `default_queue_type` (definitions.json, rabbitmqctl add_vhost) exists from 3.10. */
export const VHOST_DEFAULT_QUEUE_TYPE_SINCE = '3.10.0';
/** The node-wide `default_queue_type` key in rabbitmq.conf arrived in 3.13.3 (rabbitmq-server#11163); older nodes refuse to boot with it. */
export const CONF_DEFAULT_QUEUE_TYPE_SINCE = '3.13.3';
/** Quorum queues arrived in 3.8; older versions are not supported. */
export const MINIMUM_RABBITMQ_VERSION = '3.8.0';

/** Version of RabbitMQ the files are rendered for, e.g. "3.13.7" or "4.0" (coerced with semver). */
export const rabbitmqVersion = z
  .string()
  .refine((v) => semver.coerce(v) !== null, { message: 'must name a RabbitMQ version such as "3.13.7" or "4.0"' })
  .refine((v) => semver.coerce(v) === null || semver.gte(coerceVersion(v), MINIMUM_RABBITMQ_VERSION), {
    message: `must be RabbitMQ ${MINIMUM_RABBITMQ_VERSION} or later (quorum queues and peer discovery are required)`,
  });

/**
 * Names of vhosts, users, queues, exchanges: letters, digits, ".", "_" and "-", starting with a letter
 * or digit (safe in JSON, in shell arguments where a leading "-" would read as an option, and as file names).
 */
export const amqpName = z
  .string()
  .min(1, { message: 'must not be empty' })
  .max(255, { message: 'must be at most 255 characters' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'must contain only letters, digits, ".", "_" and "-", starting with a letter or digit' })
  .refine((n) => !n.startsWith('amq.'), { message: 'must not start with "amq." (reserved by RabbitMQ)' });

/** Topic routing keys / binding patterns: words of letters, digits, "_" and "-" separated by "."; "*" and "#" as whole words. */
export const routingKey = z
  .string()
  .max(255, { message: 'must be at most 255 characters' })
  .regex(/^([A-Za-z0-9_-]+|\*|#)(\.([A-Za-z0-9_-]+|\*|#))*$/, {
    message: 'must be "."-separated words of letters, digits, "_" and "-" (or the wildcards "*" and "#")',
  });

/** An Erlang node name as classic peer discovery lists it: `rabbit@host`. */
export const erlangNodeName = z
  .string()
  .regex(/^[A-Za-z0-9_-]+@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, {
    message: 'must be an Erlang node name such as "rabbit@rabbitmq-0.rabbitmq-headless.platform.svc.cluster.local"',
  });

const ipv4 = z
  .string()
  .regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, { message: 'must be an IPv4 address such as "127.0.0.1"' });

/**
 * How the queues of every vhost are made highly available.
 * - `classic-mirrored`: an `ha-all` policy mirrors every queue to every node (RabbitMQ 3.x only).
 * - `quorum`: queues are Raft-replicated quorum queues (RabbitMQ >= 3.8, the only choice on 4.x).
 */
export const queueMode = z.enum(['classic-mirrored', 'quorum']);
export type QueueMode = z.infer<typeof queueMode>;

/** Peer discovery through the Kubernetes API (rabbit_peer_discovery_k8s). */
export const kubernetesDiscovery = z.object({
  kind: z.literal('kubernetes'),
  /** Headless Service that gives each pod a stable DNS name. */
  headlessServiceName: dnsLabel,
  /** Namespace of the StatefulSet and the headless Service. */
  namespace: dnsLabel,
  /**
   * Cluster DNS domain.
   * @default 'cluster.local'
   */
  clusterDomain: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: 'must be a DNS domain such as "cluster.local"' }).default('cluster.local'),
  /**
   * Kubernetes API host the plugin queries for endpoints.
   * @default 'kubernetes.default.svc'
   */
  apiHost: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: 'must be a host name' }).default('kubernetes.default.svc'),
  /**
   * Number of nodes (StatefulSet replicas). Must be odd: see `oddClusterSize`.
   * @default 3
   */
  replicas: z.number().int().min(1).default(3),
}).strict();

/** A fixed list of peers (classic_config): every node of the cluster, seed node first. */
export const classicDiscovery = z.object({
  kind: z.literal('classic'),
  /** Erlang node names of every cluster member, e.g. `rabbit@rabbit-0.example`. Must be an odd count. */
  peers: z.array(erlangNodeName).min(1, { message: 'must list at least one node' }),
}).strict();

export const discovery = z.discriminatedUnion('kind', [kubernetesDiscovery, classicDiscovery]);
export type RabbitMqDiscovery = z.infer<typeof discovery>;

const PAUSE_MINORITY_WHY =
  'with cluster_partition_handling = pause_minority a node keeps running only while it sees a strict majority, ' +
  'and quorum queues need a majority of replicas; an even-sized cluster split in half has no majority and stops ' +
  'on both sides, so it tolerates no more failures than the odd size below it';

/** Adds an issue when an explicit node count is even (1 is allowed for development). */
function checkOddClusterSize(count: number, path: PropertyKey[], ctx: z.RefinementCtx): void {
  if (count % 2 === 0) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: `a cluster of ${count} nodes is refused: ${PAUSE_MINORITY_WHY}. use ${count - 1} or ${count + 1} nodes`,
    });
  }
}

/** The version guard shared by both specs: classic mirroring does not exist on RabbitMQ >= 4.0. */
function checkQueueModeForVersion(version: string, mode: QueueMode, ctx: z.RefinementCtx): void {
  const v = semver.coerce(version);
  if (v && mode === 'classic-mirrored' && semver.gte(v, MIRRORING_REMOVED_IN)) {
    ctx.addIssue({
      code: 'custom',
      path: ['queueMode'],
      message:
        `queueMode 'classic-mirrored' is not available on RabbitMQ ${version}: RabbitMQ 4.0 removed classic queue ` +
        'mirroring (new ha-mode policies are rejected, existing ones do nothing), so queues would not be replicated. ' +
        "set queueMode: 'quorum' (quorum queues replace mirroring), or stay on a RabbitMQ 3.13 image",
    });
  }
}

/** `classic-mirrored` on 3.x, `quorum` from 4.0 on. */
export function defaultQueueMode(version: string): QueueMode {
  const v = semver.coerce(version);
  return v && semver.gte(v, MIRRORING_REMOVED_IN) ? 'quorum' : 'classic-mirrored';
}

export const rabbitMqConfSpec = z
  .object({
    /**
     * RabbitMQ version the file is rendered for; keys a version does not know make the node refuse to boot.
     * @default '3.13.7'
     */
    rabbitmqVersion: rabbitmqVersion.default('3.13.7'),
    /** How nodes find each other. */
    discovery,
    /**
     * Queue replication. Only affects rabbitmq.conf through `default_queue_type` (>= 3.13.3, quorum mode).
     * @default 'classic-mirrored' below RabbitMQ 4.0, 'quorum' from 4.0
     */
    queueMode: queueMode.optional(),
    /**
     * Memory limit of the container running the node; the watermarks derive from it.
     * @default '2Gi'
     */
    memoryLimit: memoryQuantity.default('2Gi'),
    /**
     * Fraction of `memoryLimit` at which the node blocks publishers (rendered as an absolute value, see
     * renderRabbitMqConf).
     * @default 0.4
     */
    memoryHighWatermark: z.number().gt(0).max(0.9, { message: 'must be at most 0.9: the Erlang VM needs headroom above the watermark' }).default(0.4),
    /**
     * Free disk space below which the node blocks publishers.
     * @default the memory limit, at least 1Gi (see renderRabbitMqConf)
     */
    diskFreeLimit: memoryQuantity.optional(),
    /**
     * AMQP 0-9-1 port.
     * @default 5672
     */
    amqpPort: port.default(5672),
    /**
     * Address the AMQP, management and Prometheus listeners bind to; unset binds all interfaces.
     * @default undefined (all interfaces)
     */
    listenAddress: ipv4.optional(),
    /**
     * Enable the management plugin (HTTP API and UI).
     * @default true
     */
    management: z.boolean().default(true),
    /**
     * Management HTTP port.
     * @default 15672
     */
    managementPort: port.default(15672),
    /**
     * Enable the Prometheus metrics plugin.
     * @default true
     */
    prometheus: z.boolean().default(true),
    /**
     * Prometheus metrics port.
     * @default 15692
     */
    prometheusPort: port.default(15692),
    /**
     * Where definitions.json is mounted.
     * @default '/etc/rabbitmq/definitions.json'
     */
    definitionsPath: absolutePath.default('/etc/rabbitmq/definitions.json'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    checkQueueModeForVersion(spec.rabbitmqVersion, spec.queueMode ?? defaultQueueMode(spec.rabbitmqVersion), ctx);
    if (spec.discovery.kind === 'kubernetes') checkOddClusterSize(spec.discovery.replicas, ['discovery', 'replicas'], ctx);
    else checkOddClusterSize(spec.discovery.peers.length, ['discovery', 'peers'], ctx);
    if (spec.discovery.kind === 'classic' && new Set(spec.discovery.peers).size !== spec.discovery.peers.length) {
      ctx.addIssue({ code: 'custom', path: ['discovery', 'peers'], message: 'must not list a node twice' });
    }
    const ports = [spec.amqpPort, spec.management ? spec.managementPort : undefined, spec.prometheus ? spec.prometheusPort : undefined]
      .filter((p): p is number => p !== undefined);
    if (new Set(ports).size !== ports.length) {
      ctx.addIssue({ code: 'custom', path: ['amqpPort'], message: 'amqpPort, managementPort and prometheusPort must differ' });
    }
  })
  .transform((spec) => ({ ...spec, queueMode: spec.queueMode ?? defaultQueueMode(spec.rabbitmqVersion) }));

/** Input of renderRabbitMqConf / renderEnabledPlugins (what users write). */
export type RabbitMqConfSpecInput = z.input<typeof rabbitMqConfSpec>;
/** Validated, defaulted spec. */
export type RabbitMqConfSpec = z.output<typeof rabbitMqConfSpec>;

export const exchangeSpec = z.object({
  name: amqpName,
  /** Vhost the exchange lives in. */
  vhost: amqpName,
  /**
   * Exchange type.
   * @default 'topic'
   */
  type: z.enum(['topic', 'direct', 'fanout', 'headers']).default('topic'),
}).strict();

export const queueSpec = z.object({
  name: amqpName,
  /** Vhost the queue lives in. */
  vhost: amqpName,
}).strict();

export const bindingSpec = z.object({
  vhost: amqpName,
  /** Exchange the messages come from. */
  exchange: amqpName,
  /** Queue the messages go to. */
  queue: amqpName,
  /**
   * Routing key (a pattern for topic exchanges).
   * @default '#'
   */
  routingKey: routingKey.default('#'),
}).strict();

export const rabbitMqDefinitionsSpec = z
  .object({
    /**
     * RabbitMQ version the definitions are rendered for.
     * @default '3.13.7'
     */
    rabbitmqVersion: rabbitmqVersion.default('3.13.7'),
    /**
     * Queue replication: an `ha-all` policy per vhost, or quorum queues.
     * @default 'classic-mirrored' below RabbitMQ 4.0, 'quorum' from 4.0
     */
    queueMode: queueMode.optional(),
    /** Virtual hosts (typically one per service). */
    vhosts: z.array(amqpName).min(1, { message: 'must list at least one vhost' }),
    /**
     * Durable exchanges.
     * @default []
     */
    exchanges: z.array(exchangeSpec).default([]),
    /**
     * Durable queues.
     * @default []
     */
    queues: z.array(queueSpec).default([]),
    /**
     * Bindings from exchanges to queues.
     * @default []
     */
    bindings: z.array(bindingSpec).default([]),
  })
  .strict()
  .superRefine((spec, ctx) => {
    checkQueueModeForVersion(spec.rabbitmqVersion, spec.queueMode ?? defaultQueueMode(spec.rabbitmqVersion), ctx);
    const vhosts = new Set(spec.vhosts);
    if (vhosts.size !== spec.vhosts.length) ctx.addIssue({ code: 'custom', path: ['vhosts'], message: 'must not list a vhost twice' });
    const unknownVhost = (vhost: string, path: PropertyKey[]): void => {
      if (!vhosts.has(vhost)) ctx.addIssue({ code: 'custom', path, message: `vhost "${vhost}" is not in vhosts; add it there` });
    };
    const exchanges = new Set<string>();
    spec.exchanges.forEach((x, i) => {
      unknownVhost(x.vhost, ['exchanges', i, 'vhost']);
      const key = `${x.vhost}/${x.name}`;
      if (exchanges.has(key)) ctx.addIssue({ code: 'custom', path: ['exchanges', i], message: `exchange "${key}" is declared twice` });
      exchanges.add(key);
    });
    const queues = new Set<string>();
    spec.queues.forEach((q, i) => {
      unknownVhost(q.vhost, ['queues', i, 'vhost']);
      const key = `${q.vhost}/${q.name}`;
      if (queues.has(key)) ctx.addIssue({ code: 'custom', path: ['queues', i], message: `queue "${key}" is declared twice` });
      queues.add(key);
    });
    spec.bindings.forEach((b, i) => {
      unknownVhost(b.vhost, ['bindings', i, 'vhost']);
      if (!exchanges.has(`${b.vhost}/${b.exchange}`)) {
        ctx.addIssue({ code: 'custom', path: ['bindings', i, 'exchange'], message: `exchange "${b.exchange}" is not declared in vhost "${b.vhost}"` });
      }
      if (!queues.has(`${b.vhost}/${b.queue}`)) {
        ctx.addIssue({ code: 'custom', path: ['bindings', i, 'queue'], message: `queue "${b.queue}" is not declared in vhost "${b.vhost}"` });
      }
    });
  })
  .transform((spec) => ({ ...spec, queueMode: spec.queueMode ?? defaultQueueMode(spec.rabbitmqVersion) }));

export type RabbitMqDefinitionsSpecInput = z.input<typeof rabbitMqDefinitionsSpec>;
export type RabbitMqDefinitionsSpec = z.output<typeof rabbitMqDefinitionsSpec>;

/** A service's RabbitMQ user and what it may do in its vhost. */
export const serviceUserSpec = z.object({
  /** User name; also the name of its password file in `passwordDir`. */
  name: amqpName,
  /** Vhost the user gets permissions on. */
  vhost: amqpName,
  /**
   * Regex of resources the user may declare/delete.
   * @default '.*'
   */
  configure: z.string().default('.*'),
  /**
   * Regex of resources the user may publish to.
   * @default '.*'
   */
  write: z.string().default('.*'),
  /**
   * Regex of resources the user may consume from.
   * @default '.*'
   */
  read: z.string().default('.*'),
}).strict();

export const userBootstrapSpec = z
  .object({
    /** Users to create or update. */
    users: z.array(serviceUserSpec).min(1, { message: 'must list at least one user' }),
    /**
     * Folder holding one file per user, named after the user, containing its password (a mounted Secret).
     * @default '/etc/rabbitmq/users'
     */
    passwordDir: absolutePath.default('/etc/rabbitmq/users'),
    /**
     * rabbitmqctl to call.
     * @default 'rabbitmqctl'
     */
    rabbitmqctl: z.union([absolutePath, z.literal('rabbitmqctl')]).default('rabbitmqctl'),
    /**
     * How many times to try `rabbitmqctl await_startup` before giving up.
     * @default 60
     */
    startupAttempts: z.number().int().min(1).max(10000).default(60),
    /**
     * Seconds between two startup attempts.
     * @default 2
     */
    startupIntervalSeconds: z.number().int().min(1).max(600).default(2),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.users.forEach((u, i) => {
      if (seen.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `user "${u.name}" is listed twice` });
      seen.add(u.name);
    });
  });

export type UserBootstrapSpecInput = z.input<typeof userBootstrapSpec>;
export type UserBootstrapSpec = z.output<typeof userBootstrapSpec>;
