import { Construct, IConstruct } from 'constructs';
import { leanTokens } from '../cdktf-internals';
import { RegionRef } from './region-ref';
import { ResidencyGuard } from './residency-guard';

/** Why a copy of the data is where it is. */
export type DatastoreRole = 'primary' | 'replica' | 'backup';

export interface DatastoreLocation {
  readonly role: DatastoreRole;
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
