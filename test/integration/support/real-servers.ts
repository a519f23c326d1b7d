/**
 * Shared helpers for tests that start real servers (nginx, PostgreSQL, RabbitMQ) on 127.0.0.1.
 *
 * When a server binary is missing the suite is skipped LOUDLY, unless REQUIRE_REAL_SERVERS=1
 * (set by .ci/run), in which case the suite fails: CI must never pass by skipping.
 *
 * Two checkouts may run these suites on one machine at once, from paths of any length:
 * - every port comes from freePort()/freePorts()/freePortRange() (never a fixed number);
 * - every Unix socket goes into makeSocketDir(), a short folder under /tmp (a socket path must
 *   fit in 107 bytes, which a folder under a deep checkout does not);
 * - what a suite starts is stopped by PID (stopProcess, stopPid) in its afterAll.
 */
import { ChildProcess, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export const REQUIRE_REAL_SERVERS = process.env.REQUIRE_REAL_SERVERS === '1';

/** Returns the first existing path among the candidates, or undefined. */
export function findBinary(candidates: string[]): string | undefined {
  for (const c of candidates) {
    if (c.includes('/')) {
      if (fs.existsSync(c)) return c;
      continue;
    }
    try {
      const found = execFileSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      /* not on PATH */
    }
  }
  return undefined;
}

/**
 * `describe` when the binary exists; otherwise a loud skip, or a failing suite under
 * REQUIRE_REAL_SERVERS=1.
 *
 * The skip is written straight to the process's stderr: jest prints nothing at all (not even
 * console output) for a test file whose tests are all skipped. The skipped test's name carries
 * the message too, for --verbose and JSON reports.
 */
export function describeWithServer(
  server: string,
  binary: string | undefined,
  name: string,
  body: (binary: string) => void,
): void {
  if (binary) {
    describe(name, () => body(binary));
    return;
  }
  const message = `REAL SERVER MISSING: ${server} is not installed, so "${name}" cannot run. ` +
    'Install it (see .ci/run) to run these tests.';
  if (REQUIRE_REAL_SERVERS) {
    describe(name, () => {
      it(`requires ${server} (REQUIRE_REAL_SERVERS=1)`, () => {
        throw new Error(message);
      });
    });
    return;
  }
  process.stderr.write(`\n\n*** ${message} SKIPPING. ***\n\n`);
  describe.skip(name, () => {
    it(`${message} SKIPPED`, () => undefined);
    body('');
  });
}

/** A fresh temp folder under the project's .tmp/ (contained, removed by the caller). */
export function makeWorkDir(prefix: string): string {
  const base = path.join(process.env.TMPDIR ?? os.tmpdir(), 'real-servers');
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `${prefix}-`));
}

/**
 * A fresh, short folder for Unix sockets: /tmp/ss-<prefix>-XXXXXX, never under the checkout (a
 * socket's path must fit in 107 bytes). Removed by the caller in afterAll.
 */
export function makeSocketDir(prefix: string): string {
  return fs.mkdtempSync(`/tmp/ss-${prefix}-`);
}

/**
 * A string from cdk.tf.json as Terraform hands it to the resource: `$${` is a literal `${` and
 * `%%{` a literal `%{` (Terraform reads every string as a template). For the files and values a
 * test takes from the synthesized JSON and runs on a real server, which hold no references.
 */
export function terraformLiteralText(text: string): string {
  return text.replace(/([$%])\1\{/g, (_, sigil: string) => `${sigil}{`);
}

// ---------------------------------------------------------------------------------------------
// Ports. The one registry every suite takes its ports from.
//
// Random ports in 20000-31999 (below the kernel's ephemeral range, 32768 and up, where the
// tests' own client connections take their local ports), each checked by binding 127.0.0.1.
// A port handed out is also leased, until this test file's afterAll, by a file in /tmp/ss-ports
// naming this process: other jest workers and other checkouts skip it, even while no server
// listens on it (a stopped backend's port must stay refused, not be taken by another run). A
// lease whose process is gone is taken over.
// ---------------------------------------------------------------------------------------------

const PORT_MIN = 20000;
const PORT_MAX = 31999;
const LEASE_DIR = '/tmp/ss-ports';
/** Ports this test file was given; never handed out twice. */
const handedOut = new Set<number>();

/** True while the process exists and is not a zombie (an orphan whose exit nobody reaped yet). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z /s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Leases a port for this process; false when a live process (this one included) holds it. */
function lease(port: number): boolean {
  const file = path.join(LEASE_DIR, String(port));
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.mkdirSync(LEASE_DIR, { recursive: true, mode: 0o1777 });
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // the folder was removed under us: make it again
      if (code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(fs.readFileSync(file, 'utf8'));
      } catch {
        continue; // released meanwhile
      }
      if (holder > 0 && alive(holder)) return false;
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  return false;
}

function unlease(port: number): void {
  const file = path.join(LEASE_DIR, String(port));
  try {
    if (Number(fs.readFileSync(file, 'utf8')) === process.pid) fs.rmSync(file, { force: true });
  } catch {
    /* not leased */
  }
}

/** True when nothing listens on 127.0.0.1:port (a bind succeeds). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', () => resolve(false));
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive free ports (for a range such as rabbitmqctl's distribution ports), leased
 * for this test file and released after its last afterAll.
 */
export async function freePortRange(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const start = PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN + 2 - count));
    const ports = Array.from({ length: count }, (_, i) => start + i);
    if (ports.some((p) => handedOut.has(p))) continue;
    const leased: number[] = [];
    for (const p of ports) {
      if (!lease(p)) break;
      leased.push(p);
    }
    if (leased.length === count && (await Promise.all(ports.map(bindable))).every(Boolean)) {
      for (const p of ports) handedOut.add(p);
      return ports;
    }
    for (const p of leased) unlease(p);
  }
  throw new Error(`no ${count} consecutive free ports in ${PORT_MIN}-${PORT_MAX} on 127.0.0.1`);
}

/** One free port on 127.0.0.1 (see freePortRange). */
export async function freePort(): Promise<number> {
  return (await freePortRange(1))[0];
}

/** `count` distinct free ports, not necessarily consecutive. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  return ports;
}

/** Gives back every port this test file leased (registered below as the file's last afterAll). */
export function releasePorts(): void {
  for (const p of handedOut) unlease(p);
  handedOut.clear();
  try {
    fs.rmdirSync(LEASE_DIR); // only when no other run holds a lease
  } catch {
    /* not empty, or gone */
  }
}

// A top-level afterAll runs after every nested one, i.e. after the suite stopped its servers.
if (typeof afterAll === 'function') afterAll(releasePorts);

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/** Resolves when the TCP port on 127.0.0.1 accepts a connection, or rejects after timeoutMs. */
export async function waitForPort(port: number, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} on 127.0.0.1 did not open within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Stops a process this suite started, by its PID: `signal`, then SIGKILL if it has not exited
 * within graceMs. Resolves once it has exited (or at once if it already had).
 */
export async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopped = async (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); })]);
    clearTimeout(timer);
    return done;
  };
  try { process.kill(child.pid, signal); } catch { return; }
  if (await stopped(graceMs)) return;
  try { process.kill(child.pid, 'SIGKILL'); } catch { return; }
  await stopped(5000);
}

/**
 * Stops a process that is not our child (e.g. a server that daemonized) by its PID: `signal`,
 * then SIGKILL after graceMs. Resolves once the PID is gone.
 */
export async function stopPid(pid: number | undefined, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (!pid || !alive(pid)) return;
  try { process.kill(pid, signal); } catch { return; }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (!alive(pid)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
}
