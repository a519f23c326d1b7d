import { SovereignStackError } from '../../lib/util/errors';
import { defineRegion } from '../../lib/residency/regions';
import { OSLO_REGION, regions, lookupRegion } from '../../lib/residency/regions';
import {
  describePolicy,
  evaluateRegion,
  parseResidencyPolicy,
  ResidencyPolicy,
  ResidencyPolicySchema,
} from '../../lib/residency/policy';

// The test's own EEA list, not the library's: a wrong EEA_COUNTRIES must not make its own expectation.
const EEA = new Set(['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT',
  'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO']);

const POLICIES: ResidencyPolicy[] = ['eea', 'eea-sovereign', { allowCountries: ['NO'] }, { allowCountries: ['SE', 'FI'] }];

function expected(country: string, jurisdiction: string, policy: ResidencyPolicy): boolean {
  if (policy === 'eea') return EEA.has(country);
  if (policy === 'eea-sovereign') return EEA.has(country) && EEA.has(jurisdiction);
  return policy.allowCountries.includes(country);
}

describe('evaluateRegion over the whole catalogue', () => {
  const cases = Object.values(regions).flatMap((r) => POLICIES.map((p) => [r.id, describePolicy(p), r, p] as const));

  test.each(cases)('%s under %s follows from country and jurisdiction', (_id, _name, region, policy) => {
    const verdict = evaluateRegion(region, policy);
    expect(verdict.allowed).toBe(expected(region.country, region.operatorJurisdiction, policy));
    expect(verdict.reason).toContain(region.id);
    expect(verdict.reason).toContain(region.country);
    expect(verdict.reason).toContain(describePolicy(policy));
    expect(verdict.reason).toMatch(/\.$/);
  });

  test('the catalogue has EEA, non-EEA, and EEA-but-US-operated entries', () => {
    const all = Object.values(regions);
    expect(all.filter((r) => EEA.has(r.country)).length).toBeGreaterThan(20);
    expect(all.filter((r) => !EEA.has(r.country)).length).toBeGreaterThan(15);
    expect(all.filter((r) => EEA.has(r.country) && r.operatorJurisdiction === 'US').length).toBeGreaterThan(10);
    expect(all.filter((r) => EEA.has(r.country) && EEA.has(r.operatorJurisdiction)).length).toBeGreaterThan(10);
  });
});

describe('hand-written verdicts for the regions people get wrong', () => {
  // [id, eea, eea-sovereign, allowCountries[NO]]
  test.each([
    ['aws:eu-west-2', false, false, false],
    ['aws:eu-central-2', false, false, false],
    ['gcp:europe-west2', false, false, false],
    ['gcp:europe-west6', false, false, false],
    ['oci:eu-zurich-1', false, false, false],
    ['oci:eu-jovanovac-1', false, false, false],
    ['azure:uksouth', false, false, false],
    ['azure:switzerlandnorth', false, false, false],
    ['exoscale:ch-gva-2', false, false, false],
    ['exoscale:de-fra-1', true, false, false], // DE, but the operator is Swiss (CH)
    ['aws:eu-north-1', true, false, false], // SE, US operator
    ['azure:norwayeast', true, false, true], // NO, US operator
    ['gcp:europe-north1', true, false, false],
    ['upcloud:no-svg1', true, true, true],
    ['hetzner:hel1', true, true, false],
    ['hetzner:ash', false, false, false],
    ['ovh:bhs', false, false, false],
    ['scaleway:pl-waw', true, true, false],
  ] as const)('%s: eea=%s, eea-sovereign=%s, allowCountries[NO]=%s', (id, eea, sovereign, onlyNo) => {
    const region = lookupRegion(id)!;
    expect(evaluateRegion(region, 'eea').allowed).toBe(eea);
    expect(evaluateRegion(region, 'eea-sovereign').allowed).toBe(sovereign);
    expect(evaluateRegion(region, { allowCountries: ['NO'] }).allowed).toBe(onlyNo);
  });

  test('OSLO_REGION passes every policy that admits Norway', () => {
    expect(evaluateRegion(OSLO_REGION, 'eea').allowed).toBe(true);
    expect(evaluateRegion(OSLO_REGION, 'eea-sovereign').allowed).toBe(true);
    expect(evaluateRegion(OSLO_REGION, { allowCountries: ['NO'] }).allowed).toBe(true);
  });
});

describe('policy eea', () => {
  test.each([...EEA])('a location in %s passes', (country) => {
    const region = defineRegion({ id: `test:${country.toLowerCase()}`, country });
    const verdict = evaluateRegion(region, 'eea');
    expect(verdict.allowed).toBe(true);
    expect(verdict.reason).toContain(`${country} (`);
    expect(verdict.reason).toContain('is in the EEA');
  });

  test.each([
    ['GB', 'United Kingdom'], ['CH', 'Switzerland'], ['US', 'United States'], ['RS', 'Serbia'],
    ['SJ', 'Svalbard and Jan Mayen'], ['FO', 'Faroe Islands'], ['GL', 'Greenland'], ['TR', 'Türkiye'], ['UA', 'Ukraine'],
  ])('a location in %s (%s) fails', (country, name) => {
    const region = defineRegion({ id: `test:${country.toLowerCase()}`, country });
    const verdict = evaluateRegion(region, 'eea');
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toContain(`${country} (${name}) is outside the EEA`);
  });

  test('the reason reads as a sentence naming the region, city and policy', () => {
    expect(evaluateRegion(lookupRegion('aws:eu-west-2')!, 'eea').reason).toBe(
      'GB (United Kingdom) is outside the EEA: region aws:eu-west-2 (London) does not satisfy policy eea. ' +
        'An EU adequacy decision permits transfers there, but it does not make it part of the EEA.',
    );
  });
});

describe('policy eea-sovereign', () => {
  test('a US operator in the EEA fails and the reason names the US CLOUD Act', () => {
    const verdict = evaluateRegion(lookupRegion('azure:norwayeast')!, 'eea-sovereign');
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toContain('NO (Norway)');
    expect(verdict.reason).toContain('US (United States)');
    expect(verdict.reason).toContain('US CLOUD Act');
  });

  test('a Swiss operator in the EEA fails without blaming the CLOUD Act', () => {
    const verdict = evaluateRegion(lookupRegion('exoscale:at-vie-1')!, 'eea-sovereign');
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toContain('CH (Switzerland)');
    expect(verdict.reason).not.toContain('CLOUD Act');
  });

  test('a non-EEA location fails on the country first', () => {
    const verdict = evaluateRegion(lookupRegion('upcloud:uk-lon1')!, 'eea-sovereign');
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toContain('GB (United Kingdom) is outside the EEA');
  });

  test('an EEA location with an EEA operator passes', () => {
    const verdict = evaluateRegion(lookupRegion('hetzner:hel1')!, 'eea-sovereign');
    expect(verdict).toEqual({ allowed: true, reason: expect.stringContaining('FI (Finland)') });
    expect(verdict.reason).toContain('DE (Germany)');
  });
});

describe('policy allowCountries', () => {
  test('{ allowCountries: [NO] } passes exactly the Norwegian catalogue regions', () => {
    const passed = Object.values(regions)
      .filter((r) => evaluateRegion(r, { allowCountries: ['NO'] }).allowed)
      .map((r) => r.id)
      .sort();
    expect(passed).toEqual(['azure:norwayeast', 'azure:norwaywest', 'upcloud:no-svg1']);
  });

  test('the reason names the country and the list', () => {
    expect(evaluateRegion(lookupRegion('aws:eu-north-1')!, { allowCountries: ['NO'] }).reason).toBe(
      'SE (Sweden) is not one of the allowed countries [NO]: region aws:eu-north-1 (Stockholm) does not satisfy policy allowCountries[NO].',
    );
  });

  test('ignores the operator jurisdiction (it is a location rule)', () => {
    expect(evaluateRegion(lookupRegion('azure:norwaywest')!, { allowCountries: ['NO'] }).allowed).toBe(true);
  });
});

describe('ResidencyPolicySchema / parseResidencyPolicy / describePolicy', () => {
  test.each([
    ['eea', 'eea'],
    ['eea-sovereign', 'eea-sovereign'],
    [{ allowCountries: ['NO'] }, 'allowCountries[NO]'],
    [{ allowCountries: ['NO', 'SE'] }, 'allowCountries[NO,SE]'],
  ] as const)('accepts %j and describes it as %s', (policy, name) => {
    expect(describePolicy(parseResidencyPolicy(policy))).toBe(name);
    expect(ResidencyPolicySchema.safeParse(policy).success).toBe(true);
  });

  test.each([
    ['eu', /residency\.policy: must be "eea", "eea-sovereign" or \{ allowCountries/],
    [undefined, /residency\.policy: must be "eea"/],
    [{ allowCountries: [] }, /residency\.policy\.allowCountries: must name at least one country/],
    [{ allowCountries: ['NO', 'UK'] }, /residency\.policy\.allowCountries\[1\]: "UK" is not an ISO 3166-1 alpha-2 .*use GB/],
    [{ allowCountries: ['no'] }, /allowCountries\[0\]: .*upper case, "NO"/],
    [{ allowCountries: ['NO'], extra: true }, /Unrecognized key/],
  ])('rejects %j', (policy, message) => {
    expect(() => parseResidencyPolicy(policy)).toThrow(SovereignStackError);
    expect(() => parseResidencyPolicy(policy)).toThrow(message);
  });
});
