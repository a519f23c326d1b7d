/**
 * Internal validation of RabbitMqCluster's props (documented in props.ts, bound to these schemas at
 * compile time). Parsing returns the derived values too (the RabbitMQ version, the image's user,
 * each service's queue names), so nothing downstream parses or asserts them again.
 */
import { z } from 'zod';
import type { SchemaMatches } from '../util/schema-binding';
import { cpuQuantity, dnsLabel, imageRef } from '../util/schemas';
import { imageTagOf, imageTagVersion } from '../util/versions';
import { ServerTlsSchema } from '../workload/server-tls';
import type { RabbitMqClusterOptions, ServiceUserOptions } from './props';
import { amqpName, queueMode, rabbitMqConfSpec, rabbitmqMemoryLimit, routingKey } from './rabbitmq-spec';
import { diskFreeLimitMi } from './render-rabbitmq-conf';

/** The official image the cluster runs by default (Alpine-based; its rabbitmq user is uid 100, gid 101). */
export const DEFAULT_RABBITMQ_IMAGE = 'rabbitmq:3.13.7-management-alpine';

/** Users RabbitMQ or this construct reserve. */
const RESERVED_USERS = new Set(['guest']);

/**
 * Container user of the official images: the Alpine variants create rabbitmq as uid 100 / gid 101,
 * the Ubuntu ones as 999 / 999.
 */
export function rabbitmqUserOfImage(image: string): { uid: number; gid: number } {
  return (imageTagOf(image) ?? '').includes('alpine') ? { uid: 100, gid: 101 } : { uid: 999, gid: 999 };
}

/** The RabbitMQ version an image tag names (`rabbitmq:3.13.7-management` -> "3.13.7"), or undefined. */
export function rabbitmqVersionOfImage(image: string): string | undefined {
  const v = imageTagVersion(image);
  return v ? `${v.major}.${v.minor}.${v.patch}` : undefined;
}

/** The fields of RabbitMqClusterOptions (docs and defaults: props.ts). */
const RabbitMqClusterFields = z.object({
  name: dnsLabel.max(30, { message: 'must be at most 30 characters (room for "-erlang-cookie" and replica suffixes)' }).default('rabbitmq'),
  replicas: z.number().int({ message: 'must be a whole number of nodes' }).min(1, { message: 'must be at least 1' }).max(99).default(3),
  image: imageRef.default(DEFAULT_RABBITMQ_IMAGE),
  queueMode: queueMode.default('classic-mirrored'),
  memoryLimit: rabbitmqMemoryLimit.default('2Gi'),
  cpu: cpuQuantity.default('500m'),
  storageGi: z.number().int({ message: 'must be a whole number of GiB' }).min(1, { message: 'must be at least 1' }).max(65536).default(20),
  vhost: amqpName.default('platform'),
  exchange: amqpName.default('events'),
  retainOnDelete: z.boolean().default(true),
  tls: ServerTlsSchema.optional(),
  interNodeTls: z.boolean().default(true),
  shutdownGracePeriodSeconds: z.number().int({ message: 'must be a whole number of seconds' })
    .min(120, { message: 'must be at least 120: the node needs 60 s for its own stop and the waits before it the rest' })
    .max(3600, { message: 'must be at most 3600' }).default(600),
}).strict();

type RabbitMqClusterFields = z.output<typeof RabbitMqClusterFields>;

/** The disk alarm goes off when free space on the volume falls below the disk free limit. */
function checkStorageHoldsDiskLimit(o: RabbitMqClusterFields, ctx: z.RefinementCtx): void {
  const diskLimitMi = diskFreeLimitMi(o.memoryLimit);
  const minStorageGi = Math.ceil(diskLimitMi / 1024) + 1;
  if (o.storageGi < minStorageGi) {
    ctx.addIssue({
      code: 'custom', path: ['storageGi'],
      message: `must be at least ${minStorageGi}: the node blocks publishers while the volume has less than ${diskLimitMi} MiB free ` +
        `(the disk free limit follows memoryLimit ${o.memoryLimit}, at least 1Gi), and messages need room above that`,
    });
  }
}

/**
 * The renderers' own guards (version floor, classic mirroring removed in 4.0, odd cluster size,
 * memory), reported against these props.
 */
function checkRendererGuards(o: RabbitMqClusterFields, version: string, ctx: z.RefinementCtx): void {
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
}

/** Validated options of a RabbitMqCluster, defaults applied, with what derives from them. */
export interface RabbitMqClusterSettings extends RabbitMqClusterFields {
  /** RabbitMQ version, from the image tag ("3.13.7"). */
  readonly version: string;
  /** The image's rabbitmq user and group. */
  readonly user: { readonly uid: number; readonly gid: number };
}

export const RabbitMqClusterOptionsSchema = RabbitMqClusterFields.transform((o, ctx): RabbitMqClusterSettings => {
  checkStorageHoldsDiskLimit(o, ctx);
  const version = rabbitmqVersionOfImage(o.image);
  if (version === undefined) {
    ctx.addIssue({
      code: 'custom', path: ['image'],
      message: `"${o.image}" names no version; tag it with a RabbitMQ version such as "${DEFAULT_RABBITMQ_IMAGE}" (a digest may follow the tag)`,
    });
    return z.NEVER;
  }
  checkRendererGuards(o, version, ctx);
  return { ...o, version, user: rabbitmqUserOfImage(o.image) };
});

/** `invoices` consuming `orders.created` reads from the queue `invoices.orders.created`. */
export function queueNameOf(service: string, key: string): string {
  const words = key.split('.').map((w) => (w === '*' ? 'any' : w === '#' ? 'all' : w));
  return `${service}.${words.join('.')}`;
}

/** Validated options of one service user, with the queues its consumed keys give. */
export interface ServiceUserSettings {
  readonly service: string;
  readonly publishes: readonly string[];
  readonly consumes: readonly string[];
  /** `<service>.<key>` per consumed key, in the same order. */
  readonly queues: readonly string[];
}

export const ServiceUserOptionsSchema = z.object({
  service: dnsLabel.refine((s) => !RESERVED_USERS.has(s), { message: 'must not be "guest" (RabbitMQ\'s built-in user)' }),
  publishes: z.array(routingKey.refine((k) => !/(^|\.)[*#](\.|$)/.test(k), {
    message: 'must be a concrete routing key: "*" and "#" are wildcards for bindings, a publisher sends one key',
  })).default([]),
  consumes: z.array(routingKey).default([]),
}).strict().transform((o, ctx): ServiceUserSettings => {
  const queues = o.consumes.map((key) => queueNameOf(o.service, key));
  const seen = new Map<string, string>();
  queues.forEach((queue, i) => {
    const key = o.consumes[i];
    if (queue.length > 255) {
      ctx.addIssue({ code: 'custom', path: ['consumes', i], message: `gives the queue name "${queue.slice(0, 40)}...", longer than RabbitMQ's 255 characters; use a shorter key` });
    }
    const other = seen.get(queue);
    if (other !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['consumes', i], message: `"${key}" gives the queue "${queue}", as "${other}" does; list each key once` });
    }
    seen.set(queue, key);
  });
  return { ...o, queues };
});

// The documented interfaces and these schemas describe the same props (fails to compile otherwise).
const _clusterOptions: SchemaMatches<RabbitMqClusterOptions, typeof RabbitMqClusterOptionsSchema> = true;
const _serviceUserOptions: SchemaMatches<ServiceUserOptions, typeof ServiceUserOptionsSchema> = true;
void _clusterOptions;
void _serviceUserOptions;
