/**
 * Shared zod primitives for everything users hand us. Each rule states what is allowed in its
 * message, so a failing prop tells the user how to fix it.
 *
 * Two rules keep validation fast whatever the input: every string is refused by LENGTH first (an
 * aborting check, so no pattern ever runs on a 60,000-character value), and every pattern is
 * unambiguous (no two quantifiers can match the same characters, as in `[a-z-]*[a-z]`), so a
 * failing match backtracks in linear time.
 */
import { z } from 'zod';
import { SovereignStackError } from './errors';

/**
 * A string of at most `max` characters. Longer input is refused by an aborting check, before any
 * pattern or refinement chained after this runs.
 */
export function boundedString(max: number, message = `must be at most ${max} characters`) {
  return z.string().max(max, { message, abort: true });
}

/** One DNS-1123 label body: alphanumeric at both ends, "-" inside (unambiguous: linear). */
const LABEL = '[a-z0-9](?:-*[a-z0-9])*';

/** RFC 1123 label (Kubernetes object names, service names, Docker hostnames): max 63 chars. */
export const dnsLabel = boundedString(63, 'must be at most 63 characters (DNS-1123 label)')
  .regex(new RegExp(`^${LABEL}$`), {
    message: 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit',
  });

/** RFC 1123 subdomain (Secret names, StorageClass names, host names). */
export const dnsSubdomain = boundedString(253, 'must be at most 253 characters (DNS-1123 subdomain)')
  .regex(new RegExp(`^${LABEL}(?:\\.${LABEL})*$`), {
    message: 'must be a DNS-1123 subdomain: lower-case labels of letters, digits and "-", separated by "."',
  });

/** Longest image reference we accept: Docker's 255-character name, a 128-character tag, a sha256 digest. */
export const MAX_IMAGE_REF_LENGTH = 255 + 1 + 128 + 72;

/**
 * Docker's reference grammar (distribution/reference), lower case only, written without
 * ambiguous quantifiers: [domain[:port]/]path-component[/path-component...][:tag][@sha256:hex].
 */
const IMAGE_REF = (() => {
  const pathComponent = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  const domain = `${LABEL}(?:\\.${LABEL})*(?::[0-9]{1,5})?`;
  return new RegExp(
    `^(?:${domain}/)?${pathComponent}(?:/${pathComponent})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
  );
})();

/** A container image reference: registry/repo[:tag][@digest], no whitespace or shell characters. */
export const imageRef = boundedString(MAX_IMAGE_REF_LENGTH, `must be at most ${MAX_IMAGE_REF_LENGTH} characters (an image reference)`)
  .min(1, { message: 'must not be empty', abort: true })
  .regex(IMAGE_REF, {
    message: 'must be an image reference like "registry.example.no/team/app:1.2.3" (no whitespace, no upper case in the repository)',
  })
  .refine((ref) => ref.split('@')[0].replace(/:[A-Za-z0-9_][A-Za-z0-9_.-]*$/, '').length <= 255, {
    message: 'must have a name (before the tag) of at most 255 characters, as Docker requires',
  });

/** A TCP/UDP port number. */
export const port = z
  .number()
  .int({ message: 'must be an integer port' })
  .min(1, { message: 'must be a port between 1 and 65535' })
  .max(65535, { message: 'must be a port between 1 and 65535' });

/** Environment variable names as POSIX shells and Kubernetes accept them. */
export const envName = boundedString(256)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be an environment variable name: letters, digits and "_", not starting with a digit' });

/** An absolute POSIX path without whitespace, quotes, "..", or config metacharacters. */
export const absolutePath = boundedString(1024)
  .regex(/^\/[A-Za-z0-9._\-/]*$/, { message: 'must be an absolute path of letters, digits, ".", "_", "-" and "/"' })
  .refine((p) => !p.split('/').includes('..'), { message: 'must not contain ".." segments' });

/** Kubernetes resource quantities we accept for CPU ("250m", "2") and memory ("512Mi", "2Gi"). */
export const cpuQuantity = boundedString(16, 'must be a CPU quantity such as "250m" or "2" (at most 16 characters)')
  .regex(/^([0-9]+m|[0-9]+(\.[0-9]+)?)$/, { message: 'must be a CPU quantity such as "250m" or "2"' });

/** "250m" -> 0.25, "2" -> 2 (cores); only for quantities cpuQuantity accepted. */
export function cpuToCores(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

const MEMORY_UNITS: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };
const MEMORY_PATTERN = /^([0-9]{1,12})(Ki|Mi|Gi|Ti)$/;

/** "512Mi" -> 512, "2Gi" -> 2048, "64Ki" -> 0.0625 (mebibytes); undefined when not a memory quantity. */
export function parseMemoryMi(quantity: unknown): number | undefined {
  if (typeof quantity !== 'string' || quantity.length > 16) return undefined;
  const m = MEMORY_PATTERN.exec(quantity);
  return m ? Number(m[1]) * MEMORY_UNITS[m[2]] : undefined;
}

/** "512Mi" -> 512, "2Gi" -> 2048 (mebibytes). Only for quantities a schema has accepted. */
export function memoryToMi(quantity: string): number {
  const mi = parseMemoryMi(quantity);
  if (mi === undefined) {
    throw new SovereignStackError(`"${quantity}" is not a memory quantity: write a whole number and Ki, Mi, Gi or Ti, such as "512Mi"`);
  }
  return mi;
}

/** "512Mi", "2Gi", "64Ki" for messages. */
function formatMi(mi: number): string {
  if (mi >= 1024 * 1024 && mi % (1024 * 1024) === 0) return `${mi / (1024 * 1024)}Ti`;
  if (mi >= 1024 && mi % 1024 === 0) return `${mi / 1024}Gi`;
  return mi >= 1 && Number.isInteger(mi) ? `${mi}Mi` : `${Math.round(mi * 1024)}Ki`;
}

/**
 * A memory size in Kubernetes binary units ("64Ki", "512Mi", "2Gi", "1Ti") between `minMi` and
 * `maxMi` mebibytes. The number is checked once, by one parse: a malformed value gets the format
 * message and nothing else (no rule ever reads a quantity that did not parse).
 */
export function memorySize(bounds: { minMi: number; maxMi: number; why?: { min?: string; max?: string } }) {
  const { minMi, maxMi, why = {} } = bounds;
  return boundedString(16, 'must be a memory quantity such as "512Mi" (at most 16 characters)').check((ctx) => {
    const mi = parseMemoryMi(ctx.value);
    if (mi === undefined) {
      ctx.issues.push({ code: 'custom', input: ctx.value, message: 'must be a memory quantity: a whole number and Ki, Mi, Gi or Ti, such as "512Mi"' });
    } else if (mi < minMi) {
      ctx.issues.push({ code: 'custom', input: ctx.value, message: `must be at least ${formatMi(minMi)}${why.min ? ` (${why.min})` : ''}` });
    } else if (mi > maxMi) {
      ctx.issues.push({ code: 'custom', input: ctx.value, message: `must be at most ${formatMi(maxMi)}${why.max ? ` (${why.max})` : ''}` });
    }
  });
}

/** Docker refuses a container memory limit below 6 MiB, and reads 0 as "no limit at all". */
export const MIN_CONTAINER_MEMORY_MI = 6;
/** Far above any machine we deploy to, and far below where byte counts overflow 64 bits. */
export const MAX_CONTAINER_MEMORY_MI = 64 * 1024 * 1024;

/**
 * A container's memory request or limit ("512Mi", "2Gi"): at least 6Mi, because Docker refuses
 * less and reads a limit that rounds down to 0 MiB as unlimited, and at most 64Ti.
 */
export const memoryQuantity = memorySize({
  minMi: MIN_CONTAINER_MEMORY_MI,
  maxMi: MAX_CONTAINER_MEMORY_MI,
  why: { min: 'Docker refuses less, and a limit of 0 means no limit at all' },
});

/** A dotted-quad IPv4 address, each octet 0-255 without leading zeros. */
export const ipv4 = boundedString(15, 'must be an IPv4 address such as "10.0.0.1"')
  .regex(/^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/, {
    message: 'must be an IPv4 address such as "10.0.0.1"',
  });

/**
 * A host to connect to: a DNS name (RFC 1123 labels, any letter case) or an IPv4 address. All-numeric
 * names must be valid IPv4, so "1.2.3.999" is rejected rather than treated as a name.
 */
export const hostName = boundedString(253)
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/, {
    message: 'must be a DNS name (letters, digits and "-" in labels separated by ".") or an IPv4 address',
  })
  .refine((h) => !/^[0-9.]+$/.test(h) || ipv4.safeParse(h).success, {
    message: 'looks like an IPv4 address but is not a valid one',
  });

/** The 32-bit value of a dotted-quad IPv4 address. */
export function ipv4Value(address: string): number {
  return address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function ipv4NetworkBitsOnly(block: string): boolean {
  const [address, prefix] = block.split('/');
  return ipv4Value(address) % 2 ** (32 - Number(prefix)) === 0;
}

/**
 * An IPv4 or IPv6 CIDR block ("10.0.0.0/8", "fd00::/8"). IPv4 blocks must name the network
 * (host bits zero): "10.1.2.3/8" is almost always a typo for a narrower block.
 */
export const cidr = boundedString(43, 'must be a CIDR block such as "10.0.0.0/8" or "fd00::/8" (at most 43 characters)')
  .refine((block) => z.cidrv4().safeParse(block).success || z.cidrv6().safeParse(block).success, {
    message: 'must be a CIDR block such as "10.0.0.0/8" or "fd00::/8"',
    abort: true,
  })
  .refine((block) => !z.cidrv4().safeParse(block).success || ipv4NetworkBitsOnly(block), {
    message: 'must have zero host bits, such as "10.0.0.0/8" (not "10.1.2.3/8")',
  });
