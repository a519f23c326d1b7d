/**
 * Property-based fuzz of every public construct (issue 13): KubernetesTarget, DockerTarget,
 * MicroService, NginxGateway (and addRoute), PostgresDatabase, RabbitMqCluster (and
 * addServiceUser), ReferenceDeployment (and addService), and defineRegion. Each case builds a
 * fresh stack from valid props with at most one prop replaced. A refusal must be a
 * SovereignStackError naming that prop as the user wrote it (`ReferenceDeployment
 * test/platform props.services[0].database.storageGi`); an accepted case must synthesize with
 * every validation on, with nothing thrown (no "Resolution error" from a renderer run at synth).
 */
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import * as fc from 'fast-check';
import {
  DeployedWorkload, DockerTarget, IWorkloadTarget, KubernetesTarget, MicroService, NginxGateway, OSLO_REGION, PostgresDatabase,
  RabbitMqCluster, ReferenceDeployment, ResidencyGuard, defineRegion, regions,
} from '../../lib';
import { cidrValues, label, strip } from './generators';
import { Case, FuzzStats, Path, cases, junk, memoryQuantities, nearInt, nearString, params, runCase } from './support';

const stats = new FuzzStats();
afterAll(() => stats.print('fuzz: constructs'));

function newStack(): TerraformStack {
  const app = Testing.app({ stackTraces: false });
  const stack = new TerraformStack(app, 'test');
  ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
  return stack;
}

/**
 * Synthesizes with every validation on; counts it as the accepted case's check. Some rules can
 * only be judged at synth, by design (the residency guard judges the synthesized placement; a
 * gateway may get its routes after construction; a secret may be declared by a later workload):
 * such a refusal must come as cdktf's validation report, each line naming the construct and what
 * to do, never as a crash or a "Resolution error" from a renderer run at synth.
 */
function synthesizes(target: string, stack: TerraformStack): void {
  try {
    Testing.synth(stack, true);
  } catch (e) {
    const message = (e as Error).message;
    if (/^Validation failed with the following errors:\n( +\[test[^\]]*\] \S.*\n?)+/.test(message) && !/Resolution error|TypeError|\n +at /.test(message)) {
      stats.row(target).refusedAtSynth++;
      if (process.env.FUZZ_VERBOSE) process.stdout.write(`${target} refused at synth: ${message.split('\n')[1].replace(/\[[^\]]*\]/, '').slice(0, 160)}\n`);
      return;
    }
    throw e;
  }
  stats.row(target).checks++;
}

const eeaRegion = fc.constantFrom<string | typeof OSLO_REGION>(OSLO_REGION, 'aws:eu-north-1', 'gcp:europe-north1', 'hetzner:hel1', 'upcloud:no-svg1');
const regionValues = fc.oneof(eeaRegion, fc.constantFrom('aws:eu-west-2', 'aws:us-east-1', 'nowhere:x', '', 'AWS:EU-NORTH-1'), junk,
  fc.constant({ id: 'onprem:x', country: 'NO', operator: 'x', operatorJurisdiction: 'NO', kubernetesRegionLabel: 'x' }));
const image = (name: string) => fc.constantFrom(`registry.example.no/${name}:1.4.2`, `${name}:1`, `localhost:5000/team/${name}:2.0.1-rc.1`, `${name}@sha256:${'a'.repeat(64)}`);
const imageValues = fc.oneof(image('app'), nearString(image('app')), fc.constantFrom('', 'App:1', 'a b', 'a:', '-a', 'a..b', 'a'.repeat(300)), junk);
const cpuValues = fc.oneof(fc.constantFrom('100m', '2', '0.5', '0', '1m'), nearString(fc.constantFrom('250m', '1.5')), fc.constantFrom('1 m', '-1', 'm', '1.', '1e3', '9'.repeat(20)), junk);
const dnsLabelValues = fc.oneof(label, nearString(label), fc.constantFrom('-a', 'a-', 'A', 'a'.repeat(64), 'a.b', ''), junk);
const portValues = fc.oneof(fc.integer({ min: 1, max: 65535 }), nearInt(1, 65535));
const routeValues = fc.oneof(fc.constantFrom('/v1/orders', '/', '/a/', '/x~y'), nearString(fc.constantFrom('/v1/orders')), fc.constantFrom('/a/../b', 'v1', '/a b', '/healthz'), junk);
const routingKeyValues = fc.oneof(fc.constantFrom('orders.created', 'a.*', '#', 'a.#.b'), nearString(fc.constantFrom('orders.created')), fc.constantFrom('a..b', '.a', 'a b', '**'), junk);

/** Runs one construct case whose path starts with a segment naming the call it belongs to. */
function runConstructCase<T>(target: string, c: Case<T>, prefixes: Record<string, string>, build: (input: T) => TerraformStack, related: RegExp[] = []): void {
  const [call, ...rest] = c.path ?? [];
  const prefix = c.path ? prefixes[String(call)] : Object.values(prefixes)[0];
  if (prefix === undefined) throw new Error(`no prefix for ${String(call)}`);
  const sub = c.path ? (prefixes[`${String(call)}:skip`] ? rest.slice(Number(prefixes[`${String(call)}:skip`])) : rest) : undefined;
  runCase(stats, target, { ...c, path: sub }, prefix, () => build(c.input), (stack) => synthesizes(target, stack), related);
}

function deployService(scope: Construct, target: IWorkloadTarget, name: string, ports: number[]): DeployedWorkload {
  return target.deploy(new Construct(scope, `svc-${name}`), {
    name, component: 'service', kind: 'stateless', image: `registry.example.no/${name}:1.0.0`,
    ports: ports.map((p, i) => ({ name: `http-${i}`, containerPort: p })),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  });
}

describe('fuzz: constructs refuse with the prop named, or synthesize', () => {
  it('KubernetesTarget', () => {
    const valid = fc.record({
      target: fc.record({
        region: eeaRegion,
        namespace: fc.option(label, { nil: undefined }),
        clusterDomain: fc.option(fc.constantFrom('cluster.local', 'k8s.example.no'), { nil: undefined }),
        clusterDns: fc.option(fc.constantFrom('10.96.0.10', 'kube-dns.kube-system.svc.cluster.local'), { nil: undefined }),
        partOf: fc.option(label, { nil: undefined }),
        waitForRollout: fc.option(fc.boolean(), { nil: undefined }),
        rolloutTimeout: fc.option(fc.constantFrom('10m', '1h30m', '90s'), { nil: undefined }),
      }).map(strip),
    });
    const mutations: ReadonlyArray<readonly [Path, fc.Arbitrary<unknown>]> = [
      [['target'], junk],
      [['target', 'region'], regionValues],
      [['target', 'namespace'], dnsLabelValues],
      [['target', 'clusterDomain'], fc.oneof(nearString(fc.constantFrom('cluster.local')), junk)],
      [['target', 'clusterDns'], fc.oneof(nearString(fc.constantFrom('10.96.0.10', 'kube-dns.kube-system.svc.cluster.local')), junk)],
      [['target', 'datastoreNodeLabels'], fc.oneof(fc.dictionary(fc.oneof(label, fc.string({ maxLength: 8 })), fc.oneof(label, fc.string({ maxLength: 8 })), { maxKeys: 2 }), junk)],
      [['target', 'regionNodeLabelKeys'], fc.oneof(fc.array(fc.oneof(label, fc.string({ maxLength: 8 })), { maxLength: 2 }), junk)],
      [['target', 'apiServer'], fc.oneof(fc.record({ cidrs: fc.array(cidrValues, { maxLength: 2 }) }), junk)],
      [['target', 'rolloutTimeout'], fc.oneof(nearString(fc.constantFrom('10m', '1h')), junk)],
      [['target', 'storage'], fc.oneof(fc.record({ storageClassName: dnsLabelValues }), junk)],
      [['target', 'unknownProp'], fc.constant(1)],
    ];
    fc.assert(fc.property(cases(valid, mutations), (c) => runConstructCase('KubernetesTarget', c, { target: 'KubernetesTarget cluster props' }, ({ target }) => {
      const stack = newStack();
      const t = new KubernetesTarget(stack, 'cluster', target as any);
      new MicroService(stack, 'svc', { target: t, name: 'orders', image: 'registry.example.no/orders:1.0.0', port: 8080 });
      return stack;
    })), params(100));
  });

  it('DockerTarget', () => {
    const valid = fc.record({
      target: fc.record({
        location: fc.constant<string | typeof OSLO_REGION>(OSLO_REGION),
        namePrefix: fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), { nil: undefined }),
        publishAddress: fc.option(fc.constantFrom('127.0.0.1', '0.0.0.0'), { nil: undefined }),
      }).map(strip),
    });
    const mutations: ReadonlyArray<readonly [Path, fc.Arbitrary<unknown>]> = [
      [['target'], junk],
      [['target', 'location'], regionValues],
      [['target', 'host'], fc.oneof(fc.constantFrom('unix:///var/run/docker.sock', 'tcp://10.0.0.1:2376', 'ssh://a@b', 'http://x', 'unix://'), junk)],
      [['target', 'remoteHostLocation'], regionValues],
      [['target', 'namePrefix'], dnsLabelValues],
      [['target', 'publishAddress'], fc.oneof(fc.ipV4(), nearString(fc.constant('127.0.0.1')), junk)],
    ];
    fc.assert(fc.property(cases(valid, mutations), (c) => runConstructCase('DockerTarget', c, { target: 'DockerTarget local props' }, ({ target }) => {
      const stack = newStack();
      const t = new DockerTarget(stack, 'local', target as any);
      new MicroService(stack, 'svc', { target: t, name: 'orders', image: 'registry.example.no/orders:1.0.0', port: 8080 });
      return stack;
    }, [/props\.(host|remoteHostLocation|location)/])), params(80));
  });

  it('MicroService', () => {
    const valid = fc.record({
      props: fc.record({
        name: label, image: image('orders'), port: fc.integer({ min: 1, max: 65535 }),
        replicas: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        env: fc.option(fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), fc.string({ maxLength: 12 }), { maxKeys: 3 }), { nil: undefined }),
        healthPath: fc.option(fc.constantFrom('/healthz', '/ready'), { nil: undefined }),
        resources: fc.option(fc.constantFrom({ cpu: '250m' }, { memory: '64Mi', memoryLimit: '128Mi' }, { memoryLimit: '6Mi', memory: '6Mi' }), { nil: undefined }),
        gracePeriodSeconds: fc.option(fc.integer({ min: 1, max: 3400 }), { nil: undefined }),
        preStopDelaySeconds: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
        connectionEnv: fc.option(fc.constant([{ name: 'DATABASE_HOST', value: 'orders-db' }]), { nil: undefined }),
      }).map(strip),
      docker: fc.boolean(),
    });
    const mutations: ReadonlyArray<readonly [Path, fc.Arbitrary<unknown>]> = [
      [['props'], junk],
      [['props', 'name'], dnsLabelValues],
      [['props', 'image'], imageValues],
      [['props', 'port'], portValues],
      [['props', 'replicas'], nearInt(1, 100)],
      [['props', 'env'], fc.oneof(fc.dictionary(fc.oneof(fc.stringMatching(/^[A-Z_]{1,4}$/), fc.string({ maxLength: 5 })), fc.oneof(fc.string({ maxLength: 5 }), junk), { maxKeys: 2 }), junk)],
      [['props', 'healthPath'], routeValues],
      [['props', 'resources', 'memoryLimit'], memoryQuantities],
      [['props', 'resources', 'cpu'], cpuValues],
      [['props', 'resources'], junk],
      [['props', 'gracePeriodSeconds'], nearInt(1, 3600)],
      [['props', 'preStopDelaySeconds'], nearInt(0, 120)],
      [['props', 'connectionEnv'], fc.oneof(junk, fc.constant([{ name: 'X' }]), fc.constant([{ name: 'A', value: 'x' }, { name: 'A', value: 'y' }]),
        fc.constant([{ name: 'DATABASE_PASSWORD', secretRef: { secret: 'orders-db', key: 'password' } }]))],
      [['props', 'target'], junk],
    ];
    fc.assert(fc.property(cases(valid, mutations), (c) => runConstructCase('MicroService', c, { props: 'MicroService test/svc props' }, ({ props, docker }) => {
      const stack = newStack();
      const target = docker ? new DockerTarget(stack, 'local', { location: OSLO_REGION }) : new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
      const p = props === undefined || props === null || typeof props !== 'object' ? props : { target, ...props };
      new MicroService(stack, 'svc', p as any);
      return stack;
    })), params(120));
  });

  it('NginxGateway and addRoute', () => {
    const rateLimit = fc.record({
      per: fc.constantFrom('perSecond', 'perMinute'), rate: fc.integer({ min: 1, max: 1000 }),
      burst: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }), nodelay: fc.option(fc.boolean(), { nil: undefined }),
      scope: fc.option(fc.constantFrom('per-replica', 'gateway'), { nil: undefined }),
    }).map(({ per, rate, ...r }) => strip({ [per]: rate, ...r }));
    const valid = fc.record({
      props: fc.record({
        serverName: fc.oneof(fc.domain(), fc.constant('api.example.no')),
        name: fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/).filter((n) => !['orders', 'invoices'].includes(n)), { nil: undefined }),
        tls: fc.option(fc.record({ secretName: label, publicHttpsPort: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }) }).map(strip), { nil: undefined }),
        rateLimit: fc.option(rateLimit, { nil: undefined }),
        replicas: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        image: fc.option(fc.constantFrom('nginxinc/nginx-unprivileged:1.27.3-alpine', 'nginxinc/nginx-unprivileged:1.22-alpine', 'nginx:1.25.1'), { nil: undefined }),
        clientMaxBodySize: fc.option(fc.constantFrom('0', '1m', '512k', '2g'), { nil: undefined }),
        upstreamKeepalive: fc.option(fc.integer({ min: 0, max: 64 }), { nil: undefined }),
        timeouts: fc.option(fc.record({ connectSeconds: fc.integer({ min: 1, max: 75 }), readSeconds: fc.integer({ min: 1, max: 3600 }) }), { nil: undefined }),
      }).map(strip),
      routes: fc.uniqueArray(fc.record({
        path: fc.constantFrom('/v1/orders', '/v1/invoices/', '/', '/x', '/v2'), service: fc.nat(1), port: fc.constantFrom(8080, 80),
        rateLimit: fc.option(rateLimit, { nil: undefined }),
      }).map(strip), { minLength: 1, maxLength: 3, selector: (r) => r.path }),
      docker: fc.boolean(),
    });
    const mutations: ReadonlyArray<readonly [Path, fc.Arbitrary<unknown>]> = [
      [['props'], junk],
      [['props', 'serverName'], fc.oneof(nearString(fc.domain()), junk)],
      [['props', 'name'], dnsLabelValues],
      [['props', 'tls', 'secretName'], dnsLabelValues],
      [['props', 'tls', 'publicHttpsPort'], portValues],
      [['props', 'tls'], junk],
      [['props', 'rateLimit', 'burst'], nearInt(1, 100000)],
      [['props', 'rateLimit', 'perSecond'], nearInt(1, 100000)],
      [['props', 'rateLimit', 'scope'], fc.oneof(fc.constantFrom('gateway', 'cluster'), junk)],
      [['props', 'rateLimit'], junk],
      [['props', 'replicas'], nearInt(1, 100)],
      [['props', 'image'], imageValues],
      [['props', 'nginxVersion'], fc.oneof(fc.constantFrom('1.22.1', '1.27', '1.27.3', 'latest-1.27.3', '1.27.3\n'), junk)],
      [['props', 'clientMaxBodySize'], fc.oneof(nearString(fc.constantFrom('1m', '0')), junk)],
      [['props', 'upstreamKeepalive'], nearInt(0, 10000)],
      [['props', 'timeouts', 'connectSeconds'], nearInt(1, 75)],
      [['props', 'resources'], fc.oneof(fc.record({ requests: fc.record({ cpu: cpuValues, memory: memoryQuantities }), limits: fc.record({ memory: memoryQuantities }) }), junk)],
      [['routes', 0, 'path'], routeValues],
      [['routes', 0, 'port'], portValues],
      [['routes', 0, 'service'], junk],
      [['routes', 0, 'rateLimit'], fc.oneof(fc.record({ perSecond: nearInt(1, 100000), burst: nearInt(1, 100000) }), junk)],
      [['routes', 0], junk],
    ];
    fc.assert(fc.property(cases(valid, mutations), (c) => runConstructCase('NginxGateway', c, {
      props: 'NginxGateway test/gateway props', routes: 'NginxGateway test/gateway route', 'routes:skip': '1',
    }, ({ props, routes, docker }) => {
      const stack = newStack();
      const target = docker ? new DockerTarget(stack, 'local', { location: OSLO_REGION }) : new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
      const services = [deployService(stack, target, 'orders', [80, 8080]), deployService(stack, target, 'invoices', [80, 8080])];
      const p = props === undefined || props === null || typeof props !== 'object' ? props : { target, ...props };
      const gateway = new NginxGateway(stack, 'gateway', p as any);
      for (const r of routes) {
        const route = typeof r === 'object' && r !== null && typeof (r as any).service === 'number' ? { ...r, service: services[(r as any).service] } : r;
        gateway.addRoute(route as any);
      }
      return stack;
    }, [/route\.(service|path)/])), params(100));
  });

  it('PostgresDatabase', () => {
    const valid = fc.record({
      props: fc.record({
        serviceName: fc.stringMatching(/^[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,6})?$/).filter((n) => !['postgres', 'template0', 'template1'].includes(n)),
        storageGi: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
        walStorageGi: fc.option(fc.integer({ min: 4, max: 100 }), { nil: undefined }),
        image: fc.option(fc.constantFrom('postgres:17.2', 'postgres:15.8-alpine', 'postgres:16', `postgres:14.13@sha256:${'b'.repeat(64)}`), { nil: undefined }),
        memoryLimit: fc.option(fc.constantFrom('256Mi', '1Gi', '2Gi', '64Gi', '16Ti'), { nil: undefined }),
        cpu: fc.option(fc.constantFrom('250m', '2'), { nil: undefined }),
        maxConnections: fc.option(fc.integer({ min: 10, max: 200 }), { nil: undefined }),
        existingSecret: fc.option(label, { nil: undefined }),
        retainOnDelete: fc.option(fc.boolean(), { nil: undefined }),
        clientCidrs: fc.option(fc.constantFrom(['10.0.0.0/8'], ['10.42.0.0/16', 'fd00::/8']), { nil: undefined }),
      }).map(strip)
        // The data directory's major must match the image's (a new database declares it).
        .map((p) => (p.image ? { ...p, dataMajorVersion: Number(/^postgres:(\d+)/.exec(String(p.image))![1]) } : p)),
      docker: fc.boolean(),
    });
    const mutations: ReadonlyArray<readonly [Path, fc.Arbitrary<unknown>]> = [
      [['props'], junk],
      [['props', 'serviceName'], fc.oneof(dnsLabelValues, fc.constantFrom('postgres', 'pg-x', 'all', 'a'.repeat(38)))],
      [['props', 'storageGi'], nearInt(1, 65536)],
      [['props', 'walStorageGi'], nearInt(4, 65536)],
      [['props', 'storageClassName'], dnsLabelValues],
      [['props', 'image'], fc.oneof(imageValues, fc.constantFrom('postgres:13', 'postgres:18', 'postgres:latest', 'postgres:alpine3.15'))],
      [['props', 'memoryLimit'], memoryQuantities],
      [['props', 'cpu'], cpuValues],
      [['props', 'maxConnections'], nearInt(10, 5000)],
      [['props', 'existingSecret'], dnsLabelValues],
      [['props', 'clientCidrs'], fc.oneof(fc.array(cidrValues, { maxLength: 3 }), junk)],
      [['props', 'location'], regionValues],
    ];
    fc.assert(fc.property(cases(valid, mutations), (c) => runConstructCase('PostgresDatabase', c, { props: 'PostgresDatabase test/db props' }, ({ props, docker }) => {
      const stack = newStack();
      const target = docker ? new DockerTarget(stack, 'local', { location: OSLO_REGION }) : new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
      const p = props === undefined || props === null || typeof props !== 'object' ? props : { target, ...props };
      new PostgresDatabase(stack, 'db', p as any);
      return stack;
    }, [/props\.(maxConnections|memoryLimit|location)/])), params(120));
  });

  it('RabbitMqCluster and addServiceUser', () => {
    const valid = fc.record({
      props: fc.record({
        name: fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), { nil: undefined }),
        replicas: fc.option(fc.constantFrom(1, 3, 5), { nil: undefined }),
        image: fc.option(fc.constantFrom('rabbitmq:3.13.7-management-alpine', 'rabbitmq:3.10.8', 'rabbitmq:3.12-management'), { nil: undefined }),
        memoryLimit: fc.option(fc.constantFrom('512Mi', '2Gi', '8Gi'), { nil: undefined }),
        storageGi: fc.option(fc.integer({ min: 9, max: 100 }), { nil: undefined }),
        vhost: fc.option(label, { nil: undefined }),
        exchange: fc.option(label, { nil: undefined }),
      }).map(strip),
      users: fc.uniqueArray(fc.record({
        service: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/).filter((s) => s !== 'guest'),
        publishes: fc.option(fc.array(fc.constantFrom('orders.created', 'a.b'), { maxLength: 2 }), { nil: undefined }),
        consumes: fc.option(fc.uniqueArray(fc.constantFrom('orders.created', 'a.*', '#'), { maxLength: 2 }), { nil: undefined }),
      }).map(strip), { maxLength: 3, selector: (u) => u.service }),
      docker: fc.boolean(),
    });
    const mutations: ReadonlyArray<readonly [Path, fc.Arbitrary<unknown>]> = [
      [['props'], junk],
      [['props', 'name'], dnsLabelValues],
      [['props', 'replicas'], nearInt(1, 99)],
      [['props', 'image'], fc.oneof(imageValues, fc.constantFrom('rabbitmq:4.0', 'rabbitmq:3.7', 'rabbitmq:management-alpine3.19'))],
      [['props', 'queueMode'], fc.oneof(fc.constantFrom('quorum', 'classic-mirrored', 'mirrored'), junk)],
      [['props', 'memoryLimit'], memoryQuantities],
      [['props', 'cpu'], cpuValues],
      [['props', 'storageGi'], nearInt(1, 65536)],
      [['props', 'vhost'], fc.oneof(nearString(label), junk)],
      [['props', 'exchange'], fc.oneof(nearString(label), fc.constant('amq.topic'), junk)],
      [['users', 0, 'service'], fc.oneof(dnsLabelValues, fc.constant('guest'))],
      [['users', 0, 'publishes'], fc.oneof(fc.array(routingKeyValues, { maxLength: 2 }), junk)],
      [['users', 0, 'consumes'], fc.oneof(fc.array(routingKeyValues, { maxLength: 2 }), fc.constant(['a.*', 'a.*']), fc.constant(['x'.repeat(250)]), junk)],
      [['users', 0], junk],
    ];
    fc.assert(fc.property(cases(valid, mutations), (c) => runConstructCase('RabbitMqCluster', c, {
      props: 'RabbitMqCluster test/messaging props', users: 'test/messaging addServiceUser', 'users:skip': '1',
    }, ({ props, users, docker }) => {
      const stack = newStack();
      const target = docker ? new DockerTarget(stack, 'local', { location: OSLO_REGION }) : new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
      const p = props === undefined || props === null || typeof props !== 'object' ? props : { target, ...props };
      const broker = new RabbitMqCluster(stack, 'messaging', p as any);
      for (const u of users) broker.addServiceUser(u as any);
      return stack;
    }, [/props\.(memoryLimit|storageGi|image|queueMode)/])), params(100));
  });

  it('ReferenceDeployment and addService', () => {
    const service = fc.record({
      name: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/).filter((n) => !['gateway', 'rabbitmq', 'postgres'].includes(n)),
      image: image('svc'),
      port: fc.integer({ min: 1024, max: 9999 }),
      routes: fc.option(fc.uniqueArray(fc.constantFrom('/v1/a', '/v1/b', '/v2', '/x/'), { maxLength: 2 }), { nil: undefined }),
      database: fc.option(fc.constantFrom({}, { storageGi: 5 }, { memoryLimit: '1Gi', maxConnections: 50 }), { nil: undefined }),
      messaging: fc.option(fc.record({ publishes: fc.array(fc.constantFrom('a.b', 'orders.created'), { maxLength: 1 }), consumes: fc.array(fc.constantFrom('a.*', 'x.y'), { maxLength: 1 }) }), { nil: undefined }),
    }).map(strip);
    const valid = fc.record({
      props: fc.record({
        gateway: fc.record({ serverName: fc.constant('api.example.no'), rateLimit: fc.option(fc.constant({ perSecond: 10, burst: 20 }), { nil: undefined }) }).map(strip),
        services: fc.uniqueArray(service, { maxLength: 3, selector: (s) => s.name })
          // A path is routed to one service.
          .map((ss) => ss.map((s, i) => ({ ...s, routes: (s.routes ?? []).map((r) => `${r}${i}`) }))),
        messaging: fc.option(fc.constantFrom({ replicas: 3 }, { replicas: 1, memoryLimit: '1Gi' }), { nil: undefined }),
      }).map(strip),
      added: fc.option(service.map((s) => ({ ...s, name: `added${s.name}`.slice(0, 30), routes: ['/added'] })), { nil: undefined }),
    }).map(strip);
    const mutations: ReadonlyArray<readonly [Path, fc.Arbitrary<unknown>]> = [
      [['props'], junk],
      [['props', 'gateway'], junk],
      [['props', 'gateway', 'serverName'], fc.oneof(nearString(fc.domain()), junk)],
      [['props', 'gateway', 'routes'], fc.constant([])],
      [['props', 'gateway', 'rateLimit', 'burst'], nearInt(1, 100000)],
      [['props', 'services'], junk],
      [['props', 'services', 0], junk],
      [['props', 'services', 0, 'name'], fc.oneof(dnsLabelValues, fc.constantFrom('gateway', 'rabbitmq', 'postgres', 'a'.repeat(31)))],
      [['props', 'services', 0, 'image'], imageValues],
      [['props', 'services', 0, 'port'], portValues],
      [['props', 'services', 0, 'routes'], fc.oneof(fc.array(routeValues, { maxLength: 2 }), fc.constant(['/dup', '/dup']), junk)],
      [['props', 'services', 0, 'database'], fc.oneof(fc.constantFrom({}, { storageGi: 0 }, { memoryLimit: '100Mi' }, { serviceName: 'x' }, { clientCidrs: ['0.0.0.0/1', '128.0.0.0/1'] }), junk)],
      [['props', 'services', 0, 'database', 'storageGi'], nearInt(1, 65536)],
      [['props', 'services', 0, 'messaging'], fc.oneof(fc.record({ publishes: fc.array(routingKeyValues, { maxLength: 2 }) }), junk)],
      [['props', 'services', 0, 'env'], fc.oneof(fc.constant({ DATABASE_HOST: 'x', AMQP_USER: 'y' }), junk)],
      [['props', 'services', 0, 'connectionEnv'], junk],
      [['props', 'messaging'], fc.oneof(fc.constantFrom({ replicas: 2 }, { memoryLimit: '1Ki' }, { storageGi: 1 }, { name: 'orders' }), junk)],
      [['props', 'residency'], fc.oneof(fc.constantFrom({ policy: 'eea' }, { policy: 'eea-sovereign' }, { policy: { allowCountries: ['NO'] } }, { policy: 'EEA' }, { policy: { allowCountries: ['UK'] } }), junk)],
      [['props', 'target'], junk],
      [['added'], junk],
      [['added', 'name'], fc.oneof(dnsLabelValues, fc.constantFrom('gateway', 'rabbitmq'))],
      [['added', 'routes'], fc.oneof(fc.constant(['/v1/a0']), fc.array(routeValues, { maxLength: 2 }), junk)],
      [['added', 'database'], fc.oneof(fc.constantFrom({}, { storageGi: -1 }), junk)],
    ];
    fc.assert(fc.property(cases(valid, mutations), (c) => {
      // The name the message gives an added service depends on the name it was given.
      const addedName = typeof (c.input as any).added?.name === 'string' ? ` "${(c.input as any).added.name}"` : '';
      runConstructCase('ReferenceDeployment', c, {
        props: 'ReferenceDeployment test/platform props', added: `ReferenceDeployment test/platform addService${addedName}`,
      }, ({ props, added }: any) => {
        const stack = newStack();
        const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
        const p = props === undefined || props === null || typeof props !== 'object' ? props : { target, ...props };
        const platform = new ReferenceDeployment(stack, 'platform', p as any);
        if ('added' in (c.input as object)) platform.addService(added);
        return stack;
      }, [/props\.(services\[\d+\]\.(name|routes|env)|messaging|residency)/, /addService.*\.(name|routes)/]);
    }), params(90));
  });

  it('defineRegion', () => {
    let n = 0;
    const valid = fc.record({
      id: fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/), fc.stringMatching(/^[a-z0-9]{1,6}(-[a-z0-9]{1,4})?$/)).map(([p, c]) => `onprem${p}:${c}`),
      country: fc.constantFrom('NO', 'SE', 'DE', 'CH', 'US', 'GB'),
      city: fc.option(fc.constantFrom('Oslo', 'Bergen', 'Zürich'), { nil: undefined }),
      operator: fc.option(fc.constantFrom('Acme AS', 'x'), { nil: undefined }),
      operatorJurisdiction: fc.option(fc.constantFrom('NO', 'US'), { nil: undefined }),
      kubernetesRegionLabel: fc.option(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/), { nil: undefined }),
      description: fc.option(fc.constantFrom('a cluster'), { nil: undefined }),
    }).map(strip);
    const catalogued = Object.values(regions).slice(0, 20);
    const mutations: ReadonlyArray<readonly [Path, fc.Arbitrary<unknown>]> = [
      [[], junk],
      [['id'], fc.oneof(nearString(fc.constantFrom('onprem:oslo-1')), fc.constantFrom(...catalogued.map((r) => r.id)), junk)],
      [['country'], fc.oneof(fc.constantFrom('UK', 'EL', 'no', 'XK', 'EU', 'NOR', ''), junk)],
      [['city'], fc.oneof(fc.constantFrom('', '   '), junk)],
      [['operatorJurisdiction'], fc.oneof(fc.constantFrom('UK', 'us'), junk)],
      [['kubernetesRegionLabel'], fc.oneof(fc.constantFrom(...catalogued.map((r) => r.kubernetesRegionLabel)), nearString(fc.constant('oslo-1')), junk)],
      [['extra'], fc.constant(1)],
    ];
    fc.assert(fc.property(cases(valid, mutations), (c) => {
      // Ids are unique per case (defineRegion keeps no registry of user ids, but keep them apart anyway).
      const input = typeof c.input === 'object' && c.input !== null && typeof (c.input as any).id === 'string' && c.path?.[0] !== 'id'
        ? { ...(c.input as object), id: `${(c.input as any).id}-${n++}` } : c.input;
      runCase(stats, 'defineRegion', { ...c, input }, 'region', (p) => defineRegion(p as any), (region) => {
        expect(Object.isFrozen(region)).toBe(true);
        stats.row('defineRegion').checks++;
      });
    }), params(300));
  });
});
