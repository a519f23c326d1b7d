import * as fc from 'fast-check';
import { NginxConfSpec, NginxConfSpecSchema } from '../../lib/gateway/nginx-spec';
import { NginxLocation, inheritFromServer, renderNginxConf } from '../../lib/gateway/render-nginx-conf';
import { SovereignStackError } from '../../lib/util/errors';
import { nginxSpec } from '../fuzz/generators';
import { blocksOf, directiveName, effectiveDirectives, effectiveRoute, parseConf, routeDirective } from './nginx-conf-tree';

const base: NginxConfSpec = {
  nginxVersion: '1.22.1',
  serverName: 'api.example.no',
  rateLimits: [{ name: 'api', ratePerSecond: 10, burst: 20, nodelay: true }],
  defaultRateLimit: 'api',
  upstreams: [{ name: 'orders', servers: [{ host: 'orders.platform.svc.cluster.local', port: 8080 }] }],
  routes: [{ path: '/v1/orders', upstream: 'orders' }],
};

const tls = { certificatePath: '/etc/nginx/tls/tls.crt', keyPath: '/etc/nginx/tls/tls.key' };

/** The lines of the block opened by the first line matching `header` (exclusive of braces). */
function blockOf(conf: string, header: string): string[] {
  const lines = conf.split('\n');
  const start = lines.findIndex((l) => l.trim() === `${header} {`);
  if (start < 0) throw new Error(`no block "${header}" in:\n${conf}`);
  const out: string[] = [];
  let depth = 1;
  for (const line of lines.slice(start + 1)) {
    depth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
    if (depth === 0) break;
    out.push(line.trim());
  }
  return out;
}

function errorOf(spec: unknown): string {
  try {
    renderNginxConf(spec as NginxConfSpec);
  } catch (e) {
    expect(e).toBeInstanceOf(SovereignStackError);
    return (e as Error).message;
  }
  throw new Error('expected renderNginxConf to throw');
}

describe('renderNginxConf: main and http context', () => {
  const conf = renderNginxConf(base);

  it('puts pid, error log and every temp path under runtimeDir (default /tmp)', () => {
    expect(conf).toMatch(/^pid \/tmp\/nginx\.pid;$/m);
    expect(conf).toMatch(/^error_log \/tmp\/error\.log warn;$/m);
    for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      expect(conf).toContain(`${t}_temp_path /tmp/${t}_temp;`);
    }
    const custom = renderNginxConf({ ...base, runtimeDir: '/run/nginx', errorLogPath: '/dev/stderr' });
    expect(custom).toContain('pid /run/nginx/nginx.pid;');
    expect(custom).toContain('proxy_temp_path /run/nginx/proxy_temp;');
    expect(custom).toContain('error_log /dev/stderr warn;');
    expect(custom).not.toContain('/tmp/');
  });

  it('renders the main context, events and hardened http defaults', () => {
    expect(conf).toMatch(/^worker_processes auto;$/m);
    expect(blockOf(conf, 'events')).toEqual(['worker_connections 1024;']);
    const http = blockOf(conf, 'http');
    for (const d of ['server_tokens off;', 'sendfile on;', 'keepalive_timeout 65s;', 'client_max_body_size 1m;',
      'limit_req_status 429;', 'limit_req_log_level warn;', 'access_log /dev/stdout json_combined;']) {
      expect(http).toContain(d);
    }
    expect(renderNginxConf({ ...base, clientMaxBodySize: '8m' })).toContain('client_max_body_size 8m;');
  });

  it('logs JSON with the agreed fields', () => {
    const format = /log_format json_combined escape=json '(.*)';/.exec(conf)?.[1];
    expect(format).toBeDefined();
    const sample = format!.replace(/\$[a-z_0-9]+/g, (v) => (v === '$status' || v === '$request_time' ? '1' : 'x'));
    expect(Object.keys(JSON.parse(sample))).toEqual([
      'time', 'remote_addr', 'request', 'status', 'upstream_addr', 'request_time', 'upstream_response_time', 'request_id',
    ]);
  });
});

describe('renderNginxConf: rate limits', () => {
  it('renders r/s and r/m zones, nodelay, delay and plain burst per route', () => {
    const conf = renderNginxConf({
      ...base,
      rateLimits: [
        { name: 'api', ratePerSecond: 10, burst: 20, nodelay: true },
        { name: 'login', ratePerMinute: 30, burst: 6, delay: 2, zoneSizeMb: 1 },
        { name: 'bulk', ratePerSecond: 2, burst: 4 },
      ],
      routes: [
        { path: '/v1/orders', upstream: 'orders' },
        { path: '/v1/login', upstream: 'orders', rateLimit: 'login' },
        { path: '/v1/export/', upstream: 'orders', rateLimit: 'bulk' },
      ],
    });
    expect(conf).toContain('limit_req_zone $binary_remote_addr zone=api:10m rate=10r/s;');
    expect(conf).toContain('limit_req_zone $binary_remote_addr zone=login:1m rate=30r/m;');
    expect(conf).toContain('limit_req_zone $binary_remote_addr zone=bulk:10m rate=2r/s;');
    // Each route is limited by exactly one zone: its own, or the default one it inherits.
    const limits = (path: string) => effectiveRoute(conf, path, (n) => n === 'limit_req');
    expect(limits('/v1/orders')).toEqual(['limit_req zone=api burst=20 nodelay;']);
    expect(limits('/v1/login')).toEqual(['limit_req zone=login burst=6 delay=2;']);
    expect(limits('/v1/export/')).toEqual(['limit_req zone=bulk burst=4;']);
    // A route with a zone of its own sets it in its location, which replaces the inherited one.
    for (const header of ['location = /v1/login', 'location /v1/login/']) expect(blockOf(conf, header)).toContain('limit_req zone=login burst=6 delay=2;');
    expect(blockOf(conf, 'location = /v1/orders').some((l) => l.startsWith('limit_req'))).toBe(false);
  });

  it('never rate limits or logs the health endpoint', () => {
    const health = blockOf(renderNginxConf(base), 'location = /healthz');
    expect(health).toEqual(['access_log off;', 'default_type text/plain;', 'return 200 "ok\\n";']);
    expect(blockOf(renderNginxConf({ ...base, healthPath: '/live' }), 'location = /live')).toContain('return 200 "ok\\n";');
  });

  it('leaves routes unlimited without a default or own limit', () => {
    const conf = renderNginxConf({ ...base, defaultRateLimit: undefined });
    expect(effectiveRoute(conf, '/v1/orders', (n) => n === 'limit_req')).toEqual([]);
    expect(conf).toContain('limit_req_zone $binary_remote_addr zone=api:10m rate=10r/s;');
  });
});

describe('renderNginxConf: upstreams and proxying', () => {
  it('renders passive health checks (state shared by the workers) and keepalive per upstream, and no keepalive when 0; nginx defaults are left out', () => {
    const conf = renderNginxConf({
      ...base,
      upstreams: [
        { name: 'orders', servers: [{ host: '10.0.0.1', port: 8080 }, { host: '10.0.0.2', port: 8081, maxFails: 1, failTimeoutSeconds: 30 }],
          keepalive: 16, keepaliveRequests: 500, keepaliveTimeoutSeconds: 20 },
        { name: 'legacy', servers: [{ host: 'legacy', port: 80 }], keepalive: 0 },
      ],
      routes: [{ path: '/v1/orders', upstream: 'orders' }, { path: '/legacy/', upstream: 'legacy' }],
    });
    expect(blockOf(conf, 'upstream orders')).toEqual([
      // Without a zone each worker counts max_fails alone: a hung server would take maxFails
      // requests per worker before it is left out.
      'zone upstream_orders 64k;',
      // nginx's defaults are max_fails=1 fail_timeout=10s: only what differs is written.
      'server 10.0.0.1:8080 max_fails=3;',
      'server 10.0.0.2:8081 fail_timeout=30s;',
      'keepalive 16;',
      'keepalive_requests 500;',
      'keepalive_timeout 20s;',
    ]);
    expect(blockOf(conf, 'upstream legacy')).toEqual(['zone upstream_legacy 64k;', 'server legacy:80 max_fails=3;']);
    expect(blockOf(conf, 'location /legacy/')).toContain('proxy_pass http://legacy;');
  });

  it('proxies with HTTP/1.1, forwarding headers, timeouts and bounded retries (idempotent only)', () => {
    const loc = effectiveRoute(renderNginxConf({ ...base, timeouts: { connectSeconds: 3 }, retries: { tries: 3, timeoutSeconds: 5 } }), '/v1/orders');
    for (const d of [
      'proxy_pass http://orders;',
      'proxy_http_version 1.1;',
      'proxy_set_header Connection "";',
      'proxy_set_header Host $host;',
      'proxy_set_header X-Real-IP $remote_addr;',
      'proxy_set_header X-Forwarded-For $remote_addr;',
      'proxy_set_header X-Forwarded-Proto $scheme;',
      'proxy_set_header X-Request-ID $gateway_request_id;',
      'proxy_connect_timeout 3s;',
      'proxy_read_timeout 60s;',
      'proxy_send_timeout 60s;',
      'proxy_next_upstream error timeout http_502 http_503 http_504;',
      'proxy_next_upstream_tries 3;',
      // Two attempts of up to connect + read (3 + 60 s) each must fit before the third may start.
      'proxy_next_upstream_timeout 127s;',
    ]) {
      expect(loc).toContain(d);
    }
    expect(loc.join('\n')).not.toContain('non_idempotent');
  });

  /** The rendered proxy timeouts of the route, in seconds. */
  function proxyTimeouts(spec: NginxConfSpec): { connect: number; read: number; send: number; tries: number; nextUpstream: number } {
    const loc = effectiveRoute(renderNginxConf(spec), '/v1/orders');
    const seconds = (directive: string): number => {
      const value = loc.map((l) => new RegExp(`^${directive} (\\d+)s?;$`).exec(l)?.[1]).find((v) => v !== undefined);
      if (value === undefined) throw new Error(`no ${directive} in ${loc.join('\n')}`);
      return Number(value);
    };
    return {
      connect: seconds('proxy_connect_timeout'), read: seconds('proxy_read_timeout'), send: seconds('proxy_send_timeout'),
      tries: seconds('proxy_next_upstream_tries'), nextUpstream: seconds('proxy_next_upstream_timeout'),
    };
  }

  it('leaves room to retry a request whose backend hung: with the defaults, 66 s against a 5 s connect and 60 s read timeout', () => {
    // nginx tries the next server only while less than proxy_next_upstream_timeout has passed
    // since the first attempt began; an attempt on a backend that accepts and never answers fails
    // at the read timeout. The old 10 s budget ran out first, so such a GET got 504 after 60 s.
    expect(proxyTimeouts(base)).toEqual({ connect: 5, read: 60, send: 60, tries: 2, nextUpstream: 66 });
  });

  it.each([
    [{ connectSeconds: 1, readSeconds: 2, sendSeconds: 2 }, { tries: 2, timeoutSeconds: 1 }, 4],
    [{ connectSeconds: 5, readSeconds: 10, sendSeconds: 30 }, { tries: 2, timeoutSeconds: 10 }, 36], // a stalled upload: send
    [{ connectSeconds: 2, readSeconds: 5, sendSeconds: 5 }, { tries: 4, timeoutSeconds: 10 }, 22], // three attempts of 7 s
    [{ connectSeconds: 2, readSeconds: 5, sendSeconds: 5 }, { tries: 2, timeoutSeconds: 30 }, 30], // a larger budget is kept
    [{ connectSeconds: 75, readSeconds: 3600, sendSeconds: 3600 }, { tries: 10, timeoutSeconds: 3600 }, 9 * 3675 + 1],
    [{ connectSeconds: 5, readSeconds: 60, sendSeconds: 60 }, { tries: 1, timeoutSeconds: 10 }, 10], // no retry: as given
  ])('timeouts %j, retries %j: proxy_next_upstream_timeout %ss', (timeouts, retries, expected) => {
    const t = proxyTimeouts({ ...base, timeouts, retries });
    expect(t).toMatchObject({ connect: timeouts.connectSeconds, read: timeouts.readSeconds, send: timeouts.sendSeconds, tries: retries.tries });
    expect(t.nextUpstream).toBe(expected);
    // Every attempt but the last may run to its timeout and still be followed by the next one.
    expect(t.nextUpstream).toBeGreaterThan((t.tries - 1) * (t.connect + Math.max(t.read, t.send)));
    expect(t.nextUpstream).toBeGreaterThanOrEqual(retries.timeoutSeconds);
  });

  it('answers unmatched paths with a JSON 404, unless a route claims "/"', () => {
    const fallback = blockOf(renderNginxConf(base), 'location /');
    expect(fallback).toContain('default_type application/json;');
    expect(fallback.find((l) => l.startsWith('return 404'))).toBeDefined();
    const catchAll = renderNginxConf({ ...base, routes: [{ path: '/', upstream: 'orders' }] });
    expect(blockOf(catchAll, 'location /')).toContain('proxy_pass http://orders;');
    expect(catchAll).not.toContain('return 404');
  });

  it('adds validated extra request and response headers', () => {
    const conf = renderNginxConf({ ...base, responseHeaders: { 'X-Frame-Options': 'DENY' }, requestHeaders: { 'X-Gateway': 'oslo-1' } });
    expect(conf).toContain('add_header X-Frame-Options "DENY" always;');
    expect(effectiveRoute(conf, '/v1/orders')).toContain('proxy_set_header X-Gateway "oslo-1";');
  });
});

describe('renderNginxConf: upstreams re-resolved while running (nginx >= 1.27.3)', () => {
  const resolving: NginxConfSpec = {
    ...base,
    nginxVersion: '1.27.3',
    resolver: { addresses: ['kube-dns.kube-system.svc.cluster.local'] },
    upstreams: [{ name: 'orders', servers: [{ host: 'orders-headless.platform.svc.cluster.local', port: 8080, resolve: true }] }],
  };

  it('adds a zone, the resolve parameter and the resolver', () => {
    const conf = renderNginxConf(resolving);
    expect(blockOf(conf, 'upstream orders')).toEqual([
      'zone upstream_orders 64k;',
      'server orders-headless.platform.svc.cluster.local:8080 resolve max_fails=3;',
      'keepalive 32;',
    ]);
    expect(conf).toContain('resolver kube-dns.kube-system.svc.cluster.local valid=10s ipv6=off;');
    expect(conf).toContain('resolver_timeout 5s;');
  });

  it('renders no resolver for static upstreams (their zone only shares the failure counts)', () => {
    const conf = renderNginxConf(base);
    expect(blockOf(conf, 'upstream orders')).toEqual([
      'zone upstream_orders 64k;',
      'server orders.platform.svc.cluster.local:8080 max_fails=3;',
      'keepalive 32;',
    ]);
    expect(conf).not.toContain(' resolve');
    expect(conf).not.toContain('resolver');
  });

  it('refuses resolve before nginx 1.27.3, and without a resolver', () => {
    expect(errorOf({ ...resolving, nginxVersion: '1.26.2' })).toMatch(/nginxConf\.upstreams\[0\]\.servers\[0\]\.resolve: needs nginx >= 1\.27\.3/);
    expect(errorOf({ ...resolving, resolver: undefined })).toMatch(/nginxConf\.resolver: is required: upstreams\[0\]\.servers\[0\] uses resolve/);
    expect(errorOf({ ...resolving, resolver: { addresses: ['10.0.0.10; include /etc/passwd'] } })).toMatch(/nginxConf\.resolver\.addresses\[0\]/);
  });
});

describe('renderNginxConf: listeners and TLS', () => {
  it('serves routes on the http port without TLS (defaults 8080, all addresses)', () => {
    const conf = renderNginxConf(base);
    const server = blockOf(conf, 'server');
    expect(server).toContain('listen 8080;');
    expect(server).toContain('server_name api.example.no;');
    expect(conf).not.toContain('ssl');
    expect(conf).not.toContain('return 301');
    expect(blockOf(renderNginxConf({ ...base, listenAddress: '127.0.0.1', httpPort: 9000 }), 'server')).toContain('listen 127.0.0.1:9000;');
  });

  it('uses `listen ... ssl http2` before nginx 1.25.1', () => {
    for (const v of ['1.22.1', '1.25.0', '1.24']) {
      const conf = renderNginxConf({ ...base, nginxVersion: v, tls });
      expect(conf).toContain('listen 8443 ssl http2;');
      expect(conf).not.toContain('http2 on;');
    }
  });

  it('uses `listen ... ssl` and `http2 on` from nginx 1.25.1 (tags coerced by semver)', () => {
    for (const v of ['1.25.1', '1.27.0', '1.27', '1.27.3-alpine']) {
      const conf = renderNginxConf({ ...base, nginxVersion: v, tls });
      expect(conf).toContain('listen 8443 ssl;');
      expect(conf).toContain('http2 on;');
      expect(conf).not.toContain('ssl http2');
    }
  });

  it('moves routes to the https server with modern TLS and HSTS; plain http redirects except health', () => {
    const conf = renderNginxConf({ ...base, tls, listenAddress: '127.0.0.1' });
    const servers = conf.split('\n\tserver {').slice(1);
    expect(servers).toHaveLength(2);
    const [https, http] = servers;
    for (const d of [
      'listen 127.0.0.1:8443 ssl http2;',
      'ssl_certificate /etc/nginx/tls/tls.crt;',
      'ssl_certificate_key /etc/nginx/tls/tls.key;',
      'ssl_protocols TLSv1.2 TLSv1.3;',
      'ssl_prefer_server_ciphers off;',
      'ssl_session_tickets off;',
      'ssl_session_timeout 1d;',
      'add_header Strict-Transport-Security "max-age=63072000" always;',
      'location = /v1/orders {',
      'location /v1/orders/ {',
    ]) {
      expect(https).toContain(d);
    }
    expect(https).toMatch(/ssl_ciphers (ECDHE-(ECDSA|RSA)-[A-Z0-9-]+:?)+;/);
    expect(https).not.toMatch(/TLSv1(\.1)? |TLSv1;|RC4|3DES|MD5/);
    expect(https).toContain('ssl_session_cache shared:');
    expect(http).toContain('listen 127.0.0.1:8080;');
    expect(http).toContain('location = /healthz {');
    expect(http).toContain('return 301 https://$host$request_uri;');
    expect(http).not.toContain('proxy_pass');
    expect(renderNginxConf({ ...base, tls: { ...tls, publicHttpsPort: 8443 } })).toContain('return 301 https://$host:8443$request_uri;');
  });
});

/** A route's proxy directives and limit written out in full: what its location must get in effect. */
function fullRouteDirectives(spec: NginxConfSpec, route: NginxConfSpec['routes'][number]): string[] {
  const s = NginxConfSpecSchema.parse(spec);
  const limit = s.rateLimits.find((r) => r.name === (route.rateLimit ?? s.defaultRateLimit));
  const mode = limit?.nodelay ? ' nodelay' : limit?.delay !== undefined ? ` delay=${limit.delay}` : '';
  const attemptSeconds = s.timeouts.connectSeconds + Math.max(s.timeouts.readSeconds, s.timeouts.sendSeconds);
  return [
    ...(limit ? [`limit_req zone=${limit.name} burst=${limit.burst}${mode};`] : []),
    `proxy_pass http://${route.upstream};`,
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_set_header Host $host;',
    'proxy_set_header X-Real-IP $remote_addr;',
    'proxy_set_header X-Forwarded-For $remote_addr;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    'proxy_set_header X-Request-ID $gateway_request_id;',
    ...Object.entries(s.requestHeaders).map(([name, value]) => `proxy_set_header ${name} "${value}";`),
    `proxy_connect_timeout ${s.timeouts.connectSeconds}s;`,
    `proxy_read_timeout ${s.timeouts.readSeconds}s;`,
    `proxy_send_timeout ${s.timeouts.sendSeconds}s;`,
    'proxy_next_upstream error timeout http_502 http_503 http_504;',
    `proxy_next_upstream_tries ${s.retries.tries};`,
    `proxy_next_upstream_timeout ${Math.max(s.retries.timeoutSeconds, (s.retries.tries - 1) * attemptSeconds + 1)}s;`,
  ].sort();
}

/** How often `text` occurs in `conf`. */
const occurrences = (conf: string, text: string): number => conf.split(text).length - 1;

/** n services as the gateway renders them for nginx 1.27.3: one upstream each, re-resolved; every tenth route has a limit of its own. */
function platformSpec(n: number): NginxConfSpec {
  return {
    nginxVersion: '1.27.3',
    serverName: 'api.example.no',
    tls,
    resolver: { addresses: ['kube-dns.kube-system.svc.cluster.local'] },
    rateLimits: [
      { name: 'gateway-default', ratePerSecond: 10, burst: 20, nodelay: true },
      ...Array.from({ length: Math.ceil(n / 10) }, (_, i) => ({ name: `route-v1-svc-${i * 10}`, ratePerMinute: 60, burst: 120, nodelay: true })),
    ],
    defaultRateLimit: 'gateway-default',
    upstreams: Array.from({ length: n }, (_, i) => ({
      name: `svc-${i}`,
      servers: [{ host: `svc-${i}-headless.platform.svc.cluster.local`, port: 8080, resolve: true, maxFails: 3, failTimeoutSeconds: 10 }],
    })),
    routes: Array.from({ length: n }, (_, i) => ({ path: `/v1/svc-${i}`, upstream: `svc-${i}`, ...(i % 10 === 0 ? { rateLimit: `route-v1-svc-${i}` } : {}) })),
  };
}

describe('renderNginxConf: what every route shares is written once and inherited', () => {
  const many: NginxConfSpec = {
    ...base,
    requestHeaders: { 'X-Gateway': 'oslo-1' },
    upstreams: Array.from({ length: 40 }, (_, i) => ({ name: `svc-${i}`, servers: [{ host: `svc-${i}`, port: 8080 }] })),
    routes: Array.from({ length: 40 }, (_, i) => ({ path: `/v1/svc-${i}`, upstream: `svc-${i}` })),
  };

  it.each([['without TLS', many], ['with TLS', { ...many, tls }]])('%s: the proxy headers once, in the server; each route location holds only its proxy_pass', (_name, spec) => {
    const conf = renderNginxConf(spec);
    for (const line of fullRouteDirectives(spec, spec.routes[0]).filter((l) => !l.startsWith('proxy_pass'))) {
      expect({ line, times: occurrences(conf, line) }).toEqual({ line, times: line.startsWith('limit_req') ? 2 : 1 }); // + the 404 fallback's own
    }
    const servers = blocksOf(parseConf(conf), 'server');
    const routed = servers.find((s) => s.blocks.some((b) => b.header === 'location = /v1/svc-0'))!;
    expect(routed.directives).toEqual(expect.arrayContaining(['proxy_set_header X-Forwarded-For $remote_addr;', 'limit_req zone=api burst=20 nodelay;']));
    for (const route of spec.routes) {
      for (const header of [`location = ${route.path}`, `location ${route.path}/`]) expect(blockOf(conf, header)).toEqual([`proxy_pass http://${route.upstream};`]);
      expect(effectiveRoute(conf, route.path)).toEqual(fullRouteDirectives(spec, route));
    }
    // The plain-HTTP server of TLS mode proxies nothing and inherits nothing of the routes.
    for (const other of servers.filter((s) => s !== routed)) expect(other.directives.filter((d) => routeDirective(directiveName(d)))).toEqual([]);
    // Locations that inherit the limit without proxying answer with `return`, in the rewrite
    // phase, before limit_req acts: the health endpoint stays unlimited (the live suite checks it).
    for (const location of routed.blocks.filter((b) => !b.directives.some((d) => d.startsWith('proxy_pass ')))) {
      expect(location.directives.some((d) => d.startsWith('return '))).toBe(true);
    }
  });

  it('a route with a rate limit of its own sets it in its location (replacing the inherited one); the default stays in the server', () => {
    const spec: NginxConfSpec = {
      ...many,
      rateLimits: [...base.rateLimits!, { name: 'login', ratePerMinute: 30, burst: 6 }],
      routes: [...many.routes, { path: '/v1/login', upstream: 'svc-0', rateLimit: 'login' }],
    };
    const conf = renderNginxConf(spec);
    // 30 r/m: its 429 says Retry-After 2 (one token), the server's 1.
    for (const header of ['location = /v1/login', 'location /v1/login/']) {
      expect(blockOf(conf, header)).toEqual(['limit_req zone=login burst=6;', 'set $gateway_retry_after 2;', 'proxy_pass http://svc-0;']);
    }
    expect(effectiveRoute(conf, '/v1/login')).toEqual(fullRouteDirectives(spec, spec.routes.at(-1)!));
    expect(effectiveRoute(conf, '/v1/svc-1')).toEqual(fullRouteDirectives(spec, spec.routes[1]));
  });

  it('never moves a limit into the server that a route without one would inherit', () => {
    const spec: NginxConfSpec = { ...many, defaultRateLimit: undefined, routes: [{ ...many.routes[0], rateLimit: 'api' }, ...many.routes.slice(1)] };
    const conf = renderNginxConf(spec);
    expect(occurrences(conf, 'limit_req zone=')).toBe(2); // the route's two locations
    expect(blockOf(conf, 'location = /v1/svc-0')).toContain('limit_req zone=api burst=20 nodelay;');
    expect(blockOf(conf, 'location /v1/svc-0/')).toContain('limit_req zone=api burst=20 nodelay;');
    for (const route of spec.routes) expect(effectiveRoute(conf, route.path)).toEqual(fullRouteDirectives(spec, route));
  });

  it('gives every route of any valid spec exactly what it had written out in full, and the proxy headers once', () => {
    const specs = nginxSpec({ versions: ['1.22.1', '1.27.3'], hosts: fc.constantFrom('10.0.0.1', 'backend'), ports: fc.integer({ min: 1, max: 65535 }) })
      .filter((spec) => NginxConfSpecSchema.safeParse(spec).success);
    fc.assert(fc.property(specs, (spec) => {
      const conf = renderNginxConf(spec);
      for (const route of spec.routes) expect(effectiveRoute(conf, route.path)).toEqual(fullRouteDirectives(spec, route));
      expect(occurrences(conf, 'proxy_set_header X-Request-ID $gateway_request_id;')).toBe(1);
    }), { seed: 20261130, numRuns: 300 });
  });
});

describe('inheritFromServer: nginx inheritance for any set of locations', () => {
  const HEADERS = ['proxy_set_header Host $host;', 'proxy_set_header X-Real-IP $remote_addr;'];
  const proxied = (match: string, ...directives: string[]): NginxLocation => ({ match, directives: [`proxy_pass http://${match.slice(1)};`, ...directives] });

  /** What each location gets in effect for `name`, under the server lines, as nginx merges them. */
  function effective(result: ReturnType<typeof inheritFromServer>, name: string): string[][] {
    const server = parseConf(['server {', ...result.shared, ...result.locations.flatMap((l) => [`location ${l.match} {`, ...l.directives, '}']), '}'].join('\n'));
    return blocksOf(server, 'server')[0].blocks.map((b) => effectiveDirectives(b, (n) => n === name));
  }

  it('a location with a header of its own keeps the whole set: setting one proxy_set_header drops every inherited one', () => {
    const extra = 'proxy_set_header X-Tenant "a";';
    const result = inheritFromServer([proxied('/a', ...HEADERS), proxied('/b', ...HEADERS), proxied('/c', ...HEADERS, extra)]);
    expect(result.shared).toEqual(HEADERS);
    expect(result.locations.map((l) => l.directives)).toEqual([['proxy_pass http://a;'], ['proxy_pass http://b;'], ['proxy_pass http://c;', ...HEADERS, extra]]);
    expect(effective(result, 'proxy_set_header')[2]).toEqual([...HEADERS, extra].sort());
  });

  it('moves the most common value of a scalar; a location with another value keeps its own', () => {
    const result = inheritFromServer([proxied('/a', 'proxy_read_timeout 5s;'), proxied('/b', 'proxy_read_timeout 60s;'), proxied('/c', 'proxy_read_timeout 60s;')]);
    expect(result.shared).toEqual(['proxy_read_timeout 60s;']);
    expect(result.locations.map((l) => l.directives)).toEqual([['proxy_pass http://a;', 'proxy_read_timeout 5s;'], ['proxy_pass http://b;'], ['proxy_pass http://c;']]);
  });

  it('moves nothing that a location it acts in leaves unset (it wants nginx\'s default, or no limit)', () => {
    const result = inheritFromServer([
      proxied('/a', 'limit_req zone=z burst=1;', 'proxy_read_timeout 5s;', ...HEADERS),
      proxied('/b', 'proxy_read_timeout 5s;'),
    ]);
    expect(result.shared).toEqual(['proxy_read_timeout 5s;']);
    expect(result.locations[0].directives).toEqual(['proxy_pass http://a;', 'limit_req zone=z burst=1;', ...HEADERS]);
  });

  it('is not held back by locations a directive does not act in: proxy_* where nothing is proxied, limit_req where `return` answers first', () => {
    const result = inheritFromServer([
      { match: '= /healthz', directives: ['access_log off;', 'return 200 "ok\\n";'] },
      proxied('/a', 'limit_req zone=z burst=1;', ...HEADERS),
      proxied('/b', 'limit_req zone=z burst=1;', ...HEADERS),
      { match: '/static', directives: ['limit_req zone=z burst=1;', 'root /srv;', 'proxy_read_timeout 9s;'] },
    ]);
    expect(result.shared).toEqual(['limit_req zone=z burst=1;', ...HEADERS]);
    expect(result.locations.map((l) => l.directives)).toEqual([
      ['access_log off;', 'return 200 "ok\\n";'], ['proxy_pass http://a;'], ['proxy_pass http://b;'], ['root /srv;', 'proxy_read_timeout 9s;'],
    ]);
    // A location without `return` that sets no limit would be limited by an inherited one: nothing moves.
    const unlimited = inheritFromServer([proxied('/a', 'limit_req zone=z burst=1;'), { match: '/static', directives: ['root /srv;'] }]);
    expect(unlimited.shared).toEqual([]);
    // Never moved: content handlers, rewrite directives and what every location has of its own.
    const fixed = inheritFromServer([proxied('/a', 'default_type text/plain;', 'return 404;'), proxied('/b', 'default_type text/plain;', 'return 404;')]);
    expect(fixed.shared).toEqual([]);
  });

  it('keeps the effective configuration of every location, for any locations', () => {
    const lines = {
      proxy_set_header: ['proxy_set_header Host $host;', 'proxy_set_header X-A "1";', 'proxy_set_header X-B "2";'],
      proxy_read_timeout: ['proxy_read_timeout 5s;', 'proxy_read_timeout 60s;'],
      limit_req: ['limit_req zone=a burst=1;', 'limit_req zone=b burst=2;'],
    };
    const location = fc.record({
      proxies: fc.boolean(),
      returns: fc.boolean(),
      headers: fc.subarray(lines.proxy_set_header),
      timeout: fc.option(fc.constantFrom(...lines.proxy_read_timeout), { nil: undefined }),
      limits: fc.subarray(lines.limit_req),
    });
    fc.assert(fc.property(fc.array(location, { minLength: 1, maxLength: 6 }), (generated) => {
      const locations: NginxLocation[] = generated.map((g, i) => ({
        match: `/l${i}`,
        directives: [...g.limits, ...(g.proxies ? [`proxy_pass http://u${i};`] : []), ...g.headers, ...(g.timeout ? [g.timeout] : []), ...(g.returns ? ['return 404;'] : [])],
      }));
      const result = inheritFromServer(locations);
      for (const name of Object.keys(lines)) {
        const after = effective(result, name);
        locations.forEach((l, i) => {
          const acts = name === 'limit_req' ? !generated[i].returns : generated[i].proxies;
          if (acts) expect({ location: l.match, name, lines: after[i] }).toEqual({ location: l.match, name, lines: l.directives.filter((d) => directiveName(d) === name).sort() });
        });
      }
    }), { seed: 20261130, numRuns: 500 });
  });
});

describe('renderNginxConf: size', () => {
  it('renders 3,000 services (routes and upstreams) in well under the 1 MiB a ConfigMap holds, at most 295 bytes a service', () => {
    const one = Buffer.byteLength(renderNginxConf(platformSpec(1)));
    const conf = renderNginxConf(platformSpec(3000));
    const bytes = Buffer.byteLength(conf);
    const perService = (bytes - one) / 2999;
    // Was ~1,040 bytes a service (3.1 MB at 3,000): every location repeated a dozen proxy
    // directives and every upstream nginx's defaults. Then 269 with one prefix location a route;
    // exact routes take two (`= /p` and `/p/`), ~292 with tab indentation (~340 with 4 spaces).
    expect(perService).toBeLessThanOrEqual(295);
    expect(bytes).toBeLessThan(0.85 * 1024 * 1024);
    expect(occurrences(conf, 'proxy_set_header Host $host;')).toBe(1);
  });
});

describe('renderNginxConf: upstream keepalive defaults of the nginx version are left out', () => {
  const keepaliveOf = (nginxVersion: string, u: Partial<NginxConfSpec['upstreams'][number]> = {}) =>
    blockOf(renderNginxConf({ ...base, nginxVersion, upstreams: [{ ...base.upstreams[0], ...u }] }), 'upstream orders').filter((l) => l.startsWith('keepalive'));

  it.each([
    ['1.27.3', {}, ['keepalive 32;']],
    ['1.19.10', {}, ['keepalive 32;']],
    // keepalive_requests was 100 until 1.19.10.
    ['1.19.9', {}, ['keepalive 32;', 'keepalive_requests 1000;']],
    ['1.19.9', { keepaliveRequests: 100 }, ['keepalive 32;']],
    ['1.22.1', { keepaliveRequests: 100, keepaliveTimeoutSeconds: 30 }, ['keepalive 32;', 'keepalive_requests 100;', 'keepalive_timeout 30s;']],
    // Before 1.15.3 an upstream has neither directive: written as given, as always.
    ['1.15.2', {}, ['keepalive 32;', 'keepalive_requests 1000;', 'keepalive_timeout 60s;']],
    ['1.27.3', { keepalive: 0 }, []],
  ])('nginx %s, %j: %j', (version, upstream, expected) => {
    expect(keepaliveOf(version, upstream)).toEqual(expected);
  });
});

describe('NginxConfSpecSchema: errors name the prop path', () => {
  it('fills documented defaults', () => {
    const s = NginxConfSpecSchema.parse(base);
    expect(s).toMatchObject({
      httpPort: 8080, httpsPort: 8443, runtimeDir: '/tmp', accessLogPath: '/dev/stdout', clientMaxBodySize: '1m',
      healthPath: '/healthz', workerConnections: 1024, timeouts: { connectSeconds: 5, readSeconds: 60, sendSeconds: 60 },
      retries: { tries: 2, timeoutSeconds: 10 },
    });
    expect(s.upstreams[0]).toMatchObject({ keepalive: 32, keepaliveRequests: 1000, keepaliveTimeoutSeconds: 60 });
    expect(s.upstreams[0].servers[0]).toMatchObject({ maxFails: 3, failTimeoutSeconds: 10 });
    expect(s.rateLimits[0]).toMatchObject({ zoneSizeMb: 10 });
  });

  it.each<[string, unknown, RegExp]>([
    ['unknown upstream', { ...base, routes: [{ path: '/a', upstream: 'nope' }] }, /nginxConf\.routes\[0\]\.upstream: names no upstream .*"orders"/],
    ['unknown route rate limit', { ...base, routes: [{ path: '/a', upstream: 'orders', rateLimit: 'x' }] }, /nginxConf\.routes\[0\]\.rateLimit: names no rate limit/],
    ['unknown default rate limit', { ...base, defaultRateLimit: 'x' }, /nginxConf\.defaultRateLimit: names no rate limit/],
    ['duplicate upstream', { ...base, upstreams: [base.upstreams[0], base.upstreams[0]] }, /nginxConf\.upstreams\[1\]\.name: duplicate name "orders"/],
    ['duplicate rate limit', { ...base, rateLimits: [base.rateLimits![0], base.rateLimits![0]] }, /nginxConf\.rateLimits\[1\]\.name: duplicate name "api"/],
    ['duplicate route path', { ...base, routes: [base.routes[0], base.routes[0]] }, /nginxConf\.routes\[1\]\.path: duplicate route path/],
    ['route on health path', { ...base, routes: [{ path: '/healthz', upstream: 'orders' }] }, /nginxConf\.routes\[0\]\.path: is the health endpoint/],
    ['both rates', { ...base, rateLimits: [{ name: 'api', ratePerSecond: 1, ratePerMinute: 1 }] }, /nginxConf\.rateLimits\[0\]\.ratePerSecond: set exactly one/],
    ['no rate', { ...base, rateLimits: [{ name: 'api', burst: 1 }] }, /nginxConf\.rateLimits\[0\]\.ratePerSecond: set exactly one/],
    ['delay with nodelay', { ...base, rateLimits: [{ name: 'api', ratePerSecond: 1, burst: 5, delay: 2, nodelay: true }] }, /nginxConf\.rateLimits\[0\]\.delay: set either delay or nodelay/],
    ['delay above burst', { ...base, rateLimits: [{ name: 'api', ratePerSecond: 1, burst: 2, delay: 3 }] }, /nginxConf\.rateLimits\[0\]\.delay: must be at most burst \(2\)/],
    ['fractional rate', { ...base, rateLimits: [{ name: 'api', ratePerSecond: 0.5 }] }, /nginxConf\.rateLimits\[0\]\.ratePerSecond: must be an integer/],
    ['same http and https port', { ...base, tls, httpPort: 8443 }, /nginxConf\.httpsPort: must differ from httpPort/],
    ['bad version', { ...base, nginxVersion: 'latest' }, /nginxConf\.nginxVersion: must be an nginx version/],
    ['port out of range', { ...base, httpPort: 70000 }, /nginxConf\.httpPort: must be a port/],
    ['bad upstream server port', { ...base, upstreams: [{ name: 'orders', servers: [{ host: 'a', port: 0 }] }] }, /nginxConf\.upstreams\[0\]\.servers\[0\]\.port: must be a port/],
    ['no servers', { ...base, upstreams: [{ name: 'orders', servers: [] }] }, /nginxConf\.upstreams\[0\]\.servers: must list at least one server/],
    ['no routes', { ...base, routes: [] }, /nginxConf\.routes: must list at least one route/],
    ['reserved request header', { ...base, requestHeaders: { host: 'evil' } }, /nginxConf\.requestHeaders\.host: is set by the gateway/],
    ['relative tls path', { ...base, tls: { ...tls, keyPath: 'tls.key' } }, /nginxConf\.tls\.keyPath: must be an absolute path/],
    ['bad body size', { ...base, clientMaxBodySize: '1 GB' }, /nginxConf\.clientMaxBodySize: must be a size/],
    ['typo in a prop', { ...base, rateLimit: 'api' }, /nginxConf: .*"rateLimit"/],
    ['connect timeout above nginx cap', { ...base, timeouts: { connectSeconds: 90 } }, /nginxConf\.timeouts\.connectSeconds: must be at most 75/],
  ])('%s', (_name, spec, expected) => {
    expect(errorOf(spec)).toMatch(expected);
  });

  it('reports every problem at once, one line each', () => {
    const message = errorOf({ ...base, httpPort: 0, routes: [{ path: 'no-slash', upstream: 'nope' }] });
    expect(message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(3);
  });
});

describe('renderNginxConf: a route matches its path and sub-paths only', () => {
  /** The location headers of the server that proxies, in order. */
  const locations = (conf: string) => blocksOf(parseConf(conf), 'server')[0].blocks.map((b) => b.header);

  it('renders `= /p` and `/p/` with the same settings, and no bare prefix that would take "/pXYZ"', () => {
    const conf = renderNginxConf({ ...base, routes: [{ path: '/v1/orders', upstream: 'orders' }, { path: '/v1/login', upstream: 'orders', rateLimit: 'api' }] });
    expect(locations(conf).filter((h) => h.includes('/v1/'))).toEqual(['location = /v1/orders', 'location /v1/orders/', 'location = /v1/login', 'location /v1/login/']);
    expect(conf).not.toMatch(/location \/v1\/orders \{/);
    // effectiveRoute throws unless both locations get the same in effect.
    expect(effectiveRoute(conf, '/v1/orders')).toContain('proxy_pass http://orders;');
  });

  it('ignores a trailing slash ("/v1/orders/" is the route "/v1/orders"), and renders "/" as one catch-all prefix', () => {
    const slash = renderNginxConf({ ...base, routes: [{ path: '/v1/orders//', upstream: 'orders' }] });
    expect(slash).toBe(renderNginxConf(base));
    const root = renderNginxConf({ ...base, routes: [{ path: '/', upstream: 'orders' }, { path: '/v1/orders', upstream: 'orders' }] });
    expect(locations(root)).toEqual(['location = /healthz', 'location /', 'location = /v1/orders', 'location /v1/orders/',
      'location @gateway_too_many_requests', 'location @gateway_unavailable', 'location @gateway_timeout']);
    expect(root).not.toContain('location = / {');
  });

  it('renders a route nested under another as locations of its own (the longer one wins in nginx)', () => {
    const conf = renderNginxConf({ ...base, upstreams: [...base.upstreams, { name: 'admin', servers: [{ host: 'admin', port: 80 }] }],
      routes: [{ path: '/v1/orders', upstream: 'orders' }, { path: '/v1/orders/admin', upstream: 'admin' }] });
    expect(effectiveRoute(conf, '/v1/orders/admin', (n) => n === 'proxy_pass')).toEqual(['proxy_pass http://admin;']);
    expect(effectiveRoute(conf, '/v1/orders', (n) => n === 'proxy_pass')).toEqual(['proxy_pass http://orders;']);
  });

  it.each([
    ['the same path with a trailing slash', [{ path: '/v1/orders', upstream: 'orders' }, { path: '/v1/orders/', upstream: 'orders' }],
      /nginxConf\.routes\[1\]\.path: duplicate route path "\/v1\/orders\/": it routes the same paths as "\/v1\/orders"/],
    ['the health path with a trailing slash', [{ path: '/healthz/', upstream: 'orders' }], /nginxConf\.routes\[0\]\.path: is the health endpoint/],
  ])('refuses %s (nginx would get one location twice)', (_name, routes, expected) => {
    expect(errorOf({ ...base, routes })).toMatch(expected);
  });
});

describe('renderNginxConf: refusals the gateway makes itself are JSON', () => {
  const refusal = (conf: string, name: string) => blockOf(conf, `location @gateway_${name}`);
  const bodyOf = (lines: string[], status: number) => {
    const line = lines.find((l) => l.startsWith(`return ${status} `));
    if (!line) throw new Error(`no return ${status} in ${lines.join('\n')}`);
    return JSON.parse(/'(.*)'/.exec(line)![1]);
  };

  it('sends 429, 502, 503 and 504 to named locations that choose the status (`=`), in the server that proxies only', () => {
    const conf = renderNginxConf({ ...base, tls });
    const [https, redirect] = blocksOf(parseConf(conf), 'server');
    expect(https.directives.filter((d) => d.startsWith('error_page'))).toEqual([
      'error_page 429 = @gateway_too_many_requests;', 'error_page 502 503 = @gateway_unavailable;', 'error_page 504 = @gateway_timeout;',
    ]);
    expect(redirect.directives.some((d) => d.startsWith('error_page'))).toBe(false);
    // A backend's own error responses pass through: nginx intercepts only its own.
    expect(conf).not.toContain('proxy_intercept_errors');
  });

  it('answers {"error","status"} as application/json with the request id, keeping the server\'s headers (add_header here replaces them)', () => {
    const conf = renderNginxConf({ ...base, tls, responseHeaders: { 'X-Frame-Options': 'DENY' } });
    for (const [name, statuses] of [['too_many_requests', [429]], ['unavailable', [502, 503]], ['timeout', [504]]] as const) {
      const lines = refusal(conf, name);
      expect(lines).toEqual(expect.arrayContaining([
        'default_type application/json;', 'add_header X-Request-ID $gateway_request_id always;',
        'add_header Strict-Transport-Security "max-age=63072000" always;', 'add_header X-Frame-Options "DENY" always;',
      ]));
      for (const status of statuses) expect(bodyOf(lines, status)).toEqual({ error: expect.any(String), status });
    }
  });

  it('503, not 502, when the last attempt reached no backend ($upstream_connect_time ends in "-"), with Retry-After then only', () => {
    const conf = renderNginxConf(base);
    expect(blockOf(conf, 'map $upstream_connect_time $gateway_backend_reached')).toEqual(['"~[0-9]$" 1;', 'default "";']);
    expect(blockOf(conf, 'map $gateway_backend_reached $gateway_unavailable_retry_after')).toEqual(['"" 5;', 'default "";']);
    const unavailable = blocksOf(parseConf(conf), 'location @gateway_unavailable')[0];
    expect(unavailable.directives).toContain('add_header Retry-After $gateway_unavailable_retry_after always;');
    expect(unavailable.directives.at(-1)).toBe(`return 503 '{"error":"service unavailable","status":503}';`);
    expect(unavailable.blocks.map((b) => [b.header, b.directives])).toEqual([['if ($gateway_backend_reached)', [`return 502 '{"error":"bad gateway","status":502}';`]]]);
    // The map's regex as nginx applies it to $upstream_connect_time values.
    const reached = (v: string) => /[0-9]$/.test(v);
    expect(['0.001', '-, 0.000', '0.004, 0.002'].map(reached)).toEqual([true, true, true]);
    expect(['-', '0.001, -', '-, -', ''].map(reached)).toEqual([false, false, false, false]);
  });

  it.each([
    ['10 r/s', { ratePerSecond: 10 }, 1],
    ['1 r/s', { ratePerSecond: 1 }, 1],
    ['60 r/m', { ratePerMinute: 60 }, 1],
    ['30 r/m', { ratePerMinute: 30 }, 2],
    ['7 r/m', { ratePerMinute: 7 }, 9],
    ['1 r/m', { ratePerMinute: 1 }, 60],
  ])('429 Retry-After is one token of the zone, rounded up: %s -> %ss', (_name, rate, seconds) => {
    const conf = renderNginxConf({ ...base, rateLimits: [{ name: 'api', burst: 5, ...rate }] });
    expect(refusal(conf, 'too_many_requests')).toContain(`add_header Retry-After ${seconds} always;`);
    expect(conf).not.toContain('$gateway_retry_after');
  });

  it('a route whose zone asks for another Retry-After sets it in its locations; the server sets the default zone\'s', () => {
    const conf = renderNginxConf({
      ...base,
      rateLimits: [...base.rateLimits!, { name: 'login', ratePerMinute: 6, burst: 2 }, { name: 'fast', ratePerSecond: 50 }],
      routes: [{ path: '/v1/orders', upstream: 'orders' }, { path: '/v1/login', upstream: 'orders', rateLimit: 'login' }, { path: '/v1/fast', upstream: 'orders', rateLimit: 'fast' }],
    });
    expect(blocksOf(parseConf(conf), 'server')[0].directives).toContain('set $gateway_retry_after 1;');
    expect(refusal(conf, 'too_many_requests')).toContain('add_header Retry-After $gateway_retry_after always;');
    expect(blockOf(conf, 'location = /v1/login')).toContain('set $gateway_retry_after 10;');
    expect(blockOf(conf, 'location /v1/login/')).toContain('set $gateway_retry_after 10;');
    for (const header of ['location = /v1/orders', 'location = /v1/fast']) expect(blockOf(conf, header).some((l) => l.startsWith('set '))).toBe(false);
  });

  it('has no 429 page without rate limits (nothing answers 429)', () => {
    const conf = renderNginxConf({ ...base, rateLimits: [], defaultRateLimit: undefined });
    expect(conf).not.toContain('@gateway_too_many_requests');
    expect(conf).not.toContain('error_page 429');
    expect(conf).toContain('error_page 502 503 = @gateway_unavailable;');
  });
});
