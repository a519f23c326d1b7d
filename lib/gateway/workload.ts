/**
 * The gateway as a target-neutral Workload: nginx, its probes, its files and its exporter.
 * Pure: validated options in, WorkloadProps out; no constructs, no provider packages.
 */
import { METRICS_PORT_NAME } from '../workload/metrics';
import { WorkloadPort, WorkloadProps } from '../workload/workload';
import {
  CONF_PATH, HEALTH_CONTAINER_PORT, HEALTH_PATH, HTTPS_CONTAINER_PORT, HTTP_CONTAINER_PORT, NGINX_EXPORTER_PORT,
  NGINX_STUB_STATUS_PORT, NGINX_UID, RUNTIME_DIR, TLS_DIR,
} from './defaults';
import { renderNginxCommand } from './render-nginx-command';
import { STUB_STATUS_PATH } from './render-nginx-conf';
import type { ResolvedGatewayOptions } from './schema';

/** What the workload takes besides the options. */
export interface GatewayWorkloadInput {
  /**
   * The content of the mounted nginx.conf: the construct passes a lazy token, so routes added
   * after construction land in the file.
   */
  readonly nginxConf: string;
}

/** The gateway's workload: nginx, plus the metrics exporter when metrics are on. */
export function gatewayWorkload(o: ResolvedGatewayOptions, input: GatewayWorkloadInput): WorkloadProps {
  return withNginxExporter(nginxWorkload(o, input), o.metrics);
}

/** The listeners: http always, https with TLS. */
function gatewayPorts(o: ResolvedGatewayOptions): WorkloadPort[] {
  const ports: WorkloadPort[] = [{ name: 'http', containerPort: HTTP_CONTAINER_PORT, servicePort: 80, hostPort: HTTP_CONTAINER_PORT }];
  if (o.tls) ports.push({ name: 'https', containerPort: HTTPS_CONTAINER_PORT, servicePort: 443, hostPort: HTTPS_CONTAINER_PORT });
  return ports;
}

/** With TLS, nginx plus a loop that reloads it when the certificate Secret is renewed. */
function nginxCommand(o: ResolvedGatewayOptions): string[] | undefined {
  if (!o.tls) return undefined;
  return renderNginxCommand({
    confPath: CONF_PATH,
    pidPath: `${RUNTIME_DIR}/nginx.pid`,
    watchFiles: [`${TLS_DIR}/tls.crt`, `${TLS_DIR}/tls.key`],
    intervalSeconds: o.tls.reloadCheckSeconds,
  });
}

/** Readiness and liveness on the health endpoint. */
function gatewayProbes(o: ResolvedGatewayOptions): NonNullable<WorkloadProps['probes']> {
  // Probes cannot speak the PROXY protocol: with it they get a listener of their own.
  const healthPort = o.clientAddress?.proxyProtocol ? HEALTH_CONTAINER_PORT : HTTP_CONTAINER_PORT;
  const health = { httpGet: { path: HEALTH_PATH, port: healthPort } };
  return {
    readiness: { ...health, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
    liveness: { ...health, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
  };
}

function nginxWorkload(o: ResolvedGatewayOptions, input: GatewayWorkloadInput): WorkloadProps {
  const ports = gatewayPorts(o);
  return {
    name: o.name,
    component: 'gateway',
    kind: 'stateless',
    image: o.image,
    command: nginxCommand(o),
    replicas: o.replicas,
    ports,
    secrets: o.tls ? [{ source: 'existing', name: o.tls.secretName, keys: ['tls.crt', 'tls.key'] }] : [],
    secretMounts: o.tls ? [{ secret: o.tls.secretName, mountPath: TLS_DIR }] : [],
    configFiles: [{ path: CONF_PATH, content: input.nginxConf }],
    // pid file, error log and temp files; the root filesystem stays read-only.
    scratch: [{ name: 'tmp', mountPath: RUNTIME_DIR, sizeMi: 64 }],
    probes: gatewayProbes(o),
    resources: o.resources,
    securityContext: { runAsUser: NGINX_UID, runAsGroup: NGINX_UID, runAsNonRoot: true, readOnlyRootFilesystem: true },
    placement: { datastore: false, spreadAcrossNodes: 'preferred' },
    ingress: [{ from: 'public', ports: ports.map((p) => p.containerPort) }],
    // maxUnavailable, not minAvailable: minAvailable must stay below replicas or no node drains.
    disruptionBudget: o.replicas > 1 ? { maxUnavailable: 1 } : undefined,
    shutdown: {
      // Let the endpoint removal reach every load balancer before nginx stops accepting.
      preStop: ['sh', '-c', 'sleep 5'],
      // SIGQUIT is nginx's graceful shutdown: finish the requests in flight, then exit.
      stopSignal: 'SIGQUIT',
      gracePeriodSeconds: 30,
    },
    public: true,
  };
}

/** Adds the exporter sidecar reading stub_status over the replica's loopback, and the metrics endpoint. */
function withNginxExporter(props: WorkloadProps, m: ResolvedGatewayOptions['metrics']): WorkloadProps {
  if (!m.enabled) return props;
  return {
    ...props,
    sidecars: [...(props.sidecars ?? []), {
      name: 'nginx-exporter',
      image: m.image,
      args: [`--nginx.scrape-uri=http://127.0.0.1:${NGINX_STUB_STATUS_PORT}${STUB_STATUS_PATH}`, `--web.listen-address=:${NGINX_EXPORTER_PORT}`],
      resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
      persistentVolumes: false,
      ports: [{ name: METRICS_PORT_NAME, containerPort: NGINX_EXPORTER_PORT }],
    }],
    metrics: { port: METRICS_PORT_NAME, path: '/metrics' },
  };
}
