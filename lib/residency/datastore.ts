import { Construct } from 'constructs';
import { leanTokens } from '../cdktf-internals';
import { DatastoreLocation, DatastoreRole, IDatastore, PlacementEvidence, registerOwnRecord } from './datastore-record';
import { RegionRef } from './region-ref';
import { ResidencyGuard } from './residency-guard';

// The record types live beside the guard's needs (datastore-record.ts), re-exported from here
// where users and targets have always imported them.
export { type DatastoreLocation, type DatastoreRole, type IDatastore, type PlacementEvidence, isDatastore } from './datastore-record';

export interface DatastoreProps {
  /** What is stored ("postgresql-data", "rabbitmq-messages", "volume"). */
  readonly kind: string;
  /** Where the primary copy lives. */
  readonly location: RegionRef;
  /** Further copies (replicas, backups), each checked like the primary. @default [] */
  readonly additionalLocations?: readonly DatastoreLocation[];
}

/**
 * The residency record of one datastore. It validates itself at synth against the stack's
 * residency policy, so no datastore can skip the check; it also makes sure the stack has a
 * ResidencyGuard, which writes the report.
 */
export class Datastore extends Construct implements IDatastore {
  public readonly datastoreKind: string;
  private readonly locations: DatastoreLocation[];
  private placementProbe?: () => PlacementEvidence;

  constructor(scope: Construct, id: string, props: DatastoreProps) {
    super(scope, id);
    leanTokens(this);
    this.datastoreKind = props.kind;
    const primary: DatastoreLocation = { role: 'primary', location: props.location };
    this.locations = [primary, ...(props.additionalLocations ?? [])]
      .map((l): DatastoreLocation => Object.freeze({ role: l.role, location: l.location }));
    registerOwnRecord(this, () => this.placementEvidence());
    const guard = ResidencyGuard.of(this);
    this.node.addValidation({ validate: () => guard.validateRecord(this) });
  }

  /** A copy: callers cannot remove a location (a backup) from the record. */
  public get datastoreLocations(): readonly DatastoreLocation[] {
    return Object.freeze([...this.locations]);
  }

  /**
   * Called by the target that realized the data: how to read, at synth, where the synthesized
   * resources actually put it. Set once.
   */
  public bindPlacement(probe: () => PlacementEvidence): void {
    if (this.placementProbe) throw new Error(`${this.node.path}: placement already bound`);
    this.placementProbe = probe;
  }

  /** The synthesized placement, or undefined when no target has bound one. */
  public placementEvidence(): PlacementEvidence | undefined {
    return this.placementProbe?.();
  }

  /** Declares another copy of the data (a backup bucket, a replica in another region). */
  public addLocation(role: DatastoreRole, location: RegionRef): void {
    this.locations.push(Object.freeze({ role, location }));
  }
}
