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
import { SchemaMatches } from '../util/schema-binding';
import { coerceVersion, semver, strictVersion } from '../util/versions';
import type {
  NginxClientAddressSpec, NginxConfSpec, NginxRateLimitSpec, NginxRetriesSpec, NginxRouteSpec, NginxTimeoutsSpec, NginxTlsSpec,
  NginxUpstreamServerSpec, NginxUpstreamSpec,
} from './nginx-conf-spec';

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
    name: nginxName,
    ratePerSecond: positiveInt(100000).optional(),
    ratePerMinute: positiveInt(6000000).optional(),
    burst: positiveInt(100000).default(1),
    nodelay: z.boolean().default(false),
    delay: positiveInt(100000).optional(),
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
  host: hostName,
  port,
  maxFails: nonNegativeInt(1000).default(3),
  failTimeoutSeconds: positiveInt(3600).default(10),
  resolve: z.boolean().default(false),
});

/** A named group of backends, rendered as one `upstream` block. */
export const UpstreamSchema = z.strictObject({
  name: nginxName,
  servers: z.array(UpstreamServerSchema).min(1, { message: 'must list at least one server' }),
  keepalive: nonNegativeInt(10000).default(32),
  keepaliveRequests: positiveInt(1000000).default(1000),
  keepaliveTimeoutSeconds: positiveInt(3600).default(60),
  zoneSizeKb: z.number().int({ message: 'must be an integer' })
    .min(32, { message: 'must be at least 32 (nginx refuses a zone smaller than 8 pages of 4 KiB)' })
    .max(65536, { message: 'must be at most 65536' }).default(64),
});

/** A path routed to an upstream. */
export const RouteSchema = z.strictObject({
  path: routePath,
  upstream: nginxName,
  rateLimit: nginxName.optional(),
});

/** Backend timeouts of every route. */
export const TimeoutsSchema = z.strictObject({
  connectSeconds: positiveInt(75).default(5),
  readSeconds: positiveInt(3600).default(60),
  sendSeconds: positiveInt(3600).default(60),
});

/** Retrying a failed backend attempt on the next server of the upstream. */
export const RetriesSchema = z.strictObject({
  tries: positiveInt(10).default(2),
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
  proxyProtocol: z.boolean().default(false),
  trustedProxies: z.array(trustedRange).default([]),
});

/** TLS termination with a certificate mounted into the container. */
export const TlsSchema = z.strictObject({
  certificatePath: absolutePath,
  keyPath: absolutePath,
  hstsMaxAgeSeconds: nonNegativeInt(1000000000).default(63072000),
  publicHttpsPort: port.default(443),
});

const NginxConfSpecObject = z
  .strictObject({
    nginxVersion: strictVersion('an nginx version', '"1.22.1" or "1.27"'),
    serverName: hostName,
    listenAddress: ipv4.optional(),
    httpPort: port.default(8080),
    httpsPort: port.default(8443),
    stubStatusPort: port.optional(),
    resolver: z.strictObject({
      addresses: z.array(hostName).min(1, { message: 'must list at least one DNS server' }),
      validSeconds: positiveInt(3600).default(10),
    }).optional(),
    tls: TlsSchema.optional(),
    clientAddress: ClientAddressSchema.optional(),
    healthPort: port.optional(),
    runtimeDir: absolutePath.default('/tmp'),
    errorLogPath: absolutePath.optional(),
    accessLogPath: absolutePath.default('/dev/stdout'),
    workerProcesses: z.union([positiveInt(1024), z.literal('auto')], {
      error: () => 'must be a whole number of workers from 1 to 1024, or "auto"',
    }).default('auto'),
    workerConnections: z.number().int({ message: 'must be an integer' })
      .min(16, { message: 'must be at least 16 (the listening sockets use connections too)' })
      .max(1000000, { message: 'must be at most 1000000' }).default(1024),
    clientMaxBodySize: nginxSize.default('1m'),
    clientKeepaliveTimeoutSeconds: nonNegativeInt(3600).default(65),
    healthPath: routePath.default('/healthz'),
    rateLimits: z.array(RateLimitSchema).default([]),
    defaultRateLimit: nginxName.optional(),
    upstreams: z.array(UpstreamSchema).min(1, { message: 'must list at least one upstream' }),
    routes: z.array(RouteSchema).min(1, { message: 'must list at least one route' }),
    timeouts: TimeoutsSchema.default({ connectSeconds: 5, readSeconds: 60, sendSeconds: 60 }),
    retries: RetriesSchema.default({ tries: 2, timeoutSeconds: 10 }),
    responseHeaders: headerMap.default({}),
    requestHeaders: headerMap.default({}),
  });

type CheckedSpec = z.output<typeof NginxConfSpecObject>;
type Ctx = z.RefinementCtx;

/** An upstream server with `resolve` needs nginx >= 1.27.3 and a resolver. */
function checkResolve(spec: CheckedSpec, ctx: Ctx): void {
  let resolves: boolean | undefined; // read once: a gateway has an upstream per service
  spec.upstreams.forEach((u, i) => u.servers.forEach((sv, j) => {
    if (!sv.resolve) return;
    if (!(resolves ??= semver.gte(coerceVersion(spec.nginxVersion), RESOLVE_SINCE))) {
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

/** The renderer's input and its parts, documented in nginx-conf-spec.ts; props with a default may be left out. */
export type {
  NginxClientAddressSpec, NginxConfSpec, NginxRateLimitSpec, NginxResolverSpec, NginxRetriesSpec, NginxRouteSpec, NginxTimeoutsSpec,
  NginxTlsSpec, NginxUpstreamServerSpec, NginxUpstreamSpec,
} from './nginx-conf-spec';

// The documented interfaces and the schemas describe the same spec: a difference fails the build.
const _spec: SchemaMatches<NginxConfSpec, typeof NginxConfSpecSchema> = true;
const _rateLimit: SchemaMatches<NginxRateLimitSpec, typeof RateLimitSchema> = true;
const _upstream: SchemaMatches<NginxUpstreamSpec, typeof UpstreamSchema> = true;
const _server: SchemaMatches<NginxUpstreamServerSpec, typeof UpstreamServerSchema> = true;
const _route: SchemaMatches<NginxRouteSpec, typeof RouteSchema> = true;
const _timeouts: SchemaMatches<NginxTimeoutsSpec, typeof TimeoutsSchema> = true;
const _retries: SchemaMatches<NginxRetriesSpec, typeof RetriesSchema> = true;
const _clientAddress: SchemaMatches<NginxClientAddressSpec, typeof ClientAddressSchema> = true;
const _tls: SchemaMatches<NginxTlsSpec, typeof TlsSchema> = true;
void [_spec, _rateLimit, _upstream, _server, _route, _timeouts, _retries, _clientAddress, _tls];
/** The validated spec with every default filled in. */
export type NginxConfSpecResolved = z.output<typeof NginxConfSpecSchema>;
