import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import type { CertificateIssuer, KubePlatformSettings } from '../manifests';

export function platformSettings(config: PlatformConfig): KubePlatformSettings {
  return {
    namespacePrefix: config.KUBE_NAMESPACE_PREFIX,
    ingressClassName: config.KUBE_INGRESS_CLASS,
    ingressControllerNamespace: config.KUBE_INGRESS_NAMESPACE,
    fieldManager: config.KUBE_FIELD_MANAGER,
    ...(config.KUBE_TENANT_ROLE ? { tenantRole: config.KUBE_TENANT_ROLE } : {}),
    progressDeadlineSeconds: config.KUBE_PROGRESS_DEADLINE_SECONDS,
    ...(config.KUBE_EGRESS_DENIED_CIDRS ? { egressDeniedCidrs: config.KUBE_EGRESS_DENIED_CIDRS.split(',') } : {}),
    ...(config.KUBE_PRIVATE_INGRESS_CLASS ? { privateIngressClassName: config.KUBE_PRIVATE_INGRESS_CLASS } : {}),
    ...(config.KUBE_PRIVATE_INGRESS_NAMESPACE ? { privateIngressControllerNamespace: config.KUBE_PRIVATE_INGRESS_NAMESPACE } : {}),
    ...(config.KUBE_PAUSED_BACKEND ? { pausedBackend: parseBackend(config.KUBE_PAUSED_BACKEND) } : {}),
    ...(config.KUBE_CONCURRENCY_METRIC ? { concurrencyMetric: config.KUBE_CONCURRENCY_METRIC } : {}),
    ...(config.KUBE_OTLP_ENDPOINT && config.KUBE_OTLP_NAMESPACE
      ? { tracing: { otlpEndpoint: config.KUBE_OTLP_ENDPOINT, collectorNamespace: config.KUBE_OTLP_NAMESPACE } }
      : {}),
  };
}

function parseBackend(value: string): { serviceName: string; namespace: string; port: number } {
  const [host, port] = value.split(':');
  const [serviceName, namespace] = host.split('.');
  return { serviceName, namespace, port: Number(port) };
}

/** What the worker's reconcilers share: the platform's settings, and how soon to look again at a change in progress. */
@Injectable()
export class ReconcilerSettings {
  readonly platform: KubePlatformSettings;
  /** cert-manager issuer of custom domains' certificates. */
  readonly issuer: CertificateIssuer;
  /** Key of the secret-values fingerprint in pod templates (derived from MASTER_KEY, never the key itself). */
  readonly secretHashKey: Buffer;
  /** How soon to look again at a rollout, a certificate or a build in progress. */
  pollMs = 1_000;

  constructor(@Inject(PLATFORM_CONFIG) config: PlatformConfig) {
    this.platform = platformSettings(config);
    this.issuer = { name: config.KUBE_CERT_ISSUER, kind: config.KUBE_CERT_ISSUER_KIND };
    this.secretHashKey = createHash('sha256').update(`apprunner-k8s secret fingerprint\0${config.MASTER_KEY}`).digest();
  }
}
