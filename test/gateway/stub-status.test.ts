/** renderNginxConf's stub_status server (issue 16, item 11): loopback only, a server of its own. */
import { renderNginxConf } from '../../lib/gateway/render-nginx-conf';
import { NginxConfSpec } from '../../lib/gateway/nginx-spec';
import { userErrorOf } from '../support/errors';

const BASE: NginxConfSpec = {
  nginxVersion: '1.27.3', serverName: 'api.example.no',
  upstreams: [{ name: 'orders', servers: [{ host: 'orders', port: 8080 }] }],
  routes: [{ path: '/v1/orders', upstream: 'orders' }],
};

/** The server blocks of a rendered config, as text. */
const servers = (conf: string) => conf.split(/\n\tserver \{\n/).slice(1).map((s) => s.split('\n\t}\n')[0]);

describe('stub_status server', () => {
  it('is absent unless stubStatusPort is set', () => {
    expect(renderNginxConf(BASE)).not.toContain('stub_status');
  });

  it('listens on 127.0.0.1 only, in a server of its own, whatever listenAddress the public servers take', () => {
    for (const listenAddress of [undefined, '10.0.0.5']) {
      const conf = renderNginxConf({ ...BASE, listenAddress, stubStatusPort: 8081 });
      const withStatus = servers(conf).filter((s) => s.includes('stub_status'));
      expect(withStatus).toHaveLength(1);
      expect(withStatus[0]).toBe([
        '\t\tlisten 127.0.0.1:8081;',
        '\t\taccess_log off;',
        '\t\tlocation = /stub_status {',
        '\t\t\tstub_status;',
        '\t\t}',
        '\t\tlocation / {',
        '\t\t\treturn 404;',
        '\t\t}',
      ].join('\n'));
      // The public server has no stub_status and no loopback listener.
      const publicServer = servers(conf).find((s) => s.includes('server_name api.example.no'))!;
      expect(publicServer).not.toContain('stub_status');
      expect(publicServer).toContain(`listen ${listenAddress ? `${listenAddress}:` : ''}8080;`);
    }
  });

  it('is never on a listener clients reach, with TLS too', () => {
    const conf = renderNginxConf({ ...BASE, stubStatusPort: 9000, tls: { certificatePath: '/etc/nginx/tls/tls.crt', keyPath: '/etc/nginx/tls/tls.key' } });
    expect(servers(conf).filter((s) => s.includes('stub_status')).map((s) => s.split('\n')[0])).toEqual(['\t\tlisten 127.0.0.1:9000;']);
  });

  it('refuses a port the public servers use', () => {
    expect(userErrorOf(() => renderNginxConf({ ...BASE, stubStatusPort: 8080 })))
      .toMatch(/nginxConf\.stubStatusPort: must differ from httpPort, httpsPort and healthPort/);
    expect(userErrorOf(() => renderNginxConf({ ...BASE, stubStatusPort: 8081, healthPort: 8081 })))
      .toMatch(/nginxConf\.stubStatusPort: must differ from httpPort, httpsPort and healthPort/);
    expect(userErrorOf(() => renderNginxConf({ ...BASE, stubStatusPort: 8443, tls: { certificatePath: '/a.crt', keyPath: '/a.key' } })))
      .toMatch(/stubStatusPort/);
    expect(() => renderNginxConf({ ...BASE, stubStatusPort: 8443 })).not.toThrow(); // no TLS: 8443 is free
  });
});
