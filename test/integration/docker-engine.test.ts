/**
 * The local stack (stacks/local.ts) on a real Docker Engine.
 *
 * No image registry is reachable here, so each image the stack names is a stand-in built with
 * `docker import` from a static busybox, tagged with the exact name the stack synthesizes and
 * holding what the real image has at the paths we upload to (nginx's mime.types, RabbitMQ's
 * conf.d, ...). Then every docker_network, docker_volume and docker_container of the synthesized
 * stack is applied the way the kreuzwerker/docker provider 3.6.2 applies it (see
 * support/docker-engine.ts): the create config from the resource's own arguments (read_only,
 * user, mounts, tmpfs, volumes, capabilities, security_opts, memory, env, networks_advanced,
 * ports, healthcheck), the network connect, one tar archive PUT at "/" per `upload`, then start.
 *
 * Only what a stand-in cannot honour is replaced: the entrypoint and command become a busybox
 * script that checks every uploaded file (content, mode and owner, read as the container's own
 * user) and the image's own files at the paths the real image uses, then sleeps; Terraform
 * references get dummy values; published ports keep their 127.0.0.1 address but take a free host
 * port.
 *
 * Secrets: every secret file is root:root 0440 and read by its workload through the
 * supplementary group 0 (`group_add`), which a process without it cannot; no datastore's or
 * gateway's `docker inspect` env holds a secret value. The services' connection passwords
 * (DATABASE_PASSWORD, AMQP_PASSWORD) are the one exception, as the README says: the services' own
 * images read them from env.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import * as fs from 'fs';
import { Testing } from 'cdktf';
import { local } from '../../stacks/local';
import { describeWithServer, findBinary, sleep } from './support/real-servers';
import {
  API, DockerEngine, ReplayedCall, StandInSpec, containerCreateBody, containerReferences, dummyValue, evaluateAll,
  isStaticElf, replayContainer, replayContainerDelete, standInRootfs, tar,
} from './support/docker-engine';

const DOCKERD = findBinary(['/usr/bin/dockerd', '/usr/sbin/dockerd']);
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p) && isStaticElf(p));
const VERBOSE = process.env.DOCKER_ENGINE_VERBOSE === '1';

/**
 * What the real images hold where the stack mounts or uploads (by repository, so a version bump
 * in the stack keeps its stand-in). `keep`: image files that must still be there when the
 * container runs, next to the uploads.
 */
const STAND_INS: Array<{ match: RegExp; spec: StandInSpec; keep: string[] }> = [
  {
    match: /(^|\/)nginx(-unprivileged)?:/,
    spec: {
      dirs: [{ path: '/var/cache/nginx', uid: 101, gid: 101 }, { path: '/etc/nginx/conf.d' }],
      files: [
        { path: '/etc/nginx/nginx.conf', content: '# the image\'s own nginx.conf, replaced by the upload\n' },
        { path: '/etc/nginx/mime.types', content: 'types {\n    text/html html;\n}\n' },
        { path: '/etc/nginx/conf.d/default.conf', content: 'server { listen 8080; }\n' },
      ],
    },
    keep: ['/etc/nginx/mime.types', '/etc/nginx/conf.d/default.conf'],
  },
  {
    match: /(^|\/)postgres:/,
    spec: {
      dirs: [
        { path: '/docker-entrypoint-initdb.d' },
        { path: '/etc/postgresql' },
        { path: '/var/lib/postgresql/data', mode: 0o700, uid: 999, gid: 999 },
        { path: '/var/run/postgresql', mode: 0o2777, uid: 999, gid: 999 },
      ],
    },
    keep: [],
  },
  {
    match: /(^|\/)rabbitmq:/,
    spec: {
      dirs: [{ path: '/var/lib/rabbitmq', uid: 100, gid: 101 }, { path: '/var/log/rabbitmq', uid: 100, gid: 101 }],
      files: [
        { path: '/etc/rabbitmq/conf.d/10-defaults.conf', content: 'loopback_users.guest = false\n' },
        { path: '/etc/rabbitmq/enabled_plugins', content: '[rabbitmq_management,rabbitmq_prometheus].\n' },
      ],
    },
    keep: ['/etc/rabbitmq/conf.d/10-defaults.conf'],
  },
];

function standInFor(image: string): { spec: StandInSpec; keep: string[] } {
  return STAND_INS.find((s) => s.match.test(image)) ?? { spec: {}, keep: [] };
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
/**
 * The env variables that may hold a secret value in `docker inspect`, by container: the services'
 * connection passwords, which their images read from env (README, Secrets). Nothing else may.
 */
const SECRET_ENV_ALLOWED = /^(DATABASE_PASSWORD|AMQP_PASSWORD)$/;
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The stand-in's entrypoint, run as the container's user: every expected file with its content
 * (read by this process: a file it may not read fails), mode and owner, the image's own files, then sleep.
 */
function checkScript(files: Array<{ path: string; content: string; mode: string; owner: string }>, keep: string[]): string {
  return [
    'fail() { echo "CHECK FAILED: $*"; exit 1; }',
    ...files.map((f) => `f=${shq(f.path)}; [ -f "$f" ] || fail "missing $f"; ` +
      `[ "$(md5sum < "$f" | cut -d' ' -f1)" = ${md5(f.content)} ] || fail "wrong content in $f (as $(id))"; ` +
      `[ "$(stat -c %a "$f")" = ${f.mode} ] || fail "mode of $f is $(stat -c %a "$f"), not ${f.mode}"; ` +
      `[ "$(stat -c %u:%g "$f")" = ${f.owner} ] || fail "owner of $f is $(stat -c %u:%g "$f"), not ${f.owner}"`),
    ...keep.map((k) => `[ -f ${shq(k)} ] || fail "the image's ${k} is gone"`),
    'echo CHECK OK',
    // PID 1 ignores signals it does not handle: stop on the container's stop signal, as the real program would.
    'trap "exit 0" TERM INT QUIT USR1',
    'sleep 3600 & wait $!',
  ].join('\n');
}

/** Containers in an order where every referenced container comes first. */
function dependencyOrder(containers: Record<string, any>): string[] {
  const order: string[] = [];
  const visit = (id: string, path: string[]) => {
    if (order.includes(id)) return;
    if (path.includes(id)) throw new Error(`docker_container reference cycle: ${[...path, id].join(' -> ')}`);
    for (const dep of containerReferences(containers[id])) if (containers[dep]) visit(dep, [...path, id]);
    order.push(id);
  };
  for (const id of Object.keys(containers).sort()) visit(id, []);
  return order;
}

describeWithServer('the Docker Engine (docker.io) and a static busybox (busybox-static)', DOCKERD && BUSYBOX ? DOCKERD : undefined,
  'the local stack on a real Docker Engine', (dockerd) => {
    // Synthesized in beforeAll, so a skipped suite synthesizes nothing.
    let resources: Record<string, Record<string, any>> = {};
    let containers: Record<string, any> = {};
    let order: string[] = [];

    let engine: DockerEngine | undefined;
    const imageIds: Record<string, string> = {};
    /** Ids of the containers created (also those whose apply failed later: terraform taints them). */
    const containerIds: Record<string, string> = {};
    /** Containers whose whole create (create, connect, uploads, start) succeeded. */
    const applied = new Set<string>();
    const calls: Record<string, ReplayedCall[]> = {};
    let networkFailure: string | undefined;

    /** Every secret value the apply handed out (random_password results, sensitive variables). */
    const secretValues = new Set<string>();
    const secret = (value: string) => {
      secretValues.add(value);
      return value;
    };
    /** Terraform references -> what the apply would know at that point (dummy values for secrets). */
    const lookup = (ref: { type: string; name: string; attr: string; expr: string }): string => {
      const r = ref.type === 'var' ? undefined : resources[ref.type]?.[ref.name];
      if (ref.type !== 'var' && !r) throw new Error(`\${${ref.expr}} names no resource of the stack`);
      switch (`${ref.type}.${ref.attr}`) {
        case 'random_password.result': return secret(dummyValue(ref.expr));
        case 'docker_image.image_id': return imageIds[ref.name] ?? fail(`image ${ref.name} was not built`);
        case 'docker_image.name':
        case 'docker_volume.name':
        case 'docker_network.name':
        case 'docker_container.name': return r.name;
        case 'docker_container.id': return containerIds[ref.name] ?? fail(`container ${ref.name} was not created`);
        default:
          if (ref.type === 'var') return secret(dummyValue(ref.expr));
          throw new Error(`the replay does not know \${${ref.expr}}`);
      }
    };
    const evaluated = (r: any) => evaluateAll(r, lookup);

    beforeAll(async () => {
      const started = Date.now();
      resources = JSON.parse(Testing.synth(local(Testing.app({ stackTraces: false })), true)).resource;
      containers = resources.docker_container ?? {};
      order = dependencyOrder(containers);
      engine = await DockerEngine.start(dockerd);
      // docker_image: the provider pulls `name` (keep_locally); here a stand-in takes that name.
      for (const [id, image] of Object.entries<any>(resources.docker_image ?? {})) {
        imageIds[id] = await engine.importImage(image.name, standInRootfs(BUSYBOX!, standInFor(image.name).spec), ['CMD ["/bin/sh"]']);
      }
      if (VERBOSE) process.stderr.write(`dockerd up and ${Object.keys(imageIds).length} stand-ins imported in ${Date.now() - started} ms\n`);
    }, 120_000);

    afterAll(async () => {
      await engine?.stop();
    }, 90_000);

    it('creates the network and the volumes as the provider does', async () => {
      for (const [id, n] of Object.entries<any>(resources.docker_network ?? {})) {
        const r = evaluated(n);
        const res = await engine!.request('POST', `${API}/networks/create`, {
          Name: r.name, Driver: r.driver ?? '', Options: r.options, Internal: r.internal ?? false,
          Attachable: r.attachable ?? false, Ingress: r.ingress ?? false, CheckDuplicate: true,
        });
        // A bridge network needs a Linux bridge on the host; where the engine cannot make one,
        // the containers go to "none" below and this is reported, not hidden.
        if (res.status !== 201) networkFailure = `docker_network ${id} (${r.name}): ${res.status} ${res.message}`;
      }
      for (const v of Object.values<any>(resources.docker_volume ?? {})) {
        const r = evaluated(v);
        await engine!.call('POST', `${API}/volumes/create`, {
          Name: r.name, Labels: Object.fromEntries((r.labels ?? []).map((l: any) => [l.label, l.value])), Driver: r.driver ?? '', DriverOpts: r.driver_opts ?? {},
        });
      }
      if (networkFailure) process.stderr.write(`\n*** NETWORK NOT CREATED, containers attach to "none": ${networkFailure} ***\n`);
    });

    it('creates, uploads into and starts every docker_container as the provider does', async () => {
      expect(order.length).toBeGreaterThan(0);
      const failures: string[] = [];
      const apply = async (id: string) => {
        const r = evaluated(containers[id]);
        if (networkFailure) {
          r.network_mode = 'none';
          delete r.networks_advanced;
          delete r.ports;
        }
        // A free host port on the same address: the stack's fixed port may be taken on this machine.
        for (const p of r.ports ?? []) p.external = undefined;
        const body = containerCreateBody(r);
        if (r.start !== false) {
          // What a stand-in cannot honour: the image's own program. It checks what it was given instead.
          body.Entrypoint = ['/bin/sh', '-c'];
          body.Cmd = [checkScript(expectedFiles(id), standInFor(imageNameOf(containers[id])).keep)];
        }
        calls[id] = [];
        try {
          await replayContainer(engine!, r, body, calls[id], (cid) => { containerIds[id] = cid; });
          applied.add(id);
        } catch (e) {
          failures.push(`${r.name}: ${(e as Error).message}`);
        }
      };
      // As terraform apply walks the graph: every container whose references are done, in parallel.
      const pending = new Set(order);
      while (pending.size > 0) {
        const ready = [...pending].filter((id) => containerReferences(containers[id]).every((dep) => !pending.has(dep)));
        for (const id of ready) pending.delete(id);
        await Promise.all(ready.map(async (id) => {
          const failedDep = containerReferences(containers[id]).find((dep) => !applied.has(dep));
          if (failedDep) failures.push(`${containers[id].name}: not tried, ${containers[failedDep]?.name ?? failedDep} failed`);
          else await apply(id);
        }));
      }
      if (VERBOSE) {
        for (const id of order) {
          process.stderr.write(`${containers[id].name}:\n${(calls[id] ?? []).map((c) => `  ${c.call} -> ${c.status} in ${c.ms} ms${c.note ? ` (${c.note})` : ''}`).join('\n')}\n`);
        }
      }
      expect(failures.sort()).toEqual([]);
    }, 120_000);

    it('every started container runs on a read-only root filesystem, with every uploaded file (content, mode) and the image\'s own files where the image expects them', async () => {
      const problems: string[] = [];
      const seen = new Set<string>();
      for (const id of order) {
        const r = containers[id];
        if (r.start === false) continue;
        const cid = containerIds[id];
        if (!applied.has(id)) {
          problems.push(`${r.name}: its apply failed`);
          continue;
        }
        let logs = '';
        let state: any;
        for (let i = 0; i < 100; i++) {
          logs = await engine!.logs(cid);
          state = (await engine!.call('GET', `${API}/containers/${cid}/json`)).json();
          if (/CHECK (OK|FAILED)/.test(logs) || !state.State.Running) break;
          await sleep(100);
        }
        if (VERBOSE) process.stderr.write(`${r.name}: ${logs.trim()}\n`);
        if (!/CHECK OK/.test(logs)) problems.push(`${r.name}: ${logs.trim() || `no check output (state ${state.State.Status})`}`);
        if (!state.State.Running) problems.push(`${r.name}: not running (${state.State.Status}, exit ${state.State.ExitCode}, ${state.State.Error || 'no error'})`);
        if (state.RestartCount !== 0) problems.push(`${r.name}: restarted ${state.RestartCount} times`);
        if (state.HostConfig.ReadonlyRootfs !== true) problems.push(`${r.name}: root filesystem is writable`);
        for (const f of expectedFiles(id)) {
          seen.add(f.source);
          const mount = (state.Mounts as any[]).find((m) => f.path === m.Destination || f.path.startsWith(`${m.Destination}/`));
          if (mount?.RW) problems.push(`${r.name}: ${f.path} lies in a writable mount (${mount.Destination})`);
        }
        for (const n of r.networks_advanced ?? []) {
          const name = evaluated(n).name;
          const aliases: string[] = state.NetworkSettings.Networks[name]?.Aliases ?? [];
          if (!networkFailure && !n.aliases.every((a: string) => aliases.includes(a))) {
            problems.push(`${r.name}: not on network ${name} with aliases ${n.aliases.join(', ')} (has ${JSON.stringify(state.NetworkSettings.Networks)})`);
          }
        }
        for (const p of r.ports ?? []) {
          const bound = state.NetworkSettings.Ports?.[`${p.internal}/${p.protocol ?? 'tcp'}`] ?? [];
          if (!networkFailure && !bound.some((b: any) => b.HostIp === p.ip && Number(b.HostPort) > 0)) {
            problems.push(`${r.name}: port ${p.internal} not published on ${p.ip} (${JSON.stringify(bound)})`);
          }
        }
      }
      // Every upload of the stack must reach a running container.
      for (const id of order) {
        for (const u of containers[id].upload ?? []) {
          if (!seen.has(`${id}:${u.file}`)) problems.push(`${containers[id].name}: upload ${u.file} reaches no running container`);
        }
      }
      expect(problems).toEqual([]);
      expect(order.filter((id) => containers[id].start !== false).every((id) => containers[id].read_only === true)).toBe(true);
    }, 60_000);

    it('keeps every secret file root:root 0440, readable by its workload only through group 0 (group_add)', async () => {
      const uploads = secretUploads();
      // The stack's secrets: both databases' passwords, every RabbitMQ user's and the Erlang cookie.
      expect(uploads.length).toBeGreaterThanOrEqual(7);
      expect(uploads.filter((u) => u.permissions !== '0440')).toEqual([]);
      for (const dir of new Set(uploads.map((u) => path.posix.dirname(u.file)))) {
        // Every replica that mounts such a file joins group 0, and nothing else does.
        for (const id of order.filter((x) => containers[x].start !== false)) {
          const mountsSecrets = expectedFiles(id).some((f) => path.posix.dirname(f.path) === dir);
          const state = (await engine!.call('GET', `${API}/containers/${containerIds[id]}/json`)).json();
          if (mountsSecrets) expect([containers[id].name, state.HostConfig.GroupAdd]).toEqual([containers[id].name, ['0']]);
        }
      }
      for (const id of order.filter((x) => containers[x].start !== false)) {
        const files = expectedFiles(id);
        const reads = files.some((f) => uploads.some((u) => u.file === f.path));
        const state = (await engine!.call('GET', `${API}/containers/${containerIds[id]}/json`)).json();
        if (!reads) expect([containers[id].name, state.HostConfig.GroupAdd ?? null]).toEqual([containers[id].name, null]);
      }
      // (The check script of every replica read each file as the replica's user: see the test above.)
    }, 60_000);

    it('(why group_add) the same replica without group 0 cannot read its secrets: nothing is world-readable', async () => {
      const id = order.find((x) => containers[x].start !== false && containers[x].group_add?.length && containers[x].user);
      expect(id).toBeDefined();
      const r = evaluated(containers[id!]);
      const secretFile = expectedFiles(id!).find((f) => secretUploads().some((u) => u.file === f.path))!;
      const run = async (name: string, groupAdd: string[] | undefined) => {
        const body = containerCreateBody({ ...r, name, network_mode: 'none', networks_advanced: undefined, ports: undefined, restart: 'no', healthcheck: undefined, group_add: groupAdd });
        body.Entrypoint = ['/bin/sh', '-c'];
        body.Cmd = [`id; cat ${shq(secretFile.path)} >/dev/null && echo READ OK || echo READ DENIED`];
        const cid = (await engine!.call('POST', `${API}/containers/create?name=${name}`, body)).json().Id;
        await engine!.call('POST', `${API}/containers/${cid}/start`);
        await engine!.call('POST', `${API}/containers/${cid}/wait`);
        const out = await engine!.logs(cid);
        await engine!.call('DELETE', `${API}/containers/${cid}?force=1`);
        return out;
      };
      const [uid, gid] = String(r.user).split(':');
      const without = await run('secret-probe-without', undefined);
      expect(without).toMatch(new RegExp(`uid=${uid}\\b.*gid=${gid}\\b`));
      expect(without).toMatch(/Permission denied/);
      expect(without).toContain('READ DENIED');
      const withGroup = await run('secret-probe-with', ['0']);
      expect(withGroup).toMatch(/groups=.*\b0\b/);
      expect(withGroup).toContain('READ OK');
    }, 60_000);

    it('puts no secret value in a datastore\'s or the gateway\'s `docker inspect` env (the services\' connection passwords are the documented exception)', async () => {
      expect(secretValues.size).toBeGreaterThanOrEqual(7);
      const found: string[] = [];
      for (const id of order) {
        const state = (await engine!.call('GET', `${API}/containers/${containerIds[id]}/json`)).json();
        for (const e of state.Config.Env ?? [] as string[]) {
          const [name] = e.split('=', 1);
          if ([...secretValues].some((v) => e.includes(v))) found.push(`${containers[id].name}: ${name}`);
        }
      }
      const exposed = found.filter((f) => !SECRET_ENV_ALLOWED.test(f.split(': ')[1]));
      expect(exposed).toEqual([]);
      // The exception is real and confined to the services (so this test would see a new one).
      expect(found.length).toBeGreaterThan(0);
      expect(found.filter((f) => /-db-\d+$|-files$|rabbitmq|gateway/.test(f.split(': ')[0]))).toEqual([]);
      // The databases read their passwords from files.
      for (const id of order.filter((x) => /-db-\d+$/.test(containers[x].name))) {
        const env: string[] = (await engine!.call('GET', `${API}/containers/${containerIds[id]}/json`)).json().Config.Env;
        expect(env.filter((e) => /PASSWORD/.test(e))).toEqual([
          'POSTGRES_PASSWORD_FILE=/run/secrets/postgresql/superuser-password',
          'OWNER_PASSWORD_FILE=/run/secrets/postgresql/password',
          'MONITORING_PASSWORD_FILE=/run/secrets/postgresql-monitoring/password',
        ]);
      }
    });

    it('(why the files container) dockerd refuses an upload at "/" into a read-only container, even with a volume at the file\'s directory', async () => {
      const image = Object.values(imageIds)[0];
      const created = await engine!.call('POST', `${API}/containers/create?name=readonly-probe`, {
        Image: image, Cmd: ['/bin/sh'], HostConfig: { ReadonlyRootfs: true, NetworkMode: 'none', Mounts: [{ Type: 'volume', Target: '/etc/probe' }] },
      });
      const id = created.json().Id;
      const archive = tar([{ name: '/etc/probe/probe.conf', mode: 0o444, content: 'x' }]);
      // The provider always extracts at "/": the engine checks that extraction point, not the files.
      const atRoot = await engine!.request('PUT', `${API}/containers/${id}/archive?path=%2F`, archive);
      expect([atRoot.status, atRoot.message]).toEqual([500, 'container rootfs is marked read-only']);
      const atDir = await engine!.request('PUT', `${API}/containers/${id}/archive?path=%2Fetc%2Fprobe`, tar([{ name: 'probe.conf', mode: 0o444, content: 'x' }]));
      expect(atDir.status).toBe(200);
      await engine!.call('DELETE', `${API}/containers/${id}?v=1&force=1`);
    });

    it('keeps each container\'s mounts as the provider will read them back (no drift, no replacement on the next plan)', async () => {
      for (const id of order.filter((x) => containers[x].mounts)) {
        const state = (await engine!.call('GET', `${API}/containers/${containerIds[id]}/json`)).json();
        expect(state.HostConfig.Mounts).toEqual(containers[id].mounts.map((m: any) => ({ Type: m.type, Target: m.target, ...(m.source ? { Source: m.source } : {}) })));
        expect(state.HostConfig.NetworkMode).toBe(containers[id].network_mode ?? 'default');
      }
    });

    it('destroys every container as the provider does, leaving only the named volumes', async () => {
      const failures: string[] = [];
      // terraform destroy: dependents first (the replicas before the files container they mount).
      for (const id of [...order].reverse()) {
        if (!containerIds[id]) continue;
        const destroyCalls: ReplayedCall[] = [];
        try {
          await replayContainerDelete(engine!, containers[id], containerIds[id], destroyCalls);
        } catch (e) {
          failures.push(`${containers[id].name}: ${(e as Error).message}`);
        }
        if (VERBOSE) process.stderr.write(`destroy ${containers[id].name}:\n${destroyCalls.map((c) => `  ${c.call} -> ${c.status} in ${c.ms} ms${c.note ? ` (${c.note})` : ''}`).join('\n')}\n`);
      }
      expect(failures).toEqual([]);
      expect((await engine!.call('GET', `${API}/containers/json?all=1`)).json()).toEqual([]);
      const volumes = (await engine!.call('GET', `${API}/volumes`)).json().Volumes.map((v: any) => v.Name).sort();
      expect(volumes).toEqual(Object.values<any>(resources.docker_volume ?? {}).map((v) => v.name).sort());
    }, 120_000);

    /** The image name of a container's `${docker_image.X.image_id}`. */
    function imageNameOf(c: any): string {
      const m = /^\$\{docker_image\.([A-Za-z0-9_-]+)\.image_id\}$/.exec(c.image);
      return m ? resources.docker_image[m[1]].name : c.image;
    }

    /** Files a started container must see: its own uploads and those of the containers it takes volumes from. */
    function expectedFiles(id: string): Array<{ path: string; content: string; mode: string; owner: string; source: string }> {
      const c = containers[id];
      const sources = [id, ...(c.volumes ?? []).filter((v: any) => v.from_container).flatMap((v: any) => containerReferences(v))];
      return sources.flatMap((s) => (containers[s]?.upload ?? []).map((u: any) => {
        const e = evaluated(u);
        // The provider's tar header says uid 0, gid 0, and it asks for no copy-uid: root:root.
        return { path: e.file, content: e.content, mode: parseInt(e.permissions ?? '0644', 8).toString(8), owner: '0:0', source: `${s}:${u.file}` };
      }));
    }

    /** The uploads (of any container) that carry a secret: their content is a random_password result or a variable. */
    function secretUploads(): Array<{ container: string; file: string; permissions: string }> {
      return Object.values<any>(containers).flatMap((c) => (c.upload ?? [])
        .filter((u: any) => /\$\{(random_password\.|var\.)/.test(u.content ?? ''))
        .map((u: any) => ({ container: c.name, file: u.file, permissions: u.permissions })));
    }
  });

function fail(message: string): never {
  throw new Error(message);
}
