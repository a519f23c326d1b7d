/**
 * The gateway container's command: nginx in the foreground, plus a small POSIX-sh loop that
 * reloads it when the TLS certificate or key files change. Pure: spec in, argv out.
 *
 * Why a loop in the nginx container, not a watcher sidecar: a sidecar would need to share the
 * process namespace to signal nginx (or a reloader image of its own, to pull, patch and trust).
 * The nginx images already ship `sh`, `md5sum`, `sleep`,
 * `cat` and `kill` (busybox in -alpine, coreutils in the Debian ones; POSIX `cksum` is missing from
 * some busybox builds, Debian's among them); the loop writes nothing, so the root filesystem stays
 * read-only, and keeps its one checksum in a shell variable. md5 only detects a change here.
 *
 * How it behaves:
 * - `exec` makes nginx the container's main process (PID 1 in a pod): the stop signal (SIGQUIT,
 *   graceful) reaches nginx itself, not a shell that would have to pass it on.
 * - Every `intervalSeconds`, the loop checksums the watched files. Kubernetes swaps a renewed
 *   Secret's files at once (an atomic symlink switch) within about a minute of the renewal.
 * - On a change it runs `nginx -t` first: a certificate that does not match its key (files
 *   caught half-written) fails the test, the running configuration stays, and the next round
 *   tries again. Only a passing test is followed by `nginx -s reload`: new workers serve the new
 *   certificate, old ones finish their requests; no connection is dropped.
 * - The loop ends when nginx is gone (its pid file removed, or its process no longer there).
 */
import { z } from 'zod';
import { parseProps } from '../util/errors';
import { SchemaMatches } from '../util/schema-binding';
import { absolutePath } from '../util/schemas';

/** The input of `renderNginxCommand`. */
export interface NginxCommandSpec {
  /**
   * The nginx binary: a name on PATH ("nginx") or an absolute path.
   * @default "nginx"
   */
  nginxBinary?: string;
  /**
   * nginx's prefix folder (`-p`).
   * @default - the binary's own
   */
  prefix?: string;
  /** nginx.conf (`-c`). */
  confPath: string;
  /** The `pid` file nginx.conf names: the loop ends once nginx is gone. */
  pidPath: string;
  /**
   * Files whose change triggers a reload (the certificate chain and key), at most 16. None: nginx alone.
   * @default []
   */
  watchFiles?: string[];
  /**
   * Seconds between two checks of the watched files (1 to 86400).
   * @default 30
   */
  intervalSeconds?: number;
}

export const NginxCommandSpecSchema = z.strictObject({
  nginxBinary: z.union([absolutePath, z.literal('nginx')]).default('nginx'),
  prefix: absolutePath.optional(),
  confPath: absolutePath,
  pidPath: absolutePath,
  watchFiles: z.array(absolutePath).max(16, { message: 'must list at most 16 files' }).default([]),
  intervalSeconds: z.number().int({ message: 'must be an integer' }).min(1, { message: 'must be at least 1' })
    .max(86400, { message: 'must be at most 86400' }).default(30),
});

// The documented interface and the schema describe the same spec: a difference fails the build.
const _spec: SchemaMatches<NginxCommandSpec, typeof NginxCommandSpecSchema> = true;
void _spec;

/**
 * argv of the container's command (its entrypoint). Without watched files, nginx itself in the
 * foreground; with them, `sh -c` running the reload loop beside an exec'd nginx. Every path was
 * restricted by `absolutePath` (letters, digits, "._-/"), so it is written into the script as is.
 * The script has no `${` (Terraform would read it as an interpolation), and no `$$` or `$(`:
 * Kubernetes expands `$(NAME)` in a container's command and turns `$$` into `$`.
 */
export function renderNginxCommand(spec: NginxCommandSpec): string[] {
  const s = parseProps(NginxCommandSpecSchema, spec, 'nginxCommand');
  const nginx = [s.nginxBinary, ...(s.prefix ? ['-p', s.prefix] : []), '-c', s.confPath];
  if (s.watchFiles.length === 0) return [...nginx, '-g', 'daemon off;'];
  const n = nginx.join(' ');
  const files = s.watchFiles.join(' ');
  // One line (the Workload model refuses newlines in argv), statements separated by "; ".
  const statements = [
    // The checksum of every watched file; a missing file counts as a change (its error is the text).
    `sums() { md5sum ${files} 2>&1; }`,
    '( last=`sums`',
    `while sleep ${s.intervalSeconds}; do`
      // nginx removes its pid file when it exits: stop with it.
      + ` [ -s ${s.pidPath} ] && kill -0 \`cat ${s.pidPath}\` 2>/dev/null || exit 0`,
    'now=`sums`',
    '[ "$now" = "$last" ] && continue',
    `if ${n} -t -q; then ${n} -s reload && last=$now && echo "tls files changed: nginx reloaded" >&2`,
    `else echo "tls files changed but nginx -t fails: keeping the running configuration, checking again in ${s.intervalSeconds} s" >&2`,
    'fi',
    'done ) &',
  ];
  const script = `${statements.join('; ')} exec ${n} -g 'daemon off;'`;
  return ['sh', '-c', script];
}
