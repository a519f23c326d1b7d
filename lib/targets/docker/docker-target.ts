import { createHash } from 'crypto';
import { Lazy, TerraformResource, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { Container, ContainerHealthcheck, ContainerUpload, containerUploadToTerraform } from '@cdktf/provider-docker/lib/container';
import { Image } from '@cdktf/provider-docker/lib/image';
import { Network } from '@cdktf/provider-docker/lib/network';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { Volume } from '@cdktf/provider-docker/lib/volume';
import { z } from 'zod';
import { ResidencyGuard } from '../../residency/residency-guard';
import type { PlacementEvidence } from '../../residency/datastore';
import { RegionRef, RegionRefSchema, regionId } from '../../residency/region-ref';
import { SovereignStackError, parseProps, requireProps } from '../../util/errors';
import { dnsLabel, ipv4, memoryToMi } from '../../util/schemas';
import { DeployedWorkload, WorkloadTarget } from '../../workload/target';
import type { PeerDiscovery } from '../../workload/target';
import { IngressRule, Probe, SecretSpec, Workload, retainsData, servicePortOf, splitPath } from '../../workload/workload';
import { terraformLiteral } from '../../util/terraform-literal';
import { configHash } from '../common/config-hash';
import { synthesizedBody } from '../common/synthesized';
import { generateSecretValue, generateSecretValues, generatedSecretOf } from '../common/generated-secrets';
import type { SchemaMatches } from '../../util/schema-binding';
import type { DockerTargetOptions, DockerTargetProps } from './docker-target-props';

// The documented props live in docker-target-props.ts; importable from here as before.
export type * from './docker-target-props';


/**
 * Mode of an uploaded secret file: owner and group may read, others nothing. Uploads are owned by
 * root:root whatever the workload's user (kreuzwerker/docker 3.6.2 writes uid/gid 0 into its tar
 * header and asks for no copy-uid), so a non-root process reads them through its supplementary
 * group 0, `SECRET_READER_GROUP`.
 */
export const SECRET_FILE_MODE = '0440';
/**
 * The supplementary group (`group_add`) of a workload that mounts secrets on Docker: gid 0, the
 * group of its root-owned secret files (the OpenShift convention for arbitrary uids). A gid
 * carries no kernel privilege; group 0 only opens files whose group is root and whose group bits
 * allow more than the other bits. Debian keeps /etc/shadow in group shadow; on a Debian 12
 * system the only such files are apt's and dpkg's (empty) lock files. Writing is no concern: the
 * root filesystem and the files volumes are read-only and every capability is dropped.
 */
export const SECRET_READER_GROUP = '0';

/** The local daemon's socket: the machine that runs `terraform apply`. */
export const LOCAL_DOCKER_SOCKET = 'unix:///var/run/docker.sock';

export const DockerTargetOptionsSchema = z.object({
  /**
   * Docker daemon address. Always written into the provider, so DOCKER_HOST at apply time cannot
   * send the data to another machine than the one `location` names.
   * @default 'unix:///var/run/docker.sock' (the machine running terraform apply)
   */
  host: z.string().regex(/^(unix|tcp|ssh|npipe):\/\/\S+$/, { message: 'must be a Docker host URL such as unix:///var/run/docker.sock' }).default(LOCAL_DOCKER_SOCKET),
  /**
   * Where the machine behind a remote `host` (tcp:// or ssh://) stands: required for a remote
   * host, and it must be the target's `location` (that machine holds the volumes).
   * @default - none; a remote host without it fails synthesis
   */
  remoteHostLocation: RegionRefSchema.optional(),
  /** Prefix of container, volume and network names on the host. @default 'sovereign' */
  namePrefix: dnsLabel.max(20).default('sovereign'),
  /** Host address that public workloads publish their ports on. @default '127.0.0.1' */
  publishAddress: ipv4.default('127.0.0.1'),
}).strict();

/** Compile-time binding: the documented DockerTargetOptions and the schema describe the same props. */
export const DOCKER_TARGET_OPTIONS_MATCH_SCHEMA: SchemaMatches<DockerTargetOptions, typeof DockerTargetOptionsSchema> = true;

/**
 * Local target: realizes workloads on one Docker host. It owns the provider and one network. Each
 * replica is a container with a stable name and host name, each persistent volume a named volume
 * per replica; only public workloads publish ports (replica i on host port + i).
 *
 * Config files and mounted secrets reach a container with a read-only root filesystem through a
 * second, never-started container per workload, `<prefix>-<workload>-files`: the provider uploads
 * into a container between create and start with the archive API at "/", and dockerd refuses any
 * upload at "/" into a read-only container, volumes or not (it checks the extraction point, not
 * the files). The files container has a writable root and one anonymous volume per directory
 * that receives files (Docker first copies the image's own content there, so /etc/nginx keeps
 * its mime.types); the uploads land in those volumes, and every replica mounts them read-only
 * (`volumes_from` the files container's id, `:ro`). Changing a file replaces the files container,
 * its volumes and, through the id, the replicas. A workload with a writable root filesystem gets
 * its files uploaded straight into its containers. Every upload is root:root (the provider cannot
 * set an owner): config files are 0444, secret files 0440, and the replicas of a workload that
 * mounts secrets run with the supplementary group 0 (`group_add`, Docker's counterpart of a
 * Secret volume's fsGroup), so their process reads them and no other uid can. Keep `docker
 * container prune` away from a running stack: it removes the (stopped) files containers, and the
 * next apply recreates them and the replicas.
 *
 * Docker has no network policy: every container on the network can reach every other one, so the
 * ingress rules that Kubernetes enforces are NOT enforced locally. Keep real personal data out of
 * local stacks. Docker has no preStop hook either: graceful shutdown relies on the stop signal and
 * the stop timeout.
 */
export class DockerTarget extends WorkloadTarget {
  public readonly targetKind = 'docker';
  /** Docker's embedded DNS server, on every user-defined network. */
  public readonly dnsResolver = '127.0.0.11';
  public readonly location: RegionRef;
  public readonly provider: DockerProvider;
  public readonly network: Network;
  private readonly prefix: string;
  private readonly publishAddress: string;
  private readonly host: string;
  private readonly remoteHostLocation?: RegionRef;
  private readonly images = new Map<string, Image>();
  private readonly secretValues = new Map<string, Record<string, string>>();

  constructor(scope: Construct, id: string, props: DockerTargetProps) {
    const { location, ...options } = requireProps(props, `DockerTarget ${id} props`, '{ location: OSLO_REGION }');
    parseProps(RegionRefSchema, location, `DockerTarget ${id} props.location`);
    const p = parseProps(DockerTargetOptionsSchema, options, `DockerTarget ${id} props`);
    super(scope, id);
    this.location = props.location;
    this.prefix = p.namePrefix;
    this.publishAddress = p.publishAddress;
    this.host = p.host;
    this.remoteHostLocation = p.remoteHostLocation;
    ResidencyGuard.of(this);
    this.provider = new DockerProvider(this, 'provider', { host: terraformLiteral(p.host) });
    this.network = new Network(this, 'network', { name: `${p.namePrefix}-net`, driver: 'bridge' });
  }

  /** Replicas are containers named by their host names on the target's network: a fixed peer list. */
  public peerDiscovery(workloadName: string, replicas: number): PeerDiscovery {
    return { peerHosts: Array.from({ length: replicas }, (_, i) => `${workloadName}-${i}`), hostSuffix: '' };
  }

  protected realize(scope: Construct, w: Workload, _ingress: IngressRule[]): Omit<DeployedWorkload, 'datastores'> {
    for (const secret of w.secrets) this.secretValues.set(secret.name, this.createSecret(scope, secret));
    const ctx = this.realizeContext(scope, w);
    const replicaHosts: string[] = [];
    for (let i = 0; i < w.replicas; i++) {
      this.replica(ctx, i);
      if (w.kind === 'stateful') replicaHosts.push(`${w.name}-${i}`);
    }
    for (const job of w.scheduledJobs) this.scheduledJob(ctx, job);
    const port = (p: Workload['ports'][number]) => p.hostPort ?? servicePortOf(p);
    return {
      workload: w,
      host: w.name,
      replicaHosts,
      resources: ctx.resources,
      // No Service in front: peers connect to the container port under the workload's alias.
      endpoint: (p) => ({ host: w.name, port: WorkloadTarget.portOf(w, p).containerPort }),
      // The alias resolves to every replica's container.
      podsEndpoint: (p) => ({ host: w.name, port: WorkloadTarget.portOf(w, p).containerPort }),
      publicPort: (p) => (w.public ? port(WorkloadTarget.portOf(w, p)) : undefined),
      // Docker cannot enforce ingress rules (see the class doc); they are accepted and ignored.
      allowFrom: () => undefined,
      addGeneratedSecretKey: (secretName, key, opts = {}) => {
        const secret = generatedSecretOf(w, secretName);
        this.secretValues.get(secretName)![key] = generateSecretValue(scope, secret, key, { length: opts.length ?? 32, special: false });
      },
    };
  }

  /** What every container of one workload shares: its image, files, env, hardening and labels. */
  private realizeContext(scope: Construct, w: Workload): DockerRealizeContext {
    const image = this.image(w.image);
    const upload = this.uploads(w);
    const hasUploads = w.configFiles.length > 0 || w.secretMounts.length > 0;
    const sc = w.securityContext;
    // See the class doc: a read-only container takes its files from a files container's volumes.
    const files = hasUploads && sc.readOnlyRootFilesystem
      ? new Container(scope, 'files', {
        name: `${this.prefix}-${w.name}-files`,
        image: image.imageId,
        start: false,
        mustRun: false,
        networkMode: 'none',
        mounts: uploadVolumeDirs(w).map((target) => ({ target, type: 'volume' })),
        upload,
        labels: labelsOf(w, 'files'),
      })
      : undefined;
    const resources: Record<string, TerraformResource> = {}; // returned as WorkloadResources: the roles in WorkloadResources
    if (files) resources.files = files;
    return {
      scope, w, image, resources, files,
      upload: hasUploads && !files ? upload : undefined,
      filesVolume: files ? [{ fromContainer: `${files.id}:ro` }] : [],
      envOf: (env) => env.map((e) => 'value' in e
        ? `${e.name}=${e.value}`
        : `${e.name}=${Lazy.stringValue({ produce: () => this.secretValue(w, e.secretRef.secret, e.secretRef.key) })}`),
      // Every container of the workload (replicas, sidecars, scheduled jobs) runs hardened alike.
      hardening: {
        user: sc.runAsUser ? `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}` : undefined,
        // The Docker stand-in for Kubernetes' fsGroup on a Secret volume: the one group that owns
        // the (root-owned, 0440) secret files. Only when the workload mounts such files (a 0444 CA
        // certificate is readable without it).
        groupAdd: w.secretMounts.some((m) => m.mode === SECRET_FILE_MODE) ? [SECRET_READER_GROUP] : undefined,
        readOnly: sc.readOnlyRootFilesystem,
        capabilities: { drop: ['ALL'] },
        securityOpts: ['no-new-privileges:true'],
      },
    };
  }

  /**
   * The files a workload's containers get: its config files and the keys of its secret mounts.
   * Lazy, so keys added with addGeneratedSecretKey() are uploaded too; converted here because a
   * lazy value skips the provider's camelCase -> snake_case mapping.
   */
  private uploads(w: Workload): ContainerUpload[] {
    return Lazy.anyValue({
      produce: () => [
        ...w.configFiles.map((f) => ({ file: f.path, content: f.content, permissions: '0444' })),
        ...w.secretMounts.flatMap((m) => (m.keys ?? this.secretKeys(w, m.secret)).map((key) => ({
          file: `${m.mountPath}/${key}`,
          content: this.secretValue(w, m.secret, key),
          // Uploads are always root:root (the provider's tar header carries uid/gid 0 and it sets
          // no copy-uid option): readable by root and group 0 only, which the replicas join
          // (SECRET_READER_GROUP). Nothing world-readable.
          permissions: m.mode === '0444' ? m.mode : SECRET_FILE_MODE,
        }))),
      ].map((u: ContainerUpload) => containerUploadToTerraform(u)),
    }) as unknown as ContainerUpload[];
  }

  /**
   * Replica `i`: its volumes, its container (named by its host name on the target's network) and
   * its sidecars, which share the replica's volumes and files (not its tmpfs scratch) and, as in a
   * pod, its network namespace: an exporter reaches the server on 127.0.0.1, and its ports are
   * served under the replica's alias on the platform network (never published on the host).
   */
  private replica(ctx: DockerRealizeContext, i: number): void {
    const { scope, w, resources } = ctx;
    const host = `${w.name}-${i}`;
    const port = (p: Workload['ports'][number]) => p.hostPort ?? servicePortOf(p);
    const volumes = w.volumes.map((v) => {
      const volume = new Volume(scope, `volume-${v.name}-${i}`, {
        name: `${this.prefix}-${w.name}-${v.name}-${i}`,
        labels: [{ label: 'sovereign-stack.io/workload', value: w.name }],
        lifecycle: retainsData(w) ? { preventDestroy: true } : undefined,
      });
      resources[`volume-${v.name}-${i}`] = volume;
      return { volumeName: volume.name, containerPath: v.mountPath };
    });
    const container = new Container(scope, i === 0 ? 'Resource' : `container-${i}`, {
      name: `${this.prefix}-${host}`,
      hostname: host,
      image: ctx.image.imageId,
      command: w.args,
      entrypoint: w.command,
      env: ctx.envOf(w.env),
      upload: ctx.upload,
      // The id (not the name): a new files container replaces the replicas too.
      volumes: [...volumes, ...ctx.filesVolume],
      tmpfs: w.scratch.length > 0
        ? Object.fromEntries(w.scratch.map((s) => [s.mountPath, `rw,size=${s.sizeMi}m,mode=1777`]))
        : undefined,
      networksAdvanced: [{ name: this.network.name, aliases: [w.name, host] }],
      ports: w.public
        ? w.ports.map((p) => ({ internal: p.containerPort, external: port(p) + i, ip: this.publishAddress }))
        : undefined,
      ...ctx.hardening,
      memory: Math.floor(memoryToMi(w.resources.limits.memory)),
      cpus: w.resources.limits.cpu ? cpus(w.resources.limits.cpu) : undefined,
      healthcheck: healthcheck(w.probes.readiness ?? w.probes.liveness),
      restart: 'unless-stopped',
      stopSignal: w.shutdown.stopSignal,
      stopTimeout: w.shutdown.gracePeriodSeconds,
      destroyGraceSeconds: w.shutdown.gracePeriodSeconds,
      labels: [...labelsOf(w), { label: 'sovereign-stack.io/config-hash', value: ctx.hash ??= configHash(w) }],
    });
    resources[`container${i}`] = container;
    for (const c of w.sidecars) {
      resources[`sidecar-${c.name}-${i}`] = new Container(scope, `sidecar-${c.name}-${i}`, {
        name: `${this.prefix}-${host}-${c.name}`,
        image: this.image(c.image).imageId,
        entrypoint: c.command,
        command: c.args,
        env: ctx.envOf(c.env),
        volumes: [...(c.persistentVolumes ? volumes : []), ...ctx.filesVolume],
        networkMode: `container:${container.id}`,
        ...ctx.hardening,
        memory: Math.floor(memoryToMi(c.resources.limits.memory)),
        restart: 'unless-stopped',
        labels: labelsOf(w, `sidecar-${c.name}`),
      });
    }
  }

  /**
   * Docker has no scheduler: a scheduled job is a container created stopped, with replica 0's
   * volumes, for the host's cron or systemd timer to run (`docker start -a <name>`) on its
   * schedule (recorded in a label).
   */
  private scheduledJob(ctx: DockerRealizeContext, job: Workload['scheduledJobs'][number]): void {
    const { scope, w, resources } = ctx;
    resources[`job-${job.name}`] = new Container(scope, `job-${job.name}`, {
      name: `${this.prefix}-${w.name}-${job.name}`,
      image: this.image(job.image ?? w.image).imageId,
      entrypoint: job.command,
      env: ctx.envOf(job.env),
      volumes: [
        ...w.volumes.map((v) => ({ volumeName: (resources[`volume-${v.name}-0`] as Volume).name, containerPath: v.mountPath })),
        ...ctx.filesVolume,
      ],
      networksAdvanced: [{ name: this.network.name }],
      ...ctx.hardening,
      memory: Math.floor(memoryToMi(job.resources.limits.memory)),
      start: false,
      mustRun: false,
      restart: 'no',
      labels: [...labelsOf(w, `job-${job.name}`), { label: 'sovereign-stack.io/schedule', value: `${job.schedule} UTC` }],
    });
  }

  /** The data lives on the Docker host the synthesized provider talks to. */
  protected placementEvidence(_realized: unknown, location: RegionRef): PlacementEvidence {
    const host: unknown = synthesizedBody(this.provider)?.host;
    const problems: string[] = [];
    // One host holds every volume: a datastore cannot live elsewhere than the target.
    if (regionId(location) !== regionId(this.location)) {
      problems.push(`its volumes are on the Docker host at ${regionId(this.location)}, not at ${regionId(location)} as its record says`);
    }
    if (typeof host !== 'string' || host.length === 0) {
      problems.push('the Docker provider has no host: it would take DOCKER_HOST at apply time, which may be any machine');
    } else if (host !== terraformLiteral(this.host)) {
      problems.push(`the Docker provider's host was changed to "${host}" after the target recorded "${this.host}"`);
    } else if (/^(tcp|ssh):/.test(this.host)) {
      if (!this.remoteHostLocation) {
        problems.push(`the Docker host ${this.host} is a remote machine: declare where it stands with remoteHostLocation (the same location as the target's)`);
      } else if (regionId(this.remoteHostLocation) !== regionId(this.location)) {
        problems.push(`the Docker host ${this.host} stands at ${regionId(this.remoteHostLocation)}, not at the target's location ${regionId(this.location)}`);
      }
    }
    return { placement: `Docker volumes on the host ${typeof host === 'string' ? host : '(DOCKER_HOST at apply)'}`, problems };
  }

  private image(name: string): Image {
    let image = this.images.get(name);
    if (!image) {
      // Keyed by the reference, not by position: adding an image leaves every other id alone.
      image = new Image(this, imageConstructId(name), { name, keepLocally: true });
      this.images.set(name, image);
    }
    return image;
  }

  /** Generated values, or one sensitive variable per key of an existing secret. */
  private createSecret(scope: Construct, secret: SecretSpec): Record<string, string> {
    if (secret.source === 'generated') {
      return { ...secret.plain, ...generateSecretValues(scope, secret) };
    }
    if (secret.source === 'certificate') {
      throw new SovereignStackError(
        `secret "${secret.name}" asks for a cert-manager certificate, which exists only on Kubernetes; on DockerTarget ${this.node.path} ` +
        'give tls.secretName instead (its keys tls.crt, tls.key and ca.crt become sensitive Terraform variables)',
      );
    }
    return Object.fromEntries(secret.keys.map((key) => {
      // A name `export TF_VAR_<name>=...` can set: secret names are unique per target.
      const name = `${secret.name}_${key}`.replace(/[^A-Za-z0-9_]/g, '_');
      const variable = new TerraformVariable(scope, `secret-${secret.name}-${key}`, {
        type: 'string',
        sensitive: true,
        description: `key "${key}" of secret "${secret.name}": set TF_VAR_${name} or a .tfvars file kept out of git`,
      });
      variable.overrideLogicalId(name);
      return [key, variable.stringValue];
    }));
  }

  private secretKeys(w: Workload, secret: string): string[] {
    const values = this.secretValues.get(secret);
    if (!values) throw this.unknownSecret(w, secret);
    return Object.keys(values);
  }

  private secretValue(w: Workload, secret: string, key: string): string {
    const value = this.secretValues.get(secret)?.[key];
    if (value === undefined) throw this.unknownSecret(w, `${secret}/${key}`);
    return value;
  }

  private unknownSecret(w: Workload, what: string): Error {
    return new SovereignStackError(
      `workload "${w.name}" reads secret ${what}, which no workload on DockerTarget ${this.node.path} declares; ` +
      'declare it in a workload\'s `secrets` (generated, or existing = a sensitive variable)',
    );
  }
}

/**
 * A construct id per image reference, stable wherever the image appears in the stack: the
 * reference in lower-case letters, digits and dashes, plus a hash of the exact reference unless it
 * already is in that form (sanitizing "a/b:1" and "a-b:1" gives the same text; the hash keeps them
 * apart, and the "_" keeps a hashed id from ever equalling a plain one).
 */
export function imageConstructId(reference: string): string {
  const readable = reference.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (readable === reference) return `image-${readable}`;
  return `image-${readable}_${createHash('sha256').update(reference).digest('hex').slice(0, 8)}`;
}

/**
 * The directories that get an anonymous volume in a read-only workload's files container: one per
 * directory receiving config files or secret keys, none inside another. Refuses what Docker could
 * not mount: a file in `/`, a directory that is a scratch (tmpfs) mount point or lies in a
 * persistent volume, and a scratch or persistent mount inside such a directory (its mount point
 * would have to be made in a read-only volume).
 */
export function uploadVolumeDirs(w: Workload): string[] {
  const sources = [
    ...w.configFiles.map((f) => ({ dir: splitPath(f.path).dir, what: `config file ${f.path}` })),
    ...w.secretMounts.map((m) => ({ dir: m.mountPath, what: `secret mount ${m.mountPath} (secret "${m.secret}")` })),
  ];
  const refuse = (what: string, why: string) => new SovereignStackError(
    `workload "${w.name}": ${what} ${why}; on Docker a container with a read-only root filesystem gets its files ` +
    'through a read-only volume mounted at their directory: give the files a directory of their own (e.g. /etc/<app>/), ' +
    'or set securityContext.readOnlyRootFilesystem to false',
  );
  for (const { dir, what } of sources) {
    if (dir === '/') throw refuse(what, 'sits in /, where no volume can be mounted');
    for (const s of w.scratch) {
      if (s.mountPath === dir) throw refuse(what, `is in ${s.mountPath}, a scratch (tmpfs) mount point: the two mounts would clash`);
      if (within(s.mountPath, dir)) throw refuse(what, `is in ${dir}, which holds the scratch mount ${s.mountPath}: its mount point cannot be made in a read-only volume`);
    }
    for (const v of w.volumes) {
      if (within(dir, v.mountPath)) throw refuse(what, `lies in the persistent volume "${v.name}" (${v.mountPath}), which takes no uploads`);
      if (within(v.mountPath, dir)) throw refuse(what, `is in ${dir}, which holds the persistent volume "${v.name}" (${v.mountPath}): its mount point cannot be made in a read-only volume`);
    }
  }
  const dirs = [...new Set(sources.map((s) => s.dir))].sort();
  return dirs.filter((d) => !dirs.some((p) => p !== d && within(d, p)));
}

/** `path` is `dir` or below it. */
function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** "500m" -> "0.5", "2" -> "2". */
function cpus(quantity: string): string {
  return quantity.endsWith('m') ? String(Number(quantity.slice(0, -1)) / 1000) : quantity;
}

function healthcheck(p: Probe | undefined): ContainerHealthcheck | undefined {
  if (!p) return undefined;
  const timing = { interval: `${p.periodSeconds}s`, timeout: `${p.timeoutSeconds}s`, retries: p.failureThreshold, startPeriod: `${p.initialDelaySeconds}s` };
  if ('exec' in p) return { ...timing, test: ['CMD', ...p.exec] };
  if ('httpGet' in p) return { ...timing, test: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:${p.httpGet.port}${p.httpGet.path} || exit 1`] };
  return { ...timing, test: ['CMD-SHELL', `nc -z 127.0.0.1 ${p.tcpSocket.port} || exit 1`] };
}

/** What realizing one workload's containers shares (see DockerTarget.realizeContext). */
interface DockerRealizeContext {
  readonly scope: Construct;
  readonly w: Workload;
  readonly image: Image;
  /** Filled by role as they are made; returned as the workload's WorkloadResources. */
  readonly resources: Record<string, TerraformResource>;
  readonly files?: Container;
  /** The uploads of a container that takes its files itself (no files container). */
  readonly upload?: ContainerUpload[];
  /** The files container's volumes, for every container of the workload. */
  readonly filesVolume: { fromContainer: string }[];
  readonly envOf: (env: Workload['env']) => string[];
  readonly hardening: {
    user?: string; groupAdd?: string[]; readOnly: boolean; capabilities: { drop: string[] }; securityOpts: string[];
  };
  /** The config files' hash, made once for all replicas. */
  hash?: string;
}

/** The labels every container of a workload carries, and its role among them. */
function labelsOf(w: Workload, role?: string): { label: string; value: string }[] {
  return [
    { label: 'sovereign-stack.io/workload', value: w.name },
    { label: 'sovereign-stack.io/component', value: w.component },
    ...(role ? [{ label: 'sovereign-stack.io/role', value: role }] : []),
  ];
}
