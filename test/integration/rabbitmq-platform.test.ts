/**
 * What RabbitMqCluster composes for the example platform, on a real RabbitMQ node: the
 * definitions.json and user bootstrap script are taken from the synthesized `local` stack (not
 * rendered by hand), imported and run, then each service's user is tried with amqplib. Proves
 * the topology routes events to every consumer and that the least-privilege permissions hold.
 *
 * Loopback only. Ports, all free ones from the registry (two checkouts may run this at once):
 * AMQP, distribution, a block for the CLI's distribution, and an epmd of its own (ERL_EPMD_PORT,
 * so this suite never shares epmd with the 3-node suite or another run), stopped by its PID.
 * Crash dumps go to the work folder.
 */
import * as amqp from 'amqplib';
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { Testing } from 'cdktf';
import { local } from '../../stacks/local';
import { resourcesOf, synthJson } from '../support/synth';
import { describeWithServer, findBinary, freePortRange, freePorts, makeWorkDir, sleep, stopPid, stopProcess, terraformLiteralText, waitForPort } from './support/real-servers';

jest.setTimeout(120000);

const execFileAsync = promisify(execFile);
const NODE = 'rabbitplatform@localhost';
const PASSWORDS: Record<string, string> = { orders: 'orders-pw-1', invoices: 'invoices-pw-2', notifications: 'notifications-pw-3' };

/**
 * The files the first RabbitMQ container of the local stack sees: uploaded into it, or into a
 * container whose volumes it mounts (`volumes { from_container }`, as for a read-only root), as
 * Terraform passes them on (a literal `${` is written `$${` in the JSON).
 */
function composedFiles(): Record<string, string> {
  const json = synthJson(local(Testing.app({ stackTraces: false })));
  const containers = resourcesOf(json, 'docker_container') as Record<string, any>;
  const node = Object.values(containers).find((c) => c.name === 'sovereign-rabbitmq-0');
  if (!node) throw new Error('no container sovereign-rabbitmq-0 in the local stack');
  const sources = [node, ...(node.volumes ?? [])
    .map((v: any) => /^\$\{docker_container\.([^.]+)\.id\}/.exec(v.from_container ?? '')?.[1])
    .filter(Boolean)
    .map((id: string) => containers[id])];
  const uploads = sources.flatMap((c: any) => c.upload ?? []);
  expect(uploads.length).toBeGreaterThan(0);
  return Object.fromEntries(uploads.map((u: any) => [u.file, terraformLiteralText(u.content)]));
}

describeWithServer('RabbitMQ', findBinary(['/usr/lib/rabbitmq/bin/rabbitmq-server']), 'RabbitMqCluster output on a real RabbitMQ node', (server) => {
  const ctl = path.join(path.dirname(server), 'rabbitmqctl');
  const epmdBinary = findBinary(['epmd', '/usr/bin/epmd']);
  let dir = '';
  let epmd: ChildProcess | undefined;
  let node: ChildProcess | undefined;
  /** Free ports, taken in beforeAll. */
  let ports = { amqp: 0, dist: 0, epmd: 0, ctl: [] as number[] };
  const url = (user: string, password = PASSWORDS[user]) => `amqp://${user}:${password}@127.0.0.1:${ports.amqp}/platform`;

  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: path.join(dir, 'home'),
    LANG: 'C.UTF-8',
    ERL_EPMD_PORT: String(ports.epmd),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    // An Erlang VM that dies writes erl_crash.dump into its working directory: not the checkout.
    ERL_CRASH_DUMP: path.join(dir, 'erl_crash.dump'),
    RABBITMQ_NODENAME: NODE,
    RABBITMQ_NODE_PORT: String(ports.amqp),
    RABBITMQ_DIST_PORT: String(ports.dist),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: path.join(dir, 'pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_CTL_DIST_PORT_MIN: String(ports.ctl[0]),
    RABBITMQ_CTL_DIST_PORT_MAX: String(ports.ctl[ports.ctl.length - 1]),
    RABBITMQ_CTL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  });
  const rabbitmqctl = async (args: string[]) => (await execFileAsync(ctl, ['-n', NODE, ...args], { env: env(), cwd: dir, timeout: 60000 })).stdout;

  /** Resolves with the AMQP reply code that closes the channel (403 = ACCESS_REFUSED), or 0. */
  async function refusal(user: string, act: (ch: amqp.Channel) => Promise<unknown>): Promise<number> {
    const conn = await amqp.connect(url(user));
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
    const [amqpPort, distPort, epmdPort] = await freePorts(3);
    ports = { amqp: amqpPort, dist: distPort, epmd: epmdPort, ctl: await freePortRange(4) };
    const files = composedFiles();
    fs.mkdirSync(path.join(dir, 'home'));
    fs.writeFileSync(path.join(dir, 'home', '.erlang.cookie'), `PLATFORMTEST${process.pid}`, { mode: 0o400 });
    fs.writeFileSync(path.join(dir, 'definitions.json'), files['/etc/rabbitmq/definitions.json']);
    // Boot as the construct's rabbitmq.conf does (load_definitions: no default guest user), on loopback.
    expect(files['/etc/rabbitmq/rabbitmq.conf']).toContain('load_definitions = /etc/rabbitmq/definitions.json');
    fs.writeFileSync(path.join(dir, 'rabbitmq.conf'),
      `listeners.tcp.1 = 127.0.0.1:${ports.amqp}\nload_definitions = ${path.join(dir, 'definitions.json')}\n`);
    fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
    // The construct's script, pointed at this node's CLI and a folder of password files.
    fs.mkdirSync(path.join(dir, 'users'));
    for (const [user, pw] of Object.entries(PASSWORDS)) fs.writeFileSync(path.join(dir, 'users', user), `${pw}\n`);
    const script = files['/etc/rabbitmq/bootstrap-users.sh']
      .replace("CTL='rabbitmqctl'", `CTL='${ctl}'`)
      .replace("PASSWORD_DIR='/etc/rabbitmq/users'", `PASSWORD_DIR='${path.join(dir, 'users')}'`);
    expect(script).toContain(`PASSWORD_DIR='${path.join(dir, 'users')}'`);
    fs.writeFileSync(path.join(dir, 'bootstrap-users.sh'), script);

    if (!epmdBinary) throw new Error('epmd (Erlang) not found, though rabbitmq-server is installed');
    epmd = spawn(epmdBinary, ['-address', '127.0.0.1', '-port', String(ports.epmd)], { cwd: dir, stdio: 'ignore' });
    await waitForPort(ports.epmd);
    const out = fs.openSync(path.join(dir, 'console.log'), 'a');
    node = spawn(server, [], { env: env(), cwd: dir, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    await rabbitmqctl(['wait', path.join(dir, 'pid'), '--timeout', '60']).catch((e: Error) => {
      throw new Error(`node did not start: ${e.message}\n${fs.readFileSync(path.join(dir, 'console.log'), 'utf8').slice(-3000)}`);
    });
    // Again, loudly: load_definitions drops a bad file silently, import_definitions fails on it.
    await rabbitmqctl(['import_definitions', path.join(dir, 'definitions.json')]);
    await execFileAsync('sh', [path.join(dir, 'bootstrap-users.sh')], { env: { ...env(), RABBITMQ_NODENAME: NODE }, cwd: dir, timeout: 90000 });
  }, 150000);

  afterAll(async () => {
    try {
      // The Erlang VM's PID (the spawned rabbitmq-server script runs it as a child, not by exec).
      const pidFile = dir && path.join(dir, 'pid');
      const vm = pidFile && fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : undefined;
      if (vm) await rabbitmqctl(['stop', pidFile]).catch(() => stopPid(vm, 'SIGKILL'));
      // No-op once the VM is gone; else the script's TERM trap stops the VM it started.
      await stopProcess(node, 'SIGTERM', 30000);
      await stopProcess(epmd);
    } finally {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);

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
    await expect(amqp.connect(url('orders', 'not-the-password'))).rejects.toThrow(/ACCESS_REFUSED|403/);
  });
});
