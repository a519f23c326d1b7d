import { Fn, Lazy, Token } from 'cdktf';
import { Construct } from 'constructs';
import { SovereignStackError, parseProps } from '../util/errors';
import { DeployedWorkload, IWorkloadTarget, builtByComponent } from '../workload/target';
import { TargetTraits, gatewayConfSpec } from './conf-spec';
import { HEALTH_PATH } from './defaults';
import { NginxConfSpec, nginxName, routeKey } from './nginx-spec';
import type { GatewayRoute, GatewayRouteOptions, NginxGatewayProps } from './props';
import { renderNginxConf } from './render-nginx-conf';
import { GatewayRoutes } from './routes';
import { GatewayRouteSchema, ResolvedGatewayOptions, parseNginxGatewayProps } from './schema';
import { gatewayWorkload } from './workload';

// The names users import from this module: the contract (props.ts), the schemas the reference
// deployment validates with (schema.ts) and the gateway's published numbers (defaults.ts).
export type {
  GatewayClientAddressOptions, GatewayMetricsOptions, GatewayResourceLimits, GatewayResourceRequests, GatewayResources, GatewayRoute,
  GatewayRouteOptions, GatewayTimeoutsOptions, GatewayTlsOptions, NginxGatewayOptions, NginxGatewayProps, RateLimitOptions,
  RateLimitScope, ResolvedRateLimit,
} from './props';
export { GatewayRouteSchema, GatewayTlsSchema, NginxGatewayOptionsSchema, RateLimitOptionsSchema } from './schema';
export {
  DEFAULT_NGINX_EXPORTER_IMAGE, DEFAULT_NGINX_IMAGE, GATEWAY_RESOLVER_VALID_SECONDS, NGINX_EXPORTER_PORT, NGINX_STUB_STATUS_PORT,
  SERVICE_STOP_DELAY_SECONDS, UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS,
} from './defaults';

/**
 * The platform's front door: nginx replicas that terminate TLS, rate-limit clients by address and
 * forward paths (each with its sub-paths) to services, answering its own refusals as JSON.
 *
 * The gateway is one stateless, public workload (a LoadBalancer Service on Kubernetes, published
 * loopback ports on Docker) running the unprivileged nginx image as uid 101 on a read-only root
 * filesystem. Its nginx.conf is rendered by `renderNginxConf` lazily, at synthesis, so routes
 * added with `addRoute` after construction still land; each route is also validated when it is
 * added, so a bad one fails where it was written.
 *
 * Every route's service keeps one upstream (keepalive connections, passive health checks, retry on
 * the next server) and is told to admit the gateway on the route's port: on Kubernetes that is the
 * NetworkPolicy edge gateway -> service. Shutdown is graceful: a preStop pause lets the endpoints
 * drain, then SIGQUIT lets nginx finish the requests in flight.
 *
 * @example
 * const gateway = new NginxGateway(stack, 'gateway', {
 *   target, serverName: 'api.example.no', tls: { secretName: 'api-tls' }, rateLimit: { perSecond: 10 },
 * });
 * gateway.addRoute({ path: '/v1/orders', service: orders, port: 8080 });
 */
export class NginxGateway extends Construct {
  /** The deployed nginx workload (host, resources, `allowFrom`). */
  public readonly workload: DeployedWorkload;
  /** The nginx version the configuration is rendered for. */
  public readonly nginxVersion: string;
  /** The target the gateway and the services of its routes are deployed on. */
  public readonly target: IWorkloadTarget;
  /**
   * Where clients reach the gateway once deployed (point the DNS name `serverName` here). On
   * Kubernetes the load balancer's IP or host name, known after apply (a Terraform expression; empty
   * while the cluster gives the Service no load balancer address); on Docker the address the ports
   * are published on; on another target the workload's host name.
   */
  public readonly address: string;
  private readonly options: ResolvedGatewayOptions;
  private readonly traits: TargetTraits;
  private readonly book: GatewayRoutes;
  private rendered?: { readonly routes: number; readonly conf: string };

  constructor(scope: Construct, id: string, props: NginxGatewayProps) {
    const { target, options: o, what, traits } = parseNginxGatewayProps(scope, id, props);
    // Check every initial route before anything is created.
    const book = new GatewayRoutes(o, target);
    o.routes.forEach((route, i) => {
      book.check(route, `${what}.routes[${i}]`, traits);
      book.add(route, traits);
    });

    super(scope, id);
    this.target = target;
    this.options = o;
    this.book = book;
    this.nginxVersion = traits.nginxVersion;
    // Lazy, so routes added after construction land in the mounted file.
    this.workload = target.deploy(this, builtByComponent(gatewayWorkload(o, { nginxConf: Lazy.stringValue({ produce: () => this.renderConfig() }) })));
    this.address = publicAddress(target, this.workload);
    // Clients see the load balancer's 443 on Kubernetes, the published host port on Docker.
    this.traits = { ...traits, publicHttpsPort: o.tls?.publicHttpsPort ?? (o.tls ? this.workload.publicPort(443) ?? 443 : 443) };
    this.node.addValidation({
      validate: () => (this.book.size === 0 ? [this.noRoutesMessage()] : []),
    });
    for (const route of book.all) this.admitGateway(route);
  }

  /** The routes so far, in the order they were added. */
  public get routes(): readonly GatewayRoute[] {
    return [...this.book.all];
  }

  /** The route added with this path, if any (a trailing slash does not matter: "/a/" is the route "/a"). */
  public routeOf(path: string): GatewayRoute | undefined {
    return this.book.get(path);
  }

  /**
   * Why a route for `path` to a workload named `serviceName` would be refused, judged before that
   * workload exists: the path is routed already, is the gateway's health endpoint, or the name
   * cannot name an nginx upstream. A composition asks first, so that a refused service leaves
   * nothing behind (`addRoute` checks the rest once the service is deployed).
   */
  public routeRefusal(path: string, serviceName: string): string | undefined {
    const taken = this.book.get(path);
    if (taken) return `is already routed to service "${taken.service.workload.name}"; each path may be routed once`;
    if (routeKey(path) === HEALTH_PATH) return `is the gateway's health endpoint (${HEALTH_PATH}); pick another path`;
    if (!nginxName.safeParse(serviceName).success) return `cannot be routed to "${serviceName}": an nginx upstream name must start with a letter; rename the service`;
    return undefined;
  }

  /**
   * Forwards requests for `route.path` and its sub-paths to `route.service` on `route.port`, and
   * lets the service admit the gateway on that port. Validated now: a bad route throws a
   * SovereignStackError naming the prop, and is not added.
   */
  public addRoute(route: GatewayRouteOptions): void {
    const what = `NginxGateway ${this.node.path} route`;
    const r = parseProps(GatewayRouteSchema, route, what);
    this.book.check(r, what, this.traits);
    this.book.add(r, this.traits);
    this.admitGateway(r);
  }

  /** The nginx.conf that will be mounted, for the routes added so far. */
  public renderConfig(): string {
    if (this.book.size === 0) throw new SovereignStackError(this.noRoutesMessage());
    // Routes are only ever appended and the options are fixed: their count says what to render.
    // Synthesis reads the file several times (prepare, write, config hash, residency evidence).
    if (this.rendered?.routes !== this.book.size) {
      this.rendered = { routes: this.book.size, conf: renderNginxConf(this.confSpec()) };
    }
    return this.rendered.conf;
  }

  /** The edge gateway -> service: on Kubernetes, the service's NetworkPolicy admits the gateway pods. */
  private admitGateway(route: GatewayRoute): void {
    route.service.allowFrom(this.workload, [route.port]);
  }

  private confSpec(): NginxConfSpec {
    return gatewayConfSpec(this.options, this.traits, this.book.all);
  }

  private noRoutesMessage(): string {
    return `NginxGateway ${this.node.path} has no routes: add one with gateway.addRoute({ path, service, port }) or props.routes`;
  }
}

/** Where public clients reach a deployed public workload (see `NginxGateway.address`). */
function publicAddress(target: IWorkloadTarget, deployed: DeployedWorkload): string {
  const { service, container0 } = deployed.resources;
  if (target.targetKind === 'kubernetes' && service) {
    const ingress = (attribute: string) => service.interpolationForAttribute(`status[0].load_balancer[0].ingress[0].${attribute}`);
    return Token.asString(Fn.try([Fn.coalesce([ingress('ip'), ingress('hostname')]), '']));
  }
  if (target.targetKind === 'docker' && container0) {
    return Token.asString(container0.interpolationForAttribute('ports[0].ip'));
  }
  return deployed.host;
}
