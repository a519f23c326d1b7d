/**
 * The input of `renderNginxConf`, documented for people: everything that reaches nginx.conf. Each
 * interface is bound at compile time to the zod schema in nginx-spec.ts that validates it.
 *
 * Every string that is written into the file is restricted to characters that cannot end a
 * directive or open a block (`;`, `{`, `}`, quotes, backslashes, whitespace, `$`, `#`), so user
 * data can never inject configuration.
 *
 * The props are not readonly, as the spec type derived from the schema was not: callers build a
 * spec and adjust it before rendering.
 */

/** A request-rate limit: one `limit_req_zone` keyed by client address. */
export interface NginxRateLimitSpec {
  /** Zone name, referenced by routes and `defaultRateLimit` (a lower-case letter, then letters, digits, "_" and "-"; max 63). */
  name: string;
  /**
   * Sustained requests per second per client address (1 to 100000). Exactly one of
   * ratePerSecond / ratePerMinute.
   * @default - none: set ratePerMinute
   */
  ratePerSecond?: number;
  /**
   * Sustained requests per minute per client address (1 to 6000000). Exactly one of
   * ratePerSecond / ratePerMinute.
   * @default - none: set ratePerSecond
   */
  ratePerMinute?: number;
  /**
   * Requests allowed above the rate before nginx answers 429. A burst of B lets B+1 requests
   * through at once. At least 1: nginx refuses `burst=0` ("invalid burst value").
   * @default 1
   */
  burst?: number;
  /**
   * Serve burst requests at once instead of spacing them out at the rate.
   * @default false
   */
  nodelay?: boolean;
  /**
   * Serve this many burst requests at once and delay the rest (nginx `delay=`); at least 1 (nginx
   * refuses `delay=0`: leave it out to delay every excess request) and at most `burst`.
   * Not together with `nodelay`.
   * @default - none: all excess requests are delayed (or none, with nodelay)
   */
  delay?: number;
  /**
   * Shared-memory zone size in megabytes (1 MB holds about 16,000 client addresses).
   * @default 10
   */
  zoneSizeMb?: number;
}

/** One backend address of an upstream. */
export interface NginxUpstreamServerSpec {
  /** DNS name or IPv4 address of the backend. */
  host: string;
  /** Backend port. */
  port: number;
  /**
   * Failed attempts within `failTimeoutSeconds` after which nginx stops sending to this server for
   * `failTimeoutSeconds` (passive health check: the gateway's circuit breaker).
   * @default 3
   */
  maxFails?: number;
  /**
   * Window for counting failures, and how long a failed server is then left out.
   * @default 10
   */
  failTimeoutSeconds?: number;
  /**
   * Re-resolve `host` while running and balance over every address it resolves to (nginx >=
   * 1.27.3; needs `resolver`). Point it at a name that resolves to each backend (a headless
   * Service): with one server per backend, `maxFails` can take a failing one out. A group of a
   * single server never marks it down, so without this the circuit breaker does nothing.
   * @default false
   */
  resolve?: boolean;
}

/** A named group of backends, rendered as one `upstream` block. */
export interface NginxUpstreamSpec {
  /** Upstream name, referenced by routes. */
  name: string;
  /** Backends; requests are balanced round-robin. At least one. */
  servers: NginxUpstreamServerSpec[];
  /**
   * Idle keepalive connections to the backends cached per worker; 0 turns upstream keepalive off
   * (a new TCP connection per request).
   * @default 32
   */
  keepalive?: number;
  /**
   * Requests served over one upstream keepalive connection before it is closed.
   * @default 1000
   */
  keepaliveRequests?: number;
  /**
   * How long an idle upstream keepalive connection stays open. Keep it below the backends' own
   * idle timeout, or nginx may reuse a connection the backend is closing.
   * @default 60
   */
  keepaliveTimeoutSeconds?: number;
  /**
   * Shared-memory zone of the group (`zone upstream_<name>`). At least 32: nginx refuses a zone
   * smaller than 8 memory pages ("zone is too small").
   * @default 64
   */
  zoneSizeKb?: number;
}

/** A path routed to an upstream. */
export interface NginxRouteSpec {
  /**
   * The path and its sub-paths: "/v1/orders" matches "/v1/orders", "/v1/orders/" and
   * "/v1/orders/42?x=1", never "/v1/orders-export" (rendered as `location = /v1/orders` and
   * `location /v1/orders/`). A trailing slash changes nothing; "/" routes every path no other
   * route matches. The longest matching route wins.
   */
  path: string;
  /** Name of the upstream that serves this route. */
  upstream: string;
  /**
   * Name of the rate limit for this route.
   * @default - `defaultRateLimit`, or no limit
   */
  rateLimit?: string;
}

/** Backend timeouts of every route. */
export interface NginxTimeoutsSpec {
  /**
   * Seconds to establish a backend connection (nginx caps this at 75).
   * @default 5
   */
  connectSeconds?: number;
  /**
   * Seconds between two reads from the backend.
   * @default 60
   */
  readSeconds?: number;
  /**
   * Seconds between two writes to the backend.
   * @default 60
   */
  sendSeconds?: number;
}

/** Retrying a failed backend attempt on the next server of the upstream. */
export interface NginxRetriesSpec {
  /**
   * Attempts per request across backends, the first one included (1 = no retry).
   * @default 2
   */
  tries?: number;
  /**
   * Seconds after which no further backend is tried for a request.
   * @default 10
   */
  timeoutSeconds?: number;
}

/**
 * Where the client address comes from when clients do not connect to nginx directly. The rate
 * limits key on it, the access log shows it, and the backends get it in X-Real-IP and
 * X-Forwarded-For.
 */
export interface NginxClientAddressSpec {
  /**
   * The load balancer in front sends a PROXY protocol header (v1 or v2) on every connection:
   * every listener takes `proxy_protocol`, so nothing else can connect to them (probes use
   * `healthPort`). The address in the header is used only from a `trustedProxies` peer.
   * @default false
   */
  proxyProtocol?: boolean;
  /**
   * Peers (the load balancer, an ingress proxy) whose word on the client address is taken:
   * the PROXY protocol header with `proxyProtocol`, otherwise the X-Forwarded-For header, read
   * from the right and skipping trusted addresses (`real_ip_recursive`), so a client cannot
   * choose its address by sending the header itself. A request from any other peer keeps the
   * peer's own address. Each an address or CIDR range nginx may take the client address from
   * (`set_real_ip_from`): IPv4 ("10.0.0.0/8", "192.0.2.7") or IPv6 ("fd00::/8").
   * @default []
   */
  trustedProxies?: string[];
}

/** TLS termination with a certificate mounted into the container. */
export interface NginxTlsSpec {
  /** Absolute path of the PEM certificate chain inside the container. */
  certificatePath: string;
  /** Absolute path of the PEM private key inside the container. */
  keyPath: string;
  /**
   * HSTS max-age in seconds.
   * @default 63072000 (two years)
   */
  hstsMaxAgeSeconds?: number;
  /**
   * The HTTPS port clients see (the Service/load balancer port), used in the HTTP->HTTPS redirect.
   * @default 443
   */
  publicHttpsPort?: number;
}

/** DNS servers for upstream servers with `resolve`, with how long answers are trusted. */
export interface NginxResolverSpec {
  /** DNS servers (host names or IPv4 addresses); at least one. */
  addresses: string[];
  /**
   * Seconds an answer is trusted (`valid=`).
   * @default 10
   */
  validSeconds?: number;
}

/** The renderer's input; props with a default may be left out. */
export interface NginxConfSpec {
  /** Target nginx version ("1.22.1", "1.27"); selects version-specific syntax (HTTP/2). Digits and dots only. */
  nginxVersion: string;
  /** `server_name`: DNS name or IPv4 address clients use. */
  serverName: string;
  /**
   * IPv4 address to listen on.
   * @default - all addresses
   */
  listenAddress?: string;
  /**
   * Plain-HTTP port (unprivileged, as in nginxinc/nginx-unprivileged).
   * @default 8080
   */
  httpPort?: number;
  /**
   * HTTPS port, used only with `tls`.
   * @default 8443
   */
  httpsPort?: number;
  /**
   * Serve nginx's `stub_status` (connection and request counters, for a metrics exporter) on
   * 127.0.0.1 at this port, in a server of its own: never on a listener clients reach.
   * @default - no stub_status
   */
  stubStatusPort?: number;
  /**
   * DNS servers for upstream servers with `resolve` (a cluster's DNS Service, Docker's
   * 127.0.0.11), with how long answers are trusted.
   * @default - none (required when a server uses resolve)
   */
  resolver?: NginxResolverSpec;
  /**
   * Terminate TLS: routes move to the HTTPS server and plain HTTP redirects there (except the
   * health endpoint).
   * @default - no TLS: routes are served on httpPort
   */
  tls?: NginxTlsSpec;
  /**
   * Where the client address comes from behind a load balancer or proxy.
   * @default - the connecting peer's address
   */
  clientAddress?: NginxClientAddressSpec;
  /**
   * A plain-HTTP port that serves only the health endpoint, for probes that cannot speak the
   * PROXY protocol of the other listeners.
   * @default - none: the health endpoint is served on httpPort
   */
  healthPort?: number;
  /**
   * Writable folder for the pid file, error log and temp files (an emptyDir on a read-only root fs).
   * @default "/tmp"
   */
  runtimeDir?: string;
  /**
   * Error log file.
   * @default "<runtimeDir>/error.log"
   */
  errorLogPath?: string;
  /**
   * Where the JSON access log goes.
   * @default "/dev/stdout"
   */
  accessLogPath?: string;
  /**
   * nginx worker processes. "auto" starts one per CPU the node has, whatever the container's
   * share of them: on a 64-core node that is 64 workers, each with its own connections and
   * upstream keepalive cache inside one memory limit. Give a number derived from the CPU the
   * container may use (NginxGateway derives it from its CPU request).
   * @default "auto"
   */
  workerProcesses?: number | 'auto';
  /**
   * Simultaneous connections per worker (clients and backends together). At least 16: the
   * listening sockets take connections of their own, and a worker without spare ones refuses
   * to start ("worker_connections are not enough").
   * @default 1024
   */
  workerConnections?: number;
  /**
   * Largest request body accepted ("0" = no limit).
   * @default "1m"
   */
  clientMaxBodySize?: string;
  /**
   * Seconds an idle client keepalive connection stays open.
   * @default 65
   */
  clientKeepaliveTimeoutSeconds?: number;
  /**
   * Probe endpoint: 200 "ok", never rate limited, not logged.
   * @default "/healthz"
   */
  healthPath?: string;
  /**
   * Rate-limit zones, referenced by name from routes and `defaultRateLimit`.
   * @default []
   */
  rateLimits?: NginxRateLimitSpec[];
  /**
   * Rate limit for routes that name none (and for the 404 fallback).
   * @default - no limit
   */
  defaultRateLimit?: string;
  /** Backend groups; at least one. */
  upstreams: NginxUpstreamSpec[];
  /** Paths (each with its sub-paths) and the upstream serving each; at least one. */
  routes: NginxRouteSpec[];
  /**
   * Backend timeouts.
   * @default { connectSeconds: 5, readSeconds: 60, sendSeconds: 60 }
   */
  timeouts?: NginxTimeoutsSpec;
  /**
   * Retrying on another backend after a connection error, timeout, 502, 503 or 504.
   * @default { tries: 2, timeoutSeconds: 10 }
   */
  retries?: NginxRetriesSpec;
  /**
   * Extra headers added to every response (`add_header ... always`).
   * @default {}
   */
  responseHeaders?: Record<string, string>;
  /**
   * Extra headers sent to the backends; the forwarding headers the gateway sets are reserved.
   * @default {}
   */
  requestHeaders?: Record<string, string>;
}
