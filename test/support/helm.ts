import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { KubeClient, LiveObject } from '@apprunner/kubernetes';
import type { KubeProxy } from './kube-proxy';
import { proxyFor } from './cluster';

const ROOT = join(__dirname, '../..');
export const CHART = join(ROOT, 'charts/apprunner-k8s');

/** Helm as a child process (scripts/helm.sh), so that it can ask an API server this process serves a proxy for. */
export function helm(args: string[], kubeconfig: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(ROOT, 'scripts/helm.sh'), ...args], { cwd: ROOT, env: { ...process.env, KUBECONFIG: kubeconfig } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * A kubeconfig for Helm as a cluster admin with a token (a ServiceAccount bound to cluster-admin), as an operator's
 * would be. With `proxy` it points at a proxy in front of the API server, so the test sees what Helm asked.
 */
export async function helmAccess(
  kube: KubeClient,
  info: { server: string; caFile: string; admin: (method: string, path: string, body?: object) => Promise<any> },
  dir: string,
  name: string,
  options: { proxy?: boolean } = { proxy: true },
): Promise<{ kubeconfig: string; proxy?: KubeProxy }> {
  await kube.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'helm-admin', namespace: 'kube-system' } } as LiveObject);
  await kube.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'helm-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'helm-admin', namespace: 'kube-system' }],
  } as LiveObject);
  const { status } = await info.admin('POST', '/api/v1/namespaces/kube-system/serviceaccounts/helm-admin/token', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  const proxy = options.proxy ? await proxyFor(info) : undefined;
  const path = join(dir, `${name}.yaml`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: proxy?.url ?? info.server, 'certificate-authority': info.caFile } }],
    users: [{ name: 'helm-admin', user: { token: status.token } }],
    contexts: [{ name, context: { cluster: name, user: 'helm-admin' } }],
    'current-context': name,
  };
  writeFileSync(path, YAML.stringify(config), { mode: 0o600 });
  return { kubeconfig: path, proxy };
}

const NAMESPACED_KINDS = [
  'apps/v1|Deployment',
  'apps/v1|StatefulSet',
  'batch/v1|Job',
  'v1|Pod',
  'v1|Service',
  'v1|ConfigMap',
  'v1|Secret',
  'v1|ServiceAccount',
  'networking.k8s.io/v1|Ingress',
  'networking.k8s.io/v1|NetworkPolicy',
  'policy/v1|PodDisruptionBudget',
  'rbac.authorization.k8s.io/v1|Role',
  'rbac.authorization.k8s.io/v1|RoleBinding',
];
const CLUSTER_KINDS = [
  'rbac.authorization.k8s.io/v1|ClusterRole',
  'rbac.authorization.k8s.io/v1|ClusterRoleBinding',
  'admissionregistration.k8s.io/v1|ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/v1|ValidatingAdmissionPolicyBinding',
  'v1|Namespace',
];

/** What is left of a release (`app.kubernetes.io/instance=<release>`), apart from its own namespace: `Kind ns/name` lines. */
export async function releaseLeftovers(kube: KubeClient, release: string, namespace: string): Promise<string[]> {
  const selector = `app.kubernetes.io/instance=${release}`;
  const left: string[] = [];
  for (const k of NAMESPACED_KINDS)
    for (const o of await kube.list<LiveObject>(k.split('|')[0], k.split('|')[1], undefined, selector))
      left.push(`${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
  for (const k of CLUSTER_KINDS)
    for (const o of await kube.list<LiveObject>(k.split('|')[0], k.split('|')[1], undefined, selector))
      if (o.metadata.name !== namespace) left.push(`${o.kind} ${o.metadata.name}`);
  return left;
}
