import { Construct } from 'constructs';
import { DockerTarget, OSLO_REGION } from '../../lib';
import { imageConstructId } from '../../lib/targets/docker/docker-target';
import { userErrorOf } from '../support/errors';
import { newStack, resourcesOf, synthJson } from '../support/synth';
import { statefulWorkload } from '../support/workloads';

describe('DockerTarget', () => {
  function deployExample(overrides = {}) {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    const deployed = target.deploy(stack, statefulWorkload(overrides));
    return { deployed, json: synthJson(stack) };
  }

  it('realizes a 3-replica stateful workload as 3 stable containers, 3 volumes and one network', () => {
    const { deployed, json } = deployExample();
    const containers = containersOf(json).replicas;
    expect(containers.map((c: any) => c.name).sort()).toEqual(['sovereign-ledger-0', 'sovereign-ledger-1', 'sovereign-ledger-2']);
    expect(containers.map((c: any) => c.hostname).sort()).toEqual(['ledger-0', 'ledger-1', 'ledger-2']);
    expect(deployed.replicaHosts).toEqual(['ledger-0', 'ledger-1', 'ledger-2']);
    const volumes = Object.values(resourcesOf(json, 'docker_volume'));
    expect(volumes.map((v: any) => v.name).sort()).toEqual(['sovereign-ledger-data-0', 'sovereign-ledger-data-1', 'sovereign-ledger-data-2']);
    expect(volumes.every((v: any) => v.lifecycle.prevent_destroy === true)).toBe(true);
    expect(Object.keys(resourcesOf(json, 'docker_network'))).toHaveLength(1);
    expect(Object.keys(resourcesOf(json, 'docker_image'))).toHaveLength(1);
  });

  /** The replicas (started) and the files container (never started) of a synthesized stack. */
  function containersOf(json: ReturnType<typeof synthJson>) {
    const all = Object.entries(resourcesOf(json, 'docker_container')) as Array<[string, any]>;
    return {
      replicas: all.filter(([, c]) => c.start !== false).map(([, c]) => c),
      files: all.filter(([, c]) => c.start === false),
    };
  }

  it('hardens containers and keeps secrets out of the JSON', () => {
    const { json } = deployExample();
    const c: any = containersOf(json).replicas[0];
    expect(c.env).toContainEqual(expect.stringMatching(/^LEDGER_PASSWORD=\$\{random_password\.[a-z0-9_-]+\.result\}$/));
    expect(c).toEqual(expect.objectContaining({ read_only: true, user: '1000:1000', restart: 'unless-stopped', capabilities: { drop: ['ALL'] }, memory: 1024, stop_timeout: 120 }));
    expect(c.healthcheck.test).toEqual(['CMD', 'ledger', 'ping']);
    expect(c.ports).toBeUndefined(); // not public
    expect(c.networks_advanced[0].aliases).toEqual(['ledger', 'ledger-0']);
  });

  it('publishes ports only for public workloads, on loopback, one host port per replica', () => {
    const { json, deployed } = deployExample({ public: true, ports: [{ name: 'db', containerPort: 5000, servicePort: 80 }], ingress: [] });
    expect(deployed.endpoint(80)).toEqual({ host: 'ledger', port: 5000 }); // no Service: the container port
    expect(deployed.podsEndpoint(80)).toEqual({ host: 'ledger', port: 5000 }); // the alias resolves to every replica
    expect(deployed.publicPort(80)).toBe(80);
    expect(() => deployed.endpoint(81)).toThrow(/has no service port 81/);
    const ports = containersOf(json).replicas.map((c: any) => c.ports[0]);
    expect(ports).toEqual([0, 1, 2].map((i) => ({ internal: 5000, external: 80 + i, ip: '127.0.0.1' })));
  });

  it('uploads mounted secret keys, including keys added after construction', () => {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    const deployed = target.deploy(stack, statefulWorkload({ replicas: 1, secretMounts: [{ secret: 'ledger-credentials', mountPath: '/run/secrets/ledger' }] }));
    deployed.addGeneratedSecretKey('ledger-credentials', 'invoices');
    const [[, c]] = containersOf(synthJson(stack)).files;
    const secretFiles = c.upload.filter((u: any) => u.file.startsWith('/run/secrets/ledger/'));
    expect(secretFiles.map((u: any) => u.file).sort()).toEqual(['/run/secrets/ledger/invoices', '/run/secrets/ledger/password', '/run/secrets/ledger/username']);
    expect(secretFiles.find((u: any) => u.file.endsWith('/invoices')).content).toMatch(/^\$\{random_password\.[a-z0-9_-]+\.result\}$/);
    // Uploads are root:root: 0440 and the replicas join group 0, so nobody else may read them.
    expect(secretFiles.map((u: any) => u.permissions)).toEqual(['0440', '0440', '0440']);
    expect(c.group_add).toBeUndefined(); // the files container never runs
  });

  it('lets only replicas that mount secrets read them: group 0 for the root-owned 0440 files', () => {
    const { stack } = newStack();
    const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
    target.deploy(new Construct(stack, 'ledger'), statefulWorkload({ name: 'ledger', replicas: 2, secretMounts: [{ secret: 'ledger-credentials', mountPath: '/run/secrets/ledger' }] }));
    target.deploy(new Construct(stack, 'plain'), statefulWorkload({
      name: 'plain', replicas: 1, secrets: [], configFiles: [{ path: '/etc/plain/plain.conf', content: 'x\n' }],
    }));
    const json = synthJson(stack);
    const containers = Object.values<any>(json.resource.docker_container);
    const replicasOf = (name: string) => containers.filter((c) => new RegExp(`^sovereign-${name}-\\d+$`).test(c.name));
    expect(replicasOf('ledger').map((c) => [c.user, c.group_add])).toEqual([['1000:1000', ['0']], ['1000:1000', ['0']]]);
    expect(replicasOf('plain').map((c) => c.group_add)).toEqual([undefined]);
    // Config files stay world-readable (nothing secret), secrets do not.
    const plainFiles = containers.find((c) => c.name === 'sovereign-plain-files');
    expect(plainFiles.upload).toEqual([{ file: '/etc/plain/plain.conf', content: 'x\n', permissions: '0444' }]);
  });

  it('gives read-only replicas their files through a never-started files container, mounted read-only', () => {
    const { deployed, json } = deployExample({
      configFiles: [
        { path: '/etc/ledger/ledger.conf', content: 'mode = cluster\n' },
        { path: '/etc/ledger/conf.d/extra.conf', content: 'x = 1\n' },
      ],
      secretMounts: [{ secret: 'ledger-credentials', mountPath: '/run/secrets/ledger' }],
    });
    const { replicas, files } = containersOf(json);
    // dockerd refuses any upload into a container whose root filesystem is read-only, so the
    // uploads go to one container per workload that is created but never started...
    expect(files).toHaveLength(1);
    const [[filesId, f]] = files;
    expect(f).toEqual(expect.objectContaining({ name: 'sovereign-ledger-files', start: false, must_run: false, network_mode: 'none' }));
    expect(f.read_only).toBeUndefined();
    expect(f.upload).toContainEqual({ file: '/etc/ledger/ledger.conf', content: 'mode = cluster\n', permissions: '0444' });
    expect(f.upload.map((u: any) => u.file)).toEqual(expect.arrayContaining(['/etc/ledger/conf.d/extra.conf', '/run/secrets/ledger/password']));
    // ...into one anonymous volume per directory (none inside another; Docker fills each from the image first)...
    expect(f.mounts).toEqual([{ target: '/etc/ledger', type: 'volume' }, { target: '/run/secrets/ledger', type: 'volume' }]);
    // ...that every replica mounts read-only; the id, so new files replace the replicas too.
    expect(replicas).toHaveLength(3);
    for (const c of replicas) {
      expect(c.read_only).toBe(true);
      expect(c.upload).toBeUndefined();
      expect(c.volumes).toContainEqual({ from_container: `\${docker_container.${filesId}.id}:ro` });
      expect(c.volumes).toContainEqual(expect.objectContaining({ container_path: '/var/lib/ledger' }));
    }
    expect(deployed.resources.files).toBeDefined();
  });

  it('uploads straight into containers whose root filesystem is writable', () => {
    const { json } = deployExample({ securityContext: { runAsUser: 1000, readOnlyRootFilesystem: false } });
    const { replicas, files } = containersOf(json);
    expect(files).toEqual([]);
    for (const c of replicas) {
      expect(c.read_only).toBe(false);
      expect(c.upload).toContainEqual({ file: '/etc/ledger/ledger.conf', content: 'mode = cluster\n', permissions: '0444' });
      expect(c.volumes.some((v: any) => v.from_container)).toBe(false);
    }
  });

  it('makes no files container for a workload without files', () => {
    const { json } = deployExample({ configFiles: [] });
    const { replicas, files } = containersOf(json);
    expect(files).toEqual([]);
    expect(replicas.every((c) => c.upload === undefined && !c.volumes.some((v: any) => v.from_container))).toBe(true);
  });

  it('refuses files that no read-only volume could carry', () => {
    const deploy = (overrides: object) => () => {
      const { stack } = newStack();
      new DockerTarget(stack, 'local', { location: OSLO_REGION }).deploy(stack, statefulWorkload(overrides));
    };
    expect(userErrorOf(deploy({ configFiles: [{ path: '/ledger.conf', content: 'x' }] })))
      .toMatch(/workload "ledger": config file \/ledger\.conf sits in \/, where no volume can be mounted; .*give the files a directory of their own/);
    expect(userErrorOf(deploy({ configFiles: [{ path: '/tmp/ledger.conf', content: 'x' }] })))
      .toMatch(/config file \/tmp\/ledger\.conf is in \/tmp, a scratch \(tmpfs\) mount point/);
    expect(userErrorOf(deploy({ configFiles: [{ path: '/var/lib/ledger/ledger.conf', content: 'x' }] })))
      .toMatch(/lies in the persistent volume "data" \(\/var\/lib\/ledger\), which takes no uploads/);
    expect(userErrorOf(deploy({ scratch: [{ name: 'cache', mountPath: '/etc/ledger/cache' }] })))
      .toMatch(/config file \/etc\/ledger\/ledger\.conf is in \/etc\/ledger, which holds the scratch mount \/etc\/ledger\/cache/);
    expect(userErrorOf(deploy({ volumes: [{ name: 'data', mountPath: '/etc/ledger/data', sizeGi: 1 }] })))
      .toMatch(/which holds the persistent volume "data" \(\/etc\/ledger\/data\)/);
    expect(userErrorOf(deploy({ secretMounts: [{ secret: 'ledger-credentials', mountPath: '/tmp' }] })))
      .toMatch(/secret mount \/tmp \(secret "ledger-credentials"\) is in \/tmp, a scratch/);
    // With a writable root filesystem the files go straight into the container: nothing to refuse.
    expect(deploy({ configFiles: [{ path: '/ledger.conf', content: 'x' }], securityContext: { runAsUser: 1000, readOnlyRootFilesystem: false } })).not.toThrow();
  });

  it('keys images by their reference: adding a service first leaves every other image id alone', () => {
    const imageIds = (images: string[]) => {
      const { stack } = newStack();
      const target = new DockerTarget(stack, 'local', { location: OSLO_REGION });
      images.forEach((image, i) => {
        const scope = new Construct(stack, `svc-${i}`);
        target.deploy(scope, { ...statefulWorkload({ name: `svc-${i}`, image, replicas: 1 }), secrets: [{ source: 'generated', name: `svc-${i}-credentials`, generated: { password: {} } }], env: [] });
      });
      const json = synthJson(stack);
      const byName = Object.fromEntries(Object.entries(resourcesOf(json, 'docker_image')).map(([id, r]: [string, any]) => [r.name, id]));
      // Each container points at its own image.
      for (const c of Object.values(resourcesOf(json, 'docker_container')) as any[]) {
        const image = images[Number(/^sovereign-svc-(\d+)-/.exec(c.name)![1])];
        expect(c.image).toBe(`\${docker_image.${byName[image]}.image_id}`);
      }
      return byName;
    };
    const before = imageIds(['registry.example.no/orders:1.4.2', 'postgres:17.2']);
    const after = imageIds(['rabbitmq:3.13.7-management-alpine', 'registry.example.no/orders:1.4.2', 'postgres:17.2']);
    expect(after['registry.example.no/orders:1.4.2']).toBe(before['registry.example.no/orders:1.4.2']);
    expect(after['postgres:17.2']).toBe(before['postgres:17.2']);
    expect(before['postgres:17.2']).toMatch(/^local_image-postgres-17-2_[0-9a-f]{8}_[0-9A-F]{8}$/);
  });

  it('gives distinct image references distinct ids, even when they read alike', () => {
    expect(imageConstructId('postgres')).toBe('image-postgres');
    expect(imageConstructId('registry.example.no/orders:1.4.2')).toMatch(/^image-registry-example-no-orders-1-4-2_[0-9a-f]{8}$/);
    const alike = ['a/b:1', 'a-b:1', 'a_b:1', 'a.b:1', 'a-b-1'];
    expect(new Set(alike.map(imageConstructId)).size).toBe(alike.length);
    expect(imageConstructId('a/b:1')).toBe(imageConstructId('a/b:1'));
  });

  it('writes the provider host for Terraform literally', () => {
    const { stack } = newStack();
    new DockerTarget(stack, 'local', { location: OSLO_REGION, host: 'unix:///run/${USER}/docker.sock' });
    const json = synthJson(stack);
    expect(json.provider?.docker).toEqual([expect.objectContaining({ host: 'unix:///run/$${USER}/docker.sock' })]);
  });

  it('turns an existing secret into sensitive variables, never literals', () => {
    const { json } = deployExample({ secrets: [{ source: 'existing', name: 'ledger-credentials', keys: ['password'] }] });
    expect(Object.keys(json.variable ?? {})).toEqual(['ledger_credentials_password']); // settable as TF_VAR_...
    const variables = Object.values(json.variable ?? {});
    expect(variables[0]).toEqual(expect.objectContaining({ sensitive: true, type: 'string' }));
    expect(variables[0].default).toBeUndefined();
  });
});
