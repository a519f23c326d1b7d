/**
 * The library as a new user gets it, outside this repository: `npm pack`, install the tarball
 * with the peer dependencies into a fresh app under /tmp, compile a user stack that imports only
 * the package entry point (and the cdktf it installed), synthesize it with node, and check what
 * came out. Then the same user app against `npm install <repository path>` (which runs `prepare`).
 *
 * Offline-friendly: npm runs with --prefer-offline against the machine's npm cache (which
 * `npm ci` filled), so a warm machine installs without revalidating anything.
 */
import { SpawnSyncReturns, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURE = path.join(__dirname, 'fixture-app');
// Not os.tmpdir(): jest's globalSetup points TMPDIR inside the repository, and the app must live
// outside it (node_modules lookups must not fall back to the repository's).
const OUTSIDE = '/tmp';
// pack + two installs + two compiles + synth: ~1 min on a warm machine; far more on a cold npm cache.
jest.setTimeout(600_000);

const NPM_INSTALL = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string; version: string; peerDependencies?: Record<string, string>; devDependencies?: Record<string, string>;
};

interface Step { readonly name: string; readonly seconds: number }

/** Runs a command with an environment free of the npm variables of the `npm test` around us. */
function run(steps: Step[], name: string, cmd: string, args: string[], cwd: string, tmp: string): SpawnSyncReturns<string> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'TMPDIR') env[k] = v;
  }
  Object.assign(env, { TMPDIR: tmp, CHECKPOINT_DISABLE: '1', CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1' });
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
  steps.push({ name, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
  if (r.error || r.status !== 0) {
    throw new Error(`${name} failed (${cmd} ${args.join(' ')} in ${cwd}, exit ${r.status ?? r.signal}${r.error ? `, ${r.error.message}` : ''}):\n` +
      `${r.stdout.slice(-4000)}\n${r.stderr.slice(-8000)}`);
  }
  return r;
}

/** The peer dependencies as a user installs them, at the ranges the package declares. */
function peerSpecs(): string[] {
  return Object.entries(pkg.peerDependencies ?? {}).map(([name, range]) => `${name}@${range}`);
}

/** A fresh copy of the fixture app in `dir`. */
function newApp(dir: string): void {
  fs.cpSync(FIXTURE, dir, { recursive: true, filter: (src) => !/[/\\](node_modules|dist|cdktf\.out)$/.test(src) });
}

function typescriptSpec(): string {
  return `typescript@${pkg.devDependencies?.typescript ?? '~5.9.3'}`;
}

function summary(steps: Step[]): string {
  return steps.map((s) => `${s.name} ${s.seconds.toFixed(1)}s`).join(', ');
}

describe('the package, installed as a user installs it', () => {
  let work: string;
  let tmp: string;
  const steps: Step[] = [];

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(OUTSIDE, 'sovereign-stack-consumer-'));
    tmp = path.join(work, 'tmp');
    fs.mkdirSync(tmp);
  });

  afterAll(() => {
    // eslint-disable-next-line no-console
    console.log(`consumer test: ${summary(steps)}; total ${steps.reduce((t, s) => t + s.seconds, 0).toFixed(1)}s`);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  describe('from the npm pack tarball', () => {
    let tarball: string;
    let files: string[];
    let app: string;
    let synthOut: string;

    beforeAll(() => {
      const packDir = path.join(work, 'pack');
      fs.mkdirSync(packDir);
      const packed = run(steps, 'npm pack', 'npm', ['pack', '--json', '--pack-destination', packDir, '--loglevel=error'], ROOT, tmp);
      // --json prints one JSON array (prepare's own output may come before it).
      const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('\n[') + 1)) as Array<{ filename: string; files: Array<{ path: string }>; size: number; entryCount: number }>;
      tarball = path.join(packDir, info[0].filename);
      files = info[0].files.map((f) => f.path).sort();
      // eslint-disable-next-line no-console
      console.log(`consumer test: ${info[0].filename} ${(info[0].size / 1024).toFixed(1)} kB packed, ${info[0].entryCount} files`);
      app = path.join(work, 'app');
      synthOut = path.join(app, 'cdktf.out', 'stacks', 'consumer');
    });

    it('installs with the peer dependencies and compiles a strict user app', () => {
      newApp(app);
      run(steps, 'npm install <tarball> + peers', 'npm', [...NPM_INSTALL, tarball, ...peerSpecs(), typescriptSpec()], app, tmp);
      run(steps, 'tsc (user app)', path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], app, tmp);
      expect(fs.existsSync(path.join(app, 'dist', 'main.js'))).toBe(true);
    });

    it('synthesizes with node', () => {
      expect(fs.existsSync(path.join(app, 'dist', 'main.js'))).toBe(true);
      run(steps, 'synth (node dist/main.js)', process.execPath, ['dist/main.js'], app, tmp);
      expect(fs.existsSync(path.join(synthOut, 'cdk.tf.json'))).toBe(true);
    });

    it('packs the compiled library, its declarations, README, LICENSE and CHANGELOG, nothing else', () => {
      expect(files).toEqual(expect.arrayContaining(['dist/lib/index.js', 'dist/lib/index.d.ts', 'package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']));
      const unexpected = files.filter((f) => !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(f) && !/^dist\/lib\/.+\.(js|d\.ts)$/.test(f));
      expect(unexpected).toEqual([]);
      expect(files.filter((f) => /^(test|bench|stacks|\.ci|lib)\//.test(f) || /\.tgz$|tsconfig|jest\.config/.test(f))).toEqual([]);
      // Every module of the library has its JavaScript and its declarations.
      const js = files.filter((f) => f.endsWith('.js')).map((f) => f.replace(/\.js$/, ''));
      const dts = files.filter((f) => f.endsWith('.d.ts')).map((f) => f.replace(/\.d\.ts$/, ''));
      expect(dts).toEqual(js);
    });

    it('uses nothing of ours but the package entry point', () => {
      const source = fs.readFileSync(path.join(FIXTURE, 'src', 'main.ts'), 'utf8');
      const modules = [...source.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]).sort();
      expect(modules).toEqual(['cdktf', 'sovereign-stack']);
    });

    it('installs one copy of cdktf, constructs and the providers, shared with the app', () => {
      const nested = path.join(app, 'node_modules', pkg.name, 'node_modules');
      const duplicated = Object.keys(pkg.peerDependencies ?? {}).filter((name) => fs.existsSync(path.join(nested, name)));
      expect(duplicated).toEqual([]);
      expect(Object.keys(pkg.peerDependencies ?? {})).toEqual(expect.arrayContaining(['cdktf', 'constructs']));
    });

    it('synthesizes the user stack: the platform, the added service and route, the standalone database', () => {
      const tf = JSON.parse(fs.readFileSync(path.join(synthOut, 'cdk.tf.json'), 'utf8'));
      const names = (type: string): string[] => Object.values<any>(tf.resource[type] ?? {}).map((r) => r.metadata[0]?.name ?? r.metadata.name).sort();
      expect(names('kubernetes_stateful_set_v1')).toEqual(['invoices-db', 'orders-db', 'rabbitmq', 'reports-db']);
      expect(names('kubernetes_deployment_v1')).toEqual(['gateway', 'invoices', 'orders', 'search']);
      const nginxConf = Object.values<any>(tf.resource.kubernetes_config_map_v1)
        .flatMap((c) => Object.entries<string>(c.data ?? {})).find(([key]) => key.endsWith('nginx.conf'))?.[1];
      for (const route of ['/v1/orders', '/v1/invoices', '/v1/search', '/v2/search']) expect(nginxConf).toContain(`location = ${route} `);
      expect(tf.terraform.backend.s3).toEqual(expect.objectContaining({ bucket: 'platform-tfstate', endpoints: { s3: 'https://objects.example.no' } }));
      // The escape hatch landed.
      const ordersDb = Object.values<any>(tf.resource.kubernetes_stateful_set_v1).find((s) => (s.metadata[0]?.name ?? s.metadata.name) === 'orders-db');
      expect(ordersDb.spec.min_ready_seconds ?? ordersDb.spec[0]?.min_ready_seconds).toBe(10);
    });

    it('declares the outputs a user needs after deploy', () => {
      const tf = JSON.parse(fs.readFileSync(path.join(synthOut, 'cdk.tf.json'), 'utf8'));
      const outputs = Object.fromEntries(Object.entries<any>(tf.output ?? {}).map(([id, o]) => [id.replace(/_[0-9A-F]{8}$/, ''), o.value]));
      expect(outputs).toEqual({
        'platform_gateway-address': expect.stringContaining('.status[0].load_balancer[0].ingress[0].ip'),
        'platform_orders_database-host': 'orders-db.platform.svc.cluster.local',
        'platform_orders_database-credentials-secret': 'orders-db-credentials',
        'platform_invoices_database-host': 'invoices-db.platform.svc.cluster.local',
        'platform_invoices_database-credentials-secret': 'invoices-db-credentials',
        'platform_broker-endpoint': 'rabbitmq.platform.svc.cluster.local:5672',
      });
    });

    it('writes the residency report beside cdk.tf.json', () => {
      const report = JSON.parse(fs.readFileSync(path.join(synthOut, 'residency-report.json'), 'utf8'));
      expect(report).toEqual(expect.objectContaining({ stack: 'consumer' }));
      expect(JSON.stringify(report)).not.toContain('"violation"');
    });
  });

  describe('from the repository path (npm install <path> links it and runs its prepare)', () => {
    it('installs, compiles and synthesizes the same user stack', () => {
      const app = path.join(work, 'path-app');
      newApp(app);
      const built = path.join(ROOT, 'dist', 'lib', 'index.js');
      const before = fs.existsSync(built) ? fs.statSync(built).mtimeMs : 0;
      run(steps, 'npm install <path> + peers', 'npm', [...NPM_INSTALL, ROOT, ...peerSpecs(), typescriptSpec()], app, tmp);
      // npm ran the repository's prepare: the library was built afresh.
      expect(fs.statSync(built).mtimeMs).toBeGreaterThan(before);
      expect(fs.realpathSync(path.join(app, 'node_modules', pkg.name))).toBe(fs.realpathSync(ROOT));
      run(steps, 'tsc (path app)', path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], app, tmp);
      run(steps, 'synth (path app)', process.execPath, ['dist/main.js'], app, tmp);
      const tf = JSON.parse(fs.readFileSync(path.join(app, 'cdktf.out', 'stacks', 'consumer', 'cdk.tf.json'), 'utf8'));
      expect(Object.keys(tf.output ?? {}).length).toBe(6);
      expect(fs.existsSync(path.join(app, 'cdktf.out', 'stacks', 'consumer', 'residency-report.json'))).toBe(true);
    });
  });
});
