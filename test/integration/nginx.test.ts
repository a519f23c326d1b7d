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
import { NginxConfSpec } from '../../lib/gateway/nginx-spec';
import { renderNginxConf } from '../../lib/gateway/render-nginx-conf';
import { coerceVersion, semver } from '../../lib/util/versions';
import { describeWithServer, findBinary, freePort, freePorts, makeWorkDir, stopProcess, waitForPort } from './support/real-servers';

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

/**
 * Sends n requests at the same instant from this one process: all TCP connections are opened
 * first, then every request is written in the same tick. Returns the statuses counted, and how
 * long nginx had at most to work through them (first write to last reply).
 */
async function simultaneous(port: number, urlPath: string, n: number): Promise<{ counts: Record<number, number>; spanMs: number }> {
  const sockets = await Promise.all(Array.from({ length: n }, () => new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect(port, LOOPBACK, () => resolve(socket));
    socket.once('error', reject);
  })));
  const started = performance.now();
  const statuses = await Promise.all(sockets.map((socket) =>
    request({ port, path: urlPath, headers: { connection: 'close' }, createConnection: () => socket }).then((r) => r.status)));
  const spanMs = performance.now() - started;
  const counts: Record<number, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return { counts, spanMs };
}

describeWithServer('nginx', findBinary(['/usr/sbin/nginx', 'nginx']), 'nginx renders run on the real server', (nginx) => {
  let workDir: string;
  let nginxVersion: string;
  const running: ChildProcess[] = [];
  const backends: Backend[] = [];
  const port = freePort;

  beforeAll(() => {
    workDir = makeWorkDir('nginx');
    // Workers run as "nobody" when the master is root: they must reach the temp folders.
    fs.chmodSync(workDir, 0o755);
    const version = /nginx\/(\S+)/.exec(spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr)?.[1];
    if (!version) throw new Error('could not read the version from `nginx -v`');
    nginxVersion = version;
  });

  afterAll(async () => {
    try {
      // By PID: SIGTERM, then SIGKILL if a master has not exited within 3 s.
      await Promise.all(running.map((child) => stopProcess(child)));
      await Promise.all(backends.map((b) => b.stop()));
    } finally {
      if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  async function backend(name: string, onRequest?: Parameters<typeof startBackend>[2]): Promise<Backend> {
    const b = await startBackend(name, await port(), onRequest);
    backends.push(b);
    return b;
  }

  type TestSpec = Omit<NginxConfSpec, 'nginxVersion'> & { nginxVersion?: string };

  /**
   * Renders the spec into its own folder, with every runtime file inside it, and returns the folder.
   * A function spec gets the folder first (to create certificates there).
   */
  function writeConf(name: string, spec: TestSpec | ((dir: string) => TestSpec)): string {
    const dir = path.join(workDir, name);
    fs.mkdirSync(dir, { mode: 0o755 });
    const conf = renderNginxConf({
      nginxVersion,
      listenAddress: LOOPBACK,
      runtimeDir: dir,
      accessLogPath: path.join(dir, 'access.log'),
      ...(typeof spec === 'function' ? spec(dir) : spec),
    });
    fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
    return dir;
  }

  function check(dir: string): { ok: boolean; output: string } {
    const r = spawnSync(nginx, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
    return { ok: r.status === 0, output: r.stderr };
  }

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

  describe('failover (passive health checks + proxy_next_upstream)', () => {
    it('keeps answering when one backend stops', async () => {
      const a = await backend('fail-a');
      const b = await backend('fail-b');
      const httpPort = await port();
      const dir = writeConf('failover', {
        serverName: 'localhost', httpPort,
        upstreams: [{ name: 'svc', servers: [{ host: LOOPBACK, port: a.port }, { host: LOOPBACK, port: b.port }] }],
        routes: [{ path: '/svc/', upstream: 'svc' }],
      });
      await start(dir, httpPort);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      const send = async (n: number) => {
        const replies = await Promise.all(Array.from({ length: n }, (_, i) => request({ port: httpPort, path: `/svc/${i}`, agent })));
        return { failures: replies.filter((r) => r.status !== 200).length, bodies: replies.map((r) => r.body) };
      };
      try {
        const before = await send(20);
        expect(before.failures).toBe(0);
        expect(new Set(before.bodies)).toEqual(new Set(['fail-a', 'fail-b']));

        await b.stop();
        const servedByA = a.requests;
        const after = await send(200);
        // eslint-disable-next-line no-console
        console.log(`[nginx failover] client-visible failures after stopping one of two backends: ${after.failures} of 200`);
        expect(after.failures).toBe(0);
        expect(new Set(after.bodies)).toEqual(new Set(['fail-a']));
        expect(a.requests - servedByA).toBe(200);
      } finally {
        agent.destroy();
      }
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
