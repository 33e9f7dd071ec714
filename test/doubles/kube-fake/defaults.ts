/**
 * API defaulting, as kube-apiserver does it on every write before validation (a subset: the defaults a reconciler
 * is most likely to observe). Every function is idempotent, so re-applying an unchanged configuration produces an
 * identical object and stays a no-op. Defaulted fields are not owned by the applying manager (as in Kubernetes).
 */
import { asArray, asRecord, isRecord, type JsonObject, type KubeObject } from './types';

export interface DefaultingContext {
  /** Next free Service cluster IP. */
  allocateClusterIP(): string;
}

function setDefault(obj: JsonObject, key: string, value: unknown): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

/** `obj[key]` as a record, created when absent. */
function child(obj: JsonObject, key: string): JsonObject {
  if (!isRecord(obj[key])) obj[key] = {};
  return asRecord(obj[key]);
}

function defaultProbe(probe: unknown): void {
  if (!isRecord(probe)) return;
  if (isRecord(probe.httpGet)) setDefault(probe.httpGet, 'scheme', 'HTTP');
  setDefault(probe, 'timeoutSeconds', 1);
  setDefault(probe, 'periodSeconds', 10);
  setDefault(probe, 'successThreshold', 1);
  setDefault(probe, 'failureThreshold', 3);
}

function defaultContainer(c: unknown): void {
  if (!isRecord(c)) return;
  const image = typeof c.image === 'string' ? c.image : '';
  const tag = image.includes('@') ? 'digest' : (/:([^/:]+)$/.exec(image)?.[1] ?? 'latest');
  setDefault(c, 'imagePullPolicy', tag === 'latest' ? 'Always' : 'IfNotPresent');
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  for (const p of asArray(c.ports)) if (isRecord(p)) setDefault(p, 'protocol', 'TCP');
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

/** Pod spec defaults (`restartPolicy` is left alone for Jobs, whose validation requires it). */
export function defaultPodSpec(spec: unknown, restartPolicy: string | undefined = 'Always'): void {
  if (!isRecord(spec)) return;
  if (restartPolicy) setDefault(spec, 'restartPolicy', restartPolicy);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  for (const c of asArray(spec.containers)) defaultContainer(c);
  for (const c of asArray(spec.initContainers)) defaultContainer(c);
}

function defaultDeployment(o: KubeObject): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  const strategy = child(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', '25%');
    setDefault(ru, 'maxSurge', '25%');
  }
  defaultPodSpec(asRecord(spec.template).spec);
}

function defaultService(o: KubeObject, ctx: DefaultingContext): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.type !== 'ExternalName') {
    setDefault(spec, 'clusterIP', ctx.allocateClusterIP());
    setDefault(spec, 'clusterIPs', [spec.clusterIP]);
    setDefault(spec, 'ipFamilies', ['IPv4']);
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  }
  for (const p of asArray(spec.ports)) {
    if (!isRecord(p)) continue;
    setDefault(p, 'protocol', 'TCP');
    setDefault(p, 'targetPort', p.port);
  }
  if (!isRecord(o.status)) o.status = { loadBalancer: {} };
}

function defaultSecret(o: KubeObject): void {
  setDefault(o, 'type', 'Opaque');
  if (isRecord(o.stringData)) {
    const data = child(o, 'data');
    for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    delete o.stringData;
  }
}

function defaultHpa(o: KubeObject): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'minReplicas', 1);
  if (asArray(spec.metrics).length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
}

function defaultNetworkPolicy(o: KubeObject): void {
  const spec = child(o, 'spec');
  if (!Array.isArray(spec.policyTypes)) spec.policyTypes = Array.isArray(spec.egress) ? ['Ingress', 'Egress'] : ['Ingress'];
  for (const rule of [...asArray(spec.ingress), ...asArray(spec.egress)]) {
    for (const p of asArray(asRecord(rule).ports)) if (isRecord(p)) setDefault(p, 'protocol', 'TCP');
  }
}

function defaultJob(o: KubeObject): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'completions', 1);
  setDefault(spec, 'backoffLimit', 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  defaultPodSpec(asRecord(spec.template).spec, undefined);
}

/** Applies the defaults for `obj`'s group/kind in place. */
export function applyDefaults(obj: KubeObject, ctx: DefaultingContext): void {
  const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '';
  switch (`${group}/${obj.kind}`) {
    case '/Namespace': {
      const labels = (obj.metadata.labels ??= {});
      if (obj.metadata.name) labels['kubernetes.io/metadata.name'] = obj.metadata.name;
      setDefault(child(obj, 'spec'), 'finalizers', ['kubernetes']);
      setDefault(child(obj, 'status'), 'phase', 'Active');
      break;
    }
    case '/Pod':
      defaultPodSpec(obj.spec);
      break;
    case '/Service':
      defaultService(obj, ctx);
      break;
    case '/Secret':
      defaultSecret(obj);
      break;
    case 'apps/Deployment':
      defaultDeployment(obj);
      break;
    case 'apps/ReplicaSet':
      setDefault(child(obj, 'spec'), 'replicas', 1);
      defaultPodSpec(asRecord(asRecord(obj.spec).template).spec);
      break;
    case 'autoscaling/HorizontalPodAutoscaler':
      defaultHpa(obj);
      break;
    case 'batch/Job':
      defaultJob(obj);
      break;
    case 'networking.k8s.io/NetworkPolicy':
      defaultNetworkPolicy(obj);
      break;
    case 'apiextensions.k8s.io/CustomResourceDefinition':
      setDefault(child(obj, 'spec'), 'conversion', { strategy: 'None' });
      break;
  }
}
