/**
 * The renderer's input for a gateway: its validated options and routes turned into an
 * `NginxConfSpec`, with the rule that names each service's upstream. Pure: no constructs.
 */
import { SovereignStackError } from '../util/errors';
import { coerceVersion, semver } from '../util/versions';
import {
  DEFAULT_ZONE, GATEWAY_RESOLVER_VALID_SECONDS, HEALTH_CONTAINER_PORT, HEALTH_PATH, HTTPS_CONTAINER_PORT, HTTP_CONTAINER_PORT,
  MAX_BURST, NGINX_STUB_STATUS_PORT, RATE_LIMIT_ZONE_MI, RUNTIME_DIR, TLS_DIR, UPSTREAM_ZONE_KI, WORKER_CONNECTIONS,
} from './defaults';
import { NginxConfSpec, RESOLVE_SINCE } from './nginx-spec';
import type { GatewayRoute, ResolvedRateLimit } from './props';
import type { ResolvedGatewayOptions } from './schema';
import { gatewayWorkerBudget } from './worker-budget';

/** What the rendered configuration depends on besides the options and routes. */
export interface TargetTraits {
  readonly nginxVersion: string;
  /** One server per pod, re-resolved through `dnsResolver` (see {@link perPodUpstreams}); derived once from the version. */
  readonly perPodUpstreams: boolean;
  /** The HTTPS port clients see (HTTP -> HTTPS redirects). */
  readonly publicHttpsPort: number;
  /** DNS server for upstreams re-resolved while running. */
  readonly dnsResolver: string;
}

export type SpecUpstream = NonNullable<NginxConfSpec['upstreams']>[number];
export type SpecRateLimit = NonNullable<NginxConfSpec['rateLimits']>[number];
type SpecRoute = NginxConfSpec['routes'][number];

/** True when this nginx gets one server per pod, re-resolved through the target's DNS. */
export function perPodUpstreams(nginxVersion: string): boolean {
  return semver.gte(coerceVersion(nginxVersion), RESOLVE_SINCE);
}

/** The address nginx connects to for a route: every pod (re-resolved), or the Service. */
function endpointOf(route: GatewayRoute, perPod: boolean): { readonly host: string; readonly port: number } {
  return perPod ? route.service.podsEndpoint(route.port) : route.service.endpoint(route.port);
}

/** Where an upstream's name comes from: a service's port. */
export interface PlannedUpstream {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly key: string;
  /** True when no route so far has this service and port. */
  readonly isNew: boolean;
}

/**
 * Names the upstream of each service and port, in route order: the service's name, and
 * "<service>-<port>" for a second port of the same service. gatewayConfSpec and addRoute use this
 * one rule, so what addRoute checks is what gets rendered.
 */
export class UpstreamNamer {
  private readonly byKey = new Map<string, string>();
  private readonly owners = new Map<string, { service: string; port: number }>();

  /** The upstream `route` gets after the routes added so far. */
  public peek(route: GatewayRoute, t: Pick<TargetTraits, 'perPodUpstreams'>): PlannedUpstream {
    const service = route.service.workload;
    const endpoint = endpointOf(route, t.perPodUpstreams);
    const key = `${service.name}:${endpoint.port}`;
    const known = this.byKey.get(key);
    if (known) return { name: known, host: endpoint.host, port: endpoint.port, key, isNew: false };
    const name = this.owners.has(service.name) ? `${service.name}-${endpoint.port}` : service.name;
    return { name, host: endpoint.host, port: endpoint.port, key, isNew: true };
  }

  /** Who already has upstream `name`. */
  public ownerOf(name: string): { service: string; port: number } | undefined {
    return this.owners.get(name);
  }

  /** Records the upstream of `route` (see {@link peek}) and returns it. */
  public add(route: GatewayRoute, t: Pick<TargetTraits, 'perPodUpstreams'>): PlannedUpstream {
    const planned = this.peek(route, t);
    if (planned.isNew) {
      this.byKey.set(planned.key, planned.name);
      this.owners.set(planned.name, { service: route.service.workload.name, port: planned.port });
    }
    return planned;
  }
}

/** The `upstream` block of a service port, before the worker budget caps its keepalive. */
export function upstreamSpec(o: ResolvedGatewayOptions, planned: PlannedUpstream, perPod: boolean): SpecUpstream {
  return {
    name: planned.name,
    servers: [{ host: planned.host, port: planned.port, maxFails: 3, failTimeoutSeconds: 10, resolve: perPod }],
    keepalive: o.upstreamKeepalive,
    keepaliveTimeoutSeconds: o.upstreamKeepaliveTimeoutSeconds,
  };
}

/** The upstreams, rate-limit zones and routes of the spec, in route order. */
function routing(o: ResolvedGatewayOptions, t: TargetTraits, routes: readonly GatewayRoute[]) {
  const upstreams: SpecUpstream[] = [];
  const rateLimits: SpecRateLimit[] = [];
  if (o.rateLimit) rateLimits.push(rateLimitZone(DEFAULT_ZONE, o.rateLimit, o.replicas));
  const zoneNames = new Set(rateLimits.map((r) => r.name));
  // From nginx 1.27.3, one server per pod (a name resolving to every pod, re-resolved while
  // running): max_fails can then take a failing pod out. Before, the Service address: nginx never
  // marks the only server of a group down, so the passive health check cannot trip there.
  const perPod = t.perPodUpstreams;
  const namer = new UpstreamNamer();
  const specRoutes = routes.map((route): SpecRoute => {
    // One upstream per service; a second port of the same service gets a suffixed name.
    const planned = namer.add(route, t);
    if (planned.isNew) upstreams.push(upstreamSpec(o, planned, perPod));
    let rateLimit: string | undefined;
    if (route.rateLimit) {
      rateLimit = uniqueName(routeZoneName(route.path), zoneNames);
      zoneNames.add(rateLimit);
      rateLimits.push(rateLimitZone(rateLimit, route.rateLimit, o.replicas));
    }
    return { path: route.path, upstream: planned.name, rateLimit };
  });
  return { upstreams, rateLimits, routes: specRoutes, perPod };
}

/** The renderer's input for the gateway options and routes. Pure. */
export function gatewayConfSpec(o: ResolvedGatewayOptions, t: TargetTraits, routes: readonly GatewayRoute[]): NginxConfSpec {
  const r = routing(o, t, routes);
  // Workers from the CPU request, connections from the memory limit, and the services' idle
  // keepalive connections within what a worker can hold (see gatewayWorkerBudget).
  const budget = gatewayWorkerBudget({
    cpuRequest: o.resources.requests.cpu,
    cpuLimit: o.resources.limits.cpu,
    memoryLimit: o.resources.limits.memory,
    maxWorkerConnections: WORKER_CONNECTIONS,
    sharedZonesMi: r.rateLimits.length * RATE_LIMIT_ZONE_MI + r.upstreams.length * (UPSTREAM_ZONE_KI / 1024),
    tls: o.tls !== undefined,
    upstreamKeepalive: o.upstreamKeepalive,
    upstreams: r.upstreams.length,
  });
  for (const u of r.upstreams) u.keepalive = budget.upstreamKeepalive;
  return {
    nginxVersion: t.nginxVersion,
    workerProcesses: budget.workerProcesses,
    workerConnections: budget.workerConnections,
    ...serverSettings(o, t),
    resolver: r.perPod && r.upstreams.length > 0 ? { addresses: [t.dnsResolver], validSeconds: GATEWAY_RESOLVER_VALID_SECONDS } : undefined,
    clientMaxBodySize: o.clientMaxBodySize,
    healthPath: HEALTH_PATH,
    clientAddress: o.clientAddress,
    healthPort: o.clientAddress?.proxyProtocol ? HEALTH_CONTAINER_PORT : undefined,
    rateLimits: r.rateLimits,
    defaultRateLimit: o.rateLimit ? DEFAULT_ZONE : undefined,
    upstreams: r.upstreams,
    routes: r.routes,
    timeouts: o.timeouts,
  };
}

/** Listeners, TLS files and where nginx writes: fixed by the image and the options. */
function serverSettings(o: ResolvedGatewayOptions, t: TargetTraits) {
  return {
    serverName: o.serverName,
    httpPort: HTTP_CONTAINER_PORT,
    httpsPort: HTTPS_CONTAINER_PORT,
    tls: o.tls
      ? { certificatePath: `${TLS_DIR}/tls.crt`, keyPath: `${TLS_DIR}/tls.key`, publicHttpsPort: t.publicHttpsPort }
      : undefined,
    runtimeDir: RUNTIME_DIR,
    stubStatusPort: o.metrics.enabled ? NGINX_STUB_STATUS_PORT : undefined,
    // Container logs go to the runtime's log collection, not a file inside the pod.
    errorLogPath: '/dev/stderr',
  };
}

/** nginx `limit_req_zone` for a rate limit, divided over the replicas when its scope is the gateway. */
export function rateLimitZone(name: string, limit: ResolvedRateLimit, replicas: number): SpecRateLimit {
  const share = (n: number) => (limit.scope === 'gateway' ? Math.ceil(n / replicas) : n);
  const rate = limit.perSecond ?? limit.perMinute;
  // The schema admits exactly one of the two; a limit built around it says so here.
  if (rate === undefined) throw new SovereignStackError('a rate limit needs perSecond or perMinute: set exactly one of them');
  const burst = limit.burst ?? Math.min(2 * rate, MAX_BURST);
  return {
    name,
    ...(limit.perSecond !== undefined ? { ratePerSecond: share(limit.perSecond) } : { ratePerMinute: share(rate) }),
    burst: share(burst),
    nodelay: limit.nodelay,
  };
}

/** "/v1/Orders.json" -> "route-v1-orders-json" (an nginx zone name). */
function routeZoneName(path: string): string {
  const slug = path.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'root';
  return `route-${slug}`.slice(0, 56).replace(/-+$/, '');
}

function uniqueName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  let i = 2;
  while (taken.has(`${base}-${i}`)) i++;
  return `${base}-${i}`;
}
