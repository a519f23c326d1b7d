/**
 * The input of `renderNginxConf`: everything that reaches nginx.conf, validated by zod first.
 *
 * Every string that is written into the file is restricted to characters that cannot end a
 * directive or open a block (`;`, `{`, `}`, quotes, backslashes, whitespace, `$`, `#`), so user
 * data can never inject configuration.
 */
import { isIPv4, isIPv6 } from 'net';
import { z } from 'zod';
import { absolutePath, boundedString, hostName, ipv4, port } from '../util/schemas';
import { coerceVersion, semver, strictVersion } from '../util/versions';

/** Open-source nginx supports `resolve` on upstream servers from this version. */
export const RESOLVE_SINCE = '1.27.3';

/** Names of upstreams and rate-limit zones: they appear in `proxy_pass http://<name>` and `zone=<name>`. */
export const nginxName = boundedString(63, 'must be at most 63 characters')
  .regex(/^[a-z][a-z0-9_-]{0,62}$/, {
    message: 'must start with a lower-case letter and contain only lower-case letters, digits, "_" and "-" (max 63)',
  });

/** A route's path: "/" followed by unreserved URI characters and "/". */
export const routePath = boundedString(1024, 'must be at most 1024 characters')
  .regex(/^\/[A-Za-z0-9._~/-]*$/, { message: 'must be "/" followed only by letters, digits and "._~/-"' })
  .refine((p) => !p.split('/').includes('..'), { message: 'must not contain ".." segments' });

/** An HTTP header field name (RFC 9110 token, restricted to letters, digits and "-"). */
export const headerName = boundedString(128, 'must be a header name of at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/, { message: 'must be a header name of letters, digits and "-"' });

/**
 * A header value rendered inside double quotes. No whitespace, quotes, backslashes, `$` (nginx
 * variables), `;`, `{`, `}` or `#`.
 */
export const headerValue = boundedString(1024, 'must be 1-1024 characters')
  .regex(/^[A-Za-z0-9!%&()*+,./:<=>?@[\]^_`|~-]{1,1024}$/, {
    message: 'must be 1-1024 characters of letters, digits and !%&()*+,./:<=>?@[]^_`|~- (no spaces, quotes, "\\", "$", ";", "{", "}" or "#")',
  });

/** An nginx size such as "1m", "512k" or "0" (no limit). */
export const nginxSize = boundedString(10, 'must be a size such as "1m", "512k" or "0" (at most 10 characters)')
  .regex(/^[0-9]{1,9}[kmg]?$/, { message: 'must be a size such as "1m", "512k" or "0" (k, m or g suffix)' });

const positiveInt = (max: number) =>
  z.number().int({ message: 'must be an integer' }).min(1, { message: 'must be at least 1' }).max(max, { message: `must be at most ${max}` });
const nonNegativeInt = (max: number) =>
  z.number().int({ message: 'must be an integer' }).min(0, { message: 'must be at least 0' }).max(max, { message: `must be at most ${max}` });

/**
 * What a route path matches, as rendered: the path itself and its sub-paths. Trailing slashes do
 * not change that ("/v1/orders/" routes what "/v1/orders" routes), so two paths with the same key
 * are the same route; "/" (or "//") is the catch-all.
 */
export function routeKey(path: string): string {
  return path.replace(/\/+$/, '') || '/';
}

/**
 * Retry-After (seconds) of a 503 the gateway answers itself: no backend of the route took the
 * connection (every one refused it, or the passive health check has left them all out). Long
 * enough that clients back off instead of spinning, short enough to come back soon after a pod
 * restarts; the default health check tries a left-out server again after 10 s.
 */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** Request headers the gateway sets itself; users may not override them. */
const RESERVED_REQUEST_HEADERS = ['host', 'connection', 'x-real-ip', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id'];

const headerMap = z.record(headerName, headerValue, {
  error: (issue) => (issue.code === 'invalid_key' ? 'header names must be letters, digits and "-" (max 128)' : undefined),
});

/** A request-rate limit: one `limit_req_zone` keyed by client address. */
export const RateLimitSchema = z
  .strictObject({
    /** Zone name, referenced by routes and `defaultRateLimit`. */
    name: nginxName,
    /** Sustained requests per second per client address. Exactly one of ratePerSecond / ratePerMinute. */
    ratePerSecond: positiveInt(100000).optional(),
    /** Sustained requests per minute per client address. Exactly one of ratePerSecond / ratePerMinute. */
    ratePerMinute: positiveInt(6000000).optional(),
    /**
     * Requests allowed above the rate before nginx answers 429. A burst of B lets B+1 requests
     * through at once. At least 1: nginx refuses `burst=0` ("invalid burst value").
     * @default 1
     */
    burst: positiveInt(100000).default(1),
    /**
     * Serve burst requests at once instead of spacing them out at the rate.
     * @default false
     */
    nodelay: z.boolean().default(false),
    /**
     * Serve this many burst requests at once and delay the rest (nginx `delay=`); at least 1 (nginx
     * refuses `delay=0`: leave it out to delay every excess request) and at most `burst`.
     * Not together with `nodelay`.
     * @default - none: all excess requests are delayed (or none, with nodelay)
     */
    delay: positiveInt(100000).optional(),
    /**
     * Shared-memory zone size in megabytes (1 MB holds about 16,000 client addresses).
     * @default 10
     */
    zoneSizeMb: positiveInt(1024).default(10),
  })
  .superRefine((r, ctx) => {
    if ((r.ratePerSecond === undefined) === (r.ratePerMinute === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['ratePerSecond'], message: 'set exactly one of ratePerSecond or ratePerMinute' });
    }
    if (r.delay !== undefined && r.nodelay) {
      ctx.addIssue({ code: 'custom', path: ['delay'], message: 'set either delay or nodelay, not both' });
    }
    if (r.delay !== undefined && r.delay > r.burst) {
      ctx.addIssue({ code: 'custom', path: ['delay'], message: `must be at most burst (${r.burst})` });
    }
  });

/** One backend address of an upstream. */
export const UpstreamServerSchema = z.strictObject({
  /** DNS name or IPv4 address of the backend. */
  host: hostName,
  /** Backend port. */
  port,
  /**
   * Failed attempts within `failTimeoutSeconds` after which nginx stops sending to this server for
   * `failTimeoutSeconds` (passive health check: the gateway's circuit breaker).
   * @default 3
   */
  maxFails: nonNegativeInt(1000).default(3),
  /**
   * Window for counting failures, and how long a failed server is then left out.
   * @default 10
   */
  failTimeoutSeconds: positiveInt(3600).default(10),
  /**
   * Re-resolve `host` while running and balance over every address it resolves to (nginx >=
   * 1.27.3; needs `resolver`). Point it at a name that resolves to each backend (a headless
   * Service): with one server per backend, `maxFails` can take a failing one out. A group of a
   * single server never marks it down, so without this the circuit breaker does nothing.
   * @default false
   */
  resolve: z.boolean().default(false),
});

/** A named group of backends, rendered as one `upstream` block. */
export const UpstreamSchema = z.strictObject({
  /** Upstream name, referenced by routes. */
  name: nginxName,
  /** Backends; requests are balanced round-robin. */
  servers: z.array(UpstreamServerSchema).min(1, { message: 'must list at least one server' }),
  /**
   * Idle keepalive connections to the backends cached per worker; 0 turns upstream keepalive off
   * (a new TCP connection per request).
   * @default 32
   */
  keepalive: nonNegativeInt(10000).default(32),
  /**
   * Requests served over one upstream keepalive connection before it is closed.
   * @default 1000
   */
  keepaliveRequests: positiveInt(1000000).default(1000),
  /**
   * How long an idle upstream keepalive connection stays open. Keep it below the backends' own
   * idle timeout, or nginx may reuse a connection the backend is closing.
   * @default 60
   */
  keepaliveTimeoutSeconds: positiveInt(3600).default(60),
  /**
   * Shared-memory zone of the group (`zone upstream_<name>`). At least 32: nginx refuses a zone
   * smaller than 8 memory pages ("zone is too small").
   * @default 64
   */
  zoneSizeKb: z.number().int({ message: 'must be an integer' })
    .min(32, { message: 'must be at least 32 (nginx refuses a zone smaller than 8 pages of 4 KiB)' })
    .max(65536, { message: 'must be at most 65536' }).default(64),
});

/** A path routed to an upstream. */
export const RouteSchema = z.strictObject({
  /**
   * The path and its sub-paths: "/v1/orders" matches "/v1/orders", "/v1/orders/" and
   * "/v1/orders/42?x=1", never "/v1/orders-export" (rendered as `location = /v1/orders` and
   * `location /v1/orders/`). A trailing slash changes nothing; "/" routes every path no other
   * route matches. The longest matching route wins.
   */
  path: routePath,
  /** Name of the upstream that serves this route. */
  upstream: nginxName,
  /**
   * Name of the rate limit for this route.
   * @default - `defaultRateLimit`, or no limit
   */
  rateLimit: nginxName.optional(),
});

/** Backend timeouts of every route. */
export const TimeoutsSchema = z.strictObject({
  /**
   * Seconds to establish a backend connection (nginx caps this at 75).
   * @default 5
   */
  connectSeconds: positiveInt(75).default(5),
  /**
   * Seconds between two reads from the backend.
   * @default 60
   */
  readSeconds: positiveInt(3600).default(60),
  /**
   * Seconds between two writes to the backend.
   * @default 60
   */
  sendSeconds: positiveInt(3600).default(60),
});

/** Retrying a failed backend attempt on the next server of the upstream. */
export const RetriesSchema = z.strictObject({
  /**
   * Attempts per request across backends, the first one included (1 = no retry).
   * @default 2
   */
  tries: positiveInt(10).default(2),
  /**
   * Seconds after which no further backend is tried for a request.
   * @default 10
   */
  timeoutSeconds: positiveInt(3600).default(10),
});

/**
 * An address or CIDR range nginx may take the client address from (`set_real_ip_from`): IPv4
 * ("10.0.0.0/8", "192.0.2.7") or IPv6 ("fd00::/8"), validated by Node's own parser.
 */
export const trustedRange = boundedString(49, 'must be an IPv4 or IPv6 address or CIDR range such as "10.0.0.0/8"')
  .refine((range) => {
    const [address, prefix, ...rest] = range.split('/');
    if (rest.length > 0) return false;
    const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : -1;
    if (max < 0) return false;
    return prefix === undefined || (/^(0|[1-9][0-9]{0,2})$/.test(prefix) && Number(prefix) <= max);
  }, { message: 'must be an IPv4 or IPv6 address or CIDR range such as "10.0.0.0/8" or "fd00::/8"' });

/**
 * Where the client address comes from when clients do not connect to nginx directly. The rate
 * limits key on it, the access log shows it, and the backends get it in X-Real-IP and
 * X-Forwarded-For.
 */
export const ClientAddressSchema = z.strictObject({
  /**
   * The load balancer in front sends a PROXY protocol header (v1 or v2) on every connection:
   * every listener takes `proxy_protocol`, so nothing else can connect to them (probes use
   * `healthPort`). The address in the header is used only from a `trustedProxies` peer.
   * @default false
   */
  proxyProtocol: z.boolean().default(false),
  /**
   * Peers (the load balancer, an ingress proxy) whose word on the client address is taken:
   * the PROXY protocol header with `proxyProtocol`, otherwise the X-Forwarded-For header, read
   * from the right and skipping trusted addresses (`real_ip_recursive`), so a client cannot
   * choose its address by sending the header itself. A request from any other peer keeps the
   * peer's own address.
   * @default []
   */
  trustedProxies: z.array(trustedRange).default([]),
});

/** TLS termination with a certificate mounted into the container. */
export const TlsSchema = z.strictObject({
  /** Absolute path of the PEM certificate chain inside the container. */
  certificatePath: absolutePath,
  /** Absolute path of the PEM private key inside the container. */
  keyPath: absolutePath,
  /**
   * HSTS max-age in seconds.
   * @default 63072000 (two years)
   */
  hstsMaxAgeSeconds: nonNegativeInt(1000000000).default(63072000),
  /**
   * The HTTPS port clients see (the Service/load balancer port), used in the HTTP->HTTPS redirect.
   * @default 443
   */
  publicHttpsPort: port.default(443),
});

const NginxConfSpecObject = z
  .strictObject({
    /** Target nginx version ("1.22.1", "1.27"); selects version-specific syntax (HTTP/2). Digits and dots only. */
    nginxVersion: strictVersion('an nginx version', '"1.22.1" or "1.27"'),
    /** `server_name`: DNS name or IPv4 address clients use. */
    serverName: hostName,
    /**
     * IPv4 address to listen on.
     * @default - all addresses
     */
    listenAddress: ipv4.optional(),
    /**
     * Plain-HTTP port (unprivileged, as in nginxinc/nginx-unprivileged).
     * @default 8080
     */
    httpPort: port.default(8080),
    /**
     * HTTPS port, used only with `tls`.
     * @default 8443
     */
    httpsPort: port.default(8443),
    /**
     * Serve nginx's `stub_status` (connection and request counters, for a metrics exporter) on
     * 127.0.0.1 at this port, in a server of its own: never on a listener clients reach.
     * @default - no stub_status
     */
    stubStatusPort: port.optional(),
    /**
     * DNS servers for upstream servers with `resolve` (a cluster's DNS Service, Docker's
     * 127.0.0.11), with how long answers are trusted.
     * @default - none (required when a server uses resolve)
     */
    resolver: z.strictObject({
      addresses: z.array(hostName).min(1, { message: 'must list at least one DNS server' }),
      /** @default 10 */
      validSeconds: positiveInt(3600).default(10),
    }).optional(),
    /**
     * Terminate TLS: routes move to the HTTPS server and plain HTTP redirects there (except the
     * health endpoint).
     * @default - no TLS: routes are served on httpPort
     */
    tls: TlsSchema.optional(),
    /**
     * Where the client address comes from behind a load balancer or proxy.
     * @default - the connecting peer's address
     */
    clientAddress: ClientAddressSchema.optional(),
    /**
     * A plain-HTTP port that serves only the health endpoint, for probes that cannot speak the
     * PROXY protocol of the other listeners.
     * @default - none: the health endpoint is served on httpPort
     */
    healthPort: port.optional(),
    /**
     * Writable folder for the pid file, error log and temp files (an emptyDir on a read-only root fs).
     * @default "/tmp"
     */
    runtimeDir: absolutePath.default('/tmp'),
    /**
     * Error log file.
     * @default "<runtimeDir>/error.log"
     */
    errorLogPath: absolutePath.optional(),
    /**
     * Where the JSON access log goes.
     * @default "/dev/stdout"
     */
    accessLogPath: absolutePath.default('/dev/stdout'),
    /**
     * nginx worker processes. "auto" starts one per CPU the node has, whatever the container's
     * share of them: on a 64-core node that is 64 workers, each with its own connections and
     * upstream keepalive cache inside one memory limit. Give a number derived from the CPU the
     * container may use (NginxGateway derives it from its CPU request).
     * @default "auto"
     */
    workerProcesses: z.union([positiveInt(1024), z.literal('auto')], {
      error: () => 'must be a whole number of workers from 1 to 1024, or "auto"',
    }).default('auto'),
    /**
     * Simultaneous connections per worker (clients and backends together). At least 16: the
     * listening sockets take connections of their own, and a worker without spare ones refuses
     * to start ("worker_connections are not enough").
     * @default 1024
     */
    workerConnections: z.number().int({ message: 'must be an integer' })
      .min(16, { message: 'must be at least 16 (the listening sockets use connections too)' })
      .max(1000000, { message: 'must be at most 1000000' }).default(1024),
    /**
     * Largest request body accepted ("0" = no limit).
     * @default "1m"
     */
    clientMaxBodySize: nginxSize.default('1m'),
    /**
     * Seconds an idle client keepalive connection stays open.
     * @default 65
     */
    clientKeepaliveTimeoutSeconds: nonNegativeInt(3600).default(65),
    /**
     * Probe endpoint: 200 "ok", never rate limited, not logged.
     * @default "/healthz"
     */
    healthPath: routePath.default('/healthz'),
    /**
     * Rate-limit zones, referenced by name from routes and `defaultRateLimit`.
     * @default []
     */
    rateLimits: z.array(RateLimitSchema).default([]),
    /**
     * Rate limit for routes that name none (and for the 404 fallback).
     * @default - no limit
     */
    defaultRateLimit: nginxName.optional(),
    /** Backend groups. */
    upstreams: z.array(UpstreamSchema).min(1, { message: 'must list at least one upstream' }),
    /** Paths (each with its sub-paths) and the upstream serving each. */
    routes: z.array(RouteSchema).min(1, { message: 'must list at least one route' }),
    /**
     * Backend timeouts.
     * @default { connectSeconds: 5, readSeconds: 60, sendSeconds: 60 }
     */
    timeouts: TimeoutsSchema.default({ connectSeconds: 5, readSeconds: 60, sendSeconds: 60 }),
    /**
     * Retrying on another backend after a connection error, timeout, 502, 503 or 504.
     * @default { tries: 2, timeoutSeconds: 10 }
     */
    retries: RetriesSchema.default({ tries: 2, timeoutSeconds: 10 }),
    /**
     * Extra headers added to every response (`add_header ... always`).
     * @default {}
     */
    responseHeaders: headerMap.default({}),
    /**
     * Extra headers sent to the backends; the forwarding headers the gateway sets are reserved.
     * @default {}
     */
    requestHeaders: headerMap.default({}),
  });

type CheckedSpec = z.output<typeof NginxConfSpecObject>;
type Ctx = z.RefinementCtx;

/** An upstream server with `resolve` needs nginx >= 1.27.3 and a resolver. */
function checkResolve(spec: CheckedSpec, ctx: Ctx): void {
  spec.upstreams.forEach((u, i) => u.servers.forEach((sv, j) => {
    if (!sv.resolve) return;
    if (!semver.gte(coerceVersion(spec.nginxVersion), RESOLVE_SINCE)) {
      ctx.addIssue({ code: 'custom', path: ['upstreams', i, 'servers', j, 'resolve'], message: `needs nginx >= ${RESOLVE_SINCE} (open-source nginx gained upstream "resolve" then); nginxVersion is ${spec.nginxVersion}` });
    }
    if (!spec.resolver) {
      ctx.addIssue({ code: 'custom', path: ['resolver'], message: `is required: upstreams[${i}].servers[${j}] uses resolve` });
    }
  }));
}

/** Upstream and rate-limit names are unique, and share one namespace of shared-memory zones. */
function checkZoneNames(spec: CheckedSpec, ctx: Ctx): void {
  const duplicates = (items: { name: string }[], key: string) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.name)) ctx.addIssue({ code: 'custom', path: [key, i, 'name'], message: `duplicate name "${item.name}"` });
      seen.add(item.name);
    });
  };
  duplicates(spec.upstreams, 'upstreams');
  duplicates(spec.rateLimits, 'rateLimits');
  // Both kinds of zone share one namespace of shared-memory zones: "upstream_<name>" is taken by
  // the zone of upstream <name>.
  spec.rateLimits.forEach((r, i) => {
    const upstream = spec.upstreams.find((u) => `upstream_${u.name}` === r.name);
    if (upstream) {
      ctx.addIssue({ code: 'custom', path: ['rateLimits', i, 'name'], message: `"${r.name}" is the shared-memory zone of upstream "${upstream.name}"; pick another name` });
    }
  });
}

/** Routes name known upstreams and rate limits, each path is routed once, and none is the health endpoint. */
function checkRoutes(spec: CheckedSpec, ctx: Ctx): void {
  const upstreams = new Set(spec.upstreams.map((u) => u.name));
  const limits = new Set(spec.rateLimits.map((r) => r.name));
  const known = (set: Set<string>) => (set.size ? [...set].map((n) => `"${n}"`).join(', ') : 'none');
  if (spec.defaultRateLimit !== undefined && !limits.has(spec.defaultRateLimit)) {
    ctx.addIssue({ code: 'custom', path: ['defaultRateLimit'], message: `names no rate limit in rateLimits (known: ${known(limits)})` });
  }
  const paths = new Map<string, string>();
  spec.routes.forEach((route, i) => {
    if (!upstreams.has(route.upstream)) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'upstream'], message: `names no upstream in upstreams (known: ${known(upstreams)})` });
    }
    if (route.rateLimit !== undefined && !limits.has(route.rateLimit)) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'rateLimit'], message: `names no rate limit in rateLimits (known: ${known(limits)})` });
    }
    const key = routeKey(route.path);
    const same = paths.get(key);
    if (same !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'path'], message: same === route.path
        ? `duplicate route path "${route.path}"`
        : `duplicate route path "${route.path}": it routes the same paths as "${same}" (a trailing slash changes nothing)` });
    }
    if (key === spec.healthPath) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'path'], message: `is the health endpoint (healthPath); pick another path or healthPath` });
    }
    if (same === undefined) paths.set(key, route.path);
  });
}

/** The listeners' ports differ, the PROXY protocol has trusted peers, and reserved headers stay the gateway's. */
function checkListenersAndHeaders(spec: CheckedSpec, ctx: Ctx): void {
  if (spec.clientAddress?.proxyProtocol && spec.clientAddress.trustedProxies.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['clientAddress', 'trustedProxies'], message: 'must list the load balancer\'s addresses when proxyProtocol is on (nginx takes the PROXY header\'s address only from them)' });
  }
  if (spec.healthPort !== undefined && [spec.httpPort, ...(spec.tls ? [spec.httpsPort] : [])].includes(spec.healthPort)) {
    ctx.addIssue({ code: 'custom', path: ['healthPort'], message: 'must differ from httpPort and httpsPort' });
  }
  if (spec.tls && spec.httpPort === spec.httpsPort) {
    ctx.addIssue({ code: 'custom', path: ['httpsPort'], message: 'must differ from httpPort' });
  }
  if (spec.stubStatusPort !== undefined && [spec.httpPort, ...(spec.tls ? [spec.httpsPort] : []), spec.healthPort].includes(spec.stubStatusPort)) {
    ctx.addIssue({ code: 'custom', path: ['stubStatusPort'], message: 'must differ from httpPort, httpsPort and healthPort (stub_status has a loopback-only server of its own)' });
  }
  Object.keys(spec.requestHeaders).forEach((name) => {
    if (RESERVED_REQUEST_HEADERS.includes(name.toLowerCase())) {
      ctx.addIssue({ code: 'custom', path: ['requestHeaders', name], message: 'is set by the gateway itself and cannot be overridden' });
    }
  });
}

export const NginxConfSpecSchema = NginxConfSpecObject.superRefine((spec, ctx) => {
  checkResolve(spec, ctx);
  checkZoneNames(spec, ctx);
  checkRoutes(spec, ctx);
  checkListenersAndHeaders(spec, ctx);
});

/** The renderer's input; props with a default may be left out. */
export type NginxConfSpec = z.input<typeof NginxConfSpecSchema>;
/** The validated spec with every default filled in. */
export type NginxConfSpecResolved = z.output<typeof NginxConfSpecSchema>;
