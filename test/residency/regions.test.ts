import { SovereignStackError } from '../../lib/util/errors';
import { isRegion } from '../../lib/residency/region';
import { defineRegion } from '../../lib/residency/regions';
import { lookupRegion, OSLO_REGION, regions } from '../../lib/residency/regions';

/**
 * The expected location of every catalogue entry, written out by hand from the providers' own
 * region pages, independently of lib/residency/regions.ts. Adding a region to the catalogue means
 * adding its expectation here (the key sets must match).
 */
const EXPECTED_COUNTRY: Record<string, string> = {
  // AWS: https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
  'aws:eu-north-1': 'SE', 'aws:eu-west-1': 'IE', 'aws:eu-west-2': 'GB', 'aws:eu-west-3': 'FR',
  'aws:eu-central-1': 'DE', 'aws:eu-central-2': 'CH', 'aws:eu-south-1': 'IT', 'aws:eu-south-2': 'ES',
  'aws:il-central-1': 'IL', 'aws:me-central-1': 'AE', 'aws:me-south-1': 'BH',
  'aws:us-east-1': 'US', 'aws:us-east-2': 'US', 'aws:us-west-2': 'US', 'aws:ap-southeast-1': 'SG',
  // Google Cloud: https://cloud.google.com/compute/docs/regions-zones
  'gcp:europe-north1': 'FI', 'gcp:europe-north2': 'SE', 'gcp:europe-west1': 'BE', 'gcp:europe-west2': 'GB',
  'gcp:europe-west3': 'DE', 'gcp:europe-west4': 'NL', 'gcp:europe-west6': 'CH', 'gcp:europe-west8': 'IT',
  'gcp:europe-west9': 'FR', 'gcp:europe-west10': 'DE', 'gcp:europe-west12': 'IT', 'gcp:europe-southwest1': 'ES',
  'gcp:europe-central2': 'PL', 'gcp:me-west1': 'IL', 'gcp:me-central1': 'QA', 'gcp:me-central2': 'SA',
  'gcp:us-central1': 'US', 'gcp:us-east4': 'US', 'gcp:asia-southeast1': 'SG',
  // Azure: https://learn.microsoft.com/azure/reliability/regions-list
  'azure:norwayeast': 'NO', 'azure:norwaywest': 'NO', 'azure:swedencentral': 'SE', 'azure:denmarkeast': 'DK',
  'azure:northeurope': 'IE', 'azure:westeurope': 'NL', 'azure:germanywestcentral': 'DE', 'azure:germanynorth': 'DE',
  'azure:francecentral': 'FR', 'azure:francesouth': 'FR', 'azure:italynorth': 'IT', 'azure:spaincentral': 'ES',
  'azure:polandcentral': 'PL', 'azure:austriaeast': 'AT', 'azure:belgiumcentral': 'BE',
  'azure:uksouth': 'GB', 'azure:ukwest': 'GB', 'azure:switzerlandnorth': 'CH', 'azure:switzerlandwest': 'CH',
  'azure:israelcentral': 'IL', 'azure:qatarcentral': 'QA', 'azure:uaenorth': 'AE',
  'azure:eastus': 'US', 'azure:southeastasia': 'SG',
  // Oracle: https://docs.oracle.com/en-us/iaas/Content/General/Concepts/regions.htm
  'oci:eu-stockholm-1': 'SE', 'oci:eu-frankfurt-1': 'DE', 'oci:eu-amsterdam-1': 'NL', 'oci:eu-paris-1': 'FR',
  'oci:eu-marseille-1': 'FR', 'oci:eu-milan-1': 'IT', 'oci:eu-turin-1': 'IT', 'oci:eu-madrid-1': 'ES',
  'oci:eu-madrid-3': 'ES', 'oci:eu-dublin-3': 'IE', 'oci:eu-zurich-1': 'CH', 'oci:eu-jovanovac-1': 'RS',
  'oci:uk-london-1': 'GB', 'oci:uk-cardiff-1': 'GB', 'oci:il-jerusalem-1': 'IL', 'oci:me-dubai-1': 'AE',
  'oci:me-jeddah-1': 'SA', 'oci:us-ashburn-1': 'US', 'oci:eu-frankfurt-2': 'DE', 'oci:eu-madrid-2': 'ES',
  // Hetzner: https://docs.hetzner.com/cloud/general/locations/
  'hetzner:fsn1': 'DE', 'hetzner:nbg1': 'DE', 'hetzner:hel1': 'FI', 'hetzner:ash': 'US', 'hetzner:hil': 'US',
  'hetzner:sin': 'SG',
  // OVHcloud: "Available datacenters" guide (help.ovhcloud.com)
  'ovh:gra': 'FR', 'ovh:sbg': 'FR', 'ovh:rbx': 'FR', 'ovh:eu-west-par': 'FR', 'ovh:eu-south-mil': 'IT',
  'ovh:waw': 'PL', 'ovh:de': 'DE', 'ovh:uk': 'GB', 'ovh:bhs': 'CA',
  // UpCloud: https://developers.upcloud.com/1.3/5-zones/
  'upcloud:fi-hel1': 'FI', 'upcloud:fi-hel2': 'FI', 'upcloud:se-sto1': 'SE', 'upcloud:no-svg1': 'NO',
  'upcloud:dk-cph1': 'DK', 'upcloud:de-fra1': 'DE', 'upcloud:nl-ams1': 'NL', 'upcloud:pl-waw1': 'PL',
  'upcloud:es-mad1': 'ES', 'upcloud:uk-lon1': 'GB', 'upcloud:us-nyc1': 'US',
  // Scaleway: https://www.scaleway.com/en/docs/account/reference-content/products-availability/
  'scaleway:fr-par': 'FR', 'scaleway:nl-ams': 'NL', 'scaleway:pl-waw': 'PL',
  // Exoscale: https://www.exoscale.com/datacenters/
  'exoscale:ch-gva-2': 'CH', 'exoscale:ch-dk-2': 'CH', 'exoscale:de-fra-1': 'DE', 'exoscale:de-muc-1': 'DE',
  'exoscale:at-vie-1': 'AT', 'exoscale:at-vie-2': 'AT', 'exoscale:bg-sof-1': 'BG',
};

/** Operator home jurisdiction per provider (see the decisions in regions.ts; Exoscale: Akenes SA, CH). */
const EXPECTED_JURISDICTION: Record<string, string> = {
  aws: 'US', gcp: 'US', azure: 'US', oci: 'US',
  hetzner: 'DE', ovh: 'FR', upcloud: 'FI', scaleway: 'FR', exoscale: 'CH',
};

/** Regions whose name suggests the EU but which are not in the EEA, and the country they really are in. */
const TRAPS: Array<[string, string, string]> = [
  ['aws:eu-west-2', 'GB', 'London'],
  ['aws:eu-central-2', 'CH', 'Zurich'],
  ['gcp:europe-west2', 'GB', 'London'],
  ['gcp:europe-west6', 'CH', 'Zurich'],
  ['oci:eu-zurich-1', 'CH', 'Zurich'],
  ['oci:eu-jovanovac-1', 'RS', 'Jovanovac'],
  ['azure:uksouth', 'GB', 'London'],
  ['azure:switzerlandnorth', 'CH', 'Zurich'],
  ['exoscale:ch-gva-2', 'CH', 'Geneva'],
  ['oci:uk-cardiff-1', 'GB', 'Newport'],
  ['aws:il-central-1', 'IL', 'Tel Aviv'],
  ['gcp:me-west1', 'IL', 'Tel Aviv'],
  ['oci:il-jerusalem-1', 'IL', 'Jerusalem'],
];

const CLEARLY_OUTSIDE: Array<[string, string]> = [
  ['aws:us-east-1', 'US'], ['gcp:us-central1', 'US'], ['azure:eastus', 'US'], ['oci:uk-london-1', 'GB'],
  ['hetzner:ash', 'US'], ['ovh:bhs', 'CA'], ['aws:me-central-1', 'AE'],
];

const NORDIC: Array<[string, string, string]> = [
  ['aws:eu-north-1', 'SE', 'Stockholm'],
  ['gcp:europe-north1', 'FI', 'Hamina'],
  ['gcp:europe-north2', 'SE', 'Stockholm'],
  ['azure:norwayeast', 'NO', 'Oslo'],
  ['azure:norwaywest', 'NO', 'Stavanger'],
  ['azure:swedencentral', 'SE', 'Gävle'],
  ['upcloud:no-svg1', 'NO', 'Stavanger'],
  ['upcloud:fi-hel1', 'FI', 'Helsinki'],
  ['upcloud:se-sto1', 'SE', 'Stockholm'],
  ['hetzner:hel1', 'FI', 'Helsinki'],
  ['oci:eu-stockholm-1', 'SE', 'Stockholm'],
  ['azure:denmarkeast', 'DK', 'Copenhagen'],
  ['upcloud:dk-cph1', 'DK', 'Copenhagen'],
];

describe('region catalogue', () => {
  const entries = Object.entries(regions);

  test('has a hand-written expectation for every entry, and no expectation without an entry', () => {
    expect(Object.keys(regions).sort()).toEqual(Object.keys(EXPECTED_COUNTRY).sort());
    expect(entries.length).toBeGreaterThanOrEqual(110);
  });

  test.each(entries)('%s: country, jurisdiction, id and label agree with the expectation', (id, region) => {
    expect(region.id).toBe(id);
    expect(id).toMatch(/^[a-z0-9-]+:[a-z0-9-]+$/);
    expect(region.country).toBe(EXPECTED_COUNTRY[id]);
    expect(region.operatorJurisdiction).toBe(EXPECTED_JURISDICTION[id.split(':')[0]]);
    expect(region.operator.length).toBeGreaterThan(0);
    expect(region.kubernetesRegionLabel).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(Object.isFrozen(region)).toBe(true);
    expect(isRegion(region)).toBe(true);
  });

  test.each(TRAPS)('trap %s is catalogued in %s (%s)', (id, country, city) => {
    const region = lookupRegion(id);
    expect(region).toBeDefined();
    expect(region!.country).toBe(country);
    expect(region!.city).toBe(city);
  });

  test.each(CLEARLY_OUTSIDE)('%s is catalogued in %s', (id, country) => {
    expect(lookupRegion(id)?.country).toBe(country);
  });

  test.each(NORDIC)('Nordic %s is catalogued in %s (%s)', (id, country, city) => {
    expect(lookupRegion(id)?.country).toBe(country);
    expect(lookupRegion(id)?.city).toBe(city);
  });

  test.each([
    // [id, label the provider's cloud controller puts in topology.kubernetes.io/region]
    ['aws:eu-north-1', 'eu-north-1'],
    ['azure:norwayeast', 'norwayeast'],
    ['gcp:europe-north1', 'europe-north1'],
    ['hetzner:hel1', 'hel1'], // hcloud CCM: location name, not the network zone "eu-central"
    ['exoscale:ch-gva-2', 'ch-gva-2'],
    ['oci:us-ashburn-1', 'iad'],
    ['oci:eu-frankfurt-1', 'eu-frankfurt-1'],
    ['scaleway:fr-par', 'fr-par'],
  ])('%s has node region label %s', (id, label) => {
    expect(lookupRegion(id)?.kubernetesRegionLabel).toBe(label);
  });

  test('lookupRegion returns undefined for unknown ids and inherited property names', () => {
    expect(lookupRegion('aws:eu-nowhere-1')).toBeUndefined();
    expect(lookupRegion('toString')).toBeUndefined();
    expect(lookupRegion('__proto__')).toBeUndefined();
  });

  test('the catalogue is frozen', () => {
    expect(Object.isFrozen(regions)).toBe(true);
  });
});

describe('OSLO_REGION', () => {
  test('is a Norwegian-operated location in Oslo', () => {
    expect(OSLO_REGION).toEqual({
      id: 'onprem:oslo-kvm-1',
      country: 'NO',
      city: 'Oslo',
      operator: expect.any(String),
      operatorJurisdiction: 'NO',
      kubernetesRegionLabel: 'oslo-1',
      description: expect.stringMatching(/KVM.*NVMe/),
    });
    expect(lookupRegion(OSLO_REGION.id)).toBeUndefined();
  });
});

describe('defineRegion', () => {
  test('applies defaults: jurisdiction = country, label = code part of id, operator = provider part', () => {
    const r = defineRegion({ id: 'onprem:bergen-1', country: 'NO' });
    expect(r).toEqual({
      id: 'onprem:bergen-1',
      country: 'NO',
      operator: 'onprem',
      operatorJurisdiction: 'NO',
      kubernetesRegionLabel: 'bergen-1',
    });
    expect(Object.isFrozen(r)).toBe(true);
  });

  test('keeps explicit values', () => {
    const r = defineRegion({
      id: 'colo:trd-2', country: 'NO', city: 'Trondheim', operator: 'Example AS',
      operatorJurisdiction: 'SE', kubernetesRegionLabel: 'TRD_2', description: 'rack 4',
    });
    expect(r).toMatchObject({ city: 'Trondheim', operator: 'Example AS', operatorJurisdiction: 'SE', kubernetesRegionLabel: 'TRD_2', description: 'rack 4' });
  });

  test.each([
    ['XX', /region\.country: "XX" is not an ISO 3166-1 alpha-2 country code/],
    ['uk', /region\.country: "uk" is not an ISO 3166-1 alpha-2 country code.*use GB/],
    ['UK', /region\.country: .*use GB/],
    ['EL', /region\.country: .*use GR/],
    ['', /region\.country: "" is not an ISO 3166-1 alpha-2 country code/],
    ['no', /region\.country: .*upper case, "NO"/],
  ])('rejects country %j with a message naming the prop', (country, message) => {
    expect(() => defineRegion({ id: 'onprem:x', country })).toThrow(SovereignStackError);
    expect(() => defineRegion({ id: 'onprem:x', country })).toThrow(message);
  });

  test.each(['oslo', 'OnPrem:oslo', 'onprem:', ':oslo', 'onprem:oslo_1', 'onprem:oslo:1', 'onprem:-oslo', '', 'on prem:oslo'])(
    'rejects id %j with a message naming the prop',
    (id) => {
      expect(() => defineRegion({ id, country: 'NO' })).toThrow(/region\.id: must be "provider:code"/);
    },
  );

  test('rejects a bad operatorJurisdiction, label and unknown props, all at once', () => {
    let message = '';
    try {
      defineRegion({
        id: 'onprem:x', country: 'NO', operatorJurisdiction: 'USA', kubernetesRegionLabel: 'bad label',
        // @ts-expect-error: a misspelt prop must not be silently ignored
        jurisdiction: 'NO',
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/region\.operatorJurisdiction: "USA" is not an ISO 3166-1 alpha-2/);
    expect(message).toMatch(/region\.kubernetesRegionLabel: must be a Kubernetes label value/);
    expect(message).toMatch(/jurisdiction/);
  });
});
