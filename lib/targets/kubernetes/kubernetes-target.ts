import { Lazy, TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { NetworkPolicyV1, NetworkPolicyV1SpecIngress, networkPolicyV1SpecIngressToTerraform } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { RoleBindingV1 } from '@cdktf/provider-kubernetes/lib/role-binding-v1';
import { RoleV1 } from '@cdktf/provider-kubernetes/lib/role-v1';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { StorageClassV1 } from '@cdktf/provider-kubernetes/lib/storage-class-v1';
import { z } from 'zod';
import { ResidencyGuard } from '../../residency/residency-guard';
import { RegionRef, RegionRefSchema, regionId, resolveRegionRef } from '../../residency/region-ref';
import { parseProps } from '../../util/errors';
import { dnsLabel, dnsSubdomain } from '../../util/schemas';
import { DeployedWorkload, WorkloadTarget } from '../../workload/target';
import { IngressRule, Workload, retainsData, servicePortOf } from '../../workload/workload';
import { configHash } from '../common/config-hash';
import { generateSecretValue, generateSecretValues, generatedSecretOf } from '../common/generated-secrets';
import { REGION_LABEL, configKey, podTemplate } from './pod-template';

/** Node labels our datastore pods require, besides the region. */
export const DEFAULT_DATASTORE_NODE_LABELS: Readonly<Record<string, string>> = {
  'sovereign-stack.io/hypervisor': 'kvm',
  'sovereign-stack.io/disk': 'nvme',
};

/** TopoLVM carves volumes from the node's local NVMe volume group. */
export const DEFAULT_NVME_PROVISIONER = 'topolvm.io';
export const DEFAULT_NVME_PARAMETERS: Readonly<Record<string, string>> = {
  'topolvm.io/device-class': 'nvme',
  'csi.storage.k8s.io/fstype': 'xfs',
};

const labelMap = z.record(z.string().regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9._-]{1,63}$/, { message: 'must be a label key' }),
  z.string().regex(/^[A-Za-z0-9._-]{0,63}$/, { message: 'must be a label value' }));


const KubernetesStorageOptionsSchema = z.object({
  /** Use this StorageClass instead of creating one (it must be NVMe-backed and Retain). @default - create one */
  existingStorageClassName: dnsSubdomain.optional(),
  /** Name of the StorageClass we create. @default 'nvme-retain' */
  storageClassName: dnsSubdomain.default('nvme-retain'),
  /** CSI provisioner of the NVMe class (TopoLVM carves volumes from the node's local NVMe). @default 'topolvm.io' */
  provisioner: z.string().regex(/^[a-z0-9.\-/]+$/, { message: 'must be a CSI driver name such as "topolvm.io"' }).default(DEFAULT_NVME_PROVISIONER),
  /** Provisioner parameters. @default { 'topolvm.io/device-class': 'nvme', 'csi.storage.k8s.io/fstype': 'xfs' } */
  parameters: z.record(z.string(), z.string()).default({ ...DEFAULT_NVME_PARAMETERS }),
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
   * Node labels that datastore pods REQUIRE besides `topology.kubernetes.io/region`.
   * @default { 'sovereign-stack.io/hypervisor': 'kvm', 'sovereign-stack.io/disk': 'nvme' }
   */
  datastoreNodeLabels: labelMap.default({ ...DEFAULT_DATASTORE_NODE_LABELS }),
  /** The NVMe StorageClass. @default - create 'nvme-retain' with TopoLVM */
  storage: KubernetesStorageOptionsSchema.default({ storageClassName: 'nvme-retain', provisioner: DEFAULT_NVME_PROVISIONER, parameters: { ...DEFAULT_NVME_PARAMETERS } }),
  /** `app.kubernetes.io/part-of` on every object. @default 'sovereign-stack' */
  partOf: dnsLabel.default('sovereign-stack'),
  /**
   * The cluster DNS Service, for clients that resolve while running (the gateway's upstreams).
   * @default 'kube-dns.kube-system.svc.cluster.local' (CoreDNS keeps that Service name)
   */
  clusterDns: z.string().regex(/^[a-z0-9.-]+$/, { message: 'must be a DNS name or IPv4 address' }).default('kube-dns.kube-system.svc.cluster.local'),
}).strict();

/** Plain options of a KubernetesTarget (types derived from the schema, so they cannot drift). */
export type KubernetesTargetOptions = z.input<typeof KubernetesTargetOptionsSchema>;

export interface KubernetesTargetProps extends KubernetesTargetOptions {
  /** Where the cluster runs: a catalogue id (`azure:norwayeast`) or a Region from `defineRegion`. */
  readonly region: RegionRef;
}

/**
 * Production target: realizes workloads on a Kubernetes cluster in one namespace. It owns the
 * provider, the namespace, a default-deny NetworkPolicy, and the NVMe StorageClass (Retain,
 * WaitForFirstConsumer, expandable, topology pinned to the region). Stateful workloads become
 * StatefulSets with a headless Service and claim templates on that class; stateless ones become
 * Deployments. Every workload gets a Service, a ServiceAccount, a NetworkPolicy admitting exactly
 * its ingress rules, and a PodDisruptionBudget when it asks for one.
 */
export class KubernetesTarget extends WorkloadTarget {
  public readonly targetKind = 'kubernetes';
  public readonly location: RegionRef;
  public readonly namespace: string;
  /** Value of `topology.kubernetes.io/region` on the region's nodes. */
  public readonly regionLabel: string;
  public readonly storageClassName: string;
  public readonly datastoreNodeLabels: Readonly<Record<string, string>>;
  public readonly provider: KubernetesProvider;
  public readonly dnsResolver: string;
  public readonly storageClass?: StorageClassV1;
  private readonly namespaceResource?: NamespaceV1;
  private readonly partOf: string;

  constructor(scope: Construct, id: string, props: KubernetesTargetProps) {
    const { region, ...options } = props;
    parseProps(RegionRefSchema, region, `KubernetesTarget ${id} props.region`);
    const p = parseProps(KubernetesTargetOptionsSchema, options, `KubernetesTarget ${id} props`);
    super(scope, id);
    this.location = props.region;
    this.namespace = p.namespace;
    this.partOf = p.partOf;
    this.datastoreNodeLabels = p.datastoreNodeLabels;
    this.dnsResolver = p.clusterDns;
    // An unknown region fails synthesis in the residency guard; the label is only a placeholder.
    this.regionLabel = resolveRegionRef(props.region)?.kubernetesRegionLabel ?? regionId(props.region);
    ResidencyGuard.of(this);

    this.provider = new KubernetesProvider(this, 'provider', { configPath: p.configPath, configContext: p.configContext });
    if (p.createNamespace) {
      this.namespaceResource = new NamespaceV1(this, 'namespace', {
        metadata: { name: p.namespace, labels: { 'app.kubernetes.io/part-of': p.partOf, 'app.kubernetes.io/managed-by': 'sovereign-stack' } },
      });
    }
    // Deny all ingress in the namespace; each workload's own policy admits exactly its rules.
    new NetworkPolicyV1(this, 'default-deny', {
      metadata: { name: 'default-deny-ingress', namespace: this.namespace },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
      dependsOn: this.dependsOnNamespace(),
    });

    if (p.storage.existingStorageClassName) {
      this.storageClassName = p.storage.existingStorageClassName;
    } else {
      this.storageClassName = p.storage.storageClassName;
      this.storageClass = new StorageClassV1(this, 'nvme-storage-class', {
        metadata: { name: p.storage.storageClassName, labels: { 'app.kubernetes.io/part-of': p.partOf } },
        storageProvisioner: p.storage.provisioner,
        parameters: p.storage.parameters,
        reclaimPolicy: 'Retain',
        volumeBindingMode: 'WaitForFirstConsumer',
        allowVolumeExpansion: true,
        allowedTopologies: { matchLabelExpressions: [{ key: REGION_LABEL, values: [this.regionLabel] }] },
        lifecycle: { preventDestroy: true },
      });
    }
  }

  /** `<name>.<namespace>.svc.cluster.local`. */
  public serviceHost(name: string): string {
    return `${name}.${this.namespace}.svc.cluster.local`;
  }

  protected realize(scope: Construct, w: Workload, ingress: IngressRule[]): Omit<DeployedWorkload, 'datastores'> {
    const ns = this.namespace;
    const selector = { 'app.kubernetes.io/name': w.name };
    const labels = {
      ...selector,
      'app.kubernetes.io/component': w.component,
      'app.kubernetes.io/part-of': this.partOf,
      'app.kubernetes.io/managed-by': 'sovereign-stack',
    };
    const meta = (name: string) => ({ name, namespace: ns, labels });
    const dependsOn = this.dependsOnNamespace();
    const resources: Record<string, TerraformResource> = {};

    // Live per secret: addGeneratedSecretKey() after construction still reaches the Secret.
    const secretData = new Map<string, Record<string, string>>();
    for (const secret of w.secrets) {
      if (secret.source !== 'generated') continue; // existing secrets are referenced, never created
      const data = { ...secret.plain, ...generateSecretValues(scope, secret) };
      secretData.set(secret.name, data);
      resources[`secret:${secret.name}`] = new SecretV1(scope, `secret-${secret.name}`, {
        metadata: meta(secret.name),
        data: Lazy.anyValue({ produce: () => data }) as unknown as Record<string, string>,
        type: 'Opaque',
        dependsOn,
        lifecycle: secret.retain ? { preventDestroy: true } : undefined,
      });
    }

    const serviceAccount = new ServiceAccountV1(scope, 'service-account', {
      metadata: meta(w.name),
      automountServiceAccountToken: w.apiAccess.length > 0,
      dependsOn,
    });
    resources.serviceAccount = serviceAccount;
    if (w.apiAccess.length > 0) {
      resources.role = new RoleV1(scope, 'role', {
        metadata: meta(w.name),
        rule: w.apiAccess.map((r) => ({ apiGroups: [''], resources: r.resources, verbs: r.verbs })),
        dependsOn,
      });
      resources.roleBinding = new RoleBindingV1(scope, 'role-binding', {
        metadata: meta(w.name),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: w.name },
        subject: [{ kind: 'ServiceAccount', name: w.name, namespace: ns }],
        dependsOn,
      });
    }

    let configMapName: string | undefined;
    if (w.configFiles.length > 0) {
      configMapName = `${w.name}-config`;
      resources.configMap = new ConfigMapV1(scope, 'config', {
        metadata: meta(configMapName),
        data: Object.fromEntries(w.configFiles.map((f) => [configKey(f.path), f.content])),
        dependsOn,
      });
    }

    const template = podTemplate(w, {
      labels, selector, serviceAccountName: w.name, configMapName,
      annotations: w.configFiles.length > 0 ? { 'sovereign-stack.io/config-hash': configHash(w) } : {},
      regionLabel: this.regionLabel,
      datastoreNodeLabels: this.datastoreNodeLabels,
    });

    const servicePorts = w.ports.map((p) => ({ name: p.name, port: servicePortOf(p), targetPort: p.name, protocol: 'TCP' }));
    const replicaHosts: string[] = [];
    // A headless Service resolves to every pod: stable per-replica names for stateful peers, and
    // one upstream server per pod for clients that balance themselves (the gateway).
    const headless = `${w.name}-headless`;
    if (w.kind === 'stateful' || w.ports.length > 0) {
      resources.headlessService = new ServiceV1(scope, 'headless-service', {
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
    if (w.kind === 'stateful') {
      for (let i = 0; i < w.replicas; i++) replicaHosts.push(`${w.name}-${i}.${headless}.${ns}.svc.cluster.local`);
      const statefulSet = new StatefulSetV1(scope, 'Resource', {
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
        waitForRollout: false,
        lifecycle: retainsData(w) ? { preventDestroy: true } : undefined,
        dependsOn: this.storageClass && w.volumes.length > 0 ? [...(dependsOn ?? []), this.storageClass] : dependsOn,
      });
      resources.statefulSet = statefulSet;
    } else {
      resources.deployment = new DeploymentV1(scope, 'Resource', {
        metadata: meta(w.name),
        spec: {
          replicas: String(w.replicas),
          selector: { matchLabels: selector },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '0', maxSurge: '1' } },
          template,
        },
        waitForRollout: false,
        dependsOn,
      });
    }

    if (w.ports.length > 0) {
      resources.service = new ServiceV1(scope, 'service', {
        metadata: meta(w.name),
        spec: {
          type: w.public ? 'LoadBalancer' : 'ClusterIP',
          // Keep the client address for rate limiting by IP at a public gateway.
          externalTrafficPolicy: w.public ? 'Local' : undefined,
          selector,
          port: servicePorts,
        },
        dependsOn,
      });
    }

    resources.networkPolicy = new NetworkPolicyV1(scope, 'network-policy', {
      metadata: meta(w.name),
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress'],
        // Lazy, so allowFrom() after construction lands; converted here because a lazy value
        // skips the provider's camelCase -> snake_case mapping.
        ingress: Lazy.anyValue({
          produce: () => ingress.map((r) => networkPolicyV1SpecIngressToTerraform(this.ingressRule(w, r))),
        }) as unknown as NetworkPolicyV1SpecIngress[],
      },
      dependsOn,
    });

    if (w.disruptionBudget) {
      resources.podDisruptionBudget = new PodDisruptionBudgetV1(scope, 'disruption-budget', {
        metadata: meta(w.name),
        spec: {
          selector: { matchLabels: selector },
          ...('maxUnavailable' in w.disruptionBudget
            ? { maxUnavailable: String(w.disruptionBudget.maxUnavailable) }
            : { minAvailable: String(w.disruptionBudget.minAvailable) }),
        },
        dependsOn,
      });
    }


    const host = this.serviceHost(w.name);
    return {
      workload: w,
      host,
      replicaHosts,
      resources,
      endpoint: (port) => ({ host, port: servicePortOf(WorkloadTarget.portOf(w, port)) }),
      podsEndpoint: (port) => ({ host: `${headless}.${ns}.svc.cluster.local`, port: WorkloadTarget.portOf(w, port).containerPort }),
      publicPort: (port) => (w.public ? servicePortOf(WorkloadTarget.portOf(w, port)) : undefined),
      allowFrom: (from, ports) => WorkloadTarget.addIngress(ingress, from, ports),
      addGeneratedSecretKey: (secretName, key, opts = {}) => {
        const secret = generatedSecretOf(w, secretName);
        secretData.get(secretName)![key] = generateSecretValue(scope, secret, key, { length: opts.length ?? 32, special: false });
      },
    };
  }

  private ingressRule(w: Workload, r: IngressRule): NetworkPolicyV1SpecIngress {
    const containerPort = (port: number) => w.ports.find((p) => servicePortOf(p) === port || p.containerPort === port)?.containerPort ?? port;
    return {
      // Policies match pod ports, not Service ports.
      ports: r.ports.map((port) => ({ port: String(containerPort(port)), protocol: 'TCP' })),
      from: r.from === 'public' ? undefined : [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': r.from.workload } } }],
    };
  }

  private dependsOnNamespace(): TerraformResource[] | undefined {
    return this.namespaceResource ? [this.namespaceResource] : undefined;
  }
}
