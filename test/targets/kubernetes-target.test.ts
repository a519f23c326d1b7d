import { Lazy, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { CSI_PROVISIONERS, KubernetesTarget, OSLO_REGION, PostgresDatabase, RabbitMqCluster } from '../../lib';
import { MAX_CONFIG_MAP_BYTES } from '../../lib/targets/kubernetes/kubernetes-target';
import { findByName, newStack, resourcesOf, synthJson } from '../support/synth';
import { statefulWorkload } from '../support/workloads';

function deployExample() {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });
  const deployed = target.deploy(stack, statefulWorkload());
  return { stack, target, deployed, json: synthJson(stack) };
}

describe('KubernetesTarget', () => {
  it('realizes a 3-replica stateful workload as StatefulSet + headless Service + NVMe claim templates', () => {
    const { json } = deployExample();
    const sts = findByName(json, 'kubernetes_stateful_set_v1', 'ledger');
    expect(sts.spec.replicas).toBe('3');
    expect(sts.spec.service_name).toBe('ledger-headless');
    expect(sts.spec.persistent_volume_claim_retention_policy).toEqual([{ when_deleted: 'Retain', when_scaled: 'Retain' }]);
    expect(sts.lifecycle.prevent_destroy).toBe(true);
    expect(sts.spec.volume_claim_template).toHaveLength(1);
    expect(sts.spec.volume_claim_template[0].spec).toEqual(expect.objectContaining({
      access_modes: ['ReadWriteOnce'], storage_class_name: 'nvme-retain', resources: { requests: { storage: '20Gi' } },
    }));

    const headless = findByName(json, 'kubernetes_service_v1', 'ledger-headless');
    expect(headless.spec.cluster_ip).toBe('None');

    const sc = findByName(json, 'kubernetes_storage_class_v1', 'nvme-retain');
    expect(sc).toEqual(expect.objectContaining({
      reclaim_policy: 'Retain', volume_binding_mode: 'WaitForFirstConsumer', allow_volume_expansion: true,
      storage_provisioner: 'topolvm.io',
    }));
    // TopoLVM reports only topology.topolvm.io/node: a region key here would leave every claim Pending.
    expect(sc.allowed_topologies).toBeUndefined();
    expect(sc.lifecycle.prevent_destroy).toBe(true);
  });

  it('requires the region and the KVM/NVMe node labels, and spreads replicas over nodes', () => {
    const { json } = deployExample();
    const spec = findByName(json, 'kubernetes_stateful_set_v1', 'ledger').spec.template.spec;
    const terms = spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_term;
    expect(terms).toEqual([{ match_expressions: [
      { key: 'topology.kubernetes.io/region', operator: 'In', values: ['oslo-1'] },
      { key: 'node-restriction.kubernetes.io/sovereign-stack-region', operator: 'In', values: ['oslo-1'] },
      { key: 'node-restriction.kubernetes.io/sovereign-stack-hypervisor', operator: 'In', values: ['kvm'] },
      { key: 'node-restriction.kubernetes.io/sovereign-stack-disk', operator: 'In', values: ['nvme'] },
    ] }]);
    expect(spec.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution[0].topology_key).toBe('kubernetes.io/hostname');
  });

  it('hardens the pod and references secrets instead of embedding them', () => {
    const { json } = deployExample();
    const pod = findByName(json, 'kubernetes_stateful_set_v1', 'ledger').spec.template.spec;
    expect(pod.automount_service_account_token).toBe(false);
    expect(pod.security_context).toEqual(expect.objectContaining({ run_as_non_root: true, run_as_user: '1000', seccomp_profile: { type: 'RuntimeDefault' } }));
    const c = pod.container[0];
    expect(c.security_context).toEqual(expect.objectContaining({
      allow_privilege_escalation: false, read_only_root_filesystem: true, capabilities: { drop: ['ALL'] },
    }));
    expect(c.env).toContainEqual({ name: 'LEDGER_PASSWORD', value_from: { secret_key_ref: { name: 'ledger-credentials', key: 'password' } } });
    expect(c.lifecycle.pre_stop).toEqual([{ exec: { command: ['ledger', 'drain'] } }]);
    expect(pod.termination_grace_period_seconds).toBe(120);
    const secret = findByName(json, 'kubernetes_secret_v1', 'ledger-credentials');
    expect(secret.data.password).toMatch(/^\$\{random_password\.[a-z0-9_-]+\.result\}$/);
    expect(secret.data.username).toBe('ledger');
  });

  it('denies ingress by default and admits exactly the workload rules, including ones added later', () => {
    const { stack, target, deployed } = deployExample();
    const api = target.deploy(new Construct(stack, 'api'), { name: 'api', component: 'service', kind: 'stateless', image: 'registry.example.no/api:1', ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } } });
    deployed.allowFrom(api, [5000]); // duplicate of the initial rule: must not be added twice
    const json = synthJson(stack);
    expect(findByName(json, 'kubernetes_network_policy_v1', 'default-deny').spec).toEqual({ pod_selector: {}, policy_types: ['Ingress', 'Egress'] });
    const policy = findByName(json, 'kubernetes_network_policy_v1', 'ledger');
    expect(policy.spec.ingress).toEqual([{ ports: [{ port: '5000', protocol: 'TCP' }], from: [{ pod_selector: { match_labels: { 'app.kubernetes.io/name': 'api' } } }] }]);
    expect(findByName(json, 'kubernetes_network_policy_v1', 'api').spec.ingress).toEqual([]);
    expect(findByName(json, 'kubernetes_pod_disruption_budget_v1', 'ledger').spec.max_unavailable).toBe('1');
    expect(Object.keys(resourcesOf(json, 'kubernetes_deployment_v1'))).toHaveLength(1);
    // Stateless workloads get a headless Service too: one DNS answer per pod for self-balancing clients.
    expect(findByName(json, 'kubernetes_service_v1', 'api-headless').spec).toEqual(expect.objectContaining({ cluster_ip: 'None', publish_not_ready_addresses: false }));
  });

  it('reaches workloads through their Service port, or each pod through the headless Service', () => {
    const { deployed, target } = deployExample();
    expect(deployed.endpoint(5000)).toEqual({ host: 'ledger.platform.svc.cluster.local', port: 5000 });
    expect(deployed.podsEndpoint(5000)).toEqual({ host: 'ledger-headless.platform.svc.cluster.local', port: 5000 });
    expect(target.dnsResolver).toBe('kube-dns.kube-system.svc.cluster.local');
    expect(deployed.publicPort(5000)).toBeUndefined(); // not public
    expect(deployed.replicaHosts[2]).toBe('ledger-2.ledger-headless.platform.svc.cluster.local');
  });

  it('adds generated secret keys after construction', () => {
    const { stack, deployed } = deployExample();
    deployed.addGeneratedSecretKey('ledger-credentials', 'invoices', { length: 40 });
    const json = synthJson(stack);
    const data = findByName(json, 'kubernetes_secret_v1', 'ledger-credentials').data;
    expect(Object.keys(data).sort()).toEqual(['invoices', 'password', 'username']);
    expect(data.invoices).toMatch(/^\$\{random_password\.[a-z0-9_-]+\.result\}$/);
    expect(Object.values(resourcesOf(json, 'random_password')).map((p: any) => p.length).sort()).toEqual([32, 40]);
    expect(() => deployed.addGeneratedSecretKey('nope', 'x')).toThrow(/no generated secret "nope"/);
  });

  it('uses an existing namespace and StorageClass without creating them', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', {
      region: OSLO_REGION, namespace: 'payments', createNamespace: false,
      storage: { existingStorageClassName: 'local-nvme' }, datastoreNodeLabels: { 'node.example.no/disk': 'nvme' },
    });
    target.deploy(stack, statefulWorkload());
    const json = synthJson(stack);
    expect(resourcesOf(json, 'kubernetes_namespace_v1')).toEqual({});
    expect(resourcesOf(json, 'kubernetes_storage_class_v1')).toEqual({});
    const sts = findByName(json, 'kubernetes_stateful_set_v1', 'ledger');
    expect(sts.metadata.namespace).toBe('payments');
    expect(sts.depends_on).toBeUndefined();
    expect(sts.spec.volume_claim_template[0].spec.storage_class_name).toBe('local-nvme');
    expect(sts.spec.template.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_term[0].match_expressions)
      .toEqual([
        { key: 'topology.kubernetes.io/region', operator: 'In', values: ['oslo-1'] },
        { key: 'node-restriction.kubernetes.io/sovereign-stack-region', operator: 'In', values: ['oslo-1'] },
        { key: 'node.example.no/disk', operator: 'In', values: ['nvme'] },
      ]);
  });

  it('rejects bad target props with the prop path', () => {
    const { stack } = newStack('test', { stateLocation: false });
    expect(() => new KubernetesTarget(stack, 'a', { region: OSLO_REGION, namespace: 'Platform' })).toThrow(/KubernetesTarget a props\.namespace: must be a DNS-1123 label/);
    expect(() => new KubernetesTarget(stack, 'b', { region: '' })).toThrow(/props\.region/);
    expect(stack.node.children).toHaveLength(0); // nothing half-built
  });

  it('fails synthesis when a workload reads a secret nobody declares', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    target.deploy(stack, statefulWorkload({ secrets: [] }));
    expect(() => synthJson(stack)).toThrow(/reads secret "ledger-credentials", which no workload on this target declares/);
  });

  it('refuses two workloads with the same name', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    target.deploy(new Construct(stack, 'a'), statefulWorkload());
    expect(() => target.deploy(new Construct(stack, 'b'), statefulWorkload())).toThrow(/already deployed/);
    expect(() => target.deploy(stack, statefulWorkload({ name: 'other' }))).not.toThrow();
    expect(() => target.deploy(stack, statefulWorkload({ name: 'third' }))).toThrow(/already holds a workload/);
  });

  describe('deployable as emitted', () => {
    const regionPin = (spec: any) => spec.template.spec.affinity.node_affinity
      .required_during_scheduling_ignored_during_execution.node_selector_term;

    it.each(Object.keys(CSI_PROVISIONERS))('%s: StorageClass topology keys are ones the driver reports; datastores stay pinned to the region', (provisioner) => {
      const { stack } = newStack();
      const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, storage: { provisioner, parameters: {} } });
      new PostgresDatabase(stack, 'db', { target, serviceName: 'orders' });
      new RabbitMqCluster(stack, 'mq', { target });
      const json = synthJson(stack);
      const sc = findByName(json, 'kubernetes_storage_class_v1', 'nvme-retain');
      const keys = (sc.allowed_topologies?.match_label_expressions ?? []).map((e: any) => e.key);
      for (const key of keys) expect(CSI_PROVISIONERS[provisioner].topologyKeys).toContain(key);
      const statefulSets = Object.values(resourcesOf(json, 'kubernetes_stateful_set_v1'));
      expect(statefulSets).toHaveLength(2);
      for (const sts of statefulSets as any[]) {
        const terms = regionPin(sts.spec);
        expect(terms).toHaveLength(1); // terms are ORed: one term, or the pin has a hole
        expect(terms[0].match_expressions).toEqual(expect.arrayContaining([
          { key: 'topology.kubernetes.io/region', operator: 'In', values: ['oslo-1'] },
          { key: 'node-restriction.kubernetes.io/sovereign-stack-region', operator: 'In', values: ['oslo-1'] },
        ]));
      }
    });

    it('pins the StorageClass to the region only with a key the provisioner reports for it', () => {
      const { stack } = newStack();
      new KubernetesTarget(stack, 'cluster', {
        region: OSLO_REGION,
        storage: { provisioner: 'csi.example.no', parameters: {}, topology: { topologyKeys: ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone'], regionKey: 'topology.kubernetes.io/region' } },
      });
      const sc = findByName(synthJson(stack), 'kubernetes_storage_class_v1', 'nvme-retain');
      expect(sc.allowed_topologies).toEqual({ match_label_expressions: [{ key: 'topology.kubernetes.io/region', values: ['oslo-1'] }] });
      expect(() => new KubernetesTarget(newStack().stack, 'c', {
        region: OSLO_REGION, storage: { provisioner: 'csi.example.no', topology: { topologyKeys: ['a.example/zone'], regionKey: 'b.example/region' } },
      })).toThrow(/props\.storage\.topology\.regionKey: regionKey must be one of topologyKeys/);
    });

    it('makes apply wait for rollouts and load balancers, with timeouts, unless told not to', () => {
      const { json } = deployExample();
      const sts = findByName(json, 'kubernetes_stateful_set_v1', 'ledger');
      expect(sts.wait_for_rollout).toBe(true);
      expect(sts.timeouts).toEqual({ create: '15m', update: '15m', delete: '15m' });

      const { stack } = newStack();
      const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, waitForRollout: false, rolloutTimeout: '5m', waitForLoadBalancer: false });
      target.deploy(stack, { name: 'edge', component: 'gateway', kind: 'stateless', image: 'nginx:1.27.3', public: true, ports: [{ name: 'https', containerPort: 8443 }], resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } } });
      const out = synthJson(stack);
      const deployment = findByName(out, 'kubernetes_deployment_v1', 'edge');
      expect(deployment.wait_for_rollout).toBe(false);
      expect(deployment.timeouts.create).toBe('5m');
      expect(findByName(out, 'kubernetes_service_v1', 'edge').wait_for_load_balancer).toBe(false);
      expect(findByName(deployExampleWithPublic(), 'kubernetes_service_v1', 'edge').wait_for_load_balancer).toBe(true);
      expect(() => new KubernetesTarget(newStack().stack, 'c', { region: OSLO_REGION, rolloutTimeout: 'soon' })).toThrow(/props\.rolloutTimeout: must be a duration/);
    });

    it('ignores claim-template changes so growing a volume never plans a destroy', () => {
      const { json } = deployExample();
      const sts = findByName(json, 'kubernetes_stateful_set_v1', 'ledger');
      expect(sts.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: ['spec[0].volume_claim_template'] });
    });

    it('uses one cluster domain and DNS resolver everywhere', () => {
      const { stack } = newStack();
      const target = new KubernetesTarget(stack, 'cluster', {
        region: OSLO_REGION, clusterDomain: 'oslo.internal',
        clusterDnsPods: { namespace: 'openshift-dns', podLabels: { 'dns.operator.openshift.io/daemonset-dns': 'default' }, ports: [5353] },
      });
      const deployed = target.deploy(stack, statefulWorkload());
      expect(target.dnsResolver).toBe('kube-dns.kube-system.svc.oslo.internal');
      expect(deployed.endpoint(5000).host).toBe('ledger.platform.svc.oslo.internal');
      expect(deployed.replicaHosts[0]).toBe('ledger-0.ledger-headless.platform.svc.oslo.internal');
      const mq = new RabbitMqCluster(stack, 'mq', { target });
      const json = synthJson(stack);
      expect(JSON.stringify(json)).not.toContain('cluster.local');
      expect(findByName(json, 'kubernetes_config_map_v1', 'rabbitmq-config').data['etc_rabbitmq_rabbitmq.conf'])
        .toContain('cluster_formation.k8s.hostname_suffix = .rabbitmq-headless.platform.svc.oslo.internal');
      expect(mq.workload.host).toBe('rabbitmq.platform.svc.oslo.internal');
      const dnsRule = findByName(json, 'kubernetes_network_policy_v1', 'ledger').spec.egress[0];
      expect(dnsRule.to).toEqual([{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'openshift-dns' } }, pod_selector: { match_labels: { 'dns.operator.openshift.io/daemonset-dns': 'default' } } }]);
      expect(dnsRule.ports).toEqual([{ port: '5353', protocol: 'UDP' }, { port: '5353', protocol: 'TCP' }]);
      const custom = new KubernetesTarget(newStack().stack, 'c', { region: OSLO_REGION, clusterDns: '10.43.0.10' });
      expect(custom.dnsResolver).toBe('10.43.0.10');
    });

    it('pins datastores with labels a kubelet cannot set on its own node by default', () => {
      const { json } = deployExample();
      const expressions = regionPin(findByName(json, 'kubernetes_stateful_set_v1', 'ledger').spec)[0].match_expressions;
      const restricted = expressions.filter((e: any) => e.key.startsWith('node-restriction.kubernetes.io/'));
      expect(restricted.map((e: any) => e.key)).toEqual([
        'node-restriction.kubernetes.io/sovereign-stack-region',
        'node-restriction.kubernetes.io/sovereign-stack-hypervisor',
        'node-restriction.kubernetes.io/sovereign-stack-disk',
      ]);
    });
  });
});

describe('KubernetesTarget ConfigMap size', () => {
  /** `ascii` bytes in one file and 1,000 two-byte characters in a lazy one (what counts is what synthesis writes, in UTF-8). */
  function withConfig(ascii: number) {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    target.deploy(new Construct(stack, 'big'), {
      name: 'big', component: 'gateway', kind: 'stateless', image: 'nginx:1.27.3',
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      configFiles: [
        { path: '/etc/big/a.conf', content: 'a'.repeat(ascii) },
        { path: '/etc/big/b.conf', content: Lazy.stringValue({ produce: () => 'ø'.repeat(1000) }) },
      ],
    });
    return stack;
  }

  it('accepts config files up to 1 MiB in all', () => {
    expect(() => Testing.synth(withConfig(MAX_CONFIG_MAP_BYTES - 2000), true)).not.toThrow();
  });

  it('refuses at synth a ConfigMap the API server would refuse at apply, counting UTF-8 bytes of resolved content', () => {
    expect(() => Testing.synth(withConfig(MAX_CONFIG_MAP_BYTES - 1999), true))
      .toThrow(/ConfigMap "big-config" would hold 1048577 bytes of config files \(\/etc\/big\/a\.conf: 1046577\); Kubernetes refuses a ConfigMap over 1048576 bytes/);
  });
});

function deployExampleWithPublic() {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  target.deploy(stack, { name: 'edge', component: 'gateway', kind: 'stateless', image: 'nginx:1.27.3', public: true, ports: [{ name: 'https', containerPort: 8443 }], resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } } });
  return synthJson(stack);
}
