/**
 * Renders a complete nginx.conf (main context included) from a validated spec. Pure: spec in,
 * text out. Every user string was restricted by `NginxConfSpecSchema`, so it is written verbatim.
 */
import { parseProps } from '../util/errors';
import { coerceVersion, semver } from '../util/versions';
import { NginxConfSpec, NginxConfSpecResolved, NginxConfSpecSchema } from './nginx-spec';

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
    'worker_processes auto;',
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
    'limit_req_status 429;',
    'limit_req_log_level warn;',
    ...s.rateLimits.map((r) => {
      const rate = r.ratePerSecond !== undefined ? `${r.ratePerSecond}r/s` : `${r.ratePerMinute}r/m`;
      return `limit_req_zone $binary_remote_addr zone=${r.name}:${r.zoneSizeMb}m rate=${rate};`;
    }),
    ...(s.resolver
      ? ['', `resolver ${s.resolver.addresses.join(' ')} valid=${s.resolver.validSeconds}s ipv6=off;`, 'resolver_timeout 5s;']
      : []),
    ...s.upstreams.flatMap((u) => ['', ...upstreamBlock(u)]),
    '',
    ...(s.tls ? [...httpsServer(s, s.tls), '', ...redirectServer(s, s.tls)] : plainServer(s)),
  ];
}

function upstreamBlock(u: Spec['upstreams'][number]): string[] {
  const body = [
    // The group's run-time state in shared memory, for every worker: without it each worker
    // counts max_fails on its own, so a hung server takes maxFails requests per worker before it
    // is left out. `resolve` also keeps the peers there, updated as DNS answers change.
    `zone upstream_${u.name} ${u.zoneSizeKb}k;`,
    ...u.servers.map((sv) => `server ${sv.host}:${sv.port}${sv.resolve ? ' resolve' : ''} max_fails=${sv.maxFails} fail_timeout=${sv.failTimeoutSeconds}s;`),
  ];
  if (u.keepalive > 0) {
    body.push(`keepalive ${u.keepalive};`, `keepalive_requests ${u.keepaliveRequests};`, `keepalive_timeout ${u.keepaliveTimeoutSeconds}s;`);
  }
  return block(`upstream ${u.name}`, body);
}

function listen(s: Spec, port: number, suffix = ''): string {
  return `listen ${s.listenAddress ? `${s.listenAddress}:` : ''}${port}${suffix};`;
}

function plainServer(s: Spec): string[] {
  return block('server', [listen(s, s.httpPort), `server_name ${s.serverName};`, ...responseHeaders(s), '', ...locations(s)]);
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
    `add_header Strict-Transport-Security "max-age=${tls.hstsMaxAgeSeconds}" always;`,
    ...responseHeaders(s),
    '',
    ...locations(s),
  ]);
}

/** Plain HTTP with TLS on: probes get the health endpoint, everyone else a redirect. */
function redirectServer(s: Spec, tls: Tls): string[] {
  const port = tls.publicHttpsPort === 443 ? '' : `:${tls.publicHttpsPort}`;
  return block('server', [
    listen(s, s.httpPort),
    `server_name ${s.serverName};`,
    '',
    ...healthLocation(s),
    ...block('location /', [`return 301 https://$host${port}$request_uri;`]),
  ]);
}

// add_header in a location would drop these server-level ones, so no location uses add_header.
function responseHeaders(s: Spec): string[] {
  return Object.entries(s.responseHeaders).map(([name, value]) => `add_header ${name} "${value}" always;`);
}

function locations(s: Spec): string[] {
  const out = [...healthLocation(s)];
  for (const route of s.routes) out.push(...routeLocation(s, route));
  if (!s.routes.some((r) => r.path === '/')) {
    out.push(
      ...block('location /', [
        ...limitReq(s, s.defaultRateLimit),
        'default_type application/json;',
        `return 404 '{"error":"no route for this path"}';`,
      ]),
    );
  }
  return out;
}

function healthLocation(s: Spec): string[] {
  return block(`location = ${s.healthPath}`, ['access_log off;', 'default_type text/plain;', 'return 200 "ok\\n";']);
}

function routeLocation(s: Spec, route: Route): string[] {
  return block(`location ${route.path}`, [
    ...limitReq(s, route.rateLimit ?? s.defaultRateLimit),
    `proxy_pass http://${route.upstream};`,
    // HTTP/1.1 with an empty Connection header lets nginx reuse upstream keepalive connections.
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_set_header Host $host;',
    'proxy_set_header X-Real-IP $remote_addr;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
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
  ]);
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

function limitReq(s: Spec, name: string | undefined): string[] {
  const limit = s.rateLimits.find((r) => r.name === name);
  if (!limit) return [];
  const mode = limit.nodelay ? ' nodelay' : limit.delay !== undefined ? ` delay=${limit.delay}` : '';
  return [`limit_req zone=${limit.name} burst=${limit.burst}${mode};`];
}

function block(header: string, body: string[]): string[] {
  return [`${header} {`, ...body.map((l) => (l ? `    ${l}` : l)), '}'];
}
