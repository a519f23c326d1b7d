/**
 * Reads a rendered nginx.conf as nginx does, for tests: the block tree, and what a location
 * actually gets once directive inheritance is applied. The model is nginx's merge rule: a level
 * inherits a directive from the level around it if and only if it sets no directive of that name
 * itself; for array directives (proxy_set_header, limit_req, add_header) all lines of the name
 * come from the one level that sets any of them.
 */

export interface ConfBlock {
  /** The text before "{" ("server", "location /v1/orders"); "" for the main context. */
  readonly header: string;
  /** This block's own directive lines (";" included), in order. */
  readonly directives: string[];
  readonly blocks: ConfBlock[];
  readonly parent?: ConfBlock;
}

export function parseConf(conf: string): ConfBlock {
  const root: ConfBlock = { header: '', directives: [], blocks: [] };
  let current = root;
  for (const raw of conf.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line === '}') {
      if (!current.parent) throw new Error('nginx.conf closes a block it never opened');
      current = current.parent;
    } else if (line.endsWith(' {')) {
      const block: ConfBlock = { header: line.slice(0, -2), directives: [], blocks: [], parent: current };
      current.blocks.push(block);
      current = block;
    } else {
      current.directives.push(line);
    }
  }
  if (current !== root) throw new Error('nginx.conf leaves a block open');
  return root;
}

/** Every block with exactly this header, depth first. */
export function blocksOf(root: ConfBlock, header: string): ConfBlock[] {
  const found: ConfBlock[] = [];
  const walk = (b: ConfBlock) => {
    if (b.header === header) found.push(b);
    b.blocks.forEach(walk);
  };
  walk(root);
  return found;
}

export function directiveName(line: string): string {
  return /^[^ ;]*/.exec(line)![0];
}

/**
 * The directive lines in effect in `block`: for each name, the lines of the innermost level (the
 * block, then each enclosing block up to the main context) that sets any line of that name.
 * `only` keeps the names it accepts. Sorted, so two blocks can be compared whatever the order.
 */
export function effectiveDirectives(block: ConfBlock, only: (name: string) => boolean = () => true): string[] {
  const decided = new Set<string>();
  const lines: string[] = [];
  for (let level: ConfBlock | undefined = block; level; level = level.parent) {
    const here = new Set<string>();
    for (const line of level.directives) {
      const name = directiveName(line);
      if (!only(name) || decided.has(name)) continue;
      here.add(name);
      lines.push(line);
    }
    here.forEach((name) => decided.add(name));
  }
  return lines.sort();
}

/** The directives of a route's location: limit_req and every proxy_* directive (but the http context's proxy_temp_path). */
export const routeDirective = (name: string): boolean => (name.startsWith('proxy_') && name !== 'proxy_temp_path') || name === 'limit_req';

/**
 * What the location with this header gets, in the server that proxies (with TLS, the plain-HTTP
 * server has a `location /` of its own that redirects).
 */
export function effectiveLocation(conf: string, header: string, only: (name: string) => boolean = routeDirective): string[] {
  const proxies = (server: ConfBlock) => server.blocks.some((l) => l.directives.some((d) => d.startsWith('proxy_pass ')));
  const found = blocksOf(parseConf(conf), header).filter((b, _, all) => all.length === 1 || proxies(b.parent!));
  if (found.length !== 1) throw new Error(`expected one block "${header}", found ${found.length} in:\n${conf}`);
  return effectiveDirectives(found[0], only);
}

/**
 * What a route's locations get: the exact one (`= /v1/orders`) and the sub-path one
 * (`/v1/orders/`), which must get the same; "/" has one prefix location. Throws if they differ.
 */
export function effectiveRoute(conf: string, routePath: string, only: (name: string) => boolean = routeDirective): string[] {
  const key = routePath.replace(/\/+$/, '') || '/';
  const [first, ...others] = (key === '/' ? ['location /'] : [`location = ${key}`, `location ${key}/`]).map((h) => ({ h, lines: effectiveLocation(conf, h, only) }));
  for (const o of others) {
    if (o.lines.join('\n') !== first.lines.join('\n')) throw new Error(`"${first.h}" and "${o.h}" differ:\n${first.lines.join('\n')}\n---\n${o.lines.join('\n')}`);
  }
  return first.lines;
}
