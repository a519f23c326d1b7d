/**
 * The European Economic Area as data, plus the ISO 3166-1 alpha-2 code list we validate against.
 *
 * Edge cases, decided here once so the guard never has to guess:
 * - The check is by ISO 3166-1 alpha-2 **country code**, never by a provider's region name:
 *   `aws:eu-west-2` is London (GB) and `oci:eu-zurich-1` is Zurich (CH), both outside the EEA,
 *   whatever their `eu-` prefix says.
 * - Svalbard and Jan Mayen (SJ) are Norwegian territory but outside the EEA Agreement's scope
 *   (Protocol 40 to the EEA Agreement); they have their own ISO code, SJ, and it is not in the set.
 * - The Faroe Islands (FO) and Greenland (GL) belong to the Kingdom of Denmark but are outside the
 *   EU and the EEA (FO has an EU adequacy decision, GL has none; neither is EEA).
 * - The United Kingdom (GB, not "UK") and Switzerland (CH) have EU adequacy decisions, which
 *   permit transfers; they are still not EEA states, and the `eea` policy refuses them.
 * - Greece is GR in ISO 3166-1; "EL" is the EU's own abbreviation and is not an ISO code.
 * - EU outermost regions (Réunion RE, Guadeloupe GP, Martinique MQ, French Guiana GF, Mayotte YT,
 *   Saint-Martin MF; the Azores, Madeira and the Canaries use PT/ES) are part of the EU, but ISO
 *   gives the French ones their own codes. We do not add them: a datacentre there is rare, and a
 *   user who needs one should say so with `allowCountries`, not get it silently.
 */

/** The 30 EEA states: the 27 EU member states, then the EFTA members Iceland, Liechtenstein, Norway. */
export const EEA_COUNTRIES = Object.freeze([
  // EU-27
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE',
  'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
  // EFTA states in the EEA (Switzerland is EFTA but not EEA)
  'IS', 'LI', 'NO',
] as const);

/** One of the 30 EEA country codes. */
export type EeaCountry = (typeof EEA_COUNTRIES)[number];

const EEA_SET: ReadonlySet<string> = new Set<string>(EEA_COUNTRIES);

/** True when `code` is the ISO 3166-1 alpha-2 code (upper case) of one of the 30 EEA states. */
export function isEeaCountry(code: string): code is EeaCountry {
  return EEA_SET.has(code);
}

/**
 * All 249 officially assigned ISO 3166-1 alpha-2 codes. Not included on purpose: exceptionally
 * reserved codes (UK, EL, EU, ...), user-assigned codes (XK for Kosovo, XX, ZZ) and withdrawn ones
 * (AN, CS, YU), so `country: 'UK'` fails loudly instead of never matching the EEA set.
 */
export const ISO_3166_ALPHA2 = Object.freeze([
  'AD', 'AE', 'AF', 'AG', 'AI', 'AL', 'AM', 'AO', 'AQ', 'AR', 'AS', 'AT', 'AU', 'AW', 'AX', 'AZ',
  'BA', 'BB', 'BD', 'BE', 'BF', 'BG', 'BH', 'BI', 'BJ', 'BL', 'BM', 'BN', 'BO', 'BQ', 'BR', 'BS',
  'BT', 'BV', 'BW', 'BY', 'BZ',
  'CA', 'CC', 'CD', 'CF', 'CG', 'CH', 'CI', 'CK', 'CL', 'CM', 'CN', 'CO', 'CR', 'CU', 'CV', 'CW',
  'CX', 'CY', 'CZ',
  'DE', 'DJ', 'DK', 'DM', 'DO', 'DZ',
  'EC', 'EE', 'EG', 'EH', 'ER', 'ES', 'ET',
  'FI', 'FJ', 'FK', 'FM', 'FO', 'FR',
  'GA', 'GB', 'GD', 'GE', 'GF', 'GG', 'GH', 'GI', 'GL', 'GM', 'GN', 'GP', 'GQ', 'GR', 'GS', 'GT',
  'GU', 'GW', 'GY',
  'HK', 'HM', 'HN', 'HR', 'HT', 'HU',
  'ID', 'IE', 'IL', 'IM', 'IN', 'IO', 'IQ', 'IR', 'IS', 'IT',
  'JE', 'JM', 'JO', 'JP',
  'KE', 'KG', 'KH', 'KI', 'KM', 'KN', 'KP', 'KR', 'KW', 'KY', 'KZ',
  'LA', 'LB', 'LC', 'LI', 'LK', 'LR', 'LS', 'LT', 'LU', 'LV', 'LY',
  'MA', 'MC', 'MD', 'ME', 'MF', 'MG', 'MH', 'MK', 'ML', 'MM', 'MN', 'MO', 'MP', 'MQ', 'MR', 'MS',
  'MT', 'MU', 'MV', 'MW', 'MX', 'MY', 'MZ',
  'NA', 'NC', 'NE', 'NF', 'NG', 'NI', 'NL', 'NO', 'NP', 'NR', 'NU', 'NZ',
  'OM',
  'PA', 'PE', 'PF', 'PG', 'PH', 'PK', 'PL', 'PM', 'PN', 'PR', 'PS', 'PT', 'PW', 'PY',
  'QA',
  'RE', 'RO', 'RS', 'RU', 'RW',
  'SA', 'SB', 'SC', 'SD', 'SE', 'SG', 'SH', 'SI', 'SJ', 'SK', 'SL', 'SM', 'SN', 'SO', 'SR', 'SS',
  'ST', 'SV', 'SX', 'SY', 'SZ',
  'TC', 'TD', 'TF', 'TG', 'TH', 'TJ', 'TK', 'TL', 'TM', 'TN', 'TO', 'TR', 'TT', 'TV', 'TW', 'TZ',
  'UA', 'UG', 'UM', 'US', 'UY', 'UZ',
  'VA', 'VC', 'VE', 'VG', 'VI', 'VN', 'VU',
  'WF', 'WS',
  'YE', 'YT',
  'ZA', 'ZM', 'ZW',
] as const);

const ISO_SET: ReadonlySet<string> = new Set<string>(ISO_3166_ALPHA2);

/** True when `code` is an assigned ISO 3166-1 alpha-2 code, in upper case (`'NO'`, not `'no'`). */
export function isIsoCountryCode(code: string): boolean {
  return ISO_SET.has(code);
}

/**
 * Codes people write instead of the ISO one; used to turn "not a country code" into a fix.
 * Keys are upper-cased input.
 */
const COMMON_MISTAKES: Readonly<Record<string, string>> = Object.freeze({
  UK: 'GB (the United Kingdom is "GB" in ISO 3166-1)',
  EL: 'GR (Greece is "GR" in ISO 3166-1; "EL" is an EU-internal abbreviation)',
  XK: 'an explicit decision: Kosovo has no assigned ISO 3166-1 code ("XK" is user-assigned)',
  EU: 'the code of one member state: "EU" is not a country',
});

/**
 * Why `code` is not a valid ISO 3166-1 alpha-2 code, phrased as a fix; `undefined` when it is valid.
 * Used by the region and policy schemas so every refusal says what to write instead.
 */
export function explainInvalidCountryCode(code: string): string | undefined {
  if (isIsoCountryCode(code)) return undefined;
  const base = `"${code}" is not an ISO 3166-1 alpha-2 country code (two upper-case letters, such as "NO" or "DE")`;
  const upper = code.toUpperCase();
  const mistake = Object.prototype.hasOwnProperty.call(COMMON_MISTAKES, upper) ? COMMON_MISTAKES[upper] : undefined;
  if (mistake) return `${base}: use ${mistake}`;
  if (upper !== code && isIsoCountryCode(upper)) return `${base}: write it in upper case, "${upper}"`;
  return base;
}

/**
 * English short names for the EEA and for every country the region catalogue or the tests use, so
 * messages read "GB (United Kingdom)". Not a full gazetteer: {@link formatCountry} falls back to the
 * bare code for anything else.
 */
export const COUNTRY_NAMES: Readonly<Record<string, string>> = Object.freeze({
  // EEA
  AT: 'Austria', BE: 'Belgium', BG: 'Bulgaria', HR: 'Croatia', CY: 'Cyprus', CZ: 'Czechia',
  DK: 'Denmark', EE: 'Estonia', FI: 'Finland', FR: 'France', DE: 'Germany', GR: 'Greece',
  HU: 'Hungary', IE: 'Ireland', IT: 'Italy', LV: 'Latvia', LT: 'Lithuania', LU: 'Luxembourg',
  MT: 'Malta', NL: 'Netherlands', PL: 'Poland', PT: 'Portugal', RO: 'Romania', SK: 'Slovakia',
  SI: 'Slovenia', ES: 'Spain', SE: 'Sweden', IS: 'Iceland', LI: 'Liechtenstein', NO: 'Norway',
  // outside the EEA, used by the catalogue or as known traps
  GB: 'United Kingdom', CH: 'Switzerland', US: 'United States', CA: 'Canada',
  AE: 'United Arab Emirates', SG: 'Singapore', RS: 'Serbia', SJ: 'Svalbard and Jan Mayen',
  FO: 'Faroe Islands', GL: 'Greenland', TR: 'Türkiye', UA: 'Ukraine', IL: 'Israel',
  SA: 'Saudi Arabia', JP: 'Japan', AU: 'Australia',
});

/** `"GB (United Kingdom)"`, or just the code when we have no name for it. */
export function formatCountry(code: string): string {
  const name = Object.prototype.hasOwnProperty.call(COUNTRY_NAMES, code) ? COUNTRY_NAMES[code] : undefined;
  return name ? `${code} (${name})` : code;
}
