/**
 * Validated inputs of the pure RabbitMQ renderers (rabbitmq.conf, enabled_plugins,
 * definitions.json, the user bootstrap script). Types are derived from the zod schemas so the two
 * cannot drift. The version guard lives here: what a RabbitMQ version cannot run is refused before
 * anything is rendered.
 */
import { z } from 'zod';
import { absolutePath, boundedString, dnsLabel, ipv4, memorySize, memoryToMi, port } from '../util/schemas';
import { STRICT_VERSION_PATTERN, coerceVersion, semver, strictVersion } from '../util/versions';

/** RabbitMQ 4.0 removed classic queue mirroring (ha-* policy keys are rejected or ignored). */
export const MIRRORING_REMOVED_IN = '4.0.0';
/** Virtual host metadata `default_queue_type` (definitions.json, rabbitmqctl add_vhost) exists from 3.10. */
export const VHOST_DEFAULT_QUEUE_TYPE_SINCE = '3.10.0';
/** The node-wide `default_queue_type` key in rabbitmq.conf arrived in 3.13.3 (rabbitmq-server#11163); older nodes refuse to boot with it. */
export const CONF_DEFAULT_QUEUE_TYPE_SINCE = '3.13.3';
/** Quorum queues arrived in 3.8; older versions are not supported. */
export const MINIMUM_RABBITMQ_VERSION = '3.8.0';

/**
 * Version of RabbitMQ the files are rendered for, e.g. "3.13.7" or "4.0": digits and dots only
 * (it is written into rabbitmq.conf and definitions.json, so nothing else may ride along).
 */
export const rabbitmqVersion = strictVersion('a RabbitMQ version', '"3.13.7" or "4.0"')
  .refine((v) => semver.gte(coerceVersion(v), MINIMUM_RABBITMQ_VERSION), {
    message: `must be RabbitMQ ${MINIMUM_RABBITMQ_VERSION} or later (quorum queues and peer discovery are required)`,
  });

/**
 * A node needs this much memory to boot: a 3.10.8 node with the management and Prometheus plugins
 * has a resident size of about 152 MiB before any client connects. A memory limit below it means a
 * node that blocks every publisher from its first second.
 */
export const MIN_RABBITMQ_MEMORY_LIMIT = '512Mi';
/** Above any machine a node runs on; larger limits are typos (and become the disk free limit). */
export const MAX_RABBITMQ_MEMORY_LIMIT = '1Ti';
/**
 * The memory high watermark must leave room above what a booted node uses (about 152 MiB, see
 * MIN_RABBITMQ_MEMORY_LIMIT); below this the node raises its memory alarm at boot and never clears it.
 */
export const MIN_MEMORY_HIGH_WATERMARK_MI = 200;
/** RabbitMQ's own default disk free limit (50MB): a limit below it lets a busy node fill its disk. */
export const MIN_DISK_FREE_LIMIT = '50Mi';

/** The memory limit of a RabbitMQ container: 512Mi to 1Ti. */
export const rabbitmqMemoryLimit = memorySize({
  minMi: memoryToMi(MIN_RABBITMQ_MEMORY_LIMIT),
  maxMi: memoryToMi(MAX_RABBITMQ_MEMORY_LIMIT),
  why: {
    min: 'a booted node uses about 150 MiB; with less the memory alarm blocks publishers from the start',
    max: 'the disk free limit follows the memory limit, so the volume would have to be larger still',
  },
});

/**
 * Names of vhosts, users, queues, exchanges: letters, digits, ".", "_" and "-", starting with a letter
 * or digit (safe in JSON, in shell arguments where a leading "-" would read as an option, and as file names).
 */
export const amqpName = boundedString(255)
  .min(1, { message: 'must not be empty' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'must contain only letters, digits, ".", "_" and "-", starting with a letter or digit' })
  .refine((n) => !n.startsWith('amq.'), { message: 'must not start with "amq." (reserved by RabbitMQ)' });

/** Topic routing keys / binding patterns: words of letters, digits, "_" and "-" separated by "."; "*" and "#" as whole words. */
export const routingKey = boundedString(255)
  .regex(/^([A-Za-z0-9_-]+|\*|#)(\.([A-Za-z0-9_-]+|\*|#))*$/, {
    message: 'must be "."-separated words of letters, digits, "_" and "-" (or the wildcards "*" and "#")',
  });

/** An Erlang node name as classic peer discovery lists it: `rabbit@host`. */
export const erlangNodeName = boundedString(255)
  .regex(/^[A-Za-z0-9_-]+@[A-Za-z0-9](?:[.-]*[A-Za-z0-9])*$/, {
    message: 'must be an Erlang node name such as "rabbit@rabbitmq-0.rabbitmq-headless.platform.svc.cluster.local"',
  });

/** A DNS name written into rabbitmq.conf: lower-case labels separated by "." (linear to check). */
const confDnsName = (message: string) => boundedString(253)
  .regex(/^[a-z0-9](?:-*[a-z0-9])*(?:\.[a-z0-9](?:-*[a-z0-9])*)*$/, { message });

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
  clusterDomain: confDnsName('must be a DNS domain such as "cluster.local"').default('cluster.local'),
  /**
   * Kubernetes API host the plugin queries for endpoints.
   * @default 'kubernetes.default.svc'
   */
  apiHost: confDnsName('must be a host name such as "kubernetes.default.svc"').default('kubernetes.default.svc'),
  /**
   * Number of nodes (StatefulSet replicas). Must be odd: see `oddClusterSize`.
   * @default 3
   */
  replicas: z.number().int({ message: 'must be a whole number of nodes' }).min(1, { message: 'must be at least 1' })
    .max(99, { message: 'must be at most 99' }).default(3),
}).strict();

/** A fixed list of peers (classic_config): every node of the cluster, seed node first. */
export const classicDiscovery = z.object({
  kind: z.literal('classic'),
  /** Erlang node names of every cluster member, e.g. `rabbit@rabbit-0.example`. Must be an odd count. */
  peers: z.array(erlangNodeName).min(1, { message: 'must list at least one node' }).max(99, { message: 'must list at most 99 nodes' }),
}).strict();

export const discovery = z.discriminatedUnion('kind', [kubernetesDiscovery, classicDiscovery], {
  error: (issue) => (issue.code === 'invalid_union' ? 'must be { kind: "kubernetes", ... } or { kind: "classic", peers: [...] }' : undefined),
});
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
  const v = coerceVersion(version);
  if (mode === 'classic-mirrored' && semver.gte(v, MIRRORING_REMOVED_IN)) {
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
  return STRICT_VERSION_PATTERN.test(version) && semver.gte(coerceVersion(version), MIRRORING_REMOVED_IN) ? 'quorum' : 'classic-mirrored';
}

/** TLS for AMQP clients (AMQPS): the files as mounted in the container. */
export const rabbitMqTlsSpec = z.object({
  /** Server certificate (PEM). */
  certFile: absolutePath,
  /** Its private key (PEM). */
  keyFile: absolutePath,
  /** CA certificate(s) (PEM) of the chain; peers' certificates are verified against it. */
  caFile: absolutePath,
  /**
   * AMQPS port.
   * @default 5671
   */
  amqpsPort: port.default(5671),
  /**
   * The plaintext AMQP listener: `'off'` (AMQPS only), or `'loopback'` (127.0.0.1 only, for tools
   * inside the node's own container). RabbitMQ's CLI tools do not use it (they speak Erlang
   * distribution), so it stays off unless something local needs it.
   * @default 'off'
   */
  plaintextListener: z.enum(['off', 'loopback']).default('off'),
}).strict();
export type RabbitMqTlsSpecInput = z.input<typeof rabbitMqTlsSpec>;

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
     * Memory limit of the container running the node; the watermarks derive from it. 512Mi to 1Ti.
     * @default '2Gi'
     */
    memoryLimit: rabbitmqMemoryLimit.default('2Gi'),
    /**
     * Fraction of `memoryLimit` at which the node blocks publishers (rendered as an absolute value, see
     * renderRabbitMqConf): 0.1 to 0.9, and at least 200 MiB of the limit.
     * @default 0.4
     */
    memoryHighWatermark: z.number({ message: 'must be a fraction such as 0.4' })
      .min(0.1, { message: 'must be at least 0.1: below it the node blocks publishers long before memory is short' })
      .max(0.9, { message: 'must be at most 0.9: the Erlang VM needs headroom above the watermark' }).default(0.4),
    /**
     * Free disk space below which the node blocks publishers: 50Mi (RabbitMQ's own default) to 64Ti.
     * @default the memory limit, at least 1Gi (see renderRabbitMqConf)
     */
    diskFreeLimit: memorySize({ minMi: memoryToMi(MIN_DISK_FREE_LIMIT), maxMi: 64 * 1024 * 1024, why: { min: 'RabbitMQ\'s own default; less lets a busy node fill its disk' } }).optional(),
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
    /**
     * Serve AMQP over TLS (AMQPS) and turn the plaintext listener off (or bind it to loopback).
     * @default - plaintext AMQP only
     */
    tls: rabbitMqTlsSpec.optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    checkQueueModeForVersion(spec.rabbitmqVersion, spec.queueMode ?? defaultQueueMode(spec.rabbitmqVersion), ctx);
    const watermarkMi = Math.floor(memoryToMi(spec.memoryLimit) * spec.memoryHighWatermark);
    if (watermarkMi < MIN_MEMORY_HIGH_WATERMARK_MI) {
      ctx.addIssue({
        code: 'custom',
        path: ['memoryHighWatermark'],
        message: `gives a memory high watermark of ${watermarkMi} MiB (${spec.memoryHighWatermark} of memoryLimit ${spec.memoryLimit}); ` +
          `a booted node already uses about 150 MiB, so it needs at least ${MIN_MEMORY_HIGH_WATERMARK_MI} MiB: raise memoryHighWatermark or memoryLimit`,
      });
    }
    if (spec.discovery.kind === 'kubernetes') checkOddClusterSize(spec.discovery.replicas, ['discovery', 'replicas'], ctx);
    else checkOddClusterSize(spec.discovery.peers.length, ['discovery', 'peers'], ctx);
    if (spec.discovery.kind === 'classic' && new Set(spec.discovery.peers).size !== spec.discovery.peers.length) {
      ctx.addIssue({ code: 'custom', path: ['discovery', 'peers'], message: 'must not list a node twice' });
    }
    const ports = [spec.amqpPort, spec.management ? spec.managementPort : undefined, spec.prometheus ? spec.prometheusPort : undefined, spec.tls?.amqpsPort]
      .filter((p): p is number => p !== undefined);
    if (new Set(ports).size !== ports.length) {
      ctx.addIssue({ code: 'custom', path: ['amqpPort'], message: 'amqpPort, managementPort, prometheusPort and tls.amqpsPort must differ' });
    }
  }, { when: (payload) => payload.issues.length === 0 })
  .transform((spec) => ({ ...spec, queueMode: spec.queueMode ?? defaultQueueMode(spec.rabbitmqVersion) }));

/** Erlang distribution over TLS (inet_tls_dist): the files as mounted in the container. */
export const interNodeTlsSpec = z.object({
  certFile: absolutePath,
  keyFile: absolutePath,
  caFile: absolutePath,
}).strict();
export type InterNodeTlsSpecInput = z.input<typeof interNodeTlsSpec>;

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
  }, { when: (payload) => payload.issues.length === 0 })
  .transform((spec) => ({ ...spec, queueMode: spec.queueMode ?? defaultQueueMode(spec.rabbitmqVersion) }));

export type RabbitMqDefinitionsSpecInput = z.input<typeof rabbitMqDefinitionsSpec>;
export type RabbitMqDefinitionsSpec = z.output<typeof rabbitMqDefinitionsSpec>;

/** Longest permission regex accepted (PCRE also limits group nesting, which this keeps far away). */
export const MAX_PERMISSION_REGEX_LENGTH = 255;
/**
 * RabbitMQ's PCRE refuses a pattern whose compiled form passes 64 KB, and counted repetitions
 * ("(a{100}){100}") copy what they repeat. Patterns whose estimated compiled size passes a quarter
 * of that are refused.
 */
const MAX_PERMISSION_REGEX_SIZE = 16384;

/**
 * A generous estimate of the compiled size of a pattern JavaScript has already parsed (so its
 * groups and classes are balanced): literals 2, a character class 33 (its 32-byte bitmap), a group
 * 6 plus its alternatives, each item times the most its quantifier repeats it.
 */
function compiledSizeEstimate(pattern: string): number {
  let i = 0;
  const alternation = (): number => {
    let total = sequence();
    while (pattern[i] === '|') {
      i++;
      total += 3 + sequence();
    }
    return total;
  };
  const sequence = (): number => {
    let total = 0;
    while (i < pattern.length && pattern[i] !== '|' && pattern[i] !== ')') total += atom() * quantifier();
    return total;
  };
  const atom = (): number => {
    const c = pattern[i];
    if (c === '(') {
      i++;
      if (pattern[i] === '?') i += 2;
      const inner = alternation();
      i++;
      return inner + 6;
    }
    if (c === '[') {
      i++;
      if (pattern[i] === '^') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
      return 33;
    }
    i += c === '\\' ? 2 : 1;
    return 2;
  };
  const quantifier = (): number => {
    const c = pattern[i];
    let times = 1;
    if (c === '*' || c === '+' || c === '?') {
      i++;
      times = c === '?' ? 1 : 2;
    } else if (c === '{') {
      const m = /^\{([0-9]+)(?:,([0-9]*))?\}/.exec(pattern.slice(i));
      if (m) {
        i += m[0].length;
        times = Math.max(1, m[2] === undefined ? Number(m[1]) : m[2] === '' ? Number(m[1]) + 1 : Number(m[2]));
      }
    }
    if (times > 1 || c === '?') {
      if (pattern[i] === '?') i++;
    }
    return times;
  };
  return alternation();
}

/**
 * Why RabbitMQ would refuse `pattern` as a permission regex, or undefined. RabbitMQ compiles it with
 * Erlang's `re` (PCRE) in `set_permissions`, and a pattern it refuses aborts the user bootstrap, so
 * the users after it are never created. Accepted: printable ASCII that JavaScript compiles in
 * unicode mode (which refuses what is ambiguous, such as a lone "{" or "]"), without the constructs
 * that PCRE reads differently or not at all.
 */
export function permissionRegexProblem(pattern: string): string | undefined {
  // Every render of the definitions checks every user's patterns again: judged once each.
  if (judgedPatterns.has(pattern)) return judgedPatterns.get(pattern);
  const problem = judgePermissionRegex(pattern);
  if (judgedPatterns.size >= MAX_JUDGED_PATTERNS) judgedPatterns.clear();
  judgedPatterns.set(pattern, problem);
  return problem;
}

const judgedPatterns = new Map<string, string | undefined>();
const MAX_JUDGED_PATTERNS = 10_000;

function judgePermissionRegex(pattern: string): string | undefined {
  if (!/^[\x20-\x7e]*$/.test(pattern)) return 'must be printable ASCII (no control characters, line breaks or non-ASCII letters)';
  if (pattern.startsWith('-')) return 'must not start with "-" (rabbitmqctl would read it as an option); write "[-]" instead';
  try {
    new RegExp(pattern, 'u');
  } catch (e) {
    return `is not a valid regular expression (${(e as Error).message.replace(/^Invalid regular expression: /, '')})`;
  }
  // Escapes and groups PCRE does not read as JavaScript does.
  let inClass = false;
  let classStart = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const next = pattern[i + 1] ?? '';
    if (c === '\\') {
      if ('uUpPkLlNQE'.includes(next)) return `must not use "\\${next}" (RabbitMQ's regex engine, PCRE, does not accept it)`;
      i++;
      classStart = false;
      continue;
    }
    if (inClass) {
      if (classStart && (c === ']' || (c === '^' && next === ']'))) return 'must not use "[]" or "[^]" (PCRE reads them differently)';
      classStart = c === '^' && pattern[i - 1] === '[';
      if (c === '[' && ':.='.includes(next)) return `must not use "[${next}" inside a character class (PCRE reads it as a POSIX class)`;
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      classStart = true;
    } else if (c === '(' && next === '?' && pattern[i + 2] === '<') {
      return 'must not use lookbehind or named groups ("(?<"); PCRE accepts only some of them';
    }
  }
  if (compiledSizeEstimate(pattern) > MAX_PERMISSION_REGEX_SIZE) {
    return 'repeats too much: with its counted repetitions ({n,m}) it would compile too large for RabbitMQ\'s regex engine (PCRE); use * or + instead';
  }
  return undefined;
}

/** A permission regex RabbitMQ accepts (see permissionRegexProblem); "" grants nothing. */
export const permissionRegex = boundedString(MAX_PERMISSION_REGEX_LENGTH).check((ctx) => {
  const problem = permissionRegexProblem(ctx.value);
  if (problem) ctx.issues.push({ code: 'custom', input: ctx.value, message: problem });
});

/** A service's RabbitMQ user and what it may do in its vhost. */
export const serviceUserSpec = z.object({
  /** User name; also the name of its password file in `passwordDir`. */
  name: amqpName,
  /** Vhost the user gets permissions on. */
  vhost: amqpName,
  /**
   * Regex of resources the user may declare/delete ("" for none). PCRE as RabbitMQ compiles it:
   * printable ASCII, at most 255 characters, no lookbehind, named groups or "\\u" escapes.
   * @default '.*'
   */
  configure: permissionRegex.default('.*'),
  /**
   * Regex of resources the user may publish to ("" for none); rules as for `configure`.
   * @default '.*'
   */
  write: permissionRegex.default('.*'),
  /**
   * Regex of resources the user may consume from ("" for none); rules as for `configure`.
   * @default '.*'
   */
  read: permissionRegex.default('.*'),
  /**
   * Topic permissions on one topic exchange (rabbitmqctl set_topic_permissions): which routing keys
   * the user may publish with (`write`) and, for MQTT/STOMP consumers, bind with (`read`). Regexes
   * as for `configure`. RabbitMQ allows every routing key to a user without topic permissions.
   * @default undefined (no topic permissions)
   */
  topic: z.object({
    /** The topic exchange the routing keys are checked on. */
    exchange: amqpName,
    /** Regex of routing keys the user may publish with ("" or "^$" for none). */
    write: permissionRegex,
    /**
     * Regex of routing keys the user may consume with (checked for MQTT and STOMP subscriptions).
     * @default '^$'
     */
    read: permissionRegex.default('^$'),
  }).strict().optional(),
}).strict();

/** A broker for a few thousand services; the script runs a few rabbitmqctl calls per user. */
const MAX_BOOTSTRAP_USERS = 10_000;

export const userBootstrapSpec = z
  .object({
    /** Users to create or update. */
    users: z.array(serviceUserSpec).min(1, { message: 'must list at least one user' }).max(MAX_BOOTSTRAP_USERS, { message: `must list at most ${MAX_BOOTSTRAP_USERS} users` }),
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
    startupAttempts: z.number().int({ message: 'must be a whole number' }).min(1, { message: 'must be at least 1' })
      .max(10000, { message: 'must be at most 10000' }).default(60),
    /**
     * Seconds between two startup attempts.
     * @default 2
     */
    startupIntervalSeconds: z.number().int({ message: 'must be a whole number of seconds' }).min(1, { message: 'must be at least 1' })
      .max(600, { message: 'must be at most 600' }).default(2),
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

/** The users a reconcile loop applies: as in the bootstrap script, but none is allowed. */
export const serviceUsersFileSpec = z.object({
  /** Users to create or update (none is fine: the file is read again when it changes). */
  users: z.array(serviceUserSpec).max(MAX_BOOTSTRAP_USERS, { message: `must list at most ${MAX_BOOTSTRAP_USERS} users` }),
}).strict().superRefine((spec, ctx) => {
  const seen = new Set<string>();
  spec.users.forEach((u, i) => {
    if (seen.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `user "${u.name}" is listed twice` });
    seen.add(u.name);
  });
});

export type ServiceUsersFileSpecInput = z.input<typeof serviceUsersFileSpec>;

/** The loop that keeps a node's users, permissions and topology in line with mounted files. */
export const userReconcileSpec = z.object({
  /** The users file (renderServiceUsersFile), sourced when it changes. */
  usersFile: absolutePath,
  /**
   * definitions.json imported (rabbitmqctl import_definitions) when it changes; unset imports nothing.
   * @default undefined
   */
  definitionsFile: absolutePath.optional(),
  /**
   * Folder holding one password file per user (a mounted Secret).
   * @default '/etc/rabbitmq/users'
   */
  passwordDir: absolutePath.default('/etc/rabbitmq/users'),
  /**
   * File the loop creates once everything applied and removes when applying has failed for
   * `failureGraceSeconds`: the readiness check tests it.
   * @default '/tmp/rabbitmq-bootstrap.ready'
   */
  readyFile: absolutePath.default('/tmp/rabbitmq-bootstrap.ready'),
  /**
   * rabbitmqctl to call.
   * @default 'rabbitmqctl'
   */
  rabbitmqctl: z.union([absolutePath, z.literal('rabbitmqctl')]).default('rabbitmqctl'),
  /**
   * Seconds between two looks at the files (and between two attempts while applying fails).
   * @default 5
   */
  intervalSeconds: z.number().int({ message: 'must be a whole number of seconds' }).min(1, { message: 'must be at least 1' })
    .max(600, { message: 'must be at most 600' }).default(5),
  /**
   * Seconds a node that was ready stays ready while applying fails: the kubelet may refresh the
   * files before the Secret with a new service's password.
   * @default 180
   */
  failureGraceSeconds: z.number().int({ message: 'must be a whole number of seconds' }).min(0, { message: 'must be at least 0' })
    .max(3600, { message: 'must be at most 3600' }).default(180),
}).strict();

export type UserReconcileSpecInput = z.input<typeof userReconcileSpec>;
