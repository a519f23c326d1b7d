import { SovereignStackError } from '../util/errors';
import { envName } from '../util/schemas';
import { EnvVar } from './workload';

/**
 * Environment entries that tell a client how to connect: `<prefix>_<NAME>` plain values, then
 * `<prefix>_PASSWORD` as a reference to the secret (never the value).
 */
export function connectionEnv(
  prefix: string, values: Record<string, string>, password: { readonly secret: string; readonly key: string },
): EnvVar[] {
  if (!envName.safeParse(prefix).success) {
    throw new SovereignStackError(`connection.env(): prefix "${prefix}" must be letters, digits and "_", not starting with a digit`);
  }
  return [
    ...Object.entries(values).map(([name, value]) => ({ name: `${prefix}_${name}`, value })),
    { name: `${prefix}_PASSWORD`, secretRef: { secret: password.secret, key: password.key } },
  ];
}
