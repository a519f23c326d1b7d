/**
 * A Region is where data physically lives and who operates the machines there. It is the unit the
 * residency guard judges: by `country` (the `eea` policy) and by `operatorJurisdiction` (the
 * `eea-sovereign` policy). Never by the shape of `id`.
 */
import { z } from 'zod';
import { parseProps } from '../util/errors';
import type { SchemaMatches } from '../util/schema-binding';
import { boundedString } from '../util/schemas';
import { explainInvalidCountryCode } from './eea';

/** A physical location that can hold data, with the facts the residency policies judge. */
export interface Region {
  /**
   * Stable identifier `provider:code`, lower case (`aws:eu-north-1`, `onprem:oslo-kvm-1`). Appears
   * in the residency report; it is a name, not evidence: the verdict comes from `country`.
   */
  readonly id: string;
  /** ISO 3166-1 alpha-2 code (upper case) of the country where the datacentre stands. */
  readonly country: string;
  /** City or area of the datacentre, for the report and messages. */
  readonly city?: string;
  /** Who runs the infrastructure (the party a court order would be served on), e.g. "Hetzner Online GmbH". */
  readonly operator: string;
  /**
   * ISO 3166-1 alpha-2 code of the operator's home jurisdiction: where its controlling company is
   * established, which decides which foreign-access laws reach the data (a US company is subject to
   * the US CLOUD Act wherever its datacentre stands).
   */
  readonly operatorJurisdiction: string;
  /**
   * The value the provider's cloud controller puts in the node label `topology.kubernetes.io/region`;
   * a Kubernetes target uses it to pin pods (and so volumes) to this region.
   */
  readonly kubernetesRegionLabel: string;
  /** Free text for the report: what this location is. */
  readonly description?: string;
}

/** `provider:code`, both parts lower-case letters, digits and "-". */
export const REGION_ID_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?:[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** An ISO 3166-1 alpha-2 country code; the message says what to write instead. */
export const isoCountryCode = z.string().check((ctx) => {
  const problem = explainInvalidCountryCode(ctx.value);
  // continue: true marks the issue non-fatal, so a union (the policy schema) reports it rather
  // than a generic "no option matched".
  if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value, continue: true });
});

/** A Kubernetes label value: at most 63 characters, alphanumeric at both ends, "-", "_", "." inside. */
const kubernetesLabelValue = boundedString(63, 'must be at most 63 characters (a Kubernetes label value)')
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, {
    message: 'must be a Kubernetes label value: letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
  });

const nonEmptyText = boundedString(200).trim().min(1, { message: 'must not be empty' });

/** What `defineRegion` accepts. Unknown keys are refused so a misspelt prop cannot be ignored. */
export const DefineRegionPropsSchema = z.strictObject({
  /** `provider:code`, lower case, e.g. `onprem:oslo-kvm-1`. */
  id: boundedString(128, 'must be at most 128 characters').regex(REGION_ID_PATTERN, {
    message: 'must be "provider:code" in lower-case letters, digits and "-", such as "onprem:oslo-kvm-1"',
  }),
  /** ISO 3166-1 alpha-2 code of the datacentre's country (upper case: "NO", "GB", never "UK"). */
  country: isoCountryCode,
  /** City or area. */
  city: nonEmptyText.optional(),
  /** @default the provider part of `id` (e.g. "onprem") */
  operator: nonEmptyText.optional(),
  /** @default `country` — an operator established where its datacentre stands */
  operatorJurisdiction: isoCountryCode.optional(),
  /** @default the code part of `id` (after "provider:") */
  kubernetesRegionLabel: kubernetesLabelValue.optional(),
  /** Free text for the report. */
  description: nonEmptyText.optional(),
});

/** What `defineRegion` takes: a location outside the catalogue, with the facts the policies judge. */
export interface DefineRegionProps {
  /** Stable identifier `provider:code`, lower case, e.g. `onprem:oslo-kvm-1` (at most 128 characters). */
  readonly id: string;
  /** ISO 3166-1 alpha-2 code of the datacentre's country (upper case: "NO", "GB", never "UK"). */
  readonly country: string;
  /**
   * City or area of the datacentre, for the report and messages.
   * @default - none
   */
  readonly city?: string;
  /**
   * Who runs the infrastructure (the party a court order would be served on).
   * @default - the provider part of `id` (e.g. "onprem")
   */
  readonly operator?: string;
  /**
   * ISO 3166-1 alpha-2 code of the operator's home jurisdiction (the `eea-sovereign` policy judges it).
   * @default - `country`: an operator established where its datacentre stands
   */
  readonly operatorJurisdiction?: string;
  /**
   * The node label value `topology.kubernetes.io/region` of this location's nodes (a Kubernetes
   * target pins datastore pods with it).
   * @default - the code part of `id` (after "provider:")
   */
  readonly kubernetesRegionLabel?: string;
  /**
   * Free text for the report: what this location is.
   * @default - none
   */
  readonly description?: string;
}

/** Compile-time binding: the documented DefineRegionProps and the schema describe the same props. */
export const DEFINE_REGION_PROPS_MATCH_SCHEMA: SchemaMatches<DefineRegionProps, typeof DefineRegionPropsSchema> = true;

/**
 * Declares a location outside the catalogue (an on-premises cluster, a new provider region).
 * Validates every prop and throws a SovereignStackError naming each bad one; the result is frozen.
 *
 * The catalogue builds its entries with it; users call `defineRegion` (in regions.ts), which also
 * refuses what would impersonate a catalogue region.
 */
export function createRegion(props: DefineRegionProps): Region {
  const p = parseProps(DefineRegionPropsSchema, props, 'region');
  const [provider, code] = p.id.split(':');
  const region: Region = {
    id: p.id,
    country: p.country,
    ...(p.city !== undefined ? { city: p.city } : {}),
    operator: p.operator ?? provider,
    operatorJurisdiction: p.operatorJurisdiction ?? p.country,
    kubernetesRegionLabel: p.kubernetesRegionLabel ?? code,
    ...(p.description !== undefined ? { description: p.description } : {}),
  };
  const frozen = Object.freeze(region);
  DEFINED_REGIONS.add(frozen);
  return frozen;
}

/**
 * Regions made by `defineRegion` (the catalogue's included). A hand-built object with the same
 * fields is not evidence of anything: the guard treats it as an unknown location.
 */
const DEFINED_REGIONS = new WeakSet<object>();

/** True only for a Region made by `defineRegion` (or a catalogue entry), never for a look-alike object. */
export function isRegion(value: unknown): value is Region {
  return typeof value === 'object' && value !== null && DEFINED_REGIONS.has(value);
}
