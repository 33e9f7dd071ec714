import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, rawApply, startProcess, waitHealthy, type Probe, type Started } from './processes';

/**
 * The real node's gateway: Traefik on the host, out of cluster, implementing Kubernetes Ingress (IngressClass
 * `traefik`) and Gateway API (GatewayClass `traefik`, Gateway `apprunner-system/apprunner`), listening on a loopback
 * port and routing by Host header to the Services' endpoints (pod IPs on the node's bridge, which the host reaches).
 */
export interface GatewayState {
  /** `127.0.0.1:<port>`: where Ingress and HTTPRoute hosts answer over HTTP. */
  http: string;
  /** `127.0.0.1:<port>`: where Ingress hosts with `spec.tls` answer over HTTPS (SNI picks the certificate). */
  https: string;
  ingressClass: string;
  gatewayClass: string;
  gateway: { namespace: string; name: string };
  ports: Record<string, number>;
}

export const INGRESS_CLASS = 'traefik';
const GATEWAY_CLASS = 'traefik';
const GATEWAY = { namespace: 'apprunner-system', name: 'apprunner' };
const TRAEFIK_USER = 'apprunner-local-traefik';

/** What Traefik's Helm chart grants it, for the two providers used here (no Traefik CRDs). */
async function applyRbac(admin: Probe): Promise<void> {
  const name = 'apprunner-local-traefik';
  await rawApply(admin, `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name },
    rules: [
      { apiGroups: [''], resources: ['services', 'secrets', 'nodes', 'namespaces', 'configmaps'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingressclasses'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] },
      {
        apiGroups: ['gateway.networking.k8s.io'],
        resources: [
          'gatewayclasses',
          'gateways',
          'httproutes',
          'grpcroutes',
          'referencegrants',
          'backendtlspolicies',
          'tcproutes',
          'tlsroutes',
        ],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: ['gateway.networking.k8s.io'],
        resources: [
          'gatewayclasses/status',
          'gateways/status',
          'httproutes/status',
          'grpcroutes/status',
          'backendtlspolicies/status',
          'tcproutes/status',
          'tlsroutes/status',
        ],
        verbs: ['update', 'patch'],
      },
    ],
  });
  await rawApply(admin, `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: TRAEFIK_USER }],
  });
}

export async function startGateway(opts: {
  dir: string;
  traefik: string;
  kubeconfig: string;
  admin: Probe;
  started: Started[];
  log: (line: string) => void;
}): Promise<GatewayState> {
  const { dir, admin } = opts;
  const ports = { web: await freePort(), websecure: await freePort(), ping: await freePort() };
  const state: GatewayState = {
    http: `127.0.0.1:${ports.web}`,
    https: `127.0.0.1:${ports.websecure}`,
    ingressClass: INGRESS_CLASS,
    gatewayClass: GATEWAY_CLASS,
    gateway: GATEWAY,
    ports,
  };
  await applyRbac(admin);
  await rawApply(admin, `/apis/networking.k8s.io/v1/ingressclasses/${INGRESS_CLASS}`, {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: INGRESS_CLASS },
    spec: { controller: 'traefik.io/ingress-controller' },
  });
  await rawApply(admin, `/apis/gateway.networking.k8s.io/v1/gatewayclasses/${GATEWAY_CLASS}`, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: GATEWAY_CLASS },
    spec: { controllerName: 'traefik.io/gateway-controller' },
  });
  await rawApply(admin, `/api/v1/namespaces/${GATEWAY.namespace}`, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: GATEWAY.namespace },
  });
  // Traefik ties a listener to the entry point with the same port: the Gateway's listener port is the loopback port
  await rawApply(admin, `/apis/gateway.networking.k8s.io/v1/namespaces/${GATEWAY.namespace}/gateways/${GATEWAY.name}`, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: GATEWAY.name, namespace: GATEWAY.namespace },
    spec: {
      gatewayClassName: GATEWAY_CLASS,
      listeners: [{ name: 'web', protocol: 'HTTP', port: ports.web, allowedRoutes: { namespaces: { from: 'All' } } }],
    },
  });
  const logDir = join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const accessLog = join(logDir, 'traefik-access.log');
  writeFileSync(accessLog, '', { flag: 'a' });
  const traefik = startProcess(
    'traefik',
    opts.traefik,
    [
      `--entryPoints.web.address=${state.http}`,
      // TLS routers (Ingresses with spec.tls: custom domains) answer here, with the certificate of their Secret
      `--entryPoints.websecure.address=${state.https}`,
      '--entryPoints.websecure.http.tls=true',
      `--entryPoints.traefik.address=127.0.0.1:${ports.ping}`,
      '--ping=true',
      '--ping.entryPoint=traefik',
      '--providers.kubernetesIngress=true',
      `--providers.kubernetesIngress.ingressClass=${INGRESS_CLASS}`,
      // a Service without ready endpoints (a paused App Runner service) answers 503, as ingress-nginx does, not 404
      '--providers.kubernetesIngress.allowEmptyServices=true',
      // the address Traefik writes into every Ingress's status.loadBalancer (a custom domain is ACTIVE once served)
      '--providers.kubernetesIngress.ingressEndpoint.ip=127.0.0.1',
      '--providers.kubernetesGateway=true',
      // nothing leaves this machine: no version check, no usage report
      '--global.checkNewVersion=false',
      '--global.sendAnonymousUsage=false',
      '--log.level=INFO',
      '--accessLog=true',
      `--accessLog.filePath=${accessLog}`,
    ],
    join(logDir, 'traefik.log'),
    // out of cluster, Traefik's Kubernetes client reads KUBECONFIG (it has no flag for it)
    { KUBECONFIG: opts.kubeconfig },
  );
  opts.started.push(traefik);
  await waitHealthy(traefik, dir, { url: `http://127.0.0.1:${ports.ping}/ping` }, 60_000);
  opts.log(`Traefik up: Ingress (class ${INGRESS_CLASS}) and Gateway API (Gateway ${GATEWAY.namespace}/${GATEWAY.name}) on ${state.http}`);
  return state;
}
