/**
 * Issue 13 class 4, fuzzed: every string prop of every renderer and construct refuses (or
 * accepts) a long adversarial value in milliseconds. Values repeat a unit that makes ambiguous
 * patterns backtrack ("a-", "a.", "1.", "(a|a)*") to up to 60,000 characters and end with a
 * character no pattern accepts. Before the fix a 60,000-character image took 11-17 s.
 */
import { TerraformStack, Testing } from 'cdktf';
import * as fc from 'fast-check';
import {
  KubernetesTarget, MicroService, NginxGateway, OSLO_REGION, PostgresDatabase, RabbitMqCluster, ReferenceDeployment,
  ResidencyGuard, defineRegion, renderNginxConf, renderPostgresConf, renderRabbitMqConf, renderRabbitMqDefinitions, renderers as r,
} from '../../lib';
import {
  hbaMutations, hbaSpec, nginxMutations, nginxSpec, postgresMutations, postgresSpec, rabbitConfMutations, rabbitConfSpec,
  rabbitDefinitionsMutations, rabbitDefinitionsSpec, userBootstrapMutations, userBootstrapSpec,
} from './generators';
import { FUZZ_SEED, Path, longestPatternInput, params, setPath } from './support';

/** The slowest call seen must stay far below what a user would notice. */
/** The longest value a pattern may scan: above every length limit we set, far below the 60,000 tried. */
const LONGEST_SCAN = 10000;

const longValue = fc.tuple(
  fc.constantFrom('a', 'a-', 'a.', 'a/', '1.', 'a_', '--a', '(a|a)*', 'a@', 'A-', '0.', '/a', 'a:', '*.', '#.'),
  fc.integer({ min: 1000, max: 60000 }),
  fc.constantFrom('!', ' ', '\n', '', '-', '.'),
).map(([unit, length, end]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length) + end);

let slowest = { ms: 0, what: '' };
let calls = 0;
afterAll(() => {
  process.stdout.write(`\nfuzz: long values (seed ${FUZZ_SEED}): ${calls} calls with values of 1,000-60,000 characters, slowest ${slowest.ms.toFixed(1)} ms (${slowest.what})\n`);
});

function once(fn: () => unknown): number {
  const started = process.hrtime.bigint();
  try {
    fn();
  } catch {
    /* refused or accepted: only the time counts here; the other suites check the outcome */
  }
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * Length limits come first: no pattern may scan a long value (counted, not timed, so a busy
 * machine cannot fail it). The time is printed for the record only.
 */
function timed(what: string, fn: () => unknown): void {
  const scanned = longestPatternInput(fn);
  const ms = once(fn);
  calls++;
  if (ms > slowest.ms) slowest = { ms, what };
  if (scanned > LONGEST_SCAN) throw new Error(`${what}: a pattern scanned ${scanned} characters before the length limit refused it`);
}

/** Props whose value is a string in some valid input: the ones a long string can reach. */
const stringPaths = (mutations: ReadonlyArray<readonly [Path, unknown]>): Path[] => mutations.map(([p]) => p).filter((p) => p.length > 0);

function newStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app({ stackTraces: false }), 'test');
  ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
  return stack;
}

describe('fuzz: long values are judged in milliseconds', () => {
  const renderers: Array<[string, fc.Arbitrary<any>, ReadonlyArray<readonly [Path, unknown]>, (s: any) => unknown]> = [
    ['renderNginxConf', nginxSpec({ versions: ['1.22.1'], hosts: fc.constant('127.0.0.1'), ports: fc.constant(8080) }), nginxMutations, renderNginxConf],
    ['renderPostgresConf', postgresSpec(), postgresMutations, renderPostgresConf],
    ['renderPgHba', hbaSpec, hbaMutations, r.renderPgHba],
    ['renderRabbitMqConf', rabbitConfSpec(), rabbitConfMutations, renderRabbitMqConf],
    ['renderRabbitMqDefinitions', rabbitDefinitionsSpec(), rabbitDefinitionsMutations, renderRabbitMqDefinitions],
    ['renderUserBootstrapScript', userBootstrapSpec, userBootstrapMutations, r.renderUserBootstrapScript],
  ];

  it.each(renderers)('%s', (name, valid, mutations, render) => {
    const paths = stringPaths(mutations);
    fc.assert(fc.property(valid, fc.constantFrom(...paths), longValue, (input, path, value) => {
      timed(`${name} ${path.join('.')} of ${value.length} characters`, () => render(setPath(input, path, value)));
      // A long key of a map, where maps exist.
      if (path[path.length - 1] === 'responseHeaders') timed(`${name} header name of ${value.length}`, () => render(setPath(input, path, { [value]: 'x' })));
    }), params(150));
  });

  it('constructs', () => {
    const props = ['image', 'name', 'serverName', 'serviceName', 'existingSecret', 'storageClassName', 'vhost', 'exchange', 'cpu', 'memoryLimit', 'healthPath', 'nginxVersion', 'clientMaxBodySize'];
    fc.assert(fc.property(fc.constantFrom(...props), longValue, (prop, value) => {
      const stack = newStack();
      const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
      timed(`MicroService ${prop}`, () => new MicroService(stack, 'svc', { target, name: 'orders', image: 'orders:1', port: 80, [prop]: value } as any));
      timed(`NginxGateway ${prop}`, () => new NginxGateway(stack, 'gw', { target, serverName: 'a.example.no', [prop]: value } as any));
      timed(`PostgresDatabase ${prop}`, () => new PostgresDatabase(stack, 'db', { target, serviceName: 'orders', [prop]: value } as any));
      timed(`RabbitMqCluster ${prop}`, () => new RabbitMqCluster(stack, 'mq', { target, [prop]: value } as any));
      timed(`ReferenceDeployment services[0].${prop}`, () => new ReferenceDeployment(stack, 'rd', {
        target, gateway: { serverName: 'a.example.no' }, services: [{ name: 'orders', image: 'orders:1', port: 80, [prop]: value }],
      } as any));
      timed(`KubernetesTarget ${prop}`, () => new KubernetesTarget(stack, 'k', { region: OSLO_REGION, namespace: value, partOf: value, clusterDomain: value } as any));
      timed(`defineRegion ${prop}`, () => defineRegion({ id: `onprem:${value}`, country: 'NO', kubernetesRegionLabel: value, city: value }));
    }), params(80));
  });
});
