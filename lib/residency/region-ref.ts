import { z } from 'zod';
import { isRegion, type Region } from './region';
import { lookupRegion } from './regions';

/** A location: a catalogue id (`aws:eu-north-1`) or a Region from `defineRegion`. */
export type RegionRef = string | Region;

/** The catalogue id or the defined region's id. */
export function regionId(ref: RegionRef): string {
  if (typeof ref === 'string') return ref;
  return typeof ref?.id === 'string' ? ref.id : '(not a region)';
}

/**
 * The Region a reference names, or undefined for an id the catalogue does not know or an object
 * that `defineRegion` did not make (unknown locations fail closed).
 */
export function resolveRegionRef(ref: RegionRef): Region | undefined {
  if (typeof ref === 'string') return lookupRegion(ref);
  return isRegion(ref) ? ref : undefined;
}

/** Validates a RegionRef prop: a non-empty id, or a Region made by defineRegion. */
export const RegionRefSchema = z.union([
  z.string().min(1, { message: 'must be a region id such as "aws:eu-north-1"' }),
  z.custom<Region>((v) => isRegion(v), { message: 'must be a Region made by defineRegion() (a hand-built object is not evidence of a location)' }),
], { error: 'must be a catalogue region id (string) or a Region from defineRegion()' });
