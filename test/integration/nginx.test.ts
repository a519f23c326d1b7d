/**
 * renderNginxConf against the real nginx on 127.0.0.1 (free ports from the registry, so two
 * checkouts can run this at once): configs pass `nginx -t`, and the rate limit, upstream
 * keepalive, failover and TLS behave as rendered.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as path from 'path';
import { GATEWAY_RESOLVER_VALID_SECONDS, SERVICE_STOP_DELAY_SECONDS, UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS } from '../../lib/gateway/nginx-gateway';
import { NginxConfSpec } from '../../lib/gateway/nginx-spec';
import { renderNginxConf } from '../../lib/gateway/render-nginx-conf';
import { coerceVersion, semver } from '../../lib/util/versions';
import { WorkspaceSpec, nginxWorkspace, prepareNginx } from './support/nginx-workspace';
import { describeWithServer, findBinary, freePort, freePorts, sleep, stopProcess, waitForPort } from './support/real-servers';

const LOOPBACK = '127.0.0.1';

interface Backend {
  name: string;
  port: number;
  /** TCP connections accepted (nginx -> backend). */
  connections: number;
  requests: number;
  stop(): Promise<void>;
}

/** A node HTTP backend that answers with its name and counts accepted TCP connections. */
function startBackend(name: string, port: number, onRequest?: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Backend> {
  const server = http.createServer((req, res) => {
    backend.requests++;
    if (onRequest) return onRequest(req, res);
    req.resume();
    res.setHeader('content-type', 'text/plain');
    res.end(name);
  });
  // Longer than nginx's upstream keepalive_timeout, so nginx is the side that closes idle connections.
  server.keepAliveTimeout = 120_000;
  const backend: Backend = {
    name,
    port,
    connections: 0,
    requests: 0,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
  server.on('connection', () => backend.connections++);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => resolve(backend));
  });
}

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }

/**
 * A backend in a process of its own, so it can be frozen with SIGSTOP like a stopped pod (its
 * kernel still accepts connections and takes requests; nothing answers). Prints one line per
 * request it handles, "<METHOD> <url>": the side effects, counted by the test.
 */
const CHILD_BACKEND = `
const http = require('http');
const [port, name] = process.argv.slice(1);
const server = http.createServer((req, res) => {
  process.stdout.write(req.method + ' ' + req.url + '\\n');
  req.resume();
  res.setHeader('content-type', 'text/plain');
  res.end(name);
});
server.keepAliveTimeout = 120000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\\n'));
`;

interface ChildBackend {
  name: string;
  port: number;
  child: ChildProcess;
  /** "<METHOD> <url>" of every request the backend handled, in order. */
  handled: string[];
  /** True while the test holds it stopped (afterAll sends SIGCONT first). */
  stopped: boolean;
}

function startChildBackend(name: string, port: number): Promise<ChildBackend> {
  const child = spawn(process.execPath, ['-e', CHILD_BACKEND, String(port), name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const backend: ChildBackend = { name, port, child, handled: [], stopped: false };
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'listening') resolve(backend);
        else backend.handled.push(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`backend ${name} exited with ${code} before listening`)));
  });
}

/** One line of the rendered json_combined access log. */
interface AccessLine { request: string; status: number; upstream_addr: string; request_time: number }

/** The servers nginx tried for a request, in order ($upstream_addr: "a:1, b:2"). */
const attempts = (line: AccessLine): string[] => line.upstream_addr.split(', ').filter(Boolean);

interface Timed extends Reply { ms: number }

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function request(options: https.RequestOptions, secure = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request({ host: LOOPBACK, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request on a connection of its own (no client keepalive), timed from send to last byte. */
async function timed(options: https.RequestOptions): Promise<Timed> {
  const started = performance.now();
  const reply = await request({ ...options, agent: false });
  return { ...reply, ms: performance.now() - started };
}

/**
 * Sends n requests at the same instant from this one process: all TCP connections are opened
 * first, then every request is written in the same tick. Returns the statuses counted, and how
 * long nginx had at most to work through them (first write to last reply).
 */
async function simultaneous(port: number, urlPath: string, n: number): Promise<{ counts: Record<number, number>; spanMs: number; replies: Reply[] }> {
  const sockets = await Promise.all(Array.from({ length: n }, () => new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect(port, LOOPBACK, () => resolve(socket));
    socket.once('error', reject);
  })));
  const started = performance.now();
  const replies = await Promise.all(sockets.map((socket) =>
    request({ port, path: urlPath, headers: { connection: 'close' }, createConnection: () => socket })));
  const spanMs = performance.now() - started;
  const counts: Record<number, number> = {};
  for (const { status } of replies) counts[status] = (counts[status] ?? 0) + 1;
  return { counts, spanMs, replies };
}

describeWithServer('nginx', findBinary(['/usr/sbin/nginx', 'nginx']), 'nginx renders run on the real server', (nginx) => {
  let workDir: string;
  let nginxVersion: string;
  const running: ChildProcess[] = [];
  const backends: Backend[] = [];
  const childBackends: ChildBackend[] = [];
  const port = freePort;

  beforeAll(() => {
    ({ workDir, nginxVersion } = prepareNginx(nginx, 'nginx'));
  });

  afterAll(async () => {
    try {
      // By PID: SIGTERM, then SIGKILL if a master has not exited within 3 s.
      await Promise.all(running.map((child) => stopProcess(child)));
      await Promise.all(backends.map((b) => b.stop()));
      for (const b of childBackends) if (b.stopped && b.child.pid) process.kill(b.child.pid, 'SIGCONT');
      await Promise.all(childBackends.map((b) => stopProcess(b.child)));
    } finally {
      if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  async function backend(name: string, onRequest?: Parameters<typeof startBackend>[2]): Promise<Backend> {
    const b = await startBackend(name, await port(), onRequest);
    backends.push(b);
    return b;
  }

  const { writeConf, check } = nginxWorkspace(() => ({ workDir, nginx, nginxVersion }));

  async function childBackend(name: string): Promise<ChildBackend> {
    const b = await startChildBackend(name, await port());
    childBackends.push(b);
    return b;
  }

  function accessLog(dir: string): AccessLine[] {
    const file = path.join(dir, 'access.log');
    if (!fs.existsSync(file)) return [];
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AccessLine);
  }

  /** The access log's lines after the first `from`, once there are `count` of them (nginx logs after replying). */
  async function accessLogAfter(dir: string, from: number, count: number): Promise<AccessLine[]> {
    await waitFor(() => accessLog(dir).length >= from + count, 5000);
    return accessLog(dir).slice(from);
  }

  /** What the rendered config says, for the log line. */
  const nextUpstreamTimeoutOf = (dir: string): string =>
    /proxy_next_upstream_timeout (\S+);/.exec(fs.readFileSync(path.join(dir, 'nginx.conf'), 'utf8'))?.[1] ?? 'none';

  async function start(dir: string, probePort: number): Promise<void> {
    const t = check(dir);
    if (!t.ok) throw new Error(`nginx -t failed:\n${t.output}`);
    const child = spawn(nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    running.push(child);
    await waitForPort(probePort);
  }

  function selfSignedCert(dir: string): { certificatePath: string; keyPath: string } {
    const certificatePath = path.join(dir, 'tls.crt');
    const keyPath = path.join(dir, 'tls.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', keyPath, '-out', certificatePath], { stdio: 'ignore' });
    return { certificatePath, keyPath };
  }

  describe('nginx -t accepts rendered configs', () => {
    // Nothing listens on these (nginx -t neither binds nor connects), but no run may use them either.
    let upstreams: NginxConfSpec['upstreams'] = [];
    beforeAll(async () => {
      const [a, b, c] = await freePorts(3);
      upstreams = [
        { name: 'orders', servers: [{ host: LOOPBACK, port: a }, { host: LOOPBACK, port: b, maxFails: 1 }] },
        { name: 'invoices', servers: [{ host: 'localhost', port: c }], keepalive: 0 },
      ];
    });
    const routes = [
      { path: '/v1/orders', upstream: 'orders' },
      { path: '/v1/invoices/', upstream: 'invoices', rateLimit: 'slow' },
      { path: '/v1/export', upstream: 'orders', rateLimit: 'queued' },
    ];
    const rateLimits = [
      { name: 'api', ratePerSecond: 10, burst: 20, nodelay: true },
      { name: 'slow', ratePerMinute: 30, burst: 5, delay: 2, zoneSizeMb: 1 },
      { name: 'queued', ratePerSecond: 2, burst: 4 },
    ];

    it('without TLS: several routes, r/s and r/m zones, nodelay, delay, keepalive off, extra headers', async () => {
      const httpPort = await port();
      const dir = writeConf('check-plain', {
        serverName: 'api.example.no', httpPort, rateLimits, defaultRateLimit: 'api', upstreams, routes,
        responseHeaders: { 'X-Content-Type-Options': 'nosniff' }, requestHeaders: { 'X-Gateway': 'oslo-1' },
        clientMaxBodySize: '10m', timeouts: { connectSeconds: 2 }, retries: { tries: 3, timeoutSeconds: 5 },
      });
      const r = check(dir);
      expect(r.output).toContain('test is successful');
      expect(r.ok).toBe(true);
    });

    it('with TLS (HTTP/2 syntax of the installed version), a catch-all route and no rate limits', async () => {
      const [httpPort, httpsPort] = await freePorts(2);
      const dir = writeConf('check-tls', (d) => ({
        serverName: 'api.example.no', httpPort, httpsPort, tls: selfSignedCert(d), upstreams,
        routes: [{ path: '/', upstream: 'orders' }, { path: '/v1/invoices/', upstream: 'invoices' }],
      }));
      const r = check(dir);
      expect(r.output).toContain('test is successful');
      expect(r.output).not.toContain('deprecated');
      expect(r.ok).toBe(true);
    });

    it('the HTTP/2 syntax of the other version family is wrong for this nginx', async () => {
      const installedHasHttp2Directive = semver.gte(coerceVersion(nginxVersion), '1.25.1');
      const [httpPort, httpsPort] = await freePorts(2);
      const dir = writeConf('check-other-version', (d) => ({
        nginxVersion: installedHasHttp2Directive ? '1.22.1' : '1.27.0',
        serverName: 'api.example.no', httpPort, httpsPort, tls: selfSignedCert(d), upstreams, routes: [routes[0]],
      }));
      const r = check(dir);
      if (installedHasHttp2Directive) {
        expect(r.output).toMatch(/"listen \.\.\. http2" directive is deprecated/);
      } else {
        expect(r.ok).toBe(false);
        expect(r.output).toContain('unknown directive "http2"');
      }
    });
  });

  describe('rate limit: N simultaneous requests from one client give burst + 1 x 200', () => {
    it.each([
      { name: 'ten-per-second', limit: { ratePerSecond: 10, burst: 20 }, expectOk: 21 },
      { name: 'five-per-second', limit: { ratePerSecond: 5, burst: 7 }, expectOk: 8 },
      { name: 'sixty-per-minute', limit: { ratePerMinute: 60, burst: 4 }, expectOk: 5 },
    ])('$name: $expectOk x 200, the rest 429', async ({ name, limit, expectOk }) => {
      const api = await backend(`${name}-backend`);
      const httpPort = await port();
      const dir = writeConf(`rate-${name}`, {
        serverName: 'localhost', httpPort,
        rateLimits: [{ name: 'api', nodelay: true, ...limit }], defaultRateLimit: 'api',
        upstreams: [{ name: 'api', servers: [{ host: LOOPBACK, port: api.port }] }],
        routes: [{ path: '/v1/', upstream: 'api' }],
      });
      await start(dir, httpPort);

      const { counts, spanMs } = await simultaneous(httpPort, '/v1/orders', 100);
      // nginx refills the bucket continuously. Exactly burst + 1 pass when nginx answers all 100
      // within one token's interval (~20 ms when the machine is idle); on a loaded machine (two
      // checkouts running these suites on 2 cores) it may take longer, and then admits one more
      // per interval elapsed, never more.
      const { ratePerSecond, ratePerMinute } = limit as { ratePerSecond?: number; ratePerMinute?: number };
      const perSecond = ratePerSecond ?? ratePerMinute! / 60;
      const refills = Math.floor((spanMs / 1000) * perSecond);
      // eslint-disable-next-line no-console
      console.log(`[nginx rate ${name}] ${JSON.stringify(counts)} in ${Math.round(spanMs)} ms (tokens refilled meanwhile: at most ${refills})`);
      expect(Object.keys(counts).sort()).toEqual(['200', '429']);
      expect(counts[200] + counts[429]).toBe(100);
      expect(counts[200]).toBeGreaterThanOrEqual(expectOk);
      expect(counts[200]).toBeLessThanOrEqual(expectOk + refills);
      expect(api.requests).toBe(counts[200]);
      // The health endpoint is never limited, even with the bucket empty.
      expect((await request({ port: httpPort, path: '/healthz' })).status).toBe(200);
    });

    it('a route with a limit of its own is limited by it alone; the others by the default they inherit', async () => {
      const api = await backend('own-limit-backend');
      const httpPort = await port();
      const dir = writeConf('rate-own', {
        serverName: 'localhost', httpPort,
        // The default lets 3 of 20 through, the route's own all 20: a route that also (or only)
        // got the inherited default would answer 429 to most of them.
        rateLimits: [{ name: 'strict', ratePerMinute: 1, burst: 2, nodelay: true }, { name: 'roomy', ratePerSecond: 1000, burst: 50, nodelay: true }],
        defaultRateLimit: 'strict',
        upstreams: [{ name: 'api', servers: [{ host: LOOPBACK, port: api.port }] }],
        routes: [{ path: '/default/', upstream: 'api' }, { path: '/own/', upstream: 'api', rateLimit: 'roomy' }],
      });
      await start(dir, httpPort);
      const own = await simultaneous(httpPort, '/own/x', 20);
      const inherited = await simultaneous(httpPort, '/default/x', 20);
      // eslint-disable-next-line no-console
      console.log(`[nginx own limit] own zone: ${JSON.stringify(own.counts)}; inherited default: ${JSON.stringify(inherited.counts)}`);
      expect(own.counts).toEqual({ 200: 20 });
      expect(inherited.counts).toEqual({ 200: 3, 429: 17 });
      expect((await request({ port: httpPort, path: '/own/y' })).status).toBe(200);
      // The health endpoint inherits the default too, and answers before it acts.
      for (let i = 0; i < 5; i++) expect((await request({ port: httpPort, path: '/healthz' })).status).toBe(200);
    });
  });

  /**
   * The route locations set none of the proxy directives: every one of them comes from the
   * server. A location that lost them would send nginx's defaults instead (Host $proxy_host,
   * Connection close over HTTP/1.0, no X-Forwarded-For or X-Request-ID), which this sees.
   */
  describe('proxy headers inherited by every route', () => {
    /** What a backend saw of a request: its HTTP version and headers. */
    interface Seen { httpVersion: string; headers: http.IncomingHttpHeaders }

    it.each([['plain HTTP', false], ['TLS', true]])('%s: every route, with a limit of its own or not, sends every header over HTTP/1.1 keepalive', async (_name, secure) => {
      const seen: Seen[] = [];
      const api = await backend(`headers-${secure ? 'tls' : 'plain'}`, (req, res) => {
        seen.push({ httpVersion: req.httpVersion, headers: req.headers });
        req.resume();
        res.end('seen');
      });
      const [httpPort, httpsPort] = await freePorts(2);
      const dir = writeConf(`headers-${secure ? 'tls' : 'plain'}`, (d) => ({
        serverName: 'api.example.no', httpPort, httpsPort,
        ...(secure ? { tls: { ...selfSignedCert(d), publicHttpsPort: httpsPort } } : {}),
        rateLimits: [{ name: 'api', ratePerSecond: 1000, burst: 100, nodelay: true }, { name: 'own', ratePerSecond: 1000, burst: 100 }],
        defaultRateLimit: 'api',
        requestHeaders: { 'X-Gateway': 'oslo-1' },
        upstreams: [{ name: 'a', servers: [{ host: LOOPBACK, port: api.port }] }, { name: 'b', servers: [{ host: LOOPBACK, port: api.port }], keepalive: 8 }],
        routes: [{ path: '/v1/a', upstream: 'a' }, { path: '/v1/b', upstream: 'b', rateLimit: 'own' }, { path: '/', upstream: 'a' }],
      }));
      const servedPort = secure ? httpsPort : httpPort;
      await start(dir, servedPort);
      const tls = secure ? { rejectUnauthorized: false, servername: 'api.example.no' } : {};
      for (const urlPath of ['/v1/a/1', '/v1/b/2', '/other']) {
        seen.length = 0;
        const given = await request({ port: servedPort, path: urlPath, ...tls, headers: { host: 'api.example.no', 'x-request-id': 'req-1', 'x-forwarded-for': '203.0.113.7' } }, secure);
        const minted = await request({ port: servedPort, path: urlPath, ...tls, headers: { host: 'api.example.no' } }, secure);
        expect([given.status, minted.status]).toEqual([200, 200]);
        expect(seen).toHaveLength(2);
        for (const s of seen) {
          expect({ urlPath, httpVersion: s.httpVersion }).toEqual({ urlPath, httpVersion: '1.1' });
          expect({ urlPath, ...s.headers }).toMatchObject({
            urlPath, host: 'api.example.no', 'x-real-ip': LOOPBACK, 'x-forwarded-proto': secure ? 'https' : 'http', 'x-gateway': 'oslo-1',
          });
          // Connection "" clears the header, so nginx can keep the upstream connection open.
          expect({ urlPath, connection: s.headers.connection }).toEqual({ urlPath, connection: undefined });
        }
        // X-Forwarded-For is set to the client address: what the client sent in it is not passed on.
        expect(seen[0].headers).toMatchObject({ 'x-request-id': 'req-1', 'x-forwarded-for': LOOPBACK });
        expect(seen[1].headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
        expect(seen[1].headers['x-forwarded-for']).toBe(LOOPBACK);
      }
    });
  });

  describe('upstream keepalive', () => {
    /** 1000 sequential requests over one client connection; returns TCP connections per backend. */
    async function connectionsFor(name: string, keepalive: number): Promise<number[]> {
      const a = await backend(`${name}-a`);
      const b = await backend(`${name}-b`);
      const httpPort = await port();
      const dir = writeConf(`keepalive-${name}`, {
        serverName: 'localhost', httpPort,
        upstreams: [{ name: 'svc', keepalive, servers: [{ host: LOOPBACK, port: a.port }, { host: LOOPBACK, port: b.port }] }],
        routes: [{ path: '/svc/', upstream: 'svc' }],
      });
      await start(dir, httpPort);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = 0; i < 1000; i++) {
          const r = await request({ port: httpPort, path: `/svc/${i}`, agent });
          if (r.status !== 200) throw new Error(`request ${i} got ${r.status}`);
        }
      } finally {
        agent.destroy();
      }
      expect(a.requests + b.requests).toBe(1000);
      expect(Math.abs(a.requests - b.requests)).toBeLessThanOrEqual(1);
      return [a.connections, b.connections];
    }

    it('reuses at most 2 connections per backend with keepalive on, hundreds with it off', async () => {
      const on = await connectionsFor('on', 32);
      const off = await connectionsFor('off', 0);
      // eslint-disable-next-line no-console
      console.log(`[nginx keepalive] upstream TCP connections per backend for 1000 requests: keepalive 32 -> ${on}, off -> ${off}`);
      for (const c of on) expect(c).toBeLessThanOrEqual(2);
      for (const c of off) expect(c).toBeGreaterThanOrEqual(400);
    });
  });

  /**
   * Each test here fails when the directive it names is rendered wrong or left out, also where
   * nginx's own defaults would do part of the work (they retry `error timeout` without limit, with
   * max_fails=1 and no proxy_next_upstream_timeout): so each sets values those defaults differ
   * from, and counts attempts in the access log ($upstream_addr lists every server tried).
   */
  describe('failover (passive health checks + proxy_next_upstream)', () => {
    it('a backend that is gone (connection refused): every GET is answered by the other, and exactly maxFails are retried before the breaker opens', async () => {
      const a = await backend('fail-a');
      const b = await backend('fail-b');
      const maxFails = 2; // nginx's default is 1: a renderer that drops max_fails fails the count below
      const httpPort = await port();
      const dir = writeConf('failover', {
        serverName: 'localhost', httpPort,
        upstreams: [{ name: 'svc', servers: [a, b].map((x) => ({ host: LOOPBACK, port: x.port, maxFails, failTimeoutSeconds: 60 })) }],
        routes: [{ path: '/svc/', upstream: 'svc' }],
      });
      await start(dir, httpPort);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      try {
        const before = await Promise.all(Array.from({ length: 20 }, (_, i) => request({ port: httpPort, path: `/svc/${i}`, agent })));
        expect(before.filter((r) => r.status !== 200)).toHaveLength(0);
        expect(new Set(before.map((r) => r.body))).toEqual(new Set(['fail-a', 'fail-b']));

        await b.stop();
        await sleep(200); // nginx notices the closed idle keepalive connections
        const servedByA = a.requests;
        const logged = accessLog(dir).length;
        // One at a time, so every attempt on b is a separate request and the count of retries is
        // exact; each on a connection of its own, so they spread over nginx's workers.
        const after: Reply[] = [];
        for (let i = 0; i < 200; i++) after.push(await request({ port: httpPort, path: `/svc/after-${i}`, agent: false }));
        const retried = (await accessLogAfter(dir, logged, 200)).filter((l) => attempts(l).length > 1);
        // eslint-disable-next-line no-console
        console.log(`[nginx failover] backend gone: ${after.filter((r) => r.status !== 200).length} of 200 GETs failed; ${retried.length} retried (${retried.map((l) => l.upstream_addr).join(' | ')})`);
        expect(after.filter((r) => r.status !== 200)).toHaveLength(0);
        expect(new Set(after.map((r) => r.body))).toEqual(new Set(['fail-a']));
        expect(a.requests - servedByA).toBe(200);
        expect(retried.map(attempts)).toEqual(Array(maxFails).fill([`${LOOPBACK}:${b.port}`, `${LOOPBACK}:${a.port}`]));
      } finally {
        agent.destroy();
      }
    });

    it('a hung backend (SIGSTOP): GETs are retried on the other within connect + read timeout, maxFails of them wait, POSTs are never replayed', async () => {
      // Backends in processes of their own, so one can be frozen like a stopped pod: its kernel
      // still accepts connections and takes the request, and nothing ever answers.
      const a = await childBackend('hung-a');
      const b = await childBackend('hung-b');
      const maxFails = 2;
      // The issue's proportions, scaled down: a retry budget (1 s) shorter than the read timeout
      // (2 s), as the defaults are (10 s against 60 s). Rendered as given, no timed-out request
      // would ever be retried; every GET that reached b got 504 after 2 s.
      const timeouts = { connectSeconds: 1, readSeconds: 2, sendSeconds: 2 };
      const retries = { tries: 2, timeoutSeconds: 1 };
      const servers = [a, b].map((x) => ({ host: LOOPBACK, port: x.port, maxFails, failTimeoutSeconds: 60 }));
      const httpPort = await port();
      const dir = writeConf('hung', {
        serverName: 'localhost', httpPort, timeouts, retries,
        // Two groups over the same backends, so the POSTs start with a closed breaker too.
        upstreams: [{ name: 'reads', servers }, { name: 'writes', servers }],
        routes: [{ path: '/reads/', upstream: 'reads' }, { path: '/writes/', upstream: 'writes' }],
      });
      await start(dir, httpPort);
      const warm = await Promise.all(Array.from({ length: 4 }, (_, i) => timed({ port: httpPort, path: `/reads/warm-${i}` })));
      expect(new Set(warm.map((r) => `${r.status} ${r.body}`))).toEqual(new Set(['200 hung-a', '200 hung-b']));

      process.kill(b.child.pid!, 'SIGSTOP');
      b.stopped = true;
      const readMs = timeouts.readSeconds * 1000;
      // A GET that meets the hung backend costs one read timeout, then the other backend answers.
      const boundMs = (timeouts.connectSeconds + timeouts.readSeconds) * 1000;

      // One at a time: exactly maxFails GETs reach b (then the breaker keeps it out for 60 s).
      let logged = accessLog(dir).length;
      const sequential: Timed[] = [];
      for (let i = 0; i < 10; i++) sequential.push(await timed({ port: httpPort, path: `/reads/seq-${i}` }));
      const seqLog = await accessLogAfter(dir, logged, 10);
      // Then at once: the breaker is open, nobody waits.
      logged = accessLog(dir).length;
      const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => timed({ port: httpPort, path: `/reads/burst-${i}` })));
      await accessLogAfter(dir, logged, 40);

      // POSTs (each a side effect with its own id), one at a time.
      logged = accessLog(dir).length;
      const posts: Array<Timed & { id: string }> = [];
      for (let i = 0; i < 6; i++) posts.push({ id: `post-${i}`, ...(await timed({ port: httpPort, path: `/writes/post-${i}`, method: 'POST' })) });
      const postLog = await accessLogAfter(dir, logged, 6);

      // Thaw b: it now handles what it was sent while frozen (nginx had given up on those).
      process.kill(b.child.pid!, 'SIGCONT');
      b.stopped = false;
      const hungPosts = posts.filter((p) => p.status !== 200).map((p) => p.id);
      await waitFor(() => hungPosts.every((id) => b.handled.includes(`POST /writes/${id}`)), 5000);

      const slow = sequential.filter((r) => r.ms >= readMs - 50);
      const fmt = (rs: Timed[]) => rs.map((r) => `${r.status}/${Math.round(r.ms)}ms`).join(' ');
      // eslint-disable-next-line no-console
      console.log(`[nginx hung backend] read timeout ${timeouts.readSeconds}s, retry budget rendered ${nextUpstreamTimeoutOf(dir)}; ` +
        `10 sequential GETs: ${fmt(sequential)}; 40 concurrent GETs: ${burst.filter((r) => r.status === 200).length} x 200, max ${Math.round(Math.max(...burst.map((r) => r.ms)))} ms; ` +
        `6 POSTs: ${fmt(posts)}; side effects: a ${JSON.stringify(a.handled.filter((h) => h.startsWith('POST')))}, b ${JSON.stringify(b.handled.filter((h) => h.startsWith('POST')))}`);

      // Every GET answered 200 by the healthy backend, none slower than one attempt on the hung one.
      for (const r of [...sequential, ...burst]) {
        expect(r).toMatchObject({ status: 200, body: 'hung-a' });
        expect(r.ms).toBeLessThan(boundMs);
      }
      // Exactly maxFails GETs met the hung backend, waited the read timeout and were retried on a.
      expect(slow).toHaveLength(maxFails);
      expect(seqLog.filter((l) => attempts(l).length > 1).map(attempts))
        .toEqual(Array(maxFails).fill([`${LOOPBACK}:${b.port}`, `${LOOPBACK}:${a.port}`]));
      // The breaker is open: the burst never waited for b.
      for (const r of burst) expect(r.ms).toBeLessThan(readMs / 2);

      // A POST that reached the hung backend is answered 504 and not replayed on a: the breaker
      // bounds these to maxFails, and every POST had its side effect exactly once, on one backend.
      expect(posts.filter((p) => p.status === 504)).toHaveLength(maxFails);
      expect(posts.filter((p) => p.status === 200)).toHaveLength(posts.length - maxFails);
      expect(postLog.filter((l) => attempts(l).length > 1)).toEqual([]);
      for (const p of posts) {
        const by = [a, b].flatMap((x) => x.handled.filter((h) => h === `POST /writes/${p.id}`).map(() => x.name));
        expect({ id: p.id, by }).toEqual({ id: p.id, by: [p.status === 200 ? 'hung-a' : 'hung-b'] });
      }
    });

    it('retries a GET answered 502, 503 or 504 on the next server (nginx passes those on by default)', async () => {
      const a = await backend('status-a');
      const codes = [502, 503, 504];
      const b = await backend('status-b', (req, res) => {
        req.resume();
        res.statusCode = codes[(b.requests - 1) % codes.length];
        res.end('status-b failed');
      });
      const httpPort = await port();
      const dir = writeConf('status', {
        serverName: 'localhost', httpPort,
        // A breaker that never opens here, so b keeps answering 5xx to every other attempt.
        upstreams: [{ name: 'svc', servers: [a, b].map((x) => ({ host: LOOPBACK, port: x.port, maxFails: 0 })) }],
        routes: [{ path: '/svc/', upstream: 'svc' }],
      });
      await start(dir, httpPort);
      const replies: Reply[] = [];
      for (let i = 0; i < 30; i++) replies.push(await request({ port: httpPort, path: `/svc/${i}` }));
      // eslint-disable-next-line no-console
      console.log(`[nginx 5xx retry] 30 GETs: ${replies.filter((r) => r.status === 200).length} x 200; b answered ${b.requests} x 502/503/504`);
      expect(b.requests).toBeGreaterThanOrEqual(codes.length);
      expect(replies.map((r) => `${r.status} ${r.body}`)).toEqual(Array(30).fill('200 status-a'));
    });

    it('gives up after retries.tries attempts (nginx would try every server)', async () => {
      const failing = await Promise.all(['tries-a', 'tries-b', 'tries-c'].map((name) => backend(name, (req, res) => {
        req.resume();
        res.statusCode = 503;
        res.end(name);
      })));
      const httpPort = await port();
      const tries = 2;
      const dir = writeConf('tries', {
        serverName: 'localhost', httpPort, retries: { tries },
        upstreams: [{ name: 'svc', servers: failing.map((x) => ({ host: LOOPBACK, port: x.port, maxFails: 0 })) }],
        routes: [{ path: '/svc/', upstream: 'svc' }],
      });
      await start(dir, httpPort);
      const statuses: number[] = [];
      for (let i = 0; i < 9; i++) statuses.push((await request({ port: httpPort, path: `/svc/${i}` })).status);
      const attemptsMade = failing.reduce((n, x) => n + x.requests, 0);
      // eslint-disable-next-line no-console
      console.log(`[nginx tries] 9 GETs over 3 backends answering 503, tries ${tries}: ${attemptsMade} attempts`);
      expect(statuses).toEqual(Array(9).fill(503));
      expect(attemptsMade).toBe(9 * tries);
    });

    it('retries GET on the other backend but never re-sends a POST the failing backend received', async () => {
      const healthy = await backend('healthy');
      // Reads the request, then drops the connection: the request reached a backend but got no answer.
      const crashing = await backend('crashing', (req) => req.socket.destroy());
      const maxFails = 2;
      // Two upstreams over the same backends, so GETs and POSTs each start with a closed breaker.
      const servers = [{ host: LOOPBACK, port: healthy.port }, { host: LOOPBACK, port: crashing.port, maxFails, failTimeoutSeconds: 60 }];
      const httpPort = await port();
      const dir = writeConf('non-idempotent', {
        serverName: 'localhost', httpPort,
        upstreams: [{ name: 'reads', servers }, { name: 'writes', servers }],
        routes: [{ path: '/reads/', upstream: 'reads' }, { path: '/writes/', upstream: 'writes' }],
      });
      await start(dir, httpPort);

      const gets: number[] = [];
      for (let i = 0; i < 10; i++) gets.push((await request({ port: httpPort, path: '/reads/x' })).status);
      expect(gets).toEqual(Array(10).fill(200));
      // Each GET that reached the crashing backend was retried and counted; after maxFails it is left out.
      expect(crashing.requests).toBe(maxFails);

      const posts: number[] = [];
      for (let i = 0; i < 10; i++) posts.push((await request({ port: httpPort, path: '/writes/x', method: 'POST' })).status);
      // eslint-disable-next-line no-console
      console.log(`[nginx non-idempotent] GET statuses ${JSON.stringify(gets)}; POST statuses ${JSON.stringify(posts)}`);
      // A POST that reached the crashing backend is answered 502, not replayed elsewhere; the
      // circuit breaker bounds these failures to maxFails.
      expect(posts.filter((s) => s === 502)).toHaveLength(maxFails);
      expect(posts.filter((s) => s === 200)).toHaveLength(10 - maxFails);
      expect(crashing.requests).toBe(2 * maxFails);
    });
  });

  /**
   * A route takes its path and the sub-paths under it, nothing else: `location = /p` and
   * `location /p/`. A bare prefix `location /p` (what was rendered before) sends "/pXYZ" there too.
   */
  describe('exact routes', () => {
    it('a route answers its path, its sub-paths (query strings kept) and nothing else; a longer route under it wins its own sub-paths', async () => {
      const echo = (name: string): Parameters<typeof startBackend>[2] => (req, res) => {
        req.resume();
        res.setHeader('content-type', 'text/plain');
        res.end(`${name} ${req.url}`);
      };
      const orders = await backend('orders', echo('orders'));
      const admin = await backend('admin', echo('admin'));
      const httpPort = await port();
      const dir = writeConf('exact-routes', {
        serverName: 'localhost', httpPort,
        upstreams: [{ name: 'orders', servers: [{ host: LOOPBACK, port: orders.port }] }, { name: 'admin', servers: [{ host: LOOPBACK, port: admin.port }] }],
        // "/v1/export/" with its trailing slash is the same route as "/v1/export".
        routes: [{ path: '/v1/orders', upstream: 'orders' }, { path: '/v1/orders/admin', upstream: 'admin' }, { path: '/v1/export/', upstream: 'orders' }],
      });
      await start(dir, httpPort);
      const cases: Array<[string, string]> = [
        ['/v1/orders', '200 orders /v1/orders'],
        ['/v1/orders/', '200 orders /v1/orders/'],
        ['/v1/orders/123?x=1', '200 orders /v1/orders/123?x=1'],
        ['/v1/orders?x=1&y=2', '200 orders /v1/orders?x=1&y=2'],
        ['/v1/ordersXYZ', '404'],
        ['/v1/orders-evil', '404'],
        ['/v1/orders.json', '404'],
        ['/v1/orders/admin', '200 admin /v1/orders/admin'],
        ['/v1/orders/admin/7?full=1', '200 admin /v1/orders/admin/7?full=1'],
        // Not under "/v1/orders/admin/": a sub-path of "/v1/orders".
        ['/v1/orders/adminXYZ', '200 orders /v1/orders/adminXYZ'],
        // No 301 to "/v1/export/": the exact location answers the path itself.
        ['/v1/export', '200 orders /v1/export'],
        ['/v1/export/2026', '200 orders /v1/export/2026'],
        ['/v1/exportXYZ', '404'],
      ];
      const got: Array<[string, string]> = [];
      for (const [urlPath] of cases) {
        const r = await request({ port: httpPort, path: urlPath });
        if (r.status === 404) {
          expect({ urlPath, type: r.headers['content-type'], body: JSON.parse(r.body) }).toEqual({ urlPath, type: 'application/json', body: { error: 'no route for this path' } });
          got.push([urlPath, '404']);
        } else {
          got.push([urlPath, `${r.status} ${r.body}`]);
        }
      }
      // eslint-disable-next-line no-console
      console.log(`[nginx exact routes] ${got.map(([p, r]) => `${p} -> ${r.split(' ').slice(0, 2).join(' ')}`).join('; ')}`);
      expect(got).toEqual(cases);
      expect(orders.requests + admin.requests).toBe(cases.filter(([, r]) => r !== '404').length);
    });
  });

  /**
   * What nginx answers itself is JSON, {"error","status"} with the request id; a backend's own
   * answers pass through as they are. Each case here would get nginx's HTML page, or the wrong
   * status, if the error_page wiring or its maps were rendered wrong.
   */
  describe('machine-readable refusals', () => {
    const expectRefusal = (r: Reply, status: number, retryAfter: string | undefined) => {
      expect({ status: r.status, type: r.headers['content-type'], body: JSON.parse(r.body), retryAfter: r.headers['retry-after'] })
        .toEqual({ status, type: 'application/json', body: { error: expect.any(String), status }, retryAfter });
      expect(r.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$|^req-/);
    };

    it('429 beyond the rate limit: JSON with Retry-After of one token of the zone, after which a request passes again', async () => {
      const api = await backend('refusal-429');
      const httpPort = await port();
      const dir = writeConf('refusal-429', {
        serverName: 'localhost', httpPort, responseHeaders: { 'X-Content-Type-Options': 'nosniff' },
        rateLimits: [{ name: 'fast', ratePerSecond: 10, burst: 5, nodelay: true }, { name: 'slow', ratePerMinute: 20, burst: 2, nodelay: true }],
        defaultRateLimit: 'fast',
        upstreams: [{ name: 'api', servers: [{ host: LOOPBACK, port: api.port }] }],
        routes: [{ path: '/fast', upstream: 'api' }, { path: '/slow', upstream: 'api', rateLimit: 'slow' }],
      });
      await start(dir, httpPort);
      const fast = await simultaneous(httpPort, '/fast/x', 40);
      const slow = await simultaneous(httpPort, '/slow/x', 20);
      const refusedFast = fast.replies.filter((r) => r.status === 429);
      const refusedSlow = slow.replies.filter((r) => r.status === 429);
      // 20 r/m: a token every 3 s. Retry-After says so; one request passes after it, none before.
      const early = await request({ port: httpPort, path: '/slow/early' });
      await sleep(Number(refusedSlow[0]?.headers['retry-after'] ?? 0) * 1000 + 100);
      const after = await request({ port: httpPort, path: '/slow/after', headers: { 'x-request-id': 'req-after' } });
      const again = await request({ port: httpPort, path: '/slow/again', headers: { 'x-request-id': 'req-again' } });
      // eslint-disable-next-line no-console
      console.log(`[nginx 429 JSON] fast zone ${JSON.stringify(fast.counts)} Retry-After ${refusedFast[0]?.headers['retry-after']}; ` +
        `slow zone ${JSON.stringify(slow.counts)} Retry-After ${refusedSlow[0]?.headers['retry-after']}; right after: ${early.status}, ` +
        `after Retry-After: ${after.status}, then ${again.status}; body ${refusedFast[0]?.body}`);
      expect(refusedFast.length).toBeGreaterThanOrEqual(30);
      expect(refusedSlow.length).toBe(17);
      for (const r of refusedFast) expectRefusal(r, 429, '1');
      for (const r of refusedSlow) expectRefusal(r, 429, '3');
      // The server's own response headers stay on the refusal (add_header there replaces them).
      expect(refusedFast[0].headers['x-content-type-options']).toBe('nosniff');
      expect(early.status).toBe(429);
      expect(after.status).toBe(200);
      expectRefusal(again, 429, '3');
      expect(again.headers['x-request-id']).toBe('req-again');
    });

    it('503 with Retry-After when no backend takes the connection (nothing listening), at once and once the health check left them all out; POST too', async () => {
      const [downA, downB, downC] = await freePorts(3); // registered, never listened on
      const httpPort = await port();
      const dir = writeConf('refusal-503', {
        serverName: 'localhost', httpPort,
        upstreams: [
          { name: 'pair', servers: [downA, downB].map((p) => ({ host: LOOPBACK, port: p, maxFails: 1, failTimeoutSeconds: 60 })) },
          { name: 'single', servers: [{ host: LOOPBACK, port: downC }] },
        ],
        routes: [{ path: '/pair', upstream: 'pair' }, { path: '/single', upstream: 'single' }],
      });
      await start(dir, httpPort);
      let logged = accessLog(dir).length;
      const pair: Reply[] = [];
      for (let i = 0; i < 4; i++) pair.push(await request({ port: httpPort, path: `/pair/${i}` }));
      const pairLog = await accessLogAfter(dir, logged, 4);
      logged = accessLog(dir).length;
      const single: Reply[] = [];
      for (let i = 0; i < 3; i++) single.push(await request({ port: httpPort, path: `/single/${i}` }));
      const post = await request({ port: httpPort, path: '/single/post', method: 'POST', headers: { 'x-request-id': 'req-post' } });
      await accessLogAfter(dir, logged, 4);
      // eslint-disable-next-line no-console
      console.log(`[nginx 503 JSON] two servers down: ${pair.map((r) => r.status).join(' ')} (upstream_addr ${pairLog.map((l) => l.upstream_addr).join(' | ')}); ` +
        `one server down: ${single.map((r) => r.status).join(' ')}; POST ${post.status}; Retry-After ${pair[0].headers['retry-after']}; body ${pair[0].body}`);
      // The first request tried both servers (each refused); after that the health check left
      // both out and nginx found no live upstream (it logs the group's name as the address).
      expect(pairLog.map(attempts)).toEqual([[`${LOOPBACK}:${downA}`, `${LOOPBACK}:${downB}`], ['pair'], ['pair'], ['pair']]);
      for (const r of [...pair, ...single, post]) expectRefusal(r, 503, '5');
      expect(post.headers['x-request-id']).toBe('req-post');
    });

    it('502 JSON (no Retry-After) when a backend took the request and broke its response; a backend\'s own 502 passes through untouched', async () => {
      const crashing = await backend('refusal-crash', (req) => req.socket.destroy());
      const own = await backend('refusal-own-502', (req, res) => {
        req.resume();
        res.statusCode = 502;
        res.setHeader('content-type', 'text/plain');
        res.setHeader('x-backend', 'own');
        res.end('the backend says: upstream payment provider failed');
      });
      const httpPort = await port();
      const dir = writeConf('refusal-502', {
        serverName: 'localhost', httpPort,
        upstreams: [{ name: 'crash', servers: [{ host: LOOPBACK, port: crashing.port }] }, { name: 'own', servers: [{ host: LOOPBACK, port: own.port }] }],
        routes: [{ path: '/crash', upstream: 'crash' }, { path: '/own', upstream: 'own' }],
      });
      await start(dir, httpPort);
      const broken = await request({ port: httpPort, path: '/crash/1' });
      const passed = await request({ port: httpPort, path: '/own/1' });
      // eslint-disable-next-line no-console
      console.log(`[nginx 502] broken response: ${broken.status} ${broken.body}; backend's own: ${passed.status} ${passed.headers['content-type']} "${passed.body}"`);
      expectRefusal(broken, 502, undefined);
      expect({ status: passed.status, type: passed.headers['content-type'], backend: passed.headers['x-backend'], body: passed.body, retryAfter: passed.headers['retry-after'] })
        .toEqual({ status: 502, type: 'text/plain', backend: 'own', body: 'the backend says: upstream payment provider failed', retryAfter: undefined });
    });

    it('504 JSON when the backend does not answer within the read timeout', async () => {
      const silent = await backend('refusal-silent', (req) => req.resume()); // never answers
      const httpPort = await port();
      const dir = writeConf('refusal-504', {
        serverName: 'localhost', httpPort, timeouts: { connectSeconds: 1, readSeconds: 1, sendSeconds: 1 },
        upstreams: [{ name: 'silent', servers: [{ host: LOOPBACK, port: silent.port }] }],
        routes: [{ path: '/silent', upstream: 'silent' }],
      });
      await start(dir, httpPort);
      const r = await timed({ port: httpPort, path: '/silent/1', headers: { 'x-request-id': 'req-timeout' } });
      // eslint-disable-next-line no-console
      console.log(`[nginx 504 JSON] ${r.status} after ${Math.round(r.ms)} ms: ${r.body}`);
      expectRefusal(r, 504, undefined);
      expect(r.headers['x-request-id']).toBe('req-timeout');
      expect(r.ms).toBeGreaterThanOrEqual(950);
    });
  });

  /**
   * Issue 16, item 4: rollouts without 502s. The gateway's upstream idle timeout is below the
   * services' own, and a service's pod keeps serving (preStop) until the gateway can no longer be
   * sending it requests.
   */
  describe('no failed requests during rollouts', () => {
    /**
     * A backend whose idle timeout is 5 s, with the race made certain: a connection idle for 5 s
     * is closed as the next request on it arrives (the backend's FIN crosses nginx's request, the
     * worst case of the race between the two idle timers). Such a request gets no answer.
     */
    async function idleClosingBackend(name: string, idleMs: number): Promise<Backend & { dropped: number }> {
      const idleSince = new WeakMap<net.Socket, number>();
      const b = await backend(name, (req, res) => {
        const since = idleSince.get(req.socket);
        if (since !== undefined && performance.now() - since >= idleMs) {
          dropped.dropped++;
          req.socket.destroy();
          return;
        }
        req.resume();
        res.on('finish', () => idleSince.set(req.socket, performance.now()));
        res.end(`${name} ${req.method}`);
      });
      const dropped = Object.assign(b, { dropped: 0 });
      return dropped;
    }

    it(`the default upstream keepalive_timeout (${UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS} s) closes idle connections before a service with a 5 s idle timeout does: a POST after a pause is answered (nginx's 60 s: 502)`, async () => {
      const idleMs = 5000;
      const run = async (name: string, keepaliveTimeoutSeconds: number) => {
        const svc = await idleClosingBackend(`idle-${name}`, idleMs);
        const httpPort = await port();
        const dir = writeConf(`idle-${name}`, {
          serverName: 'localhost', httpPort,
          upstreams: [{ name: 'svc', servers: [{ host: LOOPBACK, port: svc.port }], keepaliveTimeoutSeconds }],
          routes: [{ path: '/svc', upstream: 'svc' }],
        });
        await start(dir, httpPort);
        // One worker may hold the connection: send everything on one client connection.
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          const warm = await request({ port: httpPort, path: '/svc/warm', agent });
          await sleep(idleMs + 500);
          const post = await request({ port: httpPort, path: '/svc/order', method: 'POST', agent });
          await sleep(idleMs + 500);
          const get = await request({ port: httpPort, path: '/svc/list', agent });
          return { warm: warm.status, post: post.status, get: get.status, dropped: svc.dropped, connections: svc.connections };
        } finally {
          agent.destroy();
        }
      };
      const [ours, nginxDefault] = await Promise.all([run('ours', UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS), run('nginx-default', 60)]);
      // eslint-disable-next-line no-console
      console.log(`[nginx upstream idle timeout] backend closes idle connections at 5 s; keepalive_timeout ${UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS}s: ${JSON.stringify(ours)}; 60s: ${JSON.stringify(nginxDefault)}`);
      expect(ours).toEqual({ warm: 200, post: 200, get: 200, dropped: 0, connections: 3 });
      // The control: nginx reuses the connection the backend is closing, and does not re-send the
      // POST the backend may have received: 502. (That connection is gone then: the GET opens a new one.)
      expect(nginxDefault).toEqual({ warm: 200, post: 502, get: 200, dropped: 1, connections: 2 });
    });

    /**
     * A rolling replacement of a service's pods, as Kubernetes does it, on the time scale of the
     * constants divided by 10: a new pod starts; the old one leaves the endpoints and begins its
     * preStop pause (SERVICE_STOP_DELAY_SECONDS); nginx learns the new addresses at the latest
     * its resolver validity later (GATEWAY_RESOLVER_VALID_SECONDS; nginx 1.22 has no upstream
     * `resolve`, so a reload with the new server list stands in for the re-resolution); after the
     * pause the old pod gets SIGTERM and closes (in-flight requests finish, idle connections close).
     */
    it('a rolling replacement of every pod under steady GET and POST traffic: no request fails, none is sent to a stopped pod', async () => {
      const scale = 0.1;
      const validMs = GATEWAY_RESOLVER_VALID_SECONDS * 1000 * scale;
      const preStopMs = SERVICE_STOP_DELAY_SECONDS * 1000 * scale;
      interface Pod { name: string; port: number; server: http.Server; stopped: boolean; handled: number; afterStop: number }
      const pods: Pod[] = [];
      const startPod = async (name: string): Promise<Pod> => {
        const podPort = await port();
        const pod: Pod = { name, port: podPort, server: http.createServer((req, res) => {
          pod.handled++;
          if (pod.stopped) pod.afterStop++;
          req.resume();
          res.end(name);
        }), stopped: false, handled: 0, afterStop: 0 };
        pod.server.keepAliveTimeout = 5000; // Node's default
        await new Promise<void>((resolve) => pod.server.listen(podPort, LOOPBACK, resolve));
        pods.push(pod);
        return pod;
      };
      // SIGTERM: stop accepting, finish in-flight requests, close idle connections; what is still
      // open after the grace period (30 s, scaled) is cut, as the kubelet's SIGKILL would.
      const stopPod = async (pod: Pod) => {
        pod.stopped = true;
        const closed = new Promise<void>((resolve) => pod.server.close(() => resolve()));
        pod.server.closeIdleConnections();
        await Promise.race([closed, sleep(30_000 * scale)]);
        pod.server.closeAllConnections();
        await closed;
      };
      const httpPort = await port();
      const spec = (live: Pod[]): WorkspaceSpec => ({
        serverName: 'localhost', httpPort,
        upstreams: [{ name: 'svc', servers: live.map((p) => ({ host: LOOPBACK, port: p.port, maxFails: 3, failTimeoutSeconds: 10 })), keepaliveTimeoutSeconds: UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS }],
        routes: [{ path: '/svc', upstream: 'svc' }],
      });
      let live = [await startPod('old-1'), await startPod('old-2')];
      const dir = writeConf('rollout', spec(live));
      const confPath = path.join(dir, 'nginx.conf');
      await start(dir, httpPort);
      const reload = () => {
        fs.writeFileSync(confPath, renderNginxConf({ nginxVersion, listenAddress: LOOPBACK, runtimeDir: dir, accessLogPath: path.join(dir, 'access.log'), ...spec(live) }));
        const r = spawnSync(nginx, ['-p', dir, '-c', confPath, '-s', 'reload'], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`nginx -s reload failed: ${r.stderr}`);
      };

      // Steady traffic: 4 clients, each alternating GET and POST, a connection per request.
      const replies: Array<{ method: string; status: number; body: string }> = [];
      let rolling = true;
      const client = async () => {
        for (let i = 0; rolling; i++) {
          const method = i % 2 ? 'POST' : 'GET';
          const r = await request({ port: httpPort, path: `/svc/${i}`, method, agent: false }).catch((e: Error) => ({ status: 0, body: e.message, headers: {} }));
          replies.push({ method, status: r.status, body: r.body });
          await sleep(5);
        }
      };
      const logged = accessLog(dir).length;
      const clients = Array.from({ length: 4 }, client);
      await sleep(300);
      for (const [i, old] of [...live].entries()) {
        const next = await startPod(`new-${i + 1}`);
        // The old pod leaves the endpoints and starts its preStop pause; nginx sees the change at
        // the latest validMs later.
        const stopping = sleep(preStopMs).then(() => stopPod(old));
        live = [...live.filter((p) => p !== old), next];
        await sleep(validMs);
        reload();
        await stopping;
        await sleep(300);
      }
      rolling = false;
      await Promise.all(clients);
      const lines = await accessLogAfter(dir, logged, replies.length);
      const failed = replies.filter((r) => r.status !== 200);
      const retried = lines.filter((l) => attempts(l).length > 1);
      const by = (m: string) => replies.filter((r) => r.method === m).length;
      // eslint-disable-next-line no-console
      console.log(`[nginx rollout] preStop ${preStopMs} ms, resolver validity ${validMs} ms (constants / 10): ${by('GET')} GETs and ${by('POST')} POSTs while 2 pods were replaced; ` +
        `failed ${failed.length}, 502 ${failed.filter((r) => r.status === 502).length}, retried ${retried.length}; served ${pods.map((p) => `${p.name} ${p.handled}${p.afterStop ? ` (${p.afterStop} after stop)` : ''}`).join(', ')}`);
      expect(by('GET')).toBeGreaterThan(50);
      expect(by('POST')).toBeGreaterThan(50);
      expect(failed).toEqual([]);
      // No attempt went to a pod that had stopped (it would have been refused and retried), and the new pods took over.
      expect(retried.map((l) => l.upstream_addr)).toEqual([]);
      expect(pods.map((p) => p.afterStop)).toEqual(pods.map(() => 0));
      expect(pods.filter((p) => p.name.startsWith('new-')).every((p) => p.handled > 0)).toBe(true);
      await Promise.all(pods.filter((p) => !p.stopped).map(stopPod));
    });
  });

  describe('TLS', () => {
    it('serves routes over https with HSTS, redirects plain http, keeps health on http', async () => {
      const api = await backend('tls-backend');
      const httpPort = await port();
      const httpsPort = await port();
      const dir = writeConf('tls', (d) => ({
        serverName: 'localhost', httpPort, httpsPort, tls: { ...selfSignedCert(d), publicHttpsPort: httpsPort },
        upstreams: [{ name: 'api', servers: [{ host: LOOPBACK, port: api.port }] }],
        routes: [{ path: '/v1/', upstream: 'api' }],
      }));
      await start(dir, httpsPort);

      const secure = await request({ port: httpsPort, path: '/v1/orders', rejectUnauthorized: false, servername: 'localhost' }, true);
      expect(secure.status).toBe(200);
      expect(secure.body).toBe('tls-backend');
      expect(secure.headers['strict-transport-security']).toBe('max-age=63072000');
      expect(secure.headers.server).toBe('nginx');

      const plain = await request({ port: httpPort, path: '/v1/orders?x=1' });
      expect(plain.status).toBe(301);
      expect(plain.headers.location).toBe(`https://${LOOPBACK}:${httpsPort}/v1/orders?x=1`);
      expect((await request({ port: httpPort, path: '/healthz' })).body).toBe('ok\n');
      expect((await request({ port: httpsPort, path: '/nowhere', rejectUnauthorized: false }, true)).status).toBe(404);
      expect(api.requests).toBe(1);
    });
  });
});
