/**
 * Bench fixture: the benchmark's platform written by hand with plain cdktf and the typed provider
 * resources, without sovereign-stack. `npm run bench` compares our ReferenceDeployment against it.
 *
 * It has the same shape as what ReferenceDeployment on a KubernetesTarget synthesizes for services
 * that are each routed, have a database and use the broker: the same resource types and the same
 * number of each per service (16), the same shared resources (22), the same Terraform outputs, and
 * configuration files of about the same kind (nginx.conf with an upstream and a location per
 * service; postgresql.conf, pg_hba.conf and an init script per database; rabbitmq.conf,
 * definitions.json with each service's queues and bindings, and a user bootstrap script listing
 * every service's user). test/bench/bench-fixture.test.ts keeps the counts equal to ours.
 *
 * Written as a user would: a loop over services, helper functions, literal namespaces with an
 * explicit dependency on the namespace, template strings for the configuration files. No
 * validation, no residency guard: those are what the library adds, and what the bench prices.
 * Imports: cdktf and the providers' deep modules only (never a provider barrel, never the library).
 */
import { createHash } from 'crypto';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { NetworkPolicyV1, NetworkPolicyV1SpecEgress, NetworkPolicyV1SpecIngress } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { RoleBindingV1 } from '@cdktf/provider-kubernetes/lib/role-binding-v1';
import { RoleV1 } from '@cdktf/provider-kubernetes/lib/role-v1';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import {
  StatefulSetV1, StatefulSetV1SpecTemplateSpecAffinity, StatefulSetV1SpecTemplateSpecContainerSecurityContext,
} from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { StorageClassV1 } from '@cdktf/provider-kubernetes/lib/storage-class-v1';
import { Password } from '@cdktf/provider-random/lib/password';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';

/** One service of the bench platform: routed, with its own database, publishing and consuming. */
export interface PlainService {
  readonly name: string;
  readonly image: string;
  readonly port: number;
  readonly route: string;
  readonly publishes: string;
  readonly consumes: string;
}

/** The bench's services, the same as bench/ours-platform.ts gives ReferenceDeployment. */
export function plainServices(n: number): PlainService[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `svc-${i}`, image: 'registry.example.no/svc:1.0.0', port: 8080, route: `/v1/svc-${i}`,
    publishes: `svc-${i}.changed`, consumes: `svc-${(i + 1) % n}.changed`,
  }));
}

const NS = 'platform';
const REGION = 'oslo-1';
const STORAGE_CLASS = 'nvme-retain';
const TIMEOUTS = { create: '15m', update: '15m', delete: '15m' };
const DNS_EGRESS: NetworkPolicyV1SpecEgress = {
  to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
  ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }],
};
const CONTAINER_SECURITY: StatefulSetV1SpecTemplateSpecContainerSecurityContext = {
  allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
  capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
};
const DATASTORE_AFFINITY: StatefulSetV1SpecTemplateSpecAffinity = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerm: [{
        matchExpressions: [
          { key: 'topology.kubernetes.io/region', operator: 'In', values: [REGION] },
          { key: 'node-restriction.kubernetes.io/platform-region', operator: 'In', values: [REGION] },
          { key: 'node-restriction.kubernetes.io/platform-hypervisor', operator: 'In', values: ['kvm'] },
          { key: 'node-restriction.kubernetes.io/platform-disk', operator: 'In', values: ['nvme'] },
        ],
      }],
    },
  },
};

function labels(name: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/component': component, 'app.kubernetes.io/managed-by': 'terraform',
    'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'platform',
  };
}

function selector(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name };
}

function hash(data: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16);
}

/** Builds the platform for `services` in `stack`: providers, cluster objects, gateway, broker, services. */
export function plainPlatform(stack: TerraformStack, services: readonly PlainService[]): void {
  new KubernetesProvider(stack, 'kubernetes', {});
  new RandomProvider(stack, 'random', {});

  // Cluster: namespace, default-deny policy, the NVMe storage class.
  const namespace = new NamespaceV1(stack, 'namespace', {
    metadata: { name: NS, labels: { 'app.kubernetes.io/managed-by': 'terraform', 'app.kubernetes.io/part-of': 'platform' } },
  });
  const dependsOn = [namespace];
  new NetworkPolicyV1(stack, 'default-deny', {
    dependsOn, metadata: { name: 'default-deny', namespace: NS }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  });
  const storageClass = new StorageClassV1(stack, 'nvme-storage-class', {
    metadata: { name: STORAGE_CLASS, labels: { 'app.kubernetes.io/part-of': 'platform' } },
    storageProvisioner: 'topolvm.io', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true,
    parameters: { 'topolvm.io/device-class': 'nvme', 'csi.storage.k8s.io/fstype': 'xfs' },
    lifecycle: { preventDestroy: true },
  });

  const withStorage = [namespace, storageClass];
  const gatewayAddress = gateway(stack, dependsOn, services);
  const brokerUsers = broker(stack, dependsOn, withStorage, services);
  for (const s of services) {
    const db = database(stack, dependsOn, withStorage, s);
    service(stack, dependsOn, s, brokerUsers);
    new TerraformOutput(stack, `${s.name}-database-host`, { value: db.host, description: `PostgreSQL host of service ${s.name}` });
    new TerraformOutput(stack, `${s.name}-database-credentials-secret`, {
      value: db.secretName, description: `name of the Secret with the PostgreSQL passwords of service ${s.name}`,
    });
  }
  new TerraformOutput(stack, 'gateway-address', { value: gatewayAddress, description: 'where clients reach the gateway' });
  new TerraformOutput(stack, 'broker-endpoint', { value: `rabbitmq.${NS}.svc.cluster.local:5672`, description: 'AMQP endpoint of the broker' });
}

/** An application service: Deployment, Service, headless Service, ServiceAccount, NetworkPolicy, PDB. */
function service(stack: TerraformStack, dependsOn: NamespaceV1[], s: PlainService, brokerUsers: string): void {
  const l = labels(s.name, 'service');
  const dbName = s.name.replace(/-/g, '_');
  new ServiceAccountV1(stack, `${s.name}-service-account`, { dependsOn, metadata: { name: s.name, namespace: NS, labels: l }, automountServiceAccountToken: false });
  new DeploymentV1(stack, `${s.name}-deployment`, {
    dependsOn, metadata: { name: s.name, namespace: NS, labels: l }, waitForRollout: true, timeouts: TIMEOUTS,
    spec: {
      replicas: '2', selector: { matchLabels: selector(s.name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '1', maxUnavailable: '0' } },
      template: {
        metadata: { labels: l, annotations: {} },
        spec: {
          serviceAccountName: s.name, automountServiceAccountToken: false, enableServiceLinks: false, terminationGracePeriodSeconds: 35,
          securityContext: { runAsNonRoot: true, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' } },
          topologySpreadConstraint: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: [{ matchLabels: selector(s.name) }] }],
          container: [{
            name: 'service', image: s.image, imagePullPolicy: 'IfNotPresent',
            port: [{ name: 'http', containerPort: s.port, protocol: 'TCP' }],
            env: [
              { name: 'DATABASE_HOST', value: `${s.name}-db.${NS}.svc.cluster.local` },
              { name: 'DATABASE_PORT', value: '5432' },
              { name: 'DATABASE_NAME', value: dbName },
              { name: 'DATABASE_USER', value: dbName },
              { name: 'DATABASE_PASSWORD', valueFrom: { secretKeyRef: { name: `${s.name}-db-credentials`, key: 'password' } } },
              { name: 'AMQP_HOST', value: `rabbitmq.${NS}.svc.cluster.local` },
              { name: 'AMQP_PORT', value: '5672' },
              { name: 'AMQP_VHOST', value: NS },
              { name: 'AMQP_USER', value: s.name },
              { name: 'AMQP_EXCHANGE', value: 'events' },
              { name: 'AMQP_PASSWORD', valueFrom: { secretKeyRef: { name: brokerUsers, key: s.name } } },
            ],
            resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
            livenessProbe: { tcpSocket: [{ port: String(s.port) }], initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
            readinessProbe: { tcpSocket: [{ port: String(s.port) }], initialDelaySeconds: 0, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3 },
            lifecycle: { preStop: [{ exec: { command: ['sh', '-c', 'sleep 5'] } }] },
            securityContext: CONTAINER_SECURITY,
            volumeMount: [{ name: 'tmp', mountPath: '/tmp' }],
          }],
          volume: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  });
  new ServiceV1(stack, `${s.name}-service`, {
    dependsOn, metadata: { name: s.name, namespace: NS, labels: l },
    spec: { type: 'ClusterIP', selector: selector(s.name), port: [{ name: 'http', port: s.port, targetPort: 'http', protocol: 'TCP' }] },
  });
  new ServiceV1(stack, `${s.name}-headless-service`, {
    dependsOn, metadata: { name: `${s.name}-headless`, namespace: NS, labels: l },
    spec: { clusterIp: 'None', publishNotReadyAddresses: false, selector: selector(s.name), port: [{ name: 'http', port: s.port, targetPort: 'http', protocol: 'TCP' }] },
  });
  new NetworkPolicyV1(stack, `${s.name}-network-policy`, {
    dependsOn, metadata: { name: s.name, namespace: NS, labels: l },
    spec: {
      podSelector: { matchLabels: selector(s.name) }, policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchLabels: selector('gateway') } }], ports: [{ port: String(s.port), protocol: 'TCP' }] }],
      egress: [
        DNS_EGRESS,
        { to: [{ podSelector: { matchLabels: selector(`${s.name}-db`) } }], ports: [{ port: '5432', protocol: 'TCP' }] },
        { to: [{ podSelector: { matchLabels: selector('rabbitmq') } }], ports: [{ port: '5672', protocol: 'TCP' }] },
      ],
    },
  });
  new PodDisruptionBudgetV1(stack, `${s.name}-disruption-budget`, {
    dependsOn, metadata: { name: s.name, namespace: NS, labels: l }, spec: { maxUnavailable: '1', selector: { matchLabels: selector(s.name) } },
  });
}

/** A service's PostgreSQL: StatefulSet (with the metrics exporter), two Services, ServiceAccount, NetworkPolicy, ConfigMap, two Secrets, three passwords. */
function database(stack: TerraformStack, dependsOn: NamespaceV1[], withStorage: Array<NamespaceV1 | StorageClassV1>, s: PlainService): { host: string; secretName: string } {
  const name = `${s.name}-db`;
  const role = s.name.replace(/-/g, '_');
  const l = labels(name, 'postgresql');
  const secretName = `${name}-credentials`;
  const password = new Password(stack, `${name}-password`, { length: 32, special: false, lifecycle: { preventDestroy: true } });
  const superuserPassword = new Password(stack, `${name}-superuser-password`, { length: 32, special: false, lifecycle: { preventDestroy: true } });
  new SecretV1(stack, `${name}-credentials`, {
    dependsOn, metadata: { name: secretName, namespace: NS, labels: l }, type: 'Opaque', lifecycle: { preventDestroy: true },
    data: { username: role, database: role, password: password.result, 'superuser-password': superuserPassword.result },
  });
  // The metrics exporter's role password, in a Secret of its own.
  const monitoringPassword = new Password(stack, `${name}-monitoring-password`, { length: 32, special: false, lifecycle: { preventDestroy: true } });
  new SecretV1(stack, `${name}-monitoring`, {
    dependsOn, metadata: { name: `${name}-monitoring`, namespace: NS, labels: l }, type: 'Opaque', lifecycle: { preventDestroy: true },
    data: { username: 'sovereign_monitoring', password: monitoringPassword.result },
  });
  const config = {
    'etc_postgresql_postgresql.conf': POSTGRESQL_CONF,
    'etc_postgresql_pg_hba.conf': pgHbaConf(role),
    'docker-entrypoint-initdb.d_10-create-owner.sh': initOwnerScript(role),
  };
  new ConfigMapV1(stack, `${name}-config`, { dependsOn, metadata: { name: `${name}-config`, namespace: NS, labels: l }, data: config });
  new ServiceAccountV1(stack, `${name}-service-account`, { dependsOn, metadata: { name, namespace: NS, labels: l }, automountServiceAccountToken: false });
  const pgPort = [{ name: 'postgres', port: 5432, targetPort: 'postgres', protocol: 'TCP' }];
  new ServiceV1(stack, `${name}-service`, { dependsOn, metadata: { name, namespace: NS, labels: l }, spec: { type: 'ClusterIP', selector: selector(name), port: pgPort } });
  new ServiceV1(stack, `${name}-headless-service`, {
    dependsOn, metadata: { name: `${name}-headless`, namespace: NS, labels: l },
    spec: { clusterIp: 'None', publishNotReadyAddresses: false, selector: selector(name), port: pgPort },
  });
  new NetworkPolicyV1(stack, `${name}-network-policy`, {
    dependsOn, metadata: { name, namespace: NS, labels: l },
    spec: {
      podSelector: { matchLabels: selector(name) }, policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: selector(s.name) } }], ports: [{ port: '5432', protocol: 'TCP' }] },
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }], ports: [{ port: '9187', protocol: 'TCP' }] },
      ],
      egress: [DNS_EGRESS],
    },
  });
  const pgIsReady = { command: ['pg_isready', '-U', 'postgres', '-h', '/var/run/postgresql'] };
  const mountConfig = (file: string, at: string) => ({ name: 'config', mountPath: at, subPath: file, readOnly: true });
  new StatefulSetV1(stack, `${name}-statefulset`, {
    dependsOn: withStorage, metadata: { name, namespace: NS, labels: l }, waitForRollout: true, timeouts: TIMEOUTS,
    lifecycle: { preventDestroy: true, ignoreChanges: ['spec[0].volume_claim_template'] },
    spec: {
      replicas: '1', serviceName: `${name}-headless`, podManagementPolicy: 'OrderedReady', selector: { matchLabels: selector(name) },
      updateStrategy: [{ type: 'RollingUpdate' }],
      persistentVolumeClaimRetentionPolicy: [{ whenDeleted: 'Retain', whenScaled: 'Retain' }],
      template: {
        metadata: { labels: l, annotations: { 'platform.example.no/config-hash': hash(config) } },
        spec: {
          serviceAccountName: name, automountServiceAccountToken: false, enableServiceLinks: false, terminationGracePeriodSeconds: 120,
          affinity: DATASTORE_AFFINITY,
          securityContext: {
            runAsNonRoot: true, runAsUser: '999', runAsGroup: '999', fsGroup: '999', fsGroupChangePolicy: 'OnRootMismatch',
            seccompProfile: { type: 'RuntimeDefault' },
          },
          container: [{
            name: 'postgresql', image: 'postgres:17.2', imagePullPolicy: 'IfNotPresent', args: ['-c', 'config_file=/etc/postgresql/postgresql.conf'],
            port: [{ name: 'postgres', containerPort: 5432, protocol: 'TCP' }],
            env: [
              { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
              { name: 'POSTGRES_USER', value: 'postgres' },
              { name: 'POSTGRES_PASSWORD_FILE', value: '/run/secrets/postgresql/superuser-password' },
              { name: 'OWNER_PASSWORD_FILE', value: '/run/secrets/postgresql/password' },
              { name: 'POSTGRES_INITDB_ARGS', value: '--data-checksums' },
            ],
            resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '2Gi' } },
            startupProbe: { exec: pgIsReady, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 90 },
            livenessProbe: { exec: pgIsReady, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
            readinessProbe: { exec: pgIsReady, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
            lifecycle: { preStop: [{ exec: { command: ['pg_ctl', 'stop', '--mode=fast', '--no-wait'] } }] },
            securityContext: CONTAINER_SECURITY,
            volumeMount: [
              mountConfig('etc_postgresql_postgresql.conf', '/etc/postgresql/postgresql.conf'),
              mountConfig('etc_postgresql_pg_hba.conf', '/etc/postgresql/pg_hba.conf'),
              mountConfig('docker-entrypoint-initdb.d_10-create-owner.sh', '/docker-entrypoint-initdb.d/10-create-owner.sh'),
              { name: 'credentials', mountPath: '/run/secrets/postgresql', readOnly: true },
              { name: 'run', mountPath: '/var/run/postgresql' },
              { name: 'tmp', mountPath: '/tmp' },
              { name: 'shm', mountPath: '/dev/shm' },
              { name: 'data', mountPath: '/var/lib/postgresql/data' },
              { name: 'monitoring', mountPath: '/run/secrets/postgresql-monitoring', readOnly: true },
            ],
          }, {
            name: 'postgres-exporter', image: 'quay.io/prometheuscommunity/postgres-exporter:v0.20.1', imagePullPolicy: 'IfNotPresent',
            args: ['--web.listen-address=:9187'],
            port: [{ name: 'metrics', containerPort: 9187, protocol: 'TCP' }],
            env: [
              { name: 'DATA_SOURCE_URI', value: '127.0.0.1:5432/postgres?sslmode=disable' },
              { name: 'DATA_SOURCE_USER', value: 'sovereign_monitoring' },
              { name: 'DATA_SOURCE_PASS_FILE', value: '/run/secrets/postgresql-monitoring/password' },
            ],
            resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
            securityContext: CONTAINER_SECURITY,
            volumeMount: [{ name: 'monitoring', mountPath: '/run/secrets/postgresql-monitoring', readOnly: true }],
          }],
          volume: [
            { name: 'config', configMap: { name: `${name}-config`, defaultMode: '0444' } },
            { name: 'credentials', secret: { secretName, defaultMode: '0440' } },
            { name: 'monitoring', secret: { secretName: `${name}-monitoring`, defaultMode: '0440' } },
            { name: 'run', emptyDir: { sizeLimit: '16Mi' } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '512Mi' } },
          ],
        },
      },
      volumeClaimTemplate: [{
        metadata: { name: 'data', labels: l },
        spec: { accessModes: ['ReadWriteOnce'], storageClassName: STORAGE_CLASS, resources: { requests: { storage: '20Gi' } } },
      }],
    },
  });
  return { host: `${name}.${NS}.svc.cluster.local`, secretName };
}

/** The NGINX gateway: ConfigMap (nginx.conf routing every service), Deployment, two Services, ServiceAccount, NetworkPolicy, PDB. */
function gateway(stack: TerraformStack, dependsOn: NamespaceV1[], services: readonly PlainService[]): string {
  const l = labels('gateway', 'gateway');
  const config = { 'etc_nginx_nginx.conf': nginxConf(services) };
  new ConfigMapV1(stack, 'gateway-config', { dependsOn, metadata: { name: 'gateway-config', namespace: NS, labels: l }, data: config });
  new ServiceAccountV1(stack, 'gateway-service-account', { dependsOn, metadata: { name: 'gateway', namespace: NS, labels: l }, automountServiceAccountToken: false });
  const healthz = { path: '/healthz', port: '8080' };
  new DeploymentV1(stack, 'gateway-deployment', {
    dependsOn, metadata: { name: 'gateway', namespace: NS, labels: l }, waitForRollout: true, timeouts: TIMEOUTS,
    spec: {
      replicas: '2', selector: { matchLabels: selector('gateway') },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '1', maxUnavailable: '0' } },
      template: {
        metadata: { labels: l, annotations: { 'platform.example.no/config-hash': hash(config) } },
        spec: {
          serviceAccountName: 'gateway', automountServiceAccountToken: false, enableServiceLinks: false, terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true, runAsUser: '101', runAsGroup: '101', fsGroup: '101', fsGroupChangePolicy: 'OnRootMismatch',
            seccompProfile: { type: 'RuntimeDefault' },
          },
          topologySpreadConstraint: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: [{ matchLabels: selector('gateway') }] }],
          container: [{
            name: 'gateway', image: 'nginxinc/nginx-unprivileged:1.27.3-alpine', imagePullPolicy: 'IfNotPresent',
            port: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
            livenessProbe: { httpGet: healthz, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
            readinessProbe: { httpGet: healthz, initialDelaySeconds: 0, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
            lifecycle: { preStop: [{ exec: { command: ['sh', '-c', 'sleep 5'] } }] },
            securityContext: CONTAINER_SECURITY,
            volumeMount: [
              { name: 'config', mountPath: '/etc/nginx/nginx.conf', subPath: 'etc_nginx_nginx.conf', readOnly: true },
              { name: 'tmp', mountPath: '/tmp' },
            ],
          }],
          volume: [
            { name: 'config', configMap: { name: 'gateway-config', defaultMode: '0444' } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  });
  const httpPort = [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }];
  const lb = new ServiceV1(stack, 'gateway-service', {
    dependsOn, metadata: { name: 'gateway', namespace: NS, labels: l }, waitForLoadBalancer: true,
    spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: selector('gateway'), port: httpPort },
  });
  new ServiceV1(stack, 'gateway-headless-service', {
    dependsOn, metadata: { name: 'gateway-headless', namespace: NS, labels: l },
    spec: { clusterIp: 'None', publishNotReadyAddresses: false, selector: selector('gateway'), port: httpPort },
  });
  new NetworkPolicyV1(stack, 'gateway-network-policy', {
    dependsOn, metadata: { name: 'gateway', namespace: NS, labels: l },
    spec: {
      podSelector: { matchLabels: selector('gateway') }, policyTypes: ['Ingress', 'Egress'],
      ingress: [{ ports: [{ port: '8080', protocol: 'TCP' }] }],
      egress: [DNS_EGRESS, ...services.map((s): NetworkPolicyV1SpecEgress => ({
        to: [{ podSelector: { matchLabels: selector(s.name) } }], ports: [{ port: String(s.port), protocol: 'TCP' }],
      }))],
    },
  });
  new PodDisruptionBudgetV1(stack, 'gateway-disruption-budget', {
    dependsOn, metadata: { name: 'gateway', namespace: NS, labels: l }, spec: { maxUnavailable: '1', selector: { matchLabels: selector('gateway') } },
  });
  const ingress = 'status[0].load_balancer[0].ingress[0]';
  return `\${try(coalesce(${lb.fqn}.${ingress}.ip, ${lb.fqn}.${ingress}.hostname), "")}`;
}

/**
 * The RabbitMQ cluster: ConfigMap (rabbitmq.conf, definitions with every service's queues, a user
 * bootstrap script listing every service's user), a password per user and their Secret, the
 * Erlang cookie, StatefulSet, two Services, ServiceAccount, Role, RoleBinding, NetworkPolicy, PDB.
 * Returns the name of the users' Secret.
 */
function broker(
  stack: TerraformStack, dependsOn: NamespaceV1[], withStorage: Array<NamespaceV1 | StorageClassV1>, services: readonly PlainService[],
): string {
  const l = labels('rabbitmq', 'rabbitmq');
  const users: Record<string, string> = {};
  for (const s of services) users[s.name] = new Password(stack, `rabbitmq-user-${s.name}`, { length: 32, special: false }).result;
  new SecretV1(stack, 'rabbitmq-users', { dependsOn, metadata: { name: 'rabbitmq-users', namespace: NS, labels: l }, type: 'Opaque', data: users });
  const cookie = new Password(stack, 'rabbitmq-erlang-cookie-password', { length: 64, special: false, lifecycle: { preventDestroy: true } });
  new SecretV1(stack, 'rabbitmq-erlang-cookie', {
    dependsOn, metadata: { name: 'rabbitmq-erlang-cookie', namespace: NS, labels: l }, type: 'Opaque', lifecycle: { preventDestroy: true },
    data: { cookie: cookie.result },
  });
  const config = {
    'etc_rabbitmq_rabbitmq.conf': RABBITMQ_CONF,
    'etc_rabbitmq_rabbitmq-env.conf': `NODENAME=rabbit@$(hostname).rabbitmq-headless.${NS}.svc.cluster.local\nUSE_LONGNAME=true\n`,
    'etc_rabbitmq_enabled_plugins': '[rabbitmq_peer_discovery_k8s,rabbitmq_prometheus,rabbitmq_management].\n',
    'etc_rabbitmq_bootstrap-users.sh': bootstrapUsersScript(services),
  };
  new ConfigMapV1(stack, 'rabbitmq-config', { dependsOn, metadata: { name: 'rabbitmq-config', namespace: NS, labels: l }, data: config });
  // Per-service topology and users: live files, each in a ConfigMap of its own outside the config hash.
  const live = { 'definitions.json': definitionsJson(services), 'users.sh': services.map((s) => `ensure_user ${s.name}\n`).join('') };
  for (const [file, content] of Object.entries(live)) {
    new ConfigMapV1(stack, `rabbitmq-live-${file}`, {
      dependsOn, metadata: { name: `rabbitmq-live-${file.toLowerCase()}`, namespace: NS, labels: l }, data: { [`etc_rabbitmq_topology_${file}`]: content },
    });
  }
  new ServiceAccountV1(stack, 'rabbitmq-service-account', { dependsOn, metadata: { name: 'rabbitmq', namespace: NS, labels: l }, automountServiceAccountToken: true });
  new RoleV1(stack, 'rabbitmq-role', {
    dependsOn, metadata: { name: 'rabbitmq', namespace: NS, labels: l },
    rule: [{ apiGroups: [''], resources: ['endpoints'], verbs: ['get'] }, { apiGroups: [''], resources: ['events'], verbs: ['create'] }],
  });
  new RoleBindingV1(stack, 'rabbitmq-role-binding', {
    dependsOn, metadata: { name: 'rabbitmq', namespace: NS, labels: l },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'rabbitmq' },
    subject: [{ kind: 'ServiceAccount', name: 'rabbitmq', namespace: NS }],
  });
  const ports: Array<[string, number]> = [['amqp', 5672], ['clustering', 25672], ['epmd', 4369], ['prometheus', 15692], ['management', 15672]];
  const servicePorts = ports.map(([name, port]) => ({ name, port, targetPort: name, protocol: 'TCP' }));
  new ServiceV1(stack, 'rabbitmq-service', {
    dependsOn, metadata: { name: 'rabbitmq', namespace: NS, labels: l }, spec: { type: 'ClusterIP', selector: selector('rabbitmq'), port: servicePorts },
  });
  new ServiceV1(stack, 'rabbitmq-headless-service', {
    dependsOn, metadata: { name: 'rabbitmq-headless', namespace: NS, labels: l },
    spec: { clusterIp: 'None', publishNotReadyAddresses: true, selector: selector('rabbitmq'), port: servicePorts },
  });
  const peers = [{ podSelector: { matchLabels: selector('rabbitmq') } }];
  new NetworkPolicyV1(stack, 'rabbitmq-network-policy', {
    dependsOn, metadata: { name: 'rabbitmq', namespace: NS, labels: l },
    spec: {
      podSelector: { matchLabels: selector('rabbitmq') }, policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: peers, ports: [{ port: '4369', protocol: 'TCP' }, { port: '25672', protocol: 'TCP' }] },
        ...services.map((s): NetworkPolicyV1SpecIngress => ({ from: [{ podSelector: { matchLabels: selector(s.name) } }], ports: [{ port: '5672', protocol: 'TCP' }] })),
      ],
      egress: [
        DNS_EGRESS,
        { to: peers, ports: [{ port: '4369', protocol: 'TCP' }, { port: '25672', protocol: 'TCP' }] },
        { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: '443', protocol: 'TCP' }, { port: '6443', protocol: 'TCP' }] },
      ],
    },
  });
  new PodDisruptionBudgetV1(stack, 'rabbitmq-disruption-budget', {
    dependsOn, metadata: { name: 'rabbitmq', namespace: NS, labels: l }, spec: { maxUnavailable: '1', selector: { matchLabels: selector('rabbitmq') } },
  });
  const diagnostics = (check: string) => ({ command: ['rabbitmq-diagnostics', '-q', check] });
  const mountConfig = (file: string) => ({ name: 'config', mountPath: `/etc/rabbitmq/${file}`, subPath: `etc_rabbitmq_${file}`, readOnly: true });
  new StatefulSetV1(stack, 'rabbitmq-statefulset', {
    dependsOn: withStorage, metadata: { name: 'rabbitmq', namespace: NS, labels: l }, waitForRollout: true, timeouts: TIMEOUTS,
    lifecycle: { preventDestroy: true, ignoreChanges: ['spec[0].volume_claim_template'] },
    spec: {
      replicas: '3', serviceName: 'rabbitmq-headless', podManagementPolicy: 'Parallel', selector: { matchLabels: selector('rabbitmq') },
      updateStrategy: [{ type: 'RollingUpdate' }],
      persistentVolumeClaimRetentionPolicy: [{ whenDeleted: 'Retain', whenScaled: 'Retain' }],
      template: {
        metadata: { labels: l, annotations: { 'platform.example.no/config-hash': hash(config) } },
        spec: {
          serviceAccountName: 'rabbitmq', automountServiceAccountToken: true, enableServiceLinks: false, terminationGracePeriodSeconds: 600,
          affinity: {
            ...DATASTORE_AFFINITY,
            podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: [{ matchLabels: selector('rabbitmq') }] }] },
          },
          securityContext: {
            runAsNonRoot: true, runAsUser: '100', runAsGroup: '101', fsGroup: '101', fsGroupChangePolicy: 'OnRootMismatch',
            seccompProfile: { type: 'RuntimeDefault' },
          },
          container: [{
            name: 'rabbitmq', image: 'rabbitmq:3.13.7-management-alpine', imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'set -eu; rm -f "$HOME/.erlang.cookie"; install -m 0400 /etc/rabbitmq/cookie/cookie "$HOME/.erlang.cookie"; (sh /etc/rabbitmq/bootstrap-users.sh &); exec docker-entrypoint.sh rabbitmq-server'],
            port: ports.map(([name, containerPort]) => ({ name, containerPort, protocol: 'TCP' })),
            env: [
              { name: 'HOME', value: '/var/lib/rabbitmq' },
              { name: 'RABBITMQ_CONF_ENV_FILE', value: '/etc/rabbitmq/rabbitmq-env.conf' },
              { name: 'RABBITMQ_CONFIG_FILE', value: '/etc/rabbitmq/rabbitmq.conf' },
              { name: 'RABBITMQ_ENABLED_PLUGINS_FILE', value: '/etc/rabbitmq/enabled_plugins' },
              { name: 'RABBITMQ_LOGS', value: '-' },
            ],
            resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '2Gi' } },
            startupProbe: { exec: diagnostics('ping'), initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 90 },
            livenessProbe: { exec: diagnostics('ping'), initialDelaySeconds: 0, periodSeconds: 60, timeoutSeconds: 30, failureThreshold: 5 },
            readinessProbe: { exec: diagnostics('check_port_connectivity'), initialDelaySeconds: 0, periodSeconds: 20, timeoutSeconds: 15, failureThreshold: 3 },
            lifecycle: {
              preStop: [{
                exec: {
                  command: ['sh', '-c', 'rabbitmq-upgrade -q await_online_quorum_plus_one -t 240 || true; rabbitmq-upgrade -q await_online_synchronized_mirror -t 180 || true; rabbitmq-upgrade -q drain -t 120 || true'],
                },
              }],
            },
            securityContext: CONTAINER_SECURITY,
            volumeMount: [
              mountConfig('rabbitmq.conf'), mountConfig('rabbitmq-env.conf'), mountConfig('enabled_plugins'),
              mountConfig('bootstrap-users.sh'), { name: 'live-config', mountPath: '/etc/rabbitmq/topology', readOnly: true },
              { name: 'users', mountPath: '/etc/rabbitmq/users', readOnly: true },
              { name: 'cookie', mountPath: '/etc/rabbitmq/cookie', readOnly: true },
              { name: 'tmp', mountPath: '/tmp' },
              { name: 'log', mountPath: '/var/log/rabbitmq' },
              { name: 'data', mountPath: '/var/lib/rabbitmq' },
            ],
          }],
          volume: [
            { name: 'config', configMap: { name: 'rabbitmq-config', defaultMode: '0444' } },
            {
              name: 'live-config',
              projected: [{
                defaultMode: '0444',
                sources: Object.keys(live).map((file) => ({
                  configMap: [{ name: `rabbitmq-live-${file.toLowerCase()}`, items: [{ key: `etc_rabbitmq_topology_${file}`, path: file }] }],
                })),
              }],
            },
            { name: 'users', secret: { secretName: 'rabbitmq-users', defaultMode: '0440' } },
            { name: 'cookie', secret: { secretName: 'rabbitmq-erlang-cookie', defaultMode: '0440' } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            { name: 'log', emptyDir: { sizeLimit: '64Mi' } },
          ],
        },
      },
      volumeClaimTemplate: [{
        metadata: { name: 'data', labels: l },
        spec: { accessModes: ['ReadWriteOnce'], storageClassName: STORAGE_CLASS, resources: { requests: { storage: '20Gi' } } },
      }],
    },
  });
  return 'rabbitmq-users';
}

// ---- configuration files, as a hand-written stack would keep them: template strings -------------

function nginxConf(services: readonly PlainService[]): string {
  const upstreams = services.map((s) => `
    upstream ${s.name} {
        zone upstream_${s.name} 64k;
        server ${s.name}-headless.${NS}.svc.cluster.local:${s.port} resolve max_fails=3 fail_timeout=10s;
        keepalive 32;
        keepalive_requests 1000;
        keepalive_timeout 60s;
    }
`).join('');
  // The proxy settings every route shares are set once in the server block (locations inherit
  // them), as one writes nginx.conf by hand; that also keeps 2,000 routes under a ConfigMap's 1 MiB.
  const locations = services.map((s) => `        location ${s.route} {
            limit_req zone=gateway-default burst=20 nodelay;
            proxy_pass http://${s.name};
        }
`).join('');
  return `worker_processes auto;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;

events {
    worker_connections 1024;
}

http {
    client_body_temp_path /tmp/client_body_temp;
    proxy_temp_path /tmp/proxy_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;

    server_tokens off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    client_max_body_size 1m;

    map $http_x_request_id $gateway_request_id {
        default $http_x_request_id;
        "" $request_id;
    }
    log_format json_combined escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request","status":$status,"upstream_addr":"$upstream_addr","request_time":$request_time,"upstream_response_time":"$upstream_response_time","request_id":"$gateway_request_id"}';
    access_log /dev/stdout json_combined;

    limit_req_status 429;
    limit_req_log_level warn;
    limit_req_zone $binary_remote_addr zone=gateway-default:10m rate=10r/s;

    resolver kube-dns.kube-system.svc.cluster.local valid=10s ipv6=off;
    resolver_timeout 5s;
${upstreams}
    server {
        listen 8080;
        server_name api.example.no;

        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Request-ID $gateway_request_id;
        proxy_connect_timeout 5s;
        proxy_read_timeout 60s;
        proxy_send_timeout 60s;
        proxy_next_upstream error timeout http_502 http_503 http_504;
        proxy_next_upstream_tries 2;
        proxy_next_upstream_timeout 66s;

        location = /healthz {
            access_log off;
            default_type text/plain;
            return 200 "ok\\n";
        }
${locations}        location / {
            limit_req zone=gateway-default burst=20 nodelay;
            default_type application/json;
            return 404 '{"error":"no route for this path"}';
        }
    }
}
`;
}

const POSTGRESQL_CONF = `# postgresql.conf for PostgreSQL 17

# connections
listen_addresses = '*'
port = 5432
max_connections = 100
unix_socket_directories = '/var/run/postgresql'
unix_socket_permissions = 0700
hba_file = '/etc/postgresql/pg_hba.conf'
password_encryption = 'scram-sha-256'
tcp_keepalives_idle = 60
tcp_keepalives_interval = 10
tcp_keepalives_count = 6

# tls
ssl = off

# memory (for a 2Gi limit)
shared_buffers = '512MB'
effective_cache_size = '1536MB'
work_mem = '7MB'
maintenance_work_mem = '102MB'

# NVMe storage
random_page_cost = 1.1
effective_io_concurrency = 200
maintenance_io_concurrency = 100

# WAL and checkpoints
wal_compression = 'lz4'
wal_buffers = '16MB'
checkpoint_timeout = '900s'
checkpoint_completion_target = 0.9
max_wal_size = '2GB'
min_wal_size = '256MB'

# logging (to stderr: the container runtime collects it)
log_destination = 'stderr'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
log_parameter_max_length = 0
log_parameter_max_length_on_error = 0
log_checkpoints = on
log_connections = on
log_disconnections = on
log_lock_waits = on
log_temp_files = 0

# sessions
idle_in_transaction_session_timeout = '600s'
`;

function pgHbaConf(role: string): string {
  return `# pg_hba.conf
# TYPE  DATABASE  USER  ADDRESS  METHOD

# The image's docker-entrypoint initialises the database over the unix socket as POSTGRES_USER
# without a password, and probes (pg_isready, psql) use the socket too. Trusting the socket is safe:
# unix_socket_permissions = 0700 lets only the postgres OS user (who owns the data files anyway)
# and root inside the container connect.
local all all trust

# Only the owning service, only its database, only from the client networks, SCRAM.
host ${role} ${role} 10.0.0.0/8 scram-sha-256
host ${role} ${role} 172.16.0.0/12 scram-sha-256
host ${role} ${role} 192.168.0.0/16 scram-sha-256
`;
}

/** `$${` is Terraform's escape for a literal `${` (a shell parameter expansion here). */
function initOwnerScript(role: string): string {
  return `#!/bin/bash
# Creates the role "${role}" (LOGIN, not a superuser) and the database "${role}" owned by it. Run
# once by the postgres image's docker-entrypoint on an empty data directory. No password is in
# this file or on any command line: psql reads it from the file named by $OWNER_PASSWORD_FILE (a
# mounted secret), or else from $OWNER_PASSWORD.
(
  set -eu
  if [ -n "$\${OWNER_PASSWORD_FILE:-}" ]; then
    if [ -n "$\${OWNER_PASSWORD:-}" ]; then
      echo "create-owner: both OWNER_PASSWORD and OWNER_PASSWORD_FILE are set (but they are exclusive)" >&2
      exit 1
    fi
    if [ ! -f "$OWNER_PASSWORD_FILE" ] || [ ! -r "$OWNER_PASSWORD_FILE" ] || [ ! -s "$OWNER_PASSWORD_FILE" ]; then
      echo "create-owner: OWNER_PASSWORD_FILE names no readable, non-empty file; refusing to create role ${role} without a password" >&2
      exit 1
    fi
  elif [ -z "$\${OWNER_PASSWORD:-}" ]; then
    echo "create-owner: OWNER_PASSWORD and OWNER_PASSWORD_FILE are empty or unset; refusing to create role ${role} without a password" >&2
    exit 1
  fi
  # For the shell psql runs the backquoted command in.
  export OWNER_PASSWORD="$\${OWNER_PASSWORD:-}" OWNER_PASSWORD_FILE="$\${OWNER_PASSWORD_FILE:-}"
  psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \\
    --username "$\${POSTGRES_USER:-postgres}" --dbname postgres \\
    -v role=${role} -v database=${role} <<'EOSQL'
-- Keep the password out of the server log, even for a failing or slow statement.
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
SET password_encryption = 'scram-sha-256';
-- psql reads the password itself: it is on no command line. psql drops exactly one trailing
-- newline from a backquoted command's output, the one echo adds, so every byte is kept.
\\set pw \`if [ -n "$OWNER_PASSWORD_FILE" ]; then cat -- "$OWNER_PASSWORD_FILE" && echo; else printf '%s\\n' "$OWNER_PASSWORD"; fi\`
BEGIN;
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'pw';
-- PostgreSQL takes an empty password as "no password": refuse to commit a role without one.
SELECT rolpassword IS NOT NULL AS owner_has_password FROM pg_authid WHERE rolname = :'role' \\gset
\\if :owner_has_password
COMMIT;
\\else
DO $$ BEGIN RAISE EXCEPTION 'create-owner: the password read was empty; role not created'; END $$;
\\endif
CREATE DATABASE :"database" OWNER :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT ALL ON DATABASE :"database" TO :"role";
EOSQL
  echo "create-owner: role ${role} owns database ${role}"
)
`;
}

const RABBITMQ_CONF = `# rabbitmq.conf for RabbitMQ 3.13.7

## Listeners
listeners.tcp.default = 5672
management.tcp.port = 15672
prometheus.tcp.port = 15692

## Access: definitions create no users, so there is no guest; should one appear, it may only log in from localhost
loopback_users.guest = true
load_definitions = /etc/rabbitmq/topology/definitions.json

## Cluster formation
cluster_formation.peer_discovery_backend = rabbit_peer_discovery_k8s
cluster_formation.k8s.host = kubernetes.default.svc
cluster_formation.k8s.address_type = hostname
cluster_formation.k8s.service_name = rabbitmq-headless
cluster_formation.k8s.hostname_suffix = .rabbitmq-headless.${NS}.svc.cluster.local
cluster_partition_handling = pause_minority

## Resource alarms (container memory limit 2Gi)
vm_memory_high_watermark.absolute = 819MiB
disk_free_limit.absolute = 2048MiB
`;

/** Each service's queue for what it consumes, bound on the topic exchange. */
function definitionsJson(services: readonly PlainService[]): string {
  const queue = (s: PlainService) => `${s.name}.${s.consumes}`;
  return JSON.stringify({
    rabbit_version: '3.13.7',
    vhosts: [{ name: NS, metadata: { description: `vhost ${NS}`, tags: [] } }],
    policies: [{ vhost: NS, name: 'ha-all', pattern: '.*', 'apply-to': 'queues', priority: 0, definition: { 'ha-mode': 'all', 'ha-sync-mode': 'automatic' } }],
    exchanges: [{ name: 'events', vhost: NS, type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {} }],
    queues: services.map((s) => ({ name: queue(s), vhost: NS, durable: true, auto_delete: false, arguments: {} })),
    bindings: services.map((s) => ({ source: 'events', vhost: NS, destination: queue(s), destination_type: 'queue', routing_key: s.consumes, arguments: {} })),
  }, null, 2) + '\n';
}

/** Creates (or updates) every service's user from its password file, with its permissions. */
function bootstrapUsersScript(services: readonly PlainService[]): string {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const users = services.map((s) => `ensure_user '${s.name}' '${NS}' '^$' '^events$' '^${escape(`${s.name}.${s.consumes}`)}$'`).join('\n');
  return `#!/bin/sh
# Creates/updates RabbitMQ service users from password files. No password is in this script: each
# is read from /etc/rabbitmq/users/<user>.
set -eu

CTL='rabbitmqctl'
PASSWORD_DIR='/etc/rabbitmq/users'
ATTEMPTS=450
INTERVAL=2

# await_startup fails at once while epmd does not know the node yet, so retry it, with a bound.
attempt=1
until "$CTL" -q await_startup >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "rabbitmq-user-bootstrap: the local node did not start after $ATTEMPTS attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep "$INTERVAL"
done

user_exists() {
  "$CTL" -q list_users --no-table-headers | cut -f1 | grep -qxF "$1"
}

# ensure_user NAME VHOST CONFIGURE WRITE READ
ensure_user() {
  file="$PASSWORD_DIR/$1"
  if [ ! -r "$file" ]; then
    echo "rabbitmq-user-bootstrap: password file $file for user $1 is missing or unreadable" >&2
    exit 1
  fi
  # $(cat) drops trailing newlines, as most secret tooling writes one.
  password=$(cat "$file")
  if [ -z "$password" ]; then
    echo "rabbitmq-user-bootstrap: password file $file for user $1 is empty (an empty password disables login)" >&2
    exit 1
  fi
  if user_exists "$1"; then
    printf '%s' "$password" | "$CTL" -q change_password "$1"
  elif ! printf '%s' "$password" | "$CTL" -q add_user "$1" 2>/dev/null; then
    # Every node runs this script: another one may have added the user since the check.
    printf '%s' "$password" | "$CTL" -q change_password "$1"
  fi
  password=''
  "$CTL" -q set_permissions -p "$2" "$1" "$3" "$4" "$5"
  echo "rabbitmq-user-bootstrap: user $1 ready on vhost $2"
}

${users}
`;
}
