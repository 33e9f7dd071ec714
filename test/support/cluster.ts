import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import { KubeClient, type KubeSource, type LiveObject } from '@apprunner/kubernetes';
import { adminProbe, clusterDown, clusterStatus, clusterUp, type ClusterState } from '../../scripts/cluster/local-cluster';
import { kubeRequest } from '../../scripts/cluster/processes';
import { startKubeProxy, type KubeProxy } from './kube-proxy';

const ROOT = join(__dirname, '../..');
export const TEST_CLUSTER_DIR = process.env.APPRUNNER_TEST_CLUSTER_DIR ?? join(ROOT, '.tmp', 'test-cluster');
/** The chart release whose RBAC the worker runs with in every real-cluster suite. */
const RELEASE = 'apprunner';
const RELEASE_NAMESPACE = 'apprunner-system';
const BUILD_NAMESPACE = 'apprunner-system-builds';

/** What the global setup hands the suites (vitest `provide`/`inject`): the local cluster and the worker's access. */
export interface TestClusterInfo {
  /** Admin kubeconfig (client certificate in system:masters): for the tests' own reads and writes. */
  kubeconfig: string;
  server: string;
  caFile: string;
  /** The admin's client certificate and key files. */
  admin: { cert: string; key: string };
  /** The chart's worker ServiceAccount, its token, and the tenant ClusterRole it binds (KUBE_TENANT_ROLE). */
  worker: { namespace: string; serviceAccount: string; token: string; tenantRole: string; clusterRole: string; buildNamespace: string };
  issuers: ClusterState['issuers'];
  version: string;
}

/** KubeConfig options for the worker: its ServiceAccount token, against `server` (the API server, or a proxy before it). */
export function workerKubeOptions(cluster: TestClusterInfo, server = cluster.server): object {
  // a plain-HTTP proxy before the API server: client-node sends a token over http only with skipTLSVerify
  const tls = server.startsWith('https:') ? { caData: readFileSync(cluster.caFile).toString('base64') } : { skipTLSVerify: true };
  return {
    clusters: [{ name: 'local', server, ...tls }],
    users: [{ name: 'worker', token: cluster.worker.token }],
    contexts: [{ name: 'worker', cluster: 'local', user: 'worker' }],
    currentContext: 'worker',
  };
}
export function workerSource(cluster: TestClusterInfo, server?: string): KubeSource {
  return { options: workerKubeOptions(cluster, server) };
}
/** The environment a worker on this cluster runs with: the chart's tenant ClusterRole. */
export function workerEnv(cluster: TestClusterInfo): Record<string, string> {
  return { KUBE_TENANT_ROLE: cluster.worker.tenantRole };
}

/** A raw request as the admin (merge patches, status subresources: what KubeClient does not do). */
export function adminRequest<T = unknown>(
  cluster: Pick<TestClusterInfo, 'server' | 'caFile' | 'admin'>,
  method: string,
  path: string,
  body?: object,
  contentType?: string,
): Promise<T> {
  return kubeRequest<T>({ url: cluster.server, ca: cluster.caFile, client: cluster.admin }, method, path, body, contentType);
}

/** A raw request with a bearer token (the worker's, to prove what it may not do); resolves the status and body. */
export function tokenRequest(
  cluster: TestClusterInfo,
  token: string,
  method: string,
  path: string,
  body?: object,
  contentType?: string,
): Promise<{ status: number; body: any }> {
  return kubeRequest({ url: cluster.server, ca: cluster.caFile, token }, method, path, body, contentType).then(
    (ok) => ({ status: 200, body: ok }),
    (e: Error & { statusCode?: number; body?: unknown }) => {
      if (e.statusCode === undefined) throw e;
      return { status: e.statusCode, body: e.body };
    },
  );
}

/**
 * A proxy before the cluster's API server that counts calls and can misbehave (test/support/kube-proxy.ts), serving
 * TLS with the API server's own certificate (valid for 127.0.0.1, signed by the cluster CA).
 */
export function proxyFor(
  cluster: Pick<TestClusterInfo, 'server' | 'caFile'>,
  intercept?: Parameters<typeof startKubeProxy>[1],
): Promise<KubeProxy> {
  const pki = dirname(cluster.caFile);
  return startKubeProxy(cluster.server, intercept, {
    caFile: cluster.caFile,
    serve: { cert: join(pki, 'apiserver.crt'), key: join(pki, 'apiserver.key') },
  });
}

export function adminKube(cluster: Pick<TestClusterInfo, 'kubeconfig'>, fieldManager = 'apprunner-tests'): Promise<KubeClient> {
  return KubeClient.connect({ kubeconfigPath: cluster.kubeconfig }, fieldManager);
}

/** Renders the chart as an operator would install it (`helm template`), returning its objects. */
export function helmTemplate(release: string, namespace: string, args: string[] = []): LiveObject[] {
  const r = spawnSync(
    'bash',
    [join(ROOT, 'scripts/helm.sh'), 'template', release, join(ROOT, 'charts/apprunner-k8s'), '--namespace', namespace, ...args],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 32 * 1024 * 1024,
    },
  );
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return YAML.parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as LiveObject | null)
    .filter((o): o is LiveObject => o !== null);
}

const RBAC_KINDS = [
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
];

/**
 * Installs exactly the worker's identity and permissions that `helm template` renders from the chart (evaluation
 * values: the Kubernetes build driver, so the build namespace's Role too), and issues a token for its
 * ServiceAccount: the worker in the suites authorizes as the chart's worker does, never as an admin.
 */
export async function installWorkerAccess(state: ClusterState): Promise<TestClusterInfo['worker']> {
  const objects = helmTemplate(RELEASE, RELEASE_NAMESPACE, [
    '-f',
    join(ROOT, 'charts/apprunner-k8s/values-evaluation.yaml'),
    '--set',
    `build.namespace=${BUILD_NAMESPACE}`,
  ]);
  const rbac = objects
    .filter((o) => RBAC_KINDS.includes(o.kind))
    .filter((o) => o.kind !== 'ServiceAccount' || o.metadata.name.endsWith('-worker'))
    .sort((a, b) => RBAC_KINDS.indexOf(a.kind) - RBAC_KINDS.indexOf(b.kind));
  const kube = await KubeClient.connect({ kubeconfigPath: state.kubeconfig }, 'helm');
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: RELEASE_NAMESPACE } });
  for (const o of rbac)
    await kube.apply({
      ...o,
      metadata: { ...o.metadata, namespace: o.metadata.namespace ?? (isNamespaced(o.kind) ? RELEASE_NAMESPACE : undefined) },
    });
  const sa = rbac.find((o) => o.kind === 'ServiceAccount')!.metadata.name;
  const clusterRoles = rbac.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name);
  const tenantRole = clusterRoles.find((n) => n.endsWith('-tenant'))!;
  const role = rbac.find((o) => o.kind === 'Role');
  const review = await kubeRequest<{ status: { token: string } }>(
    adminProbe(state),
    'POST',
    `/api/v1/namespaces/${RELEASE_NAMESPACE}/serviceaccounts/${sa}/token`,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 24 * 3600 },
    },
  );
  return {
    namespace: RELEASE_NAMESPACE,
    serviceAccount: sa,
    token: review.status.token,
    tenantRole,
    clusterRole: clusterRoles.find((n) => n !== tenantRole)!,
    buildNamespace: role?.metadata.namespace ?? BUILD_NAMESPACE,
  };
}

function isNamespaced(kind: string): boolean {
  return ['ServiceAccount', 'Role', 'RoleBinding'].includes(kind);
}

/**
 * A cluster of a suite's own (`.tmp/test-cluster-<name>`), for tests that change cluster-wide objects other suites
 * rely on; `bare` leaves out the CRDs and cert-manager. The caller stops it with `clusterDown(info.dir)`.
 */
export async function startOwnCluster(
  name: string,
  options: { bare?: boolean; nodes?: number } = {},
): Promise<Omit<TestClusterInfo, 'worker'> & { dir: string }> {
  const state = await clusterUp({
    dir: join(ROOT, '.tmp', `test-cluster-${name}`),
    log: () => undefined,
    nodes: options.nodes ?? 1,
    bare: options.bare,
  });
  const probe = adminProbe(state);
  return {
    dir: state.dir,
    kubeconfig: state.kubeconfig,
    server: state.server,
    caFile: probe.ca!,
    admin: probe.client!,
    issuers: state.issuers,
    version: state.version,
  };
}

/** Starts (or reuses) the suites' cluster and the worker's access; the caller stops it unless it was running. */
export async function startTestCluster(
  log: (line: string) => void,
  dir = TEST_CLUSTER_DIR,
): Promise<{ info: TestClusterInfo; reused: boolean }> {
  const reused = (await clusterStatus(dir)).running;
  const state = await clusterUp({ dir, log });
  let worker: TestClusterInfo['worker'];
  try {
    worker = await installWorkerAccess(state);
  } catch (e) {
    if (!reused) await clusterDown(dir);
    throw e;
  }
  const probe = adminProbe(state);
  return {
    reused,
    info: {
      kubeconfig: state.kubeconfig,
      server: state.server,
      caFile: probe.ca!,
      admin: probe.client!,
      worker,
      issuers: state.issuers,
      version: state.version,
    },
  };
}
