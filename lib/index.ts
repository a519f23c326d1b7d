// Public API of sovereign-stack. Exports only.
export * from './util/errors';
export * from './app/synth-app';

// The target-neutral model and the targets that realize it.
export * from './workload/workload';
export * from './workload/target';
export * from './workload/server-tls';
export * from './targets/kubernetes/kubernetes-target';
export { CSI_PROVISIONERS, type CsiProvisionerTopology } from './targets/kubernetes/csi-provisioners';
export * from './targets/docker/docker-target';

// Residency (Schrems II).
export * from './residency/eea';
export { type Region, type DefineRegionProps, DefineRegionPropsSchema, REGION_ID_PATTERN, isRegion, isoCountryCode } from './residency/region';
export * from './residency/regions';
export * from './residency/policy';
export * from './residency/region-ref';
export * from './residency/datastore';
export * from './residency/residency-guard';

// Components and their pure renderers.
export * from './gateway/nginx-spec';
export * from './gateway/render-nginx-conf';
export * from './gateway/render-nginx-command';
export * from './gateway/worker-budget';
export * from './gateway/nginx-gateway';
export * from './postgres/postgres-spec';
export * from './postgres/render-postgres-conf';
export * from './postgres/postgres-database';
export * from './postgres/pgbackrest-spec';
export * from './postgres/render-pgbackrest';
export * from './rabbitmq/rabbitmq-spec';
export * from './rabbitmq/render-rabbitmq-conf';
export * from './rabbitmq/render-rabbitmq-definitions';
export * from './rabbitmq/render-user-bootstrap';
export * from './rabbitmq/rabbitmq-cluster';

// The pattern.
export * from './reference/micro-service';
export * from './reference/reference-deployment';
