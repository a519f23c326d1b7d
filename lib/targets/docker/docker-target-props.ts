import type { RegionRef } from '../../residency/region-ref';

// The documented contract of DockerTarget, bound to its zod schema in docker-target.ts.

/** Options of a DockerTarget besides its location. */
export interface DockerTargetOptions {
  /**
   * Docker daemon address. Always written into the provider, so DOCKER_HOST at apply time cannot
   * send the data to another machine than the one `location` names.
   * @default 'unix:///var/run/docker.sock' (the machine running terraform apply)
   */
  readonly host?: string;
  /**
   * Where the machine behind a remote `host` (tcp:// or ssh://) stands: required for a remote
   * host, and it must be the target's `location` (that machine holds the volumes).
   * @default - none; a remote host without it fails synthesis
   */
  readonly remoteHostLocation?: RegionRef;
  /**
   * Prefix of container, volume and network names on the host (at most 20 characters).
   * @default 'sovereign'
   */
  readonly namePrefix?: string;
  /**
   * Host address that public workloads publish their ports on.
   * @default '127.0.0.1'
   */
  readonly publishAddress?: string;
}

/** Props of a DockerTarget. */
export interface DockerTargetProps extends DockerTargetOptions {
  /**
   * Where the Docker host is (and so where its volumes, the data, live): a catalogue id or a
   * Region from `defineRegion`. For the local socket that is the machine running terraform apply;
   * for a remote host, the remote machine (declare it again as `remoteHostLocation`). Local data is
   * personal data too when it is a copy of production.
   */
  readonly location: RegionRef;
}
