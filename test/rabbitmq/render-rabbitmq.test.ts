import { renderEnabledPlugins, renderRabbitMqConf } from '../../lib/rabbitmq/render-rabbitmq-conf';
import { renderRabbitMqDefinitions } from '../../lib/rabbitmq/render-rabbitmq-definitions';
import { renderUserBootstrapScript } from '../../lib/rabbitmq/render-user-bootstrap';
import { RabbitMqDefinitionsSpecInput } from '../../lib/rabbitmq/rabbitmq-spec';
import { userErrorOf } from '../support/errors';

const k8s = { kind: 'kubernetes' as const, headlessServiceName: 'rabbitmq-headless', namespace: 'platform' };
const classic = { kind: 'classic' as const, peers: ['rabbit1@localhost', 'rabbit2@localhost', 'rabbit3@localhost'] };

/** The value of `key = value` lines, in order (sysctl format). */
function confValues(conf: string, key: string): string[] {
  return conf.split('\n').filter((l) => l.startsWith(`${key} = `)).map((l) => l.slice(key.length + 3));
}


const topology: RabbitMqDefinitionsSpecInput = {
  rabbitmqVersion: '3.13.7',
  vhosts: ['orders', 'invoices'],
  exchanges: [{ name: 'events', vhost: 'orders' }, { name: 'events', vhost: 'invoices', type: 'direct' }],
  queues: [{ name: 'orders.created', vhost: 'orders' }, { name: 'invoices.todo', vhost: 'invoices' }],
  bindings: [{ vhost: 'orders', exchange: 'events', queue: 'orders.created', routingKey: 'orders.*' }],
};

describe('renderRabbitMqConf', () => {
  it('renders Kubernetes peer discovery against the headless service', () => {
    const conf = renderRabbitMqConf({ discovery: k8s });
    expect(confValues(conf, 'cluster_formation.peer_discovery_backend')).toEqual(['rabbit_peer_discovery_k8s']);
    expect(confValues(conf, 'cluster_formation.k8s.host')).toEqual(['kubernetes.default.svc']);
    expect(confValues(conf, 'cluster_formation.k8s.address_type')).toEqual(['hostname']);
    expect(confValues(conf, 'cluster_formation.k8s.service_name')).toEqual(['rabbitmq-headless']);
    expect(confValues(conf, 'cluster_formation.k8s.hostname_suffix')).toEqual(['.rabbitmq-headless.platform.svc.cluster.local']);
    expect(conf).not.toContain('classic_config');
    expect(confValues(conf, 'cluster_partition_handling')).toEqual(['pause_minority']);
    expect(confValues(conf, 'listeners.tcp.default')).toEqual(['5672']);
    expect(confValues(conf, 'loopback_users.guest')).toEqual(['true']);
    expect(confValues(conf, 'load_definitions')).toEqual(['/etc/rabbitmq/definitions.json']);
  });

  it('renders classic_config peers in order, and a loopback listen address', () => {
    const conf = renderRabbitMqConf({ discovery: classic, listenAddress: '127.0.0.1', amqpPort: 25670, managementPort: 25676, prometheusPort: 25673 });
    expect(confValues(conf, 'cluster_formation.peer_discovery_backend')).toEqual(['classic_config']);
    expect(confValues(conf, 'cluster_formation.classic_config.nodes.1')).toEqual(['rabbit1@localhost']);
    expect(confValues(conf, 'cluster_formation.classic_config.nodes.3')).toEqual(['rabbit3@localhost']);
    expect(conf).not.toContain('k8s');
    expect(confValues(conf, 'listeners.tcp.1')).toEqual(['127.0.0.1:25670']);
    expect(confValues(conf, 'listeners.tcp.default')).toEqual([]);
    expect(confValues(conf, 'management.tcp.ip')).toEqual(['127.0.0.1']);
    expect(confValues(conf, 'prometheus.tcp.port')).toEqual(['25673']);
  });

  it.each([
    ['512Mi', '204MiB', '1024MiB'],
    ['2Gi', '819MiB', '2048MiB'],
    ['8Gi', '3276MiB', '8192MiB'],
    ['1048576Ki', '409MiB', '1024MiB'],
  ])('derives watermarks from a %s limit', (memoryLimit, watermark, disk) => {
    const conf = renderRabbitMqConf({ discovery: k8s, memoryLimit });
    expect(confValues(conf, 'vm_memory_high_watermark.absolute')).toEqual([watermark]);
    expect(confValues(conf, 'disk_free_limit.absolute')).toEqual([disk]);
    expect(conf).not.toContain('vm_memory_high_watermark.relative');
  });

  it('honours an explicit watermark fraction and disk limit', () => {
    const conf = renderRabbitMqConf({ discovery: k8s, memoryLimit: '4Gi', memoryHighWatermark: 0.5, diskFreeLimit: '10Gi' });
    expect(confValues(conf, 'vm_memory_high_watermark.absolute')).toEqual(['2048MiB']);
    expect(confValues(conf, 'disk_free_limit.absolute')).toEqual(['10240MiB']);
  });

  it('renders default_queue_type only in quorum mode on versions that know the key (>= 3.13.3)', () => {
    expect(confValues(renderRabbitMqConf({ discovery: k8s, rabbitmqVersion: '3.13.3', queueMode: 'quorum' }), 'default_queue_type')).toEqual(['quorum']);
    expect(confValues(renderRabbitMqConf({ discovery: k8s, rabbitmqVersion: '4.0', queueMode: 'quorum' }), 'default_queue_type')).toEqual(['quorum']);
    expect(renderRabbitMqConf({ discovery: k8s, rabbitmqVersion: '3.13.2', queueMode: 'quorum' })).not.toContain('default_queue_type');
    expect(renderRabbitMqConf({ discovery: k8s, rabbitmqVersion: '3.10.8', queueMode: 'quorum' })).not.toContain('default_queue_type');
    expect(renderRabbitMqConf({ discovery: k8s, rabbitmqVersion: '3.13.7', queueMode: 'classic-mirrored' })).not.toContain('default_queue_type');
    // 4.x defaults to quorum mode.
    expect(confValues(renderRabbitMqConf({ discovery: k8s, rabbitmqVersion: '4.1.2' }), 'default_queue_type')).toEqual(['quorum']);
  });

  it('refuses even cluster sizes, explaining majorities', () => {
    const msg = userErrorOf(() => renderRabbitMqConf({ discovery: { ...k8s, replicas: 4 } }));
    expect(msg).toContain('rabbitmq.discovery.replicas');
    expect(msg).toContain('pause_minority');
    expect(msg).toContain('use 3 or 5 nodes');
    expect(userErrorOf(() => renderRabbitMqConf({ discovery: { kind: 'classic', peers: ['a@h1', 'b@h2'] } }))).toContain('rabbitmq.discovery.peers');
    expect(() => renderRabbitMqConf({ discovery: { ...k8s, replicas: 1 } })).not.toThrow();
  });

  it('refuses colliding ports, bad peers and unknown keys', () => {
    expect(userErrorOf(() => renderRabbitMqConf({ discovery: k8s, managementPort: 5672 }))).toContain('must differ');
    expect(userErrorOf(() => renderRabbitMqConf({ discovery: { kind: 'classic', peers: ['rabbit@host; rm -rf /'] } }))).toContain('Erlang node name');
    expect(userErrorOf(() => renderRabbitMqConf({ discovery: k8s, listenAddress: '127.0.0.1:5672' }))).toContain('rabbitmq.listenAddress');
    expect(userErrorOf(() => renderRabbitMqConf({ discovery: k8s, replica: 3 } as never))).toContain('replica');
  });
});

describe('renderEnabledPlugins', () => {
  it('enables discovery, prometheus and management as configured', () => {
    expect(renderEnabledPlugins({ discovery: k8s })).toBe('[rabbitmq_peer_discovery_k8s,rabbitmq_prometheus,rabbitmq_management].\n');
    expect(renderEnabledPlugins({ discovery: k8s, management: false })).toBe('[rabbitmq_peer_discovery_k8s,rabbitmq_prometheus].\n');
    expect(renderEnabledPlugins({ discovery: classic, management: false, prometheus: false })).toBe('[].\n');
  });

  it('leaves management keys out of rabbitmq.conf when the plugin is off', () => {
    expect(renderRabbitMqConf({ discovery: k8s, management: false })).not.toContain('management.');
  });
});

describe('renderRabbitMqDefinitions', () => {
  it('classic-mirrored: ha-all in every vhost, durable topology, no users or permissions', () => {
    const json = renderRabbitMqDefinitions({ ...topology, queueMode: 'classic-mirrored' });
    const defs = JSON.parse(json);
    expect(defs.rabbit_version).toBe('3.13.7');
    expect(defs.users).toBeUndefined();
    expect(defs.permissions).toBeUndefined();
    expect(json).not.toMatch(/password/i);
    expect(defs.vhosts.map((v: { name: string }) => v.name)).toEqual(['invoices', 'orders']);
    expect(defs.policies).toEqual(['invoices', 'orders'].map((vhost) => ({
      vhost, name: 'ha-all', pattern: '.*', 'apply-to': 'queues', priority: 0,
      definition: { 'ha-mode': 'all', 'ha-sync-mode': 'automatic' },
    })));
    expect(defs.exchanges).toEqual([
      { name: 'events', vhost: 'invoices', type: 'direct', durable: true, auto_delete: false, internal: false, arguments: {} },
      { name: 'events', vhost: 'orders', type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {} },
    ]);
    expect(defs.queues.every((q: { durable: boolean; arguments: object }) => q.durable && Object.keys(q.arguments).length === 0)).toBe(true);
    expect(defs.bindings).toEqual([{ source: 'events', vhost: 'orders', destination: 'orders.created', destination_type: 'queue', routing_key: 'orders.*', arguments: {} }]);
  });

  it('writes each queue and binding on a line of its own, compactly: a diff names what changed, 3,000 services fit a ConfigMap', () => {
    const services = Array.from({ length: 3000 }, (_, i) => `svc-${i}`);
    const json = renderRabbitMqDefinitions({
      rabbitmqVersion: '3.13.7', queueMode: 'classic-mirrored', vhosts: ['platform'],
      exchanges: [{ name: 'events', vhost: 'platform', type: 'topic' }],
      queues: services.map((s, i) => ({ name: `${s}.svc-${(i + 1) % 3000}.changed`, vhost: 'platform' })),
      bindings: services.map((s, i) => ({ vhost: 'platform', exchange: 'events', queue: `${s}.svc-${(i + 1) % 3000}.changed`, routingKey: `svc-${(i + 1) % 3000}.changed` })),
    });
    const defs = JSON.parse(json);
    expect(defs.queues).toHaveLength(3000);
    const lines = json.split('\n');
    // Every queue and binding is one line that parses on its own.
    const entries = lines.filter((l) => l.startsWith('    {')).map((l) => JSON.parse(l.replace(/,$/, '')));
    expect(entries.filter((e) => e.destination_type === 'queue')).toEqual(defs.bindings);
    expect(entries.filter((e) => e.durable !== undefined && e.type === undefined)).toEqual(defs.queues);
    expect(lines.filter((l) => l.includes(`"destination":"svc-7.svc-8.changed"`))).toEqual([
      '    {"source":"events","vhost":"platform","destination":"svc-7.svc-8.changed","destination_type":"queue","routing_key":"svc-8.changed","arguments":{}},',
    ]);
    expect(json.length / 3000).toBeLessThan(300); // indented, it was ~380 bytes per service
  });

  it('quorum: no ha- anywhere, quorum queues, quorum default in vhost metadata', () => {
    const json = renderRabbitMqDefinitions({ ...topology, queueMode: 'quorum' });
    expect(json).not.toContain('ha-');
    const defs = JSON.parse(json);
    expect(defs.policies).toEqual([]);
    expect(defs.queues.map((q: { arguments: object }) => q.arguments)).toEqual([{ 'x-queue-type': 'quorum' }, { 'x-queue-type': 'quorum' }]);
    expect(defs.vhosts.map((v: { metadata: { default_queue_type?: string } }) => v.metadata.default_queue_type)).toEqual(['quorum', 'quorum']);
  });

  it('leaves vhost default_queue_type out below 3.10, where vhosts have no such metadata', () => {
    const defs = JSON.parse(renderRabbitMqDefinitions({ ...topology, rabbitmqVersion: '3.9.29', queueMode: 'quorum' }));
    expect(defs.vhosts[0].metadata).not.toHaveProperty('default_queue_type');
    expect(defs.queues[0].arguments).toEqual({ 'x-queue-type': 'quorum' });
  });

  it('is stable whatever the input order', () => {
    const reversed = {
      ...topology,
      vhosts: [...topology.vhosts].reverse(),
      exchanges: [...topology.exchanges!].reverse(),
      queues: [...topology.queues!].reverse(),
    };
    expect(renderRabbitMqDefinitions(reversed)).toBe(renderRabbitMqDefinitions(topology));
  });

  it('defaults to ha-all on 3.x and quorum on 4.x', () => {
    expect(JSON.parse(renderRabbitMqDefinitions({ ...topology, rabbitmqVersion: '3.12' })).policies).toHaveLength(2);
    expect(renderRabbitMqDefinitions({ ...topology, rabbitmqVersion: '4.0' })).not.toContain('ha-');
  });
});

describe('version guard', () => {
  it.each(['4.0.0', '4.0.5', '4.1', '4.0.0-rc.1'])('refuses classic mirroring on %s, naming queueMode and quorum', (rabbitmqVersion) => {
    for (const render of [
      () => renderRabbitMqDefinitions({ ...topology, rabbitmqVersion, queueMode: 'classic-mirrored' }),
      () => renderRabbitMqConf({ discovery: k8s, rabbitmqVersion, queueMode: 'classic-mirrored' }),
    ]) {
      const msg = userErrorOf(render);
      expect(msg).toContain('.queueMode');
      expect(msg).toContain("queueMode: 'quorum'");
      expect(msg).toContain('RabbitMQ 4.0 removed classic queue mirroring');
    }
  });

  it.each(['3.13.7', '3.13', '3.10.8'])('accepts classic mirroring on %s', (rabbitmqVersion) => {
    const policies = JSON.parse(renderRabbitMqDefinitions({ ...topology, rabbitmqVersion, queueMode: 'classic-mirrored' })).policies;
    expect(policies.map((p: { definition: object }) => p.definition)).toContainEqual({ 'ha-mode': 'all', 'ha-sync-mode': 'automatic' });
  });

  it('refuses text that names no version, and versions before quorum queues', () => {
    expect(userErrorOf(() => renderRabbitMqDefinitions({ ...topology, rabbitmqVersion: 'latest' }))).toContain('rabbitmqVersion');
    expect(userErrorOf(() => renderRabbitMqDefinitions({ ...topology, rabbitmqVersion: '3.7.28' }))).toContain('3.8.0 or later');
  });
});

describe('names', () => {
  it.each(['orders/v1', 'orders created', '', '-orders', 'amq.orders', 'ordérs', 'a"b', 'x'.repeat(256)])('refuses %j as a name', (bad) => {
    const msg = userErrorOf(() => renderRabbitMqDefinitions({ vhosts: [bad] }));
    expect(msg).toContain('vhosts[0]');
    expect(() => renderRabbitMqDefinitions({ vhosts: ['ok'], queues: [{ name: bad, vhost: 'ok' }] })).toThrow(/queues\[0\]\.name/);
    expect(() => renderUserBootstrapScript({ users: [{ name: bad, vhost: 'ok' }] })).toThrow(/users\[0\]\.name/);
  });

  it('accepts letters, digits, ".", "_" and "-"', () => {
    expect(() => renderRabbitMqDefinitions({ vhosts: ['Orders_v2.eu-north'] })).not.toThrow();
  });

  it('refuses bad routing keys and references to undeclared vhosts, exchanges and queues', () => {
    expect(userErrorOf(() => renderRabbitMqDefinitions({ ...topology, bindings: [{ vhost: 'orders', exchange: 'events', queue: 'orders.created', routingKey: 'a..b' }] })))
      .toContain('bindings[0].routingKey');
    const msg = userErrorOf(() => renderRabbitMqDefinitions({
      vhosts: ['orders'],
      queues: [{ name: 'q', vhost: 'billing' }],
      bindings: [{ vhost: 'orders', exchange: 'nope', queue: 'q' }],
    }));
    expect(msg).toContain('queues[0].vhost: vhost "billing" is not in vhosts');
    expect(msg).toContain('bindings[0].exchange');
    expect(msg).toContain('bindings[0].queue');
  });
});

describe('renderUserBootstrapScript', () => {
  const script = renderUserBootstrapScript({
    users: [{ name: 'orders', vhost: 'orders' }, { name: 'invoices', vhost: 'invoices', configure: '^invoices\\.', write: "it's" }],
    passwordDir: '/run/secrets/rabbitmq-users',
  });

  it('reads passwords from files and carries none itself', () => {
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain("PASSWORD_DIR='/run/secrets/rabbitmq-users'");
    expect(script).toContain('file="$PASSWORD_DIR/$1"');
    expect(script).toContain('password=$(cat "$file")');
    // Passwords go to rabbitmqctl on stdin, never as an argument.
    expect(script).toContain('printf \'%s\' "$password" | "$CTL" -q add_user "$1"');
    expect(script).not.toMatch(/add_user "\$1" "?\$password/);
    expect(script).not.toMatch(/password_hash|default_pass/);
  });

  it('waits for the node with a bounded retry loop, then ensures each user idempotently', () => {
    expect(script).toContain('until "$CTL" -q await_startup');
    expect(script).toContain('if [ "$attempt" -ge "$ATTEMPTS" ]');
    expect(script).toContain('ATTEMPTS=60');
    expect(script).toContain('change_password');
    // Nodes race to add the same user: a failed add falls back to change_password.
    expect(script).toMatch(/elif ! printf '%s' "\$password" \| "\$CTL" -q add_user "\$1" 2>\/dev\/null; then\n[^\n]*\n\s+printf '%s' "\$password" \| "\$CTL" -q change_password "\$1"/);
    expect(script).toContain("ensure_user 'orders' 'orders' '.*' '.*' '.*'");
    // A single quote in a permission regex stays inside its shell word.
    expect(script).toContain("ensure_user 'invoices' 'invoices' '^invoices\\.' 'it'\\''s' '.*'");
  });

  it('refuses duplicate users and relative password folders', () => {
    expect(userErrorOf(() => renderUserBootstrapScript({ users: [{ name: 'a', vhost: 'v' }, { name: 'a', vhost: 'w' }] }))).toContain('users[1].name');
    expect(userErrorOf(() => renderUserBootstrapScript({ users: [{ name: 'a', vhost: 'v' }], passwordDir: 'secrets' }))).toContain('passwordDir');
  });
});
