/**
 * Encryption in transit for a datastore (PostgreSQL, RabbitMQ): where its server certificate comes
 * from, and how its clients find the CA that signed it. Target-neutral: a component turns the
 * option into a secret spec and mounts; the target realizes them (a Kubernetes Secret volume, a
 * cert-manager Certificate, Docker uploads).
 */
import { z } from 'zod';
import { dnsSubdomain } from '../util/schemas';
import type { SchemaMatches } from '../util/schema-binding';
import { SecretMountInput, SecretSpecInput } from './workload';

/** Keys of a `kubernetes.io/tls` Secret as cert-manager writes it. */
export const TLS_CERT_KEY = 'tls.crt';
export const TLS_KEY_KEY = 'tls.key';
export const TLS_CA_KEY = 'ca.crt';

/** Where a client of workload `server` finds the CA that signed its certificate. */
export function clientCaDir(server: string): string {
  return `/etc/sovereign-stack/tls/${server}`;
}

export const ServerTlsSchema = z.object({
  /**
   * An existing Secret with `tls.crt` (the server certificate, PEM, with the host names clients
   * use as SANs), `tls.key` (its private key) and `ca.crt` (the CA clients verify it with), as
   * cert-manager writes it. On Docker each key becomes a sensitive Terraform variable.
   * @default - none; give this or `certManager`
   */
  secretName: dnsSubdomain.optional(),
  /**
   * Have the Kubernetes target create a cert-manager Certificate for the workload's own host names
   * (its Service, and every replica through the headless Service), written to the Secret
   * `<workload>-tls`. The issuer must exist and put `ca.crt` in the Secret (a CA or self-signed
   * issuer does; ACME cannot issue for cluster-internal names). Kubernetes only.
   * @default - none; give this or `secretName`
   */
  certManager: z.object({
    /** The Issuer or ClusterIssuer that signs the certificate. */
    issuerName: dnsSubdomain,
    /** @default 'ClusterIssuer' */
    issuerKind: z.enum(['Issuer', 'ClusterIssuer']).default('ClusterIssuer'),
  }).strict().optional(),
}).strict().superRefine((t, ctx) => {
  if ((t.secretName === undefined) === (t.certManager === undefined)) {
    ctx.addIssue({
      code: 'custom', path: [],
      message: 'must give exactly one certificate source: { secretName: "<existing Secret with tls.crt, tls.key, ca.crt>" } or { certManager: { issuerName: "<issuer>" } }',
    });
  }
});

/** Where a server's certificate comes from: exactly one of `secretName` and `certManager`. */
export interface ServerTlsOptions {
  /**
   * An existing Secret with `tls.crt` (the server certificate, PEM, with the host names clients
   * use as SANs), `tls.key` (its private key) and `ca.crt` (the CA clients verify it with), as
   * cert-manager writes it. On Docker each key becomes a sensitive Terraform variable.
   * @default - none; give this or `certManager`
   */
  readonly secretName?: string;
  /**
   * Have the Kubernetes target create a cert-manager Certificate for the workload's own host names
   * (its Service, and every replica through the headless Service), written to the Secret
   * `<workload>-tls`. The issuer must exist and put `ca.crt` in the Secret (a CA or self-signed
   * issuer does; ACME cannot issue for cluster-internal names). Kubernetes only.
   * @default - none; give this or `secretName`
   */
  readonly certManager?: CertManagerIssuerOptions;
}

/** The cert-manager issuer that signs a server's certificate. */
export interface CertManagerIssuerOptions {
  /** The Issuer or ClusterIssuer that signs the certificate. */
  readonly issuerName: string;
  /**
   * Whether `issuerName` is a namespaced Issuer or a ClusterIssuer.
   * @default 'ClusterIssuer'
   */
  readonly issuerKind?: 'Issuer' | 'ClusterIssuer';
}

const _serverTlsOptions: SchemaMatches<ServerTlsOptions, typeof ServerTlsSchema> = true;
void _serverTlsOptions;
export type ServerTls = z.output<typeof ServerTlsSchema>;

/** What a component needs to serve TLS: the secret to declare, its name, and where to mount it. */
export interface ServerTlsParts {
  readonly secretName: string;
  readonly secret: SecretSpecInput;
  /** Mounts the certificate, key and CA (read-only) at `dir`. */
  readonly mount: SecretMountInput;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** The secret and mount of a server's TLS material, in `dir`. */
export function serverTlsParts(tls: ServerTls, workloadName: string, dir: string): ServerTlsParts {
  const secretName = tls.secretName ?? `${workloadName}-tls`;
  const secret: SecretSpecInput = tls.certManager
    ? { source: 'certificate', name: secretName, issuer: { name: tls.certManager.issuerName, kind: tls.certManager.issuerKind } }
    : { source: 'existing', name: secretName, keys: [TLS_CERT_KEY, TLS_KEY_KEY, TLS_CA_KEY] };
  return {
    secretName,
    secret,
    mount: { secret: secretName, mountPath: dir },
    certFile: `${dir}/${TLS_CERT_KEY}`,
    keyFile: `${dir}/${TLS_KEY_KEY}`,
    caFile: `${dir}/${TLS_CA_KEY}`,
  };
}

/** How a client verifies a server: the CA file it reads and the mount (the CA key only) that puts it there. */
export interface ClientTls {
  /** The CA file path inside the client's container. */
  readonly caFile: string;
  /**
   * Mount this into the client's workload: only `ca.crt` of the server's TLS Secret, never its
   * key, mode 0444 (a CA certificate is public, and a service may run as any uid without fsGroup).
   */
  readonly caMount: SecretMountInput;
}

export function clientTlsOf(serverWorkload: string, secretName: string): ClientTls {
  const dir = clientCaDir(serverWorkload);
  return { caFile: `${dir}/${TLS_CA_KEY}`, caMount: { secret: secretName, mountPath: dir, keys: [TLS_CA_KEY], mode: '0444' } };
}
