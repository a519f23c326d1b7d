/**
 * definitions.json: vhosts, durable exchanges and queues, bindings and policies. Never users or
 * permissions: RabbitMQ stores salted password hashes that Terraform cannot compute, so users are
 * created at start-up from mounted password files (see render-user-bootstrap.ts), and no password
 * or hash ever lands in synthesized JSON.
 */
import { parseProps } from '../util/errors';
import { coerceVersion, semver } from '../util/versions';
import { rabbitMqDefinitionsSpec, RabbitMqDefinitionsSpecInput, VHOST_DEFAULT_QUEUE_TYPE_SINCE } from './rabbitmq-spec';

/** The classic mirroring policy applied to every vhost on 3.x (the seed article's `ha-all`). */
export const HA_ALL_POLICY = Object.freeze({
  name: 'ha-all',
  pattern: '.*',
  'apply-to': 'queues',
  priority: 0,
  definition: Object.freeze({ 'ha-mode': 'all', 'ha-sync-mode': 'automatic' } as const),
} as const);

/** Code-point order: the same output on every machine, whatever its locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Renders definitions.json (2-space indent, fixed key order, trailing newline). */
export function renderRabbitMqDefinitions(input: RabbitMqDefinitionsSpecInput): string {
  const spec = parseProps(rabbitMqDefinitionsSpec, input, 'rabbitmq definitions');
  const quorum = spec.queueMode === 'quorum';
  const vhostDefaultQueueType = quorum && semver.gte(coerceVersion(spec.rabbitmqVersion), VHOST_DEFAULT_QUEUE_TYPE_SINCE);
  const byVhostThenName = <T extends { vhost: string; name: string }>(a: T, b: T): number =>
    cmp(a.vhost, b.vhost) || cmp(a.name, b.name);

  const definitions = {
    rabbit_version: spec.rabbitmqVersion,
    vhosts: [...spec.vhosts].sort(cmp).map((name) => ({
      name,
      metadata: {
        description: `vhost ${name}`,
        tags: [] as string[],
        // Queues a client declares without x-queue-type become quorum queues too.
        ...(vhostDefaultQueueType ? { default_queue_type: 'quorum' } : {}),
      },
    })),
    policies: quorum
      ? []
      : [...spec.vhosts].sort(cmp).map((vhost) => ({
        vhost,
        name: HA_ALL_POLICY.name,
        pattern: HA_ALL_POLICY.pattern,
        'apply-to': HA_ALL_POLICY['apply-to'],
        priority: HA_ALL_POLICY.priority,
        definition: { ...HA_ALL_POLICY.definition },
      })),
    exchanges: [...spec.exchanges].sort(byVhostThenName).map((x) => ({
      name: x.name,
      vhost: x.vhost,
      type: x.type,
      durable: true,
      auto_delete: false,
      internal: false,
      arguments: {},
    })),
    queues: [...spec.queues].sort(byVhostThenName).map((q) => ({
      name: q.name,
      vhost: q.vhost,
      durable: true,
      auto_delete: false,
      arguments: quorum ? { 'x-queue-type': 'quorum' } : {},
    })),
    bindings: [...spec.bindings]
      .sort((a, b) => cmp(a.vhost, b.vhost) || cmp(a.exchange, b.exchange) || cmp(a.queue, b.queue) ||
        cmp(a.routingKey, b.routingKey))
      .map((b) => ({
        source: b.exchange,
        vhost: b.vhost,
        destination: b.queue,
        destination_type: 'queue',
        routing_key: b.routingKey,
        arguments: {},
      })),
  };
  return jsonOneEntryPerLine(definitions);
}

/**
 * JSON with each top-level key on its own line and each element of a top-level list on its own
 * line, compact within: a plan's diff shows the queue or binding that changed, and a broker for
 * thousands of services stays far below the 1 MiB a Kubernetes ConfigMap holds (indented JSON
 * doubled it: ~380 bytes per service).
 */
function jsonOneEntryPerLine(value: Record<string, unknown>): string {
  const entries = Object.entries(value).map(([key, v]) => {
    const inner = Array.isArray(v) && v.length > 0
      ? `[\n${v.map((e) => `    ${JSON.stringify(e)}`).join(',\n')}\n  ]`
      : JSON.stringify(v);
    return `  ${JSON.stringify(key)}: ${inner}`;
  });
  return `{\n${entries.join(',\n')}\n}\n`;
}
