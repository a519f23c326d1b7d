/**
 * withSchemaDefaults must give what `schema.parse` gives for values that pass the schema: the
 * defaults applied, nothing else changed. (Every component-built workload in the suite is also
 * compared with the Workload schema's parse: SOVEREIGN_STACK_CHECK_TRUSTED in test/setup-jest.ts.)
 */
import { z } from 'zod';
import { withSchemaDefaults } from '../../lib/util/schema-defaults';

const Probe = z.union([
  z.object({ kind: z.literal('http'), path: z.string(), port: z.number(), periodSeconds: z.number().default(10) }),
  z.object({ kind: z.literal('tcp'), port: z.number(), periodSeconds: z.number().default(5) }),
  z.object({ exec: z.array(z.string()), timeoutSeconds: z.number().default(1) }),
]);
const Schema = z.object({
  name: z.string(),
  replicas: z.number().default(2),
  mode: z.union([z.literal('fast'), z.literal('safe')]).default('safe'),
  labels: z.record(z.string(), z.string()).default({}),
  probes: z.array(Probe).default([]),
  tls: z.object({ secret: z.string(), minVersion: z.enum(['1.2', '1.3']).default('1.2') }).optional(),
});

describe('withSchemaDefaults', () => {
  it.each([
    { name: 'a' },
    { name: 'a', replicas: 3, mode: 'fast' as const, labels: { x: 'y' } },
    { name: 'a', probes: [{ kind: 'tcp' as const, port: 1 }, { kind: 'http' as const, path: '/', port: 2 }, { exec: ['true'] }] },
    { name: 'a', probes: [{ kind: 'http' as const, path: '/', port: 2, periodSeconds: 1 }], tls: { secret: 's' } },
    { name: 'a', tls: undefined },
  ])('gives what parse gives: %j', (value) => {
    expect(withSchemaDefaults(Schema, value)).toEqual(Schema.parse(value));
  });

  it('picks the union member by its discriminator, not the first that fits the keys', () => {
    const Twins = z.union([
      z.object({ kind: z.literal('a'), port: z.number(), weight: z.number().default(1) }),
      z.object({ kind: z.literal('b'), port: z.number(), weight: z.number().default(2) }),
    ]);
    expect(withSchemaDefaults(Twins, { kind: 'b', port: 1 })).toEqual({ kind: 'b', port: 1, weight: 2 });
    expect(withSchemaDefaults(Probe, { kind: 'tcp', port: 1 })).toEqual({ kind: 'tcp', port: 1, periodSeconds: 5 });
  });

  it('refuses a value no union member fits, and a schema shape it does not know', () => {
    expect(() => withSchemaDefaults(Probe, { kind: 'udp', port: 1 } as never)).toThrow('no member of the union fits');
    expect(() => withSchemaDefaults(z.string().transform((s) => s.length), 'abc')).toThrow('unsupported schema type');
  });
});
