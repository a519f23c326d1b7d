import * as semver from 'semver';

/**
 * The version an image tag names, coerced by semver ("1.27-alpine" -> 1.27.0, "3.13.7-management"
 * -> 3.13.7). Returns undefined for tags that name no version ("latest", digests only).
 */
export function imageTagVersion(image: string): semver.SemVer | undefined {
  const withoutDigest = image.split('@')[0];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  if (colon < 0) return undefined;
  return semver.coerce(withoutDigest.slice(colon + 1)) ?? undefined;
}

/** Coerces "1.22", "15", "3.13.7" to a SemVer, or throws for text that names no version. */
export function coerceVersion(version: string): semver.SemVer {
  const v = semver.coerce(version);
  if (!v) throw new Error(`"${version}" is not a version`);
  return v;
}

export { semver };
