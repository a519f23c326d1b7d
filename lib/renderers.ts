// The pure renderers (spec in, text out) and their spec types, published as one namespace:
// `import { renderers } from 'sovereign-stack'; renderers.renderPostgresConf({ ... })`.
// They are what the components render, run against the real servers by the tests.

// nginx
export { renderNginxConf } from './gateway/render-nginx-conf';
export type { NginxConfSpec } from './gateway/nginx-spec';
export type {
  NginxClientAddressSpec, NginxRateLimitSpec, NginxResolverSpec, NginxRetriesSpec, NginxRouteSpec, NginxTimeoutsSpec, NginxTlsSpec,
  NginxUpstreamServerSpec, NginxUpstreamSpec,
} from './gateway/nginx-conf-spec';
export { renderNginxCommand, type NginxCommandSpec } from './gateway/render-nginx-command';

// PostgreSQL
export { renderPostgresConf, renderPgHba } from './postgres/render-postgres-conf';
export type { PostgresArchiveSpec, PostgresConfSpec, PostgresHbaSpec, PostgresSslSpec, WalCompression } from './postgres/postgres-spec';
export { renderInitOwnerScript, type InitOwnerMonitoringSpec, type InitOwnerSpec } from './postgres/render-init-owner';
export { renderPgBackRestConf, renderWalPushScript, renderWalSpoolCommand } from './postgres/render-pgbackrest';
export type { PgBackRestConfSpec, PosixRepositorySpec, S3RepositorySpec, WalSpoolSpec } from './postgres/pgbackrest-spec';

// RabbitMQ
export { renderEnabledPlugins, renderInterNodeTlsConfig, renderRabbitMqConf } from './rabbitmq/render-rabbitmq-conf';
export { renderRabbitMqDefinitions } from './rabbitmq/render-rabbitmq-definitions';
export { renderServiceUsersFile, renderUserBootstrapScript, renderUserReconcileScript } from './rabbitmq/render-user-bootstrap';
export type {
  InterNodeTlsSpecInput, RabbitMqConfSpecInput, RabbitMqDefinitionsSpecInput, ServiceUsersFileSpecInput,
  UserBootstrapSpecInput, UserReconcileSpecInput,
} from './rabbitmq/rabbitmq-spec';
