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
 * The document's top levels are written in JavaScript and each value below them by its own native
 * call (`writeStableJson`), so the text is handed to the file as it is made.
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
  const pieces: string[] = [];
  return writeStableJson(value, (piece) => pieces.push(piece)) ? pieces.join('') : undefined;
}

/**
 * The same text, handed to `write` piece by piece as it is made (false, and nothing written, for a
 * value json-stable-stringify writes as undefined). The top levels of the document (block kinds,
 * resource types, names: `resource.<type>.<name>`) are written here; each value below them (a
 * resource's body) is written by the native writer on its own, at its indentation, and handed on
 * at once. Nothing holds the whole text: built as one string, the 25 MB of a 500-service stack
 * cost more to flatten and encode (~0.2 s) than to write natively, while a body's text is encoded
 * while it is still in the cache.
 */
export function writeStableJson(value: unknown, write: (piece: string) => void): boolean {
  const node = applyToJson(value);
  const leaf = primitiveText(node);
  if (leaf === SKIP) return false;
  if (leaf !== undefined) write(leaf);
  else writeContainer(node as object, 0, write, new Set());
  return true;
}

/** Values at this depth and below are written by the native writer, one per call. */
const NATIVE_DEPTH = 3;

const applyToJson = (node: unknown): unknown =>
  node !== null && node !== undefined && typeof (node as { toJSON?: unknown }).toJSON === 'function' ? (node as { toJSON: () => unknown }).toJSON() : node;

/** The text of a value that is not an object (SKIP where the library writes nothing), undefined for an object. */
function primitiveText(node: unknown): string | typeof SKIP | undefined {
  if (typeof node === 'object' && node !== null) return undefined;
  return JSON.stringify(node) ?? SKIP; // undefined, functions and symbols write nothing; a bigint throws, as in the library
}

/** An object or array at `depth`, in the library's layout; below NATIVE_DEPTH (or canonical), natively. */
function writeContainer(node: object, depth: number, write: (piece: string) => void, ancestors: Set<object>): void {
  if (depth >= NATIVE_DEPTH || (node as { [CANONICAL]?: boolean })[CANONICAL] === true) {
    write(nativeText(node, depth));
    return;
  }
  if (ancestors.has(node)) throw new TypeError('Converting circular structure to JSON');
  ancestors.add(node);
  const open = indentOf(depth + 1);
  const member = (v: unknown, text: string | undefined, prefix: string): void => {
    write(prefix);
    if (text === undefined) writeContainer(v as object, depth + 1, write, ancestors);
    else write(text);
  };
  if (Array.isArray(node)) {
    write('[');
    for (let i = 0; i < node.length; i++) {
      const v = applyToJson(node[i]);
      const text = primitiveText(v);
      member(v, text === SKIP ? 'null' : text, (i === 0 ? '' : ',') + open);
    }
    write(indentOf(depth) + ']');
  } else {
    write('{');
    let first = true;
    for (const key of Object.keys(node).sort()) {
      const v = applyToJson((node as Record<string, unknown>)[key]);
      const text = primitiveText(v);
      if (text === SKIP) continue;
      member(v, text, (first ? '' : ',') + open + JSON.stringify(key) + ': ');
      first = false;
    }
    write(indentOf(depth) + '}');
  }
  ancestors.delete(node);
}

const indents: string[] = ['\n'];
function indentOf(level: number): string {
  while (indents.length <= level) indents.push(indents[indents.length - 1] + SPACE);
  return indents[level];
}

/**
 * An object's text at `depth` from the native writer: its sorted copy nested `depth` levels deep
 * under empty keys, so that V8 indents every line as the library would, and the wrapping cut off.
 */
function nativeText(node: object, depth: number): string {
  let copy: unknown;
  try {
    copy = sortedCopy(node);
  } catch (e) {
    if (e instanceof NeedsSlowPath) return writeInJavaScript(node, depth) as string;
    throw e;
  }
  const marked = copy !== node; // a value returned as it is holds no marker
  for (let i = 0; i < depth; i++) copy = { '': copy };
  let text = JSON.stringify(copy, null, SPACE);
  if (marked) text = expandEmptyMarkers(text).join('');
  // Each wrapping level opens with `{\n<indent>"": ` and closes with `\n<indent>}`.
  const opening = depth * 6 + depth * (depth + 1);
  const closing = depth * 2 + depth * (depth - 1);
  return text.slice(opening, text.length - closing);
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
  const copy = (node: unknown, converted = false): unknown => {
    if (!converted) node = applyToJson(node);
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
  return copy(value, true);
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
function writeInJavaScript(value: unknown, level = 0): string | undefined {
  const indent = indentOf;
  const ancestors = new Set<object>();

  const write = (node: unknown, level: number, converted = false): string | undefined => {
    if (!converted) node = applyToJson(node);
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
  return write(value, level, true);
}
