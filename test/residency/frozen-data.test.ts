/**
 * Issue 13 class 5: no importer can change the library's shared data. Before the fix, setting
 * `COUNTRY_NAMES.US = 'Norway'` changed the residency report, and EEA_COUNTRIES, HA_ALL_POLICY and
 * DEFAULT_CLIENT_CIDRS could be edited the same way.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EEA_COUNTRIES, evaluateRegion, lookupRegion } from '../../lib';
import { COUNTRY_NAMES, ISO_3166_ALPHA2, formatCountry } from '../../lib/residency/eea';
import { parseResidencyPolicy } from '../../lib/residency/policy';

const LIB = path.join(__dirname, '..', '..', 'lib');

function modules(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? modules(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/**
 * Values that are data (not functions, classes, zod schemas or patterns) exported by any module
 * of lib/: the package entry point exports a few of them, the components import the rest.
 */
function exportedData(): Array<[string, object]> {
  const exports = modules(LIB).map((file) => require(file) as Record<string, unknown>);
  // Modules re-exported whole (the `renderers` namespace; semver, re-exported by util/versions) are code, not data.
  const seen = new Set<unknown>(exports);
  return exports.flatMap((m) => Object.entries(m)).filter(([name]) => name !== 'semver')
    .filter(([, value]) => typeof value === 'object' && value !== null && !('_zod' in value) && !(value instanceof RegExp))
    .filter(([, value]) => !seen.has(value) && !!seen.add(value)) as Array<[string, object]>;
}

/** Paths inside `value` (itself included) that are not frozen. */
function unfrozen(value: unknown, path: string, seen = new Set<unknown>()): string[] {
  if (typeof value !== 'object' || value === null || seen.has(value)) return [];
  seen.add(value);
  const here = Object.isFrozen(value) ? [] : [path];
  return [...here, ...Object.entries(value).flatMap(([k, v]) => unfrozen(v, `${path}.${k}`, seen))];
}

describe('issue 13 class 5: exported data is frozen', () => {
  it('finds the data exports it checks', () => {
    const names = exportedData().map(([name]) => name);
    expect(names).toEqual(expect.arrayContaining([
      'EEA_COUNTRIES', 'ISO_3166_ALPHA2', 'COUNTRY_NAMES', 'HA_ALL_POLICY', 'DEFAULT_CLIENT_CIDRS',
      'SUPPORTED_POSTGRES_VERSIONS', 'WAL_COMPRESSION_METHODS', 'DEFAULT_DATASTORE_NODE_LABELS', 'OSLO_REGION',
    ]));
  });

  it.each(exportedData())('%s is frozen all the way down', (name, value) => {
    expect(unfrozen(value, name)).toEqual([]);
  });

  it('COUNTRY_NAMES.US = "Norway" throws and changes no verdict', () => {
    expect(() => { (COUNTRY_NAMES as Record<string, string>).US = 'Norway'; }).toThrow(TypeError);
    expect(formatCountry('US')).toBe('US (United States)');
    expect(evaluateRegion(lookupRegion('aws:us-east-1') ?? lookupRegion('aws:eu-west-2')!, 'eea').reason).not.toContain('Norway');
  });

  it('EEA_COUNTRIES and ISO_3166_ALPHA2 cannot grow', () => {
    expect(() => (EEA_COUNTRIES as unknown as string[]).push('US')).toThrow(TypeError);
    expect(() => (ISO_3166_ALPHA2 as unknown as string[]).push('UK')).toThrow(TypeError);
    expect(EEA_COUNTRIES).toHaveLength(30);
  });

  it('formatCountry reads own entries only (no "constructor" from the prototype)', () => {
    expect(formatCountry('constructor')).toBe('constructor');
  });

  it('a parsed policy is frozen, so a caller cannot widen it after the guard took it', () => {
    const policy = parseResidencyPolicy({ allowCountries: ['NO'] });
    expect(Object.isFrozen(policy)).toBe(true);
    expect(typeof policy !== 'string' && Object.isFrozen(policy.allowCountries)).toBe(true);
  });
});
