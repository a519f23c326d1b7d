// The public API of sovereign-stack: named exports only, so the surface is chosen, not inherited.
// api/sovereign-stack.api.md is its report; test/package/api-report.test.ts fails when this file
// (or a type it reaches) changes the surface without the report (`npm run api` updates both).
// Zod schemas, parsing helpers and constants the constructs use internally stay unexported.

export { SovereignStackError } from './util/errors';
export { synthApp } from './app/synth-app';

// The target-neutral model: what components hand to a target, and what a target of your own implements.
export type {
  EnvVar, IngressRule, MetricsEndpoint, PersistentVolume, Probe, ScheduledJob, SecretMount, SecretMountInput,
  SecretSpec, SecretSpecInput, Sidecar, Workload, WorkloadPort, WorkloadProps,
} from './workload/workload';
export { WorkloadTarget } from './workload/target';
export type { DeployOptions, DeployedWorkload, IWorkloadTarget, PeerDiscovery, WorkloadPlacement, WorkloadResources } from './workload/target';
export type { CertManagerIssuerOptions, ClientTls, ServerTlsOptions } from './workload/server-tls';
export { Connection, type ConnectionProps } from './workload/connection';
// What a target renders its resources as (the escape hatch: addOverride, dependsOn, lifecycle, ...).
export { RenderedResource, type MetaArgumentKey, type RenderedResourceProps } from './targets/common/rendered-resource';

// Targets.
export { KubernetesTarget } from './targets/kubernetes/kubernetes-target';
export type {
  ApiServerOptions, ClusterDnsPodsOptions, KubernetesMetricsOptions, KubernetesStorageOptions, KubernetesStorageTopology,
  KubernetesTargetOptions, KubernetesTargetProps, MetricsScraperOptions,
} from './targets/kubernetes/kubernetes-target';
export { CSI_PROVISIONERS, type CsiProvisionerTopology } from './targets/kubernetes/csi-provisioners';
export { DockerTarget } from './targets/docker/docker-target';
export type { DockerTargetOptions, DockerTargetProps } from './targets/docker/docker-target';

// Residency (Schrems II): the EEA, regions, policies, datastore records and the guard.
export { EEA_COUNTRIES, isEeaCountry, type EeaCountry } from './residency/eea';
export { isRegion, type DefineRegionProps, type Region } from './residency/region';
export { OSLO_REGION, defineRegion, lookupRegion, regions } from './residency/regions';
export { evaluateRegion, type AllowCountriesPolicy, type RegionVerdict, type ResidencyPolicy } from './residency/policy';
export { regionId, resolveRegionRef, type RegionRef } from './residency/region-ref';
export { Datastore, isDatastore } from './residency/datastore';
export type { DatastoreLocation, DatastoreProps, DatastoreRole, IDatastore, PlacementEvidence } from './residency/datastore';
export { RESIDENCY_REPORT_FILE, ResidencyGuard } from './residency/residency-guard';
export type { ResidencyFinding, ResidencyGuardProps, StateBackendFinding } from './residency/residency-guard';

// Components: each construct, and its documented contract from the component's props.ts.
export { NginxGateway } from './gateway/nginx-gateway';
export type {
  GatewayClientAddressOptions, GatewayMetricsOptions, GatewayResourceLimits, GatewayResourceRequests, GatewayResources,
  GatewayRoute, GatewayRouteOptions, GatewayTimeoutsOptions, GatewayTlsOptions, NginxGatewayOptions, NginxGatewayProps,
  RateLimitOptions, RateLimitScope, ResolvedRateLimit,
} from './gateway/props';
export { PostgresDatabase } from './postgres/postgres-database';
export { PostgresConnection, type PostgresConnectionProps } from './postgres/postgres-connection';
export type {
  PostgresBackupObjectStore, PostgresBackupOptions, PostgresCertManagerOptions, PostgresDatabaseOptions, PostgresDatabaseProps,
  PostgresMajorVersionUpgradeOptions, PostgresMetricsOptions, PostgresTlsOptions,
} from './postgres/props';
export { SUPPORTED_POSTGRES_VERSIONS, type PostgresMajorVersion } from './postgres/postgres-spec';
export { RabbitMqCluster } from './rabbitmq/rabbitmq-cluster';
export { RabbitMqConnection, type RabbitMqConnectionProps } from './rabbitmq/rabbitmq-connection';
export type { RabbitMqClusterOptions, RabbitMqClusterProps, ServiceUserOptions } from './rabbitmq/props';
export type { QueueMode } from './rabbitmq/rabbitmq-spec';

// The pattern.
export { MicroService } from './reference/micro-service';
export { ReferenceDeployment, type PlatformService } from './reference/reference-deployment';
export type {
  MicroServiceOptions, MicroServiceProps, MicroServiceResources,
  ReferenceDeploymentProps, ReferenceResidencyOptions, ServiceMessagingOptions, ServiceSpec,
} from './reference/props';

// The pure renderers, under one namespace (`renderers.renderPostgresConf(...)`); the four the
// design names are also importable on their own.
import * as renderers from './renderers';
export { renderers };
export { renderNginxConf, renderPostgresConf, renderRabbitMqConf, renderRabbitMqDefinitions } from './renderers';
