/**
 * The init script that gives a service its own database: a role that may log in (and nothing
 * more) and a database owned by it. The official `postgres` image's docker-entrypoint runs every
 * `*.sh` in /docker-entrypoint-initdb.d/ once, on an empty data directory, while a temporary server
 * listens on the unix socket only; non-executable scripts (ConfigMap and upload modes are 0444) are
 * SOURCED into the entrypoint's bash, so this script runs its body in a subshell and leaves the
 * entrypoint's shell options alone.
 *
 * The script holds no password, and the password is never on a command line (where every process
 * list shows it): as the image does for POSTGRES_PASSWORD, it is read from the file named by
 * `<passwordEnv>_FILE` (a mounted secret), or else from the environment variable `<passwordEnv>`.
 * psql itself reads it (a backquoted `cat` of the file, or the shell's built-in printf of the
 * variable, into a psql variable), so it reaches neither psql's nor any other process's argv, and
 * psql quotes it as a literal (`:'pw'`), so quotes, backslashes or `$` in the password cannot break
 * or inject SQL; every byte is kept, trailing newlines too. The session turns statement logging
 * off first, so the CREATE ROLE ... PASSWORD statement never reaches the server log, even when it
 * fails or is slow; and the role is only committed when it got a password.
 */
import { z } from 'zod';
import { parseProps } from '../util/errors';
import type { SchemaMatches } from '../util/schema-binding';
import { envName } from '../util/schemas';
import { postgresIdentifier } from './postgres-spec';

/** The monitoring role the init script creates beside the owner. */
export interface InitOwnerMonitoringSpec {
  /** The role: LOGIN, member of `pg_monitor` only; not "postgres", not the owner's role. */
  readonly role: string;
  /** Its password comes from the file named by `<passwordEnv>_FILE`, or else from `<passwordEnv>`; not the owner's. */
  readonly passwordEnv: string;
}

/** The init script's inputs: the owning service's role and database, and how the script finds the passwords. */
export interface InitOwnerSpec {
  /** The owning service's role: LOGIN, not a superuser, no CREATEDB / CREATEROLE / REPLICATION / BYPASSRLS. */
  readonly role: string;
  /** The owning service's database, owned by `role`. */
  readonly database: string;
  /**
   * Where the role's password comes from when the script runs: the file named by the environment
   * variable `<passwordEnv>_FILE` (a mounted secret: preferred, as the value then sits in no
   * process's environment), or else the environment variable `<passwordEnv>` itself. Setting both
   * is refused, as the image refuses POSTGRES_PASSWORD with POSTGRES_PASSWORD_FILE.
   * @default 'OWNER_PASSWORD'
   */
  readonly passwordEnv?: string;
  /**
   * A monitoring role for a metrics exporter: LOGIN, member of `pg_monitor` and nothing else (no
   * database of its own, no grant on any table); its password is read like the owner's, from
   * `<passwordEnv>_FILE` or `<passwordEnv>`.
   * @default - no monitoring role
   */
  readonly monitoring?: InitOwnerMonitoringSpec;
}

/** Validates {@link InitOwnerSpec} (documented there). */
export const InitOwnerSpecSchema = z.strictObject({
  role: postgresIdentifier.refine((name) => name !== 'postgres', { message: 'must be the service\'s own role, not "postgres"' }),
  database: postgresIdentifier.refine((name) => !['postgres', 'template0', 'template1'].includes(name), {
    message: 'must be the service\'s own database, not "postgres", "template0" or "template1"',
  }),
  passwordEnv: envName.max(100).default('OWNER_PASSWORD'),
  monitoring: z.strictObject({
    role: postgresIdentifier.refine((name) => name !== 'postgres', { message: 'must not be "postgres"' }),
    passwordEnv: envName.max(100),
  }).optional(),
}).refine((s) => !s.monitoring || (s.monitoring.role !== s.role && s.monitoring.passwordEnv !== s.passwordEnv), {
  message: 'must differ from the owner\'s role and passwordEnv', path: ['monitoring'],
});

// Compile-time binding of the documented spec to its schema.
const _initOwnerBound: SchemaMatches<InitOwnerSpec, typeof InitOwnerSpecSchema> = true;
void _initOwnerBound;

/** The validated init script spec, defaults applied. */
export type ResolvedInitOwnerSpec = z.output<typeof InitOwnerSpecSchema>;

/** Renders the init script. Throws a SovereignStackError naming every bad field. */
export function renderInitOwnerScript(input: InitOwnerSpec): string {
  return renderResolvedInitOwnerScript(parseProps(InitOwnerSpecSchema, input, 'initOwner'));
}

/** Renders the init script from a spec `InitOwnerSpecSchema` has already accepted. @internal */
export function renderResolvedInitOwnerScript(s: ResolvedInitOwnerSpec): string {
  const env = s.passwordEnv;
  const file = `${env}_FILE`;
  const m = s.monitoring;
  // role and database are validated identifiers ([a-z_][a-z0-9_]*), so they need no shell quoting;
  // psql quotes them again as identifiers (:"role").
  return `#!/bin/bash
# rendered by sovereign-stack: creates the role "${s.role}" (LOGIN, not a superuser) and the
# database "${s.database}" owned by it. Run once by the postgres image's docker-entrypoint on an empty
# data directory. No password is in this file or on any command line: psql reads it from the
# file named by $${file} (a mounted secret), or else from $${env}.
(
  set -eu
${passwordChecks(env, s.role)}${m ? passwordChecks(m.passwordEnv, m.role) : ''}  psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \\
    --username "\${POSTGRES_USER:-postgres}" --dbname postgres \\
    -v role=${s.role} -v database=${s.database}${m ? ` -v monitoring_role=${m.role}` : ''} <<'EOSQL'
-- Keep the password out of the server log, even for a failing or slow statement.
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
SET password_encryption = 'scram-sha-256';
-- psql reads the password itself: it is on no command line. psql drops exactly one trailing
-- newline from a backquoted command's output, the one echo adds, so every byte is kept.
${passwordRead('pw', env)}
${createRoleSql({
    role: 'role', password: 'pw', flag: 'owner_has_password', refusal: 'the password read was empty',
    then: ['-- PostgreSQL takes an empty password as "no password": refuse to commit a role without one.'],
  })}CREATE DATABASE :"database" OWNER :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT ALL ON DATABASE :"database" TO :"role";
${m ? monitoringRoleSql(m.passwordEnv) : ''}EOSQL
  echo "create-owner: role ${s.role} owns database ${s.database}${m ? `; role ${m.role} monitors (pg_monitor)` : ''}"
)
`;
}

/** Shell lines refusing to go on without exactly one of `<env>_FILE` (a readable, non-empty file) and `<env>`. */
function passwordChecks(env: string, role: string): string {
  const file = `${env}_FILE`;
  return `  if [ -n "\${${file}:-}" ]; then
    if [ -n "\${${env}:-}" ]; then
      echo "create-owner: both ${env} and ${file} are set (but they are exclusive)" >&2
      exit 1
    fi
    if [ ! -f "$${file}" ] || [ ! -r "$${file}" ] || [ ! -s "$${file}" ]; then
      echo "create-owner: ${file} names no readable, non-empty file; refusing to create role ${role} without a password" >&2
      exit 1
    fi
  elif [ -z "\${${env}:-}" ]; then
    echo "create-owner: ${env} and ${file} are empty or unset; refusing to create role ${role} without a password" >&2
    exit 1
  fi
  # For the shell psql runs the backquoted command in.
  export ${env}="\${${env}:-}" ${file}="\${${file}:-}"
`;
}

/** psql reads the password itself into `:variable`: it is on no command line (see the file doc). */
function passwordRead(variable: string, env: string): string {
  const file = `${env}_FILE`;
  return `\\set ${variable} \`if [ -n "$${file}" ]; then cat -- "$${file}" && echo; else printf '%s\\n' "$${env}"; fi\``;
}

/**
 * The monitoring role: it may log in and read the statistics pg_monitor grants, nothing more. It
 * gets no CONNECT on the service's database (REVOKE ... FROM PUBLIC above) and no grant on any table.
 */
function monitoringRoleSql(env: string): string {
  return `-- The exporter's role: pg_monitor's statistics views, no other right, at most 3 sessions.
${passwordRead('monitoring_pw', env)}
${createRoleSql({
    role: 'monitoring_role', password: 'monitoring_pw', limit: 3, flag: 'monitoring_has_password', refusal: 'the monitoring password read was empty',
    then: ['GRANT pg_monitor TO :"monitoring_role";'],
  })}`;
}

/**
 * One transaction that creates a login role with the password psql read into `:password`, runs
 * `then`, and commits only if the role really has a password (PostgreSQL takes an empty one as
 * none): the owner and the monitoring role are made alike.
 */
function createRoleSql(o: { role: string; password: string; limit?: number; flag: string; refusal: string; then: string[] }): string {
  return `BEGIN;
CREATE ROLE :"${o.role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS${o.limit ? ` CONNECTION LIMIT ${o.limit}` : ''} PASSWORD :'${o.password}';
${o.then.map((line) => `${line}\n`).join('')}SELECT rolpassword IS NOT NULL AS ${o.flag} FROM pg_authid WHERE rolname = :'${o.role}' \\gset
\\if :${o.flag}
COMMIT;
\\else
DO $$ BEGIN RAISE EXCEPTION 'create-owner: ${o.refusal}; role not created'; END $$;
\\endif
`;
}
