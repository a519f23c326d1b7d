import type { ClientTls } from './server-tls';
import type { EnvVar, SecretMountInput } from './workload';
import { connectionEnv } from './connection-env';

/** What every connection to a server of ours carries. */
export interface ConnectionProps {
  /** Host name of the server (or its load-balancing Service). */
  readonly host: string;
  /** Port clients connect to. */
  readonly port: number;
  /** The user (role) the client logs in as. */
  readonly username: string;
  /** The Secret holding the user's password. */
  readonly secretName: string;
  /** The key of the password in that Secret. */
  readonly passwordKey: string;
  /** How the client verifies the server, when the server speaks TLS. @default - plaintext */
  readonly tls?: ClientTls;
}

/**
 * How a service connects to one of our servers (PostgreSQL, RabbitMQ): where, as whom, and where
 * its password lives. The password itself is never here: `env()` hands it over as a secret
 * reference, and `mounts()` names what the client's workload must mount (the CA with TLS).
 * Subclasses add the server's own fields and say which env entries they mean.
 */
export abstract class Connection implements ConnectionProps {
  public readonly host: string;
  public readonly port: number;
  public readonly username: string;
  public readonly secretName: string;
  public readonly passwordKey: string;
  public readonly tls?: ClientTls;

  protected constructor(props: ConnectionProps, private readonly defaultPrefix: string) {
    this.host = props.host;
    this.port = props.port;
    this.username = props.username;
    this.secretName = props.secretName;
    this.passwordKey = props.passwordKey;
    this.tls = props.tls;
  }

  /**
   * Environment entries for the client's workload: `<prefix>_<NAME>` plain values (see the
   * subclass) and `<prefix>_PASSWORD` as a secret reference, never the value.
   */
  public env(prefix: string = this.defaultPrefix): EnvVar[] {
    return connectionEnv(prefix, this.envValues(), { secret: this.secretName, key: this.passwordKey });
  }

  /** What the client's workload must mount to connect: the CA file (only `ca.crt`) with TLS, else nothing. */
  public mounts(): SecretMountInput[] {
    return this.tls ? [this.tls.caMount] : [];
  }

  /** The plain (non-secret) env values, by name without the prefix, in the order they are written. */
  protected abstract envValues(): Record<string, string>;
}
