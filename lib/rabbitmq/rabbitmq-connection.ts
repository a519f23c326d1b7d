import { Connection, ConnectionProps } from '../workload/connection';

/** How a service reaches the broker: the common connection fields, the vhost, the exchange and its queues. */
export interface RabbitMqConnectionProps extends ConnectionProps {
  /** The virtual host the service works in. */
  readonly vhost: string;
  /** The exchange to publish to. */
  readonly exchange: string;
  /** The queues the service consumes from. */
  readonly queues: readonly string[];
}

/**
 * How a service connects: host, port, vhost, user, the exchange, its queues, and where its password
 * lives. The password itself is never here: `env()` hands it over as a secret reference.
 *
 * `env()` gives `<prefix>_HOST`, `<prefix>_PORT`, `<prefix>_VHOST`, `<prefix>_USER`,
 * `<prefix>_EXCHANGE` as values (prefix `AMQP` by default) and `<prefix>_PASSWORD` as a secret
 * reference; with TLS also `<prefix>_URL` (`amqps://host:5671/vhost`, without credentials: give
 * user and password separately) and `<prefix>_CA_FILE` (the CA that `mounts()` puts in the
 * service's container; verify the server's certificate and host name against it).
 */
export class RabbitMqConnection extends Connection implements RabbitMqConnectionProps {
  public readonly vhost: string;
  public readonly exchange: string;
  public readonly queues: readonly string[];

  constructor(props: RabbitMqConnectionProps) {
    super(props, 'AMQP');
    this.vhost = props.vhost;
    this.exchange = props.exchange;
    this.queues = [...props.queues];
  }

  protected envValues(): Record<string, string> {
    const tls: Record<string, string> = this.tls
      ? { URL: `amqps://${this.host}:${this.port}/${encodeURIComponent(this.vhost)}`, CA_FILE: this.tls.caFile }
      : {};
    return { HOST: this.host, PORT: String(this.port), VHOST: this.vhost, USER: this.username, EXCHANGE: this.exchange, ...tls };
  }
}
