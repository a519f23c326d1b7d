import { Fn, Lazy, Token } from 'cdktf';
import { Construct } from 'constructs';
import { z } from 'zod';
import { SovereignStackError, formatIssuePath, parseProps } from '../util/errors';
import { cpuToCores, dnsLabel, dnsSubdomain, hostName, imageRef, memoryToMi, port } from '../util/schemas';
import { coerceVersion, imageTagVersion, semver, strictVersion } from '../util/versions';
import { parseComponentProps } from '../workload/component-props';
import { DeployedWorkload, IWorkloadTarget, WorkloadTarget, builtByComponent } from '../workload/target';
import { ResourcesSchema, WorkloadPort, WorkloadProps, servicePortOf } from '../workload/workload';
import { METRICS_PORT_NAME, exporterOptionsSchema } from '../workload/metrics';
import { ClientAddressSchema, NginxConfSpec, NginxConfSpecSchema, RESOLVE_SINCE, TimeoutsSchema, nginxName, nginxSize, routeKey, routePath } from './nginx-spec';
import { renderNginxCommand } from './render-nginx-command';
import { STUB_STATUS_PATH, renderNginxConf } from './render-nginx-conf';
import { gatewayWorkerBudget } from './worker-budget';

/** The image used when `image` is not set: nginx built to run as uid 101 on ports 8080/8443. */
export const DEFAULT_NGINX_IMAGE = 'nginxinc/nginx-unprivileged:1.28.3-alpine';

/** The NGINX Prometheus exporter (reads stub_status; serves :9113/metrics). */
export const DEFAULT_NGINX_EXPORTER_IMAGE = 'nginx/nginx-prometheus-exporter:1.5.3';
/** Where the exporter serves metrics, and where nginx serves stub_status (127.0.0.1 only). */
export const NGINX_EXPORTER_PORT = 9113;
export const NGINX_STUB_STATUS_PORT = 8082; // 8081 is the probes' port behind the PROXY protocol

/** uid and gid of the `nginx` user in the nginxinc/nginx-unprivileged images. */
const NGINX_UID = 101;
const HTTP_CONTAINER_PORT = 8080;
const HTTPS_CONTAINER_PORT = 8443;
const CONF_PATH = '/etc/nginx/nginx.conf';
const TLS_DIR = '/etc/nginx/tls';
const RUNTIME_DIR = '/tmp';
const HEALTH_PATH = '/healthz';
/** The probes' port when the other listeners speak the PROXY protocol (never published). */
const HEALTH_CONTAINER_PORT = 8081;
/** Largest burst nginx accepts in our renderer. */
const MAX_BURST = 100000;

/** The gateway's default upstream keepalive_timeout: below the 5 s idle timeout of Node.js and uvicorn. */
export const UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS = 4;

/**
 * How long nginx trusts a DNS answer for a service's pods (`resolver ... valid=`): a pod removed
 * from its Service's endpoints may still get requests for this long.
 */
export const GATEWAY_RESOLVER_VALID_SECONDS = 10;

/** How long the cluster DNS may keep answering with a removed pod (CoreDNS's kubernetes TTL, 5 s). */
const CLUSTER_DNS_TTL_SECONDS = 5;

/**
 * How long a service's pod keeps serving after it is told to stop (its preStop pause): until the
 * gateway can no longer be sending it requests, the resolver validity plus the DNS TTL (15 s).
 */
export const SERVICE_STOP_DELAY_SECONDS = GATEWAY_RESOLVER_VALID_SECONDS + CLUSTER_DNS_TTL_SECONDS;
/** Most connections per nginx worker (nginx's usual 1024; fewer when the memory limit is small). */
const WORKER_CONNECTIONS = 1024;
/** Size of each rate-limit zone and upstream zone the gateway renders (the renderer's defaults). */
const RATE_LIMIT_ZONE_MI = 10;
const UPSTREAM_ZONE_KI = 64;
/** Name of the rate-limit zone of `props.rateLimit`. */
const DEFAULT_ZONE = 'gateway-default';

/**
 * A request-rate limit per client address (nginx `limit_req`, keyed by the client IP).
 *
 * nginx counts in each replica's memory: with N replicas a client may get up to N times the rate
 * through, depending on how the load balancer spreads its connections. `scope` says what the
 * stated numbers mean:
 * - `'per-replica'` (the default): each replica admits `perSecond` (or `perMinute`) and `burst`;
 *   the whole gateway admits up to `replicas` times that.
 * - `'gateway'`: the stated rate is for the whole gateway; each replica is given
 *   `ceil(rate / replicas)`, and `ceil(burst / replicas)`. This assumes the load balancer spreads
 *   a client's connections evenly over the replicas; with uneven spreading a client gets less than
 *   the stated rate, never more than `replicas * ceil(rate / replicas)`.
 */
export const RateLimitOptionsSchema = z.object({
  /**
   * Sustained requests per second per client address. Set exactly one of perSecond / perMinute.
   * @default - none: set perMinute
   */
  perSecond: z.number().int({ message: 'must be an integer' }).min(1, { message: 'must be at least 1' })
    .max(100000, { message: 'must be at most 100000' }).optional(),
  /**
   * Sustained requests per minute per client address. Set exactly one of perSecond / perMinute.
   * @default - none: set perSecond
   */
  perMinute: z.number().int({ message: 'must be an integer' }).min(1, { message: 'must be at least 1' })
    .max(6000000, { message: 'must be at most 6000000' }).optional(),
  /**
   * Requests above the rate admitted before the gateway answers 429 (burst B lets B+1 requests
   * through at once). At least 1: nginx refuses `burst=0`.
   * @default - twice the rate (at most 100000)
   */
  burst: z.number().int({ message: 'must be an integer' }).min(1, { message: 'must be at least 1 (nginx refuses burst=0)' })
    .max(MAX_BURST, { message: `must be at most ${MAX_BURST}` }).optional(),
  /**
   * Serve burst requests at once instead of spacing them out at the rate.
   * @default true
   */
  nodelay: z.boolean().default(true),
  /**
   * Whether the rate and burst are per replica or for the whole gateway (see the type's doc).
   * @default 'per-replica'
   */
  scope: z.enum(['per-replica', 'gateway']).default('per-replica'),
}).strict().superRefine((r, ctx) => {
  if ((r.perSecond === undefined) === (r.perMinute === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['perSecond'], message: 'set exactly one of perSecond or perMinute' });
  }
});

/** A rate limit as users write it (defaults optional). */
export type RateLimitOptions = z.input<typeof RateLimitOptionsSchema>;

const deployedWorkload = z.custom<DeployedWorkload>(
  (v) => typeof v === 'object' && v !== null
    && typeof (v as DeployedWorkload).host === 'string'
    && typeof (v as DeployedWorkload).allowFrom === 'function'
    && typeof (v as DeployedWorkload).workload?.name === 'string',
  { message: 'must be a deployed workload (what `target.deploy()` returns, or a component\'s `workload`)' },
);

/** A path the gateway forwards to a service. */
export const GatewayRouteSchema = z.object({
  /**
   * The path and its sub-paths: "/v1/orders" matches "/v1/orders", "/v1/orders/" and
   * "/v1/orders/42?x=1", never "/v1/orders-export". A trailing slash changes nothing; "/" takes
   * every path no other route matches; the longest matching route wins. Letters, digits and
   * "._~/-" only.
   */
  path: routePath,
  /** The workload serving this route; it is told to admit the gateway on `port`. */
  service: deployedWorkload,
  /** The service port to connect to (one of the ports the service declares). */
  port,
  /**
   * A rate limit for this route only, counted separately from the gateway's `rateLimit`.
   * @default - the gateway's `rateLimit`, or none
   */
  rateLimit: RateLimitOptionsSchema.optional(),
}).strict();

/** A route as `addRoute` and `props.routes` take it. */
export type GatewayRouteOptions = z.input<typeof GatewayRouteSchema>;
/** A route as the gateway holds it (defaults applied). */
export type GatewayRoute = z.output<typeof GatewayRouteSchema>;

/** TLS termination at the gateway. */
export const GatewayTlsSchema = z.object({
  /**
   * An existing `kubernetes.io/tls` Secret with keys `tls.crt` and `tls.key`, mounted at
   * /etc/nginx/tls (cert-manager writes exactly this). On Docker its two keys become sensitive
   * Terraform variables.
   */
  secretName: dnsSubdomain,
  /**
   * The HTTPS port clients see, used in the HTTP -> HTTPS redirect.
   * @default 443, or 8443 (the published host port) on a target of kind 'docker'
   */
  publicHttpsPort: port.optional(),
  /**
   * Seconds between two checks of the mounted certificate and key: when they change (a renewal),
   * nginx is tested and reloaded, with no connection dropped (see `renderNginxCommand`). Renewals
   * reach the pod's files within about a minute on Kubernetes, so this adds at most its own value.
   * @default 30
   */
  reloadCheckSeconds: z.number().int({ message: 'must be an integer' }).min(1, { message: 'must be at least 1' })
    .max(86400, { message: 'must be at most 86400' }).default(30),
}).strict();

export type GatewayTlsOptions = z.input<typeof GatewayTlsSchema>;

/** An image reference whose digest, if any, is a whole sha256 digest (a short one is a typo, not a pin). */
const gatewayImage = imageRef.refine((ref) => !ref.includes('@') || /@sha256:[a-f0-9]{64}$/.test(ref), {
  message: 'must pin its digest as "@sha256:" followed by 64 lower-case hex digits (or leave the digest out)',
});

const nginxVersionSchema = strictVersion('an nginx version', '"1.27.3" or "1.27"');

export const NginxGatewayOptionsSchema = z.object({
  /**
   * Workload name: object names, host names, the label pods are selected by.
   * @default 'gateway'
   */
  name: dnsLabel.max(40, { message: 'must be at most 40 characters' }).default('gateway'),
  /** `server_name`: the DNS name (or IPv4 address) clients use, e.g. "api.example.no". */
  serverName: hostName,
  /**
   * Terminate TLS with an existing certificate Secret; plain HTTP then redirects to HTTPS (the
   * health endpoint excepted).
   * @default - no TLS: routes are served on plain HTTP
   */
  tls: GatewayTlsSchema.optional(),
  /**
   * Where the client address comes from when a load balancer or proxy stands in front: the
   * PROXY protocol (`proxyProtocol: true`) or X-Forwarded-For, taken only from `trustedProxies`
   * (the load balancer's CIDR ranges). The rate limits key on that address, and backends get it
   * in X-Real-IP and X-Forwarded-For (set, never appended to what the client sent). Without it,
   * every client behind a load balancer that does not preserve source addresses shares one
   * address, and one rate-limit bucket.
   * @default - the connecting peer's address (right when the Service preserves client addresses)
   */
  clientAddress: ClientAddressSchema.optional(),
  /**
   * Rate limit per client address for every route without its own limit (and for unknown paths).
   * @default - no rate limit
   */
  rateLimit: RateLimitOptionsSchema.optional(),
  /**
   * nginx replicas (spread over nodes when the target can).
   * @default 2
   */
  replicas: z.number().int({ message: 'must be an integer' }).min(1, { message: 'must be at least 1' })
    .max(100, { message: 'must be at most 100' }).default(2),
  /**
   * nginx image. It must run as uid 101 without root and read /etc/nginx/nginx.conf, as the
   * nginxinc/nginx-unprivileged images do. Pin a digest after the tag for reproducible rollouts
   * (`nginxinc/nginx-unprivileged:1.28.3-alpine@sha256:<64 hex digits>`): the version still comes
   * from the tag, the runtime pulls exactly the digest.
   * @default 'nginxinc/nginx-unprivileged:1.28.3-alpine'
   */
  image: gatewayImage.default(DEFAULT_NGINX_IMAGE),
  /**
   * nginx version the configuration is rendered for (selects version-specific syntax).
   * @default - the version in the image tag ("1.28.3-alpine" -> "1.28.3")
   */
  nginxVersion: nginxVersionSchema.optional(),
  /**
   * Routes known at construction; `addRoute` adds more later.
   * @default []
   */
  routes: z.array(GatewayRouteSchema).default([]),
  /**
   * Largest request body accepted ("0" = no limit).
   * @default '1m'
   */
  clientMaxBodySize: nginxSize.default('1m'),
  /**
   * Idle keepalive connections to each service, cached per nginx worker (0 = a new connection per
   * request).
   * @default 32
   */
  upstreamKeepalive: z.number().int({ message: 'must be an integer' }).min(0, { message: 'must be at least 0' })
    .max(10000, { message: 'must be at most 10000' }).default(32),
  /**
   * Seconds an idle keepalive connection to a service stays open. Keep it below the services' own
   * idle timeout: a request nginx sends on a connection the service is closing fails, and a POST
   * is then answered 502 (nginx never re-sends one the service may have received). The default is
   * below the 5 s of Node.js and uvicorn; set it lower for servers that close sooner (gunicorn: 2).
   * @default 4
   */
  upstreamKeepaliveTimeoutSeconds: z.number().int({ message: 'must be an integer' }).min(1, { message: 'must be at least 1' })
    .max(3600, { message: 'must be at most 3600' }).default(UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS),
  /**
   * Backend connect / read / send timeouts of every route.
   * @default { connectSeconds: 5, readSeconds: 60, sendSeconds: 60 }
   */
  timeouts: TimeoutsSchema.optional(),
  /**
   * CPU and memory of each replica.
   * @default { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } }
   */
  resources: ResourcesSchema.default({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } }),
  /**
   * Prometheus metrics: nginx's stub_status on 127.0.0.1:8082 (a server of its own) and the NGINX
   * Prometheus exporter beside nginx serving it on :9113/metrics.
   * @default { enabled: true, image: 'nginx/nginx-prometheus-exporter:1.5.3' }
   */
  metrics: exporterOptionsSchema(DEFAULT_NGINX_EXPORTER_IMAGE),
}).strict().superRefine((o, ctx) => {
  // The Kubernetes API refuses a request above its limit.
  if (memoryToMi(o.resources.requests.memory) > memoryToMi(o.resources.limits.memory)) {
    ctx.addIssue({ code: 'custom', path: ['resources', 'requests', 'memory'], message: `must not exceed resources.limits.memory (${o.resources.limits.memory}); Kubernetes refuses a request above the limit` });
  }
  if (o.resources.limits.cpu !== undefined && cpuToCores(o.resources.requests.cpu) > cpuToCores(o.resources.limits.cpu)) {
    ctx.addIssue({ code: 'custom', path: ['resources', 'requests', 'cpu'], message: `must not exceed resources.limits.cpu (${o.resources.limits.cpu}); Kubernetes refuses a request above the limit` });
  }
  if (o.clientAddress?.proxyProtocol && o.clientAddress.trustedProxies.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['clientAddress', 'trustedProxies'], message: 'must list the load balancer\'s address ranges when proxyProtocol is on (such as ["10.0.0.0/8"]); nginx takes the client address from a PROXY header only from them' });
  }
  if (o.nginxVersion === undefined && imageTagVersion(o.image) === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['nginxVersion'],
      message: `is required because the tag of image "${o.image}" names no version; set nginxVersion (such as "1.27.3") ` +
        `or use a versioned tag (such as "${DEFAULT_NGINX_IMAGE}")`,
    });
  }
});

/** Plain options of an NginxGateway (types derived from the schema, so they cannot drift). */
export type NginxGatewayOptions = z.input<typeof NginxGatewayOptionsSchema>;
type ResolvedOptions = z.output<typeof NginxGatewayOptionsSchema>;
type ResolvedRateLimit = z.output<typeof RateLimitOptionsSchema>;

/** What the rendered configuration depends on besides the options and routes. */
interface TargetTraits {
  readonly nginxVersion: string;
  /** The HTTPS port clients see (HTTP -> HTTPS redirects). */
  readonly publicHttpsPort: number;
  /** DNS server for upstreams re-resolved while running. */
  readonly dnsResolver: string;
}

export interface NginxGatewayProps extends NginxGatewayOptions {
  /** Where the gateway runs (KubernetesTarget, DockerTarget, ...). */
  readonly target: IWorkloadTarget;
}

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
  private readonly options: ResolvedOptions;
  private traits: TargetTraits;
  private readonly _routes: GatewayRoute[] = [];
  /** The upstream name each route's service and port gets, as gatewayConfSpec will name them. */
  private readonly upstreamNames = new UpstreamNamer();

  constructor(scope: Construct, id: string, props: NginxGatewayProps) {
    const { target, options: o, what } = parseComponentProps('NginxGateway', scope, id, props, NginxGatewayOptionsSchema, { prop: 'name', of: (g) => g.name });
    // The public HTTPS port is known once deployed; 443 stands in for the checks below.
    const traits: TargetTraits = {
      nginxVersion: o.nginxVersion ?? imageTagVersion(o.image)!.version,
      publicHttpsPort: o.tls?.publicHttpsPort ?? 443,
      dnsResolver: target.dnsResolver,
    };
    // With one server per pod, nginx re-resolves through the target's DNS: a name nginx cannot use
    // would fail every render later, under a route's name. Say where it comes from now.
    if (perPodUpstreams(traits) && !hostName.safeParse(traits.dnsResolver).success) {
      throw new SovereignStackError(`invalid ${what}:\n  - ${what}.target: the target's DNS resolver "${traits.dnsResolver}" is not a host name ` +
        `or IPv4 address nginx can use (nginx ${traits.nginxVersion} re-resolves each service through it); fix the target's DNS setting (KubernetesTarget clusterDns)`);
    }
    // Check every initial route before anything is created.
    const initial: GatewayRoute[] = [];
    const initialByPath = new Map<string, GatewayRoute>();
    const initialNames = new UpstreamNamer();
    o.routes.forEach((route, i) => {
      checkRoute(route, initialByPath, `${what}.routes[${i}]`, target, initialNames, traits, (routes) => gatewayConfSpec(o, traits, routes));
      initialNames.add(route, traits);
      initial.push(route);
      initialByPath.set(routeKey(route.path), route);
    });

    super(scope, id);
    this.target = target;
    this.options = o;
    this.nginxVersion = traits.nginxVersion;
    this.workload = target.deploy(this, builtByComponent(withNginxExporter(this.workloadProps(), o.metrics)));
    this.address = publicAddress(target, this.workload);
    // Clients see the load balancer's 443 on Kubernetes, the published host port on Docker.
    this.traits = { ...traits, publicHttpsPort: o.tls?.publicHttpsPort ?? (o.tls ? this.workload.publicPort(443) ?? 443 : 443) };
    this.node.addValidation({
      validate: () => (this._routes.length === 0 ? [this.noRoutesMessage()] : []),
    });
    for (const route of initial) this.applyRoute(route);
  }

  /** The routes so far, in the order they were added. */
  public get routes(): readonly GatewayRoute[] {
    return [...this._routes];
  }

  /** The route added with this path, if any (a trailing slash does not matter: "/a/" is the route "/a"). */
  public routeOf(path: string): GatewayRoute | undefined {
    return this.byPath.get(routeKey(path));
  }

  /**
   * Why a route for `path` to a workload named `serviceName` would be refused, judged before that
   * workload exists: the path is routed already, is the gateway's health endpoint, or the name
   * cannot name an nginx upstream. A composition asks first, so that a refused service leaves
   * nothing behind (`addRoute` checks the rest once the service is deployed).
   */
  public routeRefusal(path: string, serviceName: string): string | undefined {
    const taken = this.byPath.get(routeKey(path));
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
    checkRoute(r, this.byPath, what, this.target, this.upstreamNames, this.traits, (routes) => this.confSpec(routes));
    this.applyRoute(r);
  }

  /** The nginx.conf that will be mounted, for the routes added so far. */
  public renderConfig(): string {
    if (this._routes.length === 0) throw new SovereignStackError(this.noRoutesMessage());
    // Routes are only ever appended and the options are fixed: their count says what to render.
    // Synthesis reads the file several times (prepare, write, config hash, residency evidence).
    if (this.rendered?.routes !== this._routes.length) {
      this.rendered = { routes: this._routes.length, conf: renderNginxConf(this.confSpec(this._routes)) };
    }
    return this.rendered.conf;
  }

  private rendered?: { readonly routes: number; readonly conf: string };
  private readonly byPath = new Map<string, GatewayRoute>();

  private applyRoute(route: GatewayRoute): void {
    this.upstreamNames.add(route, this.traits);
    this._routes.push(route);
    this.byPath.set(routeKey(route.path), route);
    // The edge gateway -> service: on Kubernetes, the service's NetworkPolicy admits the gateway pods.
    route.service.allowFrom(this.workload, [route.port]);
  }

  private confSpec(routes: readonly GatewayRoute[]): NginxConfSpec {
    return gatewayConfSpec(this.options, this.traits, routes);
  }

  private noRoutesMessage(): string {
    return `NginxGateway ${this.node.path} has no routes: add one with gateway.addRoute({ path, service, port }) or props.routes`;
  }

  private workloadProps(): WorkloadProps {
    const o = this.options;
    const ports: WorkloadPort[] = [{ name: 'http', containerPort: HTTP_CONTAINER_PORT, servicePort: 80, hostPort: HTTP_CONTAINER_PORT }];
    if (o.tls) ports.push({ name: 'https', containerPort: HTTPS_CONTAINER_PORT, servicePort: 443, hostPort: HTTPS_CONTAINER_PORT });
    // Probes cannot speak the PROXY protocol: with it they get a listener of their own.
    const healthPort = o.clientAddress?.proxyProtocol ? HEALTH_CONTAINER_PORT : HTTP_CONTAINER_PORT;
    const health = { httpGet: { path: HEALTH_PATH, port: healthPort } };
    return {
      name: o.name,
      component: 'gateway',
      kind: 'stateless',
      image: o.image,
      // With TLS, nginx plus a loop that reloads it when the certificate Secret is renewed.
      command: o.tls
        ? renderNginxCommand({
          confPath: CONF_PATH,
          pidPath: `${RUNTIME_DIR}/nginx.pid`,
          watchFiles: [`${TLS_DIR}/tls.crt`, `${TLS_DIR}/tls.key`],
          intervalSeconds: o.tls.reloadCheckSeconds,
        })
        : undefined,
      replicas: o.replicas,
      ports,
      secrets: o.tls ? [{ source: 'existing', name: o.tls.secretName, keys: ['tls.crt', 'tls.key'] }] : [],
      secretMounts: o.tls ? [{ secret: o.tls.secretName, mountPath: TLS_DIR }] : [],
      // Lazy, so routes added after construction land in the mounted file.
      configFiles: [{ path: CONF_PATH, content: Lazy.stringValue({ produce: () => this.renderConfig() }) }],
      // pid file, error log and temp files; the root filesystem stays read-only.
      scratch: [{ name: 'tmp', mountPath: RUNTIME_DIR, sizeMi: 64 }],
      probes: {
        readiness: { ...health, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
        liveness: { ...health, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
      },
      resources: o.resources,
      securityContext: { runAsUser: NGINX_UID, runAsGroup: NGINX_UID, runAsNonRoot: true, readOnlyRootFilesystem: true },
      placement: { datastore: false, spreadAcrossNodes: 'preferred' },
      ingress: [{ from: 'public', ports: ports.map((p) => p.containerPort) }],
      // maxUnavailable, not minAvailable: minAvailable must stay below replicas or no node drains.
      disruptionBudget: o.replicas > 1 ? { maxUnavailable: 1 } : undefined,
      shutdown: {
        // Let the endpoint removal reach every load balancer before nginx stops accepting.
        preStop: ['sh', '-c', 'sleep 5'],
        // SIGQUIT is nginx's graceful shutdown: finish the requests in flight, then exit.
        stopSignal: 'SIGQUIT',
        gracePeriodSeconds: 30,
      },
      public: true,
    };
  }
}

/** Adds the exporter sidecar reading stub_status over the replica's loopback, and the metrics endpoint. */
function withNginxExporter(props: WorkloadProps, m: ResolvedOptions['metrics']): WorkloadProps {
  if (!m.enabled) return props;
  return {
    ...props,
    sidecars: [...(props.sidecars ?? []), {
      name: 'nginx-exporter',
      image: m.image,
      args: [`--nginx.scrape-uri=http://127.0.0.1:${NGINX_STUB_STATUS_PORT}${STUB_STATUS_PATH}`, `--web.listen-address=:${NGINX_EXPORTER_PORT}`],
      resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
      persistentVolumes: false,
      ports: [{ name: METRICS_PORT_NAME, containerPort: NGINX_EXPORTER_PORT }],
    }],
    metrics: { port: METRICS_PORT_NAME, path: '/metrics' },
  };
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

/**
 * Validates one route against those already there (and renders it with the gateway's settings),
 * throwing a SovereignStackError that names the route prop. Pure: nothing is added.
 */
function checkRoute(
  route: GatewayRoute,
  existing: ReadonlyMap<string, GatewayRoute>,
  what: string,
  target: IWorkloadTarget,
  names: UpstreamNamer,
  traits: TargetTraits,
  specFor: (routes: readonly GatewayRoute[]) => NginxConfSpec,
): void {
  const fail = (prop: string, message: string): never => {
    throw new SovereignStackError(`invalid ${what}:\n  - ${what}.${prop}: ${message}`);
  };
  const service = route.service.workload;
  const taken = existing.get(routeKey(route.path));
  if (taken) {
    const same = taken.path === route.path ? '' : `the same route as "${taken.path}", a trailing slash changes nothing; `;
    fail('path', `duplicate route path "${route.path}" (${same}already routed to "${taken.service.workload.name}"); each path may be routed once`);
  }
  if (routeKey(route.path) === HEALTH_PATH) fail('path', `is the gateway's health endpoint (${HEALTH_PATH}); pick another path`);
  if (target instanceof WorkloadTarget && target.findWorkload(service.name) !== route.service) {
    fail('service', `"${service.name}" is not deployed on the gateway's target ${target.node.path}; deploy the service on the same target`);
  }
  if (!nginxName.safeParse(service.name).success) {
    fail('service', `workload name "${service.name}" must start with a letter to name an nginx upstream; rename the service`);
  }
  const servicePorts = service.ports.map(servicePortOf);
  if (!servicePorts.includes(route.port)) {
    fail('port', `service "${service.name}" has no port ${route.port} (its ports: ${servicePorts.join(', ') || 'none'}); use one of them`);
  }
  // The upstream this route will have among all routes so far: a second port of a service gets
  // "<service>-<port>", which another service may already be called.
  const planned = names.peek(route, traits);
  if (planned.isNew) {
    const owner = names.ownerOf(planned.name);
    if (owner) {
      fail('service', `service "${service.name}" port ${planned.port} would get the nginx upstream name "${planned.name}", which is already ` +
        `the upstream of service "${owner.service}" port ${owner.port}; rename one of the two services`);
    }
    const valid = nginxName.safeParse(planned.name);
    if (!valid.success) {
      fail('service', `service "${service.name}" port ${planned.port} would get the nginx upstream name "${planned.name}", which ` +
        `${valid.error.issues[0].message}; use a shorter service name`);
    }
  }
  // The route alone, with the gateway's settings: upstream names are checked above and zone names
  // gatewayConfSpec makes unique. Rendering every route on each add made adding N routes
  // quadratic (2.1 s of a 500-service synth). A refusal names the prop behind it.
  const result = NginxConfSpecSchema.safeParse(specFor([route]));
  if (!result.success) {
    const issue = result.error.issues[0];
    const [head] = issue.path;
    const detail = `${formatIssuePath('nginxConf', issue.path)}: ${issue.message}`;
    if (head === 'routes') fail('path', `nginx cannot use this path: ${issue.message}`);
    if (head === 'upstreams') fail('service', `nginx cannot reach service "${service.name}" at the address its target gives (${detail})`);
    if (head === 'resolver') fail('service', `nginx cannot use the target's DNS resolver (${detail}); fix the target's DNS setting`);
    if (head === 'rateLimits') fail('rateLimit', `nginx cannot use this rate limit (${detail})`);
    fail('path', `the gateway cannot render nginx.conf with this route (${detail})`);
  }
}

/** True when this nginx gets one server per pod, re-resolved through the target's DNS. */
function perPodUpstreams(t: TargetTraits): boolean {
  return semver.gte(coerceVersion(t.nginxVersion), RESOLVE_SINCE);
}

/**
 * Names the upstream of each service and port, in route order: the service's name, and
 * "<service>-<port>" for a second port of the same service. gatewayConfSpec and addRoute use this
 * one rule, so what addRoute checks is what gets rendered.
 */
class UpstreamNamer {
  private readonly byKey = new Map<string, string>();
  private readonly owners = new Map<string, { service: string; port: number }>();

  /** The upstream `route` gets after the routes added so far; `isNew` when none serves its service and port yet. */
  public peek(route: GatewayRoute, t: TargetTraits): { name: string; port: number; key: string; isNew: boolean } {
    const service = route.service.workload;
    const endpoint = perPodUpstreams(t) ? route.service.podsEndpoint(route.port) : route.service.endpoint(route.port);
    const key = `${service.name}:${endpoint.port}`;
    const known = this.byKey.get(key);
    if (known) return { name: known, port: endpoint.port, key, isNew: false };
    const name = this.owners.has(service.name) ? `${service.name}-${endpoint.port}` : service.name;
    return { name, port: endpoint.port, key, isNew: true };
  }

  /** Who already has upstream `name`. */
  public ownerOf(name: string): { service: string; port: number } | undefined {
    return this.owners.get(name);
  }

  public add(route: GatewayRoute, t: TargetTraits): string {
    const planned = this.peek(route, t);
    if (planned.isNew) {
      this.byKey.set(planned.key, planned.name);
      this.owners.set(planned.name, { service: route.service.workload.name, port: planned.port });
    }
    return planned.name;
  }
}

/** The renderer's input for the gateway options and routes. Pure. */
function gatewayConfSpec(o: ResolvedOptions, t: TargetTraits, routes: readonly GatewayRoute[]): NginxConfSpec {
  const upstreams: NonNullable<NginxConfSpec['upstreams']> = [];
  const upstreamOf = new Map<string, string>();
  const rateLimits: NonNullable<NginxConfSpec['rateLimits']> = [];
  if (o.rateLimit) rateLimits.push(rateLimitZone(DEFAULT_ZONE, o.rateLimit, o.replicas));
  const zoneNames = new Set(rateLimits.map((r) => r.name));

  // From nginx 1.27.3, one server per pod (a name resolving to every pod, re-resolved while
  // running): max_fails can then take a failing pod out. Before, the Service address: nginx never
  // marks the only server of a group down, so the passive health check cannot trip there.
  const perPod = perPodUpstreams(t);
  const namer = new UpstreamNamer();
  const specRoutes = routes.map((route) => {
    const endpoint = perPod ? route.service.podsEndpoint(route.port) : route.service.endpoint(route.port);
    const connectPort = endpoint.port;
    const key = `${route.service.workload.name}:${connectPort}`;
    let upstream = upstreamOf.get(key);
    if (!upstream) {
      // One upstream per service; a second port of the same service gets a suffixed name.
      upstream = namer.add(route, t);
      upstreamOf.set(key, upstream);
      upstreams.push({
        name: upstream,
        servers: [{ host: endpoint.host, port: connectPort, maxFails: 3, failTimeoutSeconds: 10, resolve: perPod }],
        keepalive: o.upstreamKeepalive,
        keepaliveTimeoutSeconds: o.upstreamKeepaliveTimeoutSeconds,
      });
    }
    let rateLimit: string | undefined;
    if (route.rateLimit) {
      rateLimit = uniqueName(routeZoneName(route.path), zoneNames);
      zoneNames.add(rateLimit);
      rateLimits.push(rateLimitZone(rateLimit, route.rateLimit, o.replicas));
    }
    return { path: route.path, upstream, rateLimit };
  });

  // Workers from the CPU request, connections from the memory limit, and the services' idle
  // keepalive connections within what a worker can hold (see gatewayWorkerBudget).
  const budget = gatewayWorkerBudget({
    cpuRequest: o.resources.requests.cpu,
    cpuLimit: o.resources.limits.cpu,
    memoryLimit: o.resources.limits.memory,
    maxWorkerConnections: WORKER_CONNECTIONS,
    sharedZonesMi: rateLimits.length * RATE_LIMIT_ZONE_MI + upstreams.length * (UPSTREAM_ZONE_KI / 1024),
    tls: o.tls !== undefined,
    upstreamKeepalive: o.upstreamKeepalive,
    upstreams: upstreams.length,
  });
  for (const u of upstreams) u.keepalive = budget.upstreamKeepalive;

  return {
    nginxVersion: t.nginxVersion,
    workerProcesses: budget.workerProcesses,
    workerConnections: budget.workerConnections,
    serverName: o.serverName,
    httpPort: HTTP_CONTAINER_PORT,
    httpsPort: HTTPS_CONTAINER_PORT,
    tls: o.tls
      ? { certificatePath: `${TLS_DIR}/tls.crt`, keyPath: `${TLS_DIR}/tls.key`, publicHttpsPort: t.publicHttpsPort }
      : undefined,
    runtimeDir: RUNTIME_DIR,
    stubStatusPort: o.metrics.enabled ? NGINX_STUB_STATUS_PORT : undefined,
    // Container logs go to the runtime's log collection, not a file inside the pod.
    errorLogPath: '/dev/stderr',
    resolver: perPod && upstreams.length > 0 ? { addresses: [t.dnsResolver], validSeconds: GATEWAY_RESOLVER_VALID_SECONDS } : undefined,
    clientMaxBodySize: o.clientMaxBodySize,
    healthPath: HEALTH_PATH,
    clientAddress: o.clientAddress,
    healthPort: o.clientAddress?.proxyProtocol ? HEALTH_CONTAINER_PORT : undefined,
    rateLimits,
    defaultRateLimit: o.rateLimit ? DEFAULT_ZONE : undefined,
    upstreams,
    routes: specRoutes,
    timeouts: o.timeouts,
  };
}

/** nginx `limit_req_zone` for a rate limit, divided over the replicas when its scope is the gateway. */
function rateLimitZone(name: string, limit: ResolvedRateLimit, replicas: number): NonNullable<NginxConfSpec['rateLimits']>[number] {
  const share = (n: number) => (limit.scope === 'gateway' ? Math.ceil(n / replicas) : n);
  const rate = (limit.perSecond ?? limit.perMinute)!;
  const burst = limit.burst ?? Math.min(2 * rate, MAX_BURST);
  return {
    name,
    ...(limit.perSecond !== undefined ? { ratePerSecond: share(limit.perSecond) } : { ratePerMinute: share(limit.perMinute!) }),
    burst: share(burst),
    nodelay: limit.nodelay,
  };
}

/** "/v1/Orders.json" -> "route-v1-orders-json" (an nginx zone name). */
function routeZoneName(path: string): string {
  const slug = path.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'root';
  return `route-${slug}`.slice(0, 56).replace(/-+$/, '');
}

function uniqueName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  let i = 2;
  while (taken.has(`${base}-${i}`)) i++;
  return `${base}-${i}`;
}
