/**
 * Completeness of the region catalogue (issue "Residency without holes", item 6): every public
 * region in Europe of the catalogued providers is present with its country, every non-EEA region
 * people mistake for an EEA one is refused by the `eea` policy, ids are unique, and every provider
 * block of lib/residency/regions.ts names its public source.
 *
 * The tables below were written by hand from the providers' own region lists (the URLs are the
 * `// source:` lines in regions.ts), independently of the catalogue.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { evaluateRegion } from '../../lib/residency/policy';
import { lookupRegion, regions } from '../../lib/residency/regions';

// The test's own EEA list, not the library's: a wrong EEA_COUNTRIES must not make its own expectation.
const EEA = new Set(['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT',
  'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO']);

/** European countries outside the EEA where a catalogued provider could have a region. */
const EUROPE_OUTSIDE_EEA = new Set(['GB', 'CH', 'RS', 'UA', 'TR', 'AL', 'BA', 'ME', 'MK', 'MD', 'AD', 'MC', 'SM',
  'VA', 'FO', 'GI', 'IM', 'JE', 'GG', 'SJ', 'BY', 'RU', 'XK']);
const EUROPE = new Set([...EEA, ...EUROPE_OUTSIDE_EEA]);

/** Regions opened (or announced with a code) in 2024-2026, southern Europe above all: id -> country. */
const OPENED_2024_2026: Array<[string, string]> = [
  ['aws:eu-south-2', 'ES'], // Spain (Aragón)
  ['aws:eu-central-2', 'CH'], // Zurich: not EEA
  ['azure:spaincentral', 'ES'],
  ['azure:italynorth', 'IT'],
  ['azure:polandcentral', 'PL'],
  ['azure:austriaeast', 'AT'],
  ['azure:belgiumcentral', 'BE'],
  ['azure:denmarkeast', 'DK'],
  ['gcp:europe-southwest1', 'ES'], // Madrid
  ['gcp:europe-west8', 'IT'], // Milan
  ['gcp:europe-west12', 'IT'], // Turin
  ['gcp:europe-west10', 'DE'], // Berlin
  ['gcp:europe-north2', 'SE'], // Stockholm
  ['oci:eu-madrid-1', 'ES'],
  ['oci:eu-madrid-3', 'ES'],
  ['oci:eu-milan-1', 'IT'],
  ['oci:eu-turin-1', 'IT'],
  ['oci:eu-paris-1', 'FR'],
  ['oci:eu-marseille-1', 'FR'],
  ['oci:eu-stockholm-1', 'SE'],
  ['oci:eu-dublin-3', 'IE'],
  ['oci:eu-jovanovac-1', 'RS'], // Serbia: not EEA
  ['oci:eu-frankfurt-2', 'DE'], // Oracle EU Sovereign Cloud
  ['oci:eu-madrid-2', 'ES'], // Oracle EU Sovereign Cloud
  ['upcloud:es-mad1', 'ES'],
  ['ovh:eu-west-par', 'FR'],
  ['ovh:eu-south-mil', 'IT'],
  ['exoscale:at-vie-2', 'AT'],
];

/**
 * Every public region in Europe (EEA or not) of each catalogued provider, by provider and code.
 * The catalogue must hold exactly these in European countries: a region added to the catalogue
 * without an entry here, or listed here but missing there, fails.
 */
const EUROPE_BY_PROVIDER: Record<string, Record<string, string>> = {
  aws: {
    'eu-north-1': 'SE', 'eu-west-1': 'IE', 'eu-west-2': 'GB', 'eu-west-3': 'FR', 'eu-central-1': 'DE',
    'eu-central-2': 'CH', 'eu-south-1': 'IT', 'eu-south-2': 'ES',
  },
  gcp: {
    'europe-north1': 'FI', 'europe-north2': 'SE', 'europe-west1': 'BE', 'europe-west2': 'GB', 'europe-west3': 'DE',
    'europe-west4': 'NL', 'europe-west6': 'CH', 'europe-west8': 'IT', 'europe-west9': 'FR', 'europe-west10': 'DE',
    'europe-west12': 'IT', 'europe-southwest1': 'ES', 'europe-central2': 'PL',
  },
  azure: {
    norwayeast: 'NO', norwaywest: 'NO', swedencentral: 'SE', denmarkeast: 'DK', northeurope: 'IE', westeurope: 'NL',
    germanywestcentral: 'DE', germanynorth: 'DE', francecentral: 'FR', francesouth: 'FR', italynorth: 'IT',
    spaincentral: 'ES', polandcentral: 'PL', austriaeast: 'AT', belgiumcentral: 'BE', uksouth: 'GB', ukwest: 'GB',
    switzerlandnorth: 'CH', switzerlandwest: 'CH',
  },
  oci: {
    'eu-stockholm-1': 'SE', 'eu-frankfurt-1': 'DE', 'eu-amsterdam-1': 'NL', 'eu-paris-1': 'FR',
    'eu-marseille-1': 'FR', 'eu-milan-1': 'IT', 'eu-turin-1': 'IT', 'eu-madrid-1': 'ES', 'eu-madrid-3': 'ES',
    'eu-dublin-3': 'IE', 'eu-zurich-1': 'CH', 'eu-jovanovac-1': 'RS', 'uk-london-1': 'GB', 'uk-cardiff-1': 'GB',
    'eu-frankfurt-2': 'DE', 'eu-madrid-2': 'ES',
  },
  hetzner: { fsn1: 'DE', nbg1: 'DE', hel1: 'FI' },
  ovh: {
    gra: 'FR', sbg: 'FR', rbx: 'FR', 'eu-west-par': 'FR', 'eu-south-mil': 'IT', waw: 'PL', de: 'DE', uk: 'GB',
  },
  upcloud: {
    'fi-hel1': 'FI', 'fi-hel2': 'FI', 'se-sto1': 'SE', 'no-svg1': 'NO', 'dk-cph1': 'DK', 'de-fra1': 'DE',
    'nl-ams1': 'NL', 'pl-waw1': 'PL', 'es-mad1': 'ES', 'uk-lon1': 'GB',
  },
  scaleway: { 'fr-par': 'FR', 'nl-ams': 'NL', 'pl-waw': 'PL' },
  exoscale: {
    'de-fra-1': 'DE', 'de-muc-1': 'DE', 'at-vie-1': 'AT', 'at-vie-2': 'AT', 'bg-sof-1': 'BG', 'ch-gva-2': 'CH',
    'ch-dk-2': 'CH',
  },
};

/**
 * Regions outside the EEA that look European (an `eu`/`europe`/`uk` name, a European provider, or
 * a region Europeans are offered as "EMEA"): id -> country. Every one must be refused by `eea`.
 */
const CONFUSABLES: Array<[string, string]> = [
  ['aws:eu-west-2', 'GB'], ['aws:eu-central-2', 'CH'], ['aws:il-central-1', 'IL'], ['aws:me-central-1', 'AE'],
  ['aws:me-south-1', 'BH'],
  ['gcp:europe-west2', 'GB'], ['gcp:europe-west6', 'CH'], ['gcp:me-west1', 'IL'], ['gcp:me-central1', 'QA'],
  ['gcp:me-central2', 'SA'],
  ['azure:uksouth', 'GB'], ['azure:ukwest', 'GB'], ['azure:switzerlandnorth', 'CH'], ['azure:switzerlandwest', 'CH'],
  ['azure:israelcentral', 'IL'], ['azure:qatarcentral', 'QA'], ['azure:uaenorth', 'AE'],
  ['oci:eu-zurich-1', 'CH'], ['oci:eu-jovanovac-1', 'RS'], ['oci:uk-london-1', 'GB'], ['oci:uk-cardiff-1', 'GB'],
  ['oci:il-jerusalem-1', 'IL'], ['oci:me-dubai-1', 'AE'], ['oci:me-jeddah-1', 'SA'],
  ['ovh:uk', 'GB'], ['ovh:bhs', 'CA'],
  ['upcloud:uk-lon1', 'GB'],
  ['exoscale:ch-gva-2', 'CH'], ['exoscale:ch-dk-2', 'CH'],
];

/** The provider's own domains a `// source:` line of its block must point to (first source line). */
const OWN_DOMAINS: Record<string, RegExp> = {
  aws: /^https:\/\/docs\.aws\.amazon\.com\//,
  gcp: /^https:\/\/(docs\.)?cloud\.google\.com\//,
  azure: /^https:\/\/learn\.microsoft\.com\//,
  oci: /^https:\/\/docs\.oracle\.com\//,
  hetzner: /^https:\/\/docs\.hetzner\.com\//,
  ovh: /^https:\/\/(github\.com\/ovh\/|([a-z]+\.)?ovhcloud\.com\/)/,
  upcloud: /^https:\/\/([a-z]+\.)?upcloud\.com\//,
  scaleway: /^https:\/\/www\.scaleway\.com\//,
  exoscale: /^https:\/\/([a-z0-9-]+\.)?exoscale\.com\//,
};

const SOURCE_FILE = join(__dirname, '../../lib/residency/regions.ts');

interface Block {
  readonly operatorConst: string;
  readonly provider: string;
  readonly sources: string[];
  readonly rows: Array<[code: string, country: string]>;
}

/** Reads the TABLE of regions.ts as text: its operator blocks, their source lines and rows. */
function parseTable(text: string): Block[] {
  const providerOf = new Map<string, string>();
  for (const m of text.matchAll(/const (\w+): Operator = \{\s*provider: '([a-z0-9-]+)'/g)) providerOf.set(m[1], m[2]);
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let current: { operatorConst: string; provider: string; sources: string[]; rows: Array<[string, string]> } | undefined;
  lines.forEach((line, i) => {
    const start = /^\s*\[(\w+), \[\s*$/.exec(line);
    if (start) {
      const sources: string[] = [];
      for (let j = i - 1; j >= 0 && /^\s*\/\//.test(lines[j]); j--) {
        const src = /^\s*\/\/ source: (.*)$/.exec(lines[j]);
        if (src) sources.unshift(src[1].trim());
      }
      current = { operatorConst: start[1], provider: providerOf.get(start[1]) ?? '?', sources, rows: [] };
      blocks.push(current);
      return;
    }
    if (/^\s*\]\],\s*$/.test(line)) {
      current = undefined;
      return;
    }
    const row = /^\s*\['([a-z0-9-]+)', '([A-Z]{2})'/.exec(line);
    if (row && current) current.rows.push([row[1], row[2]]);
  });
  return blocks;
}

const blocks = parseTable(readFileSync(SOURCE_FILE, 'utf8'));

describe('the 2024-2026 European regions', () => {
  test.each(OPENED_2024_2026)('%s is catalogued in %s', (id, country) => {
    const region = lookupRegion(id);
    expect(region).toBeDefined();
    expect(region!.country).toBe(country);
    expect(evaluateRegion(region!, 'eea').allowed).toBe(EEA.has(country));
  });
});

describe('every public region in Europe of the catalogued providers', () => {
  const expected = Object.entries(EUROPE_BY_PROVIDER).flatMap(([provider, codes]) =>
    Object.entries(codes).map(([code, country]) => [`${provider}:${code}`, country] as const),
  );

  test.each(expected)('%s is catalogued in %s', (id, country) => {
    expect(lookupRegion(id)?.country).toBe(country);
  });

  test('the catalogue has no European region the table above does not list', () => {
    const catalogued = Object.values(regions)
      .filter((r) => EUROPE.has(r.country))
      .map((r) => r.id)
      .sort();
    expect(catalogued).toEqual(expected.map(([id]) => id).sort());
  });

  test('every provider the brief names has a block: AWS, Azure, Google Cloud, Oracle, Hetzner, UpCloud, OVHcloud, Scaleway, Exoscale', () => {
    const providers = new Set(Object.keys(regions).map((id) => id.split(':')[0]));
    expect([...providers].sort()).toEqual(Object.keys(EUROPE_BY_PROVIDER).sort());
  });

  test('every country the 2024-2026 openings brought is represented', () => {
    const countries = new Set(Object.values(regions).map((r) => r.country));
    for (const c of ['ES', 'IT', 'AT', 'BE', 'DK', 'PL', 'BG']) expect(countries).toContain(c);
  });
});

describe('confusables: non-EEA regions that look European are refused by eea', () => {
  test.each(CONFUSABLES)('%s (%s) is refused by eea and eea-sovereign', (id, country) => {
    const region = lookupRegion(id);
    expect(region).toBeDefined();
    expect(region!.country).toBe(country);
    expect(EEA.has(country)).toBe(false);
    const eea = evaluateRegion(region!, 'eea');
    expect(eea.allowed).toBe(false);
    expect(eea.reason).toContain(`${country}`);
    expect(eea.reason).toMatch(/is outside the EEA/);
    expect(evaluateRegion(region!, 'eea-sovereign').allowed).toBe(false);
  });

  test('every catalogued region with a European-looking name outside the EEA is in the list above', () => {
    const looksEuropean = /^(eu|europe|uk|ch|il)[a-z0-9]*-|^(uk|switzerland|israel)/;
    const outside = Object.values(regions)
      .filter((r) => !EEA.has(r.country) && (looksEuropean.test(r.id.split(':')[1]) || EUROPE.has(r.country)))
      .map((r) => r.id)
      .sort();
    const listed = new Set(CONFUSABLES.map(([id]) => id));
    expect(outside.filter((id) => !listed.has(id))).toEqual([]);
  });

  test('the country decides, never the name: eu-/europe- regions both pass and fail', () => {
    const euNamed = Object.values(regions).filter((r) => /^(eu|europe)-/.test(r.id.split(':')[1]));
    expect(euNamed.some((r) => evaluateRegion(r, 'eea').allowed)).toBe(true);
    expect(euNamed.some((r) => !evaluateRegion(r, 'eea').allowed)).toBe(true);
  });
});

describe('regions.ts table hygiene', () => {
  test('the text parser sees every block and row (guards the tests below)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    expect(blocks.every((b) => b.provider !== '?')).toBe(true);
  });

  test('ids are unique across the table: as many rows as catalogue entries, none repeated', () => {
    const ids = blocks.flatMap((b) => b.rows.map(([code]) => `${b.provider}:${code}`));
    const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(duplicates).toEqual([]);
    expect(ids.length).toBe(Object.keys(regions).length);
    expect([...ids].sort()).toEqual(Object.keys(regions).sort());
  });

  test('the text rows agree with the catalogue (country per id)', () => {
    for (const b of blocks) {
      for (const [code, country] of b.rows) expect([`${b.provider}:${code}`, regions[`${b.provider}:${code}`]?.country]).toEqual([`${b.provider}:${code}`, country]);
    }
  });

  test.each(blocks.map((b) => [b.operatorConst, b] as const))(
    'block %s is preceded by a // source: line pointing to the provider\'s own region list',
    (_name, block) => {
      expect(block.sources.length).toBeGreaterThanOrEqual(1);
      const first = block.sources[0];
      expect(first).toMatch(OWN_DOMAINS[block.provider]);
      expect(block.rows.length).toBeGreaterThan(0);
    },
  );
});
