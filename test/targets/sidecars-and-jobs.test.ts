/** The workload model's sidecars and scheduled jobs, realized by both targets from one description. */
import { Construct } from 'constructs';
import { DockerTarget, KubernetesTarget, OSLO_REGION, WorkloadProps } from '../../lib';
import { findByName, newStack, resourcesOf, synthJson } from '../support/synth';
import { statefulWorkload } from '../support/workloads';

const RES = { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } };
const workload = (): WorkloadProps => statefulWorkload({
  replicas: 1,
  disruptionBudget: undefined,
  sidecars: [{ name: 'shipper', image: 'registry.example.no/shipper:2.0', command: ['ship', '--from', '/var/lib/ledger'], env: [{ name: 'MODE', value: 'push' }], resources: RES }],
  scheduledJobs: [{ name: 'snapshot', schedule: '15 3 * * *', command: ['ledger', 'snapshot'], resources: RES }],
  externalEgress: [{ cidrs: ['192.0.2.0/24'], ports: [443] }],
});

describe('sidecars and scheduled jobs on Kubernetes', () => {
  const { stack } = newStack();
  new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION }).deploy(new Construct(stack, 'ledger'), workload());
  const json = synthJson(stack);
  const pod = findByName(json, 'kubernetes_stateful_set_v1', 'ledger').spec.template.spec;

  it('puts the sidecar in the pod with the shared volumes, not the scratch', () => {
    expect(pod.container.map((c: any) => c.name)).toEqual(['datastore', 'shipper']);
    const mounts = pod.container[1].volume_mount.map((m: any) => m.mount_path);
    expect(mounts).toEqual(['/etc/ledger/ledger.conf', '/var/lib/ledger']);
    expect(pod.container[1].security_context).toEqual(pod.container[0].security_context);
  });

  it('runs the job as a CronJob on replica 0\'s claim, in UTC, never overlapping', () => {
    const cron = findByName(json, 'kubernetes_cron_job_v1', 'ledger-snapshot');
    expect(cron.spec).toEqual(expect.objectContaining({ schedule: '15 3 * * *', timezone: 'Etc/UTC', concurrency_policy: 'Forbid' }));
    const spec = cron.spec.job_template.spec.template.spec;
    expect(spec.container[0].image).toBe('registry.example.no/ledger:1.0.0');
    expect(spec.volume).toContainEqual({ name: 'data', persistent_volume_claim: { claim_name: 'data-ledger-0' } });
    expect(spec.affinity).toEqual(pod.affinity);
  });

  it('gives the pod and the job egress to the external destination only', () => {
    const rule = { to: [{ ip_block: { cidr: '192.0.2.0/24' } }], ports: [{ port: '443', protocol: 'TCP' }] };
    expect(findByName(json, 'kubernetes_network_policy_v1', 'ledger').spec.egress).toContainEqual(rule);
    const job = findByName(json, 'kubernetes_network_policy_v1', 'ledger-snapshot').spec;
    expect(job.pod_selector.match_labels).toEqual({ 'app.kubernetes.io/name': 'ledger-snapshot' });
    expect(job.egress).toContainEqual(rule);
    expect(job.ingress).toBeUndefined();
  });
});

describe('sidecars and scheduled jobs on Docker', () => {
  const { stack } = newStack();
  new DockerTarget(stack, 'docker', { location: OSLO_REGION }).deploy(new Construct(stack, 'ledger'), workload());
  const containers = Object.values(resourcesOf(synthJson(stack), 'docker_container')) as any[];

  it('runs the sidecar beside each replica on its volume, hardened alike', () => {
    const sidecar = containers.find((c) => c.name === 'sovereign-ledger-0-shipper');
    const replica = containers.find((c) => c.name === 'sovereign-ledger-0');
    expect(sidecar.entrypoint).toEqual(['ship', '--from', '/var/lib/ledger']);
    expect(sidecar.volumes[0]).toEqual(replica.volumes[0]);
    expect([sidecar.read_only, sidecar.user, sidecar.capabilities]).toEqual([replica.read_only, replica.user, replica.capabilities]);
    expect(sidecar.tmpfs).toBeUndefined();
  });

  it('creates the job stopped on replica 0\'s volume, its schedule in a label', () => {
    const job = containers.find((c) => c.name === 'sovereign-ledger-snapshot');
    expect(job.start).toBe(false);
    expect(job.restart).toBe('no');
    expect(job.entrypoint).toEqual(['ledger', 'snapshot']);
    expect(job.volumes[0].container_path).toBe('/var/lib/ledger');
    expect(job.labels).toContainEqual({ label: 'sovereign-stack.io/schedule', value: '15 3 * * * UTC' });
  });
});
