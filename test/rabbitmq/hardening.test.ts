/**
 * Issue 13, RabbitMQ: each test names the defect class it holds fixed. Every one of them failed
 * before the fix (a directive injected through the version, a memory or disk alarm at boot, a
 * permission regex that aborts the user bootstrap, a regex that takes seconds to refuse an input).
 */
import { Construct } from 'constructs';
import {
  KubernetesTarget, OSLO_REGION, RabbitMqCluster, renderRabbitMqConf, renderRabbitMqDefinitions, renderers,
} from '../../lib';
import { HA_ALL_POLICY } from '../../lib/rabbitmq/render-rabbitmq-definitions';
import { imageTagVersion as imageTagVersionOf } from '../../lib/util/versions';
import { newStack } from '../support/synth';
import { userErrorOf } from '../support/errors';
import { refusedBeforePatterns } from '../fuzz/support';

const classic = { kind: 'classic' as const, peers: ['rabbit@node-0'] };
const k8s = { kind: 'kubernetes' as const, headlessServiceName: 'rabbitmq-headless', namespace: 'platform' };

function cluster(props: Record<string, unknown>) {
  const { stack } = newStack();
  const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
  return () => new RabbitMqCluster(new Construct(stack, 'scope'), 'messaging', { target, ...props });
}

describe('issue 13 class 1: versions are strict, never only coerced', () => {
  const injected = '3.10.8\nlisteners.tcp.2 = 127.0.0.1:47679\nheartbeat = 7\n#';

  it('refuses a version that carries rabbitmq.conf directives, naming rabbitmqVersion', () => {
    const msg = userErrorOf(() => renderRabbitMqConf({ rabbitmqVersion: injected, discovery: classic }));
    expect(msg).toContain('rabbitmq.rabbitmqVersion: must be a RabbitMQ version');
    expect(msg).not.toContain('listeners.tcp.2');
  });

  it.each([injected, 'latest-3.13.7', 'v3.13.7', '3.13.7 ', '3.13.7;', '3.13.7\r', '3'.repeat(41)])(
    'refuses %j in rabbitmq.conf and definitions.json', (rabbitmqVersion) => {
      expect(userErrorOf(() => renderRabbitMqConf({ rabbitmqVersion, discovery: classic }))).toContain('rabbitmqVersion');
      expect(userErrorOf(() => renderRabbitMqDefinitions({ rabbitmqVersion, vhosts: ['v'] }))).toContain('rabbitmqVersion');
    },
  );

  it.each(['3.10.8', '3.13', '4.0', '4.0.0-rc.1'])('accepts %s and writes it as given', (rabbitmqVersion) => {
    const queueMode = rabbitmqVersion.startsWith('4') ? 'quorum' : 'classic-mirrored';
    expect(renderRabbitMqConf({ rabbitmqVersion, queueMode, discovery: classic }).split('\n')[0]).toBe(
      `# rendered by sovereign-stack for RabbitMQ ${rabbitmqVersion}; do not edit`,
    );
  });

  it('reads a version only from the start of an image tag ("management-alpine3.19" names none)', () => {
    expect(imageTagVersionOf('rabbitmq:management-alpine3.19')).toBeUndefined();
    expect(imageTagVersionOf('rabbitmq:3.13.7-management-alpine')?.version).toBe('3.13.7');
    const msg = userErrorOf(cluster({ image: 'rabbitmq:management-alpine3.19' }));
    expect(msg).toMatch(/props\.image: "rabbitmq:management-alpine3\.19" names no version/);
  });
});

describe('issue 13 class 2: what is accepted boots without an alarm and passes set_permissions', () => {
  it.each(['0Mi', '1Ki', '511Mi', '999999999Ti', '2Ti'])('refuses memoryLimit %s', (memoryLimit) => {
    expect(userErrorOf(() => renderRabbitMqConf({ discovery: classic, memoryLimit }))).toMatch(/rabbitmq\.memoryLimit: must be at (least 512Mi|most 1Ti)/);
    expect(userErrorOf(cluster({ memoryLimit }))).toMatch(/props\.memoryLimit: must be at (least 512Mi|most 1Ti)/);
  });

  it('refuses a memory high watermark below what a booted node already uses', () => {
    expect(userErrorOf(() => renderRabbitMqConf({ discovery: classic, memoryHighWatermark: 0.01 }))).toContain('rabbitmq.memoryHighWatermark: must be at least 0.1');
    const msg = userErrorOf(() => renderRabbitMqConf({ discovery: classic, memoryLimit: '512Mi', memoryHighWatermark: 0.2 }));
    expect(msg).toMatch(/rabbitmq\.memoryHighWatermark: gives a memory high watermark of 102 MiB .* at least 200 MiB/);
    expect(renderRabbitMqConf({ discovery: classic, memoryLimit: '512Mi' })).toContain('vm_memory_high_watermark.absolute = 204MiB');
  });

  it('refuses a disk free limit that rounds to nothing', () => {
    expect(userErrorOf(() => renderRabbitMqConf({ discovery: classic, diskFreeLimit: '0Mi' }))).toContain('rabbitmq.diskFreeLimit: must be at least 50Mi');
    expect(userErrorOf(() => renderRabbitMqConf({ discovery: classic, diskFreeLimit: '1023Ki' }))).toContain('rabbitmq.diskFreeLimit');
  });

  it('refuses a volume smaller than the disk free limit (the node would boot with its disk alarm on)', () => {
    expect(userErrorOf(cluster({ storageGi: 2 }))).toMatch(/props\.storageGi: must be at least 3: the node blocks publishers/);
    expect(userErrorOf(cluster({ memoryLimit: '64Gi', storageGi: 20 }))).toContain('props.storageGi: must be at least 65');
    expect(() => cluster({ storageGi: 3 })()).not.toThrow();
  });

  it.each([
    ['(', 'is not a valid regular expression'],
    ['[a-', 'is not a valid regular expression'],
    ['a{2', 'is not a valid regular expression'],
    ['-.*', 'must not start with "-"'],
    ['\\u0041', 'must not use "\\u"'],
    ['(?<=a)b', 'must not use lookbehind'],
    ['[^]', 'must not use "[]" or "[^]"'],
    ['a\nb', 'must be printable ASCII'],
    ['é', 'must be printable ASCII'],
    ['(a{100}){100}', 'repeats too much'],
    ['a'.repeat(256), 'must be at most 255 characters'],
  ])('refuses the permission regex %j (it would abort the user bootstrap)', (regex, why) => {
    for (const prop of ['configure', 'write', 'read'] as const) {
      const msg = userErrorOf(() => renderers.renderUserBootstrapScript({ users: [{ name: 'orders', vhost: 'platform', [prop]: regex }] }));
      expect(msg).toContain(`rabbitmq user bootstrap.users[0].${prop}: ${why}`);
    }
  });

  it.each(['', '.*', '^$', '^orders\\..*$', '^(events|audit)$', '^amq\\.default$', '[-a-z]+', 'a{2,5}', '\\d+\\.\\w*',
    // Counted repetitions are judged by the size they compile to, not by their product (the fuzz suite's first finding).
    '(?:\\w+[a-z]*?|orders*){2}(?:[\\-x]*(?:(?:a+[a-z]){1,3}[\\-x]?)+){1,3}'])(
    'accepts the permission regex %j', (regex) => {
      expect(renderers.renderUserBootstrapScript({ users: [{ name: 'orders', vhost: 'platform', read: regex }] })).toContain("ensure_user 'orders' 'platform'");
    },
  );
});

describe('issue 13 class 4: long input is refused by length first, in milliseconds', () => {
  const long = (unit: string) => unit.repeat(Math.ceil(60000 / unit.length)) + '!';

  it.each([
    ['image', () => cluster({ image: long('a') })()],
    ['image (separators)', () => cluster({ image: long('a-') })()],
    ['image (dots)', () => cluster({ image: long('a.') })()],
    ['peers', () => renderRabbitMqConf({ discovery: { kind: 'classic', peers: [`rabbit@${long('a-')}`] } })],
    ['clusterDomain', () => renderRabbitMqConf({ discovery: { ...k8s, clusterDomain: long('a-') } })],
    ['apiHost', () => renderRabbitMqConf({ discovery: { ...k8s, apiHost: long('a.') } })],
    ['vhosts', () => renderRabbitMqDefinitions({ vhosts: [long('a')] })],
    ['routingKey', () => renderRabbitMqDefinitions({ vhosts: ['v'], exchanges: [{ name: 'x', vhost: 'v' }], queues: [{ name: 'q', vhost: 'v' }], bindings: [{ vhost: 'v', exchange: 'x', queue: 'q', routingKey: long('a.') }] })],
    ['rabbitmqVersion', () => renderRabbitMqConf({ discovery: classic, rabbitmqVersion: long('1.') })],
    ['memoryLimit', () => renderRabbitMqConf({ discovery: classic, memoryLimit: long('1') })],
    ['read', () => renderers.renderUserBootstrapScript({ users: [{ name: 'o', vhost: 'v', read: long('(a|a)*') }] })],
  ])('%s of 60,000 characters', (_prop, fn) => {
    expect(refusedBeforePatterns(() => fn())).toBeLessThan(10000);
  });
});

describe('issue 13 class 5: shared data cannot be changed by an importer', () => {
  it('HA_ALL_POLICY and its definition are frozen', () => {
    expect(Object.isFrozen(HA_ALL_POLICY)).toBe(true);
    expect(Object.isFrozen(HA_ALL_POLICY.definition)).toBe(true);
    expect(() => { (HA_ALL_POLICY as any).pattern = '^$'; }).toThrow(TypeError);
    expect(JSON.parse(renderRabbitMqDefinitions({ rabbitmqVersion: '3.13.7', vhosts: ['v'] })).policies[0].pattern).toBe('.*');
  });
});

describe('issue 13 class 6: messages name the prop the user wrote', () => {
  it('an unknown discovery kind says which kinds exist', () => {
    const msg = userErrorOf(() => renderRabbitMqConf({ discovery: { kind: 'dns' } as any }));
    expect(msg).toMatch(/rabbitmq\.discovery\.kind: must be one of "kubernetes", "classic"/);
    expect(msg).not.toMatch(/Invalid input/);
  });

  it('addServiceUser(null) is a refusal naming addServiceUser, not a TypeError', () => {
    const { stack } = newStack();
    const target = new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION });
    const broker = new RabbitMqCluster(stack, 'messaging', { target });
    expect(userErrorOf(() => broker.addServiceUser(null as any))).toMatch(/addServiceUser: must be an object \(got null\)/);
  });
});
