import { isDns1035Label, isDns1123Label, isDns1123Subdomain } from './names';
import type { KubeObject } from './types';

/**
 * Schema validation with the kubernetes-models classes (Kubernetes' own OpenAPI schemas), plus the
 * name/label syntax rules the OpenAPI schemas do not express (the API server checks those in code).
 *
 * Asynchronous on purpose: kubernetes-models is ESM-only and exports only the `import` condition.
 * This repository compiles to CommonJS, where a static import becomes `require()` and fails at load
 * time (ERR_PACKAGE_PATH_NOT_EXPORTED) on every Node version; a dynamic `import()` (which TypeScript
 * keeps as is under `module: nodenext`) works in both the compiled build and Vitest.
 */
type ModelClass = new (data?: never) => { validate(): void };

const MODELS: Record<string, () => Promise<ModelClass>> = {
  'v1/Namespace': async () => (await import('kubernetes-models/v1/Namespace')).Namespace,
  'v1/ResourceQuota': async () => (await import('kubernetes-models/v1/ResourceQuota')).ResourceQuota,
  'v1/LimitRange': async () => (await import('kubernetes-models/v1/LimitRange')).LimitRange,
  'v1/Service': async () => (await import('kubernetes-models/v1/Service')).Service,
  'v1/Secret': async () => (await import('kubernetes-models/v1/Secret')).Secret,
  'apps/v1/Deployment': async () => (await import('kubernetes-models/apps/v1/Deployment')).Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': async () =>
    (await import('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler')).HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': async () => (await import('kubernetes-models/networking.k8s.io/v1/Ingress')).Ingress,
  'networking.k8s.io/v1/NetworkPolicy': async () => (await import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy')).NetworkPolicy,
  'rbac.authorization.k8s.io/v1/RoleBinding': async () =>
    (await import('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding')).RoleBinding,
  'cert-manager.io/v1/Certificate': async () =>
    (await import('@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate')).Certificate,
};

const CLUSTER_SCOPED = new Set(['Namespace']);
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** Kinds `validateObject` knows, as `<apiVersion>/<kind>`. */
export const VALIDATED_KINDS = Object.keys(MODELS);

/** Error messages for `obj` (`[]` when valid): schema errors as `<json pointer>: <message>`, then name/label errors. */
export async function validateObject(obj: KubeObject): Promise<string[]> {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const load = MODELS[key];
  if (!load) return [`no schema known for ${key}`];
  const Model = await load();
  const errors: string[] = [];
  try {
    // The model constructor copies the data; `validate` throws a ValidationError listing schema errors.
    new Model(structuredClone(obj) as never).validate();
  } catch (err) {
    errors.push(...schemaErrors(err));
  }
  errors.push(...metadataErrors(obj));
  if (obj.kind === 'Ingress') errors.push(...ingressHostErrors(obj));
  if (obj.kind === 'Deployment') errors.push(...probeErrors(obj));
  return errors;
}

/** The API server refuses liveness and startup probes with a successThreshold other than 1. */
function probeErrors(obj: KubeObject): string[] {
  type Probe = { successThreshold?: unknown };
  const containers = (
    obj.spec as { template?: { spec?: { containers?: Array<{ livenessProbe?: Probe; startupProbe?: Probe }> } } } | undefined
  )?.template?.spec?.containers;
  return (containers ?? []).flatMap((c, i) =>
    (['livenessProbe', 'startupProbe'] as const)
      .filter((probe) => c[probe]?.successThreshold !== undefined && c[probe]?.successThreshold !== 1)
      .map((probe) => `/spec/template/spec/containers/${i}/${probe}/successThreshold: must be 1`),
  );
}

function schemaErrors(err: unknown): string[] {
  const list = (err as { errors?: unknown }).errors;
  if (Array.isArray(list) && list.length > 0) {
    return list.map((e: { instancePath?: string; message?: string }) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
  }
  return [err instanceof Error ? err.message : String(err)];
}

function metadataErrors(obj: KubeObject): string[] {
  const errors: string[] = [];
  const meta = obj.metadata as Partial<KubeObject['metadata']> | undefined;
  const name = meta?.name;
  if (typeof name !== 'string' || name === '') {
    errors.push('/metadata/name: required');
  } else if (
    obj.kind === 'Namespace' ? !isDns1123Label(name) : obj.kind === 'Service' ? !isDns1035Label(name) : !isDns1123Subdomain(name)
  ) {
    const rule = obj.kind === 'Namespace' ? 'a DNS-1123 label' : obj.kind === 'Service' ? 'a DNS-1035 label' : 'a DNS-1123 subdomain';
    errors.push(`/metadata/name: ${JSON.stringify(name)} must be ${rule}`);
  }
  if (CLUSTER_SCOPED.has(obj.kind)) {
    if (meta?.namespace !== undefined) errors.push('/metadata/namespace: must be empty for a cluster-scoped kind');
  } else if (typeof meta?.namespace !== 'string' || !isDns1123Label(meta.namespace)) {
    errors.push(`/metadata/namespace: ${JSON.stringify(meta?.namespace)} must be a DNS-1123 label`);
  }
  for (const [key, value] of Object.entries(meta?.labels ?? {})) {
    if (!isQualifiedName(key)) errors.push(`/metadata/labels: key ${JSON.stringify(key)} is not a qualified name`);
    if (typeof value !== 'string' || value.length > 63 || (value !== '' && !LABEL_NAME.test(value))) {
      errors.push(`/metadata/labels/${key}: ${JSON.stringify(value)} is not a valid label value`);
    }
  }
  let annotationBytes = 0;
  for (const [key, value] of Object.entries(meta?.annotations ?? {})) {
    if (!isQualifiedName(key)) errors.push(`/metadata/annotations: key ${JSON.stringify(key)} is not a qualified name`);
    annotationBytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  }
  if (annotationBytes > MAX_ANNOTATIONS_BYTES) errors.push(`/metadata/annotations: ${annotationBytes} bytes exceed 256 KiB`);
  return errors;
}

/** `[prefix/]name`: prefix a DNS-1123 subdomain, name at most 63 characters of the label-name syntax. */
function isQualifiedName(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  const prefix = parts.length === 2 ? parts[0] : undefined;
  return name.length <= 63 && LABEL_NAME.test(name) && (prefix === undefined || isDns1123Subdomain(prefix));
}

function ingressHostErrors(obj: KubeObject): string[] {
  const spec = obj.spec as { rules?: Array<{ host?: unknown }>; tls?: Array<{ hosts?: unknown[] }> } | undefined;
  const hosts: Array<[string, unknown]> = [
    ...(spec?.rules ?? []).map((r, i): [string, unknown] => [`/spec/rules/${i}/host`, r.host]),
    ...(spec?.tls ?? []).flatMap((t, i) => (t.hosts ?? []).map((h, j): [string, unknown] => [`/spec/tls/${i}/hosts/${j}`, h])),
  ];
  return hosts
    .filter(([, host]) => host !== undefined && !(typeof host === 'string' && isDns1123Subdomain(host.replace(/^\*\./, ''))))
    .map(([path, host]) => `${path}: ${JSON.stringify(host)} must be a DNS-1123 subdomain`);
}
