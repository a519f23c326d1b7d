import { App, TerraformStack, Testing } from 'cdktf';

/** A fresh app + stack (stack traces off: faster, and nothing machine-specific in output). */
export function newStack(id = 'test'): { app: App; stack: TerraformStack } {
  const app = Testing.app({ stackTraces: false });
  return { app, stack: new TerraformStack(app, id) };
}

export interface SynthJson {
  resource: Record<string, Record<string, any>>;
  variable?: Record<string, any>;
  provider?: Record<string, any>;
}

/** Synthesizes WITH validations (the `true`), parsed. */
export function synthJson(stack: TerraformStack): SynthJson {
  return JSON.parse(Testing.synth(stack, true)) as SynthJson;
}

/** All resources of one type, keyed by logical id. */
export function resourcesOf(json: SynthJson, type: string): Record<string, any> {
  return json.resource[type] ?? {};
}

/** The only resource of a type whose metadata/name matches. */
export function findByName(json: SynthJson, type: string, name: string): any {
  const found = Object.values(resourcesOf(json, type)).filter((r: any) => (r.metadata?.name ?? r.name) === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0];
}
