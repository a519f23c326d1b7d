/**
 * The public contract of RabbitMqCluster, written for people: what users pass and what each prop
 * means, with its default. The zod schemas in `schema.ts` validate exactly these shapes (bound at
 * compile time with SchemaMatches, so the two cannot drift).
 */
import type { RegionRef } from '../residency/region-ref';
import type { ServerTlsOptions } from '../workload/server-tls';
import type { IWorkloadTarget } from '../workload/target';

/** Plain options of a RabbitMqCluster: everything but where it runs. */
export interface RabbitMqClusterOptions {
  /**
   * Workload name: host names, object names and the secrets `<name>-erlang-cookie` and `<name>-users`
   * derive from it. A DNS label of at most 30 characters (room for "-erlang-cookie" and replica suffixes).
   * @default 'rabbitmq'
   */
  readonly name?: string;
  /**
   * Number of nodes, odd: with `pause_minority` a node keeps serving only while it sees a strict
   * majority, so an even cluster split in half stops on both sides. 1 is for development only.
   * @default 3
   */
  readonly replicas?: number;
  /**
   * The official `rabbitmq` image (or a compatible one) with a version tag; the version (RabbitMQ
   * >= 3.8) selects what is rendered. Alpine tags run as uid 100, others as uid 999. Pin a digest
   * after the tag for reproducible deployments.
   * @default 'rabbitmq:3.13.7-management-alpine'
   */
  readonly image?: string;
  /**
   * Queue replication. `classic-mirrored` applies an `ha-all` policy (every queue mirrored to every
   * node, synchronised automatically); it exists on RabbitMQ 3.x only. `quorum` declares quorum
   * queues (Raft), the only choice from RabbitMQ 4.0. The default does not follow the image: queue
   * type cannot change in place, so moving to 4.x is a migration you opt into with `quorum`.
   * @default 'classic-mirrored'
   */
  readonly queueMode?: 'classic-mirrored' | 'quorum';
  /**
   * Container memory limit (also its request); the memory and disk alarms derive from it. 512Mi
   * (a booted node uses about 150 MiB) to 1Ti.
   * @default '2Gi'
   */
  readonly memoryLimit?: string;
  /**
   * CPU request. No CPU limit: a throttled node misses heartbeats and looks partitioned.
   * @default '500m'
   */
  readonly cpu?: string;
  /**
   * Size of each node's data volume in GiB (NVMe): message store, queue indexes, Raft logs. It must
   * hold the disk free limit (the memory limit, at least 1Gi) plus 1 GiB, or the node boots with
   * its disk alarm on and blocks every publisher.
   * @default 20
   */
  readonly storageGi?: number;
  /**
   * The virtual host every service user works in.
   * @default 'platform'
   */
  readonly vhost?: string;
  /**
   * The durable topic exchange services publish to; consumers' queues are bound to it.
   * @default 'events'
   */
  readonly exchange?: string;
  /**
   * Refuse `terraform destroy` of the nodes' data and the Erlang cookie (prevent_destroy). Opt out
   * for throw-away stacks (CI, previews).
   * @default true
   */
  readonly retainOnDelete?: boolean;
  /**
   * Encryption in transit for clients: AMQPS on 5671 with the certificate from an existing Secret
   * (`secretName`: tls.crt, tls.key, ca.crt) or, on Kubernetes, a cert-manager Certificate
   * (`certManager`); the plaintext listener on 5672 is off, and the connection env tells services
   * to connect with `amqps://` and verify the CA. The certificate must name every host clients and
   * peers use (the cert-manager Certificate does).
   * @default - plaintext AMQP on 5672: set it for any broker carrying personal data
   */
  readonly tls?: ServerTlsOptions;
  /**
   * With `tls`: Erlang distribution (inter-node traffic: queue contents replicated between nodes,
   * and the CLI tools' traffic) over TLS too (inet_tls_dist, both sides verified against the CA).
   * Needs a certificate valid for every node's host name, usable for server and client auth.
   * @default true (when `tls` is set)
   */
  readonly interNodeTls?: boolean;
  /**
   * Seconds a stopping node may take before it is killed. Before the stop signal (Kubernetes
   * preStop) the node waits, within this period less 60 s kept for its own stop, for quorum queues
   * to keep a quorum without it and for its classic mirrors to be synchronised elsewhere, then
   * drains its clients (see `shutdownWaits`). 120 to 3600.
   * @default 600
   */
  readonly shutdownGracePeriodSeconds?: number;
}

/** Props of a RabbitMqCluster: its options, where it runs, and where its messages live. */
export interface RabbitMqClusterProps extends RabbitMqClusterOptions {
  /**
   * Where the cluster runs: a KubernetesTarget, a DockerTarget, or a target of your own (it must
   * implement `peerDiscovery`: the nodes find each other through it).
   */
  readonly target: IWorkloadTarget;
  /**
   * Where the queued messages live, when not where the target is. Checked by the residency guard:
   * a location outside the stack's policy fails synthesis.
   * @default the target's location
   */
  readonly location?: RegionRef;
}

/** What `RabbitMqCluster.addServiceUser` takes: one service, what it publishes and consumes. */
export interface ServiceUserOptions {
  /**
   * The service (a DNS label): its user name, its password's key in `<name>-users`, and the prefix
   * of its queues. Not "guest" (RabbitMQ's built-in user).
   */
  readonly service: string;
  /**
   * Routing keys the service publishes with (no wildcards). Any key grants write on the exchange.
   * @default []
   */
  readonly publishes?: string[];
  /**
   * Routing keys (or topic patterns with "*" and "#") the service consumes. Each gets a durable
   * queue `<service>.<key>` bound to the exchange with that key ("*" becomes "any" and "#" becomes
   * "all" in the queue name).
   * @default []
   */
  readonly consumes?: string[];
}
