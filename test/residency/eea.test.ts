import {
  COUNTRY_NAMES,
  EEA_COUNTRIES,
  explainInvalidCountryCode,
  formatCountry,
  isEeaCountry,
  isIsoCountryCode,
  ISO_3166_ALPHA2,
} from '../../lib/residency/eea';

// Written out independently of the library: the 27 EU member states and the three EFTA EEA states.
const EU_27 = ['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT',
  'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE'];
const EFTA_EEA = ['IS', 'LI', 'NO'];

describe('EEA_COUNTRIES', () => {
  test('is exactly the 27 EU states plus IS, LI, NO', () => {
    expect(EEA_COUNTRIES).toHaveLength(30);
    expect([...EEA_COUNTRIES].sort()).toEqual([...EU_27, ...EFTA_EEA].sort());
  });

  test('has no duplicates and every code is an assigned ISO code', () => {
    expect(new Set(EEA_COUNTRIES).size).toBe(30);
    for (const code of EEA_COUNTRIES) expect(isIsoCountryCode(code)).toBe(true);
  });

  test.each([...EU_27, ...EFTA_EEA])('%s is in the EEA', (code) => {
    expect(isEeaCountry(code)).toBe(true);
  });

  test.each([
    ['GB', 'left the EU; adequacy decision, not EEA'],
    ['CH', 'EFTA but not EEA; adequacy decision'],
    ['US', 'third country'],
    ['RS', 'EU candidate, not EEA'],
    ['SJ', 'Svalbard and Jan Mayen: Norwegian, outside the EEA Agreement'],
    ['FO', 'Faroe Islands: Danish realm, outside the EU/EEA'],
    ['GL', 'Greenland: Danish realm, outside the EU/EEA'],
    ['TR', 'customs union, not EEA'],
    ['UA', 'EU candidate, not EEA'],
    ['EL', 'EU abbreviation for Greece, not an ISO code'],
    ['UK', 'not an ISO code'],
    ['no', 'lower case is not accepted'],
    ['', 'empty'],
  ])('%s is not in the EEA (%s)', (code) => {
    expect(isEeaCountry(code)).toBe(false);
  });
});

describe('ISO 3166-1 alpha-2', () => {
  test('the list holds the 249 assigned codes, unique, two upper-case letters each', () => {
    expect(ISO_3166_ALPHA2).toHaveLength(249);
    expect(new Set(ISO_3166_ALPHA2).size).toBe(249);
    for (const code of ISO_3166_ALPHA2) expect(code).toMatch(/^[A-Z]{2}$/);
  });

  test.each(['NO', 'GB', 'CH', 'US', 'SJ', 'FO', 'GL', 'AX', 'RS', 'GR'])('%s is assigned', (code) => {
    expect(isIsoCountryCode(code)).toBe(true);
  });

  test.each(['UK', 'EL', 'XK', 'XX', 'EU', 'YU', 'no', 'Gb', '', 'NOR', 'N'])('%j is not an assigned code', (code) => {
    expect(isIsoCountryCode(code)).toBe(false);
  });

  test('explains the usual mistakes with the code to use instead', () => {
    expect(explainInvalidCountryCode('NO')).toBeUndefined();
    expect(explainInvalidCountryCode('UK')).toMatch(/use GB/);
    expect(explainInvalidCountryCode('uk')).toMatch(/use GB/);
    expect(explainInvalidCountryCode('EL')).toMatch(/use GR/);
    expect(explainInvalidCountryCode('no')).toMatch(/upper case, "NO"/);
    expect(explainInvalidCountryCode('XX')).toMatch(/not an ISO 3166-1 alpha-2 country code/);
  });
});

describe('COUNTRY_NAMES / formatCountry', () => {
  test('names every EEA country', () => {
    for (const code of EEA_COUNTRIES) expect(COUNTRY_NAMES[code]).toEqual(expect.any(String));
  });

  test('every named code is an assigned ISO code', () => {
    for (const code of Object.keys(COUNTRY_NAMES)) expect(isIsoCountryCode(code)).toBe(true);
  });

  test('formats code and name, falling back to the bare code', () => {
    expect(formatCountry('GB')).toBe('GB (United Kingdom)');
    expect(formatCountry('NO')).toBe('NO (Norway)');
    expect(formatCountry('GR')).toBe('GR (Greece)');
    expect(formatCountry('ZW')).toBe('ZW');
  });
});
