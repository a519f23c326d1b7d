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
