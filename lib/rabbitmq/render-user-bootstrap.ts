/**
 * A POSIX sh script that creates or updates each service's RabbitMQ user from a password FILE (a
 * mounted Secret) and grants it its vhost, using rabbitmqctl against the local node. It exists
 * because definitions.json cannot carry users: RabbitMQ wants a salted hash that Terraform cannot
 * compute, and a literal password must never be in synthesized JSON. The script holds no password;
 * each one is read from its file and handed to rabbitmqctl on stdin (printf is a shell builtin), so
 * it never shows in a process list. Running it twice gives the same result.
 */
import { parseProps } from '../util/errors';
import {
  ServiceUsersFileSpecInput, UserBootstrapSpecInput, UserReconcileSpecInput, serviceUsersFileSpec, userBootstrapSpec, userReconcileSpec,
} from './rabbitmq-spec';

/** Single-quotes a value for POSIX sh. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Shell functions shared by the one-shot script and the reconcile loop. Every failure returns 1
 * (and sets failed=1) explicitly: the loop calls them where `set -e` does not apply.
 */
const ENSURE_USER = `# The users the node has: from the list the loop read once per round, else asked now.
user_exists() {
  if [ -n "\${known_users+set}" ]; then
    printf '%s\\n' "$known_users" | grep -qxF "$1"
  else
    "$CTL" -q list_users --no-table-headers | cut -f1 | grep -qxF "$1"
  fi
}

# ensure_user NAME VHOST CONFIGURE WRITE READ [TOPIC_EXCHANGE TOPIC_WRITE TOPIC_READ]
ensure_user() {
  file="$PASSWORD_DIR/$1"
  if [ ! -r "$file" ]; then
    echo "rabbitmq-user-bootstrap: password file $file for user $1 is missing or unreadable" >&2
    failed=1; return 1
  fi
  # $(cat) drops trailing newlines, as most secret tooling writes one.
  password=$(cat "$file")
  if [ -z "$password" ]; then
    echo "rabbitmq-user-bootstrap: password file $file for user $1 is empty (an empty password disables login)" >&2
    failed=1; return 1
  fi
  # The loop skips a user whose line and password are as last applied (a few thousand users
  # would otherwise cost a few thousand rabbitmqctl calls on every change).
  if [ -n "\${STATE_DIR:-}" ]; then
    applied_as=$( (printf '%s\\n' "$*"; printf '%s' "$password") | cksum)
    if [ -f "$STATE_DIR/$1" ] && [ "$(cat "$STATE_DIR/$1")" = "$applied_as" ]; then
      password=''
      return 0
    fi
  fi
  if user_exists "$1"; then
    printf '%s' "$password" | "$CTL" -q change_password "$1" || { password=''; failed=1; return 1; }
  elif ! printf '%s' "$password" | "$CTL" -q add_user "$1" 2>/dev/null; then
    # Every node runs this script: another one may have added the user since the check.
    printf '%s' "$password" | "$CTL" -q change_password "$1" || { password=''; failed=1; return 1; }
  fi
  password=''
  "$CTL" -q set_permissions -p "$2" "$1" "$3" "$4" "$5" || { failed=1; return 1; }
  if [ -n "\${6:-}" ]; then
    "$CTL" -q set_topic_permissions -p "$2" "$1" "$6" "$7" "$8" || { failed=1; return 1; }
  fi
  if [ -n "\${STATE_DIR:-}" ]; then printf '%s' "$applied_as" > "$STATE_DIR/$1"; fi
  echo "rabbitmq-user-bootstrap: user $1 ready on vhost $2"
}
`;

/** One `ensure_user` line per user, every argument quoted. */
function ensureUserCalls(users: readonly { name: string; vhost: string; configure: string; write: string; read: string; topic?: { exchange: string; write: string; read: string } }[]): string[] {
  return users.map((u) => ['ensure_user', u.name, u.vhost, u.configure, u.write, u.read,
    ...(u.topic ? [u.topic.exchange, u.topic.write, u.topic.read] : [])]
    .map((v, i) => (i === 0 ? v : shellQuote(v))).join(' '));
}

/** Renders the bootstrap script. Throws a SovereignStackError naming every bad prop. */
export function renderUserBootstrapScript(input: UserBootstrapSpecInput): string {
  const spec = parseProps(userBootstrapSpec, input, 'rabbitmq user bootstrap');
  const calls = ensureUserCalls(spec.users);
  return `#!/bin/sh
# rendered by sovereign-stack: creates/updates RabbitMQ service users from password files.
# No password is in this script: each is read from ${spec.passwordDir}/<user>.
set -eu

CTL=${shellQuote(spec.rabbitmqctl)}
PASSWORD_DIR=${shellQuote(spec.passwordDir)}
ATTEMPTS=${spec.startupAttempts}
INTERVAL=${spec.startupIntervalSeconds}
failed=0

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

${ENSURE_USER}
${calls.join('\n')}
`;
}

/**
 * The users file the reconcile loop sources: one `ensure_user` line per user, every argument
 * single-quoted (data, not code: no value can end its quote). Holds no password.
 */
export function renderServiceUsersFile(input: ServiceUsersFileSpecInput): string {
  const spec = parseProps(serviceUsersFileSpec, input, 'rabbitmq service users');
  return ['# rendered by sovereign-stack: one line per service user, applied by the reconcile loop; no password here',
    ...ensureUserCalls(spec.users), ''].join('\n');
}

/**
 * The reconcile loop's fixed part (no value is spliced in: the variables are set above it): apply
 * everything, then apply again whenever the files or a password change; keep the ready file in line.
 */
const RECONCILE_LOOP = `# Everything, once: definitions first (vhosts and queues the permissions name), then each user.
apply() {
  if ! "$CTL" -q await_startup >/dev/null 2>&1; then
    echo "rabbitmq-user-bootstrap: the local node is not running yet" >&2
    return 1
  fi
  if [ -n "$DEFINITIONS_FILE" ] && ! "$CTL" -q import_definitions "$DEFINITIONS_FILE" >/dev/null; then
    echo "rabbitmq-user-bootstrap: importing $DEFINITIONS_FILE failed" >&2
    return 1
  fi
  if [ ! -r "$USERS_FILE" ]; then
    echo "rabbitmq-user-bootstrap: users file $USERS_FILE is missing or unreadable" >&2
    return 1
  fi
  if ! known_users=$("$CTL" -q list_users --no-table-headers | cut -f1); then
    echo "rabbitmq-user-bootstrap: list_users failed" >&2
    return 1
  fi
  failed=0
  . "$USERS_FILE"
  [ "$failed" -eq 0 ]
}

rm -rf "$READY_FILE" "$STATE_DIR"
mkdir -p "$STATE_DIR"
applied=''
failing_since=''
while :; do
  # What the node should have: the files and the passwords (a changed password is applied too).
  state=$(cat "$USERS_FILE" $DEFINITIONS_FILE "$PASSWORD_DIR"/* 2>/dev/null | cksum)
  if [ "$state" != "$applied" ]; then
    if apply; then
      applied=$state
      failing_since=''
      : > "$READY_FILE"
      echo "rabbitmq-user-bootstrap: applied; ready"
    else
      now=$(date +%s)
      [ -n "$failing_since" ] || failing_since=$now
      if [ -e "$READY_FILE" ] && [ $((now - failing_since)) -ge "$FAILURE_GRACE" ]; then
        rm -f "$READY_FILE"
        echo "rabbitmq-user-bootstrap: applying has failed for $((now - failing_since)) s: not ready until it succeeds" >&2
      fi
    fi
  fi
  sleep "$INTERVAL"
done
`;

/**
 * A POSIX sh loop that runs beside the node for its whole life and keeps its users, permissions,
 * topic permissions and topology (definitions.json) in line with the mounted files, so that adding
 * a service changes files the running node applies, not the pod template: no node restarts. It
 * applies at start, then again whenever a file (or a password) changes. The ready file exists once
 * everything applied, and goes away when applying has failed for `failureGraceSeconds`: the
 * readiness check tests it, so a failed bootstrap shows as a pod that is not ready.
 */
export function renderUserReconcileScript(input: UserReconcileSpecInput): string {
  const spec = parseProps(userReconcileSpec, input, 'rabbitmq user reconcile');
  return `#!/bin/sh
# rendered by sovereign-stack: applies users, permissions and definitions to the running node, and
# again whenever the mounted files change. No password is in this script: each is read from
# ${spec.passwordDir}/<user>.
set -u

CTL=${shellQuote(spec.rabbitmqctl)}
PASSWORD_DIR=${shellQuote(spec.passwordDir)}
USERS_FILE=${shellQuote(spec.usersFile)}
DEFINITIONS_FILE=${shellQuote(spec.definitionsFile ?? '')}
READY_FILE=${shellQuote(spec.readyFile)}
# What this loop applied, per user: a new loop (a new container) applies everything once.
STATE_DIR="$READY_FILE.state"
INTERVAL=${spec.intervalSeconds}
FAILURE_GRACE=${spec.failureGraceSeconds}
failed=0

${ENSURE_USER}
${RECONCILE_LOOP}`;
}
