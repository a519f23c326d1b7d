/**
 * The ONE place that reaches into cdktf's private modules.
 *
 * cdktf is archived upstream (0.21.0 is its last release; the version is pinned in package.json),
 * so no public switch will come for what is here. Everything else in this library imports `cdktf`
 * plainly. For a move to the community fork (CDK Terrain, package `cdktn`, which keeps these
 * modules at the same paths) this file is what changes; what else a move takes is in the README
 * ("CDK Terrain (cdktn)"). test/package/cdktf-internals.test.ts keeps every other file free of
 * `cdktf/lib/...` imports and fails when the pinned internals below change shape.
 *
 * Seven reaches:
 * 1. `addCustomSynthesis`: the only way to write a file beside a stack's cdk.tf.json (the
 *    residency report).
 * 2. Token stack capture: every token cdktf creates (each provider resource builds dozens for its
 *    output references) captures a full stack trace, read only when that token fails to resolve.
 *    `new App({ stackTraces: false })` does not stop it. Measured at 500 services: 23 % of CPU,
 *    ~64 % of GC time and ~76 % of the heap after construction. `leanTokens` turns the capture off
 *    for apps that asked for no stack traces; `SOVEREIGN_STACK_TOKEN_TRACES=1` brings it back.
 * 3. The stack's resolve: `TerraformStack` resolves every element twice (prepare, synth) and then
 *    the merged document again, through a resolver that builds a context and a path array for
 *    every key of every value. `leanTokens` swaps in a resolve that walks plain JSON itself and
 *    hands every value that holds a token (strings with token markers, token numbers, lazy values,
 *    map-token keys, list tokens) to cdktf's own resolver, with the same path: the output is the
 *    same, byte for byte, as the tests compare on every example stack.
 * 4. Writing cdk.tf.json: cdktf's StackSynthesizer writes it with json-stable-stringify, which
 *    cost ~0.8 s of a 500-service synthesis. `leanTokens` wraps the stack's synthesizer (the
 *    public `stack.synthesizer`) so that cdktf still runs every step of its synthesis (aspects,
 *    validations, custom synthesis, annotations) and the document is then written by
 *    `stableJson`, which writes the same bytes (lib/util/stable-json.ts).
 * 5. The prepare pass: before synthesizing, `App.synth` makes every stack resolve every element
 *    once more (`prepareStack`) and throws the result away; the pass exists so that references
 *    between stacks can create their outputs and remote-state sources (the only thing a
 *    preparing resolve does differently, in `Reference.resolve`). An app with a single stack has
 *    no such references, so `leanTokens` makes that stack's prepare pass ensure its backend and
 *    skip the resolve (~20 % of a 500-service synthesis). Apps with several stacks keep the pass.
 *    Lazy values are then produced once per synthesis instead of twice.
 * 6. Final bodies: `markSynthesized` marks a resource body that holds no token (RenderedResource's):
 *    the lean resolve returns it as it is, and cdktf's fragment merge, which copies every object
 *    but a resolvable one, places it by reference (it gets a non-enumerable `resolve`).
 * 7. Logical ids: every element's id is a readable path plus an MD5 of it (`makeUniqueId`, in a
 *    module of its own); a `crypto.createHash` per element was ~3 % of a 500-service synthesis.
 *    `leanTokens` swaps in the same function hashing with the one-shot `crypto.hash`: the same ids,
 *    compared on generated paths in test/whole-output/lean-synthesis.test.ts.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { IConstruct } from 'constructs';
import {
  App, DefaultTokenResolver, IResolveContext, IStackSynthesizer, ISynthesisSession, ITokenResolver, StringConcat, TerraformStack,
} from 'cdktf';
import { StackSynthesizer, addCustomSynthesis as cdktfAddCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';
import { writeStableJson } from './util/stable-json';

type Resolve = (scope: IConstruct, obj: unknown, preparing?: boolean) => unknown;
type CaptureStackTrace = (below?: unknown) => string[];
type PrivateResolve = (obj: unknown, options: {
  scope: IConstruct; preparing: boolean; resolver: ITokenResolver; prefix?: string[]; previousContext?: IResolveContext;
}) => unknown;

// The modules' own (CommonJS) export objects, which cdktf reads at every call: `require`, not
// `import * as`, whose namespace object is read-only when an ES loader (tsx) builds it.
/* eslint-disable @typescript-eslint/no-require-imports */
const stackTraceModule: { captureStackTrace: CaptureStackTrace } = require('cdktf/lib/tokens/private/stack-trace');
const stackTokensModule: { resolve: Resolve } = require('cdktf/lib/_tokens');
const privateResolveModule: { resolve: PrivateResolve } = require('cdktf/lib/tokens/private/resolve');
const uniqueModule: { makeUniqueId: (components: string[]) => string } = require('cdktf/lib/private/unique');
/* eslint-enable @typescript-eslint/no-require-imports */

/** What runs when the construct it is attached to is synthesized. */
export interface CustomSynthesis {
  /**
   * Called once per synthesis of the stack, after its validations passed and its working directory
   * under `session.outdir` exists, before cdk.tf.json is written there.
   */
  onSynthesize(session: ISynthesisSession): void;
}

/** Attaches `synthesis` to `construct`: cdktf calls it when the construct is synthesized. */
export function addCustomSynthesis(construct: IConstruct, synthesis: CustomSynthesis): void {
  cdktfAddCustomSynthesis(construct, synthesis);
}

/** Set it to 1 to keep cdktf's token creation stacks (they show where a token that fails to resolve was made). */
export const TOKEN_TRACES_ENV = 'SOVEREIGN_STACK_TOKEN_TRACES';
/** cdktf's context key for `new App({ stackTraces: false })`. */
const NO_STACK_TRACES_CONTEXT = '@cdktf/disable_stack_trace_in_metadata';


const original = {
  captureStackTrace: stackTraceModule.captureStackTrace,
  resolve: stackTokensModule.resolve,
  makeUniqueId: uniqueModule.makeUniqueId,
};
const TOKEN_RESOLVER = new DefaultTokenResolver(new StringConcat());

/**
 * The source of what we replace, as cdktf 0.21.0 ships it (whitespace removed). When a release
 * changes either, `leanTokens` leaves cdktf alone and the adapter test fails.
 */
export const PINNED_INTERNALS: Readonly<Record<'captureStackTrace' | 'stackResolve' | 'prepareStack' | 'stackSynthesizeSha256' | 'uniqueIdModuleSha256', string>> = Object.freeze({
  captureStackTrace: 'functioncaptureStackTrace(below){below=below||captureStackTrace;//hidemyselfifnothingelseconstobject={stack:""};constpreviousLimit=Error.stackTraceLimit;try{Error.stackTraceLimit=Number.MAX_SAFE_INTEGER;Error.captureStackTrace(object,below);}finally{Error.stackTraceLimit=previousLimit;}if(!object.stack){return[];}returnobject.stack.split("\\n").slice(1).map((s)=>s.replace(/^\\s*at\\s+/,""));}',
  stackResolve: 'functionresolve(scope,obj,preparing=false){returntokens_1.Tokenization.resolve(obj,{scope,preparing,resolver:TOKEN_RESOLVER,});}',
  prepareStack: 'prepareStack(){//Ensurewehaveabackendconfiguredthis.ensureBackendExists();//Apreparingresolverunmightaddnewresourcestothestack,e.g.forcrossstackreferences.terraformElements(this).forEach((e)=>(0,_tokens_1.resolve)(this,e.toTerraform(),true));}',
  // StackSynthesizer.synthesize (1.9 KB): it calls `this.stack.toTerraform()` once and writes the
  // result with json-stable-stringify `{ space: 2 }` to the stack manifest's synthesizedStackPath.
  stackSynthesizeSha256: 'de8c7da9c0d47f2092a6c8762d65527f545c70cbb9cf8a395a7a39b1bbd74ca2',
  // cdktf/lib/private/unique.js (makeUniqueId and its helpers), without its source map comment.
  uniqueIdModuleSha256: 'c2d81863f31e0295d2ae6669497e44f67c2046c6a86f5a575611fda0cb24838a',
});

const squeeze = (f: (...args: never[]) => unknown): string => f.toString().replace(/\s+/g, '');

let pinChecked: boolean | undefined;

/** Whether the cdktf in use has the internals this adapter was written against. */
export function internalsMatchPin(): boolean {
  return pinChecked ??= squeeze(original.captureStackTrace) === PINNED_INTERNALS.captureStackTrace
    && squeeze(TerraformStack.prototype.prepareStack) === PINNED_INTERNALS.prepareStack
    && squeeze(original.resolve) === PINNED_INTERNALS.stackResolve
    && typeof privateResolveModule.resolve === 'function'
    && crypto.createHash('sha256').update(squeeze(StackSynthesizer.prototype.synthesize)).digest('hex') === PINNED_INTERNALS.stackSynthesizeSha256
    && uniqueIdModuleSha256() === PINNED_INTERNALS.uniqueIdModuleSha256;
}

/** The hash `PINNED_INTERNALS.uniqueIdModuleSha256` pins. */
export function uniqueIdModuleSha256(): string {
  const source = fs.readFileSync(require.resolve('cdktf/lib/private/unique'), 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
  return crypto.createHash('sha256').update(source.replace(/\s+/g, '')).digest('hex');
}

/** Node 20.12+'s one-shot hash (no Hash object per call); createHash before it. */
const md5Hex: (text: string) => string = typeof (crypto as { hash?: unknown }).hash === 'function'
  ? (text) => (crypto as unknown as { hash: (algorithm: string, data: string, encoding: string) => string }).hash('md5', text, 'hex')
  : (text) => crypto.createHash('md5').update(text).digest('hex');

/**
 * cdktf 0.21's makeUniqueId (cdktf/lib/private/unique.js), step for step: the path components
 * without "Default"; a single one is the id itself if short enough; otherwise a readable part
 * (consecutive repeats and "Resource" left out, characters outside [A-Za-z0-9_-] removed, at
 * most 240 characters) and the first 8 hex digits of the MD5 of the path, upper case.
 */
export function leanMakeUniqueId(components: string[]): string {
  const kept = components.filter((c) => c !== 'Default');
  if (kept.length === 0) return original.makeUniqueId(components); // throws cdktf's own error
  const clean = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '');
  if (kept.length === 1) {
    const candidate = clean(kept[0]);
    if (candidate.length <= 255) return candidate;
  }
  const hash = md5Hex(kept.join('/')).slice(0, 8).toUpperCase();
  const human: string[] = [];
  for (const c of kept) {
    if (human.length === 0 || !human[human.length - 1].endsWith(c)) human.push(c);
  }
  return `${human.filter((c) => c !== 'Resource').map(clean).join('_').slice(0, 240)}_${hash}`;
}

const noStackTrace: CaptureStackTrace = () => [];
let asShipped = false;

/**
 * Called by every construct of this library: when the app asked for no stack traces (and
 * SOVEREIGN_STACK_TOKEN_TRACES is not 1), tokens stop capturing theirs and stacks resolve through
 * the lean walker. The switch is process-wide, as cdktf's capture function is: the last app seen
 * decides. Nothing changes when cdktf's internals differ from the pinned ones.
 */
export function leanTokens(scope: IConstruct): void {
  if (asShipped || !internalsMatchPin()) return;
  const root = scope.node.root;
  const app = App.isApp(root) ? root : undefined;
  const tracesWanted = process.env[TOKEN_TRACES_ENV] === '1' || !app || app.node.tryGetContext(NO_STACK_TRACES_CONTEXT) !== true;
  stackTraceModule.captureStackTrace = tracesWanted ? original.captureStackTrace : noStackTrace;
  stackTokensModule.resolve = leanStackResolve;
  uniqueModule.makeUniqueId = leanMakeUniqueId;
  const stack = TerraformStack.of(scope);
  // Only cdktf's own synthesizer and prepare pass: what a user or a subclass set is theirs.
  if (stack.synthesizer.constructor === StackSynthesizer) stack.synthesizer = new LeanStackSynthesizer(stack, stack.synthesizer);
  if (stack.prepareStack === TerraformStack.prototype.prepareStack) stack.prepareStack = () => leanPrepareStack(stack);
}

/** cdktf's prepare pass, without the resolve that only references between stacks need. */
function leanPrepareStack(stack: TerraformStack): void {
  const stacks = asShipped ? [] : App.of(stack).node.findAll().filter((c) => TerraformStack.isStack(c));
  if (stacks.length !== 1) {
    TerraformStack.prototype.prepareStack.call(stack);
    return;
  }
  stack.ensureBackendExists();
}

/**
 * cdktf's synthesizer, run as shipped, except that the document it would write with
 * json-stable-stringify is written by `stableJson` (the same bytes, ~4x sooner). The stack's
 * `toTerraform` is shadowed for the duration of the call: cdktf writes a stand-in `{}`, which is
 * then replaced by the document. HCL output never asks for the document and is left as written.
 */
class LeanStackSynthesizer implements IStackSynthesizer {
  constructor(private readonly stack: TerraformStack, private readonly shipped: IStackSynthesizer) {}

  public synthesize(session: ISynthesisSession): void {
    if (asShipped) {
      this.shipped.synthesize(session);
      return;
    }
    const stack = this.stack;
    memos.set(stack, new Map());
    try {
      this.synthesizeLean(session);
    } finally {
      memos.delete(stack);
    }
  }

  private synthesizeLean(session: ISynthesisSession): void {
    const stack = this.stack;
    const toTerraform = stack.toTerraform; // the class's, or a subclass's override
    const own = Object.getOwnPropertyDescriptor(stack, 'toTerraform');
    let document: { value: unknown } | undefined;
    stack.toTerraform = () => {
      document = { value: toTerraform.call(stack) };
      return {};
    };
    try {
      this.shipped.synthesize(session);
    } finally {
      if (own) Object.defineProperty(stack, 'toTerraform', own);
      else delete (stack as { toTerraform?: unknown }).toTerraform;
    }
    if (!document) return;
    const { value } = document;
    const file = path.join(session.outdir, session.manifest.forStack(stack).synthesizedStackPath);
    writeToFile(file, (write) => writeStableJson(value, write));
  }
}

/** Bytes gathered before a write to the file. */
const WRITE_CHUNK = 1 << 20;

/**
 * Writes what `produce` hands over, piece by piece, to `file`: each piece is encoded into one
 * reused buffer as it arrives, which goes to a file beside it whenever it fills; that file replaces
 * `file` once complete. If `produce` throws, neither is left: cdktf has already written a stand-in
 * `{}` there, which Terraform would read as "no resources".
 */
function writeToFile(file: string, produce: (write: (piece: string) => void) => void): void {
  const partial = `${file}.${process.pid}.partial`;
  try {
    writeChunks(partial, produce);
    fs.renameSync(partial, file);
  } catch (e) {
    fs.rmSync(partial, { force: true });
    fs.rmSync(file, { force: true });
    throw e;
  }
}

function writeChunks(file: string, produce: (write: (piece: string) => void) => void): void {
  const fd = fs.openSync(file, 'w');
  try {
    const buffer = Buffer.allocUnsafe(WRITE_CHUNK);
    let used = 0;
    const flush = (bytes: Buffer, length: number): void => {
      let written = 0;
      while (written < length) written += fs.writeSync(fd, bytes, written, length - written);
    };
    produce((piece) => {
      // A UTF-16 code unit is at most 3 UTF-8 bytes.
      if (piece.length * 3 > WRITE_CHUNK - used) {
        flush(buffer, used);
        used = 0;
      }
      if (piece.length * 3 > WRITE_CHUNK) {
        const bytes = Buffer.from(piece, 'utf8');
        flush(bytes, bytes.length);
      } else {
        used += buffer.write(piece, used, 'utf8');
      }
    });
    flush(buffer, used);
  } finally {
    fs.closeSync(fd);
  }
}

/** Each stack's memo while it is being synthesized (see `synthesisMemo`). */
const memos = new WeakMap<TerraformStack, Map<unknown, unknown>>();

/**
 * The value `compute` gives for `key`, computed once while `stack` is being synthesized: its
 * validations, custom synthesis and writing run one after the other with nothing changing the
 * construct tree in between, so what one reads there (a datastore's residency findings) holds for
 * the others. Outside a synthesis (or with a synthesizer not ours) it is computed every time.
 */
export function synthesisMemo<T>(stack: TerraformStack, key: object, compute: () => T): T {
  const memo = memos.get(stack);
  if (!memo) return compute();
  if (!memo.has(key)) memo.set(key, compute());
  return memo.get(key) as T;
}

/** Whether token creation stacks are being captured now (for tests and the README's switch). */
export function tokenStackTracesCaptured(): boolean {
  return stackTraceModule.captureStackTrace !== noStackTrace;
}

/**
 * Resolves `obj` as the stack will when it writes cdk.tf.json (through the lean walker when it is
 * in use): for reading an element's final body before synthesis writes it.
 */
export function resolveAsStack(scope: IConstruct, obj: unknown): unknown {
  return stackTokensModule.resolve(scope, obj, false);
}

/** Token numbers are encoded as doubles of magnitude 2^960 and above; nothing we emit comes close. */
const TOKEN_NUMBER_MAGNITUDE = 1e288;
/** A string that may carry a token: a token marker, or a token number written into it. */
const mayHoldToken = (s: string): boolean => s.includes('TfToken[') || s.includes('e+2');
const MAX_DEPTH = 200; // cdktf's own guard against cycles: deeper values go to its resolver, which reports them

/**
 * `resolve(scope, obj, preparing)` as TerraformStack calls it, for plain JSON: values without
 * tokens come back as they are (or copied without `undefined` members, as cdktf does); every value
 * that may hold a token is resolved by cdktf's resolver with the path it would have had.
 */
function leanStackResolve(scope: IConstruct, obj: unknown, preparing = false): unknown {
  if (typeof obj === 'object' && obj !== null && (isSynthesized(obj) || isFinalFragment(obj))) return obj;
  // Where the walk is, as cdktf's path array (pushed and popped; copied only when a token needs it).
  const at: string[] = [];
  const delegate = (value: unknown): unknown =>
    privateResolveModule.resolve(value, { scope, preparing, resolver: TOKEN_RESOLVER, prefix: [...at] });
  const child = (value: unknown, key: string): unknown => {
    at.push(key);
    const r = walk(value);
    at.pop(); // not in a finally: a throw ends this resolve, and `at` with it
    return r;
  };

  const walk = (value: unknown): unknown => {
    switch (typeof value) {
      case 'string': return mayHoldToken(value) ? delegate(value) : value;
      case 'number': return Math.abs(value) >= TOKEN_NUMBER_MAGNITUDE ? delegate(value) : value;
      case 'object': break;
      case 'function': return delegate(value); // cdktf reports it
      default: return value; // undefined, boolean, bigint, symbol
    }
    if (value === null || value instanceof Date) return value;
    if (at.length > MAX_DEPTH) return delegate(value);
    if (Array.isArray(value)) {
      if (value.some((x) => (typeof x === 'string' && x.includes('TfToken[')) || (typeof x === 'number' && Math.abs(x) >= TOKEN_NUMBER_MAGNITUDE))) {
        return delegate(value); // list tokens resolve as a whole list
      }
      // Copied only when something changes; cdktf drops undefined elements.
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const r = child(value[i], String(i));
        if (out === undefined && (r !== value[i] || r === undefined)) out = value.slice(0, i);
        if (out !== undefined && r !== undefined) out.push(r);
      }
      return out ?? value;
    }
    const o = value as Record<string, unknown>;
    if (isSynthesized(o)) return o;
    if (typeof o.resolve === 'function' || isConstruct(o)) return delegate(value);
    const keys = Object.keys(o);
    if (keys.some((k) => k.includes('TfToken['))) return delegate(value);
    // Copied only when something changes; an undefined member must not reach deepMerge, which
    // deletes the key it names from the merged document.
    let out: Record<string, unknown> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const r = child(o[k], k);
      if (out === undefined && (r !== o[k] || r === undefined)) {
        out = {};
        for (let j = 0; j < i; j++) out[keys[j]] = o[keys[j]];
      }
      if (out !== undefined && r !== undefined) out[k] = r;
    }
    return out ?? o;
  };
  return walk(obj);
}

/**
 * What the walk below would return as it is, without setting it up (the stack resolves every
 * element's fragment and metadata): `{}`, or a fragment `{ resource: { <type>: { <id>: body } } }`
 * whose only body is final.
 */
function isFinalFragment(obj: object): boolean {
  let value: unknown = obj;
  for (let depth = 0; depth < 3; depth++) {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    const keys = Object.keys(value as object);
    if (depth === 0 && keys.length === 0) return true; // an element's empty metadata
    if (keys.length !== 1 || (depth === 0 && keys[0] !== 'resource') || keys[0].includes('TfToken[')) return false;
    value = (value as Record<string, unknown>)[keys[0]];
    if (typeof value !== 'object' || value === null) return false;
  }
  return isSynthesized(value as object);
}

/**
 * The `resolve` of a final body: a plain copy, for a resolver that does call it (cdktf's own). One
 * shared function, which also marks the body: no closure and no second hidden property per body.
 */
function finalCopy(this: object): object {
  return { ...this };
}
const isSynthesized = (o: object): boolean => (o as { resolve?: unknown }).resolve === finalCopy;

/**
 * Marks `body`, a resource body that holds no token (plain Terraform JSON), as final, and returns
 * it: the stack's resolve passes return it as it is instead of walking it, and cdktf's merge of
 * the elements' fragments places it by reference instead of copying it (the merge copies every
 * object but the resolvable ones: the body gets a non-enumerable `resolve`, which returns a plain
 * copy for resolvers that do call it). JSON writers see only its enumerable members. With cdktf
 * as shipped (`useCdktfAsShipped(true)`) nothing is marked.
 */
export function markSynthesized<T extends object>(body: T): T {
  if (asShipped || !internalsMatchPin()) return body;
  Object.defineProperty(body, 'resolve', { value: finalCopy, enumerable: false });
  return body;
}

function isConstruct(x: Record<string, unknown>): boolean {
  return x._children !== undefined && x._metadata !== undefined;
}

/**
 * Tests only: `true` puts cdktf's own capture and resolve back and keeps them (to compare the lean
 * output with cdktf's, byte for byte); `false` lets `leanTokens` swap them in again.
 */
export function useCdktfAsShipped(shipped: boolean): void {
  asShipped = shipped;
  if (!shipped) return;
  stackTraceModule.captureStackTrace = original.captureStackTrace;
  stackTokensModule.resolve = original.resolve;
  uniqueModule.makeUniqueId = original.makeUniqueId;
}
