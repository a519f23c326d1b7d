/**
 * One folder per rendered nginx.conf, every runtime file inside it, listening on 127.0.0.1: what
 * the nginx suites render and check with the real binary. Shared so that each suite does not keep
 * its own copy of how a config is placed and tested.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { NginxConfSpec } from '../../../lib/gateway/nginx-spec';
import { makeWorkDir } from './real-servers';
import { renderNginxConf } from '../../../lib/gateway/render-nginx-conf';

export type WorkspaceSpec = Omit<NginxConfSpec, 'nginxVersion'> & { nginxVersion?: string };

export interface NginxWorkspace {
  /**
   * Renders the spec into `<workDir>/<name>` (runtime files and the access log there too) and
   * returns the folder. A function spec gets the folder first (to create certificates there).
   */
  writeConf(name: string, spec: WorkspaceSpec | ((dir: string) => WorkspaceSpec)): string;
  /** `nginx -t` on the folder's nginx.conf. */
  check(dir: string): { ok: boolean; output: string };
}

/** Reads the current values of the suite's `beforeAll` (work folder, binary, version) at each call. */
export function nginxWorkspace(env: () => { workDir: string; nginx: string; nginxVersion: string }): NginxWorkspace {
  return {
    writeConf(name, spec) {
      const { workDir, nginxVersion } = env();
      const dir = path.join(workDir, name);
      fs.mkdirSync(dir, { mode: 0o755 });
      const conf = renderNginxConf({
        nginxVersion,
        listenAddress: '127.0.0.1',
        runtimeDir: dir,
        accessLogPath: path.join(dir, 'access.log'),
        ...(typeof spec === 'function' ? spec(dir) : spec),
      });
      fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
      return dir;
    },
    check(dir) {
      const r = spawnSync(env().nginx, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
      return { ok: r.status === 0, output: r.stderr };
    },
  };
}

/** A work folder nginx's workers can use, and the version `nginx -v` reports (for the renderer). */
export function prepareNginx(nginx: string, prefix: string): { workDir: string; nginxVersion: string } {
  const workDir = makeWorkDir(prefix);
  // Workers run as "nobody" when the master is root: they must reach the temp folders.
  fs.chmodSync(workDir, 0o755);
  const nginxVersion = /nginx\/(\S+)/.exec(spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr)?.[1];
  if (!nginxVersion) throw new Error('could not read the version from `nginx -v`');
  return { workDir, nginxVersion };
}
