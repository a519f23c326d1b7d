/**
 * Day-two behaviour of RabbitMqCluster (issue 16, items 8-10), as synthesized and as the rendered
 * scripts behave under sh: adding a service changes only the live files (no pod-template change,
 * so no node restarts), each publisher gets topic permissions for its own routing keys, the preStop
 * waits share the grace period, and the reconcile loop's ready file follows the bootstrap's success.
 * The real-node proofs are in test/integration/rabbitmq-platform.test.ts.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OSLO_REGION } from '../../lib/residency/regions';
import { KubernetesTarget } from '../../lib/targets/kubernetes/kubernetes-target';
import { DockerTarget } from '../../lib/targets/docker/docker-target';
import { SovereignStackError } from '../../lib/util/errors';
import { WorkloadSchema } from '../../lib/workload/workload';
import {
  RabbitMqCluster, SHUTDOWN_RESERVE_SECONDS, preStopCommand, shutdownWaits,
} from '../../lib/rabbitmq/rabbitmq-cluster';
import { renderServiceUsersFile, renderUserReconcileScript } from '../../lib/rabbitmq/render-user-bootstrap';
import { findByName, newStack, resourcesOf, synthJson } from '../support/synth';
import { errorOf } from '../support/errors';

const SERVICES = [
  { service: 'orders', publishes: ['orders.created'] },
  { service: 'invoices', publishes: ['invoices.issued'], consumes: ['orders.created'] },
  { service: 'notifications', consumes: ['orders.created', 'invoices.issued'] },
];

function platform(services: typeof SERVICES, targetKind: 'kubernetes' | 'docker' = 'kubernetes') {
  const { stack } = newStack();
  const target = targetKind === 'kubernetes'
    ? new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' })
    : new DockerTarget(stack, 'local', { location: OSLO_REGION });
  const broker = new RabbitMqCluster(stack, 'messaging', { target });
  for (const s of services) broker.addServiceUser(s);
  return synthJson(stack);
}

describe('adding a service restarts no broker node (item 8)', () => {
  const before = platform(SERVICES.slice(0, 2));
  const after = platform(SERVICES);

  it('leaves the StatefulSet (pod template, config hash) and the hashed ConfigMap unchanged', () => {
    const sts = (json: any) => findByName(json, 'kubernetes_stateful_set_v1', 'rabbitmq');
    expect(sts(after)).toEqual(sts(before));
    expect(sts(after).spec.template.metadata.annotations['sovereign-stack.io/config-hash']).toMatch(/^[0-9a-f]{16}$/);
    const config = (json: any) => findByName(json, 'kubernetes_config_map_v1', 'rabbitmq-config').data;
    expect(config(after)).toEqual(config(before));
    // What does change: the live files and the passwords.
    const live = (json: any, file: string) => findByName(json, 'kubernetes_config_map_v1', `rabbitmq-live-${file}`).data[`etc_rabbitmq_topology_${file}`];
    expect(live(after, 'users.sh')).not.toEqual(live(before, 'users.sh'));
    expect(live(after, 'definitions.json')).toContain('notifications.invoices.issued');
    expect(live(before, 'definitions.json')).not.toContain('notifications.invoices.issued');
    const passwords = (json: any) => Object.keys(findByName(json, 'kubernetes_secret_v1', 'rabbitmq-users').data).sort();
    expect(passwords(after)).toEqual(['invoices', 'notifications', 'orders']);
  });

  it('keeps per-service data out of the hashed ConfigMap: a fixed loop script there, the data in a ConfigMap per live file', () => {
    const config = findByName(after, 'kubernetes_config_map_v1', 'rabbitmq-config').data;
    expect(Object.keys(config).sort()).toEqual(['etc_rabbitmq_bootstrap-users.sh', 'etc_rabbitmq_enabled_plugins', 'etc_rabbitmq_rabbitmq-env.conf', 'etc_rabbitmq_rabbitmq.conf']);
    expect(JSON.stringify(config)).not.toMatch(/orders|invoices|notifications/);
    const names = Object.values(resourcesOf(after, 'kubernetes_config_map_v1') as Record<string, any>).map((c) => c.metadata.name).sort();
    expect(names).toEqual(['rabbitmq-config', 'rabbitmq-live-definitions.json', 'rabbitmq-live-users.sh']);
  });

  it('mounts the live files as a directory (the kubelet refreshes it; never a subPath, which it does not)', () => {
    const pod = findByName(after, 'kubernetes_stateful_set_v1', 'rabbitmq').spec.template.spec;
    const volume = pod.volume.find((v: any) => v.projected);
    expect(volume.projected).toEqual([{ default_mode: '0444', sources: [
      { config_map: [{ name: 'rabbitmq-live-definitions.json', items: [{ key: 'etc_rabbitmq_topology_definitions.json', path: 'definitions.json' }] }] },
      { config_map: [{ name: 'rabbitmq-live-users.sh', items: [{ key: 'etc_rabbitmq_topology_users.sh', path: 'users.sh' }] }] },
    ] }]);
    const mount = pod.container[0].volume_mount.find((m: any) => m.name === volume.name);
    expect(mount).toEqual(expect.objectContaining({ mount_path: '/etc/rabbitmq/topology', read_only: true }));
    expect(mount.sub_path).toBeUndefined();
    // The hashed files stay subPath mounts beside the image's own files in /etc/rabbitmq.
    expect(pod.container[0].volume_mount.filter((m: any) => m.name === 'config').map((m: any) => m.mount_path).sort())
      .toEqual(['/etc/rabbitmq/bootstrap-users.sh', '/etc/rabbitmq/enabled_plugins', '/etc/rabbitmq/rabbitmq-env.conf', '/etc/rabbitmq/rabbitmq.conf']);
  });

  it('keeps the Docker config-hash label unchanged too (the provider still recreates containers whose uploads change)', () => {
    const label = (json: any) => Object.values(resourcesOf(json, 'docker_container') as Record<string, any>)
      .filter((c) => /^sovereign-rabbitmq-\d+$/.test(c.name))
      .map((c) => c.labels.find((l: any) => l.label === 'sovereign-stack.io/config-hash').value);
    const a = label(platform(SERVICES.slice(0, 2), 'docker'));
    expect(a.length).toBe(3);
    expect(label(platform(SERVICES, 'docker'))).toEqual(a);
  });

  it('refuses a live file beside a restart file, or a secret mounted on a live directory', () => {
    const base = {
      name: 'w', component: 'c', kind: 'stateless', image: 'nginx:1.28.0',
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '64Mi' } },
    } as const;
    const mixed = WorkloadSchema.safeParse({ ...base, configFiles: [{ path: '/etc/a/x', content: '' }, { path: '/etc/a/y', content: '', live: true }] });
    expect(mixed.success).toBe(false);
    expect(JSON.stringify(mixed.error?.issues)).toContain('a directory of live config files');
    const secret = WorkloadSchema.safeParse({ ...base, configFiles: [{ path: '/etc/a/y', content: '', live: true }], secretMounts: [{ secret: 's', mountPath: '/etc/a' }] });
    expect(secret.success).toBe(false);
    expect(WorkloadSchema.safeParse({ ...base, configFiles: [{ path: '/etc/a/x', content: '' }, { path: '/etc/b/y', content: '', live: true }] }).success).toBe(true);
  });
});

describe('topic permissions from publishes (item 9)', () => {
  it('grants each user its own routing keys on the exchange, and no others', () => {
    const users = findByName(platform(SERVICES), 'kubernetes_config_map_v1', 'rabbitmq-live-users.sh').data['etc_rabbitmq_topology_users.sh'];
    expect(users).toContain("ensure_user 'orders' 'platform' '^$' '^events$' '^$' 'events' '^orders\\.created$' '^$'");
    expect(users).toContain("ensure_user 'invoices' 'platform' '^$' '^events$' '^invoices\\.orders\\.created$' 'events' '^invoices\\.issued$' '^$'");
    // A consumer only may publish with no key at all.
    expect(users).toContain("'events' '^$' '^$'\n");
  });

  it('renders set_topic_permissions only for users that have topic permissions', () => {
    const file = renderServiceUsersFile({ users: [
      { name: 'a', vhost: 'v', topic: { exchange: 'events', write: '^a\\.x$' } },
      { name: 'b', vhost: 'v' },
    ] });
    expect(file).toContain("ensure_user 'a' 'v' '.*' '.*' '.*' 'events' '^a\\.x$' '^$'");
    expect(file).toContain("ensure_user 'b' 'v' '.*' '.*' '.*'\n");
    expect(renderServiceUsersFile({ users: [] })).toMatch(/^# rendered by sovereign-stack/);
    const e = errorOf(() => renderServiceUsersFile({ users: [{ name: 'a', vhost: 'v', topic: { exchange: 'amq.topic', write: 'x' } }] }));
    expect(e).toBeInstanceOf(SovereignStackError);
    expect(e.message).toContain('users[0].topic.exchange');
  });
});

describe('shutdown follows the grace period (item 10)', () => {
  it.each([120, 300, 600, 1800, 3600])('shares a %i s grace period: the waits and the reserve fit, mirror sync gets most', (grace) => {
    const mirrored = shutdownWaits(grace, 'classic-mirrored');
    expect(mirrored.quorumPlusOne + mirrored.synchronizedMirror + mirrored.drain + SHUTDOWN_RESERVE_SECONDS).toBe(grace);
    expect(mirrored.synchronizedMirror).toBeGreaterThan(mirrored.quorumPlusOne);
    expect(mirrored.synchronizedMirror).toBeGreaterThan(mirrored.drain);
    expect(Math.min(mirrored.quorumPlusOne, mirrored.drain)).toBeGreaterThan(0);
    const quorum = shutdownWaits(grace, 'quorum');
    expect(quorum.synchronizedMirror).toBe(0);
    expect(quorum.quorumPlusOne + quorum.drain + SHUTDOWN_RESERVE_SECONDS).toBe(grace);
    const command = preStopCommand(3, 'classic-mirrored', grace)![2];
    expect(command).toBe(`rabbitmq-upgrade -q await_online_quorum_plus_one -t ${mirrored.quorumPlusOne} || true; ` +
      `rabbitmq-upgrade -q await_online_synchronized_mirror -t ${mirrored.synchronizedMirror} || true; ` +
      `rabbitmq-upgrade -q drain -t ${mirrored.drain} || true`);
  });

  it('puts shutdownGracePeriodSeconds on the pod and derives the preStop timeouts from it', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });
    new RabbitMqCluster(stack, 'messaging', { target, shutdownGracePeriodSeconds: 1200 });
    const pod = findByName(synthJson(stack), 'kubernetes_stateful_set_v1', 'rabbitmq').spec.template.spec;
    expect(pod.termination_grace_period_seconds).toBe(1200);
    const w = shutdownWaits(1200, 'classic-mirrored');
    expect(w).toEqual({ quorumPlusOne: 340, synchronizedMirror: 680, drain: 120 });
    expect(pod.container[0].lifecycle.pre_stop[0].exec.command[2]).toContain('await_online_synchronized_mirror -t 680');
    // The default: 600 s.
    expect(shutdownWaits(600, 'classic-mirrored')).toEqual({ quorumPlusOne: 144, synchronizedMirror: 288, drain: 108 });
  });

  it('refuses a grace period too short for the node to stop, naming the prop', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION, namespace: 'platform' });
    const e = errorOf(() => new RabbitMqCluster(stack, 'messaging', { target, shutdownGracePeriodSeconds: 30 }));
    expect(e).toBeInstanceOf(SovereignStackError);
    expect(e.message).toContain('shutdownGracePeriodSeconds');
    expect(e.message).toContain('at least 120');
  });
});

/**
 * The reconcile loop under sh, against a fake rabbitmqctl that records its calls and keeps its
 * users in a file; FAIL makes set_permissions fail.
 */
describe('the reconcile loop (items 8 and 10)', () => {
  let dir = '';
  let loop: ChildProcess | undefined;
  const file = (name: string) => path.join(dir, name);
  const calls = () => (fs.existsSync(file('calls')) ? fs.readFileSync(file('calls'), 'utf8') : '');
  const until = async (what: string, ok: () => boolean, ms = 8000) => {
    for (const end = Date.now() + ms; Date.now() < end;) {
      if (ok()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}; calls:\n${calls()}`);
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-'));
    fs.mkdirSync(file('users'));
    fs.writeFileSync(file('ctl'), `#!/bin/sh
echo "$*" >> '${file('calls')}'
case "$2" in
  list_users) cat '${file('state')}' 2>/dev/null ;;
  add_user) cat > /dev/null; echo "$3" >> '${file('state')}' ;;
  change_password) cat > /dev/null ;;
  set_permissions) [ ! -e '${file('FAIL')}' ] ;;
esac
`, { mode: 0o755 });
    fs.writeFileSync(file('definitions.json'), '{}\n');
    fs.writeFileSync(file('users.sh'), renderServiceUsersFile({ users: [{ name: 'orders', vhost: 'platform', topic: { exchange: 'events', write: '^orders\\.created$' } }] }));
  });

  afterEach(async () => {
    if (loop && loop.exitCode === null) {
      const exited = new Promise((r) => loop!.once('exit', r));
      loop.kill('SIGKILL');
      await exited;
    }
    loop = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = (failureGraceSeconds = 180) => {
    const script = renderUserReconcileScript({
      usersFile: file('users.sh'), definitionsFile: file('definitions.json'), passwordDir: file('users'),
      readyFile: file('ready'), rabbitmqctl: file('ctl'), intervalSeconds: 1, failureGraceSeconds,
    });
    fs.writeFileSync(file('reconcile.sh'), script);
    loop = spawn('sh', [file('reconcile.sh')], { stdio: 'ignore' });
  };

  it('is not ready while a password file is missing, and becomes ready once it appears', async () => {
    start();
    await until('a first attempt', () => calls().includes('import_definitions'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(fs.existsSync(file('ready'))).toBe(false);
    expect(calls()).not.toContain('add_user');
    fs.writeFileSync(file('users/orders'), 'pw\n');
    await until('the ready file', () => fs.existsSync(file('ready')));
    expect(calls()).toContain('-q add_user orders');
    expect(calls()).toContain('-q set_topic_permissions -p platform orders events ^orders\\.created$ ^$');
  });

  it('applies a new user from a changed users file without being restarted', async () => {
    fs.writeFileSync(file('users/orders'), 'pw\n');
    start();
    await until('the ready file', () => fs.existsSync(file('ready')));
    const pid = loop!.pid;
    fs.writeFileSync(file('users/billing'), 'pw2\n');
    const ordersCalls = () => calls().split('\n').filter((l) => / orders( |$)/.test(l)).length;
    const ordersBefore = ordersCalls();
    fs.writeFileSync(file('users.sh'), renderServiceUsersFile({ users: [
      { name: 'orders', vhost: 'platform', topic: { exchange: 'events', write: '^orders\\.created$' } },
      { name: 'billing', vhost: 'platform', read: '^billing\\.x$' },
    ] }));
    await until('billing', () => calls().includes('-q set_permissions -p platform billing'));
    expect(calls()).toContain('-q add_user billing');
    expect(loop!.pid).toBe(pid);
    expect(loop!.exitCode).toBeNull();
    expect(calls()).toContain('-q set_permissions -p platform billing .* .* ^billing\\.x$');
    // Only what changed is applied: orders (same line, same password) gets no rabbitmqctl call.
    expect(ordersCalls()).toBe(ordersBefore);
    expect(calls().match(/list_users/g)?.length).toBe(2); // once per round, not once per user
    // Unchanged files are not applied again.
    const n = calls().split('\n').length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(calls().split('\n').length).toBe(n);
  });

  it('stays ready through a failure shorter than the grace, and stops being ready after it', async () => {
    fs.writeFileSync(file('users/orders'), 'pw\n');
    start(0);
    await until('the ready file', () => fs.existsSync(file('ready')));
    fs.writeFileSync(file('FAIL'), '');
    fs.writeFileSync(file('users/orders'), 'pw-changed\n');
    await until('the ready file to go', () => !fs.existsSync(file('ready')));
    fs.rmSync(file('FAIL'));
    await until('the ready file again', () => fs.existsSync(file('ready')));
  });

  it('with the default grace, one failed attempt after being ready keeps the node ready', async () => {
    fs.writeFileSync(file('users/orders'), 'pw\n');
    start();
    await until('the ready file', () => fs.existsSync(file('ready')));
    fs.writeFileSync(file('FAIL'), '');
    fs.writeFileSync(file('users/orders'), 'pw-changed\n');
    const n = calls().split('set_permissions').length;
    await until('another failed attempt', () => calls().split('set_permissions').length > n + 1);
    expect(fs.existsSync(file('ready'))).toBe(true);
  });
});
