import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { DatastoreLocation, IDatastore } from '../../lib';
import { synthJson } from './synth';

/** The message synthesis fails with (validations on); a test error when it does not fail. */
export function synthError(stack: TerraformStack): string {
  try {
    synthJson(stack);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected synthesis to fail');
}

/** A user-defined datastore, as a team would write one for its own object store. */
export class ObjectStore extends Construct implements IDatastore {
  public readonly datastoreKind = 'object-storage';
  constructor(scope: Construct, id: string, public readonly datastoreLocations: DatastoreLocation[]) {
    super(scope, id);
  }
}
