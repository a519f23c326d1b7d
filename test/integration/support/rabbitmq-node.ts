/**
 * Start and stop of one real RabbitMQ node, shared by every suite that boots one.
 *
 * `rabbitmqctl wait PIDFILE` (not `await_startup`, which fails before epmd knows the node) reads
 * the pid file once it exists. The server script creates that file before it writes the PID, so on
 * a busy machine `wait` can read it empty and give up with `garbage_in_pid_file` (seen in CI). We
 * wait for a PID in the file first, then let `rabbitmqctl wait` wait for the node itself.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { renderEnabledPlugins, renderRabbitMqConf } from '../../../lib/rabbitmq/render-rabbitmq-conf';
import { sleep, stopPid, waitForPort } from './real-servers';

/** Runs `rabbitmqctl -n <node> ...args` for the node at hand; resolves with its stdout. */
export type RabbitMqCtl = (args: string[], timeoutMs?: number) => Promise<string>;

export interface RabbitNodeProcess {
  /** The node's name, for messages. */
  readonly name: string;
  /** RABBITMQ_PID_FILE of the node. */
  readonly pidFile: string;
  /** Where the server script's stdout and stderr go; its tail is quoted when the node does not start. */
  readonly consoleLog: string;
  /** The spawned rabbitmq-server script. */
  readonly script: ChildProcess;
  readonly ctl: RabbitMqCtl;
}

/** The PID written in a pid file, or undefined while the file is missing or not yet written. */
export function pidIn(pidFile: string): number | undefined {
  const text = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8') : '';
  return /^\d+\s*$/.test(text) ? Number(text.trim()) : undefined;
}

/**
 * Resolves with the Erlang VM's PID once the node runs. Rejects with the console tail when the
 * script exits first, no PID appears in `timeoutMs`, or `rabbitmqctl wait` fails.
 */
export async function waitForRabbitNode(node: RabbitNodeProcess, timeoutMs = 60_000): Promise<number> {
  const fail = (why: string): Error => {
    const log = fs.existsSync(node.consoleLog) ? fs.readFileSync(node.consoleLog, 'utf8') : '';
    return new Error(`${node.name} did not start: ${why}\n${log.slice(-3000)}`);
  };
  const deadline = Date.now() + timeoutMs;
  let pid = pidIn(node.pidFile);
  while (pid === undefined) {
    if (node.script.exitCode !== null || node.script.signalCode !== null) {
      throw fail(`rabbitmq-server exited (${node.script.exitCode ?? node.script.signalCode}) before writing ${node.pidFile}`);
    }
    if (Date.now() > deadline) throw fail(`no PID in ${node.pidFile} after ${timeoutMs} ms`);
    await sleep(100);
    pid = pidIn(node.pidFile);
  }
  const left = Math.max(5, Math.ceil((deadline - Date.now()) / 1000));
  await node.ctl(['wait', node.pidFile, '--timeout', String(left)], (left + 10) * 1000).catch((e: Error) => {
    throw fail(e.message);
  });
  return pid;
}

/** Graceful stop via the CLI; SIGKILL by the VM's PID when that fails or hangs. Removes the pid file. */
export async function stopRabbitNode(pidFile: string, ctl: RabbitMqCtl): Promise<void> {
  const pid = pidIn(pidFile);
  if (pid === undefined) {
    fs.rmSync(pidFile, { force: true });
    return;
  }
  await ctl(['stop', pidFile], 30_000).catch(() => stopPid(pid, 'SIGKILL'));
  fs.rmSync(pidFile, { force: true });
}

/** One node of a loopback test cluster: its node name and the ports its rendered config listens on. */
export interface LoopbackNode {
  readonly name: string;
  readonly amqpPort: number;
  readonly prometheusPort: number;
  /** With TLS: the AMQPS port. */
  readonly amqpsPort?: number;
}

/**
 * Writes `<dir>/<node name>/rabbitmq.conf` and `enabled_plugins` for each node, rendered by our
 * renderers: classic peer discovery over all the nodes, loopback listeners, no management plugin,
 * the given definitions file, and TLS when `tls` names the certificate files.
 */
export function writeLoopbackClusterConfigs(dir: string, nodes: readonly LoopbackNode[], options: {
  rabbitmqVersion: string; definitionsPath: string; tls?: { certFile: string; keyFile: string; caFile: string };
}): void {
  for (const node of nodes) {
    const base = path.join(dir, node.name);
    fs.mkdirSync(base);
    const spec = {
      rabbitmqVersion: options.rabbitmqVersion,
      discovery: { kind: 'classic' as const, peers: nodes.map((n) => n.name) },
      listenAddress: '127.0.0.1',
      amqpPort: node.amqpPort,
      prometheusPort: node.prometheusPort,
      management: false,
      memoryLimit: '512Mi',
      definitionsPath: options.definitionsPath,
      ...(options.tls ? { tls: { ...options.tls, amqpsPort: node.amqpsPort! } } : {}),
    };
    fs.writeFileSync(path.join(base, 'rabbitmq.conf'), renderRabbitMqConf(spec));
    fs.writeFileSync(path.join(base, 'enabled_plugins'), renderEnabledPlugins(spec));
  }
}

/**
 * The suite's own loopback-only epmd on its own port (never the shared 4369), for the caller to
 * stop by PID; resolves once it listens.
 */
export async function startLoopbackEpmd(epmdBinary: string | undefined, port: number, cwd: string): Promise<ChildProcess> {
  if (!epmdBinary) throw new Error('epmd (Erlang) not found, though rabbitmq-server is installed');
  const epmd = spawn(epmdBinary, ['-address', '127.0.0.1', '-port', String(port)], { cwd, stdio: 'ignore' });
  await waitForPort(port);
  return epmd;
}

/**
 * Starts `rabbitmq-server` for one node (its console in `<cwd>/<name>/console.log`) and waits until
 * it answers; returns the server script's process.
 */
export async function startRabbitServer(options: {
  server: string; env: NodeJS.ProcessEnv; cwd: string; name: string; pidFile: string; ctl: RabbitMqCtl;
  /** Told of the script as soon as it runs (to stop it in afterAll even if the node never answers). */
  track?: (script: ChildProcess) => void;
}): Promise<ChildProcess> {
  const consoleLog = path.join(options.cwd, options.name, 'console.log');
  const out = fs.openSync(consoleLog, 'a');
  const script = spawn(options.server, [], { env: options.env, cwd: options.cwd, stdio: ['ignore', out, out] });
  options.track?.(script);
  fs.closeSync(out);
  await waitForRabbitNode({ name: options.name, pidFile: options.pidFile, consoleLog, script, ctl: options.ctl });
  return script;
}
