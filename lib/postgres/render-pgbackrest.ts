/**
 * Pure renderers for backups with pgBackRest: pgbackrest.conf, the archive_command that spools
 * WAL segments, and the loop that pushes them to the repository.
 *
 * Why a spool: the official `postgres` image has no pgBackRest, and archive_command runs inside
 * the PostgreSQL container. So archive_command only copies each finished segment (durably: sync
 * before rename) into a spool directory on the data volume, with tools every image has (cp, sync,
 * mv), and a sidecar running an image with pgBackRest pushes the spool to the repository
 * (`pgbackrest archive-push`), removing a segment only once the repository has it. A segment
 * PostgreSQL counts as archived is therefore always on the data volume or in the repository.
 */
import { z } from 'zod';
import { parseProps } from '../util/errors';
import {
  PgBackRestConfSpec, PgBackRestConfSpecSchema, ResolvedPgBackRestConfSpec, ResolvedWalSpoolSpec, WalSpoolSpec, WalSpoolSpecSchema,
} from './pgbackrest-spec';

/** The archive_command's input: the spool directory only (built once, not per call). */
const SpoolDirSchema = WalSpoolSpecSchema.pick({ spoolDir: true });

/** What a scheduled base backup runs: the config, the stanza and the backup type. */
const BackupCommandSpecSchema = WalSpoolSpecSchema.pick({ configPath: true, stanza: true }).extend({ type: z.enum(['full', 'diff', 'incr']) });
export interface BackupCommandSpec { readonly configPath: string; readonly stanza: string; readonly type: 'full' | 'diff' | 'incr' }

/** Renders pgbackrest.conf: a [global] section for the repository, one section for the stanza. */
export function renderPgBackRestConf(spec: PgBackRestConfSpec): string {
  return renderResolvedPgBackRestConf(parseProps(PgBackRestConfSpecSchema, spec, 'pgBackRestConf'));
}

/** Renders pgbackrest.conf from a spec `PgBackRestConfSpecSchema` has already accepted. @internal */
export function renderResolvedPgBackRestConf(s: ResolvedPgBackRestConfSpec): string {
  const r = s.repository;
  const repository: Array<[string, string | number]> = r.type === 's3'
    ? [
      ['repo1-type', 's3'],
      ['repo1-path', r.path],
      ['repo1-s3-bucket', r.bucket],
      ['repo1-s3-endpoint', r.endpoint],
      ['repo1-s3-port', r.port],
      ['repo1-s3-region', r.region],
      ['repo1-s3-uri-style', r.uriStyle],
      // Certificates are always verified: the repository holds every row of the database.
      ['repo1-storage-verify-tls', 'y'],
    ]
    : [['repo1-type', 'posix'], ['repo1-path', r.path]];
  const global: Array<[string, string | number]> = [
    ...repository,
    ['repo1-retention-full-type', 'count'],
    ['repo1-retention-full', s.retentionFull],
    ['compress-type', s.compressType],
    ['process-max', s.processMax],
    // A backup starts with an immediate checkpoint, not after up to checkpoint_timeout.
    ['start-fast', 'y'],
    ['lock-path', s.lockPath],
    // Logs go to stderr (the container runtime collects them); no log files on a read-only root.
    ['log-level-console', 'info'],
    ['log-level-stderr', 'warn'],
    ['log-level-file', 'off'],
  ];
  const stanza: Array<[string, string | number]> = [
    ['pg1-path', s.pgPath],
    ['pg1-port', s.pgPort],
    ['pg1-socket-path', s.pgSocketPath],
    ['pg1-user', s.pgUser],
  ];
  const lines = (entries: Array<[string, string | number]>) => entries.map(([k, v]) => `${k}=${v}`).join('\n');
  return [
    '# pgbackrest.conf rendered by sovereign-stack. S3 credentials come from the environment',
    '# (PGBACKREST_REPO1_S3_KEY, PGBACKREST_REPO1_S3_KEY_SECRET), never from this file.',
    '[global]', lines(global), '', `[${s.stanza}]`, lines(stanza), '',
  ].join('\n');
}

/**
 * archive_command: copies the finished segment `%p` to `<spoolDir>/%f` durably (write to a
 * temporary name, sync it, rename, sync the directory), so a crash never leaves PostgreSQL
 * believing a segment is archived that is not on disk. Runs the same when PostgreSQL retries a
 * segment already spooled (it is overwritten with the same bytes). PostgreSQL runs it with
 * `sh -c`, so the trailing `#` comment is only read by pgBackRest's check.
 */
export function renderWalSpoolCommand(spec: Pick<WalSpoolSpec, 'spoolDir'>): string {
  return renderResolvedWalSpoolCommand(parseProps(SpoolDirSchema, spec, 'walSpool'));
}

/** archive_command for a spool directory `safePath` has already accepted. @internal */
export function renderResolvedWalSpoolCommand(s: { readonly spoolDir: string }): string {
  const d = s.spoolDir;
  // `pgbackrest backup` refuses to run unless archive_command contains "pgbackrest" (a substring
  // check, error 068): the trailing shell comment says who takes the segment from here.
  return `cp %p ${d}/%f.part && sync ${d}/%f.part && mv -f ${d}/%f.part ${d}/%f && sync ${d} # pushed by pgbackrest archive-push`;
}

/**
 * The sidecar's loop (POSIX sh): creates the stanza once PostgreSQL answers, then pushes spooled
 * segments oldest first with `pgbackrest archive-push`, removing each only after the push
 * succeeded; a failed push is retried on the next round (and logged by pgBackRest). Runs until
 * stopped; SIGTERM ends it between pushes.
 */
export function renderWalPushScript(spec: WalSpoolSpec): string {
  return renderResolvedWalPushScript(parseProps(WalSpoolSpecSchema, spec, 'walSpool'));
}

/** The push loop from a spec `WalSpoolSpecSchema` has already accepted. @internal */
export function renderResolvedWalPushScript(s: ResolvedWalSpoolSpec): string {
  const pgbackrest = `pgbackrest --config=${s.configPath} --stanza=${s.stanza}`;
  return [
    'set -u',
    "trap 'exit 0' TERM INT",
    `mkdir -p ${s.spoolDir}`,
    // stanza-create is idempotent: it checks an existing stanza against this cluster. After a
    // declared major-version upgrade the stanza is moved to the new cluster instead.
    `until ${pgbackrest} ${s.upgradeStanza ? 'stanza-upgrade' : 'stanza-create'}; do sleep ${s.intervalSeconds}; done`,
    'while :; do',
    `  for f in $(ls ${s.spoolDir} | grep -v '[.]part$' | sort); do`,
    `    ${pgbackrest} archive-push "${s.spoolDir}/$f" || break`,
    `    rm -f "${s.spoolDir}/$f"`,
    '  done',
    `  sleep ${s.intervalSeconds} & wait $!`,
    'done',
    '',
  ].join('\n');
}

/** The command of a scheduled base backup: `pgbackrest backup --type=<type>` (expire runs after it). */
export function pgBackRestBackupCommand(spec: BackupCommandSpec): string[] {
  return resolvedBackupCommand(parseProps(BackupCommandSpecSchema, spec, 'backupCommand'));
}

/** The backup command from a spec `BackupCommandSpecSchema` has already accepted. @internal */
export function resolvedBackupCommand(s: BackupCommandSpec): string[] {
  return ['pgbackrest', `--config=${s.configPath}`, `--stanza=${s.stanza}`, `--type=${s.type}`, 'backup'];
}
