import { App, TerraformStack, Testing } from 'cdktf';
import { OSLO_REGION, RegionRef, ResidencyGuard } from '../../lib';

/**
 * A fresh app + stack (stack traces off: faster, and nothing machine-specific in output). Its
 * Terraform state is declared to live in Oslo (the guard requires a declaration), unless
 * `stateLocation: false`.
 */
export function newStack(id = 'test', options: { stateLocation?: RegionRef | false } = {}): { app: App; stack: TerraformStack } {
  const app = Testing.app({ stackTraces: false });
  const stack = new TerraformStack(app, id);
  if (options.stateLocation !== false) ResidencyGuard.of(stack).useStateLocation(options.stateLocation ?? OSLO_REGION);
  return { app, stack };
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

/** Docker containers that run (the never-started `<workload>-files` holders excluded). */
export function dockerReplicas(json: SynthJson): any[] {
  // Sidecars run beside each replica (in its network namespace); they are not replicas.
  const isSidecar = (c: any) => (c.labels ?? []).some((l: any) => l.label === 'sovereign-stack.io/role' && String(l.value).startsWith('sidecar-'));
  return Object.values(resourcesOf(json, 'docker_container')).filter((c: any) => c.start !== false && !isSidecar(c));
}

/**
 * The files a Docker workload's replicas see: uploaded into its `<prefix>-<workload>-files`
 * container (read-only root filesystems) and mounted from there, or into the replica itself.
 */
export function dockerFiles(json: SynthJson, containerName: string): Array<{ file: string; content: string; permissions?: string }> {
  const containers = Object.values(resourcesOf(json, 'docker_container')) as any[];
  const replica = containers.find((c) => c.name === containerName);
  if (!replica) throw new Error(`no docker_container named ${containerName}`);
  const holder = containers.find((c) => c.start === false && c.name === containerName.replace(/-\d+$/, '-files'));
  return (holder ?? replica).upload ?? [];
}
