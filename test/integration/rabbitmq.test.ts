/**
 * The rendered rabbitmq.conf, enabled_plugins, definitions.json and user bootstrap script on a real
 * 3-node RabbitMQ cluster (loopback only): clustering, definitions import, classic mirroring and
 * service users from password files. A node killed while a service publishes with confirms, with
 * no confirmed message lost, is proven on the composed platform: rabbitmq-platform.test.ts.
 *
 * Ports, all free ones from the registry (two checkouts may run this at once): per node AMQP,
 * Prometheus and Erlang distribution; a block for the CLI's distribution; and an epmd of this
 * suite's own (ERL_EPMD_PORT), started and stopped by its PID. Crash dumps go to the work folder.
 */
import * as amqp from 'amqplib';
import { ChildProcess, execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { promisify } from 'util';
import { renderRabbitMqDefinitions } from '../../lib/rabbitmq/render-rabbitmq-definitions';
import { renderUserBootstrapScript } from '../../lib/rabbitmq/render-user-bootstrap';
import { describeWithServer, findBinary, freePortRange, freePorts, makeWorkDir, sleep, stopProcess } from './support/real-servers';
import { startLoopbackEpmd, startRabbitServer, stopRabbitNode, writeLoopbackClusterConfigs } from './support/rabbitmq-node';

jest.setTimeout(180000);

const execFileAsync = promisify(execFile);
const VERSION = '3.10.8';
interface NodeSpec { name: string; amqpPort: number; prometheusPort: number; distPort: number }
/** Filled in beforeAll, with free ports. */
const NODES: NodeSpec[] = [];
/** How many rabbitmqctl may run at once (stopping all three nodes in parallel, and spare). */
const CTL_PORTS = 8;

interface QueueRow { name: string; policy: string; pid: string; slave_pids: string[]; synchronised_slave_pids: string[]; messages?: number; type?: string }

describeWithServer('RabbitMQ', findBinary(['/usr/lib/rabbitmq/bin/rabbitmq-server']), 'RabbitMQ renderers on a real 3-node cluster', (server) => {
  const ctl = path.join(path.dirname(server), 'rabbitmqctl');
  const epmdBinary = findBinary(['epmd', '/usr/bin/epmd']);
  let dir = '';
  let epmd: ChildProcess | undefined;
  let epmdPort = 0;
  let ctlPorts: number[] = [];
  const scripts: ChildProcess[] = [];
  const pidFile = (node: string): string => path.join(dir, node, 'pid');
  const definitionsPath = (): string => path.join(dir, 'definitions.json');
  const passwordDir = (): string => path.join(dir, 'users');

  function env(node: NodeSpec): NodeJS.ProcessEnv {
    const base = path.join(dir, node.name);
    return {
      PATH: process.env.PATH,
      HOME: path.join(dir, 'home'),
      LANG: 'C.UTF-8',
      // This suite's own epmd; a node or CLI never starts (and leaves behind) one of its own.
      ERL_EPMD_PORT: String(epmdPort),
      // An Erlang VM that dies writes erl_crash.dump into its working directory: not the checkout.
      ERL_CRASH_DUMP: path.join(dir, `erl_crash-${node.name}.dump`),
      RABBITMQ_NODENAME: node.name,
      RABBITMQ_NODE_PORT: String(node.amqpPort),
      RABBITMQ_DIST_PORT: String(node.distPort),
      RABBITMQ_MNESIA_BASE: path.join(base, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(base, 'log'),
      RABBITMQ_CONFIG_FILE: path.join(base, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(base, 'enabled_plugins'),
      RABBITMQ_PID_FILE: pidFile(node.name),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      // rabbitmqctl is an Erlang node too: keep its distribution port in our block and on loopback.
      RABBITMQ_CTL_DIST_PORT_MIN: String(ctlPorts[0]),
      RABBITMQ_CTL_DIST_PORT_MAX: String(ctlPorts[ctlPorts.length - 1]),
      RABBITMQ_CTL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  async function rabbitmqctl(node: NodeSpec, args: string[], timeoutMs = 60000, tool = ctl): Promise<string> {
    const { stdout } = await execFileAsync(tool, ['-n', node.name, ...args], { env: env(node), cwd: dir, timeout: timeoutMs });
    return stdout;
  }

  async function ctlJson<T>(node: NodeSpec, args: string[]): Promise<T> {
    return JSON.parse(await rabbitmqctl(node, [...args, '--formatter', 'json', '-q'])) as T;
  }

  const nodeCtl = (node: NodeSpec) => (args: string[], timeoutMs?: number) => rabbitmqctl(node, args, timeoutMs);

  async function startNode(node: NodeSpec): Promise<void> {
    await startRabbitServer({
      server, env: env(node), cwd: dir, name: node.name, pidFile: pidFile(node.name), ctl: nodeCtl(node), track: (script) => scripts.push(script),
    });
  }

  const stopNode = (node: NodeSpec): Promise<void> => stopRabbitNode(pidFile(node.name), nodeCtl(node));

  let clusterBootMs = 0;

  beforeAll(async () => {
    dir = makeWorkDir('rabbitmq');
    fs.mkdirSync(path.join(dir, 'home'));
    fs.writeFileSync(path.join(dir, 'home', '.erlang.cookie'), `SOVEREIGNSTACKTEST${process.pid}`, { mode: 0o400 });
    const [epmdAt, ...nodePorts] = await freePorts(1 + 3 * 3);
    epmdPort = epmdAt;
    ctlPorts = await freePortRange(CTL_PORTS);
    NODES.splice(0, NODES.length, ...[0, 1, 2].map((i) => ({
      name: `rabbit${i + 1}@localhost`,
      amqpPort: nodePorts[3 * i],
      prometheusPort: nodePorts[3 * i + 1],
      distPort: nodePorts[3 * i + 2],
    })));
    // Our own loopback-only epmd on our own port (never the shared 4369), stopped by PID in afterAll.
    epmd = await startLoopbackEpmd(epmdBinary, epmdPort, dir);
    fs.writeFileSync(definitionsPath(), renderRabbitMqDefinitions({
      rabbitmqVersion: VERSION,
      queueMode: 'classic-mirrored',
      vhosts: ['orders', 'invoices'],
      exchanges: [{ name: 'events', vhost: 'orders' }, { name: 'events', vhost: 'invoices' }],
      queues: [{ name: 'orders.created', vhost: 'orders' }, { name: 'invoices.todo', vhost: 'invoices' }],
      bindings: [{ vhost: 'orders', exchange: 'events', queue: 'orders.created', routingKey: 'orders.created' }],
    }));
    writeLoopbackClusterConfigs(dir, NODES, { rabbitmqVersion: VERSION, definitionsPath: definitionsPath() });
    const started = Date.now();
    // One at a time, seed first: nodes joining the same seed at once can race in 3.10.
    for (const node of NODES) await startNode(node);
    clusterBootMs = Date.now() - started;
  }, 150000);

  afterAll(async () => {
    try {
      if (dir) await Promise.all(NODES.map((node) => stopNode(node).catch(() => undefined)));
      // No-op once each VM is gone; else the script's TERM trap stops the VM it started.
      await Promise.all(scripts.map((s) => stopProcess(s, 'SIGTERM', 30000)));
      await stopProcess(epmd);
    } finally {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);

  it('boots three nodes into one cluster', async () => {
    const status = await ctlJson<{ running_nodes: string[]; disk_nodes: string[] }>(NODES[0], ['cluster_status']);
    expect([...status.running_nodes].sort()).toEqual(NODES.map((n) => n.name));
    expect([...status.disk_nodes].sort()).toEqual(NODES.map((n) => n.name));
    // eslint-disable-next-line no-console
    console.log(`3-node cluster booted in ${clusterBootMs} ms`);
  });

  it('applies the rendered watermarks and binds loopback only', async () => {
    expect((await rabbitmqctl(NODES[1], ['eval', 'vm_memory_monitor:get_memory_limit().'])).trim()).toBe(String(204 * 1024 * 1024));
    expect((await rabbitmqctl(NODES[1], ['eval', 'rabbit_disk_monitor:get_disk_free_limit().'])).trim()).toBe(String(1024 * 1024 * 1024));
    // What the kernel sees bound by the three nodes' processes, and nothing else (the CLI's
    // listener report formats interfaces its own way). By PID: another run's ports are not ours.
    const pids = new Set(NODES.map((n) => Number(fs.readFileSync(pidFile(n.name), 'utf8').trim())));
    const { stdout } = await execFileAsync('ss', ['-ltnpH']);
    const ours = stdout.split('\n')
      .filter((l) => [...l.matchAll(/pid=(\d+)/g)].some((m) => pids.has(Number(m[1]))))
      .map((l) => l.trim().split(/\s+/)[3]);
    const expected = NODES.flatMap((n) => [n.amqpPort, n.prometheusPort, n.distPort].map((p) => `127.0.0.1:${p}`));
    expect([...ours].sort()).toEqual(expected.sort());
  });

  it('serves Prometheus metrics from the enabled plugin', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: NODES[2].prometheusPort, path: '/metrics' }, (res) => {
        let data = '';
        res.on('data', (c) => { data += c; });
        res.on('end', () => (res.statusCode === 200 ? resolve(data) : reject(new Error(`HTTP ${res.statusCode}`))));
      }).on('error', reject);
    });
    expect(body).toContain('rabbitmq_build_info');
    // What dashboards and alerts read (issue 16, item 11): queues, connections, memory alarms.
    for (const metric of ['rabbitmq_queues', 'rabbitmq_connections', 'rabbitmq_queue_messages_ready', 'rabbitmq_alarms_memory_used_watermark']) {
      expect(body).toMatch(new RegExp(`^${metric}[{ ]`, 'm'));
    }
  });

  it('imports the rendered definitions loudly and shows ha-all with synchronised mirrors', async () => {
    // load_definitions silently drops a bad file: import again with the CLI, which fails loudly.
    await expect(rabbitmqctl(NODES[0], ['import_definitions', definitionsPath()])).resolves.toBeDefined();
    for (const vhost of ['orders', 'invoices']) {
      const policies = await ctlJson<Array<{ name: string; pattern: string; 'apply-to': string; definition: unknown }>>(NODES[0], ['list_policies', '-p', vhost]);
      expect(policies).toHaveLength(1);
      const definition = typeof policies[0].definition === 'string' ? JSON.parse(policies[0].definition) : policies[0].definition;
      expect(policies[0]).toMatchObject({ name: 'ha-all', pattern: '.*', 'apply-to': 'queues' });
      expect(definition).toEqual({ 'ha-mode': 'all', 'ha-sync-mode': 'automatic' });
    }
    const users = await ctlJson<Array<{ user: string }>>(NODES[0], ['list_users']);
    expect(users).toEqual([]); // no guest, no users from definitions
    let queue: QueueRow | undefined;
    for (let i = 0; i < 50; i++) {
      [queue] = await ctlJson<QueueRow[]>(NODES[0], ['list_queues', '-p', 'orders', 'name', 'durable', 'policy', 'pid', 'slave_pids', 'synchronised_slave_pids']);
      if (queue?.synchronised_slave_pids?.length === 2) break;
      await sleep(200);
    }
    expect(queue).toMatchObject({ name: 'orders.created', durable: true, policy: 'ha-all' });
    expect(queue!.slave_pids).toHaveLength(2);
    expect(queue!.synchronised_slave_pids).toHaveLength(2);
  });

  it('imports quorum-mode definitions on 3.10: quorum queues and a quorum vhost default', async () => {
    const file = path.join(dir, 'definitions-quorum.json');
    fs.writeFileSync(file, renderRabbitMqDefinitions({
      rabbitmqVersion: VERSION, queueMode: 'quorum', vhosts: ['ledger'], queues: [{ name: 'ledger.entries', vhost: 'ledger' }],
    }));
    await rabbitmqctl(NODES[0], ['import_definitions', file]);
    const [vhost] = await ctlJson<Array<{ name: string; default_queue_type: string }>>(NODES[0], ['list_vhosts', 'name', 'default_queue_type']).then((v) => v.filter((x) => x.name === 'ledger'));
    expect(vhost.default_queue_type).toBe('quorum');
    const queues = await ctlJson<QueueRow[]>(NODES[0], ['list_queues', '-p', 'ledger', 'name', 'type', 'policy']);
    expect(queues).toEqual([expect.objectContaining({ name: 'ledger.entries', type: 'quorum' })]);
    expect(queues[0].policy ?? '').toBe('');
  });

  describe('user bootstrap script', () => {
    const script = (): string => path.join(dir, 'bootstrap-users.sh');
    const runScript = (): Promise<{ stdout: string }> => execFileAsync('sh', [script()], { env: env(NODES[0]), cwd: dir, timeout: 90000 });
    const connect = (user: string, password: string, vhost: string): Promise<amqp.ChannelModel> =>
      amqp.connect({ protocol: 'amqp', hostname: '127.0.0.1', port: NODES[0].amqpPort, username: user, password, vhost });

    beforeAll(() => {
      fs.mkdirSync(passwordDir(), { mode: 0o700 });
      fs.writeFileSync(path.join(passwordDir(), 'orders'), 'first-Pa55 word\'"$x\n', { mode: 0o600 });
      fs.writeFileSync(path.join(passwordDir(), 'ledger'), 'ledger-secret', { mode: 0o600 });
      fs.writeFileSync(script(), renderUserBootstrapScript({
        users: [{ name: 'orders', vhost: 'orders' }, { name: 'ledger', vhost: 'ledger' }],
        passwordDir: passwordDir(),
        rabbitmqctl: ctl,
        startupAttempts: 30,
        startupIntervalSeconds: 1,
      }));
    });

    it('creates each user from its password file; the right password connects, a wrong one fails', async () => {
      const { stdout } = await runScript();
      expect(stdout).toContain('user orders ready on vhost orders');
      expect(fs.readFileSync(script(), 'utf8')).not.toContain('first-Pa55');
      const conn = await connect('orders', 'first-Pa55 word\'"$x', 'orders');
      const ch = await conn.createChannel();
      await expect(ch.checkExchange('events')).resolves.toBeDefined();
      await conn.close();
      await expect(connect('orders', 'wrong-password', 'orders')).rejects.toThrow(/ACCESS_REFUSED|403/);
      // Permissions are per vhost: orders may not enter invoices.
      await expect(connect('orders', 'first-Pa55 word\'"$x', 'invoices')).rejects.toThrow();
    });

    it('declares quorum queues by default in a quorum vhost (vhost metadata on 3.10)', async () => {
      const conn = await connect('ledger', 'ledger-secret', 'ledger');
      const ch = await conn.createChannel();
      await ch.assertQueue('ledger.undeclared-type', { durable: true });
      await conn.close();
      const queues = await ctlJson<QueueRow[]>(NODES[0], ['list_queues', '-p', 'ledger', 'name', 'type']);
      expect(queues.find((q) => q.name === 'ledger.undeclared-type')?.type).toBe('quorum');
    });

    it('is idempotent and rotates a changed password', async () => {
      fs.writeFileSync(path.join(passwordDir(), 'orders'), 'rotated-secret', { mode: 0o600 });
      await runScript();
      const conn = await connect('orders', 'rotated-secret', 'orders');
      await conn.close();
      await expect(connect('orders', 'first-Pa55 word\'"$x', 'orders')).rejects.toThrow(/ACCESS_REFUSED|403/);
      const users = await ctlJson<Array<{ user: string }>>(NODES[0], ['list_users']);
      expect(users.map((u) => u.user).sort()).toEqual(['ledger', 'orders']);
    });
  });
});
