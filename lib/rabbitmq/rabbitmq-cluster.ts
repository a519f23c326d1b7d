import { Lazy } from 'cdktf';
import { Construct } from 'constructs';
import { SovereignStackError, parseProps } from '../util/errors';
import { parseComponentProps } from '../workload/component-props';
import { ServerTlsParts, clientTlsOf } from '../workload/server-tls';
import { builtByComponent } from '../workload/target';
import type { DeployedWorkload, IWorkloadTarget, PeerDiscovery } from '../workload/target';
import type { RabbitMqClusterProps, ServiceUserOptions } from './props';
import { RabbitMqConnection } from './rabbitmq-connection';
import type { QueueMode } from './rabbitmq-spec';
import { renderRabbitMqDefinitions } from './render-rabbitmq-definitions';
import { renderServiceUsersFile } from './render-user-bootstrap';
import { RabbitMqClusterOptionsSchema, ServiceUserOptionsSchema, ServiceUserSettings } from './schema';
import { rabbitMqWorkload } from './workload';

// The names users and tests import from this module, wherever they live now.
export type { RabbitMqClusterOptions, RabbitMqClusterProps, ServiceUserOptions } from './props';
export { RabbitMqConnection, type RabbitMqConnectionProps } from './rabbitmq-connection';
export {
  DEFAULT_RABBITMQ_IMAGE, RabbitMqClusterOptionsSchema, ServiceUserOptionsSchema, queueNameOf, rabbitmqUserOfImage, rabbitmqVersionOfImage,
} from './schema';
export {
  AMQPS_PORT, AMQP_PORT, CLUSTERING_PORT, EPMD_PORT, MANAGEMENT_PORT, PROMETHEUS_PORT, SHUTDOWN_RESERVE_SECONDS,
  type ShutdownWaits, preStopCommand, shutdownWaits,
} from './workload';

/**
 * A RabbitMQ cluster for the platform's events: an odd number of nodes (3 by default) on the
 * target's NVMe storage, one node per machine, forming a cluster on their own (the Kubernetes peer
 * discovery plugin on Kubernetes, a fixed peer list elsewhere: the target's `peerDiscovery` says
 * which) with `pause_minority` partition handling: a node that cannot see a majority stops
 * serving rather than diverge.
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
 * `allowFrom` reach AMQP (5672), or with `tls` AMQPS (5671) only: the plaintext listener is off
 * and, unless `interNodeTls: false`, distribution runs over TLS too. Prometheus metrics (15692,
 * rabbitmq_prometheus) admit the target's scraper only (KubernetesTarget `metrics.scraper`);
 * management (15672) admits nobody.
 *
 * @example
 * const broker = new RabbitMqCluster(stack, 'messaging', { target });
 * const amqp = broker.addServiceUser({ service: 'invoices', consumes: ['orders.created'] });
 * // in the service's workload: env: [...amqp.env()]; then broker.allowFrom(invoices);
 */
export class RabbitMqCluster extends Construct {
  /** The realized workload (its provider resources are in `workload.resources`). */
  public readonly workload: DeployedWorkload;
  /** RabbitMQ version, from the image tag. */
  public readonly version: string;
  /** How queues are replicated (`classic-mirrored` or `quorum`). */
  public readonly queueMode: QueueMode;
  /** The virtual host every service user works in. */
  public readonly vhost: string;
  /** The durable topic exchange services publish to. */
  public readonly exchange: string;
  /** Secret holding one generated password per service user, keyed by service. */
  public readonly usersSecretName: string;
  /** Secret holding the Erlang cookie (key `cookie`). */
  public readonly cookieSecretName: string;
  /** Where clients reach AMQP: host name and port (the Service on Kubernetes, the first node's container on Docker). */
  public readonly endpoint: { readonly host: string; readonly port: number };
  private readonly users = new Map<string, ServiceUserSettings>();
  private readonly rendered = new Map<string, { readonly users: number; readonly text: string }>();
  /** The TLS Secret and its mount, when the cluster serves AMQPS. */
  private readonly tls?: ServerTlsParts;
  /** The port clients connect to: AMQPS (5671) with `tls`, AMQP (5672) without. */
  private readonly clientPort: number;

  constructor(scope: Construct, id: string, props: RabbitMqClusterProps) {
    const { target, location, options: o, what } = parseComponentProps(
      'RabbitMqCluster', scope, id, props, RabbitMqClusterOptionsSchema, { prop: 'name', of: (r) => r.name });
    const discovery = peerDiscoveryOf(target, o.name, o.replicas, what);
    super(scope, id);

    this.version = o.version;
    this.queueMode = o.queueMode;
    this.vhost = o.vhost;
    this.exchange = o.exchange;
    // Users are added after construction too: their files render at synth.
    const built = rabbitMqWorkload(o, discovery, {
      definitions: Lazy.stringValue({ produce: () => this.perUserCount('definitions', () => this.renderDefinitions()) }),
      users: Lazy.stringValue({ produce: () => this.perUserCount('users', () => this.renderServiceUsers()) }),
    });
    this.usersSecretName = built.usersSecretName;
    this.cookieSecretName = built.cookieSecretName;
    this.tls = built.tls;
    this.clientPort = built.clientPort;
    this.workload = target.deploy(this, builtByComponent(built.props), { location });
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
    this.users.set(u.service, u);
    this.workload.addGeneratedSecretKey(this.usersSecretName, u.service, { length: 32 });
    return new RabbitMqConnection({
      host: this.endpoint.host,
      port: this.endpoint.port,
      vhost: this.vhost,
      exchange: this.exchange,
      username: u.service,
      queues: u.queues,
      secretName: this.usersSecretName,
      passwordKey: u.service,
      tls: this.tls && clientTlsOf(this.workload.workload.name, this.tls.secretName),
    });
  }

  /** Admits `client`'s pods on AMQP (5672), or AMQPS (5671) with `tls`, only (network policy; Docker cannot enforce it). */
  public allowFrom(client: DeployedWorkload): void {
    this.workload.allowFrom(client, [this.clientPort]);
  }

  /** Names of the services with a user, in the order they were added. */
  public get serviceUsers(): string[] {
    return [...this.users.keys()];
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
      queues: users.flatMap((u) => u.queues.map((name) => ({ name, vhost: this.vhost }))),
      bindings: users.flatMap((u) => u.consumes.map((key, i) => ({
        vhost: this.vhost, exchange: this.exchange, queue: u.queues[i], routingKey: key,
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
        read: exactly(u.queues),
        topic: { exchange: this.exchange, write: exactly(u.publishes), read: '^$' },
      })),
    });
  }
}

/**
 * How the nodes will find each other, from the target: the only target knowledge the cluster
 * needs, asked before anything is created.
 */
function peerDiscoveryOf(target: IWorkloadTarget, name: string, replicas: number, what: string): PeerDiscovery {
  if (typeof target.peerDiscovery !== 'function') {
    throw new SovereignStackError(
      `invalid ${what}:\n  - ${what}.target: this target does not say how a cluster's nodes find each other; ` +
      'RabbitMqCluster needs a target with peerDiscovery(workloadName, replicas) (KubernetesTarget and DockerTarget have it)',
    );
  }
  return target.peerDiscovery(name, replicas);
}

/** An Erlang (PCRE) regex matching exactly one of `names`, or nothing at all. */
function exactly(names: readonly string[]): string {
  if (names.length === 0) return '^$';
  const escaped = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return escaped.length === 1 ? `^${escaped[0]}$` : `^(${escaped.join('|')})$`;
}
