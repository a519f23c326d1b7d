import { KubernetesTarget, MicroService, OSLO_REGION } from '../../lib';
import { GATEWAY_RESOLVER_VALID_SECONDS, SERVICE_STOP_DELAY_SECONDS } from '../../lib/gateway/nginx-gateway';
import { userErrorOf } from '../support/errors';
import { findByName, newStack, synthJson } from '../support/synth';

function service(props: Partial<ConstructorParameters<typeof MicroService>[2]> = {}) {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  new MicroService(stack, 'orders', { target, name: 'orders', image: 'registry.example.no/orders:1.0.0', port: 8080, ...props });
  return findByName(synthJson(stack), 'kubernetes_deployment_v1', 'orders');
}

describe('MicroService', () => {
  it('runs 2 hardened replicas with a PDB-friendly graceful stop and TCP probes by default', () => {
    const d = service();
    const pod = d.spec.template.spec;
    expect(d.spec.replicas).toBe('2');
    // The gateway may route to a pod for its resolver validity (10 s) plus the DNS TTL (5 s) after
    // the pod leaves the endpoints: the pod keeps serving that long before it gets SIGTERM.
    expect(pod.container[0].lifecycle.pre_stop).toEqual([{ exec: { command: ['sh', '-c', 'sleep 15'] } }]);
    expect(GATEWAY_RESOLVER_VALID_SECONDS).toBe(10);
    expect(SERVICE_STOP_DELAY_SECONDS).toBeGreaterThanOrEqual(GATEWAY_RESOLVER_VALID_SECONDS + 5);
    expect(pod.termination_grace_period_seconds).toBe(45); // 15 s drain + 30 s for in-flight requests
    expect(pod.container[0].readiness_probe.tcp_socket).toEqual([{ port: '8080' }]);
    expect(pod.container[0].security_context.read_only_root_filesystem).toBe(true);
  });

  it('uses an HTTP probe with healthPath, and no shell hook for distroless images', () => {
    const pod = service({ healthPath: '/healthz', preStopDelaySeconds: 0 }).spec.template.spec;
    expect(pod.container[0].readiness_probe.http_get).toEqual({ path: '/healthz', port: '8080' });
    expect(pod.container[0].lifecycle).toBeUndefined();
    expect(pod.termination_grace_period_seconds).toBe(30);
  });

  it('rejects bad props with their path', () => {
    expect(userErrorOf(() => service({ port: 0 }))).toContain('props.port');
    expect(userErrorOf(() => service({ env: { 'BAD-NAME': 'x' } }))).toContain('props.env');
  });
});
