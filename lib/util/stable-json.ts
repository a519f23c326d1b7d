/**
 * JSON with sorted keys, written exactly as cdktf writes cdk.tf.json (json-stable-stringify 1.3.0
 * with `{ space: 2 }`), at a fraction of its cost: that library builds the text in JavaScript,
 * rebuilding each indent string character by character and scanning an array of ancestors at every
 * object, which made writing a 500-service stack ~0.6 s of its synthesis.
 *
 * How: a copy of the value with every object's keys inserted in sorted order is written by V8's
 * native JSON.stringify, which keeps insertion order, except in two cases it cannot express:
 * - empty objects and arrays, which json-stable-stringify writes over two lines (`{\n  }`): the
 *   copy holds a marker string in their place, replaced in the text afterwards;
 * - objects with integer-like keys ("10", "9"), which V8 always enumerates first in numeric order:
 *   such a value (rare in Terraform JSON) is written by the JavaScript writer below instead.
 * The other quirks are the same in both: `toJSON` is honoured, `undefined` (and functions) are left
 * out of objects and written as `null` in arrays, NaN and Infinity are `null`, an object cycle throws.
 * test/util/stable-json.test.ts compares with json-stable-stringify on generated values.
 */

const SPACE = '  ';
const EMPTY_OBJECT = '\u0000sovereign-stack:{}\u0000';
const EMPTY_ARRAY = '\u0000sovereign-stack:[]\u0000';
/** How the markers appear in JSON.stringify's text (NUL is escaped as \u0000). */
const MARKER_TEXT = JSON.stringify('\u0000sovereign-stack:').slice(0, -1);
const ARRAY_INDEX_KEY = /^(0|[1-9][0-9]*)$/;

/** Thrown inside the copy when native JSON.stringify cannot write the value as the library does. */
class NeedsSlowPath extends Error {}

/** The text json-stable-stringify writes for `value` with `{ space: 2 }` (undefined for undefined, as it does). */
export function stableJson(value: unknown): string | undefined {
  const pieces = stableJsonPieces(value);
  return pieces && pieces.join('');
}

/**
 * The same text, in pieces to write one after the other (to a file): V8 builds the native writer's
 * output as a rope, and joining the pieces would copy all of it once more.
 */
export function stableJsonPieces(value: unknown): string[] | undefined {
  let copy: unknown;
  try {
    copy = sortedCopy(value);
  } catch (e) {
    if (e instanceof NeedsSlowPath) {
      const text = writeInJavaScript(value);
      return text === undefined ? undefined : [text];
    }
    throw e;
  }
  if (copy === SKIP) return undefined;
  return expandEmptyMarkers(JSON.stringify(copy, null, SPACE));
}

const SKIP = Symbol('skip');

/**
 * Marks objects known to read as json-stable-stringify writes them (see `markCanonical`): a hidden
 * symbol property, not a WeakSet (tens of thousands of weak entries slow every garbage collection).
 */
const CANONICAL = Symbol('sovereign-stack.canonical');

/**
 * Declares that `value` already reads as json-stable-stringify would write it, at every depth:
 * keys inserted in sorted order, none integer-like or `__proto__`, no empty object or array, no
 * `toJSON`, no marker text. `stableJson` then hands it to the native writer without walking it.
 * For producers that build such values anyway (rendered resource bodies); returns `value`.
 */
export function markCanonical<T extends object>(value: T): T {
  Object.defineProperty(value, CANONICAL, { value: true, enumerable: false });
  return value;
}

/**
 * `value` as json-stable-stringify sees it: toJSON applied, keys sorted, empty containers as
 * markers. A container that already reads that way (keys inserted in sorted order, as provider
 * bodies mostly are) is returned as it is, not copied; members native JSON.stringify leaves out as
 * the library does (undefined, functions) are left in place.
 */
function sortedCopy(value: unknown): unknown {
  const ancestors = new Set<object>();
  const copy = (node: unknown): unknown => {
    if (node !== null && node !== undefined && typeof (node as { toJSON?: unknown }).toJSON === 'function') {
      node = (node as { toJSON: () => unknown }).toJSON();
    }
    switch (typeof node) {
      case 'undefined': case 'function': case 'symbol': return SKIP;
      case 'string':
        if (node.includes('\u0000sovereign-stack:')) throw new NeedsSlowPath();
        return node;
      case 'object': break;
      default: return node; // number, boolean, bigint (JSON.stringify throws on it, as the library does)
    }
    if (node === null) return null;
    if ((node as { [CANONICAL]?: boolean })[CANONICAL] === true) return node;
    if (Array.isArray(node)) {
      if (node.length === 0) return EMPTY_ARRAY;
      let out: unknown[] | undefined;
      for (let i = 0; i < node.length; i++) {
        const c = copy(node[i]);
        const written = c === SKIP ? node[i] : c; // native JSON.stringify writes null for it too
        if (out === undefined && written !== node[i]) out = node.slice(0, i);
        if (out !== undefined) out.push(written);
      }
      return out ?? node;
    }
    if (ancestors.has(node)) throw new TypeError('Converting circular structure to JSON');
    ancestors.add(node);
    const own = Object.keys(node);
    let sorted = true;
    for (let i = 1; i < own.length && sorted; i++) sorted = own[i - 1] < own[i];
    const keys = sorted ? own : own.sort();
    let out: Record<string, unknown> | undefined = sorted ? undefined : {};
    let kept = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      // V8 writes integer-like keys first, in numeric order; `out.__proto__ = c` would set the prototype.
      if (ARRAY_INDEX_KEY.test(key) || key === '__proto__' || key.includes('\u0000sovereign-stack:')) throw new NeedsSlowPath();
      const v = (node as Record<string, unknown>)[key];
      const c = copy(v);
      if (c === SKIP) {
        if (out === undefined) { out = {}; for (let j = 0; j < i; j++) out[keys[j]] = (node as Record<string, unknown>)[keys[j]]; }
        continue;
      }
      kept++;
      if (out === undefined && c !== v) { out = {}; for (let j = 0; j < i; j++) out[keys[j]] = (node as Record<string, unknown>)[keys[j]]; }
      if (out !== undefined) out[key] = c;
    }
    ancestors.delete(node);
    return kept === 0 ? EMPTY_OBJECT : out ?? node;
  };
  return copy(value);
}

/**
 * Replaces each marker with the two-line empty container, closed at its line's indentation: the
 * text as pieces (slices of the native writer's text, which is flattened once by the first search).
 */
function expandEmptyMarkers(text: string): string[] {
  const emptyObject = JSON.stringify(EMPTY_OBJECT);
  const emptyArray = JSON.stringify(EMPTY_ARRAY);
  let at = text.indexOf(MARKER_TEXT);
  if (at < 0) return [text];
  const pieces: string[] = [];
  let from = 0;
  while (at >= 0) {
    let lineStart = at;
    while (lineStart > 0 && text.charCodeAt(lineStart - 1) !== 10) lineStart--;
    let indentEnd = lineStart;
    while (text.charCodeAt(indentEnd) === 32) indentEnd++;
    const isObject = text.startsWith(emptyObject, at);
    pieces.push(text.slice(from, at), (isObject ? '{' : '[') + '\n' + text.slice(lineStart, indentEnd) + (isObject ? '}' : ']'));
    from = at + (isObject ? emptyObject : emptyArray).length;
    at = text.indexOf(MARKER_TEXT, from);
  }
  pieces.push(text.slice(from));
  return pieces;
}

/** The same text, built in JavaScript: for values native JSON.stringify cannot order as the library does. */
function writeInJavaScript(value: unknown): string | undefined {
  const indents: string[] = ['\n'];
  const indent = (level: number): string => {
    while (indents.length <= level) indents.push(indents[indents.length - 1] + SPACE);
    return indents[level];
  };
  const ancestors = new Set<object>();

  const write = (node: unknown, level: number): string | undefined => {
    if (node !== null && node !== undefined && typeof (node as { toJSON?: unknown }).toJSON === 'function') {
      node = (node as { toJSON: () => unknown }).toJSON();
    }
    if (typeof node !== 'object' || node === null) return JSON.stringify(node);
    const close = indent(level);
    const open = indent(level + 1);
    if (Array.isArray(node)) {
      let out = '[';
      for (let i = 0; i < node.length; i++) {
        out += (i === 0 ? '' : ',') + open + (write(node[i], level + 1) || 'null');
      }
      return out + close + ']';
    }
    if (ancestors.has(node)) throw new TypeError('Converting circular structure to JSON');
    ancestors.add(node);
    const keys = Object.keys(node).sort();
    let out = '{';
    let first = true;
    for (const key of keys) {
      const v = write((node as Record<string, unknown>)[key], level + 1);
      if (!v) continue;
      out += (first ? '' : ',') + open + JSON.stringify(key) + ': ' + v;
      first = false;
    }
    ancestors.delete(node);
    return out + close + '}';
  };
  return write(value, 0);
}
