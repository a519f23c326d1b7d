import { TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { z } from 'zod';
import { NginxGateway, NginxGatewayOptions, NginxGatewayOptionsSchema } from '../gateway/nginx-gateway';
import { routePath } from '../gateway/nginx-spec';
import {
  PostgresBackupOptions, PostgresBackupOptionsSchema, PostgresConnection, PostgresDatabase, PostgresDatabaseOptions, PostgresDatabaseOptionsSchema,
} from '../postgres/postgres-database';
import { RabbitMqCluster, RabbitMqClusterOptions, RabbitMqClusterOptionsSchema, RabbitMqConnection } from '../rabbitmq/rabbitmq-cluster';
import { routingKey } from '../rabbitmq/rabbitmq-spec';
import { ResidencyPolicySchema } from '../residency/policy';
import { ResidencyGuard } from '../residency/residency-guard';
import { SovereignStackError, formatIssuePath, issueMessage, parseProps, requireProps } from '../util/errors';
import type { SameShape } from '../util/schema-binding';
import { IWorkloadTarget, describeTarget } from '../workload/target';
import { EnvVar, SecretMountInput } from '../workload/workload';
import { MicroService, MicroServiceOptionsSchema, MicroServiceSchema, checkMicroServiceOptions } from './micro-service';
import { withValidatedOptions } from '../workload/component-props';
import type { ReferenceDeploymentProps, ServiceSpec } from './props';

// The documented props live in props.ts; importable from here as before.
export type { ReferenceDeploymentProps, ReferenceResidencyOptions, ServiceMessagingOptions, ServiceSpec } from './props';

/**
 * Validates `value` with a component's own schema and reports its issues under `path` of the
 * enclosing schema, so users see `services[1].database.storageGi` rather than the component's
 * internal prop names. `remap` moves an issue on a prop the pattern sets itself to the prop the
 * user wrote (a database's serviceName is the service's name). Returns the component's output
 * when the value is valid.
 */
function nestedIssues(
  schema: z.ZodType, value: unknown, path: PropertyKey[], ctx: z.RefinementCtx,
  remap: (issuePath: PropertyKey[], message: string) => { path: PropertyKey[]; message: string } | null | undefined = () => undefined,
): unknown {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const message = issueMessage(issue);
    const moved = remap(issue.path as PropertyKey[], message);
    if (moved === null) continue;
    ctx.addIssue({ code: 'custom', path: moved?.path ?? [...path, ...issue.path], message: moved?.message ?? message });
  }
  return undefined;
}

/** Environment variables a service's own database and broker connections set. */
const CLIENT_TLS = { caFile: '/ca.crt', caMount: { secret: 's', mountPath: '/ca' } };
const DATABASE_ENV = new PostgresConnection({ host: 'h', port: 1, database: 'd', username: 'u', secretName: 's', passwordKey: 'k', tls: CLIENT_TLS }).env().map((e) => e.name);
const MESSAGING_ENV = new RabbitMqConnection({
  host: 'h', port: 1, vhost: 'v', exchange: 'x', username: 'u', queues: [], secretName: 's', passwordKey: 'k', tls: CLIENT_TLS,
}).env().map((e) => e.name);

/** Each validated service spec's database options as PostgresDatabase's schema gave them. */
const validatedDatabases = new WeakMap<object, unknown>();

const ServiceSpecSchema = MicroServiceOptionsSchema.extend({
  /** URI prefixes the gateway forwards to this service. @default [] */
  routes: z.array(routePath).default([]),
  /**
   * Give the service its own PostgreSQL (same options as PostgresDatabase, serviceName implied).
   * `{}` asks for one with the defaults. @default - no database
   */
  database: z.record(z.string(), z.unknown()).optional(),
  /** Routing keys the service publishes to and consumes from the platform exchange. @default - no messaging */
  messaging: z.object({
    /** @default [] */
    publishes: z.array(routingKey).default([]),
    /** @default [] */
    consumes: z.array(routingKey).default([]),
  }).strict().optional(),
}).strict().superRefine((s, ctx) => {
  checkMicroServiceOptions(s, ctx);
  if (s.database) {
    // serviceName is the service's name: its problems are the name's.
    const nameValid = MicroServiceOptionsSchema.shape.name.safeParse(s.name).success;
    const database = nestedIssues(PostgresDatabaseOptionsSchema, { ...s.database, serviceName: s.name }, ['database'], ctx,
      (p, message) => {
        if (p[0] !== 'serviceName') return undefined;
        // A name the service itself refuses is reported once, by the service's own rule.
        return nameValid ? { path: ['name'], message: `cannot name the service's database: ${message.replace(/<serviceName>/g, '<name>')}` } : null;
      });
    if (database !== undefined) validatedDatabases.set(s, database);
  }
  const reserved = [...(s.database ? DATABASE_ENV : []), ...(s.messaging ? MESSAGING_ENV : [])];
  for (const name of reserved) {
    if (Object.prototype.hasOwnProperty.call(s.env, name)) {
      ctx.addIssue({ code: 'custom', path: ['env', name], message: `is set by the service's ${name.startsWith('DATABASE_') ? 'database' : 'broker'} connection; rename it` });
    }
  }
  const paths = new Set<string>();
  s.routes.forEach((r, i) => {
    if (paths.has(r)) ctx.addIssue({ code: 'custom', path: ['routes', i], message: `"${r}" is listed twice; list each route once` });
    paths.add(r);
  });
});

export const ReferenceDeploymentOptionsSchema = z.object({
  /** The NGINX gateway (NginxGateway options; routes come from the services). */
  gateway: z.record(z.string(), z.unknown()),
  /** The services. More can be added with `addService`. @default [] */
  services: z.array(ServiceSpecSchema).default([]),
  /** The RabbitMQ cluster, created when any service uses messaging. @default - RabbitMqCluster defaults */
  messaging: z.record(z.string(), z.unknown()).optional(),
  /**
   * The stack's residency policy. Left out, the stack's guard keeps the policy it has (one chosen
   * with `ResidencyGuard.ensure(stack, { policy })`), else 'eea'.
   * @default - the stack's policy ('eea' unless chosen on the guard)
   */
  residency: z.object({ policy: ResidencyPolicySchema }).strict().optional(),
  /**
   * Backups of every service's database (pgBackRest to an S3-compatible object store in an EEA
   * location; see PostgresDatabase `backup`). A service's own `database.backup` takes precedence.
   * @default - no backups unless a service's database asks for them
   */
  databaseBackup: PostgresBackupOptionsSchema.optional(),
}).strict().superRefine((o, ctx) => {
  nestedIssues(NginxGatewayOptionsSchema, o.gateway, ['gateway'], ctx);
  if ('routes' in o.gateway) ctx.addIssue({ code: 'custom', path: ['gateway', 'routes'], message: 'routes come from services[].routes; set them there' });
  if (o.messaging) nestedIssues(RabbitMqClusterOptionsSchema, o.messaging, ['messaging'], ctx);
  // Every workload is a host name on the target: the services' names, their "<name>-db"
  // databases, the gateway's and (with messaging) the broker's name must all differ.
  const workloads = new Map<string, string>();
  const claim = (name: string, owner: string, path: PropertyKey[]) => {
    const other = workloads.get(name);
    if (other !== undefined) {
      ctx.addIssue({ code: 'custom', path, message: `"${name}" is already the workload name of ${other}; workload names must be unique on the target` });
    } else {
      workloads.set(name, owner);
    }
  };
  const gatewayName = typeof o.gateway.name === 'string' ? o.gateway.name : 'gateway';
  claim(gatewayName, 'the gateway', ['gateway', 'name']);
  if (o.services.some((s) => s.messaging)) {
    claim(typeof o.messaging?.name === 'string' ? o.messaging.name : 'rabbitmq', 'the broker (messaging)', ['messaging', 'name']);
  }
  const routed = new Map<string, string>();
  const names = new Set<string>();
  o.services.forEach((s, i) => {
    if (names.has(s.name)) {
      ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `duplicate service name "${s.name}"` });
    } else {
      names.add(s.name);
      claim(s.name, `service services[${i}]`, ['services', i, 'name']);
      if (s.database) claim(`${s.name}-db`, `the database of service "${s.name}"`, ['services', i, 'name']);
    }
    s.routes.forEach((r, j) => {
      const other = routed.get(r);
      if (other !== undefined && other !== s.name) {
        ctx.addIssue({ code: 'custom', path: ['services', i, 'routes', j], message: `"${r}" is already routed to service "${other}"; each path may be routed once` });
      }
      routed.set(r, other ?? s.name);
    });
  });
});

/** Compile-time binding: the documented ServiceSpec and its schema describe the same props (database is PostgresDatabase's, bound there). */
export const SERVICE_SPEC_MATCHES_SCHEMA: SameShape<Omit<ServiceSpec, 'database'>, Omit<z.input<typeof ServiceSpecSchema>, 'database'>> = true;
/** Compile-time binding: the documented ReferenceDeploymentProps and its schema (the nested component options are bound in their own folders). */
export const REFERENCE_DEPLOYMENT_PROPS_MATCH_SCHEMA: SameShape<
  Omit<ReferenceDeploymentProps, 'target' | 'gateway' | 'services' | 'messaging'>,
  Omit<z.input<typeof ReferenceDeploymentOptionsSchema>, 'gateway' | 'services' | 'messaging'>
> = true;

/** What the platform made for one service. */
export interface PlatformService {
  readonly service: MicroService;
  readonly database?: PostgresDatabase;
  readonly messaging?: RabbitMqConnection;
}

/**
 * The whole reference platform from one construct: an NGINX gateway routing to your services,
 * one PostgreSQL per service that asks for one, a RabbitMQ cluster when any service uses
 * messaging, and network policy with exactly these edges: gateway -> each service on its port,
 * each service -> its own database, services -> the broker's AMQP port, broker peers among
 * themselves. Everything else is denied. The residency guard is always on.
 *
 * A thin composition: every piece is a public construct you can use alone, reach through the
 * properties here (`gateway`, `broker`, `service('orders')`), or subclass.
 */
export class ReferenceDeployment extends Construct {
  public readonly target: IWorkloadTarget;
  public readonly gateway: NginxGateway;
  private readonly messagingOptions?: RabbitMqClusterOptions;
  private readonly databaseBackup?: PostgresBackupOptions;
  private _broker?: RabbitMqCluster;
  private readonly platformServices = new Map<string, PlatformService>();
  private adding?: { spec: ServiceSpec; validated: z.output<typeof ServiceSpecSchema>; fingerprint?: string };

  constructor(scope: Construct, id: string, props: ReferenceDeploymentProps) {
    const what = `ReferenceDeployment ${scope?.node?.path ? `${scope.node.path}/` : ''}${id} props`;
    const { target, ...options } = requireProps(props, what, '{ target, gateway: { serverName }, services: [...] }');
    if (!target || typeof target.deploy !== 'function' || typeof target.findWorkload !== 'function') {
      throw new SovereignStackError(`invalid ${what}:\n  - ${what}.target: is required (a KubernetesTarget, a DockerTarget or another IWorkloadTarget)`);
    }
    const o = parseProps(ReferenceDeploymentOptionsSchema, options, what);
    o.services.forEach((s, i) => checkFreeOnTarget(target, s, `${what}.services[${i}]`));
    const own = [
      { name: typeof o.gateway.name === 'string' ? o.gateway.name : 'gateway', prop: 'gateway.name' },
      ...(o.services.some((s) => s.messaging) ? [{ name: typeof o.messaging?.name === 'string' ? o.messaging.name : 'rabbitmq', prop: 'messaging.name' }] : []),
    ];
    for (const { name, prop } of own) {
      if (target.findWorkload(name)) {
        throw new SovereignStackError(`invalid ${what}:\n  - ${what}.${prop}: "${name}" is already a workload on ${describeTarget(target)}; ` +
          'workload names are host names and must be unique per target');
      }
    }
    super(scope, id);
    this.target = target;
    this.messagingOptions = props.messaging;
    this.databaseBackup = props.databaseBackup;
    if (o.residency) ResidencyGuard.of(this).usePolicy(o.residency.policy);
    else ResidencyGuard.of(this);
    this.gateway = this.createGateway(props.gateway);
    new TerraformOutput(this, 'gateway-address', {
      value: this.gateway.address,
      description: `where clients reach the gateway of ${this.node.path} (point ${props.gateway.serverName} here)`,
    });
    // Already validated above, with their paths (services[i].…): not parsed again.
    const fingerprints = (props.services ?? []).map(fingerprintOf);
    (props.services ?? []).forEach((spec, i) => this.add(spec, o.services[i], fingerprints[i]));
  }

  /** The RabbitMQ cluster, once any service uses messaging. */
  public get broker(): RabbitMqCluster | undefined {
    return this._broker;
  }

  /** Names of the services, in the order they were added. */
  public get serviceNames(): string[] {
    return [...this.platformServices.keys()];
  }

  /** What the platform made for a service. */
  public service(name: string): PlatformService {
    const s = this.platformServices.get(name);
    if (!s) throw new SovereignStackError(`no service "${name}" in ${this.node.path}; known: ${this.serviceNames.join(', ') || 'none'}`);
    return s;
  }

  /**
   * Adds a service: its database, its broker user, its routes and the network edges between them.
   * Each service lives under its own construct (`<this>/<name>`), so adding one never changes the
   * logical ids of another's resources.
   */
  public addService(spec: ServiceSpec): PlatformService {
    const named = typeof spec === 'object' && spec !== null && typeof spec.name === 'string' ? ` "${spec.name}"` : '';
    const what = `ReferenceDeployment ${this.node.path} addService${named}`;
    const s = parseProps(ServiceSpecSchema, requireProps(spec, what, '{ name, image, port }'), what);
    const fingerprint = fingerprintOf(spec);
    if (this.platformServices.has(s.name)) {
      throw new SovereignStackError(`invalid ${what}:\n  - ${what}.name: ${this.node.path} already has a service named "${s.name}"`);
    }
    // Everything the gateway could refuse, before anything is created: a refused service leaves
    // no database, broker user or workload behind, and can be added again once fixed.
    for (const path of s.routes) {
      const refusal = this.gateway.routeRefusal(path, s.name);
      if (refusal) throw new SovereignStackError(`invalid ${what}:\n  - ${what}.routes: "${path}" ${refusal}`);
    }
    const needsBroker = s.messaging !== undefined && !this._broker;
    const brokerName = typeof this.messagingOptions?.name === 'string' ? this.messagingOptions.name : 'rabbitmq';
    if (needsBroker && (brokerName === s.name || brokerName === `${s.name}-db`)) {
      throw new SovereignStackError(`invalid ${what}:\n  - ${what}.name: "${s.name}" collides with the broker's workload name "${brokerName}"; rename the service`);
    }
    if (needsBroker && this.target.findWorkload(brokerName)) {
      throw new SovereignStackError(`invalid ${what}:\n  - ${what}.messaging: the broker this service needs would be named "${brokerName}", ` +
        `which is already a workload on ${describeTarget(this.target)}; set messaging.name in the ReferenceDeployment props`);
    }
    checkFreeOnTarget(this.target, s, what);
    return this.add(spec, s, fingerprint);
  }

  /**
   * `spec` as the user wrote it (for the hooks), `s` validated with defaults; `fingerprint`, the
   * spec's JSON when it was validated (the default hooks hand validated options on only while the
   * spec still reads the same).
   */
  private add(spec: ServiceSpec, s: z.output<typeof ServiceSpecSchema>, fingerprint?: string): PlatformService {
    this.adding = { spec, validated: s, fingerprint };
    try {
      return this.addValidated(spec, s);
    } finally {
      this.adding = undefined;
    }
  }

  private addValidated(spec: ServiceSpec, s: z.output<typeof ServiceSpecSchema>): PlatformService {
    if (this.platformServices.has(s.name)) {
      throw new SovereignStackError(`${this.node.path} already has a service named "${s.name}"`);
    }
    const owner = s.routes.map((path) => this.gateway.routeOf(path)).find((r) => r !== undefined);
    if (owner) {
      throw new SovereignStackError(`service "${s.name}": route ${owner.path} is already routed to service "${owner.service.workload.name}"; each path may be routed once`);
    }

    const scope = new Construct(this, s.name);
    const database = spec.database === undefined
      ? undefined
      : this.createDatabase(scope, s.name, this.databaseBackup && !('backup' in spec.database) ? { backup: this.databaseBackup, ...spec.database } : spec.database);
    const messaging = s.messaging
      ? this.ensureBroker().addServiceUser({ service: s.name, publishes: s.messaging.publishes, consumes: s.messaging.consumes })
      : undefined;
    const service = this.createService(scope, spec, [...(database?.connection.env() ?? []), ...(messaging?.env() ?? [])],
      [...(database?.connection.mounts() ?? []), ...(messaging?.mounts() ?? [])]);

    database?.allowFrom(service.workload);
    if (messaging) this.ensureBroker().allowFrom(service.workload);
    for (const path of s.routes) this.gateway.addRoute({ path, service: service.workload, port: service.port });

    if (database) {
      new TerraformOutput(scope, 'database-host', { value: database.host, description: `PostgreSQL host of service ${s.name}` });
      new TerraformOutput(scope, 'database-credentials-secret', {
        value: database.credentialsSecretName,
        description: `name of the Secret with the PostgreSQL passwords of service ${s.name} (the name, not the passwords)`,
      });
    }
    const result = { service, database, messaging };
    this.platformServices.set(s.name, result);
    return result;
  }

  /** Override to customize the gateway (a subclass hook, aws-ecs-patterns style). */
  protected createGateway(options: Omit<NginxGatewayOptions, 'routes'>): NginxGateway {
    return new NginxGateway(this, 'gateway', { ...options, target: this.target });
  }

  /** Override to customize each service's database. */
  protected createDatabase(scope: Construct, serviceName: string, options: Omit<PostgresDatabaseOptions, 'serviceName'>): PostgresDatabase {
    const props = { ...options, serviceName, target: this.target };
    const a = this.validatedSpec();
    const known = a && a.spec.database === options && a.validated.name === serviceName ? validatedDatabases.get(a.validated) : undefined;
    return new PostgresDatabase(scope, 'database', known === undefined ? props : withValidatedOptions(props, PostgresDatabaseOptionsSchema, known));
  }

  /** Override to customize the broker. */
  protected createBroker(options: RabbitMqClusterOptions): RabbitMqCluster {
    return new RabbitMqCluster(this, 'messaging', { ...options, target: this.target });
  }

  /**
   * Override to customize each service. Pass `connectionMounts` on: with TLS they carry the CA
   * files the connection env points at.
   */
  protected createService(scope: Construct, spec: ServiceSpec, connectionEnv: EnvVar[], connectionMounts: SecretMountInput[] = []): MicroService {
    const { routes: _routes, database: _database, messaging: _messaging, ...options } = spec;
    const props = { ...options, target: this.target, connectionEnv, connectionMounts };
    const a = this.validatedSpec();
    if (a?.spec !== spec) return new MicroService(scope, 'service', props);
    const { routes: _r, database: _d, messaging: _m, ...validated } = a.validated;
    return new MicroService(scope, 'service', withValidatedOptions(props, MicroServiceSchema, validated));
  }

  /** The service being added, while its spec reads as it did when it was validated. */
  private validatedSpec(): { spec: ServiceSpec; validated: z.output<typeof ServiceSpecSchema> } | undefined {
    const a = this.adding;
    return a && a.fingerprint !== undefined && fingerprintOf(a.spec) === a.fingerprint ? a : undefined;
  }

  private ensureBroker(): RabbitMqCluster {
    if (!this._broker) {
      this._broker = this.createBroker(this.messagingOptions ?? {});
      const { host, port } = this._broker.endpoint;
      new TerraformOutput(this, 'broker-endpoint', { value: `${host}:${port}`, description: `AMQP endpoint (host:port) of the broker of ${this.node.path}` });
    }
    return this._broker;
  }
}

/** A spec's JSON (undefined for one JSON cannot write): what says it has not changed since it was validated. */
function fingerprintOf(spec: ServiceSpec): string | undefined {
  try {
    return JSON.stringify(spec);
  } catch {
    return undefined;
  }
}

/**
 * Refuses, before anything is created, a service whose workload names ("<name>", and "<name>-db"
 * with a database) are already taken on the target (by a workload deployed outside this pattern).
 */
function checkFreeOnTarget(target: IWorkloadTarget, s: z.output<typeof ServiceSpecSchema>, what: string): void {
  for (const name of [s.name, ...(s.database ? [`${s.name}-db`] : [])]) {
    if (target.findWorkload(name)) {
      throw new SovereignStackError(`invalid ${what}:\n  - ${formatIssuePath(what, ['name'])}: "${name}" is already a workload on ` +
        `${describeTarget(target)}; workload names are host names and must be unique per target`);
    }
  }
}
