/**
 * A POSIX sh script that creates or updates each service's RabbitMQ user from a password FILE (a
 * mounted Secret) and grants it its vhost, using rabbitmqctl against the local node. It exists
 * because definitions.json cannot carry users: RabbitMQ wants a salted hash that Terraform cannot
 * compute, and a literal password must never be in synthesized JSON. The script holds no password;
 * each one is read from its file and handed to rabbitmqctl on stdin (printf is a shell builtin), so
 * it never shows in a process list. Running it twice gives the same result.
 */
import { parseProps } from '../util/errors';
import { userBootstrapSpec, UserBootstrapSpecInput } from './rabbitmq-spec';

/** Single-quotes a value for POSIX sh. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Renders the bootstrap script. Throws a SovereignStackError naming every bad prop. */
export function renderUserBootstrapScript(input: UserBootstrapSpecInput): string {
  const spec = parseProps(userBootstrapSpec, input, 'rabbitmq user bootstrap');
  const calls = spec.users.map((u) =>
    ['ensure_user', u.name, u.vhost, u.configure, u.write, u.read].map((v, i) => (i === 0 ? v : shellQuote(v))).join(' '));
  return `#!/bin/sh
# rendered by sovereign-stack: creates/updates RabbitMQ service users from password files.
# No password is in this script: each is read from ${spec.passwordDir}/<user>.
set -eu

CTL=${shellQuote(spec.rabbitmqctl)}
PASSWORD_DIR=${shellQuote(spec.passwordDir)}
ATTEMPTS=${spec.startupAttempts}
INTERVAL=${spec.startupIntervalSeconds}

# await_startup fails at once while epmd does not know the node yet, so retry it, with a bound.
attempt=1
until "$CTL" -q await_startup >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "rabbitmq-user-bootstrap: the local node did not start after $ATTEMPTS attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep "$INTERVAL"
done

user_exists() {
  "$CTL" -q list_users --no-table-headers | cut -f1 | grep -qxF "$1"
}

# ensure_user NAME VHOST CONFIGURE WRITE READ
ensure_user() {
  file="$PASSWORD_DIR/$1"
  if [ ! -r "$file" ]; then
    echo "rabbitmq-user-bootstrap: password file $file for user $1 is missing or unreadable" >&2
    exit 1
  fi
  # $(cat) drops trailing newlines, as most secret tooling writes one.
  password=$(cat "$file")
  if [ -z "$password" ]; then
    echo "rabbitmq-user-bootstrap: password file $file for user $1 is empty (an empty password disables login)" >&2
    exit 1
  fi
  if user_exists "$1"; then
    printf '%s' "$password" | "$CTL" -q change_password "$1"
  elif ! printf '%s' "$password" | "$CTL" -q add_user "$1" 2>/dev/null; then
    # Every node runs this script: another one may have added the user since the check.
    printf '%s' "$password" | "$CTL" -q change_password "$1"
  fi
  password=''
  "$CTL" -q set_permissions -p "$2" "$1" "$3" "$4" "$5"
  echo "rabbitmq-user-bootstrap: user $1 ready on vhost $2"
}

${calls.join('\n')}
`;
}
