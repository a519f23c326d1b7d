import { z } from 'zod';
import type { Region } from './region';
import { lookupRegion } from './regions';

/** A location: a catalogue id (`aws:eu-north-1`) or a Region from `defineRegion`. */
export type RegionRef = string | Region;

/** The catalogue id or the defined region's id. */
export function regionId(ref: RegionRef): string {
  return typeof ref === 'string' ? ref : ref.id;
}

/** The Region a reference names, or undefined for an id the catalogue does not know. */
export function resolveRegionRef(ref: RegionRef): Region | undefined {
  return typeof ref === 'string' ? lookupRegion(ref) : ref;
}

/** Validates a RegionRef prop: a non-empty id, or an object made by defineRegion. */
export const RegionRefSchema = z.union([
  z.string().min(1, { message: 'must be a region id such as "aws:eu-north-1"' }),
  z.object({ id: z.string(), country: z.string() }).passthrough(),
], { error: 'must be a catalogue region id (string) or a Region from defineRegion()' });
