/**
 * The gateway's fixed numbers and defaults: shared by its schema, its workload builder, its
 * nginx.conf spec and the construct, so each is written once. Pure: no constructs.
 */

/** The image used when `image` is not set: nginx built to run as uid 101 on ports 8080/8443. */
export const DEFAULT_NGINX_IMAGE = 'nginxinc/nginx-unprivileged:1.28.3-alpine';

/** The NGINX Prometheus exporter (reads stub_status; serves :9113/metrics). */
export const DEFAULT_NGINX_EXPORTER_IMAGE = 'nginx/nginx-prometheus-exporter:1.5.3';
/** Where the exporter serves metrics, and where nginx serves stub_status (127.0.0.1 only). */
export const NGINX_EXPORTER_PORT = 9113;
export const NGINX_STUB_STATUS_PORT = 8082; // 8081 is the probes' port behind the PROXY protocol

/** uid and gid of the `nginx` user in the nginxinc/nginx-unprivileged images. */
export const NGINX_UID = 101;
export const HTTP_CONTAINER_PORT = 8080;
export const HTTPS_CONTAINER_PORT = 8443;
export const CONF_PATH = '/etc/nginx/nginx.conf';
export const TLS_DIR = '/etc/nginx/tls';
export const RUNTIME_DIR = '/tmp';
export const HEALTH_PATH = '/healthz';
/** The probes' port when the other listeners speak the PROXY protocol (never published). */
export const HEALTH_CONTAINER_PORT = 8081;
/** Largest burst nginx accepts in our renderer. */
export const MAX_BURST = 100000;

/** The gateway's default upstream keepalive_timeout: below the 5 s idle timeout of Node.js and uvicorn. */
export const UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS = 4;

/**
 * How long nginx trusts a DNS answer for a service's pods (`resolver ... valid=`): a pod removed
 * from its Service's endpoints may still get requests for this long.
 */
export const GATEWAY_RESOLVER_VALID_SECONDS = 10;

/** How long the cluster DNS may keep answering with a removed pod (CoreDNS's kubernetes TTL, 5 s). */
const CLUSTER_DNS_TTL_SECONDS = 5;

/**
 * How long a service's pod keeps serving after it is told to stop (its preStop pause): until the
 * gateway can no longer be sending it requests, the resolver validity plus the DNS TTL (15 s).
 */
export const SERVICE_STOP_DELAY_SECONDS = GATEWAY_RESOLVER_VALID_SECONDS + CLUSTER_DNS_TTL_SECONDS;
/** Most connections per nginx worker (nginx's usual 1024; fewer when the memory limit is small). */
export const WORKER_CONNECTIONS = 1024;
/** Size of each rate-limit zone and upstream zone the gateway renders (the renderer's defaults). */
export const RATE_LIMIT_ZONE_MI = 10;
export const UPSTREAM_ZONE_KI = 64;
/** Name of the rate-limit zone of `props.rateLimit`. */
export const DEFAULT_ZONE = 'gateway-default';
