import * as semver from 'semver';
import { z } from 'zod';

/**
 * A version as we accept it from users: `major.minor` or `major.minor.patch`, plain decimal
 * numbers of at most four digits, optionally followed by a pre-release or build suffix of
 * letters, digits, "-" and "." after a "-" ("4.0.0-rc.1", "1.27.3-alpine"). Strict on purpose: a
 * version may be written into a rendered file (rabbitmq.conf, definitions.json), and
 * `semver.coerce` finds a version inside any text ("3.10.8\nlisteners.tcp.2 = ..." coerces to
 * 3.10.8), so text only checked by coercion could carry configuration with it.
 */
export const STRICT_VERSION_PATTERN = /^(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})(?:\.(0|[1-9][0-9]{0,3}))?(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Longest version text accepted: numbers and a suffix, never a paragraph. */
const MAX_VERSION_LENGTH = 40;

/**
 * A zod string schema for a strict version ({@link STRICT_VERSION_PATTERN}). `what` names it in
 * the message ("a RabbitMQ version"), `examples` show the form.
 */
export function strictVersion(what: string, examples: string) {
  const message = `must be ${what} such as ${examples} (digits and dots, and an optional "-suffix" of letters, digits, "." and "-")`;
  return z
    .string()
    .max(MAX_VERSION_LENGTH, { message, abort: true })
    .regex(STRICT_VERSION_PATTERN, { message, abort: true });
}

/**
 * How an image tag names a version: it STARTS with one ("1.27.3-alpine", "3.13.7-management",
 * "17.2", "v1.2"), optionally followed by a suffix after "-", "_", "+" or ".". Tags such as
 * "alpine3.19", "mainline" or "latest" name no version of the product (semver.coerce would read
 * 3.19 out of "alpine3.19").
 */
const TAG_VERSION = /^v?(0|[1-9][0-9]{0,5})(?:\.(0|[1-9][0-9]{0,5}))?(?:\.(0|[1-9][0-9]{0,5}))?(?:[-_+.][A-Za-z0-9_.+-]*)?$/;

/**
 * The version an image tag names ("1.27-alpine" -> 1.27.0, "3.13.7-management" -> 3.13.7).
 * Returns undefined for tags that name no version ("latest", "alpine3.19", digests only).
 */
export function imageTagVersion(image: string): semver.SemVer | undefined {
  const withoutDigest = image.split('@')[0];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  if (colon < 0) return undefined;
  const m = TAG_VERSION.exec(withoutDigest.slice(colon + 1));
  if (!m) return undefined;
  return new semver.SemVer(`${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}`);
}

/**
 * The numeric core of a strict version as a SemVer: "1.22" -> 1.22.0, "4.0.0-rc.1" -> 4.0.0 (a
 * pre-release of 4.0 is judged as 4.0: it has what 4.0 removed). Only for text a strict schema has
 * already accepted; throws for anything else.
 */
export function coerceVersion(version: string): semver.SemVer {
  const m = /^([0-9]{1,6})(?:\.([0-9]{1,6}))?(?:\.([0-9]{1,6}))?(?:-[0-9A-Za-z.-]*)?$/.exec(version);
  if (!m) throw new Error(`"${version}" is not a version (digits and dots only)`);
  return new semver.SemVer(`${Number(m[1])}.${Number(m[2] ?? 0)}.${Number(m[3] ?? 0)}`);
}

export { semver };

/**
 * The tag of an image reference, without registry, repository or digest
 * ("registry.example.no:5000/postgres:17-alpine@sha256:..." -> "17-alpine"), or undefined when it
 * has none. What a tag says besides the version (an "-alpine" variant, say) is read from here.
 */
export function imageTagOf(image: string): string | undefined {
  const withoutDigest = image.split('@')[0];
  const colon = withoutDigest.indexOf(':', withoutDigest.lastIndexOf('/') + 1);
  return colon < 0 ? undefined : withoutDigest.slice(colon + 1);
}
