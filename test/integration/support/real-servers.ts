/**
 * Shared helpers for tests that start real servers (nginx, PostgreSQL, RabbitMQ) on 127.0.0.1.
 *
 * When a server binary is missing the suite is skipped LOUDLY, unless REQUIRE_REAL_SERVERS=1
 * (set by .ci/run), in which case the suite fails: CI must never pass by skipping.
 */
import { execFileSync } from 'child_process';
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
  // eslint-disable-next-line no-console
  console.warn(`\n\n*** ${message} SKIPPING. ***\n`);
  describe.skip(name, () => body(''));
}

/** A fresh temp folder under the project's .tmp/ (contained, removed by the caller). */
export function makeWorkDir(prefix: string): string {
  const base = path.join(process.env.TMPDIR ?? os.tmpdir(), 'real-servers');
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `${prefix}-`));
}

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
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
