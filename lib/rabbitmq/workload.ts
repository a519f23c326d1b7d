/**
 * The RabbitMQ cluster as a target-neutral Workload: a pure function of the validated options, the
 * target's peer discovery and the (lazily rendered) topology files. No construct, no target: unit
 * tests call it directly.
 */
import { parseProps } from '../util/errors';
import { ServerTlsParts, serverTlsParts } from '../workload/server-tls';
import type { PeerDiscovery } from '../workload/target';
import type { WorkloadProps } from '../workload/workload';
import { QueueMode, RabbitMqConfSpecInput, rabbitMqConfSpec } from './rabbitmq-spec';
import { enabledPluginsOf, rabbitMqConfOf, renderInterNodeTlsConfig, renderRabbitMqEnvFile } from './render-rabbitmq-conf';
import { renderUserReconcileScript } from './render-user-bootstrap';
import type { RabbitMqClusterSettings } from './schema';

type ConfigFileInput = NonNullable<WorkloadProps['configFiles']>[number];
type WorkloadProbes = WorkloadProps['probes'];

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

/** The per-service files, rendered by the construct as services are added (lazy values are fine). */
export interface RabbitMqTopologyFiles {
  /** definitions.json: vhost, exchange, queues and bindings. */
  readonly definitions: string;
  /** The users file the reconcile loop sources. */
  readonly users: string;
}

/** The cluster's workload and what its construct and clients need from it. */
export interface RabbitMqWorkload {
  readonly props: WorkloadProps;
  /** The TLS Secret and its mount, when the cluster serves AMQPS. */
  readonly tls?: ServerTlsParts;
  /** The port clients connect to: AMQPS (5671) with `tls`, AMQP (5672) without. */
  readonly clientPort: number;
  /** Secret holding one generated password per service user, keyed by service. */
  readonly usersSecretName: string;
  /** Secret holding the Erlang cookie (key `cookie`). */
  readonly cookieSecretName: string;
}

/** The rabbitmq.conf spec: what the options say, and how the target lets the nodes find each other. */
export function rabbitMqConfSpecOf(o: RabbitMqClusterSettings, discovery: PeerDiscovery, tls?: ServerTlsParts): RabbitMqConfSpecInput {
  const k8s = discovery.kubernetesEndpoints;
  return {
    rabbitmqVersion: o.version,
    queueMode: o.queueMode,
    memoryLimit: o.memoryLimit,
    amqpPort: AMQP_PORT,
    managementPort: MANAGEMENT_PORT,
    prometheusPort: PROMETHEUS_PORT,
    definitionsPath: DEFINITIONS_FILE,
    // The Kubernetes plugin lists the headless Service's endpoints; elsewhere a fixed peer list.
    discovery: k8s
      ? { kind: 'kubernetes', headlessServiceName: k8s.service, namespace: k8s.namespace, clusterDomain: k8s.clusterDomain, replicas: o.replicas }
      : { kind: 'classic', peers: discovery.peerHosts.map((h) => `rabbit@${h}`) },
    tls: tls && { certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile, amqpsPort: AMQPS_PORT },
  };
}

/** Every port but the client one: peers, metrics and management. */
const PEER_AND_ADMIN_PORTS = [
  { name: 'clustering', containerPort: CLUSTERING_PORT },
  { name: 'epmd', containerPort: EPMD_PORT },
  { name: 'prometheus', containerPort: PROMETHEUS_PORT },
  { name: 'management', containerPort: MANAGEMENT_PORT },
];

const NODE_ENV = [
  { name: 'HOME', value: DATA_DIR },
  // Read by rabbitmq-server and every CLI tool (probes, preStop, user bootstrap) alike.
  { name: 'RABBITMQ_CONF_ENV_FILE', value: ENV_FILE },
  { name: 'RABBITMQ_CONFIG_FILE', value: CONF_FILE },
  { name: 'RABBITMQ_ENABLED_PLUGINS_FILE', value: PLUGINS_FILE },
  // Logs go to stdout only: no log file grows inside the container.
  { name: 'RABBITMQ_LOGS', value: '-' },
];

/** The Erlang cookie, the service users' passwords (one key per service, added later), the TLS material. */
function secrets(
  o: RabbitMqClusterSettings, names: { usersSecretName: string; cookieSecretName: string }, tls?: ServerTlsParts,
): NonNullable<WorkloadProps['secrets']> {
  return [
    {
      source: 'generated',
      name: names.cookieSecretName,
      generated: { [COOKIE_KEY]: { length: 64 } },
      // Every node of the cluster and its data are bound to the cookie.
      retain: o.retainOnDelete,
    },
    // Starts empty: addServiceUser adds one key per service.
    { source: 'generated', name: names.usersSecretName, generated: {} },
    ...(tls ? [tls.secret] : []),
  ];
}

/** The cluster as a Workload (see RabbitMqCluster for what each part is for). */
export function rabbitMqWorkload(o: RabbitMqClusterSettings, discovery: PeerDiscovery, topology: RabbitMqTopologyFiles): RabbitMqWorkload {
  const tls = o.tls ? serverTlsParts(o.tls, o.name, TLS_DIR) : undefined;
  const names = { usersSecretName: `${o.name}-users`, cookieSecretName: `${o.name}-erlang-cookie` };
  const { uid, gid } = o.user;
  const props: WorkloadProps = {
    name: o.name,
    component: 'rabbitmq',
    kind: 'stateful',
    image: o.image,
    replicas: o.replicas,
    command: startCommand(),
    ports: [
      tls ? { name: 'amqps', containerPort: AMQPS_PORT } : { name: 'amqp', containerPort: AMQP_PORT },
      ...PEER_AND_ADMIN_PORTS,
    ],
    // rabbitmq_prometheus (enabled in enabled_plugins): the target admits its scraper on 15692.
    metrics: { port: 'prometheus', path: '/metrics' },
    env: NODE_ENV,
    secrets: secrets(o, names, tls),
    configFiles: configFiles(o, discovery, topology, tls),
    secretMounts: [
      { secret: names.usersSecretName, mountPath: USERS_DIR },
      { secret: names.cookieSecretName, mountPath: COOKIE_DIR },
      ...(tls ? [tls.mount] : []),
    ],
    // Queued messages are personal data too: the residency guard records this volume.
    volumes: [{ name: 'data', mountPath: DATA_DIR, sizeGi: o.storageGi, role: 'datastore', dataKind: 'rabbitmq-messages' }],
    scratch: [
      { name: 'tmp', mountPath: '/tmp', sizeMi: 64 },
      // Nothing is logged to files (RABBITMQ_LOGS=-); the image still opens an upgrade log here.
      { name: 'log', mountPath: '/var/log/rabbitmq', sizeMi: 64 },
    ],
    probes: probes(),
    resources: {
      requests: { cpu: o.cpu, memory: o.memoryLimit },
      limits: { memory: o.memoryLimit },
    },
    // The root filesystem stays read-only: config is mounted, data, HOME and the cookie are on
    // the volume, and /tmp and /var/log/rabbitmq are scratch.
    securityContext: { runAsUser: uid, runAsGroup: gid, fsGroup: gid, runAsNonRoot: true, readOnlyRootFilesystem: true },
    placement: { datastore: true, spreadAcrossNodes: 'required' },
    // Peers among themselves only; clients come with allowFrom().
    ingress: [{ from: { workload: o.name }, ports: [EPMD_PORT, CLUSTERING_PORT] }],
    disruptionBudget: { maxUnavailable: 1 },
    publishNotReadyAddresses: true,
    // The Kubernetes peer discovery plugin reads the headless Service's endpoints and posts events.
    apiAccess: discovery.kubernetesEndpoints
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
  return { props, tls, clientPort: tls ? AMQPS_PORT : AMQP_PORT, ...names };
}

/**
 * Docker has no postStart hook, so the same wrapper runs everywhere: put the cookie where Erlang
 * wants it (its own file, mode 0400: Erlang refuses a readable one), start the user bootstrap loop
 * in the background (it waits for the node, then applies users and definitions whenever they
 * change), then hand over to the image's entrypoint.
 */
function startCommand(): string[] {
  return ['sh', '-c', [
    'set -eu',
    `rm -f "$HOME/.erlang.cookie"`,
    `install -m 0400 ${COOKIE_DIR}/${COOKIE_KEY} "$HOME/.erlang.cookie"`,
    `(sh ${BOOTSTRAP_FILE} &)`,
    'exec docker-entrypoint.sh rabbitmq-server',
  ].join('; ')];
}

/**
 * The node's files. rabbitmq.conf, the env file and the plugins are rendered once here (the conf
 * spec validated once for both); only they ask for a restart. The topology files are live.
 */
function configFiles(o: RabbitMqClusterSettings, discovery: PeerDiscovery, topology: RabbitMqTopologyFiles, tls?: ServerTlsParts): ConfigFileInput[] {
  const spec = parseProps(rabbitMqConfSpec, rabbitMqConfSpecOf(o, discovery, tls), 'rabbitmq');
  const interNodeTls = tls !== undefined && o.interNodeTls;
  return [
    { path: CONF_FILE, content: rabbitMqConfOf(spec) },
    { path: ENV_FILE, content: renderRabbitMqEnvFile({ hostSuffix: discovery.hostSuffix, interNodeTlsOptFile: interNodeTls ? INTER_NODE_TLS_FILE : undefined }) },
    ...(tls && interNodeTls
      ? [{ path: INTER_NODE_TLS_FILE, content: renderInterNodeTlsConfig({ certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile }) }]
      : []),
    { path: PLUGINS_FILE, content: enabledPluginsOf(spec) },
    // The same loop on every node, whatever the services: only rabbitmq.conf, the env file and
    // the plugins ask for a restart.
    { path: BOOTSTRAP_FILE, content: renderUserReconcileScript({
      usersFile: SERVICE_USERS_FILE, definitionsFile: DEFINITIONS_FILE, passwordDir: USERS_DIR, readyFile: BOOTSTRAP_READY_FILE,
    }) },
    // Per-service data: applied by the running nodes (the loop above), so a new service restarts none.
    { path: DEFINITIONS_FILE, live: true, content: topology.definitions },
    { path: SERVICE_USERS_FILE, live: true, content: topology.users },
  ];
}

function probes(): WorkloadProbes {
  const diagnostics = (...check: string[]) => ['rabbitmq-diagnostics', '-q', ...check];
  return {
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
  };
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
