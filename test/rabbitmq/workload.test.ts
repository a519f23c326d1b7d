/**
 * The pure pieces of RabbitMqCluster, without synthesizing: the options schema and what it derives,
 * the workload builder fed a target's peer discovery, the connection, and the target contract
 * (peerDiscovery) the cluster relies on.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Construct } from 'constructs';
import { OSLO_REGION } from '../../lib/residency/regions';
import { DockerTarget } from '../../lib/targets/docker/docker-target';
import { KubernetesTarget } from '../../lib/targets/kubernetes/kubernetes-target';
import { parseProps } from '../../lib/util/errors';
import { Connection } from '../../lib/workload/connection';
import { clientTlsOf } from '../../lib/workload/server-tls';
import { IWorkloadTarget, PeerDiscovery } from '../../lib/workload/target';
import { RabbitMqCluster } from '../../lib/rabbitmq/rabbitmq-cluster';
import { RabbitMqConnection } from '../../lib/rabbitmq/rabbitmq-connection';
import { renderRabbitMqEnvFile } from '../../lib/rabbitmq/render-rabbitmq-conf';
import { RabbitMqClusterOptionsSchema, ServiceUserOptionsSchema } from '../../lib/rabbitmq/schema';
import { rabbitMqWorkload } from '../../lib/rabbitmq/workload';
import { newStack } from '../support/synth';
import { userErrorOf as errorOf } from '../support/errors';

const options = (input: object = {}) => parseProps(RabbitMqClusterOptionsSchema, input, 'test');
const topology = { definitions: '{}', users: '' };
const fileOf = (files: Array<{ path: string; content: string }> | undefined, p: string) => files?.find((f) => f.path === p)?.content;

const KUBERNETES: PeerDiscovery = {
  peerHosts: [0, 1, 2].map((i) => `rabbitmq-${i}.rabbitmq-headless.platform.svc.cluster.local`),
  hostSuffix: '.rabbitmq-headless.platform.svc.cluster.local',
  kubernetesEndpoints: { service: 'rabbitmq-headless', namespace: 'platform', clusterDomain: 'cluster.local' },
};
const FIXED: PeerDiscovery = { peerHosts: ['rabbitmq-0', 'rabbitmq-1', 'rabbitmq-2'], hostSuffix: '' };

describe('RabbitMqClusterOptionsSchema', () => {
  it('returns the version and the image user it derives, so nothing parses the image again', () => {
    expect(options()).toMatchObject({ version: '3.13.7', user: { uid: 100, gid: 101 }, name: 'rabbitmq', replicas: 3 });
    expect(options({ image: 'rabbitmq:4.0.5-management', queueMode: 'quorum' })).toMatchObject({ version: '4.0.5', user: { uid: 999, gid: 999 } });
  });

  it('reports an image without a version against props.image, and stops there', () => {
    expect(errorOf(() => options({ image: 'rabbitmq:latest' }))).toMatch(/test\.image: "rabbitmq:latest" names no version/);
  });

  it('gives each service user its queue names, in the order of its keys', () => {
    const u = parseProps(ServiceUserOptionsSchema, { service: 'invoices', consumes: ['orders.created', 'orders.#'] }, 'u');
    expect(u.queues).toEqual(['invoices.orders.created', 'invoices.orders.all']);
    expect(u.publishes).toEqual([]);
  });
});

describe('rabbitMqWorkload (pure)', () => {
  it('with Kubernetes endpoints: the discovery plugin, long node names and API access for endpoints', () => {
    const { props } = rabbitMqWorkload(options(), KUBERNETES, topology);
    const conf = fileOf(props.configFiles, '/etc/rabbitmq/rabbitmq.conf');
    expect(conf).toContain('cluster_formation.peer_discovery_backend = rabbit_peer_discovery_k8s');
    expect(conf).toContain('cluster_formation.k8s.hostname_suffix = .rabbitmq-headless.platform.svc.cluster.local');
    expect(fileOf(props.configFiles, '/etc/rabbitmq/enabled_plugins')).toContain('rabbitmq_peer_discovery_k8s');
    const env = fileOf(props.configFiles, '/etc/rabbitmq/rabbitmq-env.conf');
    expect(env).toContain('NODENAME=rabbit@$(hostname).rabbitmq-headless.platform.svc.cluster.local\nUSE_LONGNAME=true');
    expect(props.apiAccess).toEqual([{ resources: ['endpoints'], verbs: ['get'] }, { resources: ['events'], verbs: ['create'] }]);
  });

  it('with a fixed peer list: classic_config naming every peer, short node names, no API access', () => {
    const { props } = rabbitMqWorkload(options(), FIXED, topology);
    const conf = fileOf(props.configFiles, '/etc/rabbitmq/rabbitmq.conf');
    expect(conf).toContain('cluster_formation.peer_discovery_backend = classic_config');
    expect(conf).toContain('cluster_formation.classic_config.nodes.3 = rabbit@rabbitmq-2');
    expect(fileOf(props.configFiles, '/etc/rabbitmq/enabled_plugins')).not.toContain('k8s');
    expect(fileOf(props.configFiles, '/etc/rabbitmq/rabbitmq-env.conf')).toContain('NODENAME=rabbit@$(hostname)\nUSE_LONGNAME=false');
    expect(props.apiAccess).toEqual([]);
  });

  it('takes the topology files as given (the construct renders them as services are added)', () => {
    const { props } = rabbitMqWorkload(options(), FIXED, { definitions: 'DEFS', users: 'USERS' });
    expect(props.configFiles?.filter((f) => f.live).map((f) => [f.path, f.content])).toEqual([
      ['/etc/rabbitmq/topology/definitions.json', 'DEFS'], ['/etc/rabbitmq/topology/users.sh', 'USERS'],
    ]);
  });

  it('with tls: AMQPS for clients, the TLS secret, and distribution over TLS unless turned off', () => {
    const built = rabbitMqWorkload(options({ tls: { secretName: 'broker-tls' } }), FIXED, topology);
    expect(built.clientPort).toBe(5671);
    expect(built.tls?.secretName).toBe('broker-tls');
    expect(built.props.ports?.[0]).toEqual({ name: 'amqps', containerPort: 5671 });
    expect(fileOf(built.props.configFiles, '/etc/rabbitmq/rabbitmq-env.conf')).toContain('CTL_ERL_ARGS="-proto_dist inet_tls');
    const plain = rabbitMqWorkload(options({ tls: { secretName: 'broker-tls' }, interNodeTls: false }), FIXED, topology);
    expect(fileOf(plain.props.configFiles, '/etc/rabbitmq/rabbitmq-env.conf')).not.toContain('inet_tls');
    expect(fileOf(plain.props.configFiles, '/etc/rabbitmq/inter_node_tls.config')).toBeUndefined();
  });

  it('refuses a host suffix that is no DNS name (it is sourced by a shell)', () => {
    expect(() => rabbitMqWorkload(options(), { ...FIXED, hostSuffix: '.a;rm -rf /' }, topology)).toThrow(/host suffix ".a;rm -rf \/"/);
    expect(() => renderRabbitMqEnvFile({ hostSuffix: 'no-dot' })).toThrow(/host suffix/);
  });
});

describe('peerDiscovery: the targets say how replicas find each other', () => {
  it.each([
    ['KubernetesTarget', (s: Construct) => new KubernetesTarget(s, 'cluster', { region: OSLO_REGION, namespace: 'platform' })],
    ['DockerTarget', (s: Construct) => new DockerTarget(s, 'local', { location: OSLO_REGION })],
  ])('%s names the replica hosts its deployed workload gets', (_, make) => {
    const { stack } = newStack();
    const target = make(stack);
    const discovery = target.peerDiscovery('events', 3);
    const broker = new RabbitMqCluster(stack, 'broker', { target, name: 'events' });
    expect(discovery.peerHosts).toEqual(broker.workload.replicaHosts);
    expect(discovery.peerHosts.map((h) => h.slice('events-0'.length))).toEqual([discovery.hostSuffix, discovery.hostSuffix, discovery.hostSuffix]);
  });

  it('a target without peerDiscovery gets a clear error, before anything is created', () => {
    const { stack } = newStack();
    const real = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    const target: IWorkloadTarget = {
      targetKind: 'docker', location: real.location, dnsResolver: real.dnsResolver, deploy: (...a) => real.deploy(...a), findWorkload: (n) => real.findWorkload(n),
    };
    const msg = errorOf(() => new RabbitMqCluster(stack, 'broker', { target }));
    expect(msg).toContain('RabbitMqCluster test/broker props.target: this target does not say how a cluster\'s nodes find each other');
    expect(msg).toContain('peerDiscovery(workloadName, replicas)');
    expect(stack.node.tryFindChild('broker')).toBeUndefined();
  });

  it('RabbitMQ reads no target kind and parses no host name', () => {
    const dir = path.join(__dirname, '../../lib/rabbitmq');
    for (const file of fs.readdirSync(dir)) {
      expect([file, fs.readFileSync(path.join(dir, file), 'utf8').includes('targetKind')]).toEqual([file, false]);
    }
  });
});

describe('RabbitMqConnection', () => {
  const props = {
    host: 'rabbitmq.platform.svc.cluster.local', port: 5671, vhost: 'platform/v', exchange: 'events', username: 'orders',
    queues: ['orders.a'], secretName: 'rabbitmq-users', passwordKey: 'orders',
  };

  it('is a Connection: env() in the documented order, the password as a secret reference', () => {
    const c = new RabbitMqConnection(props);
    expect(c).toBeInstanceOf(Connection);
    expect(c.env().map((e) => e.name)).toEqual(['AMQP_HOST', 'AMQP_PORT', 'AMQP_VHOST', 'AMQP_USER', 'AMQP_EXCHANGE', 'AMQP_PASSWORD']);
    expect(c.env('BUS').at(-1)).toEqual({ name: 'BUS_PASSWORD', secretRef: { secret: 'rabbitmq-users', key: 'orders' } });
    expect(c.mounts()).toEqual([]);
  });

  it('with TLS adds URL (vhost encoded) and CA_FILE, and mounts the CA only', () => {
    const tls = clientTlsOf('rabbitmq', 'rabbitmq-tls');
    const c = new RabbitMqConnection({ ...props, tls });
    const env = Object.fromEntries(c.env().flatMap((e) => ('value' in e ? [[e.name, e.value]] : [])));
    expect(Object.keys(env)).toEqual(['AMQP_HOST', 'AMQP_PORT', 'AMQP_VHOST', 'AMQP_USER', 'AMQP_EXCHANGE', 'AMQP_URL', 'AMQP_CA_FILE']);
    expect(env.AMQP_URL).toBe('amqps://rabbitmq.platform.svc.cluster.local:5671/platform%2Fv');
    expect(c.mounts()).toEqual([tls.caMount]);
  });
});
