/**
 * A private, real Docker Engine (Debian's docker.io, 20.10) for tests, and a replay of what the
 * kreuzwerker/docker Terraform provider (v3.6.2) does to it for the resources we synthesize.
 *
 * - `DockerEngine.start()` runs dockerd with its data root, exec root, pid file and Unix socket in a
 *   short folder under /tmp (a socket path must fit in 107 bytes), without the default bridge and
 *   without iptables (nothing on the host's network is touched; two runs on one machine do not
 *   collide). `stop()` removes every container it ran, stops dockerd by its PID, and deletes the
 *   folder.
 * - Engine API calls go over the Unix socket with node's `http` (no docker CLI involved).
 * - `tar()` is a small ustar writer: the rootfs of stand-in images, and the one-file archives the
 *   provider uploads.
 * - `ProviderReplay` mirrors internal/provider/resource_docker_{network,volume,container}_funcs.go
 *   at v3.6.2: the create config built from the resource's arguments, networks_advanced (leave
 *   "bridge", connect each network), one PUT archive at "/" per `upload` (a tar header with uid
 *   and gid 0 and the `permissions` mode, no copy-uid option: the files are root:root), then start.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { sleep } from './real-servers';

export const API = '/v1.41'; // what the provider's client negotiates with a 20.10 engine

// ---------------------------------------------------------------------------------------------
// tar (ustar)
// ---------------------------------------------------------------------------------------------

export interface TarEntry {
  /** Path inside the archive; a leading "/" is kept, as the provider's Go tar.Header keeps it. */
  readonly name: string;
  /** @default 'file' */
  readonly type?: 'file' | 'dir' | 'symlink';
  /** @default 0o644 for files, 0o755 for directories */
  readonly mode?: number;
  readonly content?: string | Buffer;
  readonly linkname?: string;
  readonly uid?: number;
  readonly gid?: number;
}

/** A ustar archive of `entries`, ended by two zero blocks (what Go's tar.Writer.Close writes). */
export function tar(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  const mtime = Math.floor(Date.now() / 1000);
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = type === 'file' ? Buffer.from(e.content ?? '') : Buffer.alloc(0);
    const header = Buffer.alloc(512);
    let name = e.name;
    let prefix = '';
    if (Buffer.byteLength(name) > 100) {
      const cut = name.lastIndexOf('/');
      prefix = name.slice(0, cut);
      name = name.slice(cut + 1);
      if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`tar: name too long: ${e.name}`);
    }
    const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, '0') + '\0';
    header.write(name, 0, 100, 'utf8');
    header.write(octal(e.mode ?? (type === 'dir' ? 0o755 : 0o644), 8), 100, 'ascii');
    header.write(octal(e.uid ?? 0, 8), 108, 'ascii');
    header.write(octal(e.gid ?? 0, 8), 116, 'ascii');
    header.write(octal(content.length, 12), 124, 'ascii');
    header.write(octal(mtime, 12), 136, 'ascii');
    header.write(' '.repeat(8), 148, 'ascii'); // checksum field counts as spaces while summing
    header.write(type === 'dir' ? '5' : type === 'symlink' ? '2' : '0', 156, 'ascii');
    if (e.linkname) header.write(e.linkname, 157, 100, 'utf8');
    header.write('ustar\0' + '00', 257, 'ascii');
    header.write(prefix, 345, 155, 'utf8');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    blocks.push(header, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

// ---------------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------------

export interface ApiResponse {
  readonly status: number;
  readonly body: Buffer;
  /** The body parsed as JSON (undefined when empty). */
  json<T = any>(): T;
  /** The engine's error message ({"message": ...}) or the raw body. */
  readonly message: string;
}

/** True when the ELF file has no program interpreter (a static binary runs in an empty rootfs). */
export function isStaticElf(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(64);
    fs.readSync(fd, head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false; // ELF, 64-bit
    const phoff = Number(head.readBigUInt64LE(0x20));
    const phentsize = head.readUInt16LE(0x36);
    const phnum = head.readUInt16LE(0x38);
    const ph = Buffer.alloc(phentsize * phnum);
    fs.readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

export class DockerEngine {
  /**
   * Starts dockerd. Everything lives under a fresh /tmp/ssd-XXXXXX: `--data-root`, `--exec-root`,
   * `--pidfile`, the socket, an empty `--config-file` (the machine's /etc/docker/daemon.json does
   * not apply) and the daemon's log.
   */
  public static async start(dockerd: string, timeoutMs = 60_000): Promise<DockerEngine> {
    const dir = fs.mkdtempSync('/tmp/ssd-');
    const socket = path.join(dir, 'docker.sock');
    const config = path.join(dir, 'daemon.json');
    fs.writeFileSync(config, '{}\n');
    const log = fs.openSync(path.join(dir, 'dockerd.log'), 'a');
    const child = spawn(dockerd, [
      '--data-root', path.join(dir, 'data'),
      '--exec-root', path.join(dir, 'exec'),
      '--pidfile', path.join(dir, 'dockerd.pid'),
      '--config-file', config,
      '--host', `unix://${socket}`,
      '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false',
    ], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const engine = new DockerEngine(dir, socket, child);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        const tail = engine.log().split('\n').slice(-15).join('\n');
        await engine.stop();
        throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode}) before it answered:\n${tail}`);
      }
      try {
        if ((await engine.request('GET', '/_ping')).status === 200) return engine;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) {
        await engine.stop();
        throw new Error(`dockerd did not answer on ${socket} within ${timeoutMs} ms`);
      }
      await sleep(100);
    }
  }

  private constructor(public readonly dir: string, public readonly socket: string, private readonly child: ChildProcess) {}

  public get pid(): number | undefined {
    return this.child.pid;
  }

  /** The daemon's own log (for failure messages). */
  public log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'dockerd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** One Engine API call over the Unix socket. `body`: an object is sent as JSON, a Buffer as a tar. */
  public request(method: string, apiPath: string, body?: unknown, timeoutMs = 60_000): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = {};
    if (payload) {
      headers['Content-Type'] = Buffer.isBuffer(body) ? 'application/x-tar' : 'application/json';
      headers['Content-Length'] = payload.length;
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socket, method, path: apiPath, headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const text = buf.toString('utf8');
          let message = text.trim();
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? message;
          } catch {
            /* not JSON */
          }
          resolve({
            status: res.statusCode ?? 0,
            body: buf,
            message,
            json: <T>() => (text.trim() === '' ? undefined : JSON.parse(text)) as T,
          });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${apiPath}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like request(), but throws unless the status is 2xx (or 304). */
  public async call(method: string, apiPath: string, body?: unknown): Promise<ApiResponse> {
    const res = await this.request(method, apiPath, body);
    if ((res.status < 200 || res.status >= 300) && res.status !== 304) {
      throw new EngineError(method, apiPath, res.status, res.message);
    }
    return res;
  }

  /**
   * `docker import`: a root filesystem tar becomes an image tagged `reference` (no registry).
   * Returns the image id.
   */
  public async importImage(reference: string, rootfs: Buffer, changes: string[] = []): Promise<string> {
    const { repo, tag } = splitReference(reference);
    const query = new URLSearchParams({ fromSrc: '-', repo, tag });
    for (const c of changes) query.append('changes', c);
    const res = await this.call('POST', `${API}/images/create?${query}`, rootfs);
    // A stream of JSON messages: an error arrives with status 200.
    for (const line of res.body.toString('utf8').split(/\r?\n/).filter(Boolean)) {
      const msg = JSON.parse(line) as { error?: string };
      if (msg.error) throw new Error(`import ${reference}: ${msg.error}`);
    }
    return (await this.call('GET', `${API}/images/${encodeURIComponent(reference)}/json`)).json<{ Id: string }>().Id;
  }

  /** A container's stdout and stderr so far (the non-TTY stream is multiplexed in 8-byte frames). */
  public async logs(id: string): Promise<string> {
    const raw = (await this.call('GET', `${API}/containers/${id}/logs?stdout=1&stderr=1`)).body;
    const out: Buffer[] = [];
    for (let i = 0; i + 8 <= raw.length;) {
      const size = raw.readUInt32BE(i + 4);
      out.push(raw.subarray(i + 8, i + 8 + size));
      i += 8 + size;
    }
    return Buffer.concat(out).toString('utf8');
  }

  /**
   * Removes every container (with its anonymous volumes), stops dockerd by its PID (SIGTERM, then
   * SIGKILL), stops its containerd if it outlived it, unmounts what is left under the folder, and
   * deletes the folder. Safe to call twice and after a failed start.
   */
  public async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        const all = (await this.request('GET', `${API}/containers/json?all=1`, undefined, 10_000)).json<Array<{ Id: string }>>() ?? [];
        for (const c of all) await this.request('DELETE', `${API}/containers/${c.Id}?force=1&v=1`, undefined, 30_000);
      } catch {
        /* the daemon is not answering: stopping it stops its containers too */
      }
    }
    const containerdPid = readPid(path.join(this.dir, 'exec', 'containerd', 'containerd.pid'));
    await stopChild(this.child, 20_000);
    if (containerdPid) await stopPid(containerdPid, 10_000);
    unmountUnder(this.dir);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export class EngineError extends Error {
  constructor(public readonly method: string, public readonly apiPath: string, public readonly status: number, public readonly engineMessage: string) {
    super(`${method} ${apiPath.replace(API, '')} -> ${status}: ${engineMessage}`);
  }
}

/** "registry.example.no/orders:1.4.2" -> repo "registry.example.no/orders", tag "1.4.2". */
export function splitReference(reference: string): { repo: string; tag: string } {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (reference.includes('@')) throw new Error(`a stand-in cannot be tagged with a digest reference: ${reference}`);
  return colon > slash ? { repo: reference.slice(0, colon), tag: reference.slice(colon + 1) } : { repo: reference, tag: 'latest' };
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z /s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const within = async (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); })]);
    clearTimeout(timer);
    return done;
  };
  try { process.kill(child.pid, 'SIGTERM'); } catch { return; }
  if (await within(graceMs)) return;
  try { process.kill(child.pid, 'SIGKILL'); } catch { return; }
  await within(5000);
}

async function stopPid(pid: number, graceMs: number): Promise<void> {
  if (!alive(pid)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (alive(pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

/** Lazily unmounts whatever a killed dockerd left mounted under `dir` (deepest first). */
function unmountUnder(dir: string): void {
  let mounts: string[] = [];
  try {
    mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n')
      .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
      .filter((m) => m.startsWith(dir + '/'));
  } catch {
    return;
  }
  for (const m of mounts.sort((a, b) => b.length - a.length)) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Stand-in images
// ---------------------------------------------------------------------------------------------

/** What a stand-in image holds besides busybox: the directories and files of the real image that matter. */
export interface StandInSpec {
  /** Directories (created with their parents), e.g. { path: '/tmp', mode: 0o1777 }. */
  readonly dirs?: ReadonlyArray<{ readonly path: string; readonly mode?: number; readonly uid?: number; readonly gid?: number }>;
  /** Files the real image ships at paths we mount over or upload into (e.g. /etc/nginx/mime.types). */
  readonly files?: ReadonlyArray<{ readonly path: string; readonly content: string; readonly mode?: number }>;
}

const APPLETS = ['sh', 'sleep', 'cat', 'cut', 'md5sum', 'stat', 'ls', 'echo', 'test', '[', 'wget', 'nc', 'id', 'printf', 'true', 'false'];

/** The root filesystem of a stand-in: a static busybox with the applets the checks use, plus `spec`. */
export function standInRootfs(busybox: string, spec: StandInSpec): Buffer {
  const entries = new Map<string, TarEntry>();
  const dir = (p: string, mode = 0o755, uid = 0, gid = 0) => {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const name = parts.slice(0, i).join('/') + '/';
      if (i === parts.length) entries.set(name, { name, type: 'dir', mode, uid, gid });
      else if (!entries.has(name)) entries.set(name, { name, type: 'dir', mode: 0o755 });
    }
  };
  for (const d of ['bin', 'etc', 'dev', 'proc', 'sys', 'root', 'run', 'var']) dir(d);
  dir('tmp', 0o1777);
  entries.set('bin/busybox', { name: 'bin/busybox', mode: 0o755, content: fs.readFileSync(busybox) });
  for (const a of APPLETS) entries.set(`bin/${a}`, { name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777 });
  for (const d of spec.dirs ?? []) dir(d.path, d.mode, d.uid, d.gid);
  for (const f of spec.files ?? []) {
    dir(path.posix.dirname(f.path));
    const name = f.path.replace(/^\//, '');
    entries.set(name, { name, mode: f.mode ?? 0o644, content: f.content });
  }
  // Parents before children.
  return tar([...entries.values()].sort((a, b) => a.name.split('/').length - b.name.split('/').length || a.name.localeCompare(b.name)));
}

// ---------------------------------------------------------------------------------------------
// Terraform values
// ---------------------------------------------------------------------------------------------

/**
 * Evaluates a string the way Terraform reads it from cdk.tf.json: `$${` is a literal `${`, `%%{`
 * a literal `%{`, and `${type.name.attr}` a reference, answered by `lookup`. Anything else
 * Terraform would evaluate (a function call, a `%{` directive) is refused: the replay only knows
 * plain references.
 */
export function evaluate(value: string, lookup: (ref: { type: string; name: string; attr: string; expr: string }) => string): string {
  return value.replace(/\$\$\{|%%\{|\$\{([^}]*)\}|%\{/g, (match, expr: string | undefined) => {
    if (match === '$${') return '${';
    if (match === '%%{') return '%{';
    if (match === '%{') throw new Error(`a Terraform template directive the replay cannot evaluate in: ${value.slice(0, 200)}`);
    const m = /^\s*(var|[a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_]+))?\s*$/.exec(expr ?? '');
    if (!m) throw new Error(`a Terraform expression the replay cannot evaluate: \${${expr}}`);
    return lookup({ type: m[1], name: m[2], attr: m[3] ?? '', expr: expr! });
  });
}

/** Applies evaluate() to every string in a JSON value. */
export function evaluateAll<T>(value: T, lookup: Parameters<typeof evaluate>[1]): T {
  if (typeof value === 'string') return evaluate(value, lookup) as T;
  if (Array.isArray(value)) return value.map((v) => evaluateAll(v, lookup)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateAll(v, lookup)])) as T;
  }
  return value;
}

/** A deterministic stand-in for a value Terraform makes at apply time (a random_password result). */
export function dummyValue(ref: string): string {
  return `dummy-${createHash('sha256').update(ref).digest('hex').slice(0, 16)}`;
}

/** The `docker_container` logical ids a container's arguments reference (`${docker_container.X...}`). */
export function containerReferences(resource: unknown): string[] {
  const found = new Set<string>();
  JSON.stringify(resource).replace(/(?<!\$)\$\{docker_container\.([A-Za-z0-9_-]+)\./g, (_, id: string) => {
    found.add(id);
    return '';
  });
  return [...found];
}

// ---------------------------------------------------------------------------------------------
// The provider's calls, replayed
// ---------------------------------------------------------------------------------------------

/** One Engine API call the replay made, for the report. */
export interface ReplayedCall {
  readonly call: string;
  readonly status: number;
  readonly ms: number;
  readonly note?: string;
}

/** "10s" / "1m30s" / "500ms" -> nanoseconds (Go's time.ParseDuration for what we emit). */
export function durationNs(d: string | undefined): number {
  if (!d) return 0;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let m: RegExpExecArray | null;
  while ((m = re.exec(d))) total += Number(m[1]) * unit[m[2]];
  return Math.round(total);
}

/**
 * The body of POST /containers/create the provider sends for a docker_container (already
 * evaluated), as resourceDockerContainerCreate builds it: config, hostConfig and an empty
 * networkingConfig.
 */
export function containerCreateBody(r: any): any {
  const config: any = {
    Image: r.image,
    Hostname: r.hostname ?? '',
    Domainname: r.domainname ?? '',
    Tty: r.tty ?? false,
    OpenStdin: r.stdin_open ?? false,
    StopSignal: r.stop_signal ?? '',
    StopTimeout: r.stop_timeout,
  };
  if (r.env?.length) config.Env = r.env;
  if (r.command?.length) config.Cmd = r.command;
  if (r.entrypoint?.length) config.Entrypoint = r.entrypoint;
  if (r.user) config.User = r.user;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of r.ports ?? []) {
    const key = `${p.internal}/${p.protocol ?? 'tcp'}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.ip ?? '0.0.0.0', HostPort: p.external === undefined ? '' : String(p.external) });
  }
  if (Object.keys(exposed).length) config.ExposedPorts = exposed;
  if (r.working_dir) config.WorkingDir = r.working_dir;
  const volumes: Record<string, object> = {};
  const binds: string[] = [];
  const volumesFrom: string[] = [];
  for (const v of r.volumes ?? []) {
    if (v.from_container) volumesFrom.push(v.from_container);
    else if (v.volume_name || v.host_path) {
      volumes[v.container_path] = {};
      binds.push(`${v.volume_name || v.host_path}:${v.container_path}:${v.read_only ? 'ro' : 'rw'}`);
    } else volumes[v.container_path] = {};
  }
  if (Object.keys(volumes).length) config.Volumes = volumes;
  if (r.labels?.length) config.Labels = Object.fromEntries(r.labels.map((l: any) => [l.label, l.value]));
  if (r.healthcheck?.length) {
    const h = r.healthcheck[0];
    config.Healthcheck = {
      Test: h.test, Interval: durationNs(h.interval), Timeout: durationNs(h.timeout),
      StartPeriod: durationNs(h.start_period), Retries: h.retries ?? 0,
    };
  }
  const mounts = (r.mounts ?? []).map((m: any) => {
    if (m.volume_options?.length || m.bind_options?.length || m.tmpfs_options?.length) {
      throw new Error(`mount options are not replayed (provider 3.6.2 refuses volume_options below API 1.45): ${JSON.stringify(m)}`);
    }
    return { Type: m.type, Target: m.target, Source: m.source ?? '', ReadOnly: m.read_only ?? false };
  });
  const hostConfig: any = {
    Privileged: r.privileged ?? false,
    PublishAllPorts: r.publish_all_ports ?? false,
    RestartPolicy: { Name: r.restart ?? 'no', MaximumRetryCount: r.max_retry_count ?? 0 },
    Runtime: r.runtime ?? '',
    Mounts: mounts,
    AutoRemove: r.rm ?? false,
    ReadonlyRootfs: r.read_only ?? false,
    LogConfig: { Type: r.log_driver ?? '' },
    Init: r.init ?? false,
  };
  if (r.tmpfs && Object.keys(r.tmpfs).length) hostConfig.Tmpfs = r.tmpfs;
  if (Object.keys(bindings).length) hostConfig.PortBindings = bindings;
  if (binds.length) hostConfig.Binds = binds;
  if (volumesFrom.length) hostConfig.VolumesFrom = volumesFrom;
  if (r.capabilities) {
    const c = Array.isArray(r.capabilities) ? r.capabilities[0] : r.capabilities;
    hostConfig.CapAdd = c?.add ?? [];
    hostConfig.CapDrop = c?.drop ?? [];
  }
  if (r.security_opts?.length) hostConfig.SecurityOpt = r.security_opts;
  if (r.group_add?.length) hostConfig.GroupAdd = r.group_add;
  if (r.memory) hostConfig.Memory = r.memory * 1024 * 1024;
  if (r.memory_swap) hostConfig.MemorySwap = r.memory_swap > 0 ? r.memory_swap * 1024 * 1024 : r.memory_swap;
  if (r.shm_size) hostConfig.ShmSize = r.shm_size * 1024 * 1024;
  if (r.cpus) {
    hostConfig.CPUPeriod = 100000;
    hostConfig.CPUQuota = Math.round(Number(r.cpus) * 100000);
  }
  if (r.network_mode) hostConfig.NetworkMode = r.network_mode;
  return { ...config, HostConfig: hostConfig, NetworkingConfig: {} };
}

/** The one-file archive the provider uploads for an `upload` block (mode from `permissions`). */
export function uploadArchive(u: { file: string; content?: string; content_base64?: string; permissions?: string; executable?: boolean }): Buffer {
  const content = u.content_base64 ? Buffer.from(u.content_base64, 'base64') : Buffer.from(u.content ?? '');
  const mode = u.permissions ? parseInt(u.permissions, 8) : u.executable ? 0o744 : 0o644;
  return tar([{ name: u.file, mode, content }]);
}

/**
 * resourceDockerContainerDelete against the engine: stop with destroy_grace_seconds, remove with
 * its anonymous volumes (remove_volumes defaults to true), wait until it is gone.
 */
export async function replayContainerDelete(engine: DockerEngine, r: any, id: string, calls: ReplayedCall[]): Promise<void> {
  const record = async (method: string, apiPath: string, tolerate?: RegExp) => {
    const started = Date.now();
    const res = await engine.request(method, apiPath, undefined, 180_000);
    const ok = (res.status >= 200 && res.status < 300) || res.status === 304;
    const note = !ok && tolerate?.test(res.message) ? 'ignored by the provider' : undefined;
    calls.push({ call: `${method} ${apiPath.replace(API, '').replace(/[0-9a-f]{64}/g, (x) => x.slice(0, 12))}`, status: res.status, ms: Date.now() - started, note });
    if (!ok && !note) throw new EngineError(method, apiPath, res.status, res.message);
  };
  await record('POST', `${API}/containers/${id}/stop?t=${r.destroy_grace_seconds ?? 0}`);
  await record('DELETE', `${API}/containers/${id}?v=${r.remove_volumes === false ? 0 : 1}&link=${r.rm ? 1 : 0}&force=1`, /No such container|is already in progress/);
  await record('POST', `${API}/containers/${id}/wait?condition=${r.rm ? 'removed' : 'not-running'}`, /No such container|is already in progress/);
}

/**
 * resourceDockerContainerCreate against the engine: create, leave "bridge" and connect
 * networks_advanced, PUT each upload at "/", start unless `start` is false. Every call is recorded
 * in `calls`; the first failing call throws an EngineError (as `terraform apply` stops there).
 */
export async function replayContainer(
  engine: DockerEngine, r: any, createBody: any, calls: ReplayedCall[], created: (id: string) => void = () => undefined,
): Promise<string> {
  const record = async (method: string, apiPath: string, body?: unknown, tolerate?: (e: ApiResponse) => string | undefined) => {
    const started = Date.now();
    const res = await engine.request(method, apiPath, body);
    const ok = (res.status >= 200 && res.status < 300) || res.status === 304;
    const note = ok ? undefined : tolerate?.(res);
    calls.push({ call: `${method} ${apiPath.replace(API, '').replace(/[0-9a-f]{64}/g, (id) => id.slice(0, 12))}`, status: res.status, ms: Date.now() - started, note });
    if (!ok && note === undefined) throw new EngineError(method, apiPath, res.status, res.message);
    return res;
  };
  const response = await record('POST', `${API}/containers/create?name=${encodeURIComponent(r.name)}`, createBody);
  const id = response.json<{ Id: string }>().Id;
  created(id); // the provider stores the id right away: a later failure leaves a tainted container
  if (r.networks_advanced?.length) {
    await record('POST', `${API}/networks/bridge/disconnect`, { Container: id, Force: false }, (res) =>
      /is not connected to the network bridge/.test(res.message) ? 'ignored by the provider'
        // This engine runs with --bridge=none: there is no "bridge" to leave, so nothing to undo.
        : /network bridge not found/.test(res.message) ? 'no default bridge on this engine (--bridge=none)' : undefined);
    for (const n of r.networks_advanced) {
      await record('POST', `${API}/networks/${encodeURIComponent(n.name)}/connect`, {
        Container: id,
        EndpointConfig: { Aliases: n.aliases ?? [], IPAMConfig: { IPv4Address: n.ipv4_address ?? '', IPv6Address: n.ipv6_address ?? '' } },
      });
    }
  }
  for (const u of r.upload ?? []) {
    await record('PUT', `${API}/containers/${id}/archive?path=${encodeURIComponent('/')}`, uploadArchive(u));
  }
  if (r.start !== false) await record('POST', `${API}/containers/${id}/start`);
  return id;
}
