/**
 * A pure function of JSON-like input, memoized on the input's JSON text: for renderers that many
 * callers ask for the same output (every database of a platform renders the same postgresql.conf).
 * The text costs microseconds where the render costs tens of them. At most `limit` results are kept.
 */
export function memoizedByJson<I, O>(compute: (input: I) => O, limit = 64): (input: I) => O {
  const results = new Map<string, O>();
  return (input) => {
    const key = JSON.stringify(input);
    const known = results.get(key);
    if (known !== undefined) return known;
    const result = compute(input);
    if (results.size >= limit) results.delete(results.keys().next().value as string);
    results.set(key, result);
    return result;
  };
}
