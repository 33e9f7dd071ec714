import { createHash } from 'node:crypto';
import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { ANNOTATIONS, LABELS, tenantLabels } from './labels';
import { namespaceName, serviceObjectName } from './names';
import { toKubeObject } from './object';
import { SERVICE_PORT } from './service';
import { resolveSettings, type KubePlatformSettings } from './settings';
import type { KubeObject } from './types';

/** The cert-manager issuer that signs custom domains' certificates (ACME HTTP-01 or DNS-01, set up by the platform). */
export interface CertificateIssuer {
  name: string;
  kind: 'ClusterIssuer' | 'Issuer';
}

export interface CustomDomainInput {
  tenant: { accountId: string };
  service: { serviceId: string; arn: string };
  /** Lower case, no trailing dot; `*.example.com` for a wildcard. */
  domainName: string;
  enableWWWSubdomain: boolean;
}

export const CUSTOM_DOMAIN_LABEL = 'apprunner.k8s/custom-domain';
export const DOMAIN_ANNOTATION = 'apprunner.k8s/domain-name';

/** `svc-<service id>-d-<hash>`: one name per (service, domain), stable, a valid DNS label whatever the domain. */
export function customDomainObjectName(serviceId: string, domainName: string): string {
  return `${serviceObjectName(serviceId)}-d-${domainHash(domainName)}`;
}

function domainHash(domainName: string): string {
  return createHash('sha256').update(domainName).digest('hex').slice(0, 12);
}

/** The hosts a custom domain serves: the domain, and `www.` + it when EnableWWWSubdomain. */
export function customDomainHosts(input: Pick<CustomDomainInput, 'domainName' | 'enableWWWSubdomain'>): string[] {
  return input.enableWWWSubdomain && !input.domainName.startsWith('*.')
    ? [input.domainName, `www.${input.domainName}`]
    : [input.domainName];
}

/**
 * A custom domain is a cert-manager Certificate for its hosts and an Ingress routing them, over TLS with that
 * certificate, to the service (both in the tenant's namespace; the reconciler makes the service's Deployment their
 * owner). Each domain has objects of its own, so disassociating one never touches another.
 */
export function buildCustomDomainObjects(
  settings: KubePlatformSettings,
  input: CustomDomainInput,
  issuer: CertificateIssuer,
): KubeObject[] {
  const s = resolveSettings(settings);
  const name = customDomainObjectName(input.service.serviceId, input.domainName);
  const hosts = customDomainHosts(input);
  const metadata = {
    name,
    namespace: namespaceName(s, input.tenant.accountId),
    labels: {
      ...tenantLabels(s.fieldManager, input.tenant.accountId),
      [LABELS.service]: input.service.serviceId,
      [CUSTOM_DOMAIN_LABEL]: domainHash(input.domainName),
    },
    annotations: { [ANNOTATIONS.arn]: input.service.arn, [DOMAIN_ANNOTATION]: input.domainName },
  };
  const secretName = `${name}-tls`;
  const certificate: ICertificate = {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata,
    spec: {
      secretName,
      dnsNames: hosts,
      issuerRef: { group: 'cert-manager.io', kind: issuer.kind, name: issuer.name },
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
    },
  };
  const backend = { service: { name: serviceObjectName(input.service.serviceId), port: { number: SERVICE_PORT } } };
  const ingress: IIngress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { ...metadata, annotations: { ...s.ingressAnnotations, ...metadata.annotations } },
    spec: {
      ingressClassName: s.ingressClassName,
      tls: [{ hosts, secretName }],
      rules: hosts.map((host) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix' as const, backend }] } })),
    },
  };
  return [toKubeObject(certificate), toKubeObject(ingress)];
}

export interface VpcIngressInput {
  tenant: { accountId: string };
  service: { serviceId: string; arn: string };
  /** The connection's own id (uuid) and the DomainName App Runner gives it. */
  connectionId: string;
  domainName: string;
  ingressClassName: string;
}

/**
 * A VPC ingress connection: the private endpoint of a service, an Ingress of the private network's IngressClass for
 * the connection's DomainName (`svc-<service id>-vic-<hash>`), routed to the service. The reconciler makes the
 * service's Deployment its owner.
 */
export function buildVpcIngressObjects(settings: KubePlatformSettings, input: VpcIngressInput): KubeObject[] {
  const s = resolveSettings(settings);
  const name = `${serviceObjectName(input.service.serviceId)}-vic-${domainHash(input.connectionId)}`;
  const ingress: IIngress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: namespaceName(s, input.tenant.accountId),
      labels: { ...tenantLabels(s.fieldManager, input.tenant.accountId), [LABELS.service]: input.service.serviceId },
      annotations: { [ANNOTATIONS.arn]: input.service.arn, [DOMAIN_ANNOTATION]: input.domainName },
    },
    spec: {
      ingressClassName: input.ingressClassName,
      rules: [
        {
          host: input.domainName,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: serviceObjectName(input.service.serviceId), port: { number: SERVICE_PORT } } },
              },
            ],
          },
        },
      ],
    },
  };
  return [toKubeObject(ingress)];
}
