import { SynthJson, resourcesOf } from './synth';

/** One allowed connection: `from` (a workload name, or 'public') -> `to` on `port`. */
export type Edge = string;

/**
 * Reads every Kubernetes NetworkPolicy of a synthesized stack and lists the connections it
 * admits, as "from -> to:port" strings (sorted), so tests can compare them with an exact list.
 */
export function allowedEdges(json: SynthJson): Edge[] {
  const edges: Edge[] = [];
  for (const policy of Object.values(resourcesOf(json, 'kubernetes_network_policy_v1'))) {
    const to = policy.spec.pod_selector.match_labels?.['app.kubernetes.io/name'];
    if (!to) continue; // the namespace-wide default deny
    for (const rule of policy.spec.ingress ?? []) {
      const sources: string[] = rule.from
        ? rule.from.map((f: any) => f.pod_selector.match_labels['app.kubernetes.io/name'])
        : ['public'];
      for (const from of sources) for (const p of rule.ports) edges.push(`${from} -> ${to}:${p.port}`);
    }
  }
  return edges.sort();
}
