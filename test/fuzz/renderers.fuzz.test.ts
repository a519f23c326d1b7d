/**
 * Property-based fuzz of every pure renderer (issue 13): renderNginxConf, renderPostgresConf,
 * renderPgHba, renderRabbitMqConf and renderEnabledPlugins, renderRabbitMqDefinitions and the user
 * bootstrap. Every refusal is a SovereignStackError naming the replaced prop; every accepted output
 * has exactly the shape its spec asks for (output-checks.ts); the user bootstrap script runs
 * against a stub rabbitmqctl that records its arguments, which must be the spec's values exactly.
 * The same generators feed test/integration/fuzz-real-servers.test.ts, which asks the real servers.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as fc from 'fast-check';
import { renderNginxConf } from '../../lib/gateway/render-nginx-conf';
import { renderPgHba, renderPostgresConf } from '../../lib/postgres/render-postgres-conf';
import { renderEnabledPlugins, renderRabbitMqConf } from '../../lib/rabbitmq/render-rabbitmq-conf';
import { renderRabbitMqDefinitions } from '../../lib/rabbitmq/render-rabbitmq-definitions';
import { renderUserBootstrapScript } from '../../lib/rabbitmq/render-user-bootstrap';
import { STRICT_VERSION_PATTERN } from '../../lib/util/versions';
import {
  hbaMutations, hbaSpec, nginxMutations, nginxRelated, nginxSpec, postgresMutations, postgresRelated, postgresSpec,
  rabbitConfMutations, rabbitConfRelated, rabbitConfSpec, rabbitDefinitionsMutations, rabbitDefinitionsRelated, rabbitDefinitionsSpec,
  userBootstrapMutations, userBootstrapRelated, userBootstrapSpec,
} from './generators';
import { checkNginxConf, checkPgHba, checkPostgresConf, checkRabbitConf } from './output-checks';
import { FuzzStats, cases, params, runCase } from './support';

const stats = new FuzzStats();
afterAll(() => stats.print('fuzz: renderers'));

describe('fuzz: renderers refuse with the prop named, or render what the server takes', () => {
  it('renderNginxConf', () => {
    const spec = nginxSpec({
      versions: ['1.22.1', '1.25.1', '1.27.3', '1.28.0'],
      hosts: fc.constantFrom('127.0.0.1', 'localhost', 'orders.platform.svc.cluster.local'),
      ports: fc.integer({ min: 1, max: 65535 }),
    });
    fc.assert(fc.property(cases(spec, nginxMutations), (c) => {
      runCase(stats, 'renderNginxConf', c, 'nginxConf', renderNginxConf, (conf, { input }) => {
        checkNginxConf(conf, input);
        stats.row('renderNginxConf').checks++;
      }, nginxRelated);
    }), params(700));
  });

  it('renderPostgresConf', () => {
    fc.assert(fc.property(cases(postgresSpec(), postgresMutations), (c) => {
      runCase(stats, 'renderPostgresConf', c, 'postgresConf', renderPostgresConf, (conf, { input }) => {
        checkPostgresConf(conf, input);
        stats.row('renderPostgresConf').checks++;
      }, postgresRelated);
    }), params(700));
  });

  it('renderPgHba', () => {
    fc.assert(fc.property(cases(hbaSpec, hbaMutations), (c) => {
      runCase(stats, 'renderPgHba', c, 'pgHba', renderPgHba, (hba, { input }) => {
        checkPgHba(hba, input);
        stats.row('renderPgHba').checks++;
      });
    }), params(500));
  });

  it('renderRabbitMqConf and renderEnabledPlugins', () => {
    fc.assert(fc.property(cases(rabbitConfSpec(), rabbitConfMutations), (c) => {
      runCase(stats, 'renderRabbitMqConf', c, 'rabbitmq', renderRabbitMqConf, (conf, { input }) => {
        const settings = checkRabbitConf(conf, input);
        // The version line is a comment, and the version in it is one.
        const version = /^# rendered by sovereign-stack for RabbitMQ (\S+); do not edit$/.exec(conf.split('\n')[0])?.[1] ?? '';
        expect(STRICT_VERSION_PATTERN.test(version)).toBe(true);
        const plugins = renderEnabledPlugins(input);
        expect(plugins).toMatch(/^\[[a-z0-9_,]*\]\.\n$/);
        expect(plugins.includes('rabbitmq_peer_discovery_k8s')).toBe(settings.get('cluster_formation.peer_discovery_backend') === 'rabbit_peer_discovery_k8s');
        stats.row('renderRabbitMqConf').checks++;
      }, rabbitConfRelated);
    }), params(700));
  });

  it('renderRabbitMqDefinitions', () => {
    fc.assert(fc.property(cases(rabbitDefinitionsSpec(), rabbitDefinitionsMutations), (c) => {
      runCase(stats, 'renderRabbitMqDefinitions', c, 'rabbitmq definitions', renderRabbitMqDefinitions, (json, { input }) => {
        const d = JSON.parse(json);
        expect(STRICT_VERSION_PATTERN.test(d.rabbit_version)).toBe(true);
        expect(d.vhosts.map((v: { name: string }) => v.name).sort()).toEqual([...input.vhosts].sort());
        expect(d.users).toBeUndefined();
        expect(d.permissions).toBeUndefined();
        stats.row('renderRabbitMqDefinitions').checks++;
      }, rabbitDefinitionsRelated);
    }), params(500));
  });

  describe('renderUserBootstrapScript', () => {
    let dir = '';
    let stub = '';
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-bootstrap-'));
      stub = path.join(dir, 'rabbitmqctl');
      // Records each call's arguments (unit separator between, record separator after) and its stdin.
      fs.writeFileSync(stub, [
        '#!/bin/sh',
        'for a in "$@"; do printf \'%s\\037\' "$a" >> "$CALLS"; done',
        'case "$2" in add_user|change_password) printf \'stdin=\' >> "$CALLS"; cat >> "$CALLS" ;; esac',
        'printf \'\\036\' >> "$CALLS"',
        'exit 0',
      ].join('\n'), { mode: 0o755 });
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('runs against a stub rabbitmqctl with exactly the spec\'s arguments', () => {
      let n = 0;
      fc.assert(fc.property(cases(userBootstrapSpec, userBootstrapMutations), (c) => {
        // The script runs with the stub and a password folder of its own, unless the case replaced those.
        const own = c.path?.[0] === 'rabbitmqctl' || c.path?.[0] === 'passwordDir';
        const passwords = path.join(dir, `pw-${n++}`);
        const input = own || typeof c.input !== 'object' || c.input === null
          ? c.input : { ...c.input, rabbitmqctl: stub, passwordDir: passwords, startupAttempts: 1 };
        runCase(stats, 'renderUserBootstrapScript', { ...c, input }, 'rabbitmq user bootstrap', renderUserBootstrapScript, (script, accepted) => {
          execFileSync('sh', ['-n', '-c', script]);
          if (own) return;
          const spec = accepted.input as typeof userBootstrapSpec extends fc.Arbitrary<infer T> ? T : never;
          fs.mkdirSync(passwords);
          for (const u of spec.users) fs.writeFileSync(path.join(passwords, u.name), `pw of ${u.name}\n`);
          const calls = path.join(dir, `calls-${n}`);
          execFileSync('sh', ['-c', script], { env: { PATH: process.env.PATH, CALLS: calls }, stdio: 'pipe' });
          const recorded = fs.readFileSync(calls, 'utf8').split('\x1e').filter(Boolean).map((call) => call.split('\x1f'));
          const permissions = recorded.filter((args) => args[1] === 'set_permissions').map((args) => args.slice(2, 8));
          expect(permissions).toEqual(spec.users.map((u) => ['-p', u.vhost, u.name, u.configure ?? '.*', u.write ?? '.*', u.read ?? '.*']));
          const added = recorded.filter((args) => args[1] === 'add_user');
          expect(added.map((args) => [args[2], args[3]])).toEqual(spec.users.map((u) => [u.name, `stdin=pw of ${u.name}`]));
          stats.row('renderUserBootstrapScript').checks++;
        }, userBootstrapRelated);
      }), params(80));
    });
  });
});
