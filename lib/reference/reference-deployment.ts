import { TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { z } from 'zod';
import { NginxGateway, NginxGatewayOptions, NginxGatewayOptionsSchema } from '../gateway/nginx-gateway';
import { routePath } from '../gateway/nginx-spec';
import { PostgresDatabase, PostgresDatabaseOptions, PostgresDatabaseOptionsSchema } from '../postgres/postgres-database';
import { RabbitMqCluster, RabbitMqClusterOptions, RabbitMqClusterOptionsSchema, RabbitMqConnection } from '../rabbitmq/rabbitmq-cluster';
import { routingKey } from '../rabbitmq/rabbitmq-spec';
import { ResidencyPolicySchema } from '../residency/policy';
import { ResidencyGuard } from '../residency/residency-guard';
import { SovereignStackError, parseProps } from '../util/errors';
import { addNestedIssues } from '../util/nested';
import { IWorkloadTarget } from '../workload/target';
import { EnvVar } from '../workload/workload';
import { MicroService, MicroServiceOptionsSchema } from './micro-service';

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
  if (s.database) addNestedIssues(PostgresDatabaseOptionsSchema, { ...s.database, serviceName: s.name }, ['database'], ctx);
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
   * with `new ResidencyGuard(stack, 'ResidencyGuard', { policy })`), else 'eea'.
   * @default - the stack's policy ('eea' unless chosen on the guard)
   */
  residency: z.object({ policy: ResidencyPolicySchema }).strict().optional(),
}).strict().superRefine((o, ctx) => {
  addNestedIssues(NginxGatewayOptionsSchema, o.gateway, ['gateway'], ctx);
  if ('routes' in o.gateway) ctx.addIssue({ code: 'custom', path: ['gateway', 'routes'], message: 'routes come from services[].routes; set them there' });
  if (o.messaging) addNestedIssues(RabbitMqClusterOptionsSchema, o.messaging, ['messaging'], ctx);
  const names = new Set<string>();
  o.services.forEach((s, i) => {
    if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `duplicate service name "${s.name}"` });
    names.add(s.name);
  });
});

/** One service as ReferenceDeployment and `addService` take it. */
export interface ServiceSpec extends Omit<z.input<typeof ServiceSpecSchema>, 'database'> {
  /** Give the service its own PostgreSQL; `{}` for the defaults. @default - no database */
  readonly database?: Omit<PostgresDatabaseOptions, 'serviceName'>;
}

export interface ReferenceDeploymentProps extends Omit<z.input<typeof ReferenceDeploymentOptionsSchema>, 'gateway' | 'services' | 'messaging'> {
  /** Where everything runs. */
  readonly target: IWorkloadTarget;
  /** The NGINX gateway; its routes come from `services[].routes`. */
  readonly gateway: Omit<NginxGatewayOptions, 'routes'>;
  /** @default [] */
  readonly services?: ServiceSpec[];
  /** The RabbitMQ cluster, created when any service uses messaging. @default - RabbitMqCluster defaults */
  readonly messaging?: RabbitMqClusterOptions;
}

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
  private _broker?: RabbitMqCluster;
  private readonly platformServices = new Map<string, PlatformService>();

  constructor(scope: Construct, id: string, props: ReferenceDeploymentProps) {
    const { target, ...options } = props;
    const o = parseProps(ReferenceDeploymentOptionsSchema, options, `ReferenceDeployment ${scope.node.path}/${id} props`);
    super(scope, id);
    this.target = target;
    this.messagingOptions = props.messaging;
    if (o.residency) ResidencyGuard.of(this).usePolicy(o.residency.policy);
    else ResidencyGuard.of(this);
    this.gateway = this.createGateway(props.gateway);
    new TerraformOutput(this, 'gateway-address', {
      value: this.gateway.address,
      description: `where clients reach the gateway of ${this.node.path} (point ${props.gateway.serverName} here)`,
    });
    // Already validated above, with their paths (services[i].…): not parsed again.
    (props.services ?? []).forEach((spec, i) => this.add(spec, o.services[i]));
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
    return this.add(spec, parseProps(ServiceSpecSchema, spec, `${this.node.path} service "${spec.name}"`));
  }

  /** `spec` as the user wrote it (for the hooks), `s` validated with defaults. */
  private add(spec: ServiceSpec, s: z.output<typeof ServiceSpecSchema>): PlatformService {
    if (this.platformServices.has(s.name)) {
      throw new SovereignStackError(`${this.node.path} already has a service named "${s.name}"`);
    }
    const taken = new Set(this.gateway.routes.map((r) => r.path));
    const clash = s.routes.find((r) => taken.has(r));
    if (clash) throw new SovereignStackError(`service "${s.name}": route ${clash} is already routed to another service`);

    const scope = new Construct(this, s.name);
    const database = spec.database === undefined ? undefined : this.createDatabase(scope, s.name, spec.database);
    const messaging = s.messaging
      ? this.ensureBroker().addServiceUser({ service: s.name, publishes: s.messaging.publishes, consumes: s.messaging.consumes })
      : undefined;
    const service = this.createService(scope, spec, [...(database?.connection.env() ?? []), ...(messaging?.env() ?? [])]);

    database?.allowFrom(service.workload);
    if (messaging) this.ensureBroker().allowClient(service.workload);
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
    return new PostgresDatabase(scope, 'database', { ...options, serviceName, target: this.target });
  }

  /** Override to customize the broker. */
  protected createBroker(options: RabbitMqClusterOptions): RabbitMqCluster {
    return new RabbitMqCluster(this, 'messaging', { ...options, target: this.target });
  }

  /** Override to customize each service. */
  protected createService(scope: Construct, spec: ServiceSpec, connectionEnv: EnvVar[]): MicroService {
    const { routes: _routes, database: _database, messaging: _messaging, ...options } = spec;
    return new MicroService(scope, 'service', { ...options, target: this.target, connectionEnv });
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
