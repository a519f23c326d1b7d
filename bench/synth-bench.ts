/**
 * Synth benchmark: `npm run bench` (compiled JS, never tsx: source maps make cdktf's stack
 * captures dearer). Compares, in one run and one process model, our ReferenceDeployment on a
 * KubernetesTarget ("ours": every service routed, with a database and broker messaging) with the
 * same platform written by hand in plain cdktf ("plain", bench/plain-cdktf-platform.ts).
 *
 * Every case, size and repetition runs in a fresh `node dist/bench/run-case.js` (so peak RSS is
 * the case's own), repetitions interleaved (rep 1 of every size and case, then rep 2, ...), with
 * Node's default flags: NODE_OPTIONS is passed on without --max-old-space-size. Medians are
 * reported. Then one probe: ours at 3,000 services within Node's default heap, reported as
 * success or failure with its peak RSS.
 *
 * Prints a table and writes bench/results.json (medians, raw runs, growth exponents, ours/plain
 * ratios, and the issue-17 targets evaluated). Targets never fail the run (this is a report); a
 * crashing case does (exit 1), the 3,000-service probe excepted.
 *
 * Knobs: BENCH_SIZES=100,500 (services; default 100,500,1000,2000), BENCH_REPS=1 (default 3),
 * BENCH_CASES=ours,plain (add workloads for bare stateful workloads on the target),
 * BENCH_PROBE=3000 (0: no probe), BENCH_OUT=path (default bench/results.json),
 * BENCH_TIMEOUT_S=900 (per process).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CASES, CaseName, CaseResult } from './run-case';

const ROOT = path.join(__dirname, '..', '..');
const RUN_CASE = path.join(__dirname, 'run-case.js');

/** Issue 17's acceptance targets. */
const TARGETS = {
  resourcesPerSecondAt500: 6000,
  kbPeakRssPerResourceAt500: 60,
  timesPlainAt500: 3,
  growthExponent: 1.05,
} as const;

interface Config {
  sizes: number[];
  reps: number;
  cases: CaseName[];
  probe: number;
  out: string;
  timeoutMs: number;
}

function intList(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const values = raw.split(',').map((v) => v.trim());
  if (!values.every((v) => /^[0-9]+$/.test(v))) throw new Error(`${name} must be a comma-separated list of whole numbers, got "${raw}"`);
  return values.map(Number);
}

function config(): Config {
  const cases = (process.env.BENCH_CASES ?? 'ours,plain').split(',').map((c) => c.trim()).filter(Boolean);
  const unknown = cases.filter((c) => !(CASES as readonly string[]).includes(c));
  if (unknown.length > 0) throw new Error(`BENCH_CASES: unknown case(s) ${unknown.join(', ')}; known: ${CASES.join(', ')}`);
  const [reps] = intList('BENCH_REPS', [3]);
  const [probe] = intList('BENCH_PROBE', [3000]);
  const [timeoutS] = intList('BENCH_TIMEOUT_S', [900]);
  const sizes = intList('BENCH_SIZES', [100, 500, 1000, 2000]).filter((n) => n > 0);
  if (sizes.length === 0 || reps < 1) throw new Error('BENCH_SIZES needs a size above 0 and BENCH_REPS at least 1');
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b), reps, cases: cases as CaseName[], probe,
    out: path.resolve(process.env.BENCH_OUT ?? path.join(ROOT, 'bench', 'results.json')), timeoutMs: timeoutS * 1000,
  };
}

/** NODE_OPTIONS without heap-size flags, so every case runs within Node's default heap. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (env.NODE_OPTIONS) {
    env.NODE_OPTIONS = env.NODE_OPTIONS.split(/\s+/).filter((o) => !/^--max[-_]old[-_]space[-_]size/.test(o) && !/^--max[-_]semi[-_]space[-_]size/.test(o)).join(' ');
  }
  return env;
}

/** V8's heap limit of a node started as the cases are (for a probe that died before reporting it). */
function defaultHeapLimitMb(): number {
  const r = spawnSync(process.execPath, ['-p', "require('v8').getHeapStatistics().heap_size_limit"], { env: childEnv(), encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) / 1048576 : NaN;
}

/** The kernel's peak RSS of a running process (VmHWM), in MB; undefined off Linux. */
function vmHwmMb(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Why a process failed: out of heap, a refusal of ours (SovereignStackError), killed at the timeout, anything else. */
type FailureKind = 'heap-limit' | 'refused' | 'timeout' | 'crashed';

interface Run {
  readonly ok: boolean;
  readonly kind?: FailureKind;
  readonly result?: CaseResult;
  /** Exit code or signal and the end of stderr, when the process failed. */
  readonly error?: string;
  readonly stderrHead?: string;
  /** Peak RSS as sampled from /proc while it ran (the only figure a crashed process leaves). */
  readonly sampledPeakRssMb?: number;
  readonly processMs: number;
  /** os.loadavg()[0] when the process started. */
  readonly loadAverage1: number;
}

function runCase(name: CaseName, services: number, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const started = Date.now();
    const loadAverage1 = round(os.loadavg()[0], 2);
    const child = spawn(process.execPath, [RUN_CASE, name, String(services)], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sampled: number | undefined;
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    // The head: an error's message and V8's out-of-memory line come first, stack frames after.
    child.stderr.on('data', (d: Buffer) => { if (stderr.length < 16000) stderr += d.toString(); });
    const sample = setInterval(() => { sampled = vmHwmMb(child.pid!) ?? sampled; }, 100);
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code, signal) => {
      clearInterval(sample);
      clearTimeout(timer);
      const processMs = Date.now() - started;
      if (code === 0) {
        try {
          resolve({ ok: true, result: JSON.parse(stdout.trim().split('\n').pop()!) as CaseResult, sampledPeakRssMb: sampled, processMs, loadAverage1 });
          return;
        } catch (e) {
          stderr += `\n(bench: unreadable result: ${(e as Error).message})`;
        }
      }
      const lines = stderr.trim().split('\n');
      const kind: FailureKind = timedOut ? 'timeout'
        : /Reached heap limit|heap out of memory|FatalProcessOutOfMemory/.test(stderr) ? 'heap-limit'
          : /SovereignStackError|Validation failed with the following errors/.test(stderr) ? 'refused' : 'crashed';
      // The error's message: from its first line to the first stack frame (at most 6 lines).
      const first = lines.findIndex((l) => /FATAL ERROR|^\w*Error\b/.test(l));
      const message = first < 0 ? lines.slice(-3)
        : lines.slice(first, first + 6).filter((_, i, all) => !all.slice(0, i + 1).some((l) => /^\s+at |^Object creation stack/.test(l)));
      const cause = timedOut ? `killed after ${timeoutMs / 1000} s` : message.map((l) => l.trim()).filter(Boolean).join(' ');
      resolve({ ok: false, kind, error: `exit ${code ?? signal} (${kind}): ${cause}`, stderrHead: lines.slice(0, 20).join('\n'), sampledPeakRssMb: sampled, processMs, loadAverage1 });
    });
  });
}

// ---- statistics -----------------------------------------------------------------------------

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A case's medians: the measured fields of CaseResult, and rates derived per run. */
interface Summary extends Pick<CaseResult,
  'case' | 'services' | 'resources' | 'outputs' | 'loadMs' | 'loadCpuMs' | 'constructMs' | 'synthMs' | 'wallMs' | 'cpuMs'
  | 'peakRssMb' | 'largestConfigMapBytes' | 'resourcesByType' | 'heapLimitMb'> {
  readonly runs: number;
  /** resources / wall (construct + synth). */
  readonly resourcesPerSecond: number;
  /** resources / (module load + construct + synth). */
  readonly resourcesPerSecondWithLoad: number;
  /** resources / CPU (construct + synth): steadier than wall time on a busy machine. */
  readonly resourcesPerCpuSecond: number;
  readonly kbPeakRssPerResource: number;
  readonly jsonBytesPerResource: number;
}

/** Medians over the repetitions; derived rates are the medians of each run's rate. */
function summarize(name: CaseName, services: number, results: CaseResult[]): Summary {
  const m = (f: (r: CaseResult) => number) => median(results.map(f));
  return {
    case: name, services, runs: results.length,
    resources: m((r) => r.resources), outputs: m((r) => r.outputs),
    loadMs: m((r) => r.loadMs), loadCpuMs: m((r) => r.loadCpuMs),
    constructMs: m((r) => r.constructMs), synthMs: m((r) => r.synthMs), wallMs: m((r) => r.wallMs), cpuMs: m((r) => r.cpuMs),
    resourcesPerSecond: m((r) => r.resources / (r.wallMs / 1000)),
    resourcesPerSecondWithLoad: m((r) => r.resources / ((r.loadMs + r.wallMs) / 1000)),
    resourcesPerCpuSecond: m((r) => r.resources / (r.cpuMs / 1000)),
    peakRssMb: m((r) => r.peakRssMb),
    kbPeakRssPerResource: m((r) => (r.peakRssMb * 1024) / r.resources),
    jsonBytesPerResource: m((r) => r.jsonBytes / r.resources),
    largestConfigMapBytes: m((r) => r.largestConfigMapBytes),
    resourcesByType: results[0].resourcesByType,
    heapLimitMb: m((r) => r.heapLimitMb),
  };
}

/** log(y2/y1) / log(n2/n1): 1 is linear growth, 2 quadratic. */
function exponent(n1: number, y1: number, n2: number, y2: number): number {
  return Math.log(y2 / y1) / Math.log(n2 / n1);
}

function round(v: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

// ---- report ---------------------------------------------------------------------------------

function table(rows: Array<Array<string | number>>, header: string[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

function git(args: string[]): string | undefined {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version, v8: process.versions.v8, platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown', cpus: cpus.length, totalMemoryMb: Math.round(os.totalmem() / 1048576),
  };
}

function loadAvg(): number[] {
  return os.loadavg().map((v) => round(v, 2));
}

async function main(): Promise<void> {
  const cfg = config();
  if (!fs.existsSync(RUN_CASE)) throw new Error(`${RUN_CASE} is missing: run through \`npm run bench\` (it compiles first)`);
  const started = new Date();
  const loadBefore = loadAvg();
  const total = cfg.reps * cfg.sizes.length * cfg.cases.length + (cfg.probe > 0 ? 1 : 0);
  process.stderr.write(`bench: ${cfg.cases.join(', ')} at ${cfg.sizes.join(', ')} services, ${cfg.reps} repetition(s) interleaved`
    + `${cfg.probe > 0 ? `, then ours at ${cfg.probe} within the default heap` : ''}: ${total} processes. Load average ${loadBefore.join(' ')}.\n`);

  const raw: Record<string, Run[]> = {};
  const key = (c: CaseName, n: number) => `${c}@${n}`;
  let done = 0;
  for (let rep = 0; rep < cfg.reps; rep++) {
    // Rotate the case order each repetition, so no case always runs right after another.
    const order = cfg.cases.map((_, i) => cfg.cases[(i + rep) % cfg.cases.length]);
    for (const n of cfg.sizes) {
      for (const c of order) {
        done++;
        // A refusal (SovereignStackError) is deterministic: not retried.
        if (raw[key(c, n)]?.some((r) => r.kind === 'refused')) {
          process.stderr.write(`  [${done}/${total}] ${c} ${n}: skipped (refused in an earlier repetition)\n`);
          continue;
        }
        const run = await runCase(c, n, cfg.timeoutMs);
        (raw[key(c, n)] ??= []).push(run);
        process.stderr.write(`  [${done}/${total}] ${c} ${n}: ${run.ok
          ? `${run.result!.resources} resources, ${run.result!.wallMs.toFixed(0)} ms, ${run.result!.peakRssMb.toFixed(0)} MB`
          : `FAILED (${run.error!.split('\n')[0]})`}\n`);
      }
    }
  }

  let probe: Record<string, unknown> | undefined;
  if (cfg.probe > 0) {
    const run = await runCase('ours', cfg.probe, cfg.timeoutMs);
    done++;
    probe = {
      case: 'ours', services: cfg.probe, nodeFlags: 'none (no --max-old-space-size)', ok: run.ok,
      heapLimitMb: round(run.result?.heapLimitMb ?? defaultHeapLimitMb()),
      peakRssMb: round(run.result?.peakRssMb ?? run.sampledPeakRssMb ?? NaN),
      peakRssSource: run.result ? 'process.resourceUsage().maxRSS' : 'VmHWM sampled from /proc every 100 ms',
      resources: run.result?.resources, wallMs: run.result ? round(run.result.wallMs) : undefined,
      cpuMs: run.result ? round(run.result.cpuMs) : undefined,
      resourcesPerSecond: run.result ? round(run.result.resources / (run.result.wallMs / 1000)) : undefined,
      processMs: run.processMs, loadAverage1: run.loadAverage1, failure: run.kind, error: run.error, stderrHead: run.stderrHead,
    };
    process.stderr.write(`  [${done}/${total}] ours ${cfg.probe} (default heap): ${run.ok ? `ok, ${run.result!.peakRssMb.toFixed(0)} MB` : `FAILED (${run.error!.split('\n')[0]})`}\n`);
  }

  // Medians of each case and size that ran at least once.
  const summaries: Summary[] = [];
  const failures: string[] = [];
  for (const c of cfg.cases) {
    for (const n of cfg.sizes) {
      const runs = raw[key(c, n)] ?? [];
      for (const r of runs) if (!r.ok) failures.push(`${c} at ${n}: ${r.error}`);
      const ok = runs.filter((r) => r.ok).map((r) => r.result!);
      if (ok.length > 0) summaries.push(summarize(c, n, ok));
    }
  }
  const find = (c: CaseName, n: number) => summaries.find((s) => s.case === c && s.services === n);

  // Growth exponents: from 100 services (else the smallest size) to the largest size the case
  // synthesized (2,000 in a full run; less when it failed there, and `to` says so).
  const lo = cfg.sizes.includes(100) ? 100 : cfg.sizes[0];
  const exponents: Record<string, unknown> = {};
  for (const c of cfg.cases) {
    const a = find(c, lo);
    const hi = Math.max(...summaries.filter((s) => s.case === c).map((s) => s.services));
    const b = find(c, hi);
    if (!a || !b || lo === hi) continue;
    exponents[c] = {
      from: lo, to: hi,
      cpu: round(exponent(lo, a.cpuMs, hi, b.cpuMs), 3),
      wall: round(exponent(lo, a.wallMs, hi, b.wallMs), 3),
      peakRss: round(exponent(lo, a.peakRssMb, hi, b.peakRssMb), 3),
      resources: round(exponent(lo, a.resources, hi, b.resources), 3),
    };
  }

  // Ours against plain at each size.
  const ratios = cfg.sizes.flatMap((n) => {
    const o = find('ours', n);
    const p = find('plain', n);
    if (!o || !p) return [];
    return [{
      services: n,
      resourcesPerSecond: round(o.resourcesPerSecond / p.resourcesPerSecond, 3),
      cpuPerResource: round((o.cpuMs / o.resources) / (p.cpuMs / p.resources), 3),
      peakRss: round(o.peakRssMb / p.peakRssMb, 3),
      kbPeakRssPerResource: round(o.kbPeakRssPerResource / p.kbPeakRssPerResource, 3),
      jsonBytesPerResource: round(o.jsonBytesPerResource / p.jsonBytesPerResource, 3),
      resourceCount: round(o.resources / p.resources, 3),
    }];
  });

  // The comparison is fair only while both make the same resources: per type within 10% at every
  // size (test/bench/bench-fixture.test.ts checks 3 services; this checks the sizes benched).
  const shape = cfg.sizes.flatMap((n) => {
    const o = find('ours', n);
    const p = find('plain', n);
    if (!o || !p) return [];
    const types = [...new Set([...Object.keys(o.resourcesByType), ...Object.keys(p.resourcesByType)])].sort();
    const mismatches = types.filter((t) => Math.abs((p.resourcesByType[t] ?? 0) - (o.resourcesByType[t] ?? 0)) > 0.1 * (o.resourcesByType[t] ?? 0))
      .map((t) => `${t}: ours ${o.resourcesByType[t] ?? 0}, plain ${p.resourcesByType[t] ?? 0}`);
    return [{ services: n, sameShape: mismatches.length === 0, mismatches }];
  });
  const oversized = summaries.filter((s) => s.largestConfigMapBytes > 1048576)
    .map((s) => `${s.case} at ${s.services}: a ConfigMap of ${s.largestConfigMapBytes} bytes (Kubernetes refuses over 1 MiB)`);

  const o500 = find('ours', 500);
  const r500 = ratios.find((r) => r.services === 500);
  const oursExp = exponents.ours as { from: number; to: number; cpu: number } | undefined;
  const target = (measured: number | undefined, ok: (v: number) => boolean, goal: string, unit: string) => ({
    target: goal, measured: measured === undefined ? null : measured, unit,
    pass: measured === undefined ? null : ok(measured),
  });
  const acceptance = {
    resourcesPerSecondAt500: target(o500 && round(o500.resourcesPerSecond), (v) => v >= TARGETS.resourcesPerSecondAt500,
      `>= ${TARGETS.resourcesPerSecondAt500}`, 'resources/s (construct + synth wall, median)'),
    kbPeakRssPerResourceAt500: target(o500 && round(o500.kbPeakRssPerResource, 1), (v) => v <= TARGETS.kbPeakRssPerResourceAt500,
      `<= ${TARGETS.kbPeakRssPerResourceAt500}`, 'KB peak RSS per resource (median)'),
    timesPlainResourcesPerSecondAt500: target(r500?.resourcesPerSecond, (v) => v >= TARGETS.timesPlainAt500,
      `>= ${TARGETS.timesPlainAt500}`, 'ours / plain resources/s'),
    growthExponentCpu100To2000: {
      ...target(oursExp && oursExp.from === 100 && oursExp.to === 2000 ? oursExp.cpu : undefined, (v) => v <= TARGETS.growthExponent,
        `<= ${TARGETS.growthExponent}`, 'log(cpu_2000/cpu_100)/log(20), ours'),
    },
    services3000WithinDefaultHeap: {
      target: 'synthesizes with no --max-old-space-size', measured: probe
        ? { ok: probe.ok, peakRssMb: probe.peakRssMb, heapLimitMb: probe.heapLimitMb, ...(probe.ok ? {} : { failure: probe.failure, error: probe.error }) }
        : null,
      unit: `ours at ${cfg.probe} services`, pass: probe && cfg.probe === 3000 ? probe.ok : null,
    },
  };

  const results = {
    benchmark: 'synth throughput: ReferenceDeployment (ours) vs the same platform in plain cdktf (bench/plain-cdktf-platform.ts)',
    date: started.toISOString(),
    durationS: round((Date.now() - started.getTime()) / 1000),
    git: { commit: git(['rev-parse', 'HEAD']), uncommittedLibChanges: (git(['status', '--porcelain', '--', 'lib']) ?? '') !== '' },
    machine: machine(),
    machineLoad: {
      loadAverageBefore: loadBefore, loadAverageAfter: loadAvg(),
      note: `os.loadavg() (1, 5, 15 min) on ${os.cpus().length} cores; other work on the machine inflates wall times, CPU times less so`,
    },
    config: { sizes: cfg.sizes, reps: cfg.reps, cases: cfg.cases, probe: cfg.probe, processModel: 'one fresh node process per case, size and repetition; default node flags' },
    metrics: {
      wallMs: 'construct + app.synth(), from after module load',
      cpuMs: 'process.cpuUsage() user + system of construct + synth',
      loadMs: 'require of cdktf and the case module (library or providers)',
      resourcesPerSecond: 'resources in cdk.tf.json / wallMs',
      resourcesPerSecondWithLoad: 'resources / (loadMs + wallMs)',
      resourcesPerCpuSecond: 'resources / cpuMs (steadier than wall on a loaded machine)',
      peakRssMb: 'process.resourceUsage().maxRSS after synth (includes module load)',
      kbPeakRssPerResource: 'peakRssMb * 1024 / resources',
      jsonBytesPerResource: 'bytes of cdk.tf.json / resources',
      growthExponent: 'log(y_to / y_from) / log(to / from); 1 = linear',
      medians: 'of the repetitions; rates are medians of each run\'s rate',
    },
    acceptance,
    summaries: summaries.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? round(v, 1) : v]))),
    exponents,
    ratiosOursOverPlain: ratios,
    shapeOursVsPlain: shape,
    oversizedConfigMaps: oversized,
    probe,
    failures,
    runs: Object.fromEntries(Object.entries(raw).map(([k, runs]) => [k, runs.map((r) => (r.ok
      ? { ...r.result, loadAverage1: r.loadAverage1 }
      : { failure: r.kind, error: r.error, stderrHead: r.stderrHead, sampledPeakRssMb: r.sampledPeakRssMb, loadAverage1: r.loadAverage1 }))])),
  };
  fs.mkdirSync(path.dirname(cfg.out), { recursive: true });
  fs.writeFileSync(cfg.out, JSON.stringify(results, null, 2) + '\n');

  // The table.
  console.log(`\nSynth benchmark (${cfg.reps} repetition(s), medians; one process per run; load average ${loadBefore.join(' ')} -> ${loadAvg().join(' ')})\n`);
  console.log(table(summaries.map((s) => [
    s.case, s.services, s.resources, s.loadMs.toFixed(0), s.wallMs.toFixed(0), s.cpuMs.toFixed(0), s.resourcesPerSecond.toFixed(0),
    s.resourcesPerCpuSecond.toFixed(0), s.peakRssMb.toFixed(0), s.kbPeakRssPerResource.toFixed(1), s.jsonBytesPerResource.toFixed(0),
  ]), ['case', 'services', 'resources', 'load ms', 'wall ms', 'CPU ms', 'res/s', 'res/CPU-s', 'peak RSS MB', 'KB/res', 'JSON B/res']));
  if (ratios.length > 0) {
    console.log('\nours / plain');
    console.log(table(ratios.map((r) => [r.services, r.resourcesPerSecond.toFixed(2), r.cpuPerResource.toFixed(2), r.peakRss.toFixed(2), r.jsonBytesPerResource.toFixed(2)]),
      ['services', 'res/s', 'CPU/res', 'peak RSS', 'JSON B/res']));
  }
  for (const [c, e] of Object.entries(exponents) as Array<[string, { from: number; to: number; cpu: number; wall: number; peakRss: number }]>) {
    console.log(`growth exponent ${c} (${e.from} -> ${e.to} services): CPU ${e.cpu.toFixed(2)}, wall ${e.wall.toFixed(2)}, peak RSS ${e.peakRss.toFixed(2)}`);
  }
  for (const s of shape.filter((x) => !x.sameShape)) console.log(`\nWARNING: at ${s.services} services plain and ours differ: ${s.mismatches.join('; ')}`);
  for (const o of oversized) console.log(`WARNING: ${o}`);
  if (probe) {
    console.log(`\nours at ${probe.services} services, default heap (${probe.heapLimitMb ?? '?'} MB limit): ${probe.ok
      ? `synthesized, ${probe.resources} resources in ${probe.wallMs} ms, peak RSS ${probe.peakRssMb} MB`
      : `FAILED, peak RSS ~${probe.peakRssMb} MB (${String(probe.error).split('\n')[0]})`}`);
  }
  console.log('\nissue 17 targets');
  for (const [name, t] of Object.entries(acceptance) as Array<[string, { target: string; measured: unknown; pass: boolean | null }]>) {
    const verdict = t.pass === null ? 'not measured' : t.pass ? 'met' : 'NOT met';
    const measured = t.measured !== null && typeof t.measured === 'object'
      ? JSON.stringify(Object.fromEntries(Object.entries(t.measured).filter(([k]) => k !== 'error'))) : JSON.stringify(t.measured);
    console.log(`  ${name.padEnd(36)} ${t.target.padEnd(44)} ${measured.padEnd(20)} ${verdict}`);
  }
  console.log(`\nwrote ${path.relative(process.cwd(), cfg.out)}`);
  if (failures.length > 0) {
    console.error(`\n${failures.length} run(s) failed:\n${failures.join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
