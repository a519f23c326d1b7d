import { Construct, IConstruct } from 'constructs';
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

  constructor(scope: Construct, id: string, props: DatastoreProps) {
    super(scope, id);
    this.datastoreKind = props.kind;
    this.locations = [{ role: 'primary', location: props.location }, ...(props.additionalLocations ?? [])];
    const guard = ResidencyGuard.of(this);
    this.node.addValidation({ validate: () => guard.violationsOf(this) });
  }

  public get datastoreLocations(): readonly DatastoreLocation[] {
    return this.locations;
  }

  /** Declares another copy of the data (a backup bucket, a replica in another region). */
  public addLocation(role: DatastoreRole, location: RegionRef): void {
    this.locations.push({ role, location });
  }
}
