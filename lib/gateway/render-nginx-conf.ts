/**
 * Renders a complete nginx.conf (main context included) from a validated spec. Pure: spec in,
 * text out. Every user string was restricted by `NginxConfSpecSchema`, so it is written verbatim.
 */
import { parseProps } from '../util/errors';
import { coerceVersion, semver } from '../util/versions';
import { NginxConfSpec, NginxConfSpecResolved, NginxConfSpecSchema, UNAVAILABLE_RETRY_AFTER_SECONDS, routeKey } from './nginx-spec';

type Spec = NginxConfSpecResolved;
type Route = Spec['routes'][number];
type Tls = NonNullable<Spec['tls']>;

/** Mozilla "intermediate" TLS 1.2 suites (TLS 1.3 suites are not configurable here and all good). */
const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const JSON_LOG_FORMAT = [
  '"time":"$time_iso8601"',
  '"remote_addr":"$remote_addr"',
  '"request":"$request"',
  '"status":$status',
  '"upstream_addr":"$upstream_addr"',
  '"request_time":$request_time',
  '"upstream_response_time":"$upstream_response_time"',
  '"request_id":"$gateway_request_id"',
].join(',');

/** Renders nginx.conf for the spec; throws a SovereignStackError naming every invalid prop. */
export function renderNginxConf(spec: NginxConfSpec): string {
  const s = parseProps(NginxConfSpecSchema, spec, 'nginxConf');
  const lines = [
    '# Rendered by sovereign-stack renderNginxConf; do not edit by hand.',
    `worker_processes ${s.workerProcesses};`,
    `pid ${s.runtimeDir}/nginx.pid;`,
    `error_log ${s.errorLogPath ?? `${s.runtimeDir}/error.log`} warn;`,
    '',
    ...block('events', [`worker_connections ${s.workerConnections};`]),
    '',
    ...block('http', httpContext(s)),
  ];
  return lines.join('\n') + '\n';
}

function httpContext(s: Spec): string[] {
  const upstreamDefaults = upstreamKeepaliveDefaults(s.nginxVersion);
  return [
    // The root fs is read-only in the unprivileged image: every temp file goes to runtimeDir.
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${s.runtimeDir}/${t}_temp;`),
    '',
    'server_tokens off;',
    'default_type application/octet-stream;',
    'sendfile on;',
    'tcp_nopush on;',
    `keepalive_timeout ${s.clientKeepaliveTimeoutSeconds}s;`,
    `client_max_body_size ${s.clientMaxBodySize};`,
    '',
    // Keep a caller's X-Request-ID so one id follows the request through every hop.
    ...block('map $http_x_request_id $gateway_request_id', ['default $http_x_request_id;', '"" $request_id;']),
    `log_format json_combined escape=json '{${JSON_LOG_FORMAT}}';`,
    `access_log ${s.accessLogPath} json_combined;`,
    '',
    ...realIp(s),
    'limit_req_status 429;',
    'limit_req_log_level warn;',
    ...s.rateLimits.map((r) => {
      const rate = r.ratePerSecond !== undefined ? `${r.ratePerSecond}r/s` : `${r.ratePerMinute}r/m`;
      return `limit_req_zone $binary_remote_addr zone=${r.name}:${r.zoneSizeMb}m rate=${rate};`;
    }),
    '',
    // A 502 nginx answers itself is a 503 when the request's last attempt reached no backend: every
    // server refused the connection, or the passive health check had left them all out ("no live
    // upstreams"). $upstream_connect_time ends in a number once a connection was made ("-" when
    // none was): then a backend broke its response, and 502 it stays. See refusalLocations.
    ...block('map $upstream_connect_time $gateway_backend_reached', ['"~[0-9]$" 1;', 'default "";']),
    ...block('map $gateway_backend_reached $gateway_unavailable_retry_after', [`"" ${UNAVAILABLE_RETRY_AFTER_SECONDS};`, 'default "";']),
    ...(s.resolver
      ? ['', `resolver ${s.resolver.addresses.join(' ')} valid=${s.resolver.validSeconds}s ipv6=off;`, 'resolver_timeout 5s;']
      : []),
    ...s.upstreams.flatMap((u) => ['', ...upstreamBlock(u, upstreamDefaults)]),
    '',
    ...(s.tls ? [...httpsServer(s, s.tls), '', ...redirectServer(s, s.tls)] : plainServer(s)),
    ...(s.healthPort !== undefined ? ['', ...healthServer(s, s.healthPort)] : []),
    ...(s.stubStatusPort !== undefined ? ['', ...stubStatusServer(s.stubStatusPort)] : []),
  ];
}

/**
 * The client address behind trusted proxies (ngx_http_realip_module): it replaces $remote_addr
 * before the rate limits, the log and the forwarding headers read it.
 */
function realIp(s: Spec): string[] {
  const c = s.clientAddress;
  if (!c || c.trustedProxies.length === 0) return [];
  return [
    ...c.trustedProxies.map((range) => `set_real_ip_from ${range};`),
    ...(c.proxyProtocol
      ? ['real_ip_header proxy_protocol;']
      // The right-most address no trusted proxy added: what the client wrote on the left is ignored.
      : ['real_ip_header X-Forwarded-For;', 'real_ip_recursive on;']),
    '',
  ];
}

/** Probes only: the health endpoint on a listener without the PROXY protocol. */
function healthServer(s: Spec, healthPort: number): string[] {
  return block('server', [
    `listen ${s.listenAddress ? `${s.listenAddress}:` : ''}${healthPort};`,
    '',
    ...locationBlock(healthLocation(s)),
    ...block('location /', ['return 404;']),
  ]);
}

/**
 * `stub_status` for the metrics exporter beside nginx: bound to 127.0.0.1 (only the replica's own
 * containers reach it, whatever listenAddress the public servers have), nothing else served there.
 */
export const STUB_STATUS_PATH = '/stub_status';
function stubStatusServer(port: number): string[] {
  return block('server', [
    `listen 127.0.0.1:${port};`,
    'access_log off;',
    ...block(`location = ${STUB_STATUS_PATH}`, ['stub_status;']),
    ...block('location /', ['return 404;']),
  ]);
}

function upstreamBlock(u: Spec['upstreams'][number], defaults: UpstreamDefaults | undefined): string[] {
  // Parameters and directives equal to nginx's own defaults are left out: one upstream per
  // service, so every byte here is paid once per service.
  const server = (sv: Spec['upstreams'][number]['servers'][number]): string => [
    `server ${sv.host}:${sv.port}`,
    ...(sv.resolve ? ['resolve'] : []),
    ...(sv.maxFails !== NGINX_MAX_FAILS ? [`max_fails=${sv.maxFails}`] : []),
    ...(sv.failTimeoutSeconds !== NGINX_FAIL_TIMEOUT_SECONDS ? [`fail_timeout=${sv.failTimeoutSeconds}s`] : []),
  ].join(' ') + ';';
  const body = [
    // The group's run-time state in shared memory, for every worker: without it each worker
    // counts max_fails on its own, so a hung server takes maxFails requests per worker before it
    // is left out. `resolve` also keeps the peers there, updated as DNS answers change.
    `zone upstream_${u.name} ${u.zoneSizeKb}k;`,
    ...u.servers.map(server),
  ];
  if (u.keepalive > 0) {
    body.push(`keepalive ${u.keepalive};`);
    if (u.keepaliveRequests !== defaults?.keepaliveRequests) body.push(`keepalive_requests ${u.keepaliveRequests};`);
    if (u.keepaliveTimeoutSeconds !== defaults?.keepaliveTimeoutSeconds) body.push(`keepalive_timeout ${u.keepaliveTimeoutSeconds}s;`);
  }
  return block(`upstream ${u.name}`, body);
}

/** nginx's defaults of an upstream `server`: max_fails=1 fail_timeout=10s, in every version. */
const NGINX_MAX_FAILS = 1;
const NGINX_FAIL_TIMEOUT_SECONDS = 10;

/** What an `upstream` block's keepalive_requests and keepalive_timeout are when left out. */
interface UpstreamDefaults {
  readonly keepaliveRequests: number;
  readonly keepaliveTimeoutSeconds: number;
}

/**
 * nginx's own upstream keepalive_requests and keepalive_timeout for the version, or undefined
 * before 1.15.3, where neither directive exists in an upstream block (both are then written as
 * given, as they always were). keepalive_requests was 100 until 1.19.10 and is 1000 since.
 */
function upstreamKeepaliveDefaults(nginxVersion: string): UpstreamDefaults | undefined {
  const v = coerceVersion(nginxVersion);
  if (semver.lt(v, '1.15.3')) return undefined;
  return { keepaliveRequests: semver.gte(v, '1.19.10') ? 1000 : 100, keepaliveTimeoutSeconds: 60 };
}

function listen(s: Spec, port: number, suffix = ''): string {
  const proxyProtocol = s.clientAddress?.proxyProtocol ? ' proxy_protocol' : '';
  return `listen ${s.listenAddress ? `${s.listenAddress}:` : ''}${port}${suffix}${proxyProtocol};`;
}

function plainServer(s: Spec): string[] {
  return block('server', [listen(s, s.httpPort), `server_name ${s.serverName};`, ...responseHeaders(s), '', ...routedLocations(s)]);
}

/** The add_header lines of the server that serves the routes (HSTS with TLS, then responseHeaders). */
function serverHeaders(s: Spec): string[] {
  return [...(s.tls ? [`add_header Strict-Transport-Security "max-age=${s.tls.hstsMaxAgeSeconds}" always;`] : []), ...responseHeaders(s)];
}

function httpsServer(s: Spec, tls: Tls): string[] {
  // `http2 on;` appeared in 1.25.1, which deprecated the `listen ... http2` parameter.
  const http2Directive = semver.gte(coerceVersion(s.nginxVersion), '1.25.1');
  return block('server', [
    listen(s, s.httpsPort, http2Directive ? ' ssl' : ' ssl http2'),
    ...(http2Directive ? ['http2 on;'] : []),
    `server_name ${s.serverName};`,
    '',
    `ssl_certificate ${tls.certificatePath};`,
    `ssl_certificate_key ${tls.keyPath};`,
    'ssl_protocols TLSv1.2 TLSv1.3;',
    `ssl_ciphers ${TLS12_CIPHERS};`,
    // All listed suites are strong; let clients pick (e.g. ChaCha20 on phones without AES hardware).
    'ssl_prefer_server_ciphers off;',
    'ssl_session_cache shared:TLS:10m;',
    'ssl_session_timeout 1d;',
    // Ticket keys never rotate without a reload, which would defeat forward secrecy.
    'ssl_session_tickets off;',
    ...serverHeaders(s),
    '',
    ...routedLocations(s),
  ]);
}

/** Plain HTTP with TLS on: probes get the health endpoint, everyone else a redirect. */
function redirectServer(s: Spec, tls: Tls): string[] {
  const port = tls.publicHttpsPort === 443 ? '' : `:${tls.publicHttpsPort}`;
  return block('server', [
    listen(s, s.httpPort),
    `server_name ${s.serverName};`,
    '',
    ...locationBlock(healthLocation(s)),
    ...block('location /', [`return 301 https://$host${port}$request_uri;`]),
  ]);
}

// add_header in a location would drop these server-level ones, so no location uses add_header.
function responseHeaders(s: Spec): string[] {
  return Object.entries(s.responseHeaders).map(([name, value]) => `add_header ${name} "${value}" always;`);
}

/**
 * The locations of the server that serves the routes, after what they all set alike has moved up
 * into the server: with hundreds of routes, each repeating a dozen proxy directives made
 * nginx.conf outgrow a ConfigMap (1 MiB at ~1,070 routes).
 */
function routedLocations(s: Spec): string[] {
  const limits = new Map(s.rateLimits.map((r) => [r.name, r]));
  const retryAfter = defaultRetryAfter(s);
  const all: NginxLocation[] = [healthLocation(s), ...s.routes.flatMap((route) => routeLocations(s, route, limits, retryAfter))];
  if (!s.routes.some((r) => routeKey(r.path) === '/')) {
    // Its limit_req never acts (`return` answers first, see reachOf); kept as it always was.
    all.push({
      match: '/',
      directives: [...limitReq(limits, s.defaultRateLimit), 'default_type application/json;', `return 404 '{"error":"no route for this path"}';`],
    });
  }
  const { shared, locations } = inheritFromServer(all);
  return [
    ...refusalPages(s),
    '',
    ...(shared.length > 0
      ? ['# Inherited by each location below that sets no directive of the same name.', ...shared, '']
      : []),
    ...locations.flatMap(locationBlock),
    ...refusalLocations(s),
  ];
}

/**
 * Seconds until a refused client may send again (Retry-After of a 429): one token of the zone,
 * rounded up (1 for any per-second rate, 60 / rate for a per-minute one); 1 without a zone.
 */
function retryAfterSeconds(limit: Spec['rateLimits'][number] | undefined): number {
  // A valid zone has exactly one of the two rates.
  if (limit?.ratePerMinute === undefined || limit.ratePerSecond !== undefined) return 1;
  return Math.ceil(60 / limit.ratePerMinute);
}

/** The Retry-After of a 429 that every route gets unless it sets its own (the default zone's). */
function defaultRetryAfter(s: Spec): number {
  return retryAfterSeconds(s.rateLimits.find((r) => r.name === s.defaultRateLimit));
}

/**
 * What the gateway answers itself instead of nginx's HTML pages: 429, 502, 503 and 504 as JSON.
 * `=` lets the named location choose the status (503 for a 502 that reached no backend). Only
 * nginx's own refusals go there: a backend's own 502/503/504 (or 429) reaches the client as the
 * backend sent it, body and headers (proxy_intercept_errors stays off), after the retries of
 * proxy_next_upstream. The 429 Retry-After is a variable only when routes differ in it.
 */
function refusalPages(s: Spec): string[] {
  return [
    ...(s.rateLimits.length > 0 && retryAfterVaries(s) ? [`set $gateway_retry_after ${defaultRetryAfter(s)};`] : []),
    ...(s.rateLimits.length > 0 ? ['error_page 429 = @gateway_too_many_requests;'] : []),
    'error_page 502 503 = @gateway_unavailable;',
    'error_page 504 = @gateway_timeout;',
  ];
}

/** True when some route's rate limit asks for another Retry-After than the default zone's. */
function retryAfterVaries(s: Spec): boolean {
  const limits = new Map(s.rateLimits.map((r) => [r.name, r]));
  const fallback = defaultRetryAfter(s);
  return s.routes.some((r) => r.rateLimit !== undefined && retryAfterSeconds(limits.get(r.rateLimit)) !== fallback);
}

/**
 * The named locations of refusalPages. `return` answers in the rewrite phase, so an inherited
 * limit_req never acts here; add_header here replaces the server's, so those are repeated.
 */
function refusalLocations(s: Spec): string[] {
  const headers = ['add_header X-Request-ID $gateway_request_id always;', ...serverHeaders(s)];
  const json = (status: number, error: string) => `'{"error":"${error}","status":${status}}'`;
  return [
    ...(s.rateLimits.length > 0
      ? block('location @gateway_too_many_requests', [
        'default_type application/json;',
        `add_header Retry-After ${retryAfterVaries(s) ? '$gateway_retry_after' : defaultRetryAfter(s)} always;`,
        ...headers,
        `return 429 ${json(429, 'too many requests')};`,
      ])
      : []),
    ...block('location @gateway_unavailable', [
      'default_type application/json;',
      // Empty (so not sent) on a 502.
      'add_header Retry-After $gateway_unavailable_retry_after always;',
      ...headers,
      ...block('if ($gateway_backend_reached)', [`return 502 ${json(502, 'bad gateway')};`]),
      `return 503 ${json(503, 'service unavailable')};`,
    ]),
    ...block('location @gateway_timeout', ['default_type application/json;', ...headers, `return 504 ${json(504, 'gateway timeout')};`]),
  ];
}

/** A `location` block: what follows the word `location`, and its directives (one line each, ";" included). */
export interface NginxLocation {
  readonly match: string;
  readonly directives: readonly string[];
}

/**
 * Which locations a directive acts in, for the directives a location may inherit from its server
 * instead of setting them itself:
 * - `proxied`: every proxy_* directive but proxy_pass acts only where a request is proxied (a
 *   location with proxy_pass);
 * - `access`: limit_req acts where a request reaches nginx's access phases, so not in a location
 *   that answers with `return`: that answers in the rewrite phase, before limit_req runs. The
 *   health endpoint and the 404 fallback are never limited, an inherited limit_req or not.
 * Undefined for everything else, which stays where it is: nginx does not inherit proxy_pass (a
 * content handler) or return (a rewrite directive), and default_type and access_log act in every
 * location and are each location's own.
 */
function reachOf(name: string): 'proxied' | 'access' | undefined {
  if (name === 'limit_req') return 'access';
  if (name.startsWith('proxy_') && name !== 'proxy_pass') return 'proxied';
  return undefined;
}

/** The name of a directive line: up to the first space or ";". */
function directiveName(line: string): string {
  const space = line.indexOf(' ');
  const semicolon = line.indexOf(';');
  const end = space < 0 ? semicolon : semicolon < 0 ? space : Math.min(space, semicolon);
  return end < 0 ? line : line.slice(0, end);
}

/**
 * Moves what the locations of one server set alike up into the server, where nginx's directive
 * inheritance gives it back to each location that sets no directive of the same name. Per
 * directive name, the lines a location has of it are taken as one value: for array directives
 * (proxy_set_header, limit_req) nginx inherits the previous level's lines if and only if the
 * location has none of them, so a location whose set differs keeps its whole set (all its
 * headers, not only the one that differs); a scalar whose value differs is kept the same way.
 *
 * A directive moves only when every location it acts in ({@link reachOf}) sets it: a location
 * without it wants nginx's default (or no limit at all), which no inherited value can give back
 * (there is no `limit_req off`). The most common value moves; locations with another value keep
 * theirs, and locations it does not act in keep whatever they have. Returns the server-level
 * lines, in the order the locations first set them, and the locations without what they now
 * inherit. Pure; every location's effective configuration is unchanged.
 */
export function inheritFromServer(locations: readonly NginxLocation[]): { shared: string[]; locations: NginxLocation[] } {
  // Each location's directive names (read once), and its lines by name, in the order it sets them.
  const namesOf = locations.map((l) => l.directives.map(directiveName));
  const byName = locations.map((l, i) => {
    const lines = new Map<string, string[]>();
    namesOf[i].forEach((name, k) => {
      const same = lines.get(name);
      if (same) same.push(l.directives[k]);
      else lines.set(name, [l.directives[k]]);
    });
    return lines;
  });
  const proxied = byName.map((lines) => lines.has('proxy_pass'));
  const reachesAccess = byName.map((lines) => !lines.has('return'));
  const names = new Set<string>();
  for (const lines of byName) for (const name of lines.keys()) if (reachOf(name)) names.add(name);

  const shared: string[] = [];
  const inherited = locations.map(() => new Set<string>());
  for (const name of names) {
    const acts = reachOf(name) === 'proxied' ? proxied : reachesAccess;
    // Each acting location's lines of the name, as one value; the name moves only if all set it.
    const keys: (string | undefined)[] = new Array(locations.length);
    const counts = new Map<string, number>();
    let everywhere = true;
    for (let i = 0; i < locations.length && everywhere; i++) {
      if (!acts[i]) continue;
      const lines = byName[i].get(name);
      if (lines === undefined) everywhere = false;
      else {
        const key = lines.length === 1 ? lines[0] : lines.join('\n');
        keys[i] = key;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    if (!everywhere || counts.size === 0) continue;
    const common = mostCommon(counts);
    shared.push(...byName[keys.indexOf(common)].get(name)!);
    keys.forEach((k, i) => {
      if (k === common) inherited[i].add(name);
    });
  }
  return {
    shared,
    locations: locations.map((l, i) => (inherited[i].size === 0 ? { match: l.match, directives: [...l.directives] }
      : { match: l.match, directives: l.directives.filter((_, k) => !inherited[i].has(namesOf[i][k])) })),
  };
}

/** The value most entries have (the first of those tied, in the order first seen), from each value's count. */
function mostCommon(counts: ReadonlyMap<string, number>): string {
  let common = '';
  let most = 0;
  for (const [k, n] of counts) {
    if (n > most) {
      common = k;
      most = n;
    }
  }
  return common;
}

function healthLocation(s: Spec): NginxLocation {
  return { match: `= ${s.healthPath}`, directives: ['access_log off;', 'default_type text/plain;', 'return 200 "ok\\n";'] };
}

/**
 * A route's locations: the path itself (exact match) and its sub-paths (prefix with a trailing
 * slash), each with everything it needs as if it inherited nothing (inheritFromServer takes out
 * what it can inherit). A bare prefix `location /v1/orders` would also send "/v1/ordersXYZ" to
 * orders. The exact location also keeps nginx from answering "/v1/orders" with a 301 to
 * "/v1/orders/" (what it does for a proxying location ending in "/"). "/" is one prefix location.
 */
function routeLocations(s: Spec, route: Route, limits: RateLimits, serverRetryAfter: number): NginxLocation[] {
  const key = routeKey(route.path);
  const directives = routeDirectives(s, route, limits, serverRetryAfter);
  return key === '/' ? [{ match: '/', directives }] : [{ match: `= ${key}`, directives }, { match: `${key}/`, directives }];
}

function routeDirectives(s: Spec, route: Route, limits: RateLimits, serverRetryAfter: number): string[] {
  const own = route.rateLimit === undefined ? undefined : retryAfterSeconds(limits.get(route.rateLimit));
  return [
    ...limitReq(limits, route.rateLimit ?? s.defaultRateLimit),
    // The Retry-After of this route's 429, where it differs from the server's.
    ...(own !== undefined && own !== serverRetryAfter ? [`set $gateway_retry_after ${own};`] : []),
    `proxy_pass http://${route.upstream};`,
    // HTTP/1.1 with an empty Connection header lets nginx reuse upstream keepalive connections.
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_set_header Host $host;',
    'proxy_set_header X-Real-IP $remote_addr;',
    // Set, not appended: what a client sends in X-Forwarded-For never reaches a backend as if it
    // were an address the gateway saw (behind trusted proxies, $remote_addr is the client's).
    'proxy_set_header X-Forwarded-For $remote_addr;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    'proxy_set_header X-Request-ID $gateway_request_id;',
    ...Object.entries(s.requestHeaders).map(([name, value]) => `proxy_set_header ${name} "${value}";`),
    `proxy_connect_timeout ${s.timeouts.connectSeconds}s;`,
    `proxy_read_timeout ${s.timeouts.readSeconds}s;`,
    `proxy_send_timeout ${s.timeouts.sendSeconds}s;`,
    // Retry on another backend; POST/PATCH/LOCK are still never retried once sent (no
    // `non_idempotent`), because the first backend may already have acted on them.
    'proxy_next_upstream error timeout http_502 http_503 http_504;',
    `proxy_next_upstream_tries ${s.retries.tries};`,
    `proxy_next_upstream_timeout ${nextUpstreamTimeoutSeconds(s)}s;`,
  ];
}

/**
 * nginx passes a request to the next server only while less than proxy_next_upstream_timeout has
 * passed since its FIRST attempt began. A hung backend (it accepts, then never answers: a stopped
 * or deadlocked pod) fails an attempt only when proxy_read_timeout (or proxy_send_timeout) runs
 * out, up to proxy_connect_timeout after the attempt began; a shorter budget is spent by then and
 * the request is answered 504 instead of retried (10 s against the default 60 s read timeout did
 * exactly that). So the budget covers every attempt but the last one in full, plus a second for
 * timer granularity, and is never below `retries.timeoutSeconds`.
 */
function nextUpstreamTimeoutSeconds(s: Pick<Spec, 'timeouts' | 'retries'>): number {
  const attemptSeconds = s.timeouts.connectSeconds + Math.max(s.timeouts.readSeconds, s.timeouts.sendSeconds);
  return Math.max(s.retries.timeoutSeconds, (s.retries.tries - 1) * attemptSeconds + 1);
}

/** The rate limits by name: a route per service, many with a zone of their own, looked up once each. */
type RateLimits = ReadonlyMap<string, Spec['rateLimits'][number]>;

function limitReq(limits: RateLimits, name: string | undefined): string[] {
  const limit = name === undefined ? undefined : limits.get(name);
  if (!limit) return [];
  const mode = limit.nodelay ? ' nodelay' : limit.delay !== undefined ? ` delay=${limit.delay}` : '';
  return [`limit_req zone=${limit.name} burst=${limit.burst}${mode};`];
}

function locationBlock(l: NginxLocation): string[] {
  return block(`location ${l.match}`, l.directives);
}

/**
 * A block, its body indented one tab a level: a byte a level instead of four, which a platform pays
 * per route location and upstream (two locations a route: 3,000 services stay under 0.8 MiB).
 */
function block(header: string, body: readonly string[]): string[] {
  return [`${header} {`, ...body.map((l) => (l ? `\t${l}` : l)), '}'];
}
