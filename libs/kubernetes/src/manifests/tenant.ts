import type { ILimitRange } from 'kubernetes-models/v1/LimitRange';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ANNOTATIONS, LABELS, tenantLabels } from './labels';
import { namespaceName, TENANT_OBJECT_NAMES } from './names';
import { formatMebibytes, formatMillicores, instanceQuantities, LARGEST_INSTANCE, SMALLEST_INSTANCE } from './resources';
import { resolveSettings, type KubePlatformSettings, type ResolvedSettings } from './settings';
import { toKubeObject } from './object';
import type { KubeObject, TenantInput } from './types';

/** Who the worker is to the API server (its ServiceAccount in a cluster; a user with a kubeconfig of its own). */
export type WorkerSubject = { kind: 'ServiceAccount'; name: string; namespace: string } | { kind: 'User'; name: string };

/**
 * The tenant's namespace and its guard rails, in apply order:
 * Namespace, RoleBinding (the worker's rights inside it, when `settings.tenantRole` is set), ResourceQuota,
 * LimitRange, NetworkPolicy (default deny ingress), NetworkPolicy (allow from the ingress controller). Egress is each
 * service's own NetworkPolicy (DEFAULT or VPC).
 */
export function buildTenantObjects(settings: KubePlatformSettings, tenant: TenantInput, worker?: WorkerSubject): KubeObject[] {
  const s = resolveSettings(settings);
  if (s.tenantRole && !worker) throw new Error("The tenant RoleBinding needs the worker's identity.");
  return [
    buildNamespace(s, tenant),
    ...(s.tenantRole && worker ? [buildWorkerRoleBinding(s, tenant, s.tenantRole, worker)] : []),
    buildResourceQuota(s, tenant),
    buildLimitRange(s, tenant),
    buildDenyIngressPolicy(s, tenant),
    buildAllowIngressControllerPolicy(s, tenant),
  ];
}

function meta(s: ResolvedSettings, tenant: TenantInput, name: string) {
  return { name, namespace: namespaceName(s, tenant.accountId), labels: tenantLabels(s.fieldManager, tenant.accountId) };
}

function buildNamespace(s: ResolvedSettings, tenant: TenantInput): KubeObject {
  const ns: INamespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespaceName(s, tenant.accountId),
      labels: { ...tenantLabels(s.fieldManager, tenant.accountId), [LABELS.podSecurityEnforce]: s.podSecurityLevel },
      annotations: { [ANNOTATIONS.tenantName]: tenant.name },
    },
  };
  return toKubeObject(ns);
}

/**
 * The worker's rights inside the tenant namespace: the ClusterRole `tenantRole` (the chart's `...-worker-tenant`),
 * bound here only. Cluster-wide the worker holds no Secret or workload rights, so it cannot read or change other
 * namespaces' objects; it may bind this one role (RBAC `bind`), and an admission policy confines its RoleBindings
 * and writes to namespaces labelled as its own.
 */
function buildWorkerRoleBinding(s: ResolvedSettings, tenant: TenantInput, clusterRole: string, worker: WorkerSubject): KubeObject {
  const binding: IRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(s, tenant, TENANT_OBJECT_NAMES.workerRoleBinding),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
    subjects: [
      worker.kind === 'ServiceAccount'
        ? { kind: 'ServiceAccount', name: worker.name, namespace: worker.namespace }
        : { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: worker.name },
    ],
  };
  return toKubeObject(binding);
}

/**
 * Quota formula (per tenant namespace), with N = the tenant's effective `Services` quota:
 *
 *   count/deployments.apps                = N   (one Deployment per service)
 *   count/horizontalpodautoscalers...     = N
 *   requests.cpu    = limits.cpu          = N × cpuMilliPerService   (default 4 vCPU  -> 120 vCPU  for N = 30)
 *   requests.memory = limits.memory       = N × memoryMiPerService   (default 8 GiB   -> 240 GiB   for N = 30)
 *   pods                                  = N × podsPerService       (default 32      -> 960 pods  for N = 30)
 *   services.loadbalancers = services.nodeports = 0
 *
 * Why a budget per service and not App Runner's ceiling: N × 25 instances × 4 vCPU / 12 GB is
 * 3,000 vCPU / 9 TB for a default tenant, which caps nothing on a self-hosted cluster. The budget
 * is "every service may run four default-size (1 vCPU / 2 GB) instances on average"; a tenant can
 * still spend it unevenly (one 4 vCPU service at 25 instances needs 100 vCPU). Operators tune the
 * per-service figures in settings, and a tenant's `Services` override scales its caps with it.
 * Pods get App Runner's MaxSize ceiling plus a 25% rolling-update surge, since CPU and memory
 * already bound what they can consume. When a cap is reached, new pods are refused by the API
 * server (ReplicaSet events, the Deployment stops progressing): the HPA cannot scale beyond it.
 * Requests equal limits on every container, so both pairs get the same cap.
 */
function buildResourceQuota(s: ResolvedSettings, tenant: TenantInput): KubeObject {
  const n = tenant.quotas.Services;
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`Invalid Services quota ${n}.`);
  const q = s.tenantQuota;
  // A zero quota is a legal tenant state (no services allowed); quantities of 0 are written as '0'.
  const cpu = n === 0 ? '0' : formatMillicores(n * q.cpuMilliPerService);
  const memory = n === 0 ? '0' : formatMebibytes(n * q.memoryMiPerService);
  const quota: IResourceQuota = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: meta(s, tenant, TENANT_OBJECT_NAMES.resourceQuota),
    spec: {
      hard: {
        'count/deployments.apps': String(n),
        'count/horizontalpodautoscalers.autoscaling': String(n),
        pods: String(n * q.podsPerService),
        'requests.cpu': cpu,
        'limits.cpu': cpu,
        'requests.memory': memory,
        'limits.memory': memory,
        'services.loadbalancers': '0',
        'services.nodeports': '0',
      },
    },
  };
  return toKubeObject(quota);
}

/**
 * Container bounds: App Runner's smallest (0.25 vCPU / 0.5 GB) to largest (4 vCPU / 12 GB) pair.
 * Defaults (for any container that names no resources) are the largest pair, requests = limits.
 */
function buildLimitRange(s: ResolvedSettings, tenant: TenantInput): KubeObject {
  const largest = instanceQuantities(LARGEST_INSTANCE);
  const smallest = instanceQuantities(SMALLEST_INSTANCE);
  const range: ILimitRange = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: meta(s, tenant, TENANT_OBJECT_NAMES.limitRange),
    spec: {
      limits: [
        {
          type: 'Container',
          default: { ...largest },
          defaultRequest: { ...largest },
          max: { ...largest },
          min: { ...smallest },
        },
      ],
    },
  };
  return toKubeObject(range);
}

/** Every pod of the namespace: no ingress unless another policy allows it. */
function buildDenyIngressPolicy(s: ResolvedSettings, tenant: TenantInput): KubeObject {
  const policy: INetworkPolicy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(s, tenant, TENANT_OBJECT_NAMES.denyIngress),
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  };
  return toKubeObject(policy);
}

/**
 * The ingress controller may reach every pod of the tenant. Pod-to-pod traffic inside the tenant
 * is allowed per service (same service label only) by the service's own NetworkPolicy.
 */
function buildAllowIngressControllerPolicy(s: ResolvedSettings, tenant: TenantInput): KubeObject {
  const policy: INetworkPolicy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(s, tenant, TENANT_OBJECT_NAMES.allowIngressController),
    spec: {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [
        { from: ingressControllerNamespaces(s).map((ns) => ({ namespaceSelector: { matchLabels: { [LABELS.namespaceName]: ns } } })) },
      ],
    },
  };
  return toKubeObject(policy);
}

/** The public ingress controller's namespace, and the private one's when it runs elsewhere. */
function ingressControllerNamespaces(s: ResolvedSettings): string[] {
  const privateNs = s.privateIngressClassName ? (s.privateIngressControllerNamespace ?? s.ingressControllerNamespace) : undefined;
  return privateNs && privateNs !== s.ingressControllerNamespace
    ? [s.ingressControllerNamespace, privateNs]
    : [s.ingressControllerNamespace];
}
