import type { ServiceInput } from './types';

export const LABELS = {
  tenant: 'apprunner.k8s/account-id',
  service: 'apprunner.k8s/service-id',
  /** Label-safe form of the service name (trailing `-`/`_` trimmed); the exact name is an annotation. */
  serviceName: 'apprunner.k8s/service-name',
  managedBy: 'app.kubernetes.io/managed-by',
  /** Pod Security Admission, on tenant namespaces. */
  podSecurityEnforce: 'pod-security.kubernetes.io/enforce',
  /** Set by Kubernetes on every namespace; NetworkPolicies select the ingress controller with it. */
  namespaceName: 'kubernetes.io/metadata.name',
} as const;

export const ANNOTATIONS = {
  arn: 'apprunner.k8s/arn',
  operation: 'apprunner.k8s/operation-id',
  generation: 'apprunner.k8s/generation',
  serviceName: 'apprunner.k8s/service-name',
  tenantName: 'apprunner.k8s/tenant-name',
  /** On the pod template: changes (and only changes) when the Secret's values change. */
  secretHash: 'apprunner.k8s/secret-hash',
  autoScalingArn: 'apprunner.k8s/auto-scaling-configuration-arn',
  /** App Runner's MaxConcurrency, kept for the concurrency-based scaler that will replace the CPU target. */
  maxConcurrency: 'apprunner.k8s/max-concurrency',
} as const;

/**
 * Label values: at most 63 characters of `[A-Za-z0-9_.-]`, starting and ending alphanumeric.
 * App Runner service names (`[A-Za-z0-9][A-Za-z0-9-_]{3,39}`) only break the last rule.
 */
export function toLabelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
}

export function tenantLabels(fieldManager: string, accountId: string): Record<string, string> {
  return { [LABELS.managedBy]: fieldManager, [LABELS.tenant]: accountId };
}

/** Labels of every object of one service. */
export function serviceLabels(fieldManager: string, input: ServiceInput): Record<string, string> {
  const labels: Record<string, string> = {
    ...tenantLabels(fieldManager, input.tenant.accountId),
    [LABELS.service]: input.service.serviceId,
  };
  const name = toLabelValue(input.service.serviceName);
  if (name) labels[LABELS.serviceName] = name;
  return labels;
}

/** Pod selector of a service's pods. Immutable on a Deployment, so it must never change. */
export function serviceSelector(input: ServiceInput): Record<string, string> {
  return { [LABELS.service]: input.service.serviceId };
}

/**
 * Object-level annotations of every service object: where it came from and which record version.
 * Never copied into the pod template, so a new operation id or generation alone rolls nothing.
 */
export function serviceAnnotations(input: ServiceInput): Record<string, string> {
  return {
    [ANNOTATIONS.arn]: input.service.arn,
    [ANNOTATIONS.serviceName]: input.service.serviceName,
    [ANNOTATIONS.generation]: String(input.service.generation),
    ...(input.operationId ? { [ANNOTATIONS.operation]: input.operationId } : {}),
  };
}
