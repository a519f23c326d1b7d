/**
 * What NginxGateway composes, on the real nginx: services deployed with MicroService, routes
 * added after construction, TLS and a gateway rate limit, rendered by the construct for the
 * installed nginx version on a LoopbackTarget whose services are real node backends on
 * 127.0.0.1. Only listen addresses, file locations and the error log are moved into a temp
 * folder; every other line is the construct's.
 *
 * Free ports from the registry only, so two checkouts can run this at once.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { MicroService, NginxGateway, OSLO_REGION, ResidencyGuard } from '../../lib';
import { LoopbackTarget } from '../fixtures/loopback-target';
import { describeWithServer, findBinary, freePorts, makeWorkDir, sleep, stopProcess, waitForPort } from './support/real-servers';

jest.setTimeout(60000);

/** Free ports, taken in beforeAll. */
const PORTS = { orders: 0, invoices: 0, http: 0, https: 0, stubStatus: 0 };

interface Reply { status: number; body: string; headers: http.IncomingHttpHeaders }

function request(url: string, agent?: http.Agent, headers?: http.OutgoingHttpHeaders): Promise<Reply> {
  const get = url.startsWith('https') ? https.get : http.get;
  return new Promise((resolve, reject) => {
    get(url, { agent, headers, rejectUnauthorized: false } as https.RequestOptions, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    }).on('error', reject);
  });
}

describeWithServer('nginx', findBinary(['/usr/sbin/nginx', 'nginx']), 'NginxGateway output on the real nginx', (nginx) => {
  let dir = '';
  let server: ChildProcess | undefined;
  const backends: http.Server[] = [];

  beforeAll(async () => {
    dir = makeWorkDir('nginx-gateway');
    [PORTS.orders, PORTS.invoices, PORTS.http, PORTS.https, PORTS.stubStatus] = await freePorts(5);
    // `nginx -v` prints to stderr; render for the nginx that will run it.
    const version = /nginx\/([0-9.]+)/.exec(spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr)?.[1];
    expect(version).toBeDefined();

    // Two services answering with their own name.
    for (const name of ['orders', 'invoices'] as const) {
      const backend = http.createServer((req, res) => {
        // What the backend was sent, for the header check below.
        res.setHeader('x-seen', JSON.stringify({ httpVersion: req.httpVersion, headers: req.headers }));
        res.end(`${name} ${req.url} ${req.headers['x-forwarded-proto']}`);
      });
      await new Promise<void>((r) => backend.listen(PORTS[name], '127.0.0.1', r));
      backends.push(backend);
    }

    const stack = new TerraformStack(Testing.app({ stackTraces: false }), 'live');
    ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
    const target = new LoopbackTarget(stack, 'loopback', { orders: PORTS.orders, invoices: PORTS.invoices });
    const gateway = new NginxGateway(stack, 'gateway', {
      target, serverName: 'api.example.no', nginxVersion: version!, tls: { secretName: 'api-tls' },
      rateLimit: { perSecond: 10, burst: 20 },
    });
    for (const name of ['orders', 'invoices']) {
      const service = new MicroService(stack, name, { target, name, image: `registry.example.no/${name}:1.0.0`, port: 8080 });
      // invoices with a rate limit of its own: its location sets limit_req, and inherits the rest.
      gateway.addRoute({ path: `/v1/${name}`, service: service.workload, port: 8080, rateLimit: name === 'invoices' ? { perSecond: 100, burst: 50 } : undefined });
    }
    // The edges the gateway opened, as the target saw them.
    expect(target.realized.get('orders')!.ingress).toEqual([{ from: { workload: 'gateway' }, ports: [8080] }]);

    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=api.example.no',
      '-keyout', path.join(dir, 'tls.key'), '-out', path.join(dir, 'tls.crt')], { stdio: 'ignore' });
    const conf = gateway.renderConfig()
      .replace('listen 8443 ssl', `listen 127.0.0.1:${PORTS.https} ssl`)
      .replace('listen 8080;', `listen 127.0.0.1:${PORTS.http};`)
      // The metrics exporter's stub_status server (loopback already), moved off its fixed port.
      .replace('listen 127.0.0.1:8082;', `listen 127.0.0.1:${PORTS.stubStatus};`)
      // /tmp first: the work folder itself may live under /tmp.
      .replace(/ \/tmp\//g, ` ${dir}/`)
      .replace(/\/etc\/nginx\/tls\//g, `${dir}/`)
      .replace('error_log /dev/stderr', `error_log ${dir}/error.log`)
      .replace('access_log /dev/stdout', `access_log ${dir}/access.log`);
    fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
    execFileSync(nginx, ['-t', '-q', '-p', dir, '-c', path.join(dir, 'nginx.conf')]);
    server = spawn(nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    await waitForPort(PORTS.https);
  });

  afterAll(async () => {
    try {
      await stopProcess(server, 'SIGQUIT'); // graceful, by PID; SIGKILL after 3 s
      await Promise.all(backends.map((b) => new Promise((r) => b.close(r))));
    } finally {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('routes each path to its own service over TLS, with forwarding headers', async () => {
    expect(await request(`https://127.0.0.1:${PORTS.https}/v1/orders/42`)).toEqual(expect.objectContaining({ status: 200, body: 'orders /v1/orders/42 https' }));
    expect(await request(`https://127.0.0.1:${PORTS.https}/v1/invoices`)).toEqual(expect.objectContaining({ status: 200, body: 'invoices /v1/invoices https' }));
    const unrouted = await request(`https://127.0.0.1:${PORTS.https}/v2/nothing`);
    expect(unrouted.status).toBe(404);
    expect(JSON.parse(unrouted.body)).toEqual({ error: 'no route for this path' });
    // A route takes its path and sub-paths, not every path that starts with it.
    expect(await request(`https://127.0.0.1:${PORTS.https}/v1/orders?page=2`)).toEqual(expect.objectContaining({ status: 200, body: 'orders /v1/orders?page=2 https' }));
    for (const leak of ['/v1/ordersXYZ', '/v1/orders-evil', '/v1/invoices.csv']) {
      const r = await request(`https://127.0.0.1:${PORTS.https}${leak}`);
      expect({ leak, status: r.status, body: r.body }).toEqual({ leak, status: 404, body: '{"error":"no route for this path"}' });
    }
  });

  it('sends every proxy header the routes inherit from the server, over HTTP/1.1 keepalive, on every route', async () => {
    // The route locations set none of these themselves.
    for (const name of ['orders', 'invoices']) {
      const given = await request(`https://127.0.0.1:${PORTS.https}/v1/${name}`, undefined, { host: 'api.example.no', 'x-request-id': 'req-1', 'x-forwarded-for': '203.0.113.7' });
      const minted = await request(`https://127.0.0.1:${PORTS.https}/v1/${name}`, undefined, { host: 'api.example.no' });
      const [a, b] = [given, minted].map((r) => {
        expect(r.status).toBe(200);
        return JSON.parse(String(r.headers['x-seen'])) as { httpVersion: string; headers: http.IncomingHttpHeaders };
      });
      for (const seen of [a, b]) {
        expect({ name, httpVersion: seen.httpVersion, connection: seen.headers.connection }).toEqual({ name, httpVersion: '1.1', connection: undefined });
        expect({ name, ...seen.headers }).toMatchObject({ name, host: 'api.example.no', 'x-real-ip': '127.0.0.1', 'x-forwarded-proto': 'https' });
      }
      expect(a.headers).toMatchObject({ 'x-request-id': 'req-1', 'x-forwarded-for': '127.0.0.1' });
      expect(b.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('answers stub_status (for the metrics exporter) on its loopback server only, never on the public listeners', async () => {
    const status = await request(`http://127.0.0.1:${PORTS.stubStatus}/stub_status`);
    expect(status.status).toBe(200);
    expect(status.body).toMatch(/^Active connections: \d+/);
    expect((await request(`https://127.0.0.1:${PORTS.https}/stub_status`)).body).not.toMatch(/Active connections/);
    expect((await request(`http://127.0.0.1:${PORTS.http}/stub_status`)).body).not.toMatch(/Active connections/);
  });

  it('redirects plain HTTP to HTTPS, answers the probe on HTTP, and sends HSTS', async () => {
    const plain = await request(`http://127.0.0.1:${PORTS.http}/v1/orders`);
    expect(plain.status).toBe(301);
    expect(plain.headers.location).toBe('https://127.0.0.1/v1/orders');
    expect((await request(`http://127.0.0.1:${PORTS.http}/healthz`)).status).toBe(200);
    expect((await request(`https://127.0.0.1:${PORTS.https}/v1/orders`)).headers['strict-transport-security']).toBe('max-age=63072000');
  });

  it('answers 429 beyond the rate limit', async () => {
    await sleep(2500); // let the bucket refill after the requests above
    const agent = new https.Agent({ keepAlive: true, maxSockets: 100 });
    const started = performance.now();
    const replies = await Promise.all(Array.from({ length: 100 }, () => request(`https://127.0.0.1:${PORTS.https}/v1/orders`, agent)));
    const spanMs = performance.now() - started;
    agent.destroy();
    const counts = replies.reduce<Record<number, number>>((c, r) => ({ ...c, [r.status]: (c[r.status] ?? 0) + 1 }), {});
    // burst 20 nodelay: 21 pass at once. nginx refills a token every 100 ms (10 r/s) while the 100
    // TLS handshakes go on: at most one more per 100 ms the whole burst took (a loaded machine
    // takes longer), and never less slack than the 3 this test has always allowed.
    const refills = Math.max(3, Math.floor(spanMs / 100));
    console.log(`[gateway rate limit over TLS] ${JSON.stringify(counts)} in ${Math.round(spanMs)} ms (tokens refilled meanwhile: at most ${refills})`);
    expect(counts[200]).toBeGreaterThanOrEqual(21);
    expect(counts[200]).toBeLessThanOrEqual(21 + refills);
    expect(counts[429]).toBe(100 - counts[200]);
    // Refused as JSON, with when to come back (10 r/s: a token a second, rounded up), the request
    // id and the server's HSTS.
    for (const r of replies.filter((x) => x.status === 429)) {
      expect({ body: JSON.parse(r.body), type: r.headers['content-type'], retryAfter: r.headers['retry-after'], hsts: r.headers['strict-transport-security'] })
        .toEqual({ body: { error: 'too many requests', status: 429 }, type: 'application/json', retryAfter: '1', hsts: 'max-age=63072000' });
      expect(r.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});

