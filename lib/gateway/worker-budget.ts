/**
 * How many nginx workers a gateway replica runs, and how many connections each may hold, from the
 * CPU and memory the replica is given. Pure.
 *
 * `worker_processes auto` starts one worker per CPU of the NODE, not of the container: on a
 * 64-core node a replica with a 100m request runs 64 workers, each with its own connection slots
 * and its own idle keepalive connections to every service, all inside one 256Mi limit. Here the
 * worker count follows the CPU request instead, and the connection slots follow the memory limit.
 */
import { SovereignStackError } from '../util/errors';
import { cpuToCores, memoryToMi } from '../util/schemas';

/**
 * The master process, and what every worker maps alike (the configuration, OpenSSL, libraries).
 * Measured on nginx 1.22.1 with TLS and a rate-limit zone: master 3.4 MiB, an idle worker 1.8 MiB
 * (proportional set size); the rest is headroom for caches and OpenSSL state under load.
 */
export const NGINX_BASE_MI = 16;
/**
 * Memory one connection slot in use costs on average. A proxied request in flight holds two slots:
 * the client's (request pool and header buffers, ~30 KiB of OpenSSL state with TLS) and the
 * backend's (8 proxy buffers of 4 KiB and the response header buffer).
 */
export const CONNECTION_KI = 32;
/** nginx's TLS session cache (`ssl_session_cache shared:TLS:10m`). */
const TLS_SESSION_CACHE_MI = 10;
/** Fewest connection slots per worker worth running with (listening sockets take some). */
export const MIN_WORKER_CONNECTIONS = 64;
/** Most workers we derive; beyond this one replica is better split into more replicas. */
export const MAX_WORKER_PROCESSES = 64;

export interface WorkerBudgetInput {
  /** The replica's CPU request ("100m", "2"). */
  readonly cpuRequest: string;
  /** The replica's CPU limit, if any. */
  readonly cpuLimit?: string;
  /** The replica's memory limit ("256Mi"). */
  readonly memoryLimit: string;
  /** Most connection slots per worker wanted (nginx `worker_connections`). */
  readonly maxWorkerConnections: number;
  /** Shared-memory zones in MiB (rate limits, upstream groups); the TLS session cache is added with `tls`. */
  readonly sharedZonesMi: number;
  /** Whether TLS is terminated (adds the session cache). */
  readonly tls: boolean;
  /** Idle keepalive connections wanted per upstream and worker. */
  readonly upstreamKeepalive: number;
  /** Upstream groups (one per service and port). */
  readonly upstreams: number;
}

export interface WorkerBudget {
  /** `worker_processes`. */
  readonly workerProcesses: number;
  /** `worker_connections`. */
  readonly workerConnections: number;
  /** `keepalive` of each upstream. */
  readonly upstreamKeepalive: number;
}

/**
 * - Workers: the CPU request rounded up (a replica asking for 100m gets one worker, for 1500m
 *   two), never above the CPU limit rounded up, at most {@link MAX_WORKER_PROCESSES}.
 * - Connections per worker: what the memory limit holds after the base and the shared zones,
 *   split over twice the workers (on a reload the old workers finish their requests while the new
 *   ones start), at {@link CONNECTION_KI} a slot; at most `maxWorkerConnections`.
 * - Upstream keepalive: idle connections to the services take worker connection slots too, so all
 *   upstreams together may cache at most half of them (at least one per upstream).
 *
 * Throws a SovereignStackError naming `resources.limits.memory` when the limit leaves a worker
 * fewer than {@link MIN_WORKER_CONNECTIONS} slots.
 */
export function gatewayWorkerBudget(input: WorkerBudgetInput): WorkerBudget {
  const request = cpuToCores(input.cpuRequest);
  const limit = input.cpuLimit === undefined ? Infinity : Math.ceil(cpuToCores(input.cpuLimit));
  const workerProcesses = Math.max(1, Math.min(Math.ceil(request), limit, MAX_WORKER_PROCESSES));

  const memoryMi = memoryToMi(input.memoryLimit);
  const sharedMi = input.sharedZonesMi + (input.tls ? TLS_SESSION_CACHE_MI : 0);
  const perWorkerMi = (memoryMi - NGINX_BASE_MI - sharedMi) / (2 * workerProcesses);
  const affordable = Math.floor((perWorkerMi * 1024) / CONNECTION_KI);
  if (affordable < MIN_WORKER_CONNECTIONS) {
    const neededMi = Math.ceil(NGINX_BASE_MI + sharedMi + (2 * workerProcesses * MIN_WORKER_CONNECTIONS * CONNECTION_KI) / 1024);
    throw new SovereignStackError(
      `resources.limits.memory ${input.memoryLimit} is too small for ${workerProcesses} nginx worker(s) (from resources.requests.cpu ` +
      `${input.cpuRequest}) and ${Math.round(sharedMi)} MiB of shared zones: each worker would get ${Math.max(0, affordable)} ` +
      `connections (at least ${MIN_WORKER_CONNECTIONS}); raise the memory limit to at least ${neededMi}Mi or lower the CPU request`,
    );
  }
  const workerConnections = Math.min(input.maxWorkerConnections, affordable);
  const keepaliveShare = input.upstreams > 0 ? Math.floor(workerConnections / 2 / input.upstreams) : input.upstreamKeepalive;
  const upstreamKeepalive = input.upstreamKeepalive === 0 ? 0 : Math.min(input.upstreamKeepalive, Math.max(1, keepaliveShare));
  return { workerProcesses, workerConnections, upstreamKeepalive };
}
