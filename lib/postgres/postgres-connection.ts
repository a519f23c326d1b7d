import { Connection, ConnectionProps } from '../workload/connection';

/** How a service reaches its database: the server's address and login, and the database's name. */
export interface PostgresConnectionProps extends ConnectionProps {
  /** The owning service's database. */
  readonly database: string;
}

/**
 * How a service connects: host, port, database, user, and where its password lives. The password
 * itself is never here: `env()` hands it over as a secret reference.
 *
 * `env()` gives `<prefix>_HOST`, `<prefix>_PORT`, `<prefix>_NAME`, `<prefix>_USER` as values and
 * `<prefix>_PASSWORD` as a secret reference (prefix `DATABASE` unless given); with TLS also
 * `<prefix>_SSLMODE` = `verify-full` and `<prefix>_SSLROOTCERT` (the CA file that `mounts()` puts
 * in the service's container), libpq's `sslmode` and `sslrootcert`.
 */
export class PostgresConnection extends Connection {
  /** The owning service's database. */
  public readonly database: string;

  constructor(props: PostgresConnectionProps) {
    super(props, 'DATABASE');
    this.database = props.database;
  }

  protected envValues(): Record<string, string> {
    const tls: Record<string, string> = this.tls ? { SSLMODE: 'verify-full', SSLROOTCERT: this.tls.caFile } : {};
    return { HOST: this.host, PORT: String(this.port), NAME: this.database, USER: this.username, ...tls };
  }
}
