/**
 * Residency policies and the pure verdict of one region under one policy. The guard and the report
 * build on `evaluateRegion`; nothing here knows about constructs.
 */
import { z } from 'zod';
import { parseProps } from '../util/errors';
import { formatCountry, isEeaCountry } from './eea';
import { isoCountryCode, Region } from './region';

/**
 * - `'eea'` (the default): every datastore location is in one of the 30 EEA states.
 * - `'eea-sovereign'`: as `'eea'`, and the operator's home jurisdiction is an EEA state too, so no
 *   third-country law (the US CLOUD Act, for a US operator) reaches the data through the operator.
 * - `{ allowCountries }`: the location's country is one of these ISO 3166-1 alpha-2 codes
 *   (e.g. `['NO']` for data that must stay in Norway). The operator's jurisdiction is not checked.
 */
export const ResidencyPolicySchema = z.union([
  z.literal('eea'),
  z.literal('eea-sovereign'),
  z.strictObject({
    allowCountries: z
      .array(isoCountryCode)
      .min(1, { message: 'must name at least one country; an empty list would refuse every location' })
      .max(249, { message: 'must name at most the 249 ISO 3166-1 countries' })
      .readonly(),
  }).readonly(),
], { error: 'must be "eea", "eea-sovereign" or { allowCountries: [ISO 3166-1 alpha-2 codes] }' });

/** A policy that allows only the listed countries. */
export interface AllowCountriesPolicy {
  /** ISO 3166-1 alpha-2 codes (upper case) of the countries data may be in, e.g. `['NO']`; at least one. */
  readonly allowCountries: readonly string[];
}

/**
 * Where a stack's data may be: `'eea'` (every location in one of the 30 EEA states),
 * `'eea-sovereign'` (also an operator established in the EEA), or `{ allowCountries }`.
 */
export type ResidencyPolicy = 'eea' | 'eea-sovereign' | AllowCountriesPolicy;

/** Compile-time: the documented ResidencyPolicy is what the schema accepts and returns. */
export const RESIDENCY_POLICY_MATCHES_SCHEMA: MutuallyAssignable<ResidencyPolicy, z.output<typeof ResidencyPolicySchema>> &
  MutuallyAssignable<ResidencyPolicy, z.input<typeof ResidencyPolicySchema>> = true;

type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Validates a user-supplied policy; throws a SovereignStackError naming `what` and the bad part. */
export function parseResidencyPolicy(policy: unknown, what = 'residency.policy'): ResidencyPolicy {
  return parseProps(ResidencyPolicySchema, policy, what);
}

/** `eea`, `eea-sovereign`, or `allowCountries[NO,SE]`: the policy's name in reports and messages. */
export function describePolicy(policy: ResidencyPolicy): string {
  if (typeof policy === 'string') return policy;
  return `allowCountries[${policy.allowCountries.join(',')}]`;
}

/** The verdict for one region: allowed or not, and a full sentence saying why. */
export interface RegionVerdict {
  readonly allowed: boolean;
  readonly reason: string;
}

/** Non-EEA countries whose EU adequacy decision people mistake for EEA membership. */
const ADEQUACY_NOT_EEA: ReadonlySet<string> = new Set(['GB', 'CH']);

function where(region: Region): string {
  return region.city ? `region ${region.id} (${region.city})` : `region ${region.id}`;
}

function outsideEea(region: Region, policy: string): RegionVerdict {
  const note = ADEQUACY_NOT_EEA.has(region.country)
    ? ' An EU adequacy decision permits transfers there, but it does not make it part of the EEA.'
    : '';
  return {
    allowed: false,
    reason: `${formatCountry(region.country)} is outside the EEA: ${where(region)} does not satisfy policy ${policy}.${note}`,
  };
}

/**
 * Judges `region` under `policy`, from its `country` and `operatorJurisdiction` only (never from its
 * id or name). The reason names the country codes and names, e.g. "GB (United Kingdom) is outside
 * the EEA: region aws:eu-west-2 (London) does not satisfy policy eea."
 */
export function evaluateRegion(region: Region, policy: ResidencyPolicy): RegionVerdict {
  const name = describePolicy(policy);
  const country = formatCountry(region.country);

  if (policy === 'eea') {
    if (!isEeaCountry(region.country)) return outsideEea(region, name);
    return { allowed: true, reason: `${country} is in the EEA: ${where(region)} satisfies policy ${name}.` };
  }

  if (policy === 'eea-sovereign') {
    if (!isEeaCountry(region.country)) return outsideEea(region, name);
    const jurisdiction = formatCountry(region.operatorJurisdiction);
    if (!isEeaCountry(region.operatorJurisdiction)) {
      const exposure =
        region.operatorJurisdiction === 'US'
          ? 'so the data is exposed to the US CLOUD Act, which lets US authorities compel a US operator to hand over data wherever it is stored'
          : 'outside the EEA, so a non-EEA law reaches the data through the operator';
      return {
        allowed: false,
        reason:
          `${where(region)} is in ${country}, inside the EEA, but its operator ${region.operator} is under ` +
          `${jurisdiction} jurisdiction, ${exposure}: it does not satisfy policy ${name}.`,
      };
    }
    return {
      allowed: true,
      reason:
        `${where(region)} is in ${country} and its operator ${region.operator} is under ${jurisdiction} ` +
        `jurisdiction, both in the EEA: it satisfies policy ${name}.`,
    };
  }

  const allowed = policy.allowCountries.includes(region.country);
  const list = policy.allowCountries.join(', ');
  return allowed
    ? { allowed: true, reason: `${country} is one of the allowed countries [${list}]: ${where(region)} satisfies policy ${name}.` }
    : { allowed: false, reason: `${country} is not one of the allowed countries [${list}]: ${where(region)} does not satisfy policy ${name}.` };
}
