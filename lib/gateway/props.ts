/**
 * The public contract of NginxGateway: the props users write, documented for people. Each
 * interface is bound to the zod schema that validates it (lib/gateway/schema.ts) at compile time,
 * so docs, types and validation cannot drift.
 */
import type { IWorkloadTarget, DeployedWorkload } from '../workload/target';

/**
 * What the numbers of a {@link RateLimitOptions} mean when the gateway runs several replicas:
 * - `'per-replica'`: each replica admits the rate and burst; the whole gateway admits up to
 *   `replicas` times that.
 * - `'gateway'`: the rate and burst are for the whole gateway, divided over the replicas.
 */
export type RateLimitScope = 'per-replica' | 'gateway';

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
 *
 * Set exactly one of `perSecond` and `perMinute`.
 */
export interface RateLimitOptions {
  /**
   * Sustained requests per second per client address (1 to 100000). Set exactly one of
   * perSecond / perMinute.
   * @default - none: set perMinute
   */
  readonly perSecond?: number;
  /**
   * Sustained requests per minute per client address (1 to 6000000). Set exactly one of
   * perSecond / perMinute.
   * @default - none: set perSecond
   */
  readonly perMinute?: number;
  /**
   * Requests above the rate admitted before the gateway answers 429 (burst B lets B+1 requests
   * through at once). At least 1: nginx refuses `burst=0`; at most 100000.
   * @default - twice the rate (at most 100000)
   */
  readonly burst?: number;
  /**
   * Serve burst requests at once instead of spacing them out at the rate.
   * @default true
   */
  readonly nodelay?: boolean;
  /**
   * Whether the rate and burst are per replica or for the whole gateway (see the type's doc).
   * @default 'per-replica'
   */
  readonly scope?: RateLimitScope;
}

/** A path the gateway forwards to a service, as `addRoute` and `props.routes` take it. */
export interface GatewayRouteOptions {
  /**
   * The path and its sub-paths: "/v1/orders" matches "/v1/orders", "/v1/orders/" and
   * "/v1/orders/42?x=1", never "/v1/orders-export". A trailing slash changes nothing; "/" takes
   * every path no other route matches; the longest matching route wins. Letters, digits and
   * "._~/-" only.
   */
  readonly path: string;
  /** The workload serving this route; it is told to admit the gateway on `port`. */
  readonly service: DeployedWorkload;
  /** The service port to connect to (one of the ports the service declares). */
  readonly port: number;
  /**
   * A rate limit for this route only, counted separately from the gateway's `rateLimit`.
   * @default - the gateway's `rateLimit`, or none
   */
  readonly rateLimit?: RateLimitOptions;
}

/** A route's rate limit as the gateway holds it: the defaults filled in. */
export interface ResolvedRateLimit extends RateLimitOptions {
  /** Serve burst requests at once instead of spacing them out at the rate. */
  readonly nodelay: boolean;
  /** Whether the rate and burst are per replica or for the whole gateway. */
  readonly scope: RateLimitScope;
}

/** A route as the gateway holds it (see `NginxGateway.routes`): validated, defaults filled in. */
export interface GatewayRoute {
  /** The path and its sub-paths (see {@link GatewayRouteOptions.path}). */
  readonly path: string;
  /** The workload serving this route. */
  readonly service: DeployedWorkload;
  /** The service port the gateway connects to. */
  readonly port: number;
  /**
   * This route's own rate limit.
   * @default - the gateway's `rateLimit`, or none
   */
  readonly rateLimit?: ResolvedRateLimit;
}

/** TLS termination at the gateway. */
export interface GatewayTlsOptions {
  /**
   * An existing `kubernetes.io/tls` Secret with keys `tls.crt` and `tls.key`, mounted at
   * /etc/nginx/tls (cert-manager writes exactly this). On Docker its two keys become sensitive
   * Terraform variables. A DNS-1123 subdomain.
   */
  readonly secretName: string;
  /**
   * The HTTPS port clients see, used in the HTTP -> HTTPS redirect.
   * @default 443, or 8443 (the published host port) on a target of kind 'docker'
   */
  readonly publicHttpsPort?: number;
  /**
   * Seconds between two checks of the mounted certificate and key (1 to 86400): when they change
   * (a renewal), nginx is tested and reloaded, with no connection dropped (see
   * `renderNginxCommand`). Renewals reach the pod's files within about a minute on Kubernetes, so
   * this adds at most its own value.
   * @default 30
   */
  readonly reloadCheckSeconds?: number;
}

/**
 * Where the client address comes from when clients do not connect to nginx directly. The rate
 * limits key on it, the access log shows it, and the backends get it in X-Real-IP and
 * X-Forwarded-For.
 */
export interface GatewayClientAddressOptions {
  /**
   * The load balancer in front sends a PROXY protocol header (v1 or v2) on every connection:
   * every listener takes `proxy_protocol`, so nothing else can connect to them (probes get a
   * listener of their own). The address in the header is used only from a `trustedProxies`
   * peer, so `trustedProxies` must list the load balancer's ranges when this is on.
   * @default false
   */
  readonly proxyProtocol?: boolean;
  /**
   * Peers (the load balancer, an ingress proxy) whose word on the client address is taken:
   * the PROXY protocol header with `proxyProtocol`, otherwise the X-Forwarded-For header, read
   * from the right and skipping trusted addresses (`real_ip_recursive`), so a client cannot
   * choose its address by sending the header itself. A request from any other peer keeps the
   * peer's own address. Each entry is an IPv4 or IPv6 address or CIDR range ("10.0.0.0/8",
   * "192.0.2.7", "fd00::/8").
   * @default []
   */
  readonly trustedProxies?: string[];
}

/** Backend timeouts of every route. */
export interface GatewayTimeoutsOptions {
  /**
   * Seconds to establish a backend connection (1 to 75: nginx caps this at 75).
   * @default 5
   */
  readonly connectSeconds?: number;
  /**
   * Seconds between two reads from the backend (1 to 3600).
   * @default 60
   */
  readonly readSeconds?: number;
  /**
   * Seconds between two writes to the backend (1 to 3600).
   * @default 60
   */
  readonly sendSeconds?: number;
}

/** What each gateway replica asks the scheduler for. */
export interface GatewayResourceRequests {
  /** CPU request ("100m", "2"); the nginx worker count follows it (rounded up). */
  readonly cpu: string;
  /** Memory request ("128Mi"); at most `limits.memory`. */
  readonly memory: string;
}

/** The most each gateway replica may use. */
export interface GatewayResourceLimits {
  /**
   * CPU limit ("1", "500m"); caps the nginx worker count.
   * @default - no CPU limit
   */
  readonly cpu?: string;
  /** Memory limit ("256Mi"); the connections each nginx worker may hold follow it. */
  readonly memory: string;
}

/** CPU and memory of each gateway replica (Kubernetes quantities). */
export interface GatewayResources {
  /** What each replica asks for. */
  readonly requests: GatewayResourceRequests;
  /** The most each replica may use. */
  readonly limits: GatewayResourceLimits;
}

/**
 * Prometheus metrics of the gateway: nginx's stub_status on 127.0.0.1:8082 (a server of its own)
 * and the NGINX Prometheus exporter beside nginx serving it on :9113/metrics.
 */
export interface GatewayMetricsOptions {
  /**
   * Run the exporter and declare the metrics endpoint.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The exporter's image.
   * @default 'nginx/nginx-prometheus-exporter:1.5.3'
   */
  readonly image?: string;
}

/** Plain options of an NginxGateway: everything but the target. */
export interface NginxGatewayOptions {
  /**
   * Workload name: object names, host names, the label pods are selected by. A DNS-1123 label of
   * at most 40 characters.
   * @default 'gateway'
   */
  readonly name?: string;
  /** `server_name`: the DNS name (or IPv4 address) clients use, e.g. "api.example.no". */
  readonly serverName: string;
  /**
   * Terminate TLS with an existing certificate Secret; plain HTTP then redirects to HTTPS (the
   * health endpoint excepted).
   * @default - no TLS: routes are served on plain HTTP
   */
  readonly tls?: GatewayTlsOptions;
  /**
   * Where the client address comes from when a load balancer or proxy stands in front: the
   * PROXY protocol (`proxyProtocol: true`) or X-Forwarded-For, taken only from `trustedProxies`
   * (the load balancer's CIDR ranges). The rate limits key on that address, and backends get it
   * in X-Real-IP and X-Forwarded-For (set, never appended to what the client sent). Without it,
   * every client behind a load balancer that does not preserve source addresses shares one
   * address, and one rate-limit bucket.
   * @default - the connecting peer's address (right when the Service preserves client addresses)
   */
  readonly clientAddress?: GatewayClientAddressOptions;
  /**
   * Rate limit per client address for every route without its own limit (and for unknown paths).
   * @default - no rate limit
   */
  readonly rateLimit?: RateLimitOptions;
  /**
   * nginx replicas (1 to 100; spread over nodes when the target can).
   * @default 2
   */
  readonly replicas?: number;
  /**
   * nginx image. It must run as uid 101 without root and read /etc/nginx/nginx.conf, as the
   * nginxinc/nginx-unprivileged images do. Pin a digest after the tag for reproducible rollouts
   * (`nginxinc/nginx-unprivileged:1.28.3-alpine@sha256:<64 hex digits>`): the version still comes
   * from the tag, the runtime pulls exactly the digest.
   * @default 'nginxinc/nginx-unprivileged:1.28.3-alpine'
   */
  readonly image?: string;
  /**
   * nginx version the configuration is rendered for (selects version-specific syntax), such as
   * "1.27.3" or "1.27". Required when the image tag names no version.
   * @default - the version in the image tag ("1.28.3-alpine" -> "1.28.3")
   */
  readonly nginxVersion?: string;
  /**
   * Routes known at construction; `addRoute` adds more later.
   * @default []
   */
  readonly routes?: GatewayRouteOptions[];
  /**
   * Largest request body accepted ("0" = no limit), an nginx size such as "1m" or "512k".
   * @default '1m'
   */
  readonly clientMaxBodySize?: string;
  /**
   * Idle keepalive connections to each service, cached per nginx worker (0 = a new connection per
   * request; at most 10000).
   * @default 32
   */
  readonly upstreamKeepalive?: number;
  /**
   * Seconds an idle keepalive connection to a service stays open (1 to 3600). Keep it below the
   * services' own idle timeout: a request nginx sends on a connection the service is closing
   * fails, and a POST is then answered 502 (nginx never re-sends one the service may have
   * received). The default is below the 5 s of Node.js and uvicorn; set it lower for servers that
   * close sooner (gunicorn: 2).
   * @default 4
   */
  readonly upstreamKeepaliveTimeoutSeconds?: number;
  /**
   * Backend connect / read / send timeouts of every route.
   * @default { connectSeconds: 5, readSeconds: 60, sendSeconds: 60 }
   */
  readonly timeouts?: GatewayTimeoutsOptions;
  /**
   * CPU and memory of each replica.
   * @default { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } }
   */
  readonly resources?: GatewayResources;
  /**
   * Prometheus metrics: nginx's stub_status on 127.0.0.1:8082 (a server of its own) and the NGINX
   * Prometheus exporter beside nginx serving it on :9113/metrics.
   * @default { enabled: true, image: 'nginx/nginx-prometheus-exporter:1.5.3' }
   */
  readonly metrics?: GatewayMetricsOptions;
}

/** Props of an NginxGateway: its options and where it runs. */
export interface NginxGatewayProps extends NginxGatewayOptions {
  /** Where the gateway runs (KubernetesTarget, DockerTarget, ...). */
  readonly target: IWorkloadTarget;
}
