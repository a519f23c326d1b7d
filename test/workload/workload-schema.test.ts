import { SovereignStackError } from '../../lib';
import { parseProps } from '../../lib/util/errors';
import { WorkloadSchema } from '../../lib/workload/workload';
import { statefulWorkload } from '../support/workloads';

function errorOf(overrides: object): string {
  try {
    parseProps(WorkloadSchema, { ...statefulWorkload(), ...overrides }, 'workload');
  } catch (e) {
    expect(e).toBeInstanceOf(SovereignStackError);
    return (e as Error).message;
  }
  throw new Error('expected the workload to be rejected');
}

const RES = { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } };

describe('Workload schema', () => {
  it('accepts the example and applies defaults', () => {
    const w = parseProps(WorkloadSchema, statefulWorkload(), 'workload');
    expect(w.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(w.shutdown.stopSignal).toBe('SIGTERM');
    expect(w.volumes[0].role).toBe('datastore');
  });

  it.each([
    ['a port of 70000', { ports: [{ name: 'db', containerPort: 70000 }] }, 'workload.ports[0].containerPort', 'between 1 and 65535'],
    ['replicas of 0', { replicas: 0 }, 'workload.replicas', 'at least 1'],
    ['an image with whitespace', { image: 'nginx :1.27' }, 'workload.image', 'image reference'],
    ['a name that is not a DNS-1123 label', { name: 'Ledger_DB' }, 'workload.name', 'DNS-1123 label'],
    ['an env name with a dash', { env: [{ name: 'BAD-NAME', value: 'x' }] }, 'workload.env[0]', ''],
    ['a relative config path', { configFiles: [{ path: 'etc/x.conf', content: '' }] }, 'workload.configFiles[0].path', 'absolute path'],
    ['a memory limit without unit', { resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '1024' } } }, 'workload.resources.limits.memory', 'Mi'],
    ['volumes on a stateless workload', { kind: 'stateless' }, 'workload.volumes', 'only stateful'],
    ['minAvailable equal to replicas', { disruptionBudget: { minAvailable: 3 } }, 'workload.disruptionBudget.minAvailable', 'below replicas'],
    ['a job schedule that is not cron', { replicas: 1, disruptionBudget: undefined, scheduledJobs: [{ name: 'backup', schedule: '@weekly', command: ['x'], resources: RES }] }, 'workload.scheduledJobs[0].schedule', 'five fields'],
    ['scheduled jobs on three replicas', { scheduledJobs: [{ name: 'backup', schedule: '0 1 * * 0', command: ['x'], resources: RES }] }, 'workload.scheduledJobs', 'single-replica stateful'],
    ['a sidecar named like the main container', { sidecars: [{ name: 'datastore', image: 'x:1', resources: RES }] }, 'workload.sidecars[0].name', 'must differ'],
    ['duplicate sidecars', { sidecars: [{ name: 'a', image: 'x:1', resources: RES }, { name: 'a', image: 'x:1', resources: RES }] }, 'workload.sidecars[1]', 'duplicate'],
    ['external egress without a CIDR', { externalEgress: [{ cidrs: ['s3.example.no'], ports: [443] }] }, 'workload.externalEgress[0].cidrs[0]', 'CIDR'],
    ['duplicate port names', { ports: [{ name: 'db', containerPort: 1 }, { name: 'db', containerPort: 2 }] }, 'workload.ports[1]', 'duplicate'],
  ])('rejects %s, naming the path and the rule', (_what, overrides, path, rule) => {
    const message = errorOf(overrides);
    expect(message).toContain(path);
    expect(message).toContain(rule);
  });
});
