/** The metrics exporter's PostgreSQL role in the renderers (issue 16, item 11). */
import { renderPgHba } from '../../lib/postgres/render-postgres-conf';
import { renderInitOwnerScript } from '../../lib/postgres/render-init-owner';
import { userErrorOf } from '../support/errors';

const rules = (hba: string) => hba.split('\n').filter((l) => l && !l.startsWith('#'));

describe('pg_hba.conf monitoring line', () => {
  it('admits the monitoring role to "postgres" from 127.0.0.1 only, with SCRAM', () => {
    expect(rules(renderPgHba({ database: 'orders', user: 'orders', monitoringUser: 'sovereign_monitoring' }))).toEqual([
      'local all all trust',
      'host orders orders 10.0.0.0/8 scram-sha-256',
      'host orders orders 172.16.0.0/12 scram-sha-256',
      'host orders orders 192.168.0.0/16 scram-sha-256',
      'host postgres sovereign_monitoring 127.0.0.1/32 scram-sha-256',
    ]);
  });

  it('stays a loopback host line when clients must use TLS (the pod\'s own loopback)', () => {
    const hba = rules(renderPgHba({ database: 'orders', user: 'orders', ssl: true, monitoringUser: 'sovereign_monitoring' }));
    expect(hba.filter((l) => l.includes('sovereign_monitoring'))).toEqual(['host postgres sovereign_monitoring 127.0.0.1/32 scram-sha-256']);
  });

  it('has no monitoring line without a monitoring user, and refuses the superuser as one', () => {
    expect(renderPgHba({ database: 'orders', user: 'orders' })).not.toContain('127.0.0.1');
    expect(userErrorOf(() => renderPgHba({ database: 'orders', user: 'orders', monitoringUser: 'postgres' })))
      .toMatch(/pgHba\.monitoringUser: must not be the "postgres" superuser/);
  });
});

describe('init script monitoring role', () => {
  const monitoring = { role: 'sovereign_monitoring', passwordEnv: 'MONITORING_PASSWORD' };

  it('creates a LOGIN role in pg_monitor only, its password read from a file like the owner\'s', () => {
    const script = renderInitOwnerScript({ role: 'orders', database: 'orders', monitoring });
    expect(script).toContain('CREATE ROLE :"monitoring_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 3 PASSWORD :\'monitoring_pw\';');
    expect(script.match(/^GRANT .*$/gm)).toEqual(['GRANT ALL ON DATABASE :"database" TO :"role";', 'GRANT pg_monitor TO :"monitoring_role";']);
    expect(script).toContain('-v monitoring_role=sovereign_monitoring');
    expect(script).toContain('\\set monitoring_pw `if [ -n "$MONITORING_PASSWORD_FILE" ]; then cat -- "$MONITORING_PASSWORD_FILE" && echo; else printf \'%s\\n\' "$MONITORING_PASSWORD"; fi`');
    expect(script).toContain('refusing to create role sovereign_monitoring without a password');
    // The role is created after the owner's database, whose CONNECT was revoked from PUBLIC.
    expect(script.indexOf('REVOKE ALL ON DATABASE')).toBeLessThan(script.indexOf('CREATE ROLE :"monitoring_role"'));
  });

  it('renders the owner-only script unchanged without monitoring', () => {
    const script = renderInitOwnerScript({ role: 'orders', database: 'orders' });
    expect(script).not.toMatch(/monitoring|pg_monitor/);
  });

  it('refuses a monitoring role or password variable equal to the owner\'s', () => {
    expect(userErrorOf(() => renderInitOwnerScript({ role: 'orders', database: 'orders', monitoring: { role: 'orders', passwordEnv: 'M' } })))
      .toMatch(/initOwner\.monitoring: must differ from the owner's role and passwordEnv/);
    expect(userErrorOf(() => renderInitOwnerScript({ role: 'orders', database: 'orders', monitoring: { role: 'mon', passwordEnv: 'OWNER_PASSWORD' } })))
      .toMatch(/initOwner\.monitoring/);
  });
});
