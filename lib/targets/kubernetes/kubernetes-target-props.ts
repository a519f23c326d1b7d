import type { RegionRef } from '../../residency/region-ref';

// The documented contract of KubernetesTarget: hand-written, so every prop keeps its doc and
// default in the published .d.ts. The zod schema in kubernetes-target.ts validates it and is
// bound to it at compile time (SchemaMatches), so the two cannot drift.

/** The NVMe StorageClass datastore volumes claim. */
export interface KubernetesStorageOptions {
  /**
   * Use this StorageClass instead of creating one (it must be NVMe-backed and Retain).
   * @default - create one
   */
  readonly existingStorageClassName?: string;
  /**
   * Name of the StorageClass we create.
   * @default 'nvme-retain'
   */
  readonly storageClassName?: string;
  /**
   * CSI provisioner of the NVMe class (TopoLVM carves volumes from the node's local NVMe).
   * @default 'topolvm.io'
   */
  readonly provisioner?: string;
  /**
   * Provisioner parameters.
   * @default { 'topolvm.io/device-class': 'nvme', 'csi.storage.k8s.io/fstype': 'xfs' }
   */
  readonly parameters?: Record<string, string>;
  /**
   * The topology keys a provisioner outside `CSI_PROVISIONERS` reports (its CSINode
   * `topologyKeys`), and which of them carries the region. Only these may appear in the class's
   * `allowedTopologies`.
   * @default - the table's entry; none for an unknown provisioner (no allowedTopologies)
   */
  readonly topology?: KubernetesStorageTopology;
}

/** The topology keys a CSI provisioner reports. */
export interface KubernetesStorageTopology {
  /** The CSINode `topologyKeys` of the provisioner (at least one). */
  readonly topologyKeys: string[];
  /**
   * Which of `topologyKeys` carries the region.
   * @default - none: the class gets no region in `allowedTopologies`
   */
  readonly regionKey?: string;
}

/** Where the cluster DNS pods run, for the egress rule every pod needs. */
export interface ClusterDnsPodsOptions {
  /**
   * Namespace of the DNS pods.
   * @default 'kube-system'
   */
  readonly namespace?: string;
  /**
   * Labels of the DNS pods.
   * @default { 'k8s-app': 'kube-dns' } (CoreDNS in kubeadm, k3s, RKE2)
   */
  readonly podLabels?: Record<string, string>;
  /**
   * Ports the DNS pods listen on (OpenShift: 5353).
   * @default [53]
   */
  readonly ports?: number[];
}

/** Where workloads with API access (RabbitMQ peer discovery) reach the Kubernetes API server. */
export interface ApiServerOptions {
  /**
   * The API server's endpoint addresses (not the Service IP: policies see the address after DNAT).
   * @default ['0.0.0.0/0'] (narrow it to your control plane)
   */
  readonly cidrs?: string[];
  /**
   * Its ports.
   * @default [443, 6443]
   */
  readonly ports?: number[];
}

/** The Prometheus pods that scrape the workloads' metrics endpoints. */
export interface MetricsScraperOptions {
  /**
   * Namespace of the Prometheus pods.
   * @default 'monitoring'
   */
  readonly namespace?: string;
  /**
   * Labels of the Prometheus pods.
   * @default { 'app.kubernetes.io/name': 'prometheus' }
   */
  readonly podLabels?: Record<string, string>;
}

/** How Prometheus finds and reaches the workloads' metrics endpoints. */
export interface KubernetesMetricsOptions {
  /**
   * The Prometheus pods that scrape: each workload's network policy admits them on exactly its
   * metrics port.
   * @default { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } }
   */
  readonly scraper?: MetricsScraperOptions;
  /**
   * `prometheus.io/scrape`, `prometheus.io/port` and `prometheus.io/path` pod annotations.
   * @default true
   */
  readonly annotations?: boolean;
  /**
   * A ServiceMonitor (Prometheus operator) per workload with metrics, selecting a headless
   * `<workload>-metrics` Service whose port is named `metrics`. The CRD must exist at plan time.
   * @default false
   */
  readonly serviceMonitors?: boolean;
  /**
   * Labels on each ServiceMonitor (what the Prometheus resource's serviceMonitorSelector matches,
   * e.g. `{ release: 'kube-prometheus-stack' }`).
   * @default {}
   */
  readonly serviceMonitorLabels?: Record<string, string>;
}

/** Options of a KubernetesTarget besides its region. */
export interface KubernetesTargetOptions {
  /**
   * Namespace of every object.
   * @default 'platform'
   */
  readonly namespace?: string;
  /**
   * Create the namespace; false when it exists already.
   * @default true
   */
  readonly createNamespace?: boolean;
  /**
   * kubeconfig path for the provider.
   * @default - the provider's own default (KUBE_CONFIG_PATH)
   */
  readonly configPath?: string;
  /**
   * kubeconfig context.
   * @default - the current context
   */
  readonly configContext?: string;
  /**
   * Node labels that datastore pods REQUIRE besides the region labels.
   * @default { 'node-restriction.kubernetes.io/sovereign-stack-hypervisor': 'kvm', 'node-restriction.kubernetes.io/sovereign-stack-disk': 'nvme' }
   */
  readonly datastoreNodeLabels?: Record<string, string>;
  /**
   * Node label keys whose value must be the region's `kubernetesRegionLabel` for a datastore pod.
   * @default ['topology.kubernetes.io/region', 'node-restriction.kubernetes.io/sovereign-stack-region']
   */
  readonly regionNodeLabelKeys?: string[];
  /**
   * The NVMe StorageClass.
   * @default - create 'nvme-retain' with TopoLVM
   */
  readonly storage?: KubernetesStorageOptions;
  /**
   * `app.kubernetes.io/part-of` on every object.
   * @default 'sovereign-stack'
   */
  readonly partOf?: string;
  /**
   * The cluster's DNS domain (kubelet `clusterDomain`).
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * The cluster DNS Service, for clients that resolve while running (the gateway's upstreams).
   * RKE2: 'rke2-coredns-rke2-coredns.kube-system.svc.<domain>'; OpenShift: 'dns-default.openshift-dns.svc.<domain>'.
   * @default 'kube-dns.kube-system.svc.<clusterDomain>' (CoreDNS keeps that Service name)
   */
  readonly clusterDns?: string;
  /**
   * The DNS pods every pod may send queries to (the only egress allowed to all).
   * @default - kube-system pods labelled k8s-app=kube-dns, port 53
   */
  readonly clusterDnsPods?: ClusterDnsPodsOptions;
  /**
   * Where workloads with API access (RabbitMQ peer discovery) reach the API server: its endpoint
   * addresses and ports.
   * @default { cidrs: ['0.0.0.0/0'], ports: [443, 6443] } (narrow cidrs to your control plane)
   */
  readonly apiServer?: ApiServerOptions;
  /**
   * `terraform apply` waits until StatefulSets and Deployments have rolled out (pods Ready), so a
   * pod that cannot run (no labelled node, a missing TLS secret) fails the apply.
   * @default true
   */
  readonly waitForRollout?: boolean;
  /**
   * How long apply waits for a rollout (and a delete) before failing: a Go duration such as '10m'.
   * @default '15m'
   */
  readonly rolloutTimeout?: string;
  /**
   * Apply waits until public Services have a load balancer address. On premises that needs a
   * load-balancer implementation (MetalLB, kube-vip); without one, set false.
   * @default true
   */
  readonly waitForLoadBalancer?: boolean;
  /**
   * Prometheus scraping of the workloads' metrics endpoints.
   * @default - annotations on, the kube-prometheus scraper admitted, no ServiceMonitors
   */
  readonly metrics?: KubernetesMetricsOptions;
}

/** Props of a KubernetesTarget. */
export interface KubernetesTargetProps extends KubernetesTargetOptions {
  /** Where the cluster runs: a catalogue id (`azure:norwayeast`) or a Region from `defineRegion`. */
  readonly region: RegionRef;
}
