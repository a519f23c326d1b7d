import { Construct } from 'constructs';
import { Datastore } from '../residency/datastore';
import { RegionRef } from '../residency/region-ref';
import { Workload } from './workload';

/**
 * Every persistent volume of a stateful workload holds data: record it for the residency guard.
 * One record per volume (all replicas share a location).
 */
export function recordDatastores(scope: Construct, w: Workload, location: RegionRef): Datastore[] {
  if (w.kind !== 'stateful') return [];
  return w.volumes.map((v) => new Datastore(scope, `datastore-${v.name}`, { kind: v.dataKind, location }));
}
