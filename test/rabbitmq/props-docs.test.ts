/**
 * What an editor shows when hovering a RabbitMqCluster prop comes from the emitted declarations:
 * every prop of the documented interfaces must keep its doc there, and every optional one its
 * `@default`.
 */
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '../..');
const FILES = ['lib/rabbitmq/props.ts', 'lib/rabbitmq/rabbitmq-connection.ts', 'lib/workload/server-tls.ts'];
const INTERFACES = [
  'RabbitMqClusterOptions', 'RabbitMqClusterProps', 'ServiceUserOptions', 'RabbitMqConnectionProps',
  'ServerTlsOptions', 'CertManagerIssuerOptions',
];

/** The declarations tsc emits for FILES (imports left unresolved: only the interfaces matter here). */
function emittedDeclarations(): string {
  let out = '';
  const program = ts.createProgram(FILES.map((f) => path.join(ROOT, f)), {
    declaration: true, emitDeclarationOnly: true, noResolve: true, skipLibCheck: true, noLib: true, removeComments: false,
  });
  program.emit(undefined, (name, text) => { if (name.endsWith('.d.ts')) out += `${text}\n`; });
  return out;
}

/** Each property of each interface: whether it is optional and the JSDoc above it. */
function propsOf(dts: string): Array<{ where: string; optional: boolean; doc: string }> {
  const source = ts.createSourceFile('all.d.ts', dts, ts.ScriptTarget.Latest, true);
  const found: Array<{ where: string; optional: boolean; doc: string }> = [];
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || !INTERFACES.includes(node.name.text)) return;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member)) continue;
      const doc = ts.getJSDocCommentsAndTags(member).map((d) => d.getText()).join('\n');
      found.push({ where: `${node.name.text}.${member.name.getText()}`, optional: member.questionToken !== undefined, doc });
    }
  });
  return found;
}

describe('RabbitMQ props in the emitted declarations', () => {
  const props = propsOf(emittedDeclarations());

  it('has every documented interface', () => {
    expect(props.length).toBeGreaterThan(20);
    for (const name of INTERFACES) expect(props.some((p) => p.where.startsWith(`${name}.`))).toBe(true);
  });

  it('documents every prop, and gives every optional prop its @default', () => {
    const undocumented = props.filter((p) => !/\/\*\*\s*\S/.test(p.doc)).map((p) => p.where);
    const withoutDefault = props.filter((p) => p.optional && !p.doc.includes('@default')).map((p) => p.where);
    expect({ undocumented, withoutDefault }).toEqual({ undocumented: [], withoutDefault: [] });
  });
});
