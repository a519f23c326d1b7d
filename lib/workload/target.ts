import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { leanTokens } from '../cdktf-internals';
import { SovereignStackError, parseProps } from '../util/errors';
import { IngressRule, Workload, WorkloadPort, WorkloadProps, WorkloadSchema, servicePortOf } from './workload';
import type { Datastore, PlacementEvidence } from '../residency/datastore';
import { terraformLiterals } from '../util/terraform-literal';
import { recordDatastores } from './record-datastores';
import { isDeepStrictEqual } from 'util';
import { withSchemaDefaults } from '../util/schema-defaults';
import type { RegionRef } from '../residency/region-ref';

/** Options a component passes with its workload. */
export interface DeployOptions {
  /**
   * Where this workload's data lives, when not where the target is (a datastore overriding its
   * location). Checked by the residency guard like any other location.
   * @default the target's location
   */
  readonly location?: RegionRef;
}

/**
 * Where a target actually put a datastore's pods, as the evidence for the residency report: the
 * node labels a Kubernetes pod requires, or the Docker host.
 */
export interface WorkloadPlacement {
  readonly kind: 'kubernetes-node-labels' | 'docker-host';
  /** Kubernetes: label key -> value that every node running the pods must carry. */
  readonly nodeLabels?: Readonly<Record<string, string>>;
  /** Docker: the daemon address, or undefined for the provider's default (the local socket or DOCKER_HOST). */
  readonly dockerHost?: string;
}

/** A workload realized by a target: how to reach it, who may connect, and its raw resources. */
export interface DeployedWorkload {
  /** The workload as the target realized it (strings escaped for Terraform). */
  readonly workload: Workload;
  /** Where the target pins the workload's pods (datastores), when it pins them. */
  readonly placement?: WorkloadPlacement;
  /** Host name that load-balances over the replicas. */
  readonly host: string;
  /** Stable host name of each replica (stateful workloads; empty for stateless). */
  readonly replicaHosts: readonly string[];
  /**
   * The residency records of its persistent volumes. Declare further copies of the data on them
   * (`datastores[0].addLocation('backup', 'upcloud:fi-hel1')`): the guard checks those too.
   */
  readonly datastores: readonly Datastore[];
  /**
   * The provider resources, keyed by role (`statefulSet`, `service`, `container0`, ...): the escape
   * hatch for `addOverride`, `dependsOn`, `lifecycle`. Roles are typed: a misspelt one does not
   * compile.
   */
  readonly resources: WorkloadResources;
  /**
   * How another workload reaches this one's service port: through a Service on Kubernetes (the
   * service port), straight to the container on Docker (the container port).
   */
  endpoint(servicePort: number): { readonly host: string; readonly port: number };
  /**
   * A host name that resolves to every pod (replica) of this workload, and the port to use on
   * each: for clients that balance and health-check per replica themselves.
   */
  podsEndpoint(servicePort: number): { readonly host: string; readonly port: number };
  /** The port public clients use for this service port (public workloads only). */
  publicPort(servicePort: number): number | undefined;
  /** Admits connections from another workload (or the public) on the given ports. */
  allowFrom(from: DeployedWorkload | 'public', ports: number[]): void;
  /**
   * Adds a generated key to one of this workload's generated secrets after construction (a broker
   * user for a service added later). Mounts of that secret show the new key as a file.
   */
  addGeneratedSecretKey(secret: string, key: string, options?: { length?: number }): void;
}

/**
 * How the replicas of a stateful workload will find each other by name, as the target realizes
 * them: what a clustered server (RabbitMQ) configures its peer discovery with, known before deploy.
 */
export interface PeerDiscovery {
  /** Stable host name of each replica, in order (the `replicaHosts` the deployed workload will have). */
  readonly peerHosts: readonly string[];
  /**
   * What follows a replica's own host name (`hostname` inside it) in its stable host name:
   * `.<name>-headless.<namespace>.svc.<cluster domain>` on Kubernetes, `''` on Docker.
   */
  readonly hostSuffix: string;
  /**
   * A registry the replicas can list their peers from at run time: the Kubernetes API's endpoints
   * of the headless Service (the pods need API access to `endpoints`).
   * @default - none: peers use the fixed `peerHosts` list
   */
  readonly kubernetesEndpoints?: {
    /** The headless Service whose endpoints are the replicas. */
    readonly service: string;
    readonly namespace: string;
    readonly clusterDomain: string;
  };
}

/**
 * A realized workload's provider resources by role, as the targets name them. Each target fills
 * the roles it makes; a role that names something carries its name (`secret:<name>`,
 * `cronJob:<name>`, `container<replica>`). There is no catch-all key, so `resources.statefulset`
 * (a typo) is a type error rather than an undefined at synthesis.
 */
export interface WorkloadResources {
  /** Kubernetes: the StatefulSet of a stateful workload (its default child, id `Resource`). @default - none */
  readonly statefulSet?: TerraformResource;
  /** Kubernetes: the Deployment of a stateless workload (its default child, id `Resource`). @default - none */
  readonly deployment?: TerraformResource;
  /** Kubernetes: the Service clients use (workloads with ports). @default - none */
  readonly service?: TerraformResource;
  /** Kubernetes: the headless Service giving each replica a name. @default - none */
  readonly headlessService?: TerraformResource;
  /** Kubernetes: the workload's NetworkPolicy (its ingress and egress edges). @default - none */
  readonly networkPolicy?: TerraformResource;
  /** Kubernetes: the workload's ServiceAccount. @default - none */
  readonly serviceAccount?: TerraformResource;
  /** Kubernetes: the Role of a workload with `apiAccess`. @default - none */
  readonly role?: TerraformResource;
  /** Kubernetes: the RoleBinding of a workload with `apiAccess`. @default - none */
  readonly roleBinding?: TerraformResource;
  /** Kubernetes: the ConfigMap of the config files read at start. @default - none */
  readonly configMap?: TerraformResource;
  /** Kubernetes: the PodDisruptionBudget. @default - none */
  readonly podDisruptionBudget?: TerraformResource;
  /** Kubernetes: the metrics Service (with `metrics.serviceMonitors`). @default - none */
  readonly metricsService?: TerraformResource;
  /** Kubernetes: the ServiceMonitor (with `metrics.serviceMonitors`). @default - none */
  readonly serviceMonitor?: TerraformResource;
  /** Docker: the volume holding the config files and secrets. @default - none */
  readonly files?: TerraformResource;
  /**
   * Roles that carry a name. Kubernetes: `secret:<name>`, `certificate:<name>`, `cronJob:<job>`,
   * `networkPolicy:<job>`. Docker: `container<replica>`, `sidecar-<name>-<replica>`,
   * `volume-<name>-<replica>`, `job-<job>`.
   */
  readonly [role: `secret:${string}` | `certificate:${string}` | `cronJob:${string}` | `networkPolicy:${string}`
    | `container${number}` | `sidecar-${string}` | `volume-${string}` | `job-${string}`]: TerraformResource | undefined;
}

/** Whatever can realize workloads: Kubernetes, Docker, or a target of your own. */
export interface IWorkloadTarget {
  readonly targetKind: string;
  /** Where this target's workloads (and their data) live. */
  readonly location: RegionRef;
  /** A DNS server workloads can query while running (for names that change). */
  readonly dnsResolver: string;
  deploy(scope: Construct, workload: WorkloadProps, options?: DeployOptions): DeployedWorkload;
  /**
   * How the `replicas` of the stateful workload `workloadName` will find each other, before it is
   * deployed. Clustered components (RabbitMQ) need it; a target without it cannot run them.
   */
  peerDiscovery?(workloadName: string, replicas: number): PeerDiscovery;

  /**
   * A workload deployed on this target, by name (workload names are host names: one per target).
   * Components and the reference deployment ask it before creating anything, so a taken name is
   * refused with the prop that chose it, on any target.
   */
  findWorkload(name: string): DeployedWorkload | undefined;
}

/** How an error names a target: its construct path, or its kind for a target that is no construct. */
export function describeTarget(target: IWorkloadTarget): string {
  const path = (target as Partial<Pick<Construct, 'node'>>).node?.path;
  return path ? `target ${path}` : `the ${target.targetKind} target`;
}

/**
 * Base class for targets: validates the workload, keeps names unique, records each persistent
 * volume as a datastore for the residency guard, then hands over to `realize`.
 */
export abstract class WorkloadTarget extends Construct implements IWorkloadTarget {
  public abstract readonly targetKind: string;
  public abstract readonly location: RegionRef;
  public abstract readonly dnsResolver: string;
  private static readonly scopesInUse = new WeakSet<Construct>();
  private static readonly ingressKeys = new WeakMap<IngressRule[], Set<string>>();
  private readonly deployed = new Map<string, DeployedWorkload>();

  constructor(scope: Construct, id: string) {
    super(scope, id);
    leanTokens(this);
    this.node.addValidation({ validate: () => this.undeclaredSecretReferences() });
  }

  public deploy(scope: Construct, props: WorkloadProps, options: DeployOptions = {}): DeployedWorkload {
    // Every string a component or user wrote reaches Terraform literally: `${...}` in a shell script
    // or an env value must not be evaluated on the deployer's machine.
    const workload = terraformLiterals(validatedWorkload(scope, props));
    if (this.deployed.has(workload.name)) {
      throw new SovereignStackError(
        `${scope.node.path}: a workload named "${workload.name}" is already deployed on target ${this.node.path}; ` +
        'workload names must be unique within a target (they become host names)',
      );
    }
    if (WorkloadTarget.scopesInUse.has(scope)) {
      throw new SovereignStackError(
        `${scope.node.path} already holds a workload; deploy each workload from its own construct ` +
        '(its resources take fixed ids such as "Resource" under that scope)',
      );
    }
    WorkloadTarget.scopesInUse.add(scope);
    // Ingress is rendered lazily from this array, so allowFrom() after construction still lands.
    const ingress: IngressRule[] = [...workload.ingress];
    // Residency is the base class's job, so no target can forget it.
    const location = options.location ?? this.location;
    const datastores = recordDatastores(scope, workload, location);
    const realized = this.realize(scope, workload, ingress, location);
    // The guard judges where the synthesized resources put the data, not only what was declared.
    for (const d of datastores) d.bindPlacement(() => this.placementEvidence(realized, location));
    const deployed: DeployedWorkload = { ...realized, datastores };
    this.deployed.set(workload.name, deployed);
    return deployed;
  }

  /** A workload deployed on this target, by name. */
  public findWorkload(name: string): DeployedWorkload | undefined {
    return this.deployed.get(name);
  }

  /** Names of the workloads deployed so far. */
  public get workloadNames(): string[] {
    return [...this.deployed.keys()];
  }

  /**
   * Creates the provider resources for `workload` under `scope`. `ingress` is live: rules added
   * after this call must still reach the output (render it lazily). `location` is where the
   * workload's data lives: a target pins datastore pods there, or refuses the workload.
   */
  protected abstract realize(scope: Construct, workload: Workload, ingress: IngressRule[], location: RegionRef): Omit<DeployedWorkload, 'datastores'>;

  /**
   * Where the synthesized resources of a realized datastore put its data (read at synth, after
   * overrides and aspects), and every way that placement lets the data land outside `location`.
   */
  protected abstract placementEvidence(realized: Omit<DeployedWorkload, 'datastores'>, location: RegionRef): PlacementEvidence;

  /** Every secret a workload reads must be declared by a workload of this target (generated or existing). */
  private undeclaredSecretReferences(): string[] {
    const workloads = [...this.deployed.values()].map((d) => d.workload);
    const declared = new Set(workloads.flatMap((w) => w.secrets.map((s) => s.name)));
    return workloads.flatMap((w) => [
      ...w.env.flatMap((e) => ('secretRef' in e ? [e.secretRef.secret] : [])),
      ...w.secretMounts.map((m) => m.secret),
    ].filter((name) => !declared.has(name)).map((name) =>
      `workload "${w.name}" reads secret "${name}", which no workload on this target declares; ` +
      'add it to a workload\'s `secrets` as { source: \'generated\', ... } or { source: \'existing\', name, keys }'));
  }

  /** The workload port whose service port is `servicePort`, or a clear error. */
  protected static portOf(w: Workload, servicePort: number): WorkloadPort {
    const p = w.ports.find((wp) => servicePortOf(wp) === servicePort);
    if (!p) {
      throw new SovereignStackError(`workload "${w.name}" has no service port ${servicePort} (its ports: ${w.ports.map(servicePortOf).join(', ') || 'none'})`);
    }
    return p;
  }

  /** Adds an ingress rule unless an identical one exists (a set per rule list: a broker has a rule per client). */
  protected static addIngress(ingress: IngressRule[], from: DeployedWorkload | 'public', ports: number[]): void {
    const source = from === 'public' ? 'public' as const : { workload: from.workload.name };
    let keys = WorkloadTarget.ingressKeys.get(ingress);
    if (!keys) WorkloadTarget.ingressKeys.set(ingress, keys = new Set(ingress.map((r) => ingressKey(r.from, r.ports))));
    const key = ingressKey(source, ports);
    if (keys.has(key)) return;
    keys.add(key);
    ingress.push({ from: source, ports: [...ports] });
  }

}

/** Workload props a component of this library built from options it validated (see `builtByComponent`). */
const componentBuilt = new WeakSet<object>();

/**
 * Marks workload props that a component of this library built from its validated options: the
 * target applies the Workload schema's defaults to them without running its checks again (at 500
 * services those checks were ~15 % of a synthesis). Internal to the library's components: props
 * from anywhere else are validated in full. With SOVEREIGN_STACK_CHECK_TRUSTED=1 (the tests) the
 * checks run anyway and must agree.
 */
export function builtByComponent<T extends WorkloadProps>(props: T): T {
  componentBuilt.add(props);
  return props;
}

/** Env switch: validate component-built workloads too, and fail when the fast path disagrees. */
export const CHECK_TRUSTED_ENV = 'SOVEREIGN_STACK_CHECK_TRUSTED';

function validatedWorkload(scope: Construct, props: WorkloadProps): Workload {
  const what = `workload of ${scope.node.path}`;
  if (!componentBuilt.has(props)) return parseProps(WorkloadSchema, props, what);
  const workload = withSchemaDefaults(WorkloadSchema, props);
  if (process.env[CHECK_TRUSTED_ENV] === '1') {
    const parsed = parseProps(WorkloadSchema, props, what);
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(parsed)), JSON.parse(JSON.stringify(workload)))) {
      throw new Error(`${what}: the schema defaults applied without validation differ from the validated workload`);
    }
  }
  return workload;
}

/** Identifies an ingress rule: its source and its ports in any order. */
function ingressKey(from: IngressRule['from'], ports: readonly number[]): string {
  return `${from === 'public' ? 'public' : `workload:${from.workload}`}:${[...ports].sort((a, b) => a - b).join(',')}`;
}
