import { WorkloadProps } from '../../lib';

/** A 3-replica clustered datastore, the shape RabbitMQ and friends take. */
export function statefulWorkload(overrides: Partial<WorkloadProps> = {}): WorkloadProps {
  return {
    name: 'ledger',
    component: 'datastore',
    kind: 'stateful',
    image: 'registry.example.no/ledger:1.0.0',
    replicas: 3,
    ports: [{ name: 'db', containerPort: 5000 }],
    env: [
      { name: 'MODE', value: 'cluster' },
      { name: 'LEDGER_PASSWORD', secretRef: { secret: 'ledger-credentials', key: 'password' } },
    ],
    secrets: [{ source: 'generated', name: 'ledger-credentials', generated: { password: { length: 32 } }, plain: { username: 'ledger' } }],
    configFiles: [{ path: '/etc/ledger/ledger.conf', content: 'mode = cluster\n' }],
    volumes: [{ name: 'data', mountPath: '/var/lib/ledger', sizeGi: 20, dataKind: 'ledger-data' }],
    scratch: [{ name: 'tmp', mountPath: '/tmp' }],
    probes: { readiness: { exec: ['ledger', 'ping'] } },
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    securityContext: { runAsUser: 1000, runAsGroup: 1000 },
    placement: { datastore: true, spreadAcrossNodes: 'required' },
    ingress: [{ from: { workload: 'api' }, ports: [5000] }],
    disruptionBudget: { maxUnavailable: 1 },
    shutdown: { preStop: ['ledger', 'drain'], gracePeriodSeconds: 120 },
    ...overrides,
  };
}
