import { TerraformResource, TerraformStack } from 'cdktf';
import { resolveAsStack } from '../../cdktf-internals';
import { Construct } from 'constructs';
import type { ConfigMapV1Config } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import type { CronJobV1Config } from '@cdktf/provider-kubernetes/lib/cron-job-v1';
import type { DeploymentV1Config } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import type { NamespaceV1Config } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import type { NetworkPolicyV1Config, NetworkPolicyV1SpecEgress, NetworkPolicyV1SpecIngress } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import type { PodDisruptionBudgetV1Config } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import type { RoleBindingV1Config } from '@cdktf/provider-kubernetes/lib/role-binding-v1';
import type { RoleV1Config } from '@cdktf/provider-kubernetes/lib/role-v1';
import type { SecretV1Config } from '@cdktf/provider-kubernetes/lib/secret-v1';
import type { ServiceAccountV1Config } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import type { ServiceV1Config } from '@cdktf/provider-kubernetes/lib/service-v1';
import type { StatefulSetV1Config } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import type { StorageClassV1Config } from '@cdktf/provider-kubernetes/lib/storage-class-v1';
import { z } from 'zod';
import type { PlacementEvidence } from '../../residency/datastore';
import { ResidencyGuard } from '../../residency/residency-guard';
import { RegionRef, RegionRefSchema, regionId, resolveRegionRef } from '../../residency/region-ref';
import { SovereignStackError, parseProps, requireProps } from '../../util/errors';
import type { SchemaMatches } from '../../util/schema-binding';
import { dnsLabel, dnsSubdomain, port } from '../../util/schemas';
import { terraformLiterals } from '../../util/terraform-literal';
import { DeployedWorkload, WorkloadTarget } from '../../workload/target';
import type { PeerDiscovery } from '../../workload/target';
import { IngressRule, ScheduledJob, Workload, metricsEndpointOf, retainsData, servicePortOf } from '../../workload/workload';
import { configHashNow } from '../common/config-hash';
import { asList, synthesizedBlock } from '../common/synthesized';
import { RenderedResource, renderedResource } from '../common/rendered-resource';
import { generatePassword, generatePasswords, generatedSecretOf } from '../common/generated-secrets';
import type { KubernetesTargetOptions, KubernetesTargetProps } from './kubernetes-target-props';

// The documented props live in kubernetes-target-props.ts; importable from here as before.
export type * from './kubernetes-target-props';
import { CsiProvisionerTopology, provisionerTopology } from './csi-provisioners';
import { PodTemplate, REGION_LABEL, configKey, liveConfigMapName, podTemplate, scheduledJobPodSpec } from './pod-template';

/**
 * Node labels our datastore pods require besides the region. They use the
 * `node-restriction.kubernetes.io/` prefix, which the NodeRestriction admission plugin forbids a
 * kubelet to set on its own Node: only a cluster administrator can declare a machine a KVM host
 * with NVMe disks, so a compromised node cannot attract a database.
 */
export const DEFAULT_DATASTORE_NODE_LABELS: Readonly<Record<string, string>> = Object.freeze({
  'node-restriction.kubernetes.io/sovereign-stack-hypervisor': 'kvm',
  'node-restriction.kubernetes.io/sovereign-stack-disk': 'nvme',
});

/**
 * Node labels whose value must be the region's label for a datastore pod to run there. The
 * well-known key is set by the cloud controller (and may be set by a kubelet itself); the
 * `node-restriction.kubernetes.io/` one only by an administrator.
 */
export const DEFAULT_REGION_NODE_LABEL_KEYS: readonly string[] = Object.freeze([
  REGION_LABEL,
  'node-restriction.kubernetes.io/sovereign-stack-region',
]);

/** TopoLVM carves volumes from the node's local NVMe volume group. */
export const DEFAULT_NVME_PROVISIONER = 'topolvm.io';
export const DEFAULT_NVME_PARAMETERS: Readonly<Record<string, string>> = Object.freeze({
  'topolvm.io/device-class': 'nvme',
  'csi.storage.k8s.io/fstype': 'xfs',
});

const labelKey = z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, {
  message: 'must be a label key such as "node-restriction.kubernetes.io/disk"',
});
const labelMap = z.record(labelKey, z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, { message: 'must be a label value' }));
/** A Go duration as Terraform timeouts take it: "10m", "1h30m". */
const duration = z.string().regex(/^([0-9]+h)?([0-9]+m)?([0-9]+s)?$/, { message: 'must be a duration such as "10m" or "1h30m"' })
  .refine((d) => d.length > 0, { message: 'must be a duration such as "10m"' });

const KubernetesStorageOptionsSchema = z.object({
  /** Use this StorageClass instead of creating one (it must be NVMe-backed and Retain). @default - create one */
  existingStorageClassName: dnsSubdomain.optional(),
  /** Name of the StorageClass we create. @default 'nvme-retain' */
  storageClassName: dnsSubdomain.default('nvme-retain'),
  /** CSI provisioner of the NVMe class (TopoLVM carves volumes from the node's local NVMe). @default 'topolvm.io' */
  provisioner: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: 'must be a CSI driver name such as "topolvm.io"' }).default(DEFAULT_NVME_PROVISIONER),
  /** Provisioner parameters. @default { 'topolvm.io/device-class': 'nvme', 'csi.storage.k8s.io/fstype': 'xfs' } */
  parameters: z.record(z.string().min(1), z.string()).default({ ...DEFAULT_NVME_PARAMETERS }),
  /**
   * The topology keys a provisioner outside `CSI_PROVISIONERS` reports (its CSINode
   * `topologyKeys`), and which of them carries the region. Only these may appear in the class's
   * `allowedTopologies`.
   * @default - the table's entry; none for an unknown provisioner (no allowedTopologies)
   */
  topology: z.object({
    topologyKeys: z.array(labelKey).min(1),
    regionKey: labelKey.optional(),
  }).strict().refine((t) => t.regionKey === undefined || t.topologyKeys.includes(t.regionKey), {
    message: 'regionKey must be one of topologyKeys', path: ['regionKey'],
  }).optional(),
}).strict();

/** Where the cluster DNS pods run, for the egress rule every pod needs. */
const DnsPodsSchema = z.object({
  /** @default 'kube-system' */
  namespace: dnsLabel.default('kube-system'),
  /** @default { 'k8s-app': 'kube-dns' } (CoreDNS in kubeadm, k3s, RKE2) */
  podLabels: labelMap.default({ 'k8s-app': 'kube-dns' }),
  /** Ports the DNS pods listen on (OpenShift: 5353). @default [53] */
  ports: z.array(port).min(1).default([53]),
}).strict();

/** The Prometheus pods of kube-prometheus and kube-prometheus-stack carry this label, in "monitoring". */
export const DEFAULT_SCRAPER = Object.freeze({ namespace: 'monitoring', podLabels: Object.freeze({ 'app.kubernetes.io/name': 'prometheus' }) });

/** How Prometheus finds and reaches the workloads' metrics endpoints. */
const MetricsOptionsSchema = z.object({
  /**
   * The Prometheus pods that scrape: each workload's network policy admits them on exactly its
   * metrics port.
   * @default { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } }
   */
  scraper: z.object({
    /** @default 'monitoring' */
    namespace: dnsLabel.default(DEFAULT_SCRAPER.namespace),
    /** @default { 'app.kubernetes.io/name': 'prometheus' } */
    podLabels: labelMap.default({ ...DEFAULT_SCRAPER.podLabels }),
  }).strict().default({ namespace: DEFAULT_SCRAPER.namespace, podLabels: { ...DEFAULT_SCRAPER.podLabels } }),
  /** `prometheus.io/scrape`, `prometheus.io/port` and `prometheus.io/path` pod annotations. @default true */
  annotations: z.boolean().default(true),
  /**
   * A ServiceMonitor (Prometheus operator) per workload with metrics, selecting a headless
   * `<workload>-metrics` Service whose port is named `metrics`. The CRD must exist at plan time.
   * @default false
   */
  serviceMonitors: z.boolean().default(false),
  /** Labels on each ServiceMonitor (what the Prometheus resource's serviceMonitorSelector matches, e.g. { release: 'kube-prometheus-stack' }). @default {} */
  serviceMonitorLabels: labelMap.default({}),
}).strict();

export const KubernetesTargetOptionsSchema = z.object({
  /** Namespace of every object. @default 'platform' */
  namespace: dnsLabel.default('platform'),
  /** Create the namespace; false when it exists already. @default true */
  createNamespace: z.boolean().default(true),
  /** kubeconfig path for the provider. @default - the provider's own default (KUBE_CONFIG_PATH) */
  configPath: z.string().min(1).optional(),
  /** kubeconfig context. @default - the current context */
  configContext: z.string().min(1).optional(),
  /**
   * Node labels that datastore pods REQUIRE besides the region labels.
   * @default { 'node-restriction.kubernetes.io/sovereign-stack-hypervisor': 'kvm', 'node-restriction.kubernetes.io/sovereign-stack-disk': 'nvme' }
   */
  datastoreNodeLabels: labelMap.default({ ...DEFAULT_DATASTORE_NODE_LABELS }),
  /**
   * Node label keys whose value must be the region's `kubernetesRegionLabel` for a datastore pod.
   * @default ['topology.kubernetes.io/region', 'node-restriction.kubernetes.io/sovereign-stack-region']
   */
  regionNodeLabelKeys: z.array(labelKey).min(1, { message: 'must name at least one node label: datastores are pinned to their region' })
    .default([...DEFAULT_REGION_NODE_LABEL_KEYS]),
  /** The NVMe StorageClass. @default - create 'nvme-retain' with TopoLVM */
  storage: KubernetesStorageOptionsSchema.default({ storageClassName: 'nvme-retain', provisioner: DEFAULT_NVME_PROVISIONER, parameters: { ...DEFAULT_NVME_PARAMETERS } }),
  /** `app.kubernetes.io/part-of` on every object. @default 'sovereign-stack' */
  partOf: dnsLabel.default('sovereign-stack'),
  /** The cluster's DNS domain (kubelet `clusterDomain`). @default 'cluster.local' */
  clusterDomain: dnsSubdomain.default('cluster.local'),
  /**
   * The cluster DNS Service, for clients that resolve while running (the gateway's upstreams).
   * RKE2: 'rke2-coredns-rke2-coredns.kube-system.svc.<domain>'; OpenShift: 'dns-default.openshift-dns.svc.<domain>'.
   * @default 'kube-dns.kube-system.svc.<clusterDomain>' (CoreDNS keeps that Service name)
   */
  clusterDns: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: 'must be a DNS name or IPv4 address' }).optional(),
  /** The DNS pods every pod may send queries to (the only egress allowed to all). @default kube-system pods labelled k8s-app=kube-dns, port 53 */
  clusterDnsPods: DnsPodsSchema.default({ namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' }, ports: [53] }),
  /**
   * Where workloads with API access (RabbitMQ peer discovery) reach the API server: its endpoint
   * addresses (not the Service IP: policies see the address after DNAT) and ports.
   * @default { cidrs: ['0.0.0.0/0'], ports: [443, 6443] } (narrow cidrs to your control plane)
   */
  apiServer: z.object({
    cidrs: z.array(z.cidrv4({ message: 'must be an IPv4 CIDR such as "10.0.0.10/32"' })).min(1).default(['0.0.0.0/0']),
    ports: z.array(port).min(1).default([443, 6443]),
  }).strict().default({ cidrs: ['0.0.0.0/0'], ports: [443, 6443] }),
  /**
   * `terraform apply` waits until StatefulSets and Deployments have rolled out (pods Ready), so a
   * pod that cannot run (no labelled node, a missing TLS secret) fails the apply.
   * @default true
   */
  waitForRollout: z.boolean().default(true),
  /** How long apply waits for a rollout (and a delete) before failing. @default '15m' */
  rolloutTimeout: duration.default('15m'),
  /**
   * Apply waits until public Services have a load balancer address. On premises that needs a
   * load-balancer implementation (MetalLB, kube-vip); without one, set false.
   * @default true
   */
  waitForLoadBalancer: z.boolean().default(true),
  /** Prometheus scraping of the workloads' metrics endpoints. @default annotations on, the kube-prometheus scraper admitted, no ServiceMonitors */
  metrics: MetricsOptionsSchema.default({
    scraper: { namespace: DEFAULT_SCRAPER.namespace, podLabels: { ...DEFAULT_SCRAPER.podLabels } },
    annotations: true, serviceMonitors: false, serviceMonitorLabels: {},
  }),
}).strict();

/** Compile-time binding: the documented KubernetesTargetOptions and the schema describe the same props. */
export const KUBERNETES_TARGET_OPTIONS_MATCH_SCHEMA: SchemaMatches<KubernetesTargetOptions, typeof KubernetesTargetOptionsSchema> = true;

/** An egress edge: this workload may open connections to `to`'s pods on these container ports. */
interface EgressEdge {
  readonly to: string;
  readonly ports: readonly number[];
}

/** A client's egress edges, with their keys: the gateway has one edge per routed service. */
type EgressEdges = EgressEdge[] & { readonly keys: Set<string> };

/**
 * Production target: realizes workloads on a Kubernetes cluster in one namespace. It owns the
 * provider, the namespace, a default-deny NetworkPolicy (ingress and egress), and the NVMe
 * StorageClass (Retain, WaitForFirstConsumer, expandable; `allowedTopologies` only with keys its
 * provisioner reports). Stateful workloads become StatefulSets with a headless Service and claim
 * templates on that class; stateless ones become Deployments. Every workload gets a Service, a
 * ServiceAccount, a NetworkPolicy admitting exactly its ingress rules and the egress its edges
 * need (DNS, the workloads it was allowed into, the API server when it has API access), and a
 * PodDisruptionBudget when it asks for one. Datastore pods REQUIRE nodes labelled with their
 * region and the datastore node labels. A workload with a metrics endpoint gets scrape annotations,
 * an ingress edge from the scraper (`metrics.scraper`) to exactly that port, and, with
 * `metrics.serviceMonitors`, a `<name>-metrics` Service and a ServiceMonitor.
 */
export class KubernetesTarget extends WorkloadTarget {
  public readonly targetKind = 'kubernetes';
  public readonly location: RegionRef;
  public readonly namespace: string;
  /** Value of the region node labels on the region's nodes. */
  public readonly regionLabel: string;
  /** Node label keys that pin datastores to their region. */
  public readonly regionNodeLabelKeys: readonly string[];
  public readonly storageClassName: string;
  public readonly datastoreNodeLabels: Readonly<Record<string, string>>;
  public readonly provider: KubernetesProvider;
  public readonly dnsResolver: string;
  /** The cluster's DNS domain. */
  public readonly clusterDomain: string;
  public readonly storageClass?: RenderedResource<StorageClassV1Config>;
  /** The topology the NVMe class's provisioner reports (what `allowedTopologies` may name). */
  public readonly storageTopology: CsiProvisionerTopology;
  private readonly namespaceResource?: RenderedResource<NamespaceV1Config>;
  private readonly partOf: string;
  private readonly options: z.output<typeof KubernetesTargetOptionsSchema>;
  /** Live per workload: allowFrom() after construction adds edges to the client's policy. */
  private readonly egress = new Map<string, EgressEdges>();

  constructor(scope: Construct, id: string, props: KubernetesTargetProps) {
    const { region, ...options } = requireProps(props, `KubernetesTarget ${id} props`, '{ region: OSLO_REGION }');
    parseProps(RegionRefSchema, region, `KubernetesTarget ${id} props.region`);
    const p = parseProps(KubernetesTargetOptionsSchema, options, `KubernetesTarget ${id} props`);
    super(scope, id);
    this.options = p;
    this.location = props.region;
    this.namespace = p.namespace;
    this.partOf = p.partOf;
    this.datastoreNodeLabels = Object.freeze({ ...p.datastoreNodeLabels });
    this.regionNodeLabelKeys = Object.freeze([...p.regionNodeLabelKeys]);
    this.clusterDomain = p.clusterDomain;
    this.dnsResolver = p.clusterDns ?? `kube-dns.kube-system.svc.${p.clusterDomain}`;
    this.regionLabel = regionLabelOf(props.region);
    ResidencyGuard.of(this);

    this.provider = new KubernetesProvider(this, 'provider', terraformLiterals({ configPath: p.configPath, configContext: p.configContext }));
    if (p.createNamespace) {
      this.namespaceResource = renderedResource<NamespaceV1Config>(this, 'namespace', 'kubernetes_namespace_v1', {
        metadata: { name: p.namespace, labels: { 'app.kubernetes.io/part-of': p.partOf, 'app.kubernetes.io/managed-by': 'sovereign-stack' } },
      });
    }
    // Deny all ingress and egress in the namespace; each workload's own policy admits exactly its edges.
    renderedResource<NetworkPolicyV1Config>(this, 'default-deny', 'kubernetes_network_policy_v1', {
      metadata: { name: 'default-deny', namespace: this.namespace },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      dependsOn: this.dependsOnNamespace(),
    });

    this.storageTopology = provisionerTopology(p.storage.provisioner, p.storage.topology);
    if (p.storage.existingStorageClassName) {
      this.storageClassName = p.storage.existingStorageClassName;
    } else {
      this.storageClassName = p.storage.storageClassName;
      const regionKey = this.storageTopology.regionKey;
      this.storageClass = renderedResource<StorageClassV1Config>(this, 'nvme-storage-class', 'kubernetes_storage_class_v1', {
        metadata: { name: p.storage.storageClassName, labels: { 'app.kubernetes.io/part-of': p.partOf } },
        storageProvisioner: p.storage.provisioner,
        parameters: terraformLiterals(p.storage.parameters),
        reclaimPolicy: 'Retain',
        volumeBindingMode: 'WaitForFirstConsumer',
        allowVolumeExpansion: true,
        // Only a key the driver reports, or the external-provisioner refuses every claim. Without
        // one the region pin is the pods' required node affinity alone, which always holds.
        allowedTopologies: regionKey ? { matchLabelExpressions: [{ key: regionKey, values: [this.regionLabel] }] } : undefined,
        lifecycle: { preventDestroy: true },
      });
    }
  }

  /** `<name>.<namespace>.svc.<clusterDomain>`. */
  public serviceHost(name: string): string {
    return `${name}.${this.namespace}.svc.${this.clusterDomain}`;
  }

  /** Replicas behind the headless Service `<name>-headless`, listed by the Kubernetes API's endpoints. */
  public peerDiscovery(workloadName: string, replicas: number): PeerDiscovery {
    const service = `${workloadName}-headless`;
    const hostSuffix = `.${this.serviceHost(service)}`;
    const peerHosts = Array.from({ length: replicas }, (_, i) => `${workloadName}-${i}${hostSuffix}`);
    return { peerHosts, hostSuffix, kubernetesEndpoints: { service, namespace: this.namespace, clusterDomain: this.clusterDomain } };
  }

  /**
   * A cert-manager Certificate (through the provider's manifest resource: the cert-manager CRDs
   * must be installed before `terraform plan`) for every name clients and peers use: the Service
   * in its short and full forms, and each replica behind the headless Service. cert-manager writes
   * `tls.crt`, `tls.key` and `ca.crt` into the Secret and renews it a third of its lifetime
   * before expiry with a new key.
   */
  private certificate(
    scope: Construct, w: Workload, secret: Extract<Workload['secrets'][number], { source: 'certificate' }>, labels: Record<string, string>,
  ): Manifest {
    const ns = this.namespace;
    const headless = `${w.name}-headless`;
    const dnsNames = [
      w.name, `${w.name}.${ns}`, `${w.name}.${ns}.svc`, this.serviceHost(w.name),
      this.serviceHost(headless), `*.${this.serviceHost(headless)}`,
    ];
    return new Manifest(scope, `certificate-${secret.name}`, {
      manifest: {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: secret.name, namespace: ns, labels },
        spec: {
          secretName: secret.name,
          secretTemplate: { labels },
          commonName: this.serviceHost(w.name),
          dnsNames,
          // Server auth for clients; client auth for clustered peers (RabbitMQ's inter-node TLS).
          usages: ['server auth', 'client auth', 'digital signature', 'key encipherment'],
          privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
          issuerRef: { name: secret.issuer.name, kind: secret.issuer.kind, group: 'cert-manager.io' },
        },
      },
      // Apply waits until cert-manager has issued the certificate (the Secret exists).
      wait: { condition: [{ type: 'Ready', status: 'True' }] },
      dependsOn: this.dependsOnNamespace(),
    });
  }

  /** The node labels (key -> value) a datastore pod requires when its data lives in `location`. */
  public datastorePlacement(location: RegionRef = this.location): Record<string, string> {
    const label = regionLabelOf(location);
    return {
      ...Object.fromEntries(this.regionNodeLabelKeys.map((key) => [key, label])),
      ...this.datastoreNodeLabels,
    };
  }

  protected realize(scope: Construct, w: Workload, ingress: IngressRule[], location: RegionRef): Omit<DeployedWorkload, 'datastores'> {
    this.refuseUnprovisionablePlacement(scope, w, location);
    const selector = { 'app.kubernetes.io/name': w.name };
    const labels = {
      ...selector,
      'app.kubernetes.io/component': w.component,
      'app.kubernetes.io/part-of': this.partOf,
      'app.kubernetes.io/managed-by': 'sovereign-stack',
    };
    const ctx: RealizeContext = {
      scope, w, selector, labels,
      meta: (name) => ({ name, namespace: this.namespace, labels }),
      dependsOn: this.dependsOnNamespace(),
      resources: {},
      placement: w.placement.datastore ? this.datastorePlacement(location) : undefined,
    };
    const secretData = this.secrets(ctx);
    this.serviceAccount(ctx);
    const configMapName = this.configMaps(ctx);
    const template = this.podTemplateOf(ctx, configMapName);
    const headlessHost = this.services(ctx);
    const replicaHosts = this.controller(ctx, template);
    this.networkPolicy(ctx, ingress);
    for (const job of w.scheduledJobs) this.scheduledJob(scope, w, job, { configMapName, placement: ctx.placement, resources: ctx.resources, dependsOn: ctx.dependsOn });
    if (metricsEndpointOf(w) && this.options.metrics.serviceMonitors) this.serviceMonitor(scope, w, ctx);
    this.disruptionBudget(ctx);

    const host = this.serviceHost(w.name);
    return {
      workload: w,
      host,
      replicaHosts,
      resources: ctx.resources,
      placement: ctx.placement && { kind: 'kubernetes-node-labels', nodeLabels: ctx.placement },
      endpoint: (port) => ({ host, port: servicePortOf(WorkloadTarget.portOf(w, port)) }),
      podsEndpoint: (port) => ({ host: headlessHost, port: WorkloadTarget.portOf(w, port).containerPort }),
      publicPort: (port) => (w.public ? servicePortOf(WorkloadTarget.portOf(w, port)) : undefined),
      allowFrom: (from, ports) => {
        WorkloadTarget.addIngress(ingress, from, ports);
        if (from !== 'public') this.addEgress(from.workload.name, w, ports);
      },
      addGeneratedSecretKey: (secretName, key, opts = {}) => {
        const secret = generatedSecretOf(w, secretName);
        secretData.get(secretName)![key] = generatePassword(scope, secret, key, { length: opts.length ?? 32, special: false });
      },
    };
  }

  /**
   * A Secret per generated secret (its passwords generated at apply time) and a cert-manager
   * Certificate per certificate secret; existing secrets are referenced, never created. Returns
   * each generated Secret's data, live: addGeneratedSecretKey() after construction still lands.
   */
  private secrets(ctx: RealizeContext): Map<string, Record<string, string | RenderedResource>> {
    const { scope, w, dependsOn } = ctx;
    const secretData = new Map<string, Record<string, string | RenderedResource>>();
    for (const secret of w.secrets) {
      if (secret.source === 'certificate') ctx.resources[`certificate:${secret.name}`] = this.certificate(scope, w, secret, ctx.labels);
      if (secret.source !== 'generated') continue;
      const data: Record<string, string | RenderedResource> = { ...secret.plain, ...generatePasswords(scope, secret) };
      secretData.set(secret.name, data);
      const metadata = ctx.meta(secret.name);
      ctx.resources[`secret:${secret.name}`] = renderedResource<SecretV1Config>(scope, `secret-${secret.name}`, 'kubernetes_secret_v1', {
        dependsOn, lifecycle: secret.retain ? { preventDestroy: true } : undefined,
      }, () => ({
        metadata,
        // Read at synthesis (keys added later land); a password is its reference, never its value.
        data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v : v.referenceText('result')])),
        type: 'Opaque',
      }));
    }
    return secretData;
  }

  /** The workload's ServiceAccount, and a Role and RoleBinding when it reads the API. */
  private serviceAccount(ctx: RealizeContext): void {
    const { scope, w, meta, dependsOn } = ctx;
    ctx.resources.serviceAccount = renderedResource<ServiceAccountV1Config>(scope, 'service-account', 'kubernetes_service_account_v1', {
      metadata: meta(w.name),
      automountServiceAccountToken: w.apiAccess.length > 0,
      dependsOn,
    });
    if (w.apiAccess.length === 0) return;
    ctx.resources.role = renderedResource<RoleV1Config>(scope, 'role', 'kubernetes_role_v1', {
      metadata: meta(w.name),
      rule: w.apiAccess.map((r) => ({ apiGroups: [''], resources: r.resources, verbs: r.verbs })),
      dependsOn,
    });
    ctx.resources.roleBinding = renderedResource<RoleBindingV1Config>(scope, 'role-binding', 'kubernetes_role_binding_v1', {
      metadata: meta(w.name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: w.name },
      subject: [{ kind: 'ServiceAccount', name: w.name, namespace: this.namespace }],
      dependsOn,
    });
  }

  /**
   * The ConfigMap of the files read at start (its name returned), and one ConfigMap per live file:
   * those the workload applies itself, out of the pod-template hash, each up to 1 MiB (per-service
   * data grows with the platform). The API server refuses a ConfigMap over 1 MiB: said at synth.
   */
  private configMaps(ctx: RealizeContext): string | undefined {
    const { scope, w, meta, dependsOn } = ctx;
    for (const f of w.configFiles.filter((c) => c.live)) {
      const name = liveConfigMapName(w.name, f.path);
      renderedResource<ConfigMapV1Config>(scope, `live-${configKey(f.path)}`, 'kubernetes_config_map_v1', {
        metadata: meta(name),
        data: { [configKey(f.path)]: f.content },
        dependsOn,
      });
      checkConfigMapSize(scope, name, [f]);
    }
    const restartFiles = w.configFiles.filter((f) => !f.live);
    if (restartFiles.length === 0) return undefined;
    const configMapName = `${w.name}-config`;
    ctx.resources.configMap = renderedResource<ConfigMapV1Config>(scope, 'config', 'kubernetes_config_map_v1', {
      metadata: meta(configMapName),
      data: Object.fromEntries(restartFiles.map((f) => [configKey(f.path), f.content])),
      dependsOn,
    });
    checkConfigMapSize(scope, configMapName, restartFiles);
    return configMapName;
  }

  /** The pod template, annotated with the config files' hash (so a change rolls the pods) and the scrape port. */
  private podTemplateOf(ctx: RealizeContext, configMapName: string | undefined): PodTemplate {
    const { scope, w } = ctx;
    const metrics = metricsEndpointOf(w);
    const annotations: Record<string, string> = metrics && this.options.metrics.annotations ? scrapeAnnotations(metrics) : {};
    if (w.configFiles.some((f) => !f.live)) {
      // Read when the body is rendered: the files' final contents (a gateway's routes come later).
      Object.defineProperty(annotations, 'sovereign-stack.io/config-hash', {
        enumerable: true, get: () => configHashNow(w, TerraformStack.of(scope)),
      });
    }
    return podTemplate(w, {
      labels: ctx.labels, selector: ctx.selector, serviceAccountName: w.name, configMapName, annotations, requiredNodeLabels: ctx.placement ?? {},
    });
  }

  /**
   * The Service clients use (workloads with ports), and a headless Service resolving to every pod:
   * stable per-replica names for stateful peers, and one upstream server per pod for clients that
   * balance themselves (the gateway). Returns the headless host name.
   */
  private services(ctx: RealizeContext): string {
    const { scope, w, meta, selector, dependsOn } = ctx;
    const servicePorts = w.ports.map((p) => ({ name: p.name, port: servicePortOf(p), targetPort: p.name, protocol: 'TCP' }));
    const headless = `${w.name}-headless`;
    if (w.kind === 'stateful' || w.ports.length > 0) {
      ctx.resources.headlessService = renderedResource<ServiceV1Config>(scope, 'headless-service', 'kubernetes_service_v1', {
        metadata: meta(headless),
        spec: {
          clusterIp: 'None',
          selector,
          publishNotReadyAddresses: w.publishNotReadyAddresses,
          port: servicePorts.length > 0 ? servicePorts : [{ name: 'none', port: 65535, targetPort: '65535' }],
        },
        dependsOn,
      });
    }
    if (w.ports.length > 0) {
      ctx.resources.service = renderedResource<ServiceV1Config>(scope, 'service', 'kubernetes_service_v1', {
        metadata: meta(w.name),
        spec: {
          type: w.public ? 'LoadBalancer' : 'ClusterIP',
          // Keep the client address for rate limiting by IP at a public gateway.
          externalTrafficPolicy: w.public ? 'Local' : undefined,
          selector,
          port: servicePorts,
        },
        waitForLoadBalancer: w.public ? this.options.waitForLoadBalancer : undefined,
        dependsOn,
      });
    }
    return this.serviceHost(headless);
  }

  /** The StatefulSet (stateful) or Deployment (stateless) running the pods; returns the replicas' host names. */
  private controller(ctx: RealizeContext, template: PodTemplate): string[] {
    const { scope, w, meta, selector, labels, dependsOn } = ctx;
    // Apply fails when pods cannot run, instead of reporting success over Pending pods.
    const rollout = {
      waitForRollout: this.options.waitForRollout,
      timeouts: { create: this.options.rolloutTimeout, update: this.options.rolloutTimeout, delete: this.options.rolloutTimeout },
    };
    if (w.kind !== 'stateful') {
      ctx.resources.deployment = renderedResource<DeploymentV1Config>(scope, 'Resource', 'kubernetes_deployment_v1', {
        metadata: meta(w.name),
        spec: {
          replicas: String(w.replicas),
          selector: { matchLabels: selector },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '0', maxSurge: '1' } },
          template,
        },
        ...rollout,
        dependsOn,
      });
      return [];
    }
    const headless = `${w.name}-headless`;
    ctx.resources.statefulSet = renderedResource<StatefulSetV1Config>(scope, 'Resource', 'kubernetes_stateful_set_v1', {
      metadata: meta(w.name),
      spec: {
        serviceName: headless,
        replicas: String(w.replicas),
        // Clustered stores start peers in parallel; single databases keep ordered start.
        podManagementPolicy: w.publishNotReadyAddresses ? 'Parallel' : 'OrderedReady',
        selector: { matchLabels: selector },
        updateStrategy: [{ type: 'RollingUpdate' }],
        persistentVolumeClaimRetentionPolicy: [{ whenDeleted: 'Retain', whenScaled: 'Retain' }],
        template,
        volumeClaimTemplate: w.volumes.map((v) => ({
          metadata: { name: v.name, labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: v.storageClassName ?? this.storageClassName,
            resources: { requests: { storage: `${v.sizeGi}Gi` } },
          },
        })),
      },
      ...rollout,
      lifecycle: {
        preventDestroy: retainsData(w) || undefined,
        // The provider replaces a StatefulSet whose claim templates change: growing a volume
        // would plan a destroy. Volumes grow in place on their PVCs instead (README, Deploying).
        ignoreChanges: w.volumes.length > 0 ? ['spec[0].volume_claim_template'] : undefined,
      },
      dependsOn: this.storageClass && w.volumes.length > 0 ? [...(dependsOn ?? []), this.storageClass] : dependsOn,
    });
    const headlessHost = this.serviceHost(headless);
    return Array.from({ length: w.replicas }, (_, i) => `${w.name}-${i}.${headlessHost}`);
  }

  /** The workload's NetworkPolicy, rendered at synthesis so that rules added by allowFrom() later land. */
  private networkPolicy(ctx: RealizeContext, ingress: IngressRule[]): void {
    const { w, selector } = ctx;
    const egress = this.egressOf(w.name);
    for (const rule of ingress) {
      if (rule.from !== 'public') this.addEgress(rule.from.workload, w, rule.ports);
    }
    const metadata = ctx.meta(w.name);
    ctx.resources.networkPolicy = renderedResource<NetworkPolicyV1Config>(ctx.scope, 'network-policy', 'kubernetes_network_policy_v1', { dependsOn: ctx.dependsOn }, () => ({
      metadata,
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [...ingress.map((r) => this.ingressRule(w, r)), ...this.scraperIngress(w)],
        egress: this.egressRules(w, egress),
      },
    }));
  }

  /** The PodDisruptionBudget, when the workload has one. */
  private disruptionBudget(ctx: RealizeContext): void {
    const budget = ctx.w.disruptionBudget;
    if (!budget) return;
    ctx.resources.podDisruptionBudget = renderedResource<PodDisruptionBudgetV1Config>(ctx.scope, 'disruption-budget', 'kubernetes_pod_disruption_budget_v1', {
      metadata: ctx.meta(ctx.w.name),
      spec: {
        selector: { matchLabels: ctx.selector },
        ...('maxUnavailable' in budget ? { maxUnavailable: String(budget.maxUnavailable) } : { minAvailable: String(budget.minAvailable) }),
      },
      dependsOn: ctx.dependsOn,
    });
  }

  protected placementEvidence(realized: Omit<DeployedWorkload, 'datastores'>, location: RegionRef): PlacementEvidence {
    const expected = this.datastorePlacement(location);
    const statefulSet = realized.resources.statefulSet;
    // Only the pod spec's placement is resolved: judging a database never renders its config files.
    const pod = statefulSet ? synthesizedBlock(statefulSet, ['spec', 'template', 'spec'], ['affinity', 'node_name']) : undefined;
    const terms: any[] = asList(asList(pod?.affinity)[0]?.node_affinity)[0]
      ?.required_during_scheduling_ignored_during_execution?.node_selector_term ?? [];
    const problems: string[] = [];
    if (!pod) problems.push('the target synthesized no pod template for it');
    if (pod?.node_name) problems.push(`its pods name a node directly (node_name "${pod.node_name}"), which bypasses node affinity`);
    if (asList(terms).length === 0) {
      problems.push('its pods have no required node affinity: they may run on any node, in any region');
    }
    // Terms are ORed: every term must carry the whole pin.
    asList(terms).forEach((term: any, i: number) => {
      const expressions: any[] = asList(term?.match_expressions);
      for (const [key, value] of Object.entries(expected)) {
        const pinned = expressions.some((e) => e?.key === key && e?.operator === 'In'
          && Array.isArray(e?.values) && e.values.length > 0 && e.values.every((v: unknown) => v === value));
        if (!pinned) problems.push(`node selector term ${i} does not require ${key}=${value}`);
      }
    });
    const pinned = asList(asList(terms)[0]?.match_expressions).map((e: any) => `${e?.key} ${e?.operator} [${asList(e?.values).join(',')}]`);
    return {
      placement: pinned.length > 0
        ? `Kubernetes pods (${realized.workload.name}) on nodes with ${pinned.join(', ')}`
        : `Kubernetes pods (${realized.workload.name}) on any node`,
      problems,
    };
  }

  /**
   * A CronJob running `job` against replica 0's volumes (claim `<volume>-<workload>-0`, so its pods
   * land on the node holding them), with a network policy of its own: no ingress, egress to DNS
   * and the workload's external destinations only.
   */
  private scheduledJob(scope: Construct, w: Workload, job: ScheduledJob, ctx: {
    configMapName?: string; placement?: Record<string, string>; resources: Record<string, TerraformResource>; dependsOn?: TerraformResource[];
  }): void {
    const ns = this.namespace;
    const name = `${w.name}-${job.name}`;
    const selector = { 'app.kubernetes.io/name': name };
    const labels = {
      ...selector,
      'app.kubernetes.io/component': `${w.component}-${job.name}`,
      'app.kubernetes.io/part-of': this.partOf,
      'app.kubernetes.io/managed-by': 'sovereign-stack',
    };
    const pod = scheduledJobPodSpec(w, job, {
      labels, selector, annotations: {}, serviceAccountName: w.name, configMapName: ctx.configMapName,
      requiredNodeLabels: ctx.placement ?? {}, claimName: (volume) => `${volume}-${w.name}-0`,
    });
    ctx.resources[`cronJob:${job.name}`] = renderedResource<CronJobV1Config>(scope, `cron-job-${job.name}`, 'kubernetes_cron_job_v1', {
      metadata: { name, namespace: ns, labels },
      spec: {
        schedule: job.schedule,
        timezone: 'Etc/UTC',
        // A run never overlaps the previous one; a missed run starts late within an hour, not never.
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: 1,
            activeDeadlineSeconds: job.activeDeadlineSeconds,
            // The CronJob's generated pod structs are twins of the StatefulSet's, but typed apart.
            template: { metadata: { labels }, spec: pod as any },
          },
        },
      },
      dependsOn: ctx.dependsOn,
    });
    const jobWorkload: Workload = { ...w, name, apiAccess: [] };
    ctx.resources[`networkPolicy:${job.name}`] = renderedResource<NetworkPolicyV1Config>(scope, `network-policy-${job.name}`, 'kubernetes_network_policy_v1', {
      metadata: { name, namespace: ns, labels },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress', 'Egress'],
        egress: this.egressRules(jobWorkload, []),
      },
      dependsOn: ctx.dependsOn,
    });
  }

  /** The scraper's pods may reach exactly the metrics port. */
  private scraperIngress(w: Workload): NetworkPolicyV1SpecIngress[] {
    const metrics = metricsEndpointOf(w);
    if (!metrics) return [];
    const scraper = this.options.metrics.scraper;
    return [{
      ports: [{ port: String(metrics.containerPort), protocol: 'TCP' }],
      from: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': scraper.namespace } },
        podSelector: { matchLabels: scraper.podLabels },
      }],
    }];
  }

  /**
   * A headless `<workload>-metrics` Service with the one port `metrics` (so no other Service of the
   * workload is matched twice), and the ServiceMonitor selecting it, through the provider's manifest
   * resource (the CRD must exist when Terraform plans).
   */
  private serviceMonitor(scope: Construct, w: Workload, ctx: {
    labels: Record<string, string>; selector: Record<string, string>; resources: Record<string, TerraformResource>; dependsOn?: TerraformResource[];
  }): void {
    const metrics = metricsEndpointOf(w)!;
    const name = `${w.name}-metrics`;
    const serviceLabels = { ...ctx.labels, 'sovereign-stack.io/metrics': w.name };
    ctx.resources.metricsService = renderedResource<ServiceV1Config>(scope, 'metrics-service', 'kubernetes_service_v1', {
      metadata: { name, namespace: this.namespace, labels: serviceLabels },
      spec: {
        clusterIp: 'None',
        selector: ctx.selector,
        port: [{ name: 'metrics', port: metrics.containerPort, targetPort: metrics.port, protocol: 'TCP' }],
      },
      dependsOn: ctx.dependsOn,
    });
    ctx.resources.serviceMonitor = new Manifest(scope, 'service-monitor', {
      manifest: {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: w.name, namespace: this.namespace, labels: { ...ctx.labels, ...this.options.metrics.serviceMonitorLabels } },
        spec: {
          selector: { matchLabels: { 'sovereign-stack.io/metrics': w.name } },
          namespaceSelector: { matchNames: [this.namespace] },
          endpoints: [{ port: 'metrics', path: metrics.path, scheme: 'http' }],
        },
      },
      dependsOn: [...(ctx.dependsOn ?? []), ctx.resources.metricsService],
    });
  }

  /** The client `from` may now reach `to`'s pods on these (service) ports. */
  private addEgress(from: string, to: Workload, servicePorts: readonly number[]): void {
    const edges = this.egressOf(from);
    const ports = [...new Set(servicePorts.map((p) => containerPortOf(to, p)))].sort((a, b) => a - b);
    const key = `${to.name}:${ports.join(',')}`;
    if (edges.keys.has(key)) return;
    edges.keys.add(key);
    edges.push({ to: to.name, ports });
  }

  /** Created on first use: a rule may name a client deployed later (edges of unknown names never render). */
  private egressOf(name: string): EgressEdges {
    let edges = this.egress.get(name);
    if (!edges) this.egress.set(name, edges = Object.assign([], { keys: new Set<string>() }));
    return edges;
  }

  /** DNS for everyone; each edge to a workload's pods; the API server for workloads that use it. */
  private egressRules(w: Workload, edges: readonly EgressEdge[]): NetworkPolicyV1SpecEgress[] {
    const dns = this.options.clusterDnsPods;
    const rules: NetworkPolicyV1SpecEgress[] = [{
      to: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': dns.namespace } },
        podSelector: { matchLabels: dns.podLabels },
      }],
      ports: dns.ports.flatMap((port) => ['UDP', 'TCP'].map((protocol) => ({ port: String(port), protocol }))),
    }];
    for (const e of edges) {
      rules.push({
        to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': e.to } } }],
        ports: e.ports.map((port) => ({ port: String(port), protocol: 'TCP' })),
      });
    }
    for (const e of w.externalEgress) {
      rules.push({
        to: e.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
        ports: e.ports.map((port) => ({ port: String(port), protocol: 'TCP' })),
      });
    }
    if (w.apiAccess.length > 0) {
      const api = this.options.apiServer;
      rules.push({
        to: api.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
        ports: api.ports.map((port) => ({ port: String(port), protocol: 'TCP' })),
      });
    }
    return rules;
  }

  private ingressRule(w: Workload, r: IngressRule): NetworkPolicyV1SpecIngress {
    return {
      // Policies match pod ports, not Service ports.
      ports: r.ports.map((port) => ({ port: String(containerPortOf(w, port)), protocol: 'TCP' })),
      from: r.from === 'public' ? undefined : [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': r.from.workload } } }],
    };
  }

  /**
   * A StorageClass that pins the target's region (its provisioner reports a region key) cannot
   * provision a volume for a datastore placed in another region: refuse it now, not at apply.
   */
  private refuseUnprovisionablePlacement(scope: Construct, w: Workload, location: RegionRef): void {
    const regionKey = this.storageClass ? this.storageTopology.regionKey : undefined;
    if (!regionKey || !w.placement.datastore || regionLabelOf(location) === this.regionLabel) return;
    if (!w.volumes.some((v) => (v.storageClassName ?? this.storageClassName) === this.storageClassName)) return;
    throw new SovereignStackError(
      `${scope.node.path}: its data is placed in "${regionId(location)}" but the StorageClass "${this.storageClassName}" ` +
      `only provisions in region "${this.regionLabel}" (${regionKey}); give its volumes a StorageClass for that region ` +
      '(storageClassName) or deploy it on a target in that region',
    );
  }

  private dependsOnNamespace(): TerraformResource[] | undefined {
    return this.namespaceResource ? [this.namespaceResource] : undefined;
  }
}

/** What realizing one workload's resources shares. */
interface RealizeContext {
  readonly scope: Construct;
  readonly w: Workload;
  readonly selector: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly meta: (name: string) => { name: string; namespace: string; labels: Record<string, string> };
  readonly dependsOn?: TerraformResource[];
  /** Filled by role as they are made; returned as the workload's WorkloadResources. */
  readonly resources: Record<string, TerraformResource>;
  /** Node labels a datastore's pods require (its region and the KVM/NVMe labels). */
  readonly placement?: Record<string, string>;
}

/** Kubernetes' limit on a ConfigMap's data (etcd's request limit, enforced by the API server). */
export const MAX_CONFIG_MAP_BYTES = 1024 * 1024;

/**
 * Refuses, at synthesis, a ConfigMap whose files' contents exceed what one may hold. Contents known
 * now (no token) are measured now: only those rendered at synthesis (a gateway's nginx.conf, the
 * broker's definitions) are measured then.
 */
function checkConfigMapSize(scope: Construct, name: string, files: Workload['configFiles']): void {
  const known = files.every((f) => !f.content.includes('TfToken['));
  if (known && files.reduce((sum, f) => sum + Buffer.byteLength(f.content, 'utf8'), 0) <= MAX_CONFIG_MAP_BYTES) return;
  scope.node.addValidation({ validate: () => configMapTooLarge(name, files, TerraformStack.of(scope)) });
}

/** An error when the files' resolved contents exceed what one ConfigMap may hold. */
function configMapTooLarge(name: string, files: Workload['configFiles'], stack: TerraformStack): string[] {
  let sizes: { path: string; bytes: number }[];
  try {
    sizes = files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(String(resolveAsStack(stack, f.content)), 'utf8') }));
  } catch {
    return []; // a file that cannot be rendered yet (a gateway without routes) is reported by its own construct
  }
  const total = sizes.reduce((sum, f) => sum + f.bytes, 0);
  if (total <= MAX_CONFIG_MAP_BYTES) return [];
  const largest = [...sizes].sort((a, b) => b.bytes - a.bytes)[0];
  return [`ConfigMap "${name}" would hold ${total} bytes of config files (${largest.path}: ${largest.bytes}); ` +
    `Kubernetes refuses a ConfigMap over ${MAX_CONFIG_MAP_BYTES} bytes (1 MiB), so the apply would fail. ` +
    'Split what the workload serves across more workloads (a second gateway or broker), or shrink its files'];
}

/** The annotations the common Prometheus pod scrape configuration reads. */
function scrapeAnnotations(m: { containerPort: number; path: string }): Record<string, string> {
  return { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(m.containerPort), 'prometheus.io/path': m.path };
}

/** Policies match pod ports, not Service ports. */
function containerPortOf(w: Workload, port: number): number {
  return w.ports.find((p) => servicePortOf(p) === port || p.containerPort === port)?.containerPort ?? port;
}

/**
 * The node label value of a location. An unknown location fails synthesis in the residency guard;
 * its id is only a placeholder here.
 */
function regionLabelOf(location: RegionRef): string {
  return resolveRegionRef(location)?.kubernetesRegionLabel ?? regionId(location);
}
