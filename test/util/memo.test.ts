import { memoizedByJson } from '../../lib/util/memo';

describe('memoizedByJson', () => {
  it('computes once per distinct input (by its JSON text) and keeps at most `limit` results', () => {
    const compute = jest.fn((i: { a: number; b?: string }) => `${i.a}:${i.b ?? '-'}`);
    const memo = memoizedByJson(compute, 2);
    expect(memo({ a: 1 })).toBe('1:-');
    expect(memo({ a: 1 })).toBe('1:-');
    expect(memo({ a: 1, b: 'x' })).toBe('1:x');
    expect(compute).toHaveBeenCalledTimes(2);
    memo({ a: 2 }); // evicts { a: 1 }, the oldest
    memo({ a: 1 });
    expect(compute).toHaveBeenCalledTimes(4);
    expect(memo({ a: 2 })).toBe('2:-');
    expect(compute).toHaveBeenCalledTimes(4);
  });
});
