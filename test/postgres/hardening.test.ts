/**
 * Issue 13, PostgreSQL: each test names the defect class it holds fixed. Every one of them failed
 * before the fix (settings PostgreSQL refuses, a pg_hba.conf admitting the internet in two halves,
 * a plain Error instead of a refusal naming the prop, a regex that takes seconds to refuse).
 */
import {
  KubernetesTarget, OSLO_REGION, PostgresDatabase, SUPPORTED_POSTGRES_VERSIONS, renderPostgresConf, renderers,
} from '../../lib';
import { DEFAULT_CLIENT_CIDRS, WAL_COMPRESSION_METHODS } from '../../lib/postgres/postgres-spec';
import { newStack } from '../support/synth';
import { userErrorOf } from '../support/errors';
import { refusedBeforePatterns } from '../fuzz/support';

const setting = (conf: string, name: string) => new RegExp(`^${name} = (.*)$`, 'm').exec(conf)?.[1];

function database(props: Record<string, unknown>) {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  return () => new PostgresDatabase(stack, 'db', { target, serviceName: 'orders', ...props });
}

describe('issue 13 class 1: versions are strict, never only coerced', () => {
  it.each(['postgres 15', 'x15', '15\nshared_buffers = 1', 'latest-16', true])('refuses version %j', (version) => {
    expect(userErrorOf(() => renderPostgresConf({ version: version as any }))).toMatch(/postgresConf\.version: must be a (supported )?PostgreSQL major version/);
  });

  it.each([[15, 15], ['15', 15], ['16.4', 16], ['16-alpine', 16], ['17.2-bookworm', 17]])('reads %j as %i', (version, major) => {
    expect(renderPostgresConf({ version: version as any })).toContain(`for PostgreSQL ${major},`);
  });

  it('reads the major version only from the start of an image tag', () => {
    expect(userErrorOf(database({ image: 'postgres:alpine3.15' }))).toMatch(/props\.image: "postgres:alpine3\.15" names no version/);
  });
});

describe('issue 13 class 2: every value accepted is one PostgreSQL accepts', () => {
  it('refuses a memory limit whose effective_cache_size PostgreSQL would refuse (max 2^31 - 1 pages of 8 kB)', () => {
    expect(userErrorOf(() => renderPostgresConf({ memoryLimit: '22Ti' }))).toMatch(/postgresConf\.memoryLimit: must be at most 16Ti/);
    expect(userErrorOf(database({ memoryLimit: '22Ti' }))).toMatch(/props\.memoryLimit: must be at most 16Ti/);
    const conf = renderPostgresConf({ memoryLimit: '16Ti' });
    expect(setting(conf, 'effective_cache_size')).toBe("'12288GB'");
    expect(12288 * 1024 * 1024).toBeLessThanOrEqual(2147483647 * 8);
  });

  it('refuses shared_buffers below PostgreSQL\'s minimum of 128kB, and overrides above the maxima', () => {
    expect(userErrorOf(() => renderPostgresConf({ sharedBuffers: '64Ki' }))).toContain('postgresConf.sharedBuffers: must be at least 128Ki');
    expect(setting(renderPostgresConf({ sharedBuffers: '128Ki' }), 'shared_buffers')).toBe("'128kB'");
    expect(userErrorOf(() => renderPostgresConf({ memoryLimit: '16Ti', effectiveCacheSize: '16Ti' }))).toContain('postgresConf.effectiveCacheSize: must be at most');
    expect(userErrorOf(() => renderPostgresConf({ memoryLimit: '16Ti', workMem: '3Ti' }))).toContain('postgresConf.workMem: must be at most');
  });

  it('refuses a socket directory PostgreSQL cannot put its socket in (107 bytes)', () => {
    const dir = `/${'d'.repeat(93)}`;
    expect(userErrorOf(() => renderPostgresConf({ unixSocketDirectory: dir }))).toMatch(/postgresConf\.unixSocketDirectory: gives the socket path .* of 108 bytes/);
    expect(() => renderPostgresConf({ unixSocketDirectory: dir.slice(0, -1) })).not.toThrow();
  });

  it.each([
    [['0.0.0.0/1', '128.0.0.0/1'], /pgHba\.clientCidrs\[0\]: "0\.0\.0\.0\/1" is too wide: an IPv4 block may be at most a \/8/],
    [['0.0.0.0/7'], /clientCidrs\[0\]: "0\.0\.0\.0\/7" is too wide/],
    [['11.0.0.0/8', '12.0.0.0/8', '13.0.0.0/8'], /pgHba\.clientCidrs: together cover more than two \/8 networks/],
    [['2000::/3'], /clientCidrs\[0\]: "2000::\/3" is too wide: a public IPv6 block may be at most a \/32/],
    [['2001:db8::/32', '2001:db9::/32', '2001:dba::/32'], /clientCidrs: together cover more than two \/32 allocations/],
    [['fc00::/7'], /clientCidrs\[0\]: "fc00::\/7" is too wide: a unique local IPv6 block/],
  ])('refuses client networks %j (a large part of the internet)', (clientCidrs, message) => {
    expect(userErrorOf(() => renderers.renderPgHba({ database: 'orders', user: 'orders', clientCidrs }))).toMatch(message);
    expect(userErrorOf(database({ clientCidrs }))).toMatch(/props\.clientCidrs/);
  });

  it.each([
    [[...DEFAULT_CLIENT_CIDRS]],
    [['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16']],
    [['10.0.0.0/8', '10.0.0.0/8', '10.1.0.0/16']],
    [['fd00::/8', 'fc00::/8', '2001:db8::/32', '2001:db9:1::/48']],
    [['198.51.100.0/24']],
  ])('accepts client networks %j', (clientCidrs) => {
    expect(renderers.renderPgHba({ database: 'orders', user: 'orders', clientCidrs })).toContain(`host orders orders ${clientCidrs[0]} scram-sha-256`);
  });
});

describe('issue 13 class 3: a bad value is a refusal naming the prop, never a crash', () => {
  it.each([
    [{ sharedBuffers: '1GB' }, 'postgresConf.sharedBuffers: must be a memory quantity'],
    [{ workMem: '1GB' }, 'postgresConf.workMem: must be a memory quantity'],
    [{ effectiveCacheSize: 42 }, 'postgresConf.effectiveCacheSize: must be a string (got number)'],
    [{ maintenanceWorkMem: '-1Mi' }, 'postgresConf.maintenanceWorkMem: must be a memory quantity'],
    [{ maxWalSize: '2 Gi' }, 'postgresConf.maxWalSize: must be a memory quantity'],
  ])('renderPostgresConf(%j)', (spec, message) => {
    expect(userErrorOf(() => renderPostgresConf(spec as any))).toContain(message);
  });

  it.each([undefined, null, 42, 'x', []])('renderPostgresConf(%j) and renderPgHba(%j)', (spec) => {
    expect(userErrorOf(() => renderPostgresConf(spec as any))).toMatch(/invalid postgresConf/);
    expect(userErrorOf(() => renderers.renderPgHba(spec as any))).toMatch(/invalid pgHba/);
  });

  it.each([undefined, null, 'orders'])('new PostgresDatabase(scope, id, %j)', (props) => {
    const { stack } = newStack();
    expect(userErrorOf(() => new PostgresDatabase(stack, 'db', props as any))).toMatch(/PostgresDatabase test\/db props: must be an object/);
  });
});

describe('issue 13 class 4: long input is refused by length first, in milliseconds', () => {
  const long = (unit: string) => unit.repeat(Math.ceil(60000 / unit.length)) + '!';
  it.each([
    ['image', database({ image: long('a') })],
    ['image (separators)', database({ image: long('a_') })],
    ['existingSecret', database({ existingSecret: long('a-') })],
    ['storageClassName', database({ storageClassName: long('a.') })],
    ['clientCidrs', database({ clientCidrs: [long('1.')] })],
    ['listenAddresses', () => renderPostgresConf({ listenAddresses: [long('a-')] })],
    ['hbaFile', () => renderPostgresConf({ hbaFile: long('/a') })],
    ['memoryLimit', () => renderPostgresConf({ memoryLimit: long('1') })],
    ['version', () => renderPostgresConf({ version: long('1.') })],
  ])('%s of 60,000 characters', (_prop, fn) => {
    expect(refusedBeforePatterns(fn)).toBeLessThan(10000);
  });
});

describe('issue 13 class 5: shared data cannot be changed by an importer', () => {
  it.each([
    ['DEFAULT_CLIENT_CIDRS', DEFAULT_CLIENT_CIDRS],
    ['SUPPORTED_POSTGRES_VERSIONS', SUPPORTED_POSTGRES_VERSIONS],
    ['WAL_COMPRESSION_METHODS', WAL_COMPRESSION_METHODS],
  ])('%s is frozen', (_name, value) => {
    expect(Object.isFrozen(value)).toBe(true);
    expect(() => (value as unknown as string[]).push('0.0.0.0/0')).toThrow(TypeError);
  });

  it('a parsed spec does not share the default list', () => {
    const hba = renderers.renderPgHba({ database: 'orders', user: 'orders' });
    expect(hba).not.toContain('0.0.0.0/0');
    expect([...DEFAULT_CLIENT_CIDRS]).toEqual(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']);
  });
});
