import {
  derivePostgresMemory,
  formatPostgresSize,
  PostgresConfSpecSchema,
  PostgresHbaSpecSchema,
} from '../../lib/postgres/postgres-spec';
import { renderPgHba, renderPostgresConf } from '../../lib/postgres/render-postgres-conf';
import { userErrorOf } from '../support/errors';

const MB = 1024;

describe('derivePostgresMemory', () => {
  it.each([
    // limit, shared_buffers, effective_cache_size, maintenance_work_mem, work_mem, wal_buffers (MB)
    ['256Mi', 64, 192, 16, 1, 2],
    ['1Gi', 256, 768, 51, 3, 8],
    ['4Gi', 1024, 3072, 204, 14, 16],
    ['16Gi', 4096, 12288, 819, 57, 16],
  ])('derives the figures for a %s limit and 100 connections', (limit, shared, cache, maintenance, work, wal) => {
    const m = derivePostgresMemory({ memoryLimit: limit, maxConnections: 100 });
    expect({
      shared: m.sharedBuffersKb / MB,
      cache: m.effectiveCacheSizeKb / MB,
      maintenance: m.maintenanceWorkMemKb / MB,
      work: m.workMemKb / MB,
      wal: m.walBuffersKb / MB,
    }).toEqual({ shared, cache, maintenance, work, wal });
    expect(m.budgetKb).toBeLessThanOrEqual(m.memoryLimitKb);
  });

  it('caps maintenance_work_mem at 1GB', () => {
    expect(derivePostgresMemory({ memoryLimit: '64Gi', maxConnections: 100 }).maintenanceWorkMemKb).toBe(1024 * MB);
  });

  it('shares work_mem over max_connections', () => {
    const few = derivePostgresMemory({ memoryLimit: '4Gi', maxConnections: 20 });
    const many = derivePostgresMemory({ memoryLimit: '4Gi', maxConnections: 400 });
    expect(few.workMemKb).toBe(71 * MB); // (4096 - 1024 - 204) / 40
    expect(many.workMemKb).toBe(3 * MB); // (4096 - 1024 - 204) / 800
  });

  it('keeps explicit overrides and derives work_mem around them', () => {
    const m = derivePostgresMemory({
      memoryLimit: '2Gi',
      maxConnections: 50,
      sharedBuffers: '1Gi',
      effectiveCacheSize: '1536Mi',
      maintenanceWorkMem: '128Mi',
    });
    expect(m.sharedBuffersKb).toBe(1024 * MB);
    expect(m.effectiveCacheSizeKb).toBe(1536 * MB);
    expect(m.maintenanceWorkMemKb).toBe(128 * MB);
    expect(m.workMemKb).toBe(8 * MB); // (2048 - 1024 - 128) / 100 = 8.96
    expect(m.walBuffersKb).toBe(16 * MB);
    expect(derivePostgresMemory({ memoryLimit: '2Gi', maxConnections: 50, workMem: '512Ki' }).workMemKb).toBe(512);
  });
});

describe('formatPostgresSize', () => {
  it('uses the largest whole unit', () => {
    expect(formatPostgresSize(512)).toBe('512kB');
    expect(formatPostgresSize(1536)).toBe('1536kB');
    expect(formatPostgresSize(256 * MB)).toBe('256MB');
    expect(formatPostgresSize(2048 * MB)).toBe('2GB');
  });
});

describe('PostgresConfSpecSchema', () => {
  it('applies documented defaults', () => {
    const s = PostgresConfSpecSchema.parse({});
    expect(s).toMatchObject({
      version: 17,
      memoryLimit: '1Gi',
      maxConnections: 100,
      listenAddresses: ['*'],
      port: 5432,
      unixSocketDirectory: '/var/run/postgresql',
      hbaFile: '/etc/postgresql/pg_hba.conf',
      randomPageCost: 1.1,
      effectiveIoConcurrency: 200,
      maintenanceIoConcurrency: 100,
      walCompression: 'lz4',
      checkpointTimeoutSeconds: 900,
      maxWalSize: '2Gi',
      minWalSize: '256Mi',
      logMinDurationStatementMs: 1000,
      idleInTransactionTimeoutSeconds: 600,
    });
    expect(s.ssl).toBeUndefined();
  });

  it('coerces version strings and image tags to the major version', () => {
    expect(PostgresConfSpecSchema.parse({ version: '16.4-alpine' }).version).toBe(16);
    expect(PostgresConfSpecSchema.parse({ version: '14' }).version).toBe(14);
  });

  it('resolves wal_compression per version', () => {
    expect(PostgresConfSpecSchema.parse({ version: 14 }).walCompression).toBe('on');
    expect(PostgresConfSpecSchema.parse({ version: 15 }).walCompression).toBe('lz4');
    expect(PostgresConfSpecSchema.parse({ version: 17, walCompression: 'zstd' }).walCompression).toBe('zstd');
  });
});

const confError = (spec: unknown): string => userErrorOf(() => renderPostgresConf(spec as never));
const hbaError = (spec: unknown): string => userErrorOf(() => renderPgHba(spec as never));

describe('schema errors name the prop', () => {
  it.each([13, 18, '12.4', 'latest'])('rejects version %p and lists the supported ones', (version) => {
    expect(confError({ version })).toMatch(/postgresConf\.version: must be a supported PostgreSQL major version: 14, 15, 16, 17/);
  });

  it('rejects shared_buffers above the memory limit', () => {
    expect(confError({ memoryLimit: '1Gi', sharedBuffers: '2Gi' })).toMatch(/postgresConf\.sharedBuffers: must be below memoryLimit/);
    expect(confError({ memoryLimit: '1Gi', sharedBuffers: '1Gi' })).toMatch(/postgresConf\.sharedBuffers:/);
  });

  it('rejects a memory limit too small for PostgreSQL', () => {
    expect(confError({ memoryLimit: '255Mi' })).toMatch(/postgresConf\.memoryLimit: must be at least 256Mi/);
    expect(() => renderPostgresConf({ memoryLimit: '256Mi' })).not.toThrow();
  });

  it('rejects connections x work_mem beyond the limit, blaming the prop to change', () => {
    expect(confError({ memoryLimit: '1Gi', maxConnections: 1000 })).toMatch(
      /postgresConf\.maxConnections: does not fit memoryLimit 1Gi: shared_buffers 256MB \+ maintenance_work_mem 51MB \+ max_connections 1000 x work_mem 1MB = 1307MB/,
    );
    expect(confError({ memoryLimit: '4Gi', workMem: '64Mi' })).toMatch(/postgresConf\.workMem: does not fit memoryLimit 4Gi/);
    expect(confError({ memoryLimit: '4Gi', sharedBuffers: '3900Mi' })).toMatch(/postgresConf\.sharedBuffers: does not fit/);
    // the same 64Mi work_mem fits when fewer connections share the limit
    expect(() => renderPostgresConf({ memoryLimit: '4Gi', workMem: '64Mi', maxConnections: 40 })).not.toThrow();
  });

  it('rejects lz4 / zstd / pglz on 14', () => {
    expect(confError({ version: 14, walCompression: 'lz4' })).toMatch(/postgresConf\.walCompression: "lz4" needs PostgreSQL 15 or later/);
    expect(confError({ version: 14, walCompression: 'pglz' })).toMatch(/postgresConf\.walCompression:/);
  });

  it('rejects WAL sizes PostgreSQL refuses', () => {
    expect(confError({ minWalSize: '16Mi' })).toMatch(/postgresConf\.minWalSize: must be at least 32Mi/);
    expect(confError({ minWalSize: '1Gi', maxWalSize: '512Mi' })).toMatch(/postgresConf\.maxWalSize:/);
  });

  it('rejects values that could inject settings', () => {
    expect(confError({ hbaFile: "/etc/x' ssl = 'off" })).toMatch(/postgresConf\.hbaFile:/);
    expect(confError({ unixSocketDirectory: '/run/pg\nlisten_addresses = *' })).toMatch(/postgresConf\.unixSocketDirectory:/);
    expect(confError({ listenAddresses: ['127.0.0.1;x'] })).toMatch(/postgresConf\.listenAddresses\[0\]:/);
    expect(confError({ ssl: { certFile: 'relative.pem', keyFile: '/k.pem' } })).toMatch(/postgresConf\.ssl\.certFile:/);
    expect(confError({ memoryLimit: '1GB' })).toMatch(/postgresConf\.memoryLimit: must be a memory quantity/);
  });

  it('rejects unknown props (typos would otherwise be ignored)', () => {
    expect(confError({ maxconnections: 10 })).toMatch(/Unrecognized key: "maxconnections"/);
  });
});

describe('PostgresHbaSpecSchema', () => {
  it('defaults clientCidrs to the RFC 1918 ranges and ssl to off', () => {
    expect(PostgresHbaSpecSchema.parse({ database: 'orders', user: 'orders' })).toEqual({
      database: 'orders',
      user: 'orders',
      clientCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
      ssl: false,
    });
  });

  it.each([
    ['Orders', /pgHba\.database: must be 1-63 lower-case letters/],
    ['orders-db', /pgHba\.database: must be 1-63 lower-case letters/],
    ['1orders', /pgHba\.database: must be 1-63 lower-case letters/],
    ["orders' all", /pgHba\.database:/],
    ['all', /pgHba\.database: must not be a pg_hba\.conf keyword/],
    ['replication', /pgHba\.database: must not be a pg_hba\.conf keyword/],
    ['postgres', /pgHba\.database: must be the service's own database/],
    ['a'.repeat(64), /pgHba\.database: must be 1-63/],
  ])('rejects database %p', (database, pattern) => {
    expect(hbaError({ database, user: 'orders' })).toMatch(pattern);
  });

  it.each([
    ['postgres', /pgHba\.user: must be the service's own role/],
    ['pg_monitor', /pgHba\.user: must not start with "pg_"/],
    ['sameuser', /pgHba\.user: must not be a pg_hba\.conf keyword/],
    ['or ders', /pgHba\.user: must be 1-63/],
  ])('rejects user %p', (user, pattern) => {
    expect(hbaError({ database: 'orders', user })).toMatch(pattern);
  });

  it.each([
    ['10.1.2.3/8', /clientCidrs\[0\]: must have zero host bits/],
    ['10.0.0.0/33', /clientCidrs\[0\]: must be a CIDR block/],
    ['10.0.0.0', /clientCidrs\[0\]: must be a CIDR block/],
    ['0.0.0.0/0', /clientCidrs\[0\]: must not be the whole internet/],
    ['::/0', /clientCidrs\[0\]: must not be the whole internet/],
    ['all', /clientCidrs\[0\]: must be a CIDR block/],
  ])('rejects client network %p', (block, pattern) => {
    expect(hbaError({ database: 'orders', user: 'orders', clientCidrs: [block] })).toMatch(pattern);
  });

  it('rejects an empty client list', () => {
    expect(hbaError({ database: 'orders', user: 'orders', clientCidrs: [] })).toMatch(/clientCidrs: must name at least one network/);
  });
});
