/**
 * The owner's init script, as text. What it does on a real server (the password on no command
 * line, every byte kept, nothing in the log) is proven in test/integration/postgres-init.test.ts.
 */
import { spawnSync } from 'child_process';
import { renderInitOwnerScript } from '../../lib/postgres/render-init-owner';
import { userErrorOf } from '../support/errors';

describe('renderInitOwnerScript', () => {
  const script = renderInitOwnerScript({ role: 'orders', database: 'orders' });
  /** The psql command line, from `psql` to the here-document. */
  const psqlCommand = /^\s*psql [\s\S]*?<<'EOSQL'$/m.exec(script)?.[0] ?? '';

  it('is valid bash', () => {
    const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
  });

  it('puts no password on psql\'s command line: psql reads the file (or the variable) itself', () => {
    expect(psqlCommand).toContain('-v role=orders -v database=orders');
    expect(psqlCommand).not.toMatch(/pw|PASSWORD/);
    expect(script).not.toMatch(/-v pw/);
    // A backquoted command psql hands to the shell: `cat` names the file, printf is a shell builtin.
    expect(script).toContain('\\set pw `if [ -n "$OWNER_PASSWORD_FILE" ]; then cat -- "$OWNER_PASSWORD_FILE" && echo; else printf \'%s\\n\' "$OWNER_PASSWORD"; fi`');
    // The SQL gets it quoted as a literal, and the here-document is not expanded by the shell.
    expect(script).toContain("PASSWORD :'pw'");
    expect(script).toContain("<<'EOSQL'");
  });

  it('follows the image\'s <NAME>_FILE convention for any variable name', () => {
    const custom = renderInitOwnerScript({ role: 'orders', database: 'orders', passwordEnv: 'DB_OWNER_PW' });
    expect(custom).toContain('cat -- "$DB_OWNER_PW_FILE"');
    expect(custom).toContain('"$DB_OWNER_PW"');
    expect(custom).toContain('both DB_OWNER_PW and DB_OWNER_PW_FILE are set');
    expect(custom).not.toContain('OWNER_PASSWORD');
  });

  it('commits the role only when it got a password, and keeps logging off around it', () => {
    const sql = script.slice(script.indexOf("<<'EOSQL'"), script.indexOf('\nEOSQL\n'));
    const order = ["SET log_statement = 'none'", '\\set pw', 'BEGIN;', 'CREATE ROLE', 'owner_has_password', 'COMMIT;', 'CREATE DATABASE'];
    const positions = order.map((s) => sql.indexOf(s));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(sql).toContain("RAISE EXCEPTION 'create-owner: the password read was empty; role not created'");
  });

  it('refuses names that are not the service\'s own, naming the field', () => {
    expect(userErrorOf(() => renderInitOwnerScript({ role: 'postgres', database: 'orders' }))).toMatch(/role/);
    expect(userErrorOf(() => renderInitOwnerScript({ role: 'orders', database: 'template1' }))).toMatch(/database/);
    expect(userErrorOf(() => renderInitOwnerScript({ role: 'orders', database: 'orders', passwordEnv: 'X; rm -rf /' }))).toMatch(/passwordEnv/);
  });
});
