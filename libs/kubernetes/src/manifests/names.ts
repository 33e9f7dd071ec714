import type { KubePlatformSettings } from './settings';

/** RFC 1123 label: namespaces, most object names' segments, label-name segments. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1035 label: Service names (must start with a letter). */
export const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

export function isDns1035Label(value: string): boolean {
  return value.length <= 63 && DNS1035_LABEL.test(value);
}

/** RFC 1123 subdomain: names of Deployments, Secrets, Ingresses...; Ingress hosts. */
export function isDns1123Subdomain(value: string): boolean {
  return value.length > 0 && value.length <= 253 && value.split('.').every((part) => DNS1123_LABEL.test(part));
}

/** The tenant's namespace, `<namespacePrefix><accountId>`. Throws when that is not a DNS-1123 label. */
export function namespaceName(settings: Pick<KubePlatformSettings, 'namespacePrefix'>, accountId: string): string {
  const name = `${settings.namespacePrefix}${accountId}`;
  if (!isDns1123Label(name)) throw new Error(`Namespace name ${JSON.stringify(name)} is not a valid DNS-1123 label.`);
  return name;
}

/**
 * Name of the service's Deployment, Service, HPA, Ingress and NetworkPolicy: `svc-<serviceId>`
 * (36 characters for App Runner's 32-hex ids). It is a DNS-1035 label, so it is valid for every kind.
 * The service name is not used: it may contain `_` and upper case, and ids never collide.
 */
export function serviceObjectName(serviceId: string): string {
  const name = `svc-${serviceId}`;
  if (!isDns1035Label(name)) throw new Error(`Service id ${JSON.stringify(serviceId)} does not give a valid object name.`);
  return name;
}

/** The per-service Secret holding `RuntimeEnvironmentSecrets` values. */
export function serviceSecretName(serviceId: string): string {
  return `${serviceObjectName(serviceId)}-env`;
}

/** ExternalName Service a paused service's Ingress points to (exists only while paused). */
export function pausedServiceName(serviceId: string): string {
  return `${serviceObjectName(serviceId)}-paused`;
}

/** Fixed names of the tenant-level objects inside a tenant namespace. */
export const TENANT_OBJECT_NAMES = {
  workerRoleBinding: 'apprunner-worker',
  resourceQuota: 'apprunner-quota',
  limitRange: 'apprunner-limits',
  denyIngress: 'apprunner-default-deny-ingress',
  allowIngressController: 'apprunner-allow-ingress-controller',
} as const;
