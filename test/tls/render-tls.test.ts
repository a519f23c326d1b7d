/**
 * The TLS parts of the pure renderers: rabbitmq.conf with AMQPS, the inter-node TLS option file,
 * and postgresql.conf / pg_hba.conf with ssl. Real servers run the same output in
 * test/integration/postgres-tls.test.ts and rabbitmq-tls.test.ts.
 */
import { interNodeTlsErlArgs, renderInterNodeTlsConfig, renderRabbitMqConf } from '../../lib/rabbitmq/render-rabbitmq-conf';
import { renderPgHba, renderPostgresConf } from '../../lib/postgres/render-postgres-conf';
import { userErrorOf } from '../support/errors';

const classic = { kind: 'classic' as const, peers: ['rabbit1@localhost', 'rabbit2@localhost', 'rabbit3@localhost'] };
const files = { certFile: '/etc/rabbitmq/tls/tls.crt', keyFile: '/etc/rabbitmq/tls/tls.key', caFile: '/etc/rabbitmq/tls/ca.crt' };
const listenerLines = (conf: string) => conf.split('\n').filter((l) => /^(listeners|ssl_options)\./.test(l));

describe('renderRabbitMqConf with tls', () => {
  it('serves AMQPS on 5671 with the mounted files and turns the plaintext listener off', () => {
    expect(listenerLines(renderRabbitMqConf({ discovery: classic, tls: files }))).toEqual([
      'listeners.tcp = none',
      'listeners.ssl.default = 5671',
      'ssl_options.cacertfile = /etc/rabbitmq/tls/ca.crt',
      'ssl_options.certfile = /etc/rabbitmq/tls/tls.crt',
      'ssl_options.keyfile = /etc/rabbitmq/tls/tls.key',
      'ssl_options.verify = verify_none',
      'ssl_options.fail_if_no_peer_cert = false',
      'ssl_options.versions.1 = tlsv1.3',
      'ssl_options.versions.2 = tlsv1.2',
    ]);
  });

  it('binds both listeners to the listen address, and the plaintext one to loopback only when asked', () => {
    const conf = renderRabbitMqConf({ discovery: classic, listenAddress: '10.0.0.5', amqpPort: 5672, tls: { ...files, amqpsPort: 5999, plaintextListener: 'loopback' } });
    expect(listenerLines(conf).slice(0, 2)).toEqual(['listeners.tcp.1 = 127.0.0.1:5672', 'listeners.ssl.1 = 10.0.0.5:5999']);
  });

  it('renders plaintext AMQP only without tls (unchanged)', () => {
    expect(listenerLines(renderRabbitMqConf({ discovery: classic }))).toEqual(['listeners.tcp.default = 5672']);
  });

  it('refuses an AMQPS port that clashes with another listener, and relative paths', () => {
    expect(userErrorOf(() => renderRabbitMqConf({ discovery: classic, tls: { ...files, amqpsPort: 15692 } })))
      .toMatch(/amqpPort, managementPort, prometheusPort and tls\.amqpsPort must differ/);
    expect(userErrorOf(() => renderRabbitMqConf({ discovery: classic, tls: { ...files, keyFile: 'tls.key' } })))
      .toMatch(/rabbitmq\.tls\.keyFile: must be an absolute path/);
  });
});

describe('renderInterNodeTlsConfig', () => {
  it('verifies peers both ways with the CA, presenting the node certificate', () => {
    expect(renderInterNodeTlsConfig(files)).toBe([
      '%% rendered by sovereign-stack: Erlang distribution over TLS (inet_tls_dist); do not edit',
      '[',
      '  {server, [',
      '    {cacertfile, "/etc/rabbitmq/tls/ca.crt"},',
      '    {certfile, "/etc/rabbitmq/tls/tls.crt"},',
      '    {keyfile, "/etc/rabbitmq/tls/tls.key"},',
      '    {verify, verify_peer},',
      '    {fail_if_no_peer_cert, true},',
      "    {versions, ['tlsv1.3', 'tlsv1.2']}",
      '  ]},',
      '  {client, [',
      '    {cacertfile, "/etc/rabbitmq/tls/ca.crt"},',
      '    {certfile, "/etc/rabbitmq/tls/tls.crt"},',
      '    {keyfile, "/etc/rabbitmq/tls/tls.key"},',
      '    {verify, verify_peer},',
      "    {versions, ['tlsv1.3', 'tlsv1.2']}",
      '  ]}',
      '].',
      '',
    ].join('\n'));
  });

  it('refuses a path that could break out of the Erlang string', () => {
    expect(userErrorOf(() => renderInterNodeTlsConfig({ ...files, caFile: '/etc/"ca.crt' }))).toMatch(/interNodeTls\.caFile: must be an absolute path/);
  });

  it('gives the VM arguments that switch distribution to TLS', () => {
    expect(interNodeTlsErlArgs('/etc/rabbitmq/inter_node_tls.config')).toBe('-proto_dist inet_tls -ssl_dist_optfile /etc/rabbitmq/inter_node_tls.config');
  });
});

describe('postgresql.conf and pg_hba.conf with ssl', () => {
  it('turns ssl on with the mounted files and TLS 1.2 as the floor', () => {
    const conf = renderPostgresConf({ ssl: { certFile: '/run/secrets/postgresql-tls/tls.crt', keyFile: '/run/secrets/postgresql-tls/tls.key' } });
    expect(conf).toContain([
      '# tls', 'ssl = on', "ssl_cert_file = '/run/secrets/postgresql-tls/tls.crt'", "ssl_key_file = '/run/secrets/postgresql-tls/tls.key'",
      "ssl_min_protocol_version = 'TLSv1.2'",
    ].join('\n'));
  });

  it('admits TCP clients with hostssl lines only: no plaintext host line is left', () => {
    const hba = renderPgHba({ database: 'orders', user: 'orders', ssl: true });
    expect(hba.split('\n').filter((l) => /^host/.test(l))).toEqual([
      'hostssl orders orders 10.0.0.0/8 scram-sha-256',
      'hostssl orders orders 172.16.0.0/12 scram-sha-256',
      'hostssl orders orders 192.168.0.0/16 scram-sha-256',
    ]);
  });
});
