import { SynthJson, resourcesOf } from './synth';

/** One allowed connection: `from` (a workload name, or 'public') -> `to` on `port`. */
export type Edge = string;

function workloadOf(peer: any): string | undefined {
  return peer.pod_selector?.match_labels?.['app.kubernetes.io/name'];
}

/**
 * Reads every Kubernetes NetworkPolicy of a synthesized stack and lists the connections it
 * admits, as "from -> to:port" strings (sorted), so tests can compare them with an exact list.
 */
export function allowedEdges(json: SynthJson): Edge[] {
  const edges: Edge[] = [];
  for (const policy of Object.values(resourcesOf(json, 'kubernetes_network_policy_v1'))) {
    const to = workloadOf(policy.spec);
    if (!to) continue; // the namespace-wide default deny
    for (const rule of policy.spec.ingress ?? []) {
      // A peer in another namespace (the metrics scraper) reads "<namespace>/<app.kubernetes.io/name>".
      const sources: string[] = rule.from ? rule.from.map((f: any) => (f.namespace_selector
        ? `${f.namespace_selector.match_labels?.['kubernetes.io/metadata.name']}/${workloadOf(f)}` : workloadOf(f))) : ['public'];
      for (const from of sources) for (const p of rule.ports) edges.push(`${from} -> ${to}:${p.port}`);
    }
  }
  return edges.sort();
}

/**
 * The egress each policy admits, as "from -> to:port" for workload peers, "from -> dns:port/proto"
 * for the cluster DNS pods and "from -> cidr:port" for address blocks (sorted).
 */
export function allowedEgress(json: SynthJson): Edge[] {
  const edges: Edge[] = [];
  for (const policy of Object.values(resourcesOf(json, 'kubernetes_network_policy_v1'))) {
    const from = workloadOf(policy.spec);
    if (!from) continue;
    for (const rule of policy.spec.egress ?? []) {
      for (const peer of rule.to ?? [{ ip_block: { cidr: 'anywhere' } }]) {
        const to = peer.namespace_selector ? 'dns' : peer.ip_block ? peer.ip_block.cidr : workloadOf(peer);
        for (const p of rule.ports) edges.push(`${from} -> ${to}:${p.port}${to === 'dns' ? `/${p.protocol}` : ''}`);
      }
    }
  }
  return edges.sort();
}

/** The ingress rule admitting the default metrics scraper (kube-prometheus's Prometheus pods) on `port`. */
export function scraperIngress(port: number, namespace = 'monitoring', podLabels: Record<string, string> = { 'app.kubernetes.io/name': 'prometheus' }) {
  return {
    ports: [{ port: String(port), protocol: 'TCP' }],
    from: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': namespace } }, pod_selector: { match_labels: podLabels } }],
  };
}
