/**
 * Internal validation of NginxGateway props: the zod schemas (bound at compile time to the
 * documented interfaces of props.ts) and the one parse that returns everything the construct
 * derives from them, so nothing is parsed twice and nothing needs a non-null assertion.
 */
import { IConstruct } from 'constructs';
import { z } from 'zod';
import { SovereignStackError } from '../util/errors';
import { SameShape, SchemaMatches } from '../util/schema-binding';
import { cpuToCores, dnsLabel, dnsSubdomain, hostName, imageRef, memoryToMi, port } from '../util/schemas';
import { imageTagVersion, strictVersion } from '../util/versions';
import { parseComponentProps } from '../workload/component-props';
import { exporterOptionsSchema } from '../workload/metrics';
import { DeployedWorkload, IWorkloadTarget } from '../workload/target';
import { ResourcesSchema } from '../workload/workload';
import { TargetTraits, perPodUpstreams } from './conf-spec';
import { DEFAULT_NGINX_EXPORTER_IMAGE, DEFAULT_NGINX_IMAGE, MAX_BURST, UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS } from './defaults';
import { ClientAddressSchema, TimeoutsSchema, nginxSize, routePath } from './nginx-spec';
import {
  GatewayClientAddressOptions, GatewayMetricsOptions, GatewayResources, GatewayRoute, GatewayRouteOptions, GatewayTimeoutsOptions,
  GatewayTlsOptions, NginxGatewayOptions, NginxGatewayProps, RateLimitOptions,
} from './props';

const int = (min: number, max: number, minMessage = `must be at least ${min}`) =>
  z.number().int({ message: 'must be an integer' }).min(min, { message: minMessage }).max(max, { message: `must be at most ${max}` });

/** A rate limit per client address (see {@link RateLimitOptions}). */
export const RateLimitOptionsSchema = z.object({
  perSecond: int(1, 100000).optional(),
  perMinute: int(1, 6000000).optional(),
  burst: int(1, MAX_BURST, 'must be at least 1 (nginx refuses burst=0)').optional(),
  nodelay: z.boolean().default(true),
  scope: z.enum(['per-replica', 'gateway']).default('per-replica'),
}).strict().superRefine((r, ctx) => {
  if ((r.perSecond === undefined) === (r.perMinute === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['perSecond'], message: 'set exactly one of perSecond or perMinute' });
  }
});

const deployedWorkload = z.custom<DeployedWorkload>(
  (v) => typeof v === 'object' && v !== null
    && typeof (v as DeployedWorkload).host === 'string'
    && typeof (v as DeployedWorkload).allowFrom === 'function'
    && typeof (v as DeployedWorkload).workload?.name === 'string',
  { message: 'must be a deployed workload (what `target.deploy()` returns, or a component\'s `workload`)' },
);

/** A path the gateway forwards to a service (see {@link GatewayRouteOptions}). */
export const GatewayRouteSchema = z.object({
  path: routePath,
  service: deployedWorkload,
  port,
  rateLimit: RateLimitOptionsSchema.optional(),
}).strict();

/** TLS termination at the gateway (see {@link GatewayTlsOptions}). */
export const GatewayTlsSchema = z.object({
  secretName: dnsSubdomain,
  publicHttpsPort: port.optional(),
  reloadCheckSeconds: int(1, 86400).default(30),
}).strict();

/** An image reference whose digest, if any, is a whole sha256 digest (a short one is a typo, not a pin). */
const gatewayImage = imageRef.refine((ref) => !ref.includes('@') || /@sha256:[a-f0-9]{64}$/.test(ref), {
  message: 'must pin its digest as "@sha256:" followed by 64 lower-case hex digits (or leave the digest out)',
});

const nginxVersionSchema = strictVersion('an nginx version', '"1.27.3" or "1.27"');

const DEFAULT_RESOURCES = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } };

/** The options object, before the checks across props (see {@link NginxGatewayOptions}). */
const GatewayOptionsObject = z.object({
  name: dnsLabel.max(40, { message: 'must be at most 40 characters' }).default('gateway'),
  serverName: hostName,
  tls: GatewayTlsSchema.optional(),
  clientAddress: ClientAddressSchema.optional(),
  rateLimit: RateLimitOptionsSchema.optional(),
  replicas: int(1, 100).default(2),
  image: gatewayImage.default(DEFAULT_NGINX_IMAGE),
  nginxVersion: nginxVersionSchema.optional(),
  routes: z.array(GatewayRouteSchema).default([]),
  clientMaxBodySize: nginxSize.default('1m'),
  upstreamKeepalive: int(0, 10000).default(32),
  upstreamKeepaliveTimeoutSeconds: int(1, 3600).default(UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS),
  timeouts: TimeoutsSchema.optional(),
  resources: ResourcesSchema.default(DEFAULT_RESOURCES),
  metrics: exporterOptionsSchema(DEFAULT_NGINX_EXPORTER_IMAGE),
}).strict();

type CheckedOptions = z.output<typeof GatewayOptionsObject>;

/** The nginx version the configuration is rendered for: the option, or the image tag's. */
function nginxVersionOf(o: CheckedOptions): string | undefined {
  return o.nginxVersion ?? imageTagVersion(o.image)?.version;
}

/** The checks across props; each names the prop to fix. */
function checkAcrossProps(o: CheckedOptions, ctx: z.RefinementCtx): void {
  // The Kubernetes API refuses a request above its limit.
  if (memoryToMi(o.resources.requests.memory) > memoryToMi(o.resources.limits.memory)) {
    ctx.addIssue({ code: 'custom', path: ['resources', 'requests', 'memory'], message: `must not exceed resources.limits.memory (${o.resources.limits.memory}); Kubernetes refuses a request above the limit` });
  }
  if (o.resources.limits.cpu !== undefined && cpuToCores(o.resources.requests.cpu) > cpuToCores(o.resources.limits.cpu)) {
    ctx.addIssue({ code: 'custom', path: ['resources', 'requests', 'cpu'], message: `must not exceed resources.limits.cpu (${o.resources.limits.cpu}); Kubernetes refuses a request above the limit` });
  }
  if (o.clientAddress?.proxyProtocol && o.clientAddress.trustedProxies.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['clientAddress', 'trustedProxies'], message: 'must list the load balancer\'s address ranges when proxyProtocol is on (such as ["10.0.0.0/8"]); nginx takes the client address from a PROXY header only from them' });
  }
  if (nginxVersionOf(o) === undefined) ctx.addIssue(missingNginxVersion(o));
}

function missingNginxVersion(o: CheckedOptions) {
  return {
    code: 'custom' as const,
    path: ['nginxVersion'],
    input: o.nginxVersion,
    message: `is required because the tag of image "${o.image}" names no version; set nginxVersion (such as "1.27.3") ` +
      `or use a versioned tag (such as "${DEFAULT_NGINX_IMAGE}")`,
  };
}

/**
 * Plain options of an NginxGateway. The output has `nginxVersion` resolved (the option, or the
 * version in the image tag): the transform runs only once every check above has passed.
 */
export const NginxGatewayOptionsSchema = GatewayOptionsObject.superRefine(checkAcrossProps).transform((o, ctx) => {
  const nginxVersion = nginxVersionOf(o);
  if (nginxVersion === undefined) {
    ctx.issues.push(missingNginxVersion(o));
    return z.NEVER;
  }
  return { ...o, nginxVersion };
});

/** The options with every default filled in and `nginxVersion` resolved. */
export type ResolvedGatewayOptions = z.output<typeof NginxGatewayOptionsSchema>;
/** A rate limit with its defaults filled in. */
export type ResolvedRateLimitOptions = z.output<typeof RateLimitOptionsSchema>;

// The documented interfaces and the schemas describe the same props: a difference fails the build.
const _options: SchemaMatches<NginxGatewayOptions, typeof NginxGatewayOptionsSchema> = true;
const _props: SameShape<Omit<NginxGatewayProps, 'target'>, z.input<typeof NginxGatewayOptionsSchema>> = true;
const _route: SchemaMatches<GatewayRouteOptions, typeof GatewayRouteSchema> = true;
const _routeHeld: SameShape<GatewayRoute, z.output<typeof GatewayRouteSchema>> = true;
const _rateLimit: SchemaMatches<RateLimitOptions, typeof RateLimitOptionsSchema> = true;
const _tls: SchemaMatches<GatewayTlsOptions, typeof GatewayTlsSchema> = true;
const _clientAddress: SchemaMatches<GatewayClientAddressOptions, typeof ClientAddressSchema> = true;
const _timeouts: SchemaMatches<GatewayTimeoutsOptions, typeof TimeoutsSchema> = true;
const _resources: SchemaMatches<GatewayResources, typeof ResourcesSchema> = true;
const _metrics: SchemaMatches<GatewayMetricsOptions, ReturnType<ReturnType<typeof exporterOptionsSchema>['unwrap']>> = true;
void [_options, _props, _route, _routeHeld, _rateLimit, _tls, _clientAddress, _timeouts, _resources, _metrics];

/** What NginxGateway's constructor works from: validated once, everything derived. */
export interface ParsedGatewayProps {
  readonly target: IWorkloadTarget;
  readonly options: ResolvedGatewayOptions;
  /** "NginxGateway <path> props": how messages name the props. */
  readonly what: string;
  /** What the nginx.conf depends on besides the options and routes (publicHttpsPort: 443 until deployed). */
  readonly traits: TargetTraits;
}

/**
 * Validates NginxGateway props before anything is created, throwing a SovereignStackError that
 * names each bad prop: the options, the target, and the target's DNS resolver when nginx will
 * re-resolve services through it.
 */
export function parseNginxGatewayProps(scope: IConstruct, id: string, props: NginxGatewayProps): ParsedGatewayProps {
  const { target, options, what } = parseComponentProps('NginxGateway', scope, id, props, NginxGatewayOptionsSchema, { prop: 'name', of: (g) => g.name });
  // The public HTTPS port is known once deployed; 443 stands in for the checks before.
  const traits: TargetTraits = {
    nginxVersion: options.nginxVersion,
    perPodUpstreams: perPodUpstreams(options.nginxVersion),
    publicHttpsPort: options.tls?.publicHttpsPort ?? 443,
    dnsResolver: target.dnsResolver,
  };
  // With one server per pod, nginx re-resolves through the target's DNS: a name nginx cannot use
  // would fail every render later, under a route's name. Say where it comes from now.
  if (traits.perPodUpstreams && !hostName.safeParse(traits.dnsResolver).success) {
    throw new SovereignStackError(`invalid ${what}:\n  - ${what}.target: the target's DNS resolver "${traits.dnsResolver}" is not a host name ` +
      `or IPv4 address nginx can use (nginx ${traits.nginxVersion} re-resolves each service through it); fix the target's DNS setting (KubernetesTarget clusterDns)`);
  }
  return { target, options, what, traits };
}
