import { Testing } from 'cdktf';
import { Construct } from 'constructs';
import * as errors from '../../lib/util/errors';
import { KubernetesTarget, OSLO_REGION, PostgresDatabase, PostgresDatabaseProps, ReferenceDeployment } from '../../lib';
import { newStack } from '../support/synth';
import { AuditedPostgresDatabase, addServiceStack, escapeHatchStack, overrideDefaultsStack, subclassStack } from '../fixtures/client-stacks';
import { allowedEdges } from '../support/network-edges';
import { findByName, synthJson } from '../support/synth';

const app = () => Testing.app({ stackTraces: false });

describe('client stacks extend the reference deployment', () => {
  it('(a) adds a service: database, broker user, route and edges', () => {
    const json = synthJson(addServiceStack(app()));
    expect(findByName(json, 'kubernetes_deployment_v1', 'search').spec.template.spec.container[0].port[0].container_port).toBe(9000);
    expect(findByName(json, 'kubernetes_stateful_set_v1', 'search-db').spec.volume_claim_template[0].spec.resources.requests.storage).toBe('50Gi');
    const edges = allowedEdges(json);
    expect(edges).toEqual(expect.arrayContaining(['gateway -> search:9000', 'search -> search-db:5432', 'search -> rabbitmq:5672']));
    expect(edges).not.toContain('search -> orders-db:5432');
    const conf: string = findByName(json, 'kubernetes_config_map_v1', 'gateway-config').data['etc_nginx_nginx.conf'];
    expect(conf).toMatch(/location = \/v1\/search \{/);
    expect(conf).toMatch(/location \/v1\/search\/ \{/);
    expect(conf).toContain('server search-headless.platform.svc.cluster.local:9000 resolve');
    expect(Object.keys(findByName(json, 'kubernetes_secret_v1', 'rabbitmq-users').data).sort()).toEqual(['orders', 'search']);
  });

  it('(b) overrides defaults: storage, rate limit, images, replicas', () => {
    const json = synthJson(overrideDefaultsStack(app()));
    const db = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db');
    expect(db.spec.volume_claim_template[0].spec.resources.requests.storage).toBe('200Gi');
    expect(db.spec.template.spec.container[0].image).toBe('postgres:16.6');
    const gateway = findByName(json, 'kubernetes_deployment_v1', 'gateway');
    expect(gateway.spec.replicas).toBe('5');
    expect(gateway.spec.template.spec.container[0].image).toBe('nginxinc/nginx-unprivileged:1.26.2-alpine');
    const conf: string = findByName(json, 'kubernetes_config_map_v1', 'gateway-config').data['etc_nginx_nginx.conf'];
    expect(conf).toContain('rate=10r/s'); // 50 r/s for the whole gateway over 5 replicas
    expect(conf).toContain('http2 on;'); // 1.26 renders the new HTTP/2 syntax
    expect(findByName(json, 'kubernetes_stateful_set_v1', 'rabbitmq').spec.replicas).toBe('5');
  });

  it('(c) reaches the provider resources through the escape hatch', () => {
    const json = synthJson(escapeHatchStack(app()));
    expect(findByName(json, 'kubernetes_stateful_set_v1', 'orders-db').spec.min_ready_seconds).toBe(30);
    expect(findByName(json, 'kubernetes_service_v1', 'gateway').spec.load_balancer_source_ranges).toEqual(['195.0.0.0/8']);
  });

  it('(d) subclasses a component and plugs it into the pattern', () => {
    const stack = subclassStack(app());
    const json = synthJson(stack);
    const db = findByName(json, 'kubernetes_stateful_set_v1', 'orders-db');
    expect(db.metadata.annotations).toEqual({ 'audit.example.no/owner': 'orders' });
    expect(db.spec.volume_claim_template[0].spec.resources.requests.storage).toBe('50Gi');
    expect(stack.node.findAll().some((c) => c instanceof AuditedPostgresDatabase)).toBe(true);
    const conf: string = findByName(json, 'kubernetes_config_map_v1', 'gateway-config').data['etc_nginx_nginx.conf'];
    expect(conf).toContain('client_max_body_size 10m;');
  });
});

describe('options validated once: the default hooks hand validated options on', () => {
  // The tests validate handed-on options again (SOVEREIGN_STACK_CHECK_TRUSTED); here, as users run.
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.SOVEREIGN_STACK_CHECK_TRUSTED;
    delete process.env.SOVEREIGN_STACK_CHECK_TRUSTED;
  });
  afterEach(() => {
    if (saved !== undefined) process.env.SOVEREIGN_STACK_CHECK_TRUSTED = saved;
  });

  const services = [
    { name: 'orders', image: 'registry.example.no/orders:1.0.0', port: 8080, routes: ['/v1/orders'], database: { storageGi: 20 } },
    { name: 'search', image: 'registry.example.no/search:1.0.0', port: 9000, database: {} },
  ];
  const componentParses = (build: () => void): string[] => {
    const spy = jest.spyOn(errors, 'parseProps');
    try {
      build();
      return spy.mock.calls.map((c) => String(c[2])).filter((what) => /^(PostgresDatabase|MicroService) .* props$/.test(what));
    } finally {
      spy.mockRestore();
    }
  };
  const platform = (cls: typeof ReferenceDeployment = ReferenceDeployment) => {
    const { stack } = newStack('s');
    const deployment = new cls(stack, 'platform', {
      target: new KubernetesTarget(stack, 'cluster', { region: OSLO_REGION }), gateway: { serverName: 'api.example.no' }, services,
    });
    return { stack, deployment };
  };

  it('does not parse a service\'s or its database\'s options a second time', () => {
    expect(componentParses(() => platform())).toEqual([]);
    const added = componentParses(() => platform().deployment.addService({ name: 'audit', image: 'registry.example.no/audit:1.0.0', port: 7000, database: {} }));
    expect(added).toEqual([]);
  });

  it('parses again what a hook changed: a copy, or the spec itself', () => {
    class Resized extends ReferenceDeployment {
      protected createDatabase(scope: Construct, serviceName: string, options: Omit<PostgresDatabaseProps, 'serviceName' | 'target'>): PostgresDatabase {
        return super.createDatabase(scope, serviceName, { ...options, storageGi: 0 });
      }
    }
    expect(() => platform(Resized)).toThrow(/PostgresDatabase s\/platform\/orders\/database props\.storageGi/);
    class Mutating extends ReferenceDeployment {
      protected createDatabase(scope: Construct, serviceName: string, options: Omit<PostgresDatabaseProps, 'serviceName' | 'target'>): PostgresDatabase {
        (options as { storageGi?: number }).storageGi = 0;
        return super.createDatabase(scope, serviceName, options);
      }
    }
    const parses = componentParses(() => expect(() => platform(Mutating)).toThrow(/props\.storageGi/));
    expect(parses).toEqual(['PostgresDatabase s/platform/orders/database props']);
  });
});
