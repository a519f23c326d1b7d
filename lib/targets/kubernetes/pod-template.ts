/**
 * Workload -> Kubernetes pod template, as plain provider structs. Pure: no constructs created, so
 * the StatefulSet and Deployment emitters share it.
 */
import type {
  StatefulSetV1SpecTemplate,
  StatefulSetV1SpecTemplateSpecAffinity,
  StatefulSetV1SpecTemplateSpecContainerLivenessProbe,
  StatefulSetV1SpecTemplateSpecVolume,
  StatefulSetV1SpecTemplateSpecContainerVolumeMount,
  StatefulSetV1SpecTemplateSpecContainer,
  StatefulSetV1SpecTemplateSpecSecurityContext,
} from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { Probe, ScheduledJob, Workload, splitPath } from '../../workload/workload';

export const REGION_LABEL = 'topology.kubernetes.io/region';
const HOSTNAME_TOPOLOGY = 'kubernetes.io/hostname';

export interface PodTemplateContext {
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly serviceAccountName: string;
  /** ConfigMap holding the config files, if any. */
  readonly configMapName?: string;
  /**
   * Node labels the pod REQUIRES (a datastore: its region and the KVM/NVMe labels); empty for
   * workloads that may run anywhere.
   */
  readonly requiredNodeLabels: Readonly<Record<string, string>>;
}

/** The ConfigMap of one live config file: `<workload>-live-<file name>`. */
export function liveConfigMapName(workload: string, path: string): string {
  return `${workload}-live-${splitPath(path).file.toLowerCase().replace(/[^a-z0-9.-]/g, '-')}`;
}

/** ConfigMap key for a file path: keys allow only [-._a-zA-Z0-9]. */
export function configKey(path: string): string {
  return path.replace(/^\//, '').replace(/\//g, '_');
}

/** Both StatefulSet and Deployment accept this shape (their template types are twins). */
export type PodTemplate = StatefulSetV1SpecTemplate & Required<Pick<StatefulSetV1SpecTemplate, 'metadata' | 'spec'>>;

/** The pod volumes and the main container's mounts: config files, secrets, scratch, persistent volumes. */
function volumesAndMounts(w: Workload, configMapName: string | undefined): {
  volumes: StatefulSetV1SpecTemplateSpecVolume[]; mounts: StatefulSetV1SpecTemplateSpecContainerVolumeMount[];
  shared: StatefulSetV1SpecTemplateSpecContainerVolumeMount[]; files: StatefulSetV1SpecTemplateSpecContainerVolumeMount[];
} {
  const volumes: StatefulSetV1SpecTemplateSpecVolume[] = [];
  const mounts: StatefulSetV1SpecTemplateSpecContainerVolumeMount[] = [];

  if (w.configFiles.some((f) => !f.live) && configMapName) {
    volumes.push({ name: 'config', configMap: { name: configMapName, defaultMode: '0444' } });
    // One subPath mount per file: a directory mount would hide the image's other files there.
    for (const f of w.configFiles.filter((c) => !c.live)) {
      mounts.push({ name: 'config', mountPath: f.path, subPath: configKey(f.path), readOnly: true });
    }
  }
  // Live files: one projected directory per folder, each file from its own ConfigMap (the kubelet
  // refreshes a directory mount, never a subPath one).
  const live = w.configFiles.filter((f) => f.live);
  const dirs = [...new Set(live.map((f) => splitPath(f.path).dir))];
  dirs.forEach((dir, i) => {
    const name = dirs.length === 1 ? 'live-config' : `live-config-${i}`;
    const sources = live.filter((f) => splitPath(f.path).dir === dir).map((f) => ({
      configMap: [{ name: liveConfigMapName(w.name, f.path), items: [{ key: configKey(f.path), path: splitPath(f.path).file }] }],
    }));
    volumes.push({ name, projected: [{ defaultMode: '0444', sources }] });
    mounts.push({ name, mountPath: dir, readOnly: true });
  });
  w.secretMounts.forEach((s, i) => {
    // 0440 and, through fsGroup, group-owned by the workload's group: PostgreSQL accepts such a
    // root-owned private key (at most 0640), and no other uid in the pod can read it.
    volumes.push({
      name: `secret-${i}`,
      secret: { secretName: s.secret, defaultMode: s.mode, items: s.keys?.map((key) => ({ key, path: key })) },
    });
    mounts.push({ name: `secret-${i}`, mountPath: s.mountPath, readOnly: true });
  });
  const persistent = w.volumes.map((v) => ({ name: v.name, mountPath: v.mountPath }));
  // Sidecars and scheduled jobs share the config, the secrets and the persistent volumes, not the scratch.
  const files = [...mounts];
  const shared = [...mounts, ...persistent];
  for (const s of w.scratch) {
    volumes.push({ name: s.name, emptyDir: { sizeLimit: `${s.sizeMi}Mi`, medium: s.memory ? 'Memory' : undefined } });
    mounts.push({ name: s.name, mountPath: s.mountPath });
  }
  // Persistent volumes come from the StatefulSet's claim templates, mounted by name.
  mounts.push(...persistent);
  return { volumes, mounts, shared, files };
}

/** `mounts` less the workload's secret mounts other than `allowed` (mount paths): a sidecar's least privilege. */
function withoutOtherSecrets(w: Workload, allowed: readonly string[], mounts: StatefulSetV1SpecTemplateSpecContainerVolumeMount[]): StatefulSetV1SpecTemplateSpecContainerVolumeMount[] {
  const denied = new Set(w.secretMounts.filter((s) => !allowed.includes(s.mountPath)).map((s) => s.mountPath));
  return mounts.filter((m) => !denied.has(m.mountPath));
}

/** What a container of the workload runs: the main one, a sidecar or a scheduled job. */
interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env: Workload['env'];
  readonly resources: Workload['resources'];
}

function container(w: Workload, c: ContainerSpec, mounts: StatefulSetV1SpecTemplateSpecContainerVolumeMount[]): StatefulSetV1SpecTemplateSpecContainer {
  const sc = w.securityContext;
  return {
    name: c.name,
    image: c.image,
    imagePullPolicy: 'IfNotPresent',
    command: c.command,
    args: c.args,
    env: c.env.map((e) => 'value' in e
      ? { name: e.name, value: e.value }
      : { name: e.name, valueFrom: { secretKeyRef: { name: e.secretRef.secret, key: e.secretRef.key } } }),
    resources: {
      requests: { cpu: c.resources.requests.cpu, memory: c.resources.requests.memory },
      limits: { memory: c.resources.limits.memory, ...(c.resources.limits.cpu ? { cpu: c.resources.limits.cpu } : {}) },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: sc.readOnlyRootFilesystem,
      runAsNonRoot: sc.runAsNonRoot,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMount: mounts,
  };
}

function podSecurityContext(w: Workload): StatefulSetV1SpecTemplateSpecSecurityContext {
  const sc = w.securityContext;
  return {
    runAsNonRoot: sc.runAsNonRoot,
    runAsUser: sc.runAsUser?.toString(),
    runAsGroup: sc.runAsGroup?.toString(),
    fsGroup: (sc.fsGroup ?? sc.runAsGroup)?.toString(),
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function podTemplate(w: Workload, ctx: PodTemplateContext): PodTemplate {
  const { volumes, mounts, shared, files } = volumesAndMounts(w, ctx.configMapName);
  const main = container(w, { ...w, name: w.component }, mounts);
  return {
    metadata: { labels: ctx.labels, annotations: ctx.annotations },
    spec: {
      serviceAccountName: ctx.serviceAccountName,
      automountServiceAccountToken: w.apiAccess.length > 0,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: w.shutdown.gracePeriodSeconds,
      securityContext: podSecurityContext(w),
      affinity: affinity(w, ctx),
      topologySpreadConstraint: w.replicas > 1 && w.placement.spreadAcrossNodes === 'preferred'
        ? [{ maxSkew: 1, topologyKey: HOSTNAME_TOPOLOGY, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: [{ matchLabels: ctx.selector }] }]
        : undefined,
      container: [
        {
          ...main,
          port: w.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: 'TCP' })),
          readinessProbe: w.probes.readiness && probe(w.probes.readiness),
          livenessProbe: w.probes.liveness && probe(w.probes.liveness),
          startupProbe: w.probes.startup && probe(w.probes.startup),
          lifecycle: w.shutdown.preStop ? { preStop: [{ exec: { command: w.shutdown.preStop } }] } : undefined,
        },
        ...w.sidecars.map((c) => ({
          ...container(w, c, withoutOtherSecrets(w, c.secretMounts, c.persistentVolumes ? shared : files)),
          port: c.ports.length > 0 ? c.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: 'TCP' })) : undefined,
        })),
      ],
      volume: volumes,
    },
  };
}

/**
 * The pod of one run of a scheduled job: the job's container with the workload's config files,
 * secrets and replica 0's persistent volumes (by claim name, so the pod lands on the node that
 * holds them), the workload's security context and node pin, and no retries in place.
 */
export function scheduledJobPodSpec(w: Workload, job: ScheduledJob, ctx: PodTemplateContext & { claimName: (volume: string) => string }) {
  const { volumes, shared } = volumesAndMounts(w, ctx.configMapName);
  const claims = w.volumes.map((v) => ({ name: v.name, persistentVolumeClaim: { claimName: ctx.claimName(v.name) } }));
  return {
    serviceAccountName: ctx.serviceAccountName,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    restartPolicy: 'Never',
    securityContext: podSecurityContext(w),
    affinity: affinity({ ...w, replicas: 1 }, ctx),
    container: [container(w, { ...job, image: job.image ?? w.image }, shared)],
    volume: [...volumes.filter((v) => v.name === 'config' || (v.name ?? '').startsWith('secret-')), ...claims],
  };
}

function affinity(w: Workload, ctx: PodTemplateContext): StatefulSetV1SpecTemplateSpecAffinity | undefined {
  const required = Object.entries(ctx.requiredNodeLabels);
  const nodeAffinity = required.length > 0
    ? {
      // REQUIRED, not preferred: a datastore that cannot be placed in its region must stay Pending.
      // One term: terms are ORed, expressions within a term ANDed.
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerm: [{
          matchExpressions: required.map(([key, value]) => ({ key, operator: 'In', values: [value] })),
        }],
      },
    }
    : undefined;
  const podAntiAffinity = w.replicas > 1 && w.placement.spreadAcrossNodes === 'required'
    ? { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: HOSTNAME_TOPOLOGY, labelSelector: [{ matchLabels: ctx.selector }] }] }
    : undefined;
  return nodeAffinity || podAntiAffinity ? { nodeAffinity, podAntiAffinity } : undefined;
}

function probe(p: Probe): StatefulSetV1SpecTemplateSpecContainerLivenessProbe {
  const timing = {
    initialDelaySeconds: p.initialDelaySeconds,
    periodSeconds: p.periodSeconds,
    timeoutSeconds: p.timeoutSeconds,
    failureThreshold: p.failureThreshold,
  };
  if ('exec' in p) return { ...timing, exec: { command: p.exec } };
  if ('httpGet' in p) return { ...timing, httpGet: { path: p.httpGet.path, port: String(p.httpGet.port) } };
  return { ...timing, tcpSocket: [{ port: String(p.tcpSocket.port) }] };
}

