/**
 * Certificates for TLS tests, made with openssl in a test's work folder: a CA, a server
 * certificate it signs (for the names and addresses given, usable for server and client auth, as
 * the cert-manager Certificate of the Kubernetes target is), and a second, unrelated CA that
 * clients must NOT accept the server with.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface TestCerts {
  /** The CA that signed the server certificate. */
  readonly caFile: string;
  /** A CA that did not: verifying the server with it must fail. */
  readonly wrongCaFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

function makeCa(dir: string, name: string): { crt: string; key: string } {
  const crt = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', key, '-out', crt]);
  return { crt, key };
}

/** Makes the files in `dir` (which must exist). `names` become DNS SANs, `ips` IP SANs. */
export function makeTestCerts(dir: string, names: readonly string[], ips: readonly string[] = []): TestCerts {
  const ca = makeCa(dir, 'test-ca');
  const wrong = makeCa(dir, 'wrong-ca');
  const keyFile = path.join(dir, 'tls.key');
  const csr = path.join(dir, 'tls.csr');
  const certFile = path.join(dir, 'tls.crt');
  const ext = path.join(dir, 'tls.ext');
  fs.writeFileSync(ext, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth,clientAuth',
    `subjectAltName=${[...names.map((n) => `DNS:${n}`), ...ips.map((ip) => `IP:${ip}`)].join(',')}`,
    '',
  ].join('\n'));
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${names[0]}`,
    '-keyout', keyFile, '-out', csr]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.crt, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', certFile]);
  return { caFile: ca.crt, wrongCaFile: wrong.crt, certFile, keyFile };
}
