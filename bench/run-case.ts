/**
 * One bench case in a fresh process: `node dist/bench/run-case.js <case> <services>`.
 * bench/synth-bench.ts starts one per case, size and repetition, so peak RSS is the case's own.
 *
 * Measures, in this order: module load (cdktf and the case's module: the library or the
 * providers), then the work (construct the stack, `app.synth()` to a temporary outdir), wall time
 * and CPU time of each. Peak RSS is read right after the work, before this file parses the output
 * to count resources. Prints one JSON line (CaseResult) on stdout.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import * as v8 from 'v8';
import type { TerraformStack } from 'cdktf';

/** The cases bench/synth-bench.ts knows. */
export const CASES = ['ours', 'plain', 'workloads'] as const;
export type CaseName = (typeof CASES)[number];

export interface CaseResult {
  readonly case: CaseName;
  readonly services: number;
  /** Resources in the written cdk.tf.json. */
  readonly resources: number;
  /** Resources per Terraform resource type. */
  readonly resourcesByType: Record<string, number>;
  /** Bytes of the config files in the largest ConfigMap (Kubernetes refuses one over 1 MiB). */
  readonly largestConfigMapBytes: number;
  readonly outputs: number;
  /** Size of cdk.tf.json. */
  readonly jsonBytes: number;
  /** From process start until this file ran (node's own start-up). */
  readonly bootMs: number;
  /** Loading cdktf and the case's module. */
  readonly loadMs: number;
  readonly loadCpuMs: number;
  /** Constructing the stack. */
  readonly constructMs: number;
  /** `app.synth()`. */
  readonly synthMs: number;
  /** construct + synth. */
  readonly wallMs: number;
  /** CPU (user + system) of construct + synth. */
  readonly cpuMs: number;
  /** process.resourceUsage().maxRSS after the work, in MB. */
  readonly peakRssMb: number;
  /** V8's heap limit in this process (no --max-old-space-size: Node's default). */
  readonly heapLimitMb: number;
}

function cpuMs(since?: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

/** The case's stack builder, loaded here so its load time is measured. */
function load(name: CaseName): (stack: TerraformStack, services: number) => void {
  switch (name) {
    case 'ours': return (require('./ours-platform') as typeof import('./ours-platform')).ourPlatform;
    case 'workloads': return (require('./ours-platform') as typeof import('./ours-platform')).ourWorkloads;
    case 'plain': {
      const fixture = require('./plain-cdktf-platform') as typeof import('./plain-cdktf-platform');
      return (stack, n) => fixture.plainPlatform(stack, fixture.plainServices(n));
    }
  }
}

function run(name: CaseName, services: number): CaseResult {
  const bootMs = performance.now();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { App, TerraformStack } = require('cdktf') as typeof import('cdktf');
  const build = load(name);
  const t1 = performance.now();
  const loadCpuMs = cpuMs(cpu0);

  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sovereign-bench-'));
  try {
    const cpu1 = process.cpuUsage();
    const t2 = performance.now();
    const app = new App({ outdir, stackTraces: false });
    build(new TerraformStack(app, 'bench'), services);
    const t3 = performance.now();
    app.synth();
    const t4 = performance.now();
    const workCpuMs = cpuMs(cpu1);
    const peakRssMb = process.resourceUsage().maxRSS / 1024;

    const file = path.join(outdir, 'stacks', 'bench', 'cdk.tf.json');
    const text = fs.readFileSync(file, 'utf8');
    const json = JSON.parse(text) as { resource?: Record<string, Record<string, { data?: Record<string, string> }>>; output?: object };
    const resourcesByType = Object.fromEntries(Object.entries(json.resource ?? {}).map(([type, byId]) => [type, Object.keys(byId).length]));
    const resources = Object.values(resourcesByType).reduce((sum, n) => sum + n, 0);
    const configMapBytes = Object.values(json.resource?.kubernetes_config_map_v1 ?? {})
      .map((cm) => Object.values(cm.data ?? {}).reduce((sum, v) => sum + Buffer.byteLength(v), 0));
    return {
      case: name, services, resources, resourcesByType, largestConfigMapBytes: Math.max(0, ...configMapBytes), outputs: Object.keys(json.output ?? {}).length, jsonBytes: Buffer.byteLength(text),
      bootMs, loadMs: t1 - t0, loadCpuMs, constructMs: t3 - t2, synthMs: t4 - t3, wallMs: t4 - t2, cpuMs: workCpuMs,
      peakRssMb, heapLimitMb: v8.getHeapStatistics().heap_size_limit / 1048576,
    };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [name, n] = process.argv.slice(2);
  if (!CASES.includes(name as CaseName) || !/^[1-9][0-9]*$/.test(n ?? '')) {
    process.stderr.write(`usage: node dist/bench/run-case.js <${CASES.join('|')}> <services>\n`);
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(run(name as CaseName, Number(n))) + '\n');
}
