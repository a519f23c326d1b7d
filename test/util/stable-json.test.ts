/**
 * stableJson must write the same bytes as the json-stable-stringify cdktf writes cdk.tf.json
 * with: compared on generated values (every JSON shape, odd keys, toJSON, undefined, empties)
 * and on a synthesized platform.
 */
import * as fc from 'fast-check';
import { App, Testing, TerraformStack } from 'cdktf';
import { markCanonical, stableJson, writeStableJson } from '../../lib/util/stable-json';
import { KubernetesTarget, OSLO_REGION, ReferenceDeployment, ResidencyGuard } from '../../lib';

// cdktf's own copy (a dependency of cdktf, not of ours).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdktfStringify: (v: unknown, o: { space: number }) => string | undefined = require(require.resolve('json-stable-stringify', { paths: [require.resolve('cdktf')] }));
const asCdktf = (v: unknown): string | undefined => cdktfStringify(v, { space: 2 });

describe('stableJson', () => {
  it('writes what json-stable-stringify writes, for any JSON-like value', () => {
    const key = fc.oneof(fc.string(), fc.constantFrom('10', '2', '4294967295', '', '__proto__', '__proto__x', 'ü', '"quoted"', '//', 'a\nb', '\u0000sovereign-stack:{}\u0000'));
    const leaf = fc.oneof(
      fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined),
      fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY), fc.constant({ toJSON: () => 'via toJSON' }),
      fc.date({ noInvalidDate: true }), fc.constant(() => 1), fc.constant('\u0000sovereign-stack:[]\u0000'),
      fc.constant({}), fc.constant([]), fc.constant({ gone: undefined }),
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
      array: fc.array(tie('node'), { maxLength: 5 }),
      object: fc.dictionary(key, tie('node'), { maxKeys: 6 }),
    })).node;
    fc.assert(fc.property(tree, (value) => {
      expect(stableJson(value)).toBe(asCdktf(value));
    }), { numRuns: 2000 });
    // Values placed where resource bodies are (`resource.<type>.<name>`, written natively at their
    // indentation) and deeper.
    fc.assert(fc.property(key, key, key, tree, tree, (a, b, c, body, other) => {
      const value = { [a]: { [b]: { [c]: body, other } }, other };
      expect(stableJson(value)).toBe(asCdktf(value));
      expect(stableJson({ [a]: { [b]: { [c]: { [a]: body } } } })).toBe(asCdktf({ [a]: { [b]: { [c]: { [a]: body } } } }));
    }), { numRuns: 2000 });
  });

  it('hands the text over in pieces that join to the same text', () => {
    const body = { a: 1, b: [{ c: 'x' }, []], d: {}, e: { 10: 'ten', 9: 'nine' } };
    const doc = { resource: { kubernetes_secret_v1: { one: body, two: { ...body, f: undefined } } }, z: [body] };
    const pieces: string[] = [];
    expect(writeStableJson(doc, (p) => pieces.push(p))).toBe(true);
    expect(pieces.length).toBeGreaterThan(4);
    expect(pieces.join('')).toBe(asCdktf(doc));
    expect(writeStableJson(undefined, (p) => pieces.push(p))).toBe(false);
  });

  it('writes a canonical value as it is, at any depth', () => {
    const sorted = markCanonical({ a: { b: [1, 'two'], c: true }, d: 'x' });
    for (const value of [sorted, { top: sorted }, { a: { b: { c: { d: sorted } } } }, [sorted, [sorted]]]) {
      expect(stableJson(value)).toBe(asCdktf(value));
    }
  });

  it('keeps the quirks: empty containers on two lines, undefined dropped or null, sorted keys', () => {
    const value = { b: [], a: {}, c: [undefined, 1], d: undefined, 10: 'ten', 9: 'nine' };
    expect(stableJson(value)).toBe('{\n  "10": "ten",\n  "9": "nine",\n  "a": {\n  },\n  "b": [\n  ],\n  "c": [\n    null,\n    1\n  ]\n}');
    expect(stableJson(value)).toBe(asCdktf(value));
    expect(stableJson(undefined)).toBeUndefined();
  });

  it('refuses a cycle as json-stable-stringify does', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(() => asCdktf(cyclic)).toThrow(TypeError);
    expect(() => stableJson(cyclic)).toThrow('Converting circular structure to JSON');
    const shared = { x: 1 };
    expect(stableJson({ a: shared, b: [shared, shared] })).toBe(asCdktf({ a: shared, b: [shared, shared] }));
  });

  it('writes a synthesized platform as cdktf does', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'platform');
    ResidencyGuard.of(stack).useStateLocation(OSLO_REGION);
    new ReferenceDeployment(stack, 'platform', {
      target: new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION }),
      gateway: { serverName: 'api.example.no', rateLimit: { perSecond: 10 } },
      services: [{ name: 'orders', image: 'registry.example.no/orders:1.0.0', port: 8080, routes: ['/v1/orders'], database: {}, messaging: { publishes: ['orders.placed'] } }],
    });
    const doc = stack.toTerraform();
    expect(Object.keys(doc.resource).length).toBeGreaterThan(5);
    expect(stableJson(doc)).toBe(asCdktf(doc));
    expect(app).toBeInstanceOf(App);
  });
});
