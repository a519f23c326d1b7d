/**
 * The init script that gives a service its own database: a role that may log in (and nothing
 * more) and a database owned by it. The official `postgres` image's docker-entrypoint runs every
 * `*.sh` in /docker-entrypoint-initdb.d/ once, on an empty data directory, while a temporary server
 * listens on the unix socket only; non-executable scripts (ConfigMap and upload modes are 0444) are
 * SOURCED into the entrypoint's bash, so this script runs its body in a subshell and leaves the
 * entrypoint's shell options alone.
 *
 * The script holds no password. It reads the owner's password from an environment variable (set
 * from a secret) and hands it to psql as a variable, which psql quotes as a literal (`:'pw'`), so
 * quotes, backslashes or `$` in the password cannot break or inject SQL. The session turns statement
 * logging off first, so the CREATE ROLE ... PASSWORD statement never reaches the server log, even
 * when it fails or is slow.
 */
import { z } from 'zod';
import { parseProps } from '../util/errors';
import { envName } from '../util/schemas';
import { postgresIdentifier } from './postgres-spec';

export const InitOwnerSpecSchema = z.strictObject({
  /** The owning service's role: LOGIN, not a superuser, no CREATEDB / CREATEROLE / REPLICATION / BYPASSRLS. */
  role: postgresIdentifier.refine((name) => name !== 'postgres', { message: 'must be the service\'s own role, not "postgres"' }),
  /** The owning service's database, owned by `role`. */
  database: postgresIdentifier.refine((name) => !['postgres', 'template0', 'template1'].includes(name), {
    message: 'must be the service\'s own database, not "postgres", "template0" or "template1"',
  }),
  /**
   * Environment variable that holds the role's password when the script runs.
   * @default 'OWNER_PASSWORD'
   */
  passwordEnv: envName.default('OWNER_PASSWORD'),
});

export type InitOwnerSpec = z.input<typeof InitOwnerSpecSchema>;

/** Renders the init script. Throws a SovereignStackError naming every bad field. */
export function renderInitOwnerScript(input: InitOwnerSpec): string {
  const s = parseProps(InitOwnerSpecSchema, input, 'initOwner');
  // role and database are validated identifiers ([a-z_][a-z0-9_]*), so they need no shell quoting;
  // psql quotes them again as identifiers (:"role").
  return `#!/bin/bash
# rendered by sovereign-stack: creates the role "${s.role}" (LOGIN, not a superuser) and the
# database "${s.database}" owned by it. Run once by the postgres image's docker-entrypoint on an empty
# data directory. No password is in this file: it is read from $${s.passwordEnv} (a secret).
(
  set -eu
  if [ -z "\${${s.passwordEnv}:-}" ]; then
    echo "create-owner: ${s.passwordEnv} is empty or unset; refusing to create role ${s.role} without a password" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \\
    --username "\${POSTGRES_USER:-postgres}" --dbname postgres \\
    -v role=${s.role} -v database=${s.database} -v pw="\$${s.passwordEnv}" <<'EOSQL'
-- Keep the password out of the server log, even for a failing or slow statement.
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
SET password_encryption = 'scram-sha-256';
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'pw';
CREATE DATABASE :"database" OWNER :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT ALL ON DATABASE :"database" TO :"role";
EOSQL
  echo "create-owner: role ${s.role} owns database ${s.database}"
)
`;
}
