import { TerraformResource, TerraformResourceLifecycle, TerraformStack, dependable } from 'cdktf';
import { Construct } from 'constructs';
import { markSynthesized } from '../../cdktf-internals';
import { TerraformJsonBody, plainToJson, providerConfigToJson } from './terraform-json';
import { markCanonical } from '../../util/stable-json';

/** The meta-arguments a provider's config type carries besides the resource's own arguments. */
export type MetaArgumentKey = 'dependsOn' | 'count' | 'provider' | 'lifecycle' | 'forEach' | 'provisioners' | 'connection';

export interface RenderedResourceProps<Config extends object> {
  /** The Terraform resource type, e.g. `kubernetes_stateful_set_v1`. */
  readonly terraformResourceType: string;
  /** The provider's local name (`kubernetes`, `random`): cdktf checks the stack configures it. */
  readonly providerName: string;
  /**
   * The resource's arguments, in the provider class's typed config shape (camelCase), read when the
   * stack is synthesized: so values that change after construction (rules added by `allowFrom`)
   * are read then, and a config file's hash is computed once.
   */
  readonly config: () => Omit<Config, MetaArgumentKey>;
  /** Resources Terraform must create first (`depends_on`). @default - none */
  readonly dependsOn?: TerraformResource[];
  /** Terraform's lifecycle rules (`prevent_destroy`, `ignore_changes`, ...). @default - none */
  readonly lifecycle?: TerraformResourceLifecycle;
}

/**
 * A provider resource rendered straight from its typed config: the same Terraform JSON the
 * provider's class (`StatefulSetV1`, ...) synthesizes, at a fraction of the cost, since it builds
 * none of that class's per-block reference objects and, when the body holds no token, cdktf does
 * not walk or copy it again.
 *
 * It is a plain `TerraformResource`, so the escape hatches work as on any resource: `addOverride`,
 * `dependsOn`, `lifecycle`, `moveTo`, `importFrom`, references through `getStringAttribute` or
 * `fqn`, aspects. Any of those (or a stack override into it) puts it on cdktf's own path
 * (`TerraformResource.toTerraform`), with the same body.
 */
export class RenderedResource<Config extends object = object> extends TerraformResource {
  private readonly config: () => Omit<Config, MetaArgumentKey>;
  private readonly dependencies: readonly TerraformResource[];
  private readonly initialLifecycle?: TerraformResourceLifecycle;
  /** cdktf's dependsOn (one token per dependency), made only when read or set: most never are. */
  private dependsOnTokens?: string[];
  private dependsOnTouched?: boolean;

  constructor(scope: Construct, id: string, props: RenderedResourceProps<Config>) {
    super(scope, id, {
      terraformResourceType: props.terraformResourceType,
      terraformGeneratorMetadata: { providerName: props.providerName },
      lifecycle: props.lifecycle,
    });
    this.config = props.config;
    this.dependencies = [...(props.dependsOn ?? [])];
    this.initialLifecycle = this.lifecycle;
  }

  // `dependsOn` is an accessor (defined below the class): TypeScript does not let a subclass
  // turn the base class's property into one.
  declare public dependsOn?: string[];

  // Reading dependsOn hands out the live array (a caller may push to it): either way the resource
  // leaves the fast path.
  /** @internal the dependsOn accessor's getter */
  protected readDependsOn(): string[] | undefined {
    this.dependsOnTouched = true;
    if (this.dependsOnTokens === undefined && this.dependencies.length > 0) this.dependsOnTokens = this.dependencies.map((d) => dependable(d));
    return this.dependsOnTokens;
  }

  /** @internal the dependsOn accessor's setter */
  protected writeDependsOn(value: string[] | undefined): void {
    this.dependsOnTouched = true;
    this.dependsOnTokens = value;
  }

  /**
   * The typed config the body is rendered from, as the provider's class would take it (without
   * the meta-arguments): for reading what the target rendered. Overrides are not applied here.
   */
  public providerConfig(): Omit<Config, MetaArgumentKey> {
    return this.config();
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return providerConfigToJson(this.config()).json;
  }

  public toTerraform(): any {
    if (!this.onFastPath()) return super.toTerraform();
    // Nothing mutates a body on this path: parts of the config that need no change are its own.
    const body = providerConfigToJson(this.config(), true);
    // The meta-arguments and metadata, as TerraformResource.toTerraform merges them after the
    // body; added in sorted key order ("//" < "depends_on" < "lifecycle"), as mergeSorted needs.
    const meta: Record<string, unknown> = {};
    let { holdsTokens, canonical } = body;
    const add = (key: string, part: TerraformJsonBody): void => {
      meta[key] = part.json;
      holdsTokens ||= part.holdsTokens;
      canonical &&= part.canonical;
    };
    const node = (this.constructNodeMetadata as { metadata: { path: string; uniqueId: string; stackTrace?: unknown } }).metadata;
    if (body.json['//'] === undefined && node.stackTrace === undefined) {
      meta['//'] = { metadata: { path: node.path, uniqueId: node.uniqueId } }; // sorted, token-free, non-empty: canonical
    } else {
      add('//', plainToJson({ ...(body.json['//'] as object | undefined), ...this.constructNodeMetadata }));
    }
    // Addresses of resources (non-empty, token-free).
    if (this.dependencies.length > 0) meta.depends_on = this.dependencies.map((d) => `${d.terraformResourceType}.${d.friendlyUniqueId}`);
    if (this.lifecycle) add('lifecycle', plainToJson(lifecycleJson(this.lifecycle)));
    const attributes = mergeSorted(body.json, meta);
    if (!holdsTokens) {
      markSynthesized(attributes);
      // Keys in sorted order and every member canonical: the writer copies the body out as it is.
      if (canonical) markCanonical(attributes);
    }
    return { resource: fragment(this.terraformResourceType, this.friendlyUniqueId, attributes) };
  }

  /**
   * `${<type>.<id>.<attribute>}`: a reference to one of its attributes as cdk.tf.json writes it
   * within the same stack, as plain text (what `getStringAttribute` resolves to). Read it at
   * synthesis (an overridden logical id changes it); for references across stacks use
   * `getStringAttribute`.
   */
  public referenceText(attribute: string): string {
    return `\${${this.terraformResourceType}.${this.friendlyUniqueId}.${attribute}}`;
  }

  /**
   * The members `keys` of the block at `path` of the body (snake_case names, each step a nested
   * block), rendered from the config without rendering the rest; undefined when the resource is
   * not on its own path (overrides and the like: read its synthesized body instead) or the block
   * holds a token.
   */
  public renderedBlock(path: readonly string[], keys: readonly string[]): { found: boolean; block?: Record<string, unknown> } | undefined {
    if (!this.onFastPath()) return undefined;
    let block: unknown = this.config();
    for (const step of path) {
      block = firstBlock((block as Record<string, unknown> | undefined)?.[camelCase(step)]);
      if (block === undefined || block === null) return { found: false };
      if (typeof block !== 'object' || typeof (block as { resolve?: unknown }).resolve === 'function') return undefined;
    }
    const picked = Object.fromEntries(keys.map((k) => [camelCase(k), (block as Record<string, unknown>)[camelCase(k)]]));
    const { json, holdsTokens } = providerConfigToJson(picked);
    return holdsTokens ? undefined : { found: true, block: json };
  }

  /**
   * Whether nothing but our own config and meta-arguments shapes the body: no overrides (of the
   * resource or into it from the stack), no changed dependsOn or lifecycle, no count, for_each,
   * provider, provisioners, connection, move or import.
   */
  private onFastPath(): boolean {
    const self = this as unknown as { _imported?: unknown; _hasMoved?: boolean; rawOverrides: Record<string, unknown> };
    if (Object.keys(self.rawOverrides).length > 0 || self._imported || self._hasMoved || this.hasResourceMove()) return false;
    if (this.count !== undefined || this.forEach || this.provider || this.provisioners?.length || this.connection) return false;
    if (this.dependsOnTouched) return false;
    if (this.lifecycle !== this.initialLifecycle || (this.lifecycle && !plainLifecycle(this.lifecycle))) return false;
    const stackOverrides = (TerraformStack.of(this) as unknown as { rawOverrides: { resource?: Record<string, unknown> } }).rawOverrides;
    return !stackOverrides.resource?.[this.terraformResourceType];
  }
}

/**
 * `{ <type>: { <id>: body } }` from objects without a prototype: an object literal keyed by each
 * resource's unique id made V8 build a new hidden class per resource (~40 ms at 9,000 resources).
 * cdktf merges the fragment into its own plain objects, so none of these reach the document.
 */
function fragment(type: string, id: string, body: object): Record<string, unknown> {
  const byId = Object.create(null) as Record<string, unknown>;
  byId[id] = body;
  const byType = Object.create(null) as Record<string, unknown>;
  byType[type] = byId;
  return byType;
}

/** `body`'s members and `extra`'s (which win), inserted in sorted key order (both are sorted). */
function mergeSorted(body: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const a = Object.keys(body);
  const b = Object.keys(extra);
  const out: Record<string, unknown> = {};
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) {
      out[a[i]] = body[a[i]];
      i++;
    } else {
      if (a[i] === b[j]) i++;
      out[b[j]] = extra[b[j]];
      j++;
    }
  }
  return out;
}

/** As on any TerraformResource: the dependencies as `dependable` tokens; assign to change them. */
Object.defineProperty(RenderedResource.prototype, 'dependsOn', {
  configurable: true,
  enumerable: true,
  get(this: RenderedResource) { return (this as unknown as DependsOnAccess).readDependsOn(); },
  set(this: RenderedResource, value: string[] | undefined) { (this as unknown as DependsOnAccess).writeDependsOn(value); },
});

interface DependsOnAccess {
  readDependsOn(): string[] | undefined;
  writeDependsOn(value: string[] | undefined): void;
}

const camelCase = (snake: string): string => snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** A nested block is an object, or a one-element list of one. */
function firstBlock(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

/** A lifecycle of plain values only (what lifecycleJson writes as cdktf would). */
function plainLifecycle(l: TerraformResourceLifecycle): boolean {
  return Object.keys(l).every((k) => k === 'preventDestroy' || k === 'createBeforeDestroy' || k === 'ignoreChanges')
    && (l.ignoreChanges === undefined || l.ignoreChanges === 'all' || (Array.isArray(l.ignoreChanges) && l.ignoreChanges.every((x) => typeof x === 'string' && !x.includes('TfToken['))));
}

/** cdktf's lifecycleToTerraform + keysToSnakeCase for a plain lifecycle; undefined members dropped, as the merge does. */
function lifecycleJson(l: TerraformResourceLifecycle): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (l.createBeforeDestroy !== undefined) out.create_before_destroy = l.createBeforeDestroy;
  if (l.ignoreChanges !== undefined) out.ignore_changes = l.ignoreChanges;
  if (l.preventDestroy !== undefined) out.prevent_destroy = l.preventDestroy;
  return out;
}

/**
 * A RenderedResource of type `terraformResourceType` from a provider class's full config (what
 * `new StatefulSetV1(scope, id, config)` takes): the meta-arguments go to the resource, the rest is
 * its body. Pass `config` as a function for a body read at synthesis.
 */
export function renderedResource<Config extends { dependsOn?: unknown; lifecycle?: TerraformResourceLifecycle }>(
  scope: Construct, id: string, terraformResourceType: string, config: Config,
): RenderedResource<Config>;
/** The same, with the meta-arguments given now and the body read at synthesis. */
export function renderedResource<Config extends { dependsOn?: unknown; lifecycle?: TerraformResourceLifecycle }>(
  scope: Construct, id: string, terraformResourceType: string,
  meta: Pick<Config, 'dependsOn' | 'lifecycle'>, body: () => Omit<Config, MetaArgumentKey>,
): RenderedResource<Config>;
export function renderedResource<Config extends { dependsOn?: unknown; lifecycle?: TerraformResourceLifecycle }>(
  scope: Construct, id: string, terraformResourceType: string,
  config: Config, body?: () => Omit<Config, MetaArgumentKey>,
): RenderedResource<Config> {
  const { dependsOn, lifecycle, ...args } = config;
  return new RenderedResource<Config>(scope, id, {
    terraformResourceType,
    providerName: terraformResourceType.slice(0, terraformResourceType.indexOf('_')),
    config: body ?? (() => args as Omit<Config, MetaArgumentKey>),
    dependsOn: dependsOn as TerraformResource[] | undefined,
    lifecycle,
  });
}
