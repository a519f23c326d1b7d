// Public API of sovereign-stack. Exports only.
export * from './util/errors';
export * from './workload/workload';
export * from './workload/target';
export * from './targets/kubernetes/kubernetes-target';
export * from './targets/docker/docker-target';
export * from './residency/eea';
export * from './residency/region';
export * from './residency/regions';
export * from './residency/policy';
export * from './residency/region-ref';
export * from './residency/datastore';
export * from './residency/residency-guard';
export * from './app/synth-app';
