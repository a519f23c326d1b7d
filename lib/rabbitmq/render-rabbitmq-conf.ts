/**
 * rabbitmq.conf (sysctl format) and enabled_plugins, rendered from a validated spec.
 */
import { SovereignStackError, parseProps } from '../util/errors';
import { memoryToMi } from '../util/schemas';
import { coerceVersion, semver } from '../util/versions';
import {
  CONF_DEFAULT_QUEUE_TYPE_SINCE, InterNodeTlsSpecInput, interNodeTlsSpec, rabbitMqConfSpec, RabbitMqConfSpec, RabbitMqConfSpecInput,
} from './rabbitmq-spec';

/** The disk alarm never goes below this: RabbitMQ's own 50MB default lets a busy node fill its volume. */
export const DISK_FREE_FLOOR_MI = 1024;

/**
 * The memory high watermark in MiB: `memoryHighWatermark` (default 40 %) of the container limit.
 *
 * Rendered as `vm_memory_high_watermark.absolute` rather than `.relative`: a relative value is applied
 * to the total memory the node detects, and on 3.x inside a container that can be the host's RAM, not
 * the cgroup limit, so the node would only block publishers after the kernel OOM-kills it.
 */
export function memoryHighWatermarkMi(memoryLimit: string, fraction: number): number {
  return Math.floor(memoryToMi(memoryLimit) * fraction);
}

/**
 * The disk free limit in MiB: the explicit `diskFreeLimit`, or the memory limit with a 1 GiB floor.
 * RabbitMQ's production checklist asks for at least as much free disk as memory (`mem_relative 1.0`)
 * so a node can page its whole memory out; like the watermark it is computed against the container
 * limit, not the detected host RAM.
 */
export function diskFreeLimitMi(memoryLimit: string, diskFreeLimit?: string): number {
  if (diskFreeLimit) return Math.floor(memoryToMi(diskFreeLimit));
  return Math.max(DISK_FREE_FLOOR_MI, Math.floor(memoryToMi(memoryLimit)));
}

/** Renders rabbitmq.conf. Throws a SovereignStackError naming every bad prop. */
export function renderRabbitMqConf(input: RabbitMqConfSpecInput): string {
  return rabbitMqConfOf(parseProps(rabbitMqConfSpec, input, 'rabbitmq'));
}

/** Renders enabled_plugins (an Erlang term): the discovery plugin when on Kubernetes, Prometheus, management. */
export function renderEnabledPlugins(input: RabbitMqConfSpecInput): string {
  return enabledPluginsOf(parseProps(rabbitMqConfSpec, input, 'rabbitmq'));
}

/** rabbitmq.conf of a spec validated already (renderRabbitMqConf validates, then calls this). */
export function rabbitMqConfOf(spec: RabbitMqConfSpec): string {
  const sections = [
    [`# rendered by sovereign-stack for RabbitMQ ${spec.rabbitmqVersion}; do not edit`],
    ['## Listeners', ...listenerLines(spec)],
    ['## Access: definitions create no users, so there is no guest; should one appear, it may only log in from localhost',
      kv('loopback_users.guest', true), kv('load_definitions', spec.definitionsPath)],
    ['## Cluster formation', ...clusterFormationLines(spec.discovery),
      // A minority side stops instead of diverging; it rejoins when the partition heals.
      kv('cluster_partition_handling', 'pause_minority')],
    [`## Resource alarms (container memory limit ${spec.memoryLimit})`,
      kv('vm_memory_high_watermark.absolute', `${memoryHighWatermarkMi(spec.memoryLimit, spec.memoryHighWatermark)}MiB`),
      kv('disk_free_limit.absolute', `${diskFreeLimitMi(spec.memoryLimit, spec.diskFreeLimit)}MiB`)],
  ];
  if (spec.queueMode === 'quorum' && semver.gte(coerceVersion(spec.rabbitmqVersion), CONF_DEFAULT_QUEUE_TYPE_SINCE)) {
    sections.push(['## Queues declared without x-queue-type become quorum queues (vhost metadata says the same)', kv('default_queue_type', 'quorum')]);
  }
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

/** enabled_plugins of a spec validated already. */
export function enabledPluginsOf(spec: RabbitMqConfSpec): string {
  const plugins: string[] = [];
  if (spec.discovery.kind === 'kubernetes') plugins.push('rabbitmq_peer_discovery_k8s');
  if (spec.prometheus) plugins.push('rabbitmq_prometheus');
  if (spec.management) plugins.push('rabbitmq_management');
  return `[${plugins.join(',')}].\n`;
}

const kv = (key: string, value: string | number | boolean): string => `${key} = ${value}`;

/** AMQP (or AMQPS only, with `tls`), management and Prometheus listeners. */
function listenerLines(spec: RabbitMqConfSpec): string[] {
  const lines: string[] = [];
  const tls = spec.tls;
  if (!tls) {
    lines.push(spec.listenAddress ? kv('listeners.tcp.1', `${spec.listenAddress}:${spec.amqpPort}`) : kv('listeners.tcp.default', spec.amqpPort));
  } else {
    // AMQPS only: a client that does not speak TLS finds no listener at all.
    lines.push(tls.plaintextListener === 'loopback' ? kv('listeners.tcp.1', `127.0.0.1:${spec.amqpPort}`) : kv('listeners.tcp', 'none'));
    lines.push(spec.listenAddress ? kv('listeners.ssl.1', `${spec.listenAddress}:${tls.amqpsPort}`) : kv('listeners.ssl.default', tls.amqpsPort));
    lines.push(
      kv('ssl_options.cacertfile', tls.caFile),
      kv('ssl_options.certfile', tls.certFile),
      kv('ssl_options.keyfile', tls.keyFile),
      // Clients authenticate with their password (over TLS); they present no certificate.
      kv('ssl_options.verify', 'verify_none'),
      kv('ssl_options.fail_if_no_peer_cert', false),
      kv('ssl_options.versions.1', 'tlsv1.3'),
      kv('ssl_options.versions.2', 'tlsv1.2'),
    );
  }
  if (spec.management) {
    lines.push(kv('management.tcp.port', spec.managementPort));
    if (spec.listenAddress) lines.push(kv('management.tcp.ip', spec.listenAddress));
  }
  if (spec.prometheus) {
    lines.push(kv('prometheus.tcp.port', spec.prometheusPort));
    if (spec.listenAddress) lines.push(kv('prometheus.tcp.ip', spec.listenAddress));
  }
  return lines;
}

/** The Kubernetes plugin against the headless Service, or the fixed peer list. */
function clusterFormationLines(discovery: RabbitMqConfSpec['discovery']): string[] {
  if (discovery.kind === 'kubernetes') {
    return [
      kv('cluster_formation.peer_discovery_backend', 'rabbit_peer_discovery_k8s'),
      kv('cluster_formation.k8s.host', discovery.apiHost),
      kv('cluster_formation.k8s.address_type', 'hostname'),
      kv('cluster_formation.k8s.service_name', discovery.headlessServiceName),
      kv('cluster_formation.k8s.hostname_suffix', `.${discovery.headlessServiceName}.${discovery.namespace}.svc.${discovery.clusterDomain}`),
    ];
  }
  return [
    kv('cluster_formation.peer_discovery_backend', 'classic_config'),
    ...discovery.peers.map((peer, i) => kv(`cluster_formation.classic_config.nodes.${i + 1}`, peer)),
  ];
}

/** An Erlang string literal: the schema allows no quote or backslash in a path, but escape anyway. */
const erlString = (text: string): string => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * The `-ssl_dist_optfile` of Erlang distribution over TLS (inet_tls_dist): inter-node traffic and
 * every CLI tool (rabbitmqctl, rabbitmq-diagnostics, probes) then speak TLS on the distribution port.
 * Both sides present the node certificate and verify the other's against the CA; a client also
 * checks the server's host name (the host part of the node name) against the certificate.
 */
export function renderInterNodeTlsConfig(input: InterNodeTlsSpecInput): string {
  const t = parseProps(interNodeTlsSpec, input, 'interNodeTls');
  const files = [`{cacertfile, ${erlString(t.caFile)}}`, `{certfile, ${erlString(t.certFile)}}`, `{keyfile, ${erlString(t.keyFile)}}`];
  const side = (name: string, opts: string[]) => `  {${name}, [\n${[...files, ...opts].map((o) => `    ${o}`).join(',\n')}\n  ]}`;
  return [
    '%% rendered by sovereign-stack: Erlang distribution over TLS (inet_tls_dist); do not edit',
    '[',
    `${side('server', ['{verify, verify_peer}', '{fail_if_no_peer_cert, true}', "{versions, ['tlsv1.3', 'tlsv1.2']}"])},`,
    side('client', ['{verify, verify_peer}', "{versions, ['tlsv1.3', 'tlsv1.2']}"]),
    '].',
    '',
  ].join('\n');
}

/** The Erlang VM arguments that switch distribution (server and CLI tools alike) to TLS. */
export function interNodeTlsErlArgs(optFile: string): string {
  return `-proto_dist inet_tls -ssl_dist_optfile ${optFile}`;
}

/** What rabbitmq-env.conf needs: how the node's stable host name ends, and the TLS distribution options. */
export interface RabbitMqEnvFileSpec {
  /**
   * What follows the replica's own host name (`hostname`) in its stable host name:
   * `.rabbitmq-headless.<ns>.svc.cluster.local` on Kubernetes, `''` on Docker.
   */
  readonly hostSuffix: string;
  /**
   * The `-ssl_dist_optfile` (renderInterNodeTlsConfig) when distribution runs over TLS.
   * @default - plain Erlang distribution
   */
  readonly interNodeTlsOptFile?: string;
}

/**
 * rabbitmq-env.conf (sourced by a shell): the node's stable name, `rabbit@<host>` where host is
 * the replica's stable host name (`rabbitmq-0.rabbitmq-headless.<ns>.svc.cluster.local` on
 * Kubernetes, `rabbitmq-0` on Docker), so the name, and with it the node's data directory,
 * survives restarts and rescheduling. Long names when the host name has dots.
 */
export function renderRabbitMqEnvFile(spec: RabbitMqEnvFileSpec): string {
  const suffix = spec.hostSuffix;
  if (!/^(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(suffix)) {
    throw new SovereignStackError(`rabbitmq-env.conf: host suffix "${suffix}" must be empty or "."-separated DNS labels (lower-case letters, digits and "-")`);
  }
  const tlsArgs = spec.interNodeTlsOptFile === undefined ? undefined : interNodeTlsErlArgs(spec.interNodeTlsOptFile);
  return [
    '# rendered by sovereign-stack; read by rabbitmq-server and every CLI tool (probes, preStop, user bootstrap)',
    `NODENAME=rabbit@$(hostname)${suffix}`,
    `USE_LONGNAME=${suffix.includes('.') ? 'true' : 'false'}`,
    // Distribution over TLS for the node and for every CLI tool (probes, preStop, bootstrap).
    ...(tlsArgs ? [`SERVER_ADDITIONAL_ERL_ARGS="${tlsArgs}"`, `CTL_ERL_ARGS="${tlsArgs}"`] : []),
    '',
  ].join('\n');
}
