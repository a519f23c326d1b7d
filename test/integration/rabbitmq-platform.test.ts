/**
 * What RabbitMqCluster composes for the example platform, on a real 3-node RabbitMQ cluster: the
 * rabbitmq.conf, enabled_plugins, definitions.json and user bootstrap script are taken from the
 * synthesized `local` stack (not rendered by hand). rabbitmq.conf boots as composed, with only
 * what names this machine rewritten (listeners to 127.0.0.1 and free ports, the peers' node
 * names, the definitions path); every other line, the alarms, the partition handling and the
 * discovery backend included, is the composed one. Then each service's user is tried with
 * amqplib, and the node holding the queues' masters is killed while a service publishes with
 * confirms: every confirmed message must survive.
 *
 * Day two (issue 16): the construct's bootstrap loop runs beside every node as in the containers;
 * topic permissions refuse another service's routing key; a service added while orders publishes
 * with confirms (the files the construct renders with it, written where the loops look) loses no
 * confirmed message and restarts no node; a failing bootstrap keeps the composed readiness check
 * failing.
 *
 * Loopback only. Ports, all free ones from the registry (two checkouts may run this at once): per
 * node AMQP, Erlang distribution, management and Prometheus; a block for the CLI's distribution;
 * and an epmd of its own (ERL_EPMD_PORT, so this suite never shares epmd with the 3-node suite or
 * another run), stopped by its PID. Crash dumps go to the work folder.
 */
import * as amqp from 'amqplib';
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { Testing } from 'cdktf';
import { local } from '../../stacks/local';
import { ReferenceDeployment, ServiceSpec } from '../../lib/reference/reference-deployment';
import { resourcesOf, synthJson } from '../support/synth';
import { describeWithServer, findBinary, freePortRange, freePorts, makeWorkDir, sleep, stopPid, stopProcess, terraformLiteralText, waitForPort } from './support/real-servers';
import { pidIn, stopRabbitNode, waitForRabbitNode } from './support/rabbitmq-node';

jest.setTimeout(180000);

const execFileAsync = promisify(execFile);
const PASSWORDS: Record<string, string> = { orders: 'orders-pw-1', invoices: 'invoices-pw-2', notifications: 'notifications-pw-3' };
/** How many rabbitmqctl may run at once. */
const CTL_PORTS = 12;

interface PlatformNode {
  /** This machine's node name, e.g. rabbitplatform0@localhost. */
  name: string;
  /** The node name the composed config calls it by, e.g. rabbit@rabbitmq-0. */
  composedName: string;
  amqp: number;
  dist: number;
  management: number;
  prometheus: number;
  base: string;
  vm?: number;
}

interface QueueRow { name: string; pid: string; slave_pids: string[] | string; synchronised_slave_pids: string[] | string; messages?: number }

/**
 * The files the first RabbitMQ container of the local stack sees: uploaded into it, or into a
 * container whose volumes it mounts (`volumes { from_container }`, as for a read-only root), as
 * Terraform passes them on (a literal `${` is written `$${` in the JSON). With the number of nodes.
 */
function composed(addService?: ServiceSpec): { files: Record<string, string>; replicas: number; readiness: string[] } {
  const stack = local(Testing.app({ stackTraces: false }));
  if (addService) (stack.node.findChild('platform') as ReferenceDeployment).addService(addService);
  const json = synthJson(stack);
  const containers = resourcesOf(json, 'docker_container') as Record<string, any>;
  const node = Object.values(containers).find((c) => c.name === 'sovereign-rabbitmq-0');
  if (!node) throw new Error('no container sovereign-rabbitmq-0 in the local stack');
  const sources = [node, ...(node.volumes ?? [])
    .map((v: any) => /^\$\{docker_container\.([^.]+)\.id\}/.exec(v.from_container ?? '')?.[1])
    .filter(Boolean)
    .map((id: string) => containers[id])];
  const uploads = sources.flatMap((c: any) => c.upload ?? []);
  expect(uploads.length).toBeGreaterThan(0);
  const replicas = Object.values(containers).filter((c) => /^sovereign-rabbitmq-\d+$/.test(c.name)).length;
  // The readiness check, as Docker runs it (a healthcheck) and Kubernetes (a readiness probe).
  const [cmd, ...readiness] = node.healthcheck.test as string[];
  expect(cmd).toBe('CMD');
  return { files: Object.fromEntries(uploads.map((u: any) => [u.file, terraformLiteralText(u.content)])), replicas, readiness };
}

/**
 * The composed rabbitmq.conf for one node on this machine. Only the lines that name the machine
 * change; each must exist exactly once (or, for peers, once per node), so a composed file that
 * drops or renames one of them fails here instead of booting with RabbitMQ's defaults. Every other
 * line is kept as composed, and returned for the test to compare.
 */
function onLoopback(conf: string, node: PlatformNode, nodes: PlatformNode[], definitions: string): { text: string; rewritten: string[]; kept: string[] } {
  const rewrites: Record<string, (value: string) => string[]> = {
    'listeners.tcp.default': () => [`listeners.tcp.1 = 127.0.0.1:${node.amqp}`],
    'management.tcp.port': () => [`management.tcp.port = ${node.management}`, 'management.tcp.ip = 127.0.0.1'],
    'prometheus.tcp.port': () => [`prometheus.tcp.port = ${node.prometheus}`, 'prometheus.tcp.ip = 127.0.0.1'],
    load_definitions: () => [`load_definitions = ${definitions}`],
  };
  const seen = new Set<string>();
  const peers: string[] = [];
  const rewritten: string[] = [];
  const kept: string[] = [];
  const out = conf.split('\n').flatMap((line) => {
    const m = /^([a-z_.0-9]+) = (.*)$/.exec(line);
    if (!m) return [line];
    const [, key, value] = m;
    if (rewrites[key]) {
      if (seen.has(key)) throw new Error(`composed rabbitmq.conf sets ${key} twice`);
      seen.add(key);
      rewritten.push(line);
      return rewrites[key](value);
    }
    if (/^cluster_formation\.classic_config\.nodes\.\d+$/.test(key)) {
      const peer = nodes.find((n) => n.composedName === value);
      if (!peer) throw new Error(`composed rabbitmq.conf names a peer ${value} that is none of ${nodes.map((n) => n.composedName).join(', ')}`);
      peers.push(value);
      rewritten.push(line);
      return [`${key} = ${peer.name}`];
    }
    kept.push(line);
    return [line];
  });
  const missing = Object.keys(rewrites).filter((k) => !seen.has(k));
  if (missing.length > 0) throw new Error(`composed rabbitmq.conf has no ${missing.join(', ')}`);
  expect([...peers].sort()).toEqual(nodes.map((n) => n.composedName).sort());
  return { text: out.join('\n'), rewritten, kept };
}

describeWithServer('RabbitMQ', findBinary(['/usr/lib/rabbitmq/bin/rabbitmq-server']), 'RabbitMqCluster output on a real 3-node RabbitMQ cluster', (server) => {
  const ctl = path.join(path.dirname(server), 'rabbitmqctl');
  const epmdBinary = findBinary(['epmd', '/usr/bin/epmd']);
  let dir = '';
  let epmd: ChildProcess | undefined;
  const scripts: ChildProcess[] = [];
  const nodes: PlatformNode[] = [];
  let epmdPort = 0;
  let ctlPorts: number[] = [];
  let keptLines: string[] = [];
  let bootMs = 0;
  let readiness: string[] = [];
  let baseline: Record<string, string> = {};
  /** The construct's bootstrap (reconcile loop) script, pointed at this machine; one loop per node. */
  let loopScript = '';
  const loops: ChildProcess[] = [];
  const topology = () => path.join(dir, 'topology');
  const readyFile = (node: PlatformNode) => path.join(node.base, 'bootstrap.ready');
  const url = (user: string, node = nodes[0], password = PASSWORDS[user]) => `amqp://${user}:${password}@127.0.0.1:${node.amqp}/platform`;

  const env = (node: PlatformNode): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: path.join(dir, 'home'),
    LANG: 'C.UTF-8',
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    // An Erlang VM that dies writes erl_crash.dump into its working directory: not the checkout.
    ERL_CRASH_DUMP: path.join(dir, `erl_crash-${node.name}.dump`),
    RABBITMQ_NODENAME: node.name,
    RABBITMQ_NODE_PORT: String(node.amqp),
    RABBITMQ_DIST_PORT: String(node.dist),
    RABBITMQ_MNESIA_BASE: path.join(node.base, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(node.base, 'log'),
    RABBITMQ_CONFIG_FILE: path.join(node.base, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(node.base, 'enabled_plugins'),
    RABBITMQ_PID_FILE: path.join(node.base, 'pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_CTL_DIST_PORT_MIN: String(ctlPorts[0]),
    RABBITMQ_CTL_DIST_PORT_MAX: String(ctlPorts[ctlPorts.length - 1]),
    RABBITMQ_CTL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  });
  const rabbitmqctl = async (args: string[], node = nodes[0], timeoutMs = 60000) =>
    (await execFileAsync(ctl, ['-n', node.name, ...args], { env: env(node), cwd: dir, timeout: timeoutMs })).stdout;
  const ctlJson = async <T>(args: string[], node = nodes[0]): Promise<T> => JSON.parse(await rabbitmqctl([...args, '--formatter', 'json', '-q'], node)) as T;
  const pidFile = (node: PlatformNode) => path.join(node.base, 'pid');

  const nodeCtl = (node: PlatformNode) => (args: string[], timeoutMs?: number) => rabbitmqctl(args, node, timeoutMs);

  /** Runs a bootstrap loop script for `node` in the background; its output goes to loop-<ready file name>.log. */
  function startLoop(node: PlatformNode, ready: string, script: string): ChildProcess {
    const out = fs.openSync(path.join(node.base, `loop-${path.basename(ready)}.log`), 'a');
    const loop = spawn('sh', [script], { env: { ...env(node), TEST_READY_FILE: ready }, cwd: dir, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    return loop;
  }

  async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 60000): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      if (await ok()) return;
      await sleep(200);
    }
    const logs = nodes.flatMap((n) => fs.readdirSync(n.base).filter((f) => f.startsWith('loop-')).map((f) => `${n.name}/${f}:\n${fs.readFileSync(path.join(n.base, f), 'utf8').slice(-1500)}`));
    throw new Error(`timed out waiting for ${what}\n${logs.join('\n')}`);
  }

  async function startNode(node: PlatformNode): Promise<void> {
    const consoleLog = path.join(node.base, 'console.log');
    const out = fs.openSync(consoleLog, 'a');
    const script = spawn(server, [], { env: env(node), cwd: dir, stdio: ['ignore', out, out] });
    scripts.push(script);
    fs.closeSync(out);
    // The Erlang VM's PID (the spawned rabbitmq-server script runs it as a child, not by exec).
    node.vm = await waitForRabbitNode({ name: node.name, pidFile: pidFile(node), consoleLog, script, ctl: nodeCtl(node) });
  }

  async function stopNode(node: PlatformNode): Promise<void> {
    if (!node.vm) return;
    await stopRabbitNode(pidFile(node), nodeCtl(node));
    node.vm = undefined;
  }

  /** Resolves with the AMQP reply code that closes the channel (403 = ACCESS_REFUSED), or 0. */
  async function refusal(user: string, act: (ch: amqp.Channel) => Promise<unknown>, password = PASSWORDS[user]): Promise<number> {
    const conn = await amqp.connect(url(user, nodes[0], password));
    try {
      const ch = await conn.createChannel();
      const closed = new Promise<number>((resolve) => ch.once('error', (e: { code?: number }) => resolve(e.code ?? -1)));
      const outcome = await Promise.race([
        act(ch).then(async () => { await sleep(300); return 0; }, () => closed),
        closed,
      ]);
      return outcome;
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  beforeAll(async () => {
    dir = makeWorkDir('rabbitmq-platform');
    const composedFiles = composed();
    const { files, replicas } = composedFiles;
    expect(replicas).toBe(3);
    const ports = await freePorts(1 + 4 * replicas);
    epmdPort = ports[0];
    ctlPorts = await freePortRange(CTL_PORTS);
    for (let i = 0; i < replicas; i++) {
      const base = path.join(dir, `node${i}`);
      fs.mkdirSync(base);
      nodes.push({
        name: `rabbitplatform${i}@localhost`, composedName: `rabbit@rabbitmq-${i}`, base,
        amqp: ports[1 + 4 * i], dist: ports[2 + 4 * i], management: ports[3 + 4 * i], prometheus: ports[4 + 4 * i],
      });
    }
    fs.mkdirSync(path.join(dir, 'home'));
    fs.writeFileSync(path.join(dir, 'home', '.erlang.cookie'), `PLATFORMTEST${process.pid}`, { mode: 0o400 });
    // The live files (definitions, users) in a folder of their own, as the nodes see them.
    fs.mkdirSync(topology());
    const definitions = path.join(topology(), 'definitions.json');
    fs.writeFileSync(definitions, files['/etc/rabbitmq/topology/definitions.json']);
    fs.writeFileSync(path.join(topology(), 'users.sh'), files['/etc/rabbitmq/topology/users.sh']);
    readiness = composedFiles.readiness;
    baseline = files;
    for (const node of nodes) {
      const conf = onLoopback(files['/etc/rabbitmq/rabbitmq.conf'], node, nodes, definitions);
      keptLines = conf.kept;
      fs.writeFileSync(path.join(node.base, 'rabbitmq.conf'), conf.text);
      fs.writeFileSync(path.join(node.base, 'enabled_plugins'), files['/etc/rabbitmq/enabled_plugins']);
    }
    // The construct's loop, pointed at this machine's CLI, password files, live files and ready
    // files (one per node), looking every second rather than every 5.
    fs.mkdirSync(path.join(dir, 'users'));
    for (const [user, pw] of Object.entries(PASSWORDS)) fs.writeFileSync(path.join(dir, 'users', user), `${pw}\n`);
    const rewrites: [string, string][] = [
      ["CTL='rabbitmqctl'", `CTL='${ctl}'`],
      ["PASSWORD_DIR='/etc/rabbitmq/users'", `PASSWORD_DIR='${path.join(dir, 'users')}'`],
      ["USERS_FILE='/etc/rabbitmq/topology/users.sh'", `USERS_FILE='${path.join(topology(), 'users.sh')}'`],
      ["DEFINITIONS_FILE='/etc/rabbitmq/topology/definitions.json'", `DEFINITIONS_FILE='${definitions}'`],
      ["READY_FILE='/tmp/rabbitmq-bootstrap.ready'", 'READY_FILE="$TEST_READY_FILE"'],
      ['\nINTERVAL=5\n', '\nINTERVAL=1\n'],
    ];
    loopScript = files['/etc/rabbitmq/bootstrap-users.sh'];
    for (const [from, to] of rewrites) {
      expect(loopScript).toContain(from);
      loopScript = loopScript.replace(from, to);
    }
    fs.writeFileSync(path.join(dir, 'bootstrap-users.sh'), loopScript);

    if (!epmdBinary) throw new Error('epmd (Erlang) not found, though rabbitmq-server is installed');
    epmd = spawn(epmdBinary, ['-address', '127.0.0.1', '-port', String(epmdPort)], { cwd: dir, stdio: 'ignore' });
    await waitForPort(epmdPort);
    const started = Date.now();
    // One at a time, seed first: nodes joining the same seed at once can race in 3.10.
    for (const node of nodes) await startNode(node);
    bootMs = Date.now() - started;
    // Again, loudly: load_definitions drops a bad file silently, import_definitions fails on it.
    await rabbitmqctl(['import_definitions', definitions]);
    // The bootstrap loop beside every node, as in each container.
    for (const node of nodes) loops.push(startLoop(node, readyFile(node), path.join(dir, 'bootstrap-users.sh')));
    // Generous: a rabbitmqctl call takes seconds on a loaded 2-core machine, and each loop makes ~15.
    await waitFor('every node ready (bootstrap applied)', () => nodes.every((n) => fs.existsSync(readyFile(n))), 300000);
  }, 420000);

  afterAll(async () => {
    try {
      await Promise.all(loops.map((l) => stopProcess(l, 'SIGKILL')));
      await Promise.all(nodes.map((node) => stopNode(node).catch(() => undefined)));
      // No-op once each VM is gone; else the script's TERM trap stops the VM it started.
      await Promise.all(scripts.map((s) => stopProcess(s, 'SIGTERM', 30000)));
      await stopProcess(epmd);
    } finally {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);

  it('boots the composed rabbitmq.conf into one 3-node cluster, with its alarms and partition handling', async () => {
    // eslint-disable-next-line no-console
    console.log(`[rabbitmq platform] 3 nodes booted from the composed rabbitmq.conf in ${bootMs} ms; kept as composed:\n  ${keptLines.join('\n  ')}`);
    const status = await ctlJson<{ running_nodes: string[] }>(['cluster_status']);
    expect([...status.running_nodes].sort()).toEqual(nodes.map((n) => n.name));
    // What the composed lines say, as the running node has it.
    const composedValue = (key: string) => /= (.*)$/.exec(keptLines.find((l) => l.startsWith(`${key} = `)) ?? '')?.[1];
    expect(composedValue('cluster_partition_handling')).toBe('pause_minority');
    expect((await rabbitmqctl(['eval', 'application:get_env(rabbit, cluster_partition_handling).'], nodes[1])).trim()).toBe('{ok,pause_minority}');
    const mib = (key: string) => Number(/^(\d+)MiB$/.exec(composedValue(key) ?? '')?.[1]) * 1024 * 1024;
    expect(mib('vm_memory_high_watermark.absolute')).toBeGreaterThan(0);
    expect((await rabbitmqctl(['eval', 'vm_memory_monitor:get_memory_limit().'], nodes[1])).trim()).toBe(String(mib('vm_memory_high_watermark.absolute')));
    expect(mib('disk_free_limit.absolute')).toBeGreaterThan(0);
    expect((await rabbitmqctl(['eval', 'rabbit_disk_monitor:get_disk_free_limit().'], nodes[1])).trim()).toBe(String(mib('disk_free_limit.absolute')));
    // No alarm is raised on this machine: publishers are not blocked.
    expect((await rabbitmqctl(['eval', 'rabbit_alarm:get_alarms().'], nodes[1])).trim()).toBe('[]');
  });

  it('declares durable queues with the ha-all policy, and users only through the bootstrap', async () => {
    const queues = JSON.parse(await rabbitmqctl(['list_queues', '-p', 'platform', 'name', 'durable', 'policy', '--formatter', 'json', '-q']));
    expect(queues.map((q: any) => [q.name, q.durable, q.policy]).sort()).toEqual([
      ['invoices.orders.created', true, 'ha-all'],
      ['notifications.invoices.issued', true, 'ha-all'],
      ['notifications.orders.created', true, 'ha-all'],
    ]);
    const users = JSON.parse(await rabbitmqctl(['list_users', '--formatter', 'json', '-q'])).map((u: any) => u.user).sort();
    expect(users).toEqual(['invoices', 'notifications', 'orders']); // no guest: definitions create none
  });

  it('routes a published event to every consuming service', async () => {
    const publisher = await amqp.connect(url('orders'));
    const ch = await publisher.createConfirmChannel();
    ch.publish('events', 'orders.created', Buffer.from('{"order":42}'), { persistent: true });
    await ch.waitForConfirms();
    await publisher.close();
    for (const consumer of ['invoices', 'notifications']) {
      const conn = await amqp.connect(url(consumer));
      const c = await conn.createChannel();
      const msg = await c.get(`${consumer}.orders.created`, { noAck: true });
      expect(msg && msg.content.toString()).toBe('{"order":42}');
      await conn.close();
    }
  });

  it('refuses what a service was not granted', async () => {
    // orders publishes only: it may not read another service's queue.
    expect(await refusal('orders', (ch) => ch.get('invoices.orders.created'))).toBe(403);
    // notifications consumes only: it may not publish to the exchange.
    expect(await refusal('notifications', async (ch) => { ch.publish('events', 'x', Buffer.from('x')); await sleep(500); })).toBe(403);
    // Nobody declares topology: configure is '^$'.
    expect(await refusal('invoices', (ch) => ch.assertQueue('invoices.scratch'))).toBe(403);
    // And the grants themselves still work after the refusals above.
    expect(await refusal('invoices', (ch) => ch.checkQueue('invoices.orders.created'))).toBe(0);
  });

  it('refuses a wrong password', async () => {
    await expect(amqp.connect(url('orders', nodes[0], 'not-the-password'))).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  it('refuses a publish with another service\'s routing key (topic permissions: ACCESS_REFUSED), and passes its own', async () => {
    const publish = (key: string) => async (ch: amqp.Channel) => { ch.publish('events', key, Buffer.from('{}')); await sleep(500); };
    // 403 is ACCESS_REFUSED: the node closes the channel.
    expect(await refusal('orders', publish('invoices.issued'))).toBe(403);
    expect(await refusal('invoices', publish('orders.created'))).toBe(403);
    expect(await refusal('orders', publish('orders.created'))).toBe(0);
    expect(await refusal('invoices', publish('invoices.issued'))).toBe(0);
    const topic = await ctlJson<{ exchange: string; write: string; read: string }[]>(['list_user_topic_permissions', 'orders']);
    expect(topic).toEqual([{ vhost: 'platform', exchange: 'events', write: '^orders\\.created$', read: '^$' }]);
  });

  it('adds a service (user, queue, binding) to the running cluster while orders publishes with confirms: nothing lost, no node restarted', async () => {
    const uptimeMs = async (n: PlatformNode) => Number((await rabbitmqctl(['eval', 'element(1, erlang:statistics(wall_clock)).'], n)).trim());
    const vmsBefore = nodes.map((n) => pidIn(pidFile(n)));
    const uptimeBefore = await Promise.all(nodes.map(uptimeMs));
    const consumerQueues = ['invoices.orders.created', 'notifications.orders.created'];
    for (const q of consumerQueues) await rabbitmqctl(['purge_queue', '-p', 'platform', q]);

    // orders publishes with confirms, at most 50 unconfirmed, until told to stop.
    const conn = await amqp.connect(url('orders', nodes[1]));
    const ch = await conn.createConfirmChannel();
    let channelError = '';
    ch.on('error', (e: Error) => { channelError = e.message; });
    const confirmed = new Set<number>();
    const nacked = new Set<number>();
    let published = 0;
    let stop = false;
    const settled = () => confirmed.size + nacked.size;
    const publishing = (async () => {
      while (!stop && !channelError) {
        if (published - settled() >= 50) { await sleep(1); continue; }
        const id = published++;
        ch.publish('events', 'orders.created', Buffer.from(String(id)), { persistent: true }, (err) => { (err ? nacked : confirmed).add(id); });
        if (id % 25 === 0) await sleep(5);
      }
    })();
    let changeAt = 0;
    try {
      await waitFor('confirms flowing', () => confirmed.size > 300);

      // The platform with one more service, as the construct renders it: only the live files change.
      const after = composed({ name: 'audit', image: 'registry.example.no/audit:1.0.0', port: 8080, routes: ['/v1/audit'], messaging: { consumes: ['orders.created'] } });
      // Config files only: the Docker target uploads the users Secret's keys too (the new password).
      const changed = Object.keys(after.files).filter((f) => after.files[f] !== baseline[f] && !f.startsWith('/etc/rabbitmq/users/')).sort();
      expect(changed).toEqual(['/etc/rabbitmq/topology/definitions.json', '/etc/rabbitmq/topology/users.sh']);
      changeAt = published;
      fs.writeFileSync(path.join(topology(), 'definitions.json'), after.files['/etc/rabbitmq/topology/definitions.json']);
      fs.writeFileSync(path.join(topology(), 'users.sh'), after.files['/etc/rabbitmq/topology/users.sh']);
      // The kubelet refreshes the Secret on its own schedule: the password lands a little later.
      await sleep(1500);
      fs.writeFileSync(path.join(dir, 'users', 'audit'), 'audit-pw-4\n');
      await waitFor('audit able to read its queue', async () => {
        const c = await amqp.connect(url('audit', nodes[2], 'audit-pw-4')).catch(() => undefined);
        if (!c) return false;
        try {
          const cch = await c.createChannel();
          cch.on('error', () => undefined);
          return Boolean(await cch.checkQueue('audit.orders.created').catch(() => undefined));
        } finally {
          await c.close().catch(() => undefined);
        }
      }, 240000);
    } catch (e) {
      stop = true;
      await publishing.catch(() => undefined);
      await conn.close().catch(() => undefined);
      throw e;
    }
    const boundFrom = published; // the binding exists: every message from here on reaches audit too
    await sleep(1500);
    stop = true;
    await publishing;
    for (let i = 0; i < 400 && settled() < published; i++) await sleep(25);
    await conn.close().catch(() => undefined);

    const drain = async (queue: string, user: string, password?: string) => {
      const sub = await amqp.connect(url(user, nodes[0], password));
      const cch = await sub.createChannel();
      await cch.prefetch(500);
      const got = new Set<number>();
      let last = Date.now();
      await cch.consume(queue, (m) => { if (!m) return; got.add(Number(m.content.toString())); last = Date.now(); cch.ack(m); });
      while ([...confirmed].some((id) => !got.has(id) && (queue !== 'audit.orders.created' || id >= boundFrom)) && Date.now() - last < 3000) await sleep(50);
      await sub.close().catch(() => undefined);
      return got;
    };
    const received = {
      invoices: await drain('invoices.orders.created', 'invoices'),
      notifications: await drain('notifications.orders.created', 'notifications'),
      audit: await drain('audit.orders.created', 'audit', 'audit-pw-4'),
    };
    const lost = {
      invoices: [...confirmed].filter((id) => !received.invoices.has(id)).length,
      notifications: [...confirmed].filter((id) => !received.notifications.has(id)).length,
      audit: [...confirmed].filter((id) => id >= boundFrom && !received.audit.has(id)).length,
    };
    const uptimeAfter = await Promise.all(nodes.map(uptimeMs));
    // eslint-disable-next-line no-console
    console.log(`[rabbitmq add a service at runtime] published ${published}, ${confirmed.size} confirmed, ${nacked.size} nacked; files changed at #${changeAt}, ` +
      `audit's queue bound from #${boundFrom} at the latest; audit received ${received.audit.size}; lost ${JSON.stringify(lost)}; ` +
      `VM pids ${vmsBefore.join(',')} -> ${nodes.map((n) => pidIn(pidFile(n))).join(',')}; uptime ms ${uptimeBefore.join(',')} -> ${uptimeAfter.join(',')}`);

    expect(channelError).toBe('');
    expect(nacked.size).toBe(0);
    expect(confirmed.size).toBe(published);
    expect(boundFrom).toBeGreaterThan(changeAt);
    expect(published).toBeGreaterThan(boundFrom);
    expect(lost).toEqual({ invoices: 0, notifications: 0, audit: 0 });
    // No node restarted: the same Erlang VMs, alive, their uptime only grown; all ready throughout.
    expect(nodes.map((n) => pidIn(pidFile(n)))).toEqual(vmsBefore);
    for (const pid of vmsBefore) expect(() => process.kill(pid!, 0)).not.toThrow();
    uptimeAfter.forEach((ms, i) => expect(ms).toBeGreaterThan(uptimeBefore[i]));
    expect(nodes.every((n) => fs.existsSync(readyFile(n)))).toBe(true);
    // audit got least privilege like the others: it may not publish.
    expect(await refusal('audit', async (c) => { c.publish('events', 'orders.created', Buffer.from('x')); await sleep(500); }, 'audit-pw-4')).toBe(403);
  }, 600000);

  it('leaves the readiness check failing while the bootstrap fails, and passing once it succeeds', async () => {
    const node = nodes[2];
    const diagnostics = path.join(path.dirname(server), 'rabbitmq-diagnostics');
    // The composed readiness check, pointed at a ready file and this node.
    const check = async (ready: string): Promise<number> => {
      const argv = readiness.map((a) => a
        .replace('/tmp/rabbitmq-bootstrap.ready', ready)
        .replace('exec rabbitmq-diagnostics', `exec ${diagnostics} -n ${node.name}`));
      expect(argv.join(' ')).toContain(ready);
      return execFileAsync(argv[0], argv.slice(1), { env: env(node), cwd: dir, timeout: 60000 }).then(() => 0, (e: { code?: number }) => e.code ?? -1);
    };
    // A users file naming a user whose password file is missing: the bootstrap fails.
    const ghostUsers = path.join(dir, 'ghost-users.sh');
    fs.writeFileSync(ghostUsers, "ensure_user 'ghost' 'platform' '^$' '^$' '^$' 'events' '^$' '^$'\n");
    const script = path.join(dir, 'ghost-bootstrap.sh');
    fs.writeFileSync(script, loopScript.replace(`USERS_FILE='${path.join(topology(), 'users.sh')}'`, `USERS_FILE='${ghostUsers}'`));
    expect(fs.readFileSync(script, 'utf8')).toContain(ghostUsers);
    const ready = path.join(node.base, 'ghost.ready');
    const log = path.join(node.base, 'loop-ghost.ready.log');
    const loop = startLoop(node, ready, script);
    loops.push(loop);
    await waitFor('a failed bootstrap', () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('for user ghost is missing'), 240000);
    await sleep(2500); // a few more failed rounds
    expect(fs.existsSync(ready)).toBe(false);
    expect(await check(ready)).not.toBe(0);
    // The same check passes on this node with the working loop's ready file: it is the bootstrap that fails it.
    expect(await check(readyFile(node))).toBe(0);
    fs.writeFileSync(path.join(dir, 'users', 'ghost'), 'ghost-pw\n');
    await waitFor('the ghost bootstrap ready', () => fs.existsSync(ready), 240000);
    expect(await check(ready)).toBe(0);
    await stopProcess(loop, 'SIGKILL');
  }, 600000);

  // Last: it kills a node.
  it('loses no confirmed message when the node holding the queue masters is killed while orders publishes', async () => {
    const consumerQueues = ['invoices.orders.created', 'notifications.orders.created'];
    const list = () => ctlJson<QueueRow[]>(['list_queues', '-p', 'platform', 'name', 'pid', 'slave_pids', 'synchronised_slave_pids', 'messages'], survivorOf());
    let victim: PlatformNode | undefined;
    const survivorOf = () => nodes.find((n) => n !== victim && n.vm)!;
    const pids = (v: string[] | string) => (Array.isArray(v) ? v : []);
    const homeOf = (pid: string) => nodes.find((n) => pid.includes(`<${n.name}.`));
    // Every queue mirrored to both other nodes and in sync, before anything is published.
    let rows: QueueRow[] = [];
    for (const deadline = Date.now() + 30000; Date.now() < deadline;) {
      rows = (await list()).filter((q) => consumerQueues.includes(q.name));
      if (rows.length === 2 && rows.every((q) => pids(q.synchronised_slave_pids).length === 2)) break;
      await sleep(200);
    }
    expect(rows.map((q) => pids(q.synchronised_slave_pids).length)).toEqual([2, 2]);
    for (const q of rows) await rabbitmqctl(['purge_queue', '-p', 'platform', q.name]);
    // The masters' pids name their nodes in the text output (<rabbitplatform0@localhost.1669.512.0>),
    // not in JSON (#PID<10988.1044.0>).
    const text = await rabbitmqctl(['list_queues', '-p', 'platform', 'name', 'pid', '--no-table-headers', '-q']);
    const masterOf = (queue: string) => homeOf(text.split('\n').find((l) => l.split('\t')[0] === queue) ?? '');
    const masters = consumerQueues.map((q) => masterOf(q)?.name);
    victim = masterOf(consumerQueues[0]);
    if (!victim) throw new Error(`no node in the queue pids:\n${text}`);
    const [publishVia, consumeVia] = nodes.filter((n) => n !== victim);

    // Publish with confirms, at most WINDOW unconfirmed at a time, and kill the victim (SIGKILL:
    // a crash, no graceful handover) once KILL_AFTER are confirmed, while the rest are in flight.
    const TOTAL = 6000;
    const WINDOW = 200;
    const KILL_AFTER = 2000;
    const conn = await amqp.connect(url('orders', publishVia));
    const ch = await conn.createConfirmChannel();
    let channelError = '';
    ch.on('error', (e: Error) => { channelError = e.message; });
    conn.on('error', (e: Error) => { channelError ||= e.message; });
    const confirmed = new Set<number>();
    const refused = new Set<number>();
    let published = 0;
    let inFlightAtKill = -1;
    let confirmedAtKill = -1;
    let killed: Promise<void> | undefined;
    const killedAt: { ms?: number } = {};
    const started = Date.now();
    const settled = () => confirmed.size + refused.size;
    while (published < TOTAL && !channelError) {
      if (published - settled() >= WINDOW) {
        // The window is full: a whole window of messages is unconfirmed right now.
        if (!killed && confirmed.size >= KILL_AFTER) {
          inFlightAtKill = published - settled();
          confirmedAtKill = confirmed.size;
          killedAt.ms = Date.now() - started;
          killed = stopPid(victim.vm, 'SIGKILL');
        }
        await sleep(1);
        continue;
      }
      const id = published++;
      ch.publish('events', 'orders.created', Buffer.from(String(id)), { persistent: true, messageId: String(id) }, (err) => {
        (err ? refused : confirmed).add(id);
      });
    }
    for (let i = 0; i < 600 && settled() < published && !channelError; i++) await sleep(50);
    await killed;
    victim.vm = undefined;
    await conn.close().catch(() => undefined);
    const publishMs = Date.now() - started;
    expect(killed).toBeDefined();

    // Each consuming service reads its queue from a surviving node (a mirror was promoted).
    const received: Record<string, Set<number>> = {};
    const deliveries: Record<string, number> = {};
    const unreadable: Record<string, string> = {};
    for (const queue of consumerQueues) {
      const user = queue.split('.')[0];
      const sub = await amqp.connect(url(user, consumeVia));
      const cch = await sub.createChannel();
      // A queue whose only copy was on the killed node cannot be read (404 NOT_FOUND, home node
      // down): then every message in it counts as lost.
      cch.on('error', (e: Error) => { unreadable[queue] ||= e.message; });
      await cch.prefetch(500);
      received[queue] = new Set();
      deliveries[queue] = 0;
      let last = Date.now();
      await cch.consume(queue, (msg) => {
        if (!msg) return;
        received[queue].add(Number(msg.content.toString()));
        deliveries[queue]++;
        last = Date.now();
        cch.ack(msg);
      }).catch((e: Error) => { unreadable[queue] ||= e.message; });
      // Until every confirmed message is in, or nothing arrived for 3 s.
      while (!unreadable[queue] && [...confirmed].some((id) => !received[queue].has(id)) && Date.now() - last < 3000) await sleep(50);
      await sub.close().catch(() => undefined);
    }
    const status = await ctlJson<{ running_nodes: string[] }>(['cluster_status'], consumeVia);
    const lost = Object.fromEntries(consumerQueues.map((q) => [q, [...confirmed].filter((id) => !received[q].has(id)).length]));
    // eslint-disable-next-line no-console
    console.log(`[rabbitmq in-flight failover] masters on ${masters.join(', ')}; killed ${victim.name} at ${killedAt.ms} ms with ${confirmedAtKill} confirmed and ${inFlightAtKill} unconfirmed in flight; ` +
      `published ${published} via ${publishVia.name} in ${publishMs} ms: ${confirmed.size} confirmed (${confirmed.size - confirmedAtKill} after the kill), ${refused.size} nacked, ` +
      `${published - settled()} never settled${channelError ? ` (channel: ${channelError})` : ''}; ` +
      consumerQueues.map((q) => `${q}: ${received[q].size} distinct of ${deliveries[q]} delivered, ${lost[q]} confirmed lost${unreadable[q] ? ` (${unreadable[q]})` : ''}`).join('; '));

    expect(status.running_nodes.sort()).toEqual(nodes.filter((n) => n !== victim).map((n) => n.name).sort());
    // The kill happened mid-stream: messages were unconfirmed at that instant, and publishing
    // went on and was confirmed after it.
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(confirmed.size - confirmedAtKill).toBeGreaterThan(inFlightAtKill);
    expect(channelError).toBe('');
    // Every confirmed message reached every consumer's queue, and survived.
    expect(lost).toEqual(Object.fromEntries(consumerQueues.map((q) => [q, 0])));
  });
});
