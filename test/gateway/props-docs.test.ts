/**
 * The gateway's contract as editors show it: the declarations emitted for lib/gateway/props.ts (the
 * construct's props), nginx-conf-spec.ts (renderNginxConf's spec) and render-nginx-command.ts
 * (renderNginxCommand's) keep a doc comment on every prop, and an `@default` on every optional one.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const GATEWAY = path.join(__dirname, '..', '..', 'lib', 'gateway');

/** The .d.ts TypeScript emits for a file, without type-checking the program. */
function declarationsOf(file: string): ts.SourceFile {
  const { outputText } = ts.transpileDeclaration(fs.readFileSync(file, 'utf8'), { fileName: file, compilerOptions: { strict: true } });
  return ts.createSourceFile('props.d.ts', outputText, ts.ScriptTarget.Latest, true);
}

interface PropDoc { readonly prop: string; readonly optional: boolean; readonly doc: string }

function propDocs(source: ts.SourceFile): PropDoc[] {
  const docs: PropDoc[] = [];
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member)) continue;
      const doc = ts.getJSDocCommentsAndTags(member).map((d) => d.getText()).join('\n');
      docs.push({ prop: `${node.name.text}.${member.name.getText()}`, optional: member.questionToken !== undefined, doc });
    }
  });
  return docs;
}

const CONTRACTS: Array<[string, string[], number]> = [
  ['props.ts', ['NginxGatewayOptions', 'NginxGatewayProps', 'RateLimitOptions', 'GatewayTlsOptions', 'GatewayRouteOptions',
    'GatewayClientAddressOptions', 'GatewayTimeoutsOptions', 'GatewayResources', 'GatewayMetricsOptions'], 40],
  ['nginx-conf-spec.ts', ['NginxConfSpec', 'NginxRateLimitSpec', 'NginxUpstreamSpec', 'NginxUpstreamServerSpec', 'NginxRouteSpec',
    'NginxTimeoutsSpec', 'NginxRetriesSpec', 'NginxClientAddressSpec', 'NginxTlsSpec', 'NginxResolverSpec'], 50],
  ['render-nginx-command.ts', ['NginxCommandSpec'], 5],
];

describe.each(CONTRACTS)('lib/gateway/%s as emitted in the package', (file, expected, atLeast) => {
  const docs = propDocs(declarationsOf(path.join(GATEWAY, file)));

  it('declares the types users write', () => {
    const interfaces = new Set(docs.map((d) => d.prop.split('.')[0]));
    for (const name of expected) expect(interfaces).toContain(name);
    expect(docs.length).toBeGreaterThan(atLeast);
  });

  it('documents every prop', () => {
    expect(docs.filter((d) => !/\/\*\*\s*\S/.test(d.doc)).map((d) => d.prop)).toEqual([]);
  });

  it('gives every optional prop its @default', () => {
    expect(docs.filter((d) => d.optional && !/@default \S/.test(d.doc)).map((d) => d.prop)).toEqual([]);
  });
});
