/**
 * Day-two behaviour of the gateway on the real nginx (127.0.0.1, free ports from the registry):
 * real client addresses (X-Forwarded-For set, not appended; PROXY protocol from a trusted peer),
 * certificate renewal reaching a running nginx, and worker processes sized from the CPU request.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { renderNginxCommand } from '../../lib/gateway/render-nginx-command';
import { nginxWorkspace, prepareNginx } from './support/nginx-workspace';
import { gatewayWorkerBudget } from '../../lib/gateway/worker-budget';
import { REQUIRE_REAL_SERVERS, describeWithServer, findBinary, freePorts, sleep, stopProcess, waitForPort } from './support/real-servers';

jest.setTimeout(60000);

const LOOPBACK = '127.0.0.1';

/** What a backend was sent. */
interface Seen { url: string; headers: http.IncomingHttpHeaders }

describeWithServer('nginx', findBinary(['/usr/sbin/nginx', 'nginx']), 'gateway day-two operations on the real nginx', (nginx) => {
  let workDir = '';
  let nginxVersion = '';
  const running: ChildProcess[] = [];
  const backends: http.Server[] = [];

  beforeAll(() => {
    ({ workDir, nginxVersion } = prepareNginx(nginx, 'nginx-day-two'));
  });

  afterAll(async () => {
    try {
      await Promise.all(running.map((child) => stopProcess(child, 'SIGQUIT')));
      await Promise.all(backends.map((b) => new Promise<void>((r) => { b.close(() => r()); b.closeAllConnections(); })));
    } finally {
      if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  /** A backend that records what it is sent and answers 200. */
  async function recordingBackend(port: number): Promise<Seen[]> {
    const seen: Seen[] = [];
    const server = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      req.resume();
      res.end('ok');
    });
    backends.push(server);
    await new Promise<void>((r) => server.listen(port, LOOPBACK, r));
    return seen;
  }

  const { writeConf, check } = nginxWorkspace(() => ({ workDir, nginx, nginxVersion }));

  async function start(dir: string, probePort: number): Promise<ChildProcess> {
    const t = check(dir);
    if (!t.ok) throw new Error(`nginx -t failed:\n${t.output}`);
    const child = spawn(nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    running.push(child);
    await waitForPort(probePort);
    return child;
  }

  /** Sends raw bytes on a fresh connection and returns the whole reply (the request asks nginx to close). */
  function raw(port: number, bytes: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, LOOPBACK, () => socket.write(bytes));
      let reply = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (reply += c));
      socket.on('end', () => resolve(reply));
      socket.on('error', reject);
    });
  }

  const statusOf = (reply: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
  const get = (urlPath: string, headers: string[] = []) =>
    `GET ${urlPath} HTTP/1.1\r\nHost: api.example.no\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`;
  /** A PROXY protocol v1 line, as a load balancer writes it before the client's bytes. */
  const proxyLine = (client: string, port: number) => `PROXY TCP4 ${client} ${LOOPBACK} 40000 ${port}\r\n`;

  describe('real client addresses', () => {
    it('a client\'s own X-Forwarded-For never reaches the backend as given; from a trusted proxy, its right-most untrusted address is the client', async () => {
      const [backendPort, edgePort, untrustedPort, trustedPort] = await freePorts(4);
      const seen = await recordingBackend(backendPort);
      const base = { serverName: 'api.example.no', upstreams: [{ name: 'api', servers: [{ host: LOOPBACK, port: backendPort }] }], routes: [{ path: '/v1', upstream: 'api' }] };
      // At the edge (no proxies), behind proxies that are not this client, and behind this client as a trusted proxy.
      const edge = writeConf('xff-edge', { ...base, httpPort: edgePort });
      const untrusted = writeConf('xff-untrusted', { ...base, httpPort: untrustedPort, clientAddress: { trustedProxies: ['10.0.0.0/8', 'fd00::/8'] } });
      // 1 request a minute, burst 1: two pass at once per client address, the third is refused.
      const trusted = writeConf('xff-trusted', {
        ...base, httpPort: trustedPort, clientAddress: { trustedProxies: [`${LOOPBACK}/32`] },
        rateLimits: [{ name: 'api', ratePerMinute: 1, burst: 1, nodelay: true }], defaultRateLimit: 'api',
      });
      await Promise.all([start(edge, edgePort), start(untrusted, untrustedPort), start(trusted, trustedPort)]);

      const forged = 'X-Forwarded-For: 198.51.100.66';
      const got: Record<string, { status: number; xff: unknown; realIp: unknown }> = {};
      for (const [name, port, headers] of [
        ['edge, forged', edgePort, [forged]],
        ['untrusted peer, forged', untrustedPort, [forged]],
        ['trusted proxy appended the client', trustedPort, ['X-Forwarded-For: 198.51.100.66, 203.0.113.7']],
      ] as const) {
        seen.length = 0;
        const status = statusOf(await raw(port, get('/v1/x', [...headers])));
        got[name] = { status, xff: seen[0]?.headers['x-forwarded-for'], realIp: seen[0]?.headers['x-real-ip'] };
      }
      // The rate limit keys on that address: 203.0.113.7 has one request left, 203.0.113.8 a bucket of its own.
      const limited = [];
      for (const client of ['203.0.113.7', '203.0.113.7', '203.0.113.8']) {
        limited.push(statusOf(await raw(trustedPort, get('/v1/x', [`X-Forwarded-For: 198.51.100.66, ${client}`]))));
      }
      console.log(`[nginx client address] ${JSON.stringify(got)}; behind the trusted proxy, 203.0.113.7 x2 then 203.0.113.8: ${limited.join(',')}`);
      expect(limited).toEqual([200, 429, 200]);
      expect(got).toEqual({
        'edge, forged': { status: 200, xff: LOOPBACK, realIp: LOOPBACK },
        'untrusted peer, forged': { status: 200, xff: LOOPBACK, realIp: LOOPBACK },
        // 198.51.100.66 is what the client wrote itself; 203.0.113.7 is what the trusted proxy saw.
        'trusted proxy appended the client': { status: 200, xff: '203.0.113.7', realIp: '203.0.113.7' },
      });
    });

    it('PROXY protocol from a trusted peer sets the address the backend, the log and the rate limit see; probes use the health port', async () => {
      const [backendPort, httpPort, healthPort, untrustedPort, untrustedHealth] = await freePorts(5);
      const seen = await recordingBackend(backendPort);
      const base = {
        serverName: 'api.example.no',
        // 1 request a minute, burst 1: two pass at once per client address, the third is refused.
        rateLimits: [{ name: 'api', ratePerMinute: 1, burst: 1, nodelay: true }],
        defaultRateLimit: 'api',
        upstreams: [{ name: 'api', servers: [{ host: LOOPBACK, port: backendPort }] }],
        routes: [{ path: '/v1', upstream: 'api' }],
      };
      const dir = writeConf('proxy-protocol', { ...base, httpPort, healthPort, clientAddress: { proxyProtocol: true, trustedProxies: [LOOPBACK] } });
      const other = writeConf('proxy-protocol-untrusted', { ...base, httpPort: untrustedPort, healthPort: untrustedHealth, clientAddress: { proxyProtocol: true, trustedProxies: ['10.0.0.0/8'] } });
      await Promise.all([start(dir, healthPort), start(other, untrustedHealth)]);

      const statuses = async (port: number, client: string, n: number) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) out.push(statusOf(await raw(port, proxyLine(client, port) + get('/v1/x', ['X-Forwarded-For: 198.51.100.66']))));
        return out;
      };
      const a = await statuses(httpPort, '203.0.113.9', 3);
      const b = await statuses(httpPort, '203.0.113.10', 2);
      const seenAddresses = seen.map((s) => [s.headers['x-real-ip'], s.headers['x-forwarded-for']]);
      const logged = fs.readFileSync(path.join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { remote_addr: string }).remote_addr);
      // Without the PROXY line nginx refuses the connection; the health port answers plain HTTP.
      const bare = await raw(httpPort, get('/v1/x'));
      const health = await raw(healthPort, get('/healthz'));
      // From a peer that is not trusted, the header's address is ignored: everyone is 127.0.0.1.
      seen.length = 0;
      const untrusted = await statuses(untrustedPort, '203.0.113.11', 1);
      console.log(`[nginx PROXY protocol] client A ${a.join(',')}; client B ${b.join(',')}; backend saw ${JSON.stringify(seenAddresses)}; log ${logged.join(',')}; untrusted peer -> ${seen[0]?.headers['x-real-ip']}`);

      expect(a).toEqual([200, 200, 429]);
      expect(b).toEqual([200, 200]); // a bucket of its own
      expect(seenAddresses).toEqual([
        ['203.0.113.9', '203.0.113.9'], ['203.0.113.9', '203.0.113.9'], ['203.0.113.10', '203.0.113.10'], ['203.0.113.10', '203.0.113.10'],
      ]);
      expect(logged).toEqual(['203.0.113.9', '203.0.113.9', '203.0.113.9', '203.0.113.10', '203.0.113.10']);
      expect(statusOf(bare)).toBe(0);
      expect(statusOf(health)).toBe(200);
      expect(untrusted).toEqual([200]);
      expect(seen[0].headers['x-real-ip']).toBe(LOOPBACK);
    });
  });

  describe('certificate renewal', () => {
    function makeCert(dir: string, cn: string): { crt: string; key: string } {
      const crt = path.join(dir, `${cn}.crt`);
      const key = path.join(dir, `${cn}.key`);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-keyout', key, '-out', crt], { stdio: 'ignore' });
      return { crt, key };
    }

    function servedCommonName(port: number): Promise<string> {
      return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: LOOPBACK, port, servername: 'api.example.no', rejectUnauthorized: false }, () => {
          const cn = socket.getPeerCertificate().subject?.CN;
          socket.end();
          resolve(String(cn));
        });
        socket.on('error', reject);
      });
    }

    async function waitForName(port: number, cn: string, timeoutMs: number): Promise<number> {
      const started = Date.now();
      while (Date.now() - started < timeoutMs) {
        if ((await servedCommonName(port)) === cn) return Date.now() - started;
        await sleep(100);
      }
      throw new Error(`nginx did not serve the certificate of ${cn} within ${timeoutMs} ms`);
    }

    // The system's sh (dash on Debian, as in the Debian nginx images), and busybox with nothing but
    // its own applets on PATH (as in the -alpine images), when the machine has it.
    const busybox = findBinary(['/bin/busybox', '/usr/bin/busybox']);
    const shells: [string, string | undefined][] = [['sh', undefined], ['busybox sh', busybox]];
    it.each(shells)('%s: swapping the certificate files under a running nginx: a mismatched pair is not loaded, the renewed pair is served by the same master process', async (shellName, busyboxPath) => {
      if (shellName === 'busybox sh' && !busyboxPath) {
        if (REQUIRE_REAL_SERVERS) throw new Error('busybox is not installed (REQUIRE_REAL_SERVERS=1)');
        process.stderr.write('\n*** busybox is not installed: the reload loop runs under the system sh only. ***\n');
        return;
      }
      const [backendPort, httpPort, httpsPort] = await freePorts(3);
      await recordingBackend(backendPort);
      const dir = writeConf(`renewal-${shellName.replace(' ', '-')}`, (d) => {
        const old = makeCert(d, 'old-cert');
        fs.copyFileSync(old.crt, path.join(d, 'tls.crt'));
        fs.copyFileSync(old.key, path.join(d, 'tls.key'));
        return {
          serverName: 'api.example.no', httpPort, httpsPort,
          tls: { certificatePath: path.join(d, 'tls.crt'), keyPath: path.join(d, 'tls.key'), publicHttpsPort: httpsPort },
          upstreams: [{ name: 'api', servers: [{ host: LOOPBACK, port: backendPort }] }],
          routes: [{ path: '/v1', upstream: 'api' }],
        };
      });
      const renewed = makeCert(dir, 'renewed-cert');
      const argv = renderNginxCommand({
        nginxBinary: nginx, prefix: dir, confPath: path.join(dir, 'nginx.conf'), pidPath: path.join(dir, 'nginx.pid'),
        watchFiles: [path.join(dir, 'tls.crt'), path.join(dir, 'tls.key')], intervalSeconds: 1,
      });
      expect(argv[0]).toBe('sh');
      let env = process.env;
      if (busyboxPath) {
        const bin = path.join(dir, 'bin');
        fs.mkdirSync(bin);
        for (const applet of ['sh', 'md5sum', 'sleep', 'cat', 'kill', 'echo']) fs.symlinkSync(busyboxPath, path.join(bin, applet));
        env = { ...process.env, PATH: bin };
      }
      const child = spawn(busyboxPath ? path.join(dir, 'bin', 'sh') : argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env });
      running.push(child);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      await waitForPort(httpsPort);
      const masterPid = Number(fs.readFileSync(path.join(dir, 'nginx.pid'), 'utf8'));
      // exec: the process we started IS the nginx master (it gets the stop signal itself).
      expect(masterPid).toBe(child.pid);
      expect(await servedCommonName(httpsPort)).toBe('old-cert');

      // Half a renewal: the new certificate with the old key. nginx -t fails, nothing is reloaded.
      fs.copyFileSync(renewed.crt, path.join(dir, 'tls.crt'));
      await sleep(2500);
      expect(await servedCommonName(httpsPort)).toBe('old-cert');
      expect(stderr).toContain('nginx -t fails: keeping the running configuration');

      // The key arrives: the next check reloads.
      fs.copyFileSync(renewed.key, path.join(dir, 'tls.key'));
      const ms = await waitForName(httpsPort, 'renewed-cert', 10000);
      console.log(`[nginx certificate renewal, ${shellName}] renewed certificate served ${ms} ms after the key was written (check every 1 s), same master PID ${masterPid}`);
      expect(stderr).toContain('tls files changed: nginx reloaded');
      expect(Number(fs.readFileSync(path.join(dir, 'nginx.pid'), 'utf8'))).toBe(masterPid);
      expect(child.exitCode).toBeNull();

      // The loop ends with nginx: after a graceful stop, no process of the script is left.
      await stopProcess(child, 'SIGQUIT');
      await sleep(1500);
      const leftovers = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(path.join(dir, 'nginx.conf'));
        } catch {
          return false;
        }
      });
      expect(leftovers).toEqual([]);
    });
  });

  describe('sized workers', () => {
    it('worker_processes follows the CPU request: nginx -t accepts the config and the master starts exactly that many workers', async () => {
      const [backendPort, httpPort] = await freePorts(2);
      // One CPU more than this machine has ("auto" would start one per CPU: a different count).
      const cpus = os.cpus().length;
      const budget = gatewayWorkerBudget({
        cpuRequest: `${cpus}.5`, memoryLimit: '512Mi', maxWorkerConnections: 1024, sharedZonesMi: 10, tls: false, upstreamKeepalive: 32, upstreams: 1,
      });
      expect(budget.workerProcesses).toBe(cpus + 1);
      const dir = writeConf('workers', {
        serverName: 'api.example.no', httpPort, workerProcesses: budget.workerProcesses, workerConnections: budget.workerConnections,
        upstreams: [{ name: 'api', servers: [{ host: LOOPBACK, port: backendPort }], keepalive: budget.upstreamKeepalive }],
        routes: [{ path: '/v1', upstream: 'api' }],
      });
      expect(check(dir)).toEqual({ ok: true, output: expect.stringContaining('test is successful') });
      const master = await start(dir, httpPort);
      await sleep(300);
      const workers = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1] === String(master.pid);
        } catch {
          return false;
        }
      });
      console.log(`[nginx workers] ${cpus} CPUs here, cpu request ${cpus}.5 -> worker_processes ${budget.workerProcesses}, worker_connections ${budget.workerConnections}; the master started ${workers.length}`);
      expect(workers).toHaveLength(cpus + 1);
    });
  });
});
