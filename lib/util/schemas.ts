/**
 * Shared zod primitives for everything users hand us. Each rule states what is allowed in its
 * message, so a failing prop tells the user how to fix it.
 */
import { z } from 'zod';

/** RFC 1123 label (Kubernetes object names, service names, Docker hostnames): max 63 chars. */
export const dnsLabel = z
  .string()
  .max(63, { message: 'must be at most 63 characters (DNS-1123 label)' })
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
    message: 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit',
  });

/** RFC 1123 subdomain (Secret names, StorageClass names, host names). */
export const dnsSubdomain = z
  .string()
  .max(253, { message: 'must be at most 253 characters (DNS-1123 subdomain)' })
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    message: 'must be a DNS-1123 subdomain: lower-case labels of letters, digits and "-", separated by "."',
  });

/** A container image reference: registry/repo[:tag][@digest], no whitespace or shell characters. */
export const imageRef = z
  .string()
  .min(1, { message: 'must not be empty' })
  .regex(/^[a-z0-9]+([._\-/:a-z0-9]*[a-z0-9])?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/, {
    message: 'must be an image reference like "registry.example.no/team/app:1.2.3" (no whitespace, no upper case in the repository)',
  });

/** A TCP/UDP port number. */
export const port = z
  .number()
  .int({ message: 'must be an integer port' })
  .min(1, { message: 'must be a port between 1 and 65535' })
  .max(65535, { message: 'must be a port between 1 and 65535' });

/** Environment variable names as POSIX shells and Kubernetes accept them. */
export const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be an environment variable name: letters, digits and "_", not starting with a digit' });

/** An absolute POSIX path without whitespace, quotes, "..", or config metacharacters. */
export const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._\-/]*$/, { message: 'must be an absolute path of letters, digits, ".", "_", "-" and "/"' })
  .refine((p) => !p.split('/').includes('..'), { message: 'must not contain ".." segments' });

/** Kubernetes resource quantities we accept for CPU ("250m", "2") and memory ("512Mi", "2Gi"). */
export const cpuQuantity = z
  .string()
  .regex(/^([0-9]+m|[0-9]+(\.[0-9]+)?)$/, { message: 'must be a CPU quantity such as "250m" or "2"' });
export const memoryQuantity = z
  .string()
  .regex(/^[0-9]+(Ki|Mi|Gi|Ti)$/, { message: 'must be a memory quantity in Ki, Mi, Gi or Ti, such as "512Mi"' });

const MEMORY_UNITS: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };

/** "512Mi" -> 512, "2Gi" -> 2048 (mebibytes). */
export function memoryToMi(quantity: string): number {
  const m = /^([0-9]+)(Ki|Mi|Gi|Ti)$/.exec(quantity);
  if (!m) throw new Error(`not a memory quantity: ${quantity}`);
  return Number(m[1]) * MEMORY_UNITS[m[2]];
}

/** A dotted-quad IPv4 address, each octet 0-255 without leading zeros. */
export const ipv4 = z
  .string()
  .regex(/^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/, {
    message: 'must be an IPv4 address such as "10.0.0.1"',
  });

/**
 * A host to connect to: a DNS name (RFC 1123 labels, any letter case) or an IPv4 address. All-numeric
 * names must be valid IPv4, so "1.2.3.999" is rejected rather than treated as a name.
 */
export const hostName = z
  .string()
  .max(253, { message: 'must be at most 253 characters' })
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/, {
    message: 'must be a DNS name (letters, digits and "-" in labels separated by ".") or an IPv4 address',
  })
  .refine((h) => !/^[0-9.]+$/.test(h) || ipv4.safeParse(h).success, {
    message: 'looks like an IPv4 address but is not a valid one',
  });

function ipv4NetworkBitsOnly(block: string): boolean {
  const [address, prefix] = block.split('/');
  const value = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  return value % 2 ** (32 - Number(prefix)) === 0;
}

/**
 * An IPv4 or IPv6 CIDR block ("10.0.0.0/8", "fd00::/8"). IPv4 blocks must name the network
 * (host bits zero): "10.1.2.3/8" is almost always a typo for a narrower block.
 */
export const cidr = z
  .string()
  .refine((block) => z.cidrv4().safeParse(block).success || z.cidrv6().safeParse(block).success, {
    message: 'must be a CIDR block such as "10.0.0.0/8" or "fd00::/8"',
    abort: true,
  })
  .refine((block) => !z.cidrv4().safeParse(block).success || ipv4NetworkBitsOnly(block), {
    message: 'must have zero host bits, such as "10.0.0.0/8" (not "10.1.2.3/8")',
  });
