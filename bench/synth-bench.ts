/**
 * Synth benchmark: `npm run bench` (compiled JS: tsx's source-mapped stack capture, which cdktf
 * does for every token, triples synth time). Each case runs in its own process, so peak RSS is
 * per case. Prints resources, wall time, resources/s and peak RSS.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { KubernetesTarget, OSLO_REGION, ReferenceDeployment, ResidencyGuard, ServiceSpec, WorkloadProps } from '../lib';

const SIZES = [10, 100, 500];
type Scenario = 'workloads' | 'platform';

function statefulWorkload(i: number): WorkloadProps {
  return {
    name: `store-${i}`, component: 'datastore', kind: 'stateful', image: 'registry.example.no/store:1.0.0', replicas: 3,
    ports: [{ name: 'db', containerPort: 5432 }],
    secrets: [{ source: 'generated', name: `store-${i}-credentials`, generated: { password: {} } }],
    env: [{ name: 'PASSWORD', secretRef: { secret: `store-${i}-credentials`, key: 'password' } }],
    configFiles: [{ path: '/etc/store/store.conf', content: `id = ${i}\n` }],
    volumes: [{ name: 'data', mountPath: '/data', sizeGi: 20 }],
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    placement: { datastore: true, spreadAcrossNodes: 'required' },
    disruptionBudget: { maxUnavailable: 1 },
  };
}

/** Every service routed, with its own database, publishing and consuming on the bus. */
function service(i: number): ServiceSpec {
  return {
    name: `svc-${i}`, image: 'registry.example.no/svc:1.0.0', port: 8080, routes: [`/v1/svc-${i}`],
    database: {}, messaging: { publishes: [`svc-${i}.changed`], consumes: [`svc-${(i + 1) % 1000}.changed`] },
  };
}

function runOne(scenario: Scenario, n: number): void {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sovereign-bench-'));
  const started = process.hrtime.bigint();
  const app = new App({ outdir, stackTraces: false });
  const stack = new TerraformStack(app, 'bench');
  ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  if (scenario === 'workloads') {
    for (let i = 0; i < n; i++) target.deploy(new Construct(stack, `store-${i}`), statefulWorkload(i));
  } else {
    new ReferenceDeployment(stack, 'platform', {
      target, gateway: { serverName: 'api.example.no', rateLimit: { perSecond: 10 } },
      services: Array.from({ length: n }, (_, i) => service(i)),
    });
  }
  app.synth();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'bench', 'cdk.tf.json'), 'utf8'));
  const resources = Object.values(json.resource as Record<string, object>).reduce((sum, byId) => sum + Object.keys(byId).length, 0);
  fs.rmSync(outdir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ n, resources, ms, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

function main(): void {
  const [scenario, n] = process.argv.slice(2);
  if (scenario) return runOne(scenario as Scenario, Number(n));
  const cases: Array<[Scenario, string]> = [
    ['workloads', 'stateful 3-replica workloads on KubernetesTarget'],
    ['platform', 'ReferenceDeployment services (each routed, with a database and broker user)'],
  ];
  for (const [name, title] of cases) {
    console.log(`\n${title}, one process per size`);
    console.log(['N', 'resources', 'wall ms', 'resources/s', 'peak RSS MB'].map((h) => h.padStart(12)).join(''));
    for (const size of SIZES) {
      const r = JSON.parse(execFileSync(process.execPath, [__filename, name, String(size)], { encoding: 'utf8', maxBuffer: 1 << 26 }));
      console.log([r.n, r.resources, r.ms.toFixed(0), (r.resources / (r.ms / 1000)).toFixed(0), r.peakRssMb.toFixed(0)]
        .map((v) => String(v).padStart(12)).join(''));
    }
  }
}

main();
