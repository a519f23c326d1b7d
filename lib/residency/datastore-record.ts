import { IConstruct } from 'constructs';
import { RegionRef } from './region-ref';

// What both the datastore records (datastore.ts) and the guard (residency-guard.ts) need, so that
// neither imports the other's module in both directions: datastore.ts -> residency-guard.ts ->
// datastore-record.ts, no cycle.

/** Why a copy of the data is where it is. */
export type DatastoreRole = 'primary' | 'replica' | 'backup';

/** One place a copy of a datastore's data lives. */
export interface DatastoreLocation {
  /** Which copy: the primary, a replica or a backup. */
  readonly role: DatastoreRole;
  /** Where it lives: a catalogue id or a `Region` from `defineRegion`. */
  readonly location: RegionRef;
}

/**
 * Anything that stores personal data. Implement it on your own constructs (an object-storage
 * bucket, a managed database) and the stack's ResidencyGuard checks them like ours.
 */
export interface IDatastore extends IConstruct {
  /** What is stored, in a few words: "postgresql-data", "rabbitmq-messages", "object-storage". */
  readonly datastoreKind: string;
  /** Every place a copy of the data lives: primary, replicas and backups. */
  readonly datastoreLocations: readonly DatastoreLocation[];
}

/** Duck-typed check, so user classes need no base class. */
export function isDatastore(x: unknown): x is IDatastore {
  const d = x as Partial<IDatastore> | undefined;
  return !!d && typeof d.datastoreKind === 'string' && Array.isArray(d.datastoreLocations);
}

/**
 * What a target actually synthesized for a datastore's placement, read from the final resources
 * (overrides and aspects included), and where it disagrees with the datastore's record.
 */
export interface PlacementEvidence {
  /** The placement as the report states it, e.g. `node labels topology.kubernetes.io/region=oslo-1`. */
  readonly placement: string;
  /** Each way the synthesized placement lets the data land elsewhere than its record says. */
  readonly problems: readonly string[];
}

/**
 * Our own records (the `Datastore` construct), each with how to read its synthesized placement.
 * They validate themselves; the guard's stack-level check covers the others.
 */
const ownRecords = new WeakMap<IDatastore, () => PlacementEvidence | undefined>();

/** Registers one of our own datastore records (called by its constructor). */
export function registerOwnRecord(record: IDatastore, placement: () => PlacementEvidence | undefined): void {
  ownRecords.set(record, placement);
}

/** Whether `d` is one of our own records, which validate themselves. */
export function isOwnRecord(d: IDatastore): boolean {
  return ownRecords.has(d);
}

/** The synthesized placement of one of our own records; undefined for others or when no target bound one. */
export function placementEvidenceOf(d: IDatastore): PlacementEvidence | undefined {
  return ownRecords.get(d)?.();
}
