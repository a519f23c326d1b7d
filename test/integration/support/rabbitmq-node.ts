/**
 * Start and stop of one real RabbitMQ node, shared by every suite that boots one.
 *
 * `rabbitmqctl wait PIDFILE` (not `await_startup`, which fails before epmd knows the node) reads
 * the pid file once it exists. The server script creates that file before it writes the PID, so on
 * a busy machine `wait` can read it empty and give up with `garbage_in_pid_file` (seen in CI). We
 * wait for a PID in the file first, then let `rabbitmqctl wait` wait for the node itself.
 */
import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import { sleep, stopPid } from './real-servers';

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
