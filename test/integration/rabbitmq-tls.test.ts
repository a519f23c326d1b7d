/**
 * Encryption in transit on a real RabbitMQ (Debian's 3.10.8 on Erlang 25, 127.0.0.1 only): three
 * nodes booted with the rabbitmq.conf rendered with `tls` (AMQPS, plaintext listener off) and the
 * inter-node TLS option file with the Erlang arguments RabbitMqCluster writes into
 * rabbitmq-env.conf, with certificates made here by openssl.
 *
 * - clients: plaintext AMQP finds no listener (and the AMQPS port does not speak it), AMQPS with
 *   the right CA succeeds, with another CA fails;
 * - inter-node: the three nodes form a cluster over TLS distribution, and a CLI tool speaking
 *   plaintext distribution cannot reach a node.
 *
 * Ports are free ones from the registry; this suite runs its own epmd and stops it by PID.
 */
import * as amqp from 'amqplib';
import { ChildProcess, execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { interNodeTlsErlArgs, renderInterNodeTlsConfig } from '../../lib/rabbitmq/render-rabbitmq-conf';
import { renderRabbitMqDefinitions } from '../../lib/rabbitmq/render-rabbitmq-definitions';
import { describeWithServer, findBinary, freePortRange, freePorts, makeWorkDir, stopProcess } from './support/real-servers';
import { startLoopbackEpmd, startRabbitServer, stopRabbitNode, writeLoopbackClusterConfigs } from './support/rabbitmq-node';
import { TestCerts, makeTestCerts } from './support/test-certs';

jest.setTimeout(180000);

const execFileAsync = promisify(execFile);
const VERSION = '3.10.8';
const PASSWORD = 'orders-secret-tls-1';
interface NodeSpec { name: string; amqpPort: number; amqpsPort: number; prometheusPort: number; distPort: number }
const NODES: NodeSpec[] = [];
const CTL_PORTS = 8;

describeWithServer('RabbitMQ', findBinary(['/usr/lib/rabbitmq/bin/rabbitmq-server']), 'RabbitMQ with the TLS RabbitMqCluster renders', (server) => {
  const ctl = path.join(path.dirname(server), 'rabbitmqctl');
  const diagnostics = path.join(path.dirname(server), 'rabbitmq-diagnostics');
  const epmdBinary = findBinary(['epmd', '/usr/bin/epmd']);
  let dir = '';
  let certs: TestCerts;
  let epmd: ChildProcess | undefined;
  let epmdPort = 0;
  let ctlPorts: number[] = [];
  const pidFile = (node: string): string => path.join(dir, node, 'pid');
  const interNodeFile = (): string => path.join(dir, 'inter_node_tls.config');

  /**
   * The node's environment; `tlsDistribution: false` gives a CLI that speaks plaintext
   * distribution, a string one that speaks TLS with that option file instead of the rendered one.
   */
  function env(node: NodeSpec, tlsDistribution: boolean | string = true): NodeJS.ProcessEnv {
    const base = path.join(dir, node.name);
    const loopback = '-kernel inet_dist_use_interface {127,0,0,1}';
    const optFile = typeof tlsDistribution === 'string' ? tlsDistribution : interNodeFile();
    const tls = tlsDistribution !== false ? ` ${interNodeTlsErlArgs(optFile)}` : '';
    return {
      PATH: process.env.PATH,
      HOME: path.join(dir, 'home'),
      LANG: 'C.UTF-8',
      ERL_EPMD_PORT: String(epmdPort),
      ERL_CRASH_DUMP: path.join(dir, `erl_crash-${node.name}.dump`),
      RABBITMQ_NODENAME: node.name,
      // No RABBITMQ_NODE_PORT: it would add a plaintext listener over what rabbitmq.conf says.
      RABBITMQ_DIST_PORT: String(node.distPort),
      RABBITMQ_MNESIA_BASE: path.join(base, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(base, 'log'),
      RABBITMQ_CONFIG_FILE: path.join(base, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(base, 'enabled_plugins'),
      RABBITMQ_PID_FILE: pidFile(node.name),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      // What RabbitMqCluster writes into rabbitmq-env.conf (SERVER_ADDITIONAL_ERL_ARGS, CTL_ERL_ARGS).
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `${loopback}${tls}`,
      RABBITMQ_CTL_DIST_PORT_MIN: String(ctlPorts[0]),
      RABBITMQ_CTL_DIST_PORT_MAX: String(ctlPorts[ctlPorts.length - 1]),
      RABBITMQ_CTL_ERL_ARGS: `${loopback}${tls}`,
    };
  }

  async function rabbitmqctl(node: NodeSpec, args: string[], options: { timeoutMs?: number; tool?: string; tlsDistribution?: boolean | string } = {}): Promise<string> {
    const { stdout } = await execFileAsync(options.tool ?? ctl, ['-n', node.name, ...args], {
      env: env(node, options.tlsDistribution ?? true), cwd: dir, timeout: options.timeoutMs ?? 60000,
    });
    return stdout;
  }
  const nodeCtl = (node: NodeSpec) => (args: string[], timeoutMs?: number) => rabbitmqctl(node, args, { timeoutMs });

  async function startNode(node: NodeSpec): Promise<void> {
    await startRabbitServer({ server, env: env(node), cwd: dir, name: node.name, pidFile: pidFile(node.name), ctl: nodeCtl(node) });
  }

  beforeAll(async () => {
    dir = makeWorkDir('rabbitmq-tls');
    fs.mkdirSync(path.join(dir, 'home'));
    fs.writeFileSync(path.join(dir, 'home', '.erlang.cookie'), `SOVEREIGNSTACKTLS${process.pid}`, { mode: 0o400 });
    fs.mkdirSync(path.join(dir, 'certs'));
    // Node names are rabbitN@localhost: a peer (and a CLI) checks the certificate for "localhost".
    certs = makeTestCerts(path.join(dir, 'certs'), ['localhost']);
    const [epmdAt, ...nodePorts] = await freePorts(1 + 3 * 4);
    epmdPort = epmdAt;
    ctlPorts = await freePortRange(CTL_PORTS);
    NODES.splice(0, NODES.length, ...[0, 1, 2].map((i) => ({
      name: `rabbit${i + 1}@localhost`,
      amqpPort: nodePorts[4 * i],
      amqpsPort: nodePorts[4 * i + 1],
      prometheusPort: nodePorts[4 * i + 2],
      distPort: nodePorts[4 * i + 3],
    })));
    epmd = await startLoopbackEpmd(epmdBinary, epmdPort, dir);
    const definitions = path.join(dir, 'definitions.json');
    fs.writeFileSync(definitions, renderRabbitMqDefinitions({ rabbitmqVersion: VERSION, vhosts: ['platform'] }));
    fs.writeFileSync(interNodeFile(), renderInterNodeTlsConfig({ certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile }));
    writeLoopbackClusterConfigs(dir, NODES, {
      rabbitmqVersion: VERSION, definitionsPath: definitions, tls: { certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile },
    });
    // Seed first, then the others: they join it over TLS distribution.
    for (const node of NODES) await startNode(node);
    await rabbitmqctl(NODES[0], ['add_user', 'orders', PASSWORD]);
    await rabbitmqctl(NODES[0], ['set_permissions', '-p', 'platform', 'orders', '.*', '.*', '.*']);
  }, 180000);

  afterAll(async () => {
    try {
      for (const node of NODES) {
        if (dir) await stopRabbitNode(pidFile(node.name), nodeCtl(node)).catch(() => undefined);
      }
    } finally {
      await stopProcess(epmd);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);

  const amqpsUrl = (node: NodeSpec) => `amqps://orders:${PASSWORD}@localhost:${node.amqpsPort}/platform`;

  it('forms the cluster over TLS distribution', async () => {
    const status = JSON.parse(await rabbitmqctl(NODES[2], ['cluster_status', '--formatter', 'json', '-q'])) as { running_nodes: string[] };
    expect([...status.running_nodes].sort()).toEqual(NODES.map((n) => n.name).sort());
    for (const node of NODES) {
      expect((await rabbitmqctl(node, ['eval', 'init:get_argument(proto_dist).'])).trim()).toBe('{ok,[["inet_tls"]]}');
    }
  });

  it('refuses a CLI tool that speaks plaintext distribution', async () => {
    await expect(rabbitmqctl(NODES[0], ['status'], { tlsDistribution: false, timeoutMs: 60000 })).rejects.toThrow(/unable to perform an operation on node|nodedown|could not connect/i);
  });

  it('verifies distribution peers both ways: a CLI trusting another CA, or presenting no certificate, is refused', async () => {
    const otherCa = path.join(dir, 'inter_node_other_ca.config');
    fs.writeFileSync(otherCa, renderInterNodeTlsConfig({ certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.wrongCaFile }));
    await expect(rabbitmqctl(NODES[0], ['status'], { tlsDistribution: otherCa })).rejects.toThrow(/unable to perform an operation on node|nodedown|could not connect/i);
    const noCertificate = path.join(dir, 'inter_node_no_cert.config');
    // The rendered file with the client's certificate and key taken out, nothing else changed.
    const rendered = fs.readFileSync(interNodeFile(), 'utf8');
    const clientAt = rendered.indexOf('{client, [');
    const withoutCertificate = rendered.slice(0, clientAt) +
      rendered.slice(clientAt).split('\n').filter((l) => !/^\s+\{(certfile|keyfile), /.test(l)).join('\n');
    expect(withoutCertificate).toContain('{verify, verify_peer}');
    expect(withoutCertificate.match(/\{certfile, /g)).toHaveLength(1);
    fs.writeFileSync(noCertificate, withoutCertificate);
    await expect(rabbitmqctl(NODES[0], ['status'], { tlsDistribution: noCertificate })).rejects.toThrow(/unable to perform an operation on node|nodedown|could not connect/i);
    // The rendered file, for contrast, reaches the node.
    expect(await rabbitmqctl(NODES[0], ['eval', 'node().'])).toContain(NODES[0].name);
  });

  it('listens for AMQP over TLS only', async () => {
    const listeners = await rabbitmqctl(NODES[0], ['listeners', '-q', '--formatter', 'json'], { tool: diagnostics });
    type Row = { protocol: string; port: number };
    const parsed = JSON.parse(listeners) as { listeners?: Row[] } | Row[];
    const rows = Array.isArray(parsed) ? parsed : parsed.listeners ?? [];
    const protocols = rows.map((l) => `${l.protocol}:${l.port}`).sort();
    expect(rows.length).toBeGreaterThan(0);
    expect(protocols).toEqual(expect.arrayContaining([`amqp/ssl:${NODES[0].amqpsPort}`]));
    expect(protocols.filter((p) => p.startsWith('amqp:'))).toEqual([]);
    // The readiness probe of the Kubernetes workload passes with a TLS listener.
    await rabbitmqctl(NODES[0], ['check_port_connectivity', '-q'], { tool: diagnostics });
  });

  it('binds AMQPS, Prometheus and TLS distribution to 127.0.0.1 only (as the kernel reports the sockets)', async () => {
    // `rabbitmq-diagnostics listeners` always shows distribution on [::]; ss shows the real bind.
    const { stdout } = await execFileAsync('ss', ['-Hltn']);
    for (const node of NODES) {
      for (const port of [node.amqpsPort, node.prometheusPort, node.distPort]) {
        const local = stdout.split('\n').map((l) => l.trim().split(/\s+/)[3]).filter((a) => a?.endsWith(`:${port}`));
        expect({ port, local }).toEqual({ port, local: [`127.0.0.1:${port}`] });
      }
    }
  });

  it('refuses plaintext AMQP: nothing listens on 5672\'s stand-in, and the AMQPS port does not speak it', async () => {
    await expect(amqp.connect(`amqp://orders:${PASSWORD}@127.0.0.1:${NODES[0].amqpPort}/platform`)).rejects.toThrow(/ECONNREFUSED/);
    await expect(amqp.connect(`amqp://orders:${PASSWORD}@127.0.0.1:${NODES[0].amqpsPort}/platform`, { timeout: 5000 })).rejects.toThrow();
  });

  it('admits a client over AMQPS that verifies the server with the right CA, on every node', async () => {
    for (const node of NODES) {
      const connection = await amqp.connect(amqpsUrl(node), { ca: [fs.readFileSync(certs.caFile)], servername: 'localhost' });
      try {
        const socket = (connection.connection as unknown as { stream: { encrypted?: boolean; getProtocol?: () => string } }).stream;
        expect(socket.encrypted).toBe(true);
        expect(socket.getProtocol?.()).toMatch(/^TLSv1\.[23]$/);
        const channel = await connection.createChannel();
        const q = await channel.assertQueue('', { exclusive: true });
        channel.sendToQueue(q.queue, Buffer.from('over tls'));
        await new Promise((r) => setTimeout(r, 200));
        const got = await channel.get(q.queue, { noAck: true });
        expect(got && got.content.toString()).toBe('over tls');
      } finally {
        await connection.close();
      }
    }
  });

  it('fails a client verifying the server with a CA that did not sign it', async () => {
    await expect(amqp.connect(amqpsUrl(NODES[0]), { ca: [fs.readFileSync(certs.wrongCaFile)], servername: 'localhost' }))
      .rejects.toThrow(/self[- ]signed|unable to (verify|get)|certificate/i);
  });

});
