/**
 * Terraform reads every string in cdk.tf.json as a template: `${...}` is an interpolation and
 * `%{...}` a directive, evaluated on the deployer's machine. Text we emit (rendered config files,
 * shell scripts, env values, user strings) must reach the resource literally, so each literal
 * `${` is written `$${` and each `%{` is written `%%{`. References we mean are cdktf tokens and
 * stay untouched.
 */
import { IResolvable, IResolveContext, Lazy, LazyBase, Token, Tokenization } from 'cdktf';

/** Escapes plain text (no tokens) for a Terraform JSON string. */
export function escapeTemplateText(text: string): string {
  // A replacer function: in a replacement string "$$" would itself mean "$".
  return text.replace(/([$%])\{/g, (_, sigil: string) => `${sigil}${sigil}{`);
}

/**
 * Escapes every literal `${` / `%{` in `value`, token-aware: references (`${random_password...}`)
 * stay references. A lazy token is escaped when it resolves, so content produced at synth (a
 * rendered nginx.conf with routes added later) is escaped too.
 */
export function terraformLiteral(value: string): string {
  // Neither `${`, `%{` nor a token marker (`${TfToken[...]}`) without a brace: most strings.
  if (!value.includes('{')) return value;
  if (!Token.isUnresolved(value)) return escapeTemplateText(value);
  // `fragments` is not public API but is the only way to see literals and tokens in order.
  const fragments = (Tokenization.reverseString(value) as unknown as { fragments: Fragment[] }).fragments;
  return fragments.map((f) => {
    switch (f.type) {
      case 'literal': return escapeTemplateText(f.lit);
      case 'token': return f.token instanceof LazyBase ? escapedLazy(f.token) : Token.asString(f.token);
      // cdktf's own escapes around nested expressions: leave them to cdktf.
      case 'escape': return f.kind === 'open' ? '${' : '}';
      default: return String(f.value);
    }
  }).join('');
}

/** Applies {@link terraformLiteral} to every string inside a plain object or array. */
export function terraformLiterals<T>(value: T): T {
  if (typeof value === 'string') return terraformLiteral(value) as T;
  if (Array.isArray(value)) {
    // Copied only when an element changes.
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const r = terraformLiterals(value[i]);
      if (out === undefined && r !== value[i]) out = value.slice(0, i);
      if (out !== undefined) out.push(r);
    }
    return (out ?? value) as T;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    let out: Record<string, unknown> | undefined;
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const v = (value as Record<string, unknown>)[keys[i]];
      const r = terraformLiterals(v);
      if (out === undefined && r !== v) {
        out = {};
        for (let j = 0; j < i; j++) out[keys[j]] = (value as Record<string, unknown>)[keys[j]];
      }
      if (out !== undefined) out[keys[i]] = r;
    }
    return (out ?? value) as T;
  }
  return value;
}

type Fragment =
  | { type: 'literal'; lit: string }
  | { type: 'token'; token: IResolvable }
  | { type: 'escape'; kind: 'open' | 'close' }
  | { type: 'intrinsic'; value: unknown };

function escapedLazy(token: IResolvable): string {
  return Lazy.stringValue({
    produce: (ctx: IResolveContext) => {
      const produced: unknown = token.resolve(ctx);
      return typeof produced === 'string' ? terraformLiteral(produced) : produced as string;
    },
  });
}
