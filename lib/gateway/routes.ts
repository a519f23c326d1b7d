/**
 * The gateway's routes: each checked against those already there when it is added, then kept in
 * order. Pure bookkeeping over validated values; no constructs are created here.
 */
import { SovereignStackError, formatIssuePath } from '../util/errors';
import { IWorkloadTarget, describeTarget } from '../workload/target';
import { servicePortOf } from '../workload/workload';
import { TargetTraits, UpstreamNamer, gatewayConfSpec, upstreamSpec } from './conf-spec';
import { HEALTH_PATH } from './defaults';
import { NginxConfSpecSchema, UpstreamServerSchema, nginxName, routeKey } from './nginx-spec';
import type { GatewayRoute } from './props';
import type { ResolvedGatewayOptions } from './schema';

/** A failed check: the route prop to blame and what to say. */
type Fail = (prop: string, message: string) => never;

function failFor(what: string): Fail {
  return (prop, message) => {
    throw new SovereignStackError(`invalid ${what}:\n  - ${what}.${prop}: ${message}`);
  };
}

/**
 * The routes of one gateway, with the upstream each service port gets. `check` refuses a route
 * that cannot be added (naming the route prop); `add` records one that `check` accepted.
 */
export class GatewayRoutes {
  private readonly list: GatewayRoute[] = [];
  private readonly byPath = new Map<string, GatewayRoute>();
  private readonly names = new UpstreamNamer();
  /**
   * Whether the options' part of nginx.conf has been validated with a route: it is the same for
   * every route, so later routes only validate what they add (their upstream).
   */
  private settingsValidated = false;
  /** Whether the worker budget of a route alone was worked out, without and with a zone of its own. */
  private readonly budgetChecked = new Set<boolean>();

  constructor(private readonly options: ResolvedGatewayOptions, private readonly target: IWorkloadTarget) {}

  /** The routes so far, in the order they were added. */
  public get all(): readonly GatewayRoute[] {
    return this.list;
  }

  public get size(): number {
    return this.list.length;
  }

  /** The route with this path, if any (a trailing slash does not matter). */
  public get(path: string): GatewayRoute | undefined {
    return this.byPath.get(routeKey(path));
  }

  /** Records a route `check` accepted. */
  public add(route: GatewayRoute, traits: TargetTraits): void {
    this.names.add(route, traits);
    this.list.push(route);
    this.byPath.set(routeKey(route.path), route);
  }

  /**
   * Validates one route against those already there (and the part of nginx.conf it adds),
   * throwing a SovereignStackError that names the route prop. Nothing is added.
   */
  public check(route: GatewayRoute, what: string, traits: TargetTraits): void {
    const fail = failFor(what);
    this.checkPath(route, fail);
    this.checkService(route, fail);
    this.checkUpstreamName(route, traits, fail);
    this.checkRendered(route, traits, fail);
  }

  private checkPath(route: GatewayRoute, fail: Fail): void {
    const taken = this.get(route.path);
    if (taken) {
      const same = taken.path === route.path ? '' : `the same route as "${taken.path}", a trailing slash changes nothing; `;
      fail('path', `duplicate route path "${route.path}" (${same}already routed to "${taken.service.workload.name}"); each path may be routed once`);
    }
    if (routeKey(route.path) === HEALTH_PATH) fail('path', `is the gateway's health endpoint (${HEALTH_PATH}); pick another path`);
  }

  private checkService(route: GatewayRoute, fail: Fail): void {
    const service = route.service.workload;
    const target = this.target;
    if (target.findWorkload(service.name) !== route.service) {
      fail('service', `"${service.name}" is not deployed on the gateway's ${describeTarget(target)}; deploy the service on the same target`);
    }
    if (!nginxName.safeParse(service.name).success) {
      fail('service', `workload name "${service.name}" must start with a letter to name an nginx upstream; rename the service`);
    }
    const servicePorts = service.ports.map(servicePortOf);
    if (!servicePorts.includes(route.port)) {
      fail('port', `service "${service.name}" has no port ${route.port} (its ports: ${servicePorts.join(', ') || 'none'}); use one of them`);
    }
  }

  /**
   * The upstream this route will have among all routes so far: a second port of a service gets
   * "<service>-<port>", which another service may already be called.
   */
  private checkUpstreamName(route: GatewayRoute, traits: TargetTraits, fail: Fail): void {
    const service = route.service.workload;
    const planned = this.names.peek(route, traits);
    if (!planned.isNew) return;
    const owner = this.names.ownerOf(planned.name);
    if (owner) {
      fail('service', `service "${service.name}" port ${planned.port} would get the nginx upstream name "${planned.name}", which is already ` +
        `the upstream of service "${owner.service}" port ${owner.port}; rename one of the two services`);
    }
    const valid = nginxName.safeParse(planned.name);
    if (!valid.success) {
      fail('service', `service "${service.name}" port ${planned.port} would get the nginx upstream name "${planned.name}", which ` +
        `${valid.error.issues[0].message}; use a shorter service name`);
    }
  }

  /**
   * The route alone, with the gateway's settings: upstream names are checked above and zone names
   * gatewayConfSpec makes unique. The first route validates the whole spec (the options' part
   * included). After it, what a route adds is its path (validated as a route prop), its upstream
   * name (checked above), a zone derived from its validated rate limit, and the address its target
   * gives: only that address is new to nginx, so only the upstream server is validated. Validating
   * the whole spec on every add cost 7 % of a 500-service synth. The worker budget of the route
   * alone (which may refuse a zone the memory limit cannot hold) depends only on whether the route
   * brings a zone, so it is worked out once for each case. A refusal names the prop behind it.
   */
  private checkRendered(route: GatewayRoute, traits: TargetTraits, fail: Fail): void {
    const bringsZone = route.rateLimit !== undefined;
    if (!this.settingsValidated) {
      const result = NginxConfSpecSchema.safeParse(gatewayConfSpec(this.options, traits, [route]));
      if (!result.success) failRendered(route, result.error.issues[0], fail);
      this.settingsValidated = true;
      this.budgetChecked.add(bringsZone);
      return;
    }
    if (!this.budgetChecked.has(bringsZone)) {
      gatewayConfSpec(this.options, traits, [route]);
      this.budgetChecked.add(bringsZone);
    }
    const planned = this.names.peek(route, traits);
    if (!planned.isNew) return;
    const [server] = upstreamSpec(this.options, planned, traits.perPodUpstreams).servers;
    const result = UpstreamServerSchema.safeParse(server);
    if (!result.success) {
      // In the spec of this route alone, its upstream is the first and only one.
      const issue = result.error.issues[0];
      failRendered(route, { ...issue, path: ['upstreams', 0, 'servers', 0, ...issue.path] }, fail);
    }
  }
}

/** Says which route prop a refusal of the rendered spec comes from. */
function failRendered(route: GatewayRoute, issue: { readonly path: readonly PropertyKey[]; readonly message: string }, fail: Fail): never {
  const [head] = issue.path;
  const detail = `${formatIssuePath('nginxConf', issue.path)}: ${issue.message}`;
  if (head === 'routes') fail('path', `nginx cannot use this path: ${issue.message}`);
  if (head === 'upstreams') fail('service', `nginx cannot reach service "${route.service.workload.name}" at the address its target gives (${detail})`);
  if (head === 'resolver') fail('service', `nginx cannot use the target's DNS resolver (${detail}); fix the target's DNS setting`);
  if (head === 'rateLimits') fail('rateLimit', `nginx cannot use this rate limit (${detail})`);
  return fail('path', `the gateway cannot render nginx.conf with this route (${detail})`);
}
