/**
 * Every user string that reaches nginx.conf is validated: a hostile value in any of them must be
 * rejected by the schema, with the message naming the prop, before anything is rendered.
 */
import { NginxConfSpec } from '../../lib/gateway/nginx-spec';
import { renderNginxConf } from '../../lib/gateway/render-nginx-conf';
import { SovereignStackError } from '../../lib/util/errors';

const HOSTILE = [
  'api; } server { listen 80; }',
  'a;b',
  'a{',
  'a}',
  '"quoted"',
  "'quoted'",
  'back\\slash',
  'new\nline',
  'carriage\rreturn',
  'tab\there',
  'with space',
  '$host',
  '${remote_addr}',
  'a#comment',
  '/v1/orders; return 200 pwned',
  '/v1/orders {',
  '/v1/$uri',
  'evil.example:80;include /etc/passwd',
  'null\u0000byte',
  'ünïcode',
  '',
  ' ',
  '/v1/orders\n}\nserver {',
];

const base = (): NginxConfSpec => ({
  nginxVersion: '1.22.1',
  serverName: 'api.example.no',
  rateLimits: [{ name: 'api', ratePerSecond: 10 }],
  upstreams: [{ name: 'orders', servers: [{ host: 'orders.internal', port: 8080 }] }],
  routes: [{ path: '/v1/orders', upstream: 'orders', rateLimit: 'api' }],
});

/** Harmless as header values, but no valid path (traversal) or host (a URL). */
const NOT_A_PATH_OR_HOST = ['/v1/../admin', 'http://evil.example/', 'evil.example:80', '1.2.3.999'];

/**
 * Each entry puts a value into one prop of an otherwise valid spec; `path` is how errors name it,
 * `alsoRejects` lists values only that prop must refuse.
 */
const TARGETS: { path: string; benign: string; apply: (spec: NginxConfSpec, value: string) => void; alsoRejects?: string[] }[] = [
  { path: 'routes[0].path', benign: '/v1/orders', apply: (s, v) => { s.routes[0].path = v; }, alsoRejects: NOT_A_PATH_OR_HOST },
  { path: 'serverName', benign: 'api.example.no', apply: (s, v) => { s.serverName = v; }, alsoRejects: NOT_A_PATH_OR_HOST },
  { path: 'upstreams[0].name', benign: 'orders', apply: (s, v) => { s.upstreams[0].name = v; s.routes[0].upstream = v; } },
  { path: 'routes[0].upstream', benign: 'orders', apply: (s, v) => { s.routes[0].upstream = v; } },
  { path: 'upstreams[0].servers[0].host', benign: '10.1.2.3', apply: (s, v) => { s.upstreams[0].servers[0].host = v; }, alsoRejects: NOT_A_PATH_OR_HOST },
  { path: 'rateLimits[0].name', benign: 'api', apply: (s, v) => { s.rateLimits![0].name = v; s.routes[0].rateLimit = v; } },
  { path: 'healthPath', benign: '/healthz', apply: (s, v) => { s.healthPath = v; }, alsoRejects: NOT_A_PATH_OR_HOST },
  { path: 'listenAddress', benign: '127.0.0.1', apply: (s, v) => { s.listenAddress = v; } },
  { path: 'runtimeDir', benign: '/tmp', apply: (s, v) => { s.runtimeDir = v; }, alsoRejects: NOT_A_PATH_OR_HOST },
  { path: 'accessLogPath', benign: '/dev/stdout', apply: (s, v) => { s.accessLogPath = v; } },
  { path: 'tls.certificatePath', benign: '/tls/tls.crt', apply: (s, v) => { s.tls = { certificatePath: v, keyPath: '/tls/tls.key' }; } },
  { path: 'clientMaxBodySize', benign: '10m', apply: (s, v) => { s.clientMaxBodySize = v; } },
  { path: 'nginxVersion', benign: '1.27.0', apply: (s, v) => { s.nginxVersion = v; } },
  { path: 'requestHeaders.X-Tenant', benign: 'oslo', apply: (s, v) => { s.requestHeaders = { 'X-Tenant': v }; } },
  { path: 'responseHeaders.X-Frame-Options', benign: 'DENY', apply: (s, v) => { s.responseHeaders = { 'X-Frame-Options': v }; } },
  { path: 'responseHeaders.', benign: 'X-Frame-Options', apply: (s, v) => { s.responseHeaders = { [v]: 'DENY' }; } },
];

function attempt(target: (typeof TARGETS)[number], value: string): unknown {
  const spec = base();
  target.apply(spec, value);
  try {
    return renderNginxConf(spec);
  } catch (e) {
    return e;
  }
}

describe('nginx.conf injection safety', () => {
  it('has a corpus of at least 20 hostile strings', () => {
    expect(new Set(HOSTILE).size).toBeGreaterThanOrEqual(20);
  });

  describe.each(TARGETS)('$path', (target) => {
    it('accepts a benign value (so rejections below are about the value)', () => {
      const conf = attempt(target, target.benign);
      expect(typeof conf).toBe('string');
    });

    it.each([...HOSTILE, ...(target.alsoRejects ?? [])].map((h) => [JSON.stringify(h), h]))('rejects %s naming the prop', (_label, hostile) => {
      const error = attempt(target, hostile);
      expect(error).toBeInstanceOf(SovereignStackError);
      const lines = (error as Error).message.split('\n');
      expect(lines[0]).toBe('invalid nginxConf:');
      expect(lines.some((l) => l.startsWith(`  - nginxConf.${target.path}`))).toBe(true);
    });
  });
});
