/** A Terraform reference such as `${random_password.x.result}` or `${var.api_tls_tls_key}`. */
export const TF_REF = /^\$\{[^}]+\}$/;

/** Every [path, key, value] in a JSON tree. */
export function walk(node: unknown, path: string[] = []): Array<[string, string, unknown]> {
  if (Array.isArray(node)) return node.flatMap((v, i) => walk(v, [...path, String(i)]));
  if (node && typeof node === 'object') {
    return Object.entries(node).flatMap(([k, v]) => [[path.join('.'), k, v] as [string, string, unknown], ...walk(v, [...path, k])]);
  }
  return [];
}

/**
 * Keys whose value NAMES something (a Secret's name, a key inside a Secret, a label key, a
 * topology key), not a secret value.
 */
function namesSomething(path: string, key: string): boolean {
  return key === 'secret_name' || key === 'topology_key'
    || ((key === 'name' || key === 'key') && /secret_key_ref$/.test(path))
    || (key === 'key' && /(match_expressions|match_label_expressions)\.\d+$/.test(path))
    // A ConfigMap volume's items name the ConfigMap keys they project.
    || (key === 'key' && /config_map(\.\d+)?\.items\.\d+$/.test(path))
    // ... and a Secret volume's items the Secret keys (a service mounts only ca.crt of a server's TLS Secret).
    || (key === 'key' && /\.secret(\.\d+)?\.items\.\d+$/.test(path))
    // A cert-manager Certificate names the Secret it writes.
    || (key === 'secretName' && /\.manifest\.spec$/.test(path))
    // An S3 backend's `key` is the state object's path in the bucket.
    || (key === 'key' && /^terraform\.backend\.s3$/.test(path));
}

/**
 * Every secret-looking key (password, secret, cookie, key) whose value is a literal rather than a
 * Terraform reference or a reference object, as "path.key = value". Empty means nothing secret
 * is written into the synthesized JSON.
 */
export function literalSecrets(json: unknown): string[] {
  return walk(json)
    .filter(([path, key, value]) => /pass|secret|cookie|key/i.test(key) && !namesSomething(path, key)
      && !(typeof value === 'string' && TF_REF.test(value))
      && !(value && typeof value === 'object'))
    .map(([path, key, value]) => `${path}.${key} = ${JSON.stringify(value)}`);
}
