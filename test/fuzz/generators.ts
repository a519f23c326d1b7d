/**
 * Generators of VALID inputs for every renderer and construct, and of the values one prop is
 * replaced with (see support.ts). Shared by the pure fuzz suites in test/fuzz and the real-server
 * checks in test/integration/fuzz-real-servers.test.ts, so both draw the same cases from one seed.
 */
import * as fc from 'fast-check';
import type { NginxConfSpec } from '../../lib/gateway/nginx-spec';
import type { PostgresConfSpec, PostgresHbaSpec } from '../../lib/postgres/postgres-spec';
import type { RabbitMqConfSpecInput, RabbitMqDefinitionsSpecInput, UserBootstrapSpecInput } from '../../lib/rabbitmq/rabbitmq-spec';
import { Path, junk, memoryQuantities, nearInt, nearString, versionTexts } from './support';

type Mutations = ReadonlyArray<readonly [Path, fc.Arbitrary<unknown>]>;

// -----------------------------------------------------------------------------------------------
// Building blocks
// -----------------------------------------------------------------------------------------------

export const label = fc.stringMatching(/^[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?$/);
export const absPath = fc.array(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,7}$/).filter((s) => s !== '..' && s !== '.'), { minLength: 1, maxLength: 4 })
  .map((parts) => `/${parts.join('/')}`);
/** Strings a path prop should refuse or accept, around valid paths. */
const pathValues = fc.oneof(nearString(absPath), junk, fc.constantFrom('/a/../b', 'relative/path', '/a b', "/a'b", '/a;b', '/' + 'a'.repeat(2000)));
const hostValues = fc.oneof(nearString(fc.domain()), fc.constantFrom('1.2.3.999', '256.1.1.1', '01.2.3.4', 'a..b', '-a', 'a-', '*', 'xn--bcher-kva.example', 'a'.repeat(64), 'localhost'), junk);
const ports = fc.oneof(fc.integer({ min: 1, max: 65535 }), nearInt(1, 65535));

/** A permission pattern from a small grammar that both JavaScript and PCRE read the same way. */
const regexAtom = fc.constantFrom('a', 'orders', '\\.', '.', '[a-z]', '[-0-9]', '\\d', '\\w', '\\s', '[^.]', 'events', '_', '\\$', '\\/', '[\\-x]');
const regexQuantifier = fc.constantFrom('', '', '', '*', '+', '?', '*?', '{2}', '{1,3}', '{0,}');
const regexSeq = (atom: fc.Arbitrary<string>) => fc.array(fc.tuple(atom, regexQuantifier).map(([a, q]) => a + q), { minLength: 1, maxLength: 4 }).map((p) => p.join(''));
const regexGroup = fc.tuple(fc.array(regexSeq(regexAtom), { minLength: 1, maxLength: 3 }), fc.constantFrom('(', '(?:'))
  .map(([alts, open]) => `${open}${alts.join('|')})`);
export const permissionRegexes: fc.Arbitrary<string> = fc.array(regexSeq(fc.oneof({ weight: 3, arbitrary: regexAtom }, { weight: 1, arbitrary: regexGroup })), { minLength: 1, maxLength: 2 })
  .map((alts) => alts.join('|'))
  .chain((re) => fc.constantFrom(re, `^${re}$`, `^(${re})$`, ''));

export const permissionRegexValues: fc.Arbitrary<unknown> = fc.oneof(
  permissionRegexes,
  fc.constantFrom('(', ')', '[', '*', '+a', 'a**', '(?<n>a)', '(?<=a)b', '\\u0041', '\\p{L}', '[[:alpha:]]', '[^]', '[]', '\\k<a>', 'a{2', '{', '}', ']',
    '(?i)a', 'a++', '(?>a)', '\\Aa\\z', '-a', '\\', 'a\\', '(a{100}){100}', 'x{65536}', '\\8', '(a)\\1', '\\0', '\\x41', '\\cA', '[\\d-z]', '.*\n', 'é', 'a'.repeat(300)),
  fc.string({ maxLength: 16 }),
  fc.string({ unit: 'binary-ascii', maxLength: 16 }),
  junk,
);

/** An IPv4 network inside the RFC 1918 ranges, /10 or narrower, with zero host bits. */
const privateIpv4Block = fc.tuple(fc.constantFrom<[number, number]>([10 * 2 ** 24, 8], [172 * 2 ** 24 + 16 * 2 ** 16, 12], [192 * 2 ** 24 + 168 * 2 ** 16, 16]),
  fc.integer({ min: 0, max: 2 ** 24 - 1 }), fc.integer({ min: 10, max: 32 }))
  .map(([[base, basePrefix], offset, prefix]) => {
    const p = Math.max(prefix, basePrefix);
    const size = 2 ** (32 - p);
    const address = (base + (offset % 2 ** (32 - basePrefix))) - ((base + (offset % 2 ** (32 - basePrefix))) % size);
    return `${[24, 16, 8, 0].map((s) => Math.floor(address / 2 ** s) % 256).join('.')}/${p}`;
  });
const anyIpv4Block = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`);
/** A unique local IPv6 network (inside fd00::/8) with zero host bits. */
const ulaBlock = fc.tuple(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 4 }), fc.constantFrom(8, 16, 32, 48, 64))
  .map(([h, p]) => {
    if (p === 8) return 'fd00::/8';
    const first = `fd${(h[0] & 0xff).toString(16).padStart(2, '0')}`;
    const rest = h.slice(1, p / 16).map((x) => x.toString(16));
    return `${[first, ...rest].join(':')}::/${p}`;
  });
export const cidrValues: fc.Arbitrary<unknown> = fc.oneof(
  privateIpv4Block, anyIpv4Block, ulaBlock,
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`),
  fc.constantFrom('0.0.0.0/0', '0.0.0.0/1', '128.0.0.0/1', '::/0', '2000::/3', 'fd00::/8', 'fc00::/7', '10.1.2.3/8', '10.0.0.0/33', '10.0.0.0', '::ffff:10.0.0.0/104', '2001:db8::/32'),
  junk,
);

// -----------------------------------------------------------------------------------------------
// nginx.conf
// -----------------------------------------------------------------------------------------------

export interface NginxGenOptions {
  /** Versions to render for; the real-server check uses the installed one only. */
  readonly versions: readonly string[];
  /** Upstream hosts `nginx -t` can resolve (127.0.0.1 for the real server). */
  readonly hosts: fc.Arbitrary<string>;
  /** Upstream ports. */
  readonly ports: fc.Arbitrary<number>;
}

const routePathArb = fc.array(fc.stringMatching(/^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,6}$/).filter((s) => s !== '..'), { maxLength: 3 })
  .chain((parts) => fc.constantFrom(`/${parts.join('/')}`, `/${parts.join('/')}/`)).map((p) => p.replace(/\/+/g, '/'));
const headerNameArb = fc.stringMatching(/^X-[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,5})?$/);
const headerValueArb = fc.stringMatching(/^[A-Za-z0-9!%&()*+,./:<=>?@[\]^_`|~-]{1,16}$/);

export function nginxSpec(o: NginxGenOptions): fc.Arbitrary<NginxConfSpec> {
  const rateLimit = fc.record({
    name: fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/),
    per: fc.constantFrom('s', 'm'),
    rate: fc.integer({ min: 1, max: 1000 }),
    burst: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    mode: fc.constantFrom('none', 'nodelay', 'delay'),
    delay: fc.integer({ min: 1, max: 100 }),
    zoneSizeMb: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  }).map((r) => {
    const burst = r.burst ?? 1;
    return {
      name: r.name,
      ...(r.per === 's' ? { ratePerSecond: r.rate } : { ratePerMinute: r.rate }),
      ...(r.burst !== undefined ? { burst: r.burst } : {}),
      ...(r.mode === 'nodelay' ? { nodelay: true } : r.mode === 'delay' ? { delay: Math.min(r.delay, burst) } : {}),
      ...(r.zoneSizeMb !== undefined ? { zoneSizeMb: r.zoneSizeMb } : {}),
    };
  });
  const server = fc.record({
    host: o.hosts,
    port: o.ports,
    maxFails: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
    failTimeoutSeconds: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
  }, { requiredKeys: ['host', 'port'] });
  const upstream = fc.record({
    name: fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/),
    servers: fc.array(server, { minLength: 1, maxLength: 3 }),
    keepalive: fc.option(fc.integer({ min: 0, max: 64 }), { nil: undefined }),
    keepaliveRequests: fc.option(fc.integer({ min: 1, max: 10000 }), { nil: undefined }),
    keepaliveTimeoutSeconds: fc.option(fc.integer({ min: 1, max: 3600 }), { nil: undefined }),
  }, { requiredKeys: ['name', 'servers'] });
  return fc.record({
    nginxVersion: fc.constantFrom(...o.versions),
    serverName: fc.oneof(fc.domain(), fc.constantFrom('localhost', 'api.example.no', '127.0.0.1')),
    listenAddress: fc.constant('127.0.0.1'),
    ports: fc.uniqueArray(fc.integer({ min: 20000, max: 31999 }), { minLength: 2, maxLength: 2 }),
    tls: fc.option(fc.record({
      hstsMaxAgeSeconds: fc.option(fc.integer({ min: 0, max: 100000000 }), { nil: undefined }),
      publicHttpsPort: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    }, { requiredKeys: [] }), { nil: undefined }),
    workerConnections: fc.option(fc.integer({ min: 16, max: 4096 }), { nil: undefined }),
    clientMaxBodySize: fc.option(fc.stringMatching(/^(0|[1-9][0-9]{0,3}[kmg]?)$/), { nil: undefined }),
    clientKeepaliveTimeoutSeconds: fc.option(fc.integer({ min: 0, max: 3600 }), { nil: undefined }),
    healthPath: fc.option(fc.constantFrom('/healthz', '/-/ready', '/status'), { nil: undefined }),
    rateLimits: fc.uniqueArray(rateLimit, { maxLength: 3, selector: (r) => r.name }),
    upstreams: fc.uniqueArray(upstream, { minLength: 1, maxLength: 3, selector: (u) => u.name }),
    routes: fc.uniqueArray(fc.tuple(routePathArb, fc.nat(), fc.nat()), { minLength: 1, maxLength: 4, selector: ([p]) => p }),
    defaultRateLimit: fc.nat(),
    timeouts: fc.option(fc.record({
      connectSeconds: fc.integer({ min: 1, max: 75 }), readSeconds: fc.integer({ min: 1, max: 3600 }), sendSeconds: fc.integer({ min: 1, max: 3600 }),
    }, { requiredKeys: [] }), { nil: undefined }),
    retries: fc.option(fc.record({ tries: fc.integer({ min: 1, max: 10 }), timeoutSeconds: fc.integer({ min: 1, max: 3600 }) }, { requiredKeys: [] }), { nil: undefined }),
    responseHeaders: fc.dictionary(headerNameArb, headerValueArb, { maxKeys: 2 }),
    requestHeaders: fc.dictionary(headerNameArb, headerValueArb, { maxKeys: 2 }),
  }).map((g) => {
    const health = g.healthPath ?? '/healthz';
    const routes = g.routes.filter(([p]) => p !== health).map(([path, u, r]) => ({
      path,
      upstream: g.upstreams[u % g.upstreams.length].name,
      ...(g.rateLimits.length && r % 3 === 0 ? { rateLimit: g.rateLimits[r % g.rateLimits.length].name } : {}),
    }));
    const spec: NginxConfSpec = {
      nginxVersion: g.nginxVersion,
      serverName: g.serverName,
      listenAddress: g.listenAddress,
      httpPort: g.ports[0],
      httpsPort: g.ports[1],
      // Paths the integration test replaces with its own folder and certificate.
      runtimeDir: '/tmp/nginx-fuzz',
      accessLogPath: '/dev/null',
      ...(g.tls ? { tls: { certificatePath: '/etc/nginx/tls/tls.crt', keyPath: '/etc/nginx/tls/tls.key', ...strip(g.tls) } } : {}),
      ...strip({
        workerConnections: g.workerConnections, clientMaxBodySize: g.clientMaxBodySize,
        clientKeepaliveTimeoutSeconds: g.clientKeepaliveTimeoutSeconds, healthPath: g.healthPath, timeouts: g.timeouts, retries: g.retries,
      }),
      rateLimits: g.rateLimits,
      ...(g.rateLimits.length && g.defaultRateLimit % 2 ? { defaultRateLimit: g.rateLimits[g.defaultRateLimit % g.rateLimits.length].name } : {}),
      upstreams: g.upstreams.map((u) => ({ ...strip(u), servers: u.servers.map(strip) })) as NginxConfSpec['upstreams'],
      routes: routes.length ? routes : [{ path: '/', upstream: g.upstreams[0].name }],
      responseHeaders: g.responseHeaders,
      requestHeaders: g.requestHeaders,
    };
    return spec;
  });
}

/** The props of nginxSpec that one case may replace, with what they are replaced with. */
export const nginxMutations: Mutations = [
  [['nginxVersion'], versionTexts],
  [['serverName'], hostValues],
  [['listenAddress'], fc.oneof(fc.ipV4(), nearString(fc.constant('127.0.0.1')), junk)],
  [['httpPort'], ports],
  [['httpsPort'], ports],
  [['tls', 'certificatePath'], pathValues],
  [['tls', 'hstsMaxAgeSeconds'], nearInt(0, 1000000000)],
  [['tls', 'publicHttpsPort'], ports],
  [['tls'], fc.oneof(junk, fc.constant({}))],
  [['runtimeDir'], pathValues],
  [['errorLogPath'], pathValues],
  [['accessLogPath'], pathValues],
  [['workerConnections'], nearInt(16, 1000000)],
  [['clientMaxBodySize'], fc.oneof(nearString(fc.stringMatching(/^[0-9]{1,9}[kmg]?$/)), junk, fc.constantFrom('1t', '1M', '-1', '0', '999999999g', '1234567890'))],
  [['clientKeepaliveTimeoutSeconds'], nearInt(0, 3600)],
  [['healthPath'], fc.oneof(nearString(routePathArb), junk)],
  [['rateLimits', 0, 'name'], fc.oneof(nearString(fc.stringMatching(/^[a-z][a-z0-9_-]{0,62}$/)), junk)],
  [['rateLimits', 0, 'ratePerSecond'], nearInt(1, 100000)],
  [['rateLimits', 0, 'ratePerMinute'], nearInt(1, 6000000)],
  [['rateLimits', 0, 'burst'], nearInt(1, 100000)],
  [['rateLimits', 0, 'delay'], nearInt(1, 100000)],
  [['rateLimits', 0, 'nodelay'], fc.oneof(fc.boolean(), junk)],
  [['rateLimits', 0, 'zoneSizeMb'], nearInt(1, 1024)],
  [['defaultRateLimit'], fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/), junk)],
  [['upstreams', 0, 'name'], fc.oneof(nearString(fc.stringMatching(/^[a-z][a-z0-9_-]{0,62}$/)), junk)],
  [['upstreams', 0, 'servers', 0, 'host'], hostValues],
  [['upstreams', 0, 'servers', 0, 'port'], ports],
  [['upstreams', 0, 'servers', 0, 'maxFails'], nearInt(0, 1000)],
  [['upstreams', 0, 'servers', 0, 'failTimeoutSeconds'], nearInt(1, 3600)],
  [['upstreams', 0, 'servers', 0, 'resolve'], fc.oneof(fc.boolean(), junk)],
  [['upstreams', 0, 'servers'], fc.oneof(fc.constant([]), junk)],
  [['upstreams', 0, 'keepalive'], nearInt(0, 10000)],
  [['upstreams', 0, 'keepaliveRequests'], nearInt(1, 1000000)],
  [['upstreams', 0, 'keepaliveTimeoutSeconds'], nearInt(1, 3600)],
  [['upstreams', 0, 'zoneSizeKb'], nearInt(32, 65536)],
  [['routes', 0, 'path'], fc.oneof(nearString(routePathArb), junk, fc.constantFrom('/a/../b', '~/x', '= /x', '/x y', '/$x'))],
  [['routes', 0, 'upstream'], fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/), junk)],
  [['routes', 0, 'rateLimit'], fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/), junk)],
  [['routes'], fc.oneof(fc.constant([]), junk)],
  [['timeouts', 'connectSeconds'], nearInt(1, 75)],
  [['timeouts', 'readSeconds'], nearInt(1, 3600)],
  [['retries', 'tries'], nearInt(1, 10)],
  [['retries', 'timeoutSeconds'], nearInt(1, 3600)],
  [['responseHeaders'], fc.oneof(fc.dictionary(fc.oneof(headerNameArb, fc.string({ maxLength: 6 })), fc.oneof(headerValueArb, fc.string({ maxLength: 6 })), { maxKeys: 2 }), junk)],
  [['requestHeaders'], fc.oneof(fc.dictionary(fc.oneof(headerNameArb, fc.constantFrom('Host', 'x-request-id', 'Connection')), fc.oneof(headerValueArb, fc.string({ maxLength: 6 })), { maxKeys: 2 }), junk)],
  [['resolver'], fc.oneof(fc.record({ addresses: fc.array(fc.oneof(fc.constant('127.0.0.1'), hostValues), { maxLength: 2 }) }), junk)],
  [[], junk],
];

/** Related props a refusal may blame instead of the one replaced (a rule across props). */
export const nginxRelated = [
  /nginxConf\.routes\[\d+\]\.(upstream|rateLimit|path)/, /nginxConf\.defaultRateLimit/, /nginxConf\.rateLimits\[\d+\]\.(delay|name|ratePerSecond)/,
  /nginxConf\.httpsPort/, /nginxConf\.resolver/, /nginxConf\.upstreams\[\d+\]\.servers\[\d+\]\.resolve/, /nginxConf\.upstreams\[\d+\]\.name/,
];

// -----------------------------------------------------------------------------------------------
// postgresql.conf and pg_hba.conf
// -----------------------------------------------------------------------------------------------

const pgVersion = fc.constantFrom<PostgresConfSpec['version']>(14, 15, 16, 17, '15', '15.8', '16-alpine', '17.2-bookworm', '14.13');

export function postgresSpec(o: { versions?: fc.Arbitrary<PostgresConfSpec['version']> } = {}): fc.Arbitrary<PostgresConfSpec> {
  return fc.record({
    version: o.versions ?? pgVersion,
    memoryLimit: fc.constantFrom('256Mi', '512Mi', '1Gi', '2Gi', '3Gi', '16Gi', '64Gi', '1Ti', '16Ti', '1048576Ki'),
    maxConnections: fc.integer({ min: 10, max: 200 }),
    listenAddresses: fc.constantFrom(['*'], ['127.0.0.1'], ['localhost', '::1'], ['0.0.0.0', '10.0.0.5']),
    port: fc.integer({ min: 1024, max: 65535 }),
    unixSocketDirectory: fc.constantFrom('/var/run/postgresql', '/tmp', '/run/pg'),
    ssl: fc.option(fc.record({ certFile: absPath, keyFile: absPath, minProtocolVersion: fc.constantFrom<'TLSv1.2' | 'TLSv1.3'>('TLSv1.2', 'TLSv1.3') }), { nil: undefined }),
    randomPageCost: fc.option(fc.double({ min: 0.1, max: 100, noNaN: true }), { nil: undefined }),
    effectiveIoConcurrency: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
    maintenanceIoConcurrency: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
    checkpointTimeoutSeconds: fc.option(fc.integer({ min: 30, max: 86400 }), { nil: undefined }),
    wal: fc.constantFrom(['32Mi', '32Mi'], ['256Mi', '2Gi'], ['1Gi', '1Gi'], ['80Mi', '64Gi']),
    logMinDurationStatementMs: fc.option(fc.integer({ min: -1, max: 86_400_000 }), { nil: undefined }),
    idleInTransactionTimeoutSeconds: fc.option(fc.integer({ min: 0, max: 86400 }), { nil: undefined }),
  }).map((g) => {
    const { wal, ...rest } = g;
    return { ...strip(rest), listenAddresses: [...rest.listenAddresses], minWalSize: wal[0], maxWalSize: wal[1] } as unknown as PostgresConfSpec;
  });
}

export const postgresMutations: Mutations = [
  [['version'], fc.oneof(versionTexts, nearInt(14, 17))],
  [['memoryLimit'], memoryQuantities],
  [['maxConnections'], nearInt(10, 5000)],
  [['sharedBuffers'], memoryQuantities],
  [['effectiveCacheSize'], memoryQuantities],
  [['workMem'], memoryQuantities],
  [['maintenanceWorkMem'], memoryQuantities],
  [['listenAddresses'], fc.oneof(fc.array(fc.oneof(hostValues, fc.ipV6(), fc.constant('*')), { maxLength: 3 }), junk)],
  [['listenAddresses', 0], fc.oneof(hostValues, fc.ipV6(), fc.ipV4())],
  [['port'], ports],
  [['unixSocketDirectory'], fc.oneof(pathValues, fc.constant(`/${'s'.repeat(93)}`), fc.constant(`/${'s'.repeat(92)}`))],
  [['hbaFile'], pathValues],
  [['ssl', 'certFile'], pathValues],
  [['ssl', 'minProtocolVersion'], fc.oneof(fc.constantFrom('TLSv1.2', 'TLSv1.3', 'TLSv1.1', 'tlsv1.2'), junk)],
  [['randomPageCost'], fc.oneof(fc.double(), nearInt(0, 100), fc.constantFrom(0.1, 0.09999, 100, 100.0001, 1e-300, 1e21))],
  [['effectiveIoConcurrency'], nearInt(0, 1000)],
  [['maintenanceIoConcurrency'], nearInt(0, 1000)],
  [['walCompression'], fc.oneof(fc.constantFrom('off', 'on', 'pglz', 'lz4', 'zstd', 'gzip', 'ON'), junk)],
  [['checkpointTimeoutSeconds'], nearInt(30, 86400)],
  [['maxWalSize'], memoryQuantities],
  [['minWalSize'], memoryQuantities],
  [['logMinDurationStatementMs'], nearInt(-1, 86_400_000)],
  [['idleInTransactionTimeoutSeconds'], nearInt(0, 86400)],
  [[], junk],
];

export const postgresRelated = [
  /postgresConf\.(maxConnections|workMem|sharedBuffers|maintenanceWorkMem|memoryLimit|maxWalSize|minWalSize|walCompression|unixSocketDirectory)/,
];

const pgIdentifier = fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/)
  .filter((n) => !['all', 'sameuser', 'samerole', 'samegroup', 'replication', 'postgres', 'template0', 'template1'].includes(n) && !n.startsWith('pg_'));

export const hbaSpec: fc.Arbitrary<PostgresHbaSpec> = fc.record({
  database: pgIdentifier,
  user: pgIdentifier,
  clientCidrs: fc.option(fc.array(fc.oneof(privateIpv4Block, ulaBlock), { minLength: 1, maxLength: 4 }), { nil: undefined }),
  ssl: fc.option(fc.boolean(), { nil: undefined }),
}).map(strip) as fc.Arbitrary<PostgresHbaSpec>;

export const hbaMutations: Mutations = [
  [['database'], fc.oneof(nearString(pgIdentifier), fc.constantFrom('all', 'postgres', 'pg_x', 'replication', 'a'.repeat(64)), junk)],
  [['user'], fc.oneof(nearString(pgIdentifier), fc.constantFrom('all', 'postgres', 'samerole'), junk)],
  [['clientCidrs', 0], cidrValues],
  [['clientCidrs'], fc.oneof(fc.array(cidrValues, { maxLength: 5 }), fc.array(fc.constantFrom('11.0.0.0/8', '12.0.0.0/8', '13.0.0.0/8', '0.0.0.0/1', '128.0.0.0/1'), { maxLength: 4 }), junk)],
  [['ssl'], fc.oneof(fc.boolean(), junk)],
  [[], junk],
];

// -----------------------------------------------------------------------------------------------
// RabbitMQ
// -----------------------------------------------------------------------------------------------

const amqpNameArb = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,10}$/).filter((n) => !n.startsWith('amq.'));
const routingKeyArb = fc.array(fc.oneof(fc.stringMatching(/^[a-z0-9_-]{1,6}$/), fc.constantFrom('*', '#')), { minLength: 1, maxLength: 3 }).map((w) => w.join('.'));
const rabbitVersion = fc.constantFrom('3.8.0', '3.10.8', '3.12.1', '3.13', '3.13.7', '4.0', '4.0.0-rc.1', '4.1.2');

export interface RabbitGenOptions {
  readonly versions?: fc.Arbitrary<string>;
  readonly discovery?: fc.Arbitrary<RabbitMqConfSpecInput['discovery']>;
}

export function rabbitConfSpec(o: RabbitGenOptions = {}): fc.Arbitrary<RabbitMqConfSpecInput> {
  const discovery = o.discovery ?? fc.oneof(
    fc.record({
      kind: fc.constant('kubernetes' as const), headlessServiceName: label, namespace: label,
      clusterDomain: fc.option(fc.constantFrom('cluster.local', 'k8s.example.no'), { nil: undefined }),
      replicas: fc.option(fc.constantFrom(1, 3, 5, 7), { nil: undefined }),
    }).map(strip),
    fc.integer({ min: 0, max: 2 }).chain((n) => fc.uniqueArray(fc.tuple(label, label).map(([a, h]) => `${a}@${h}`), { minLength: 2 * n + 1, maxLength: 2 * n + 1 }))
      .map((peers) => ({ kind: 'classic' as const, peers })),
  ) as fc.Arbitrary<RabbitMqConfSpecInput['discovery']>;
  return fc.record({
    rabbitmqVersion: o.versions ?? rabbitVersion,
    discovery,
    memory: fc.constantFrom<[string, number]>(['512Mi', 0.4], ['512Mi', 0.9], ['1Gi', 0.2], ['2Gi', 0.1], ['2Gi', 0.4], ['16Gi', 0.6], ['1Ti', 0.5], ['524288Ki', 0.5]),
    diskFreeLimit: fc.option(fc.constantFrom('50Mi', '1Gi', '2Gi', '10Gi'), { nil: undefined }),
    ports: fc.uniqueArray(fc.integer({ min: 20000, max: 31999 }), { minLength: 3, maxLength: 3 }),
    listenAddress: fc.option(fc.constant('127.0.0.1'), { nil: undefined }),
    management: fc.option(fc.boolean(), { nil: undefined }),
    prometheus: fc.option(fc.boolean(), { nil: undefined }),
    definitionsPath: fc.option(absPath, { nil: undefined }),
  }).map((g) => strip({
    rabbitmqVersion: g.rabbitmqVersion,
    queueMode: g.rabbitmqVersion.startsWith('4') ? 'quorum' as const : undefined,
    discovery: g.discovery,
    memoryLimit: g.memory[0],
    memoryHighWatermark: g.memory[1],
    diskFreeLimit: g.diskFreeLimit,
    amqpPort: g.ports[0], managementPort: g.ports[1], prometheusPort: g.ports[2],
    listenAddress: g.listenAddress, management: g.management, prometheus: g.prometheus, definitionsPath: g.definitionsPath,
  }) as RabbitMqConfSpecInput);
}

export const rabbitConfMutations: Mutations = [
  [['rabbitmqVersion'], versionTexts],
  [['queueMode'], fc.oneof(fc.constantFrom('classic-mirrored', 'quorum', 'mirrored'), junk)],
  [['discovery'], fc.oneof(junk, fc.constant({ kind: 'dns' }), fc.constant({ kind: 'classic', peers: [] }))],
  [['discovery', 'kind'], fc.oneof(fc.constantFrom('kubernetes', 'classic', 'k8s'), junk)],
  [['discovery', 'headlessServiceName'], fc.oneof(nearString(label), junk)],
  [['discovery', 'namespace'], fc.oneof(nearString(label), junk)],
  [['discovery', 'clusterDomain'], fc.oneof(nearString(fc.constantFrom('cluster.local', 'a.b')), hostValues)],
  [['discovery', 'apiHost'], hostValues],
  [['discovery', 'replicas'], nearInt(1, 99)],
  [['discovery', 'peers'], fc.oneof(fc.array(fc.oneof(fc.tuple(label, label).map(([a, h]) => `${a}@${h}`), nearString(fc.constant('rabbit@host')), junk), { maxLength: 4 }), junk)],
  [['discovery', 'peers', 0], fc.oneof(nearString(fc.constant('rabbit@host-0.example')), fc.constantFrom('rabbit', '@host', 'rabbit@', 'rabbit@-h', 'a@b@c', 'rabbit@h..x'), junk)],
  [['memoryLimit'], memoryQuantities],
  [['memoryHighWatermark'], fc.oneof(fc.double(), fc.constantFrom(0, 0.1, 0.0999, 0.9, 0.9001, 1, 0.39), junk)],
  [['diskFreeLimit'], memoryQuantities],
  [['amqpPort'], ports],
  [['managementPort'], ports],
  [['prometheusPort'], ports],
  [['listenAddress'], fc.oneof(fc.ipV4(), nearString(fc.constant('127.0.0.1')), fc.constantFrom('01.2.3.4', '1.2.3.256'), junk)],
  [['management'], fc.oneof(fc.boolean(), junk)],
  [['definitionsPath'], pathValues],
  [[], junk],
];

export const rabbitConfRelated = [/rabbitmq\.(queueMode|amqpPort|memoryHighWatermark|discovery\.(peers|replicas))/, /rabbitmq\.discovery[.:]/];

export function rabbitDefinitionsSpec(o: { versions?: fc.Arbitrary<string> } = {}): fc.Arbitrary<RabbitMqDefinitionsSpecInput> {
  return fc.record({
    rabbitmqVersion: o.versions ?? rabbitVersion,
    vhosts: fc.uniqueArray(amqpNameArb, { minLength: 1, maxLength: 3 }),
    exchanges: fc.array(fc.tuple(amqpNameArb, fc.nat(), fc.constantFrom('topic', 'direct', 'fanout', 'headers') as fc.Arbitrary<'topic'>), { maxLength: 3 }),
    queues: fc.array(fc.tuple(amqpNameArb, fc.nat()), { maxLength: 3 }),
    bindings: fc.array(fc.tuple(fc.nat(), fc.nat(), routingKeyArb), { maxLength: 3 }),
  }).map((g) => {
    const vhost = (i: number) => g.vhosts[i % g.vhosts.length];
    const unique = <T extends { name: string; vhost: string }>(items: T[]) => items.filter((x, i) => items.findIndex((y) => y.name === x.name && y.vhost === x.vhost) === i);
    const exchanges = unique(g.exchanges.map(([name, v, type]) => ({ name, vhost: vhost(v), type })));
    const queues = unique(g.queues.map(([name, v]) => ({ name, vhost: vhost(v) })));
    const bindings = exchanges.length && queues.length
      ? g.bindings.map(([x, q, routingKey]) => ({ exchange: exchanges[x % exchanges.length], queue: queues[q % queues.length], routingKey }))
        .filter((b) => b.exchange.vhost === b.queue.vhost)
        .map((b) => ({ vhost: b.exchange.vhost, exchange: b.exchange.name, queue: b.queue.name, routingKey: b.routingKey }))
      : [];
    return {
      rabbitmqVersion: g.rabbitmqVersion,
      queueMode: g.rabbitmqVersion.startsWith('4') ? 'quorum' as const : undefined,
      vhosts: g.vhosts, exchanges, queues, bindings,
    };
  }).map(strip) as fc.Arbitrary<RabbitMqDefinitionsSpecInput>;
}

export const rabbitDefinitionsMutations: Mutations = [
  [['rabbitmqVersion'], versionTexts],
  [['queueMode'], fc.oneof(fc.constantFrom('classic-mirrored', 'quorum'), junk)],
  [['vhosts'], fc.oneof(fc.array(fc.oneof(amqpNameArb, nearString(amqpNameArb)), { maxLength: 3 }), junk)],
  [['vhosts', 0], fc.oneof(nearString(amqpNameArb), fc.constantFrom('amq.x', '-x', '/', 'a b', 'a'.repeat(256)), junk)],
  [['exchanges', 0, 'name'], fc.oneof(nearString(amqpNameArb), junk)],
  [['exchanges', 0, 'type'], fc.oneof(fc.constantFrom('topic', 'x-delayed', 'Topic'), junk)],
  [['queues', 0, 'name'], fc.oneof(nearString(amqpNameArb), junk)],
  [['queues', 0, 'vhost'], fc.oneof(amqpNameArb, junk)],
  [['bindings', 0, 'routingKey'], fc.oneof(nearString(routingKeyArb), fc.constantFrom('a..b', '.a', 'a.', '**', 'a#', '#.#'), junk)],
  [['bindings', 0, 'exchange'], fc.oneof(amqpNameArb, junk)],
  [[], junk],
];

export const rabbitDefinitionsRelated = [/rabbitmq definitions\.(queueMode|vhosts|exchanges\[\d+\]|queues\[\d+\]|bindings\[\d+\]\.(exchange|queue|vhost))/];

export const userBootstrapSpec: fc.Arbitrary<UserBootstrapSpecInput> = fc.record({
  users: fc.uniqueArray(fc.record({
    name: amqpNameArb,
    vhost: amqpNameArb,
    configure: fc.option(permissionRegexes, { nil: undefined }),
    write: fc.option(permissionRegexes, { nil: undefined }),
    read: fc.option(permissionRegexes, { nil: undefined }),
  }).map(strip), { minLength: 1, maxLength: 3, selector: (u) => u.name }),
  passwordDir: fc.option(absPath, { nil: undefined }),
  startupAttempts: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
  startupIntervalSeconds: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
}).map(strip) as fc.Arbitrary<UserBootstrapSpecInput>;

export const userBootstrapMutations: Mutations = [
  [['users', 0, 'name'], fc.oneof(nearString(amqpNameArb), fc.constantFrom('..', '.', '-n', 'a/b', "a'b", 'a$(id)'), junk)],
  [['users', 0, 'vhost'], fc.oneof(nearString(amqpNameArb), junk)],
  [['users', 0, 'configure'], permissionRegexValues],
  [['users', 0, 'write'], permissionRegexValues],
  [['users', 0, 'read'], permissionRegexValues],
  [['users'], fc.oneof(fc.constant([]), junk)],
  [['passwordDir'], pathValues],
  [['rabbitmqctl'], fc.oneof(pathValues, fc.constant('rabbitmqctl'))],
  [['startupAttempts'], nearInt(1, 10000)],
  [['startupIntervalSeconds'], nearInt(1, 600)],
  [[], junk],
];

export const userBootstrapRelated = [/rabbitmq user bootstrap\.users\[\d+\]\.name/];

/** `obj` without its undefined props (so an absent prop is absent, not present and undefined). */
export function strip<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
