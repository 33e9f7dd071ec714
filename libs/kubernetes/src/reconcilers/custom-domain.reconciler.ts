import { Inject, Injectable } from '@nestjs/common';
import type { CustomDomainReconcilerPort, CustomDomainSnapshot, ReconcileOutcome } from '@apprunner/operation';
import { KUBE_CLIENT, KubeClient, KubePermanentError, type LiveObject } from '../kube-client';
import { buildCustomDomainObjects, namespaceName } from '../manifests';
import { type CertificateChain, certificateValidationRecords, customDomainState } from '../rollout';
import { ReconcilerSettings } from './reconciler-settings';
import { ownedBy, ServiceObjects } from './service-objects';

/**
 * A custom domain: a cert-manager Certificate, then (once it is issued) an Ingress for its hosts with that certificate,
 * both owned by the service's Deployment. Its status follows the whole cert-manager chain (Certificate →
 * CertificateRequest → Order → Challenges, see customDomainState): CREATING, PENDING_CERTIFICATE_DNS_VALIDATION while
 * challenges wait (the records the tenant must create come back as CertificateValidationRecords), BINDING_CERTIFICATE
 * until the ingress controller serves the hosts, ACTIVE; CREATE_FAILED when a challenge, the order, the request or
 * the issuance fails. DELETING removes its objects only; a permanent refusal (403, 422) is DELETE_FAILED.
 */
@Injectable()
export class CustomDomainReconciler implements CustomDomainReconcilerPort {
  constructor(
    @Inject(KUBE_CLIENT) private readonly kube: KubeClient,
    private readonly settings: ReconcilerSettings,
    private readonly services: ServiceObjects,
  ) {}

  async reconcile({ tenant, service, domain }: CustomDomainSnapshot): Promise<ReconcileOutcome> {
    try {
      const namespace = namespaceName(this.settings.platform, tenant.accountId);
      const [certificateSpec, ingressSpec] = buildCustomDomainObjects(
        this.settings.platform,
        {
          tenant: { accountId: tenant.accountId },
          service: { serviceId: service.serviceId, arn: service.arn },
          domainName: domain.domainName,
          enableWWWSubdomain: domain.enableWWWSubdomain,
        },
        this.settings.issuer,
      ) as LiveObject[];
      const tlsSecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${certificateSpec.metadata.name}-tls`, namespace } };
      if (domain.status === 'DELETING') {
        for (const o of [ingressSpec, certificateSpec, tlsSecret]) await this.kube.delete(o);
        return { status: 'SUCCEEDED' };
      }
      const deployment = await this.services.deployment(service.serviceId, tenant.accountId);
      if (!deployment?.metadata.uid)
        return {
          status: 'IN_PROGRESS',
          retryAfterMs: this.settings.pollMs,
          progress: 'CREATING',
          message: 'Waiting for the service to be deployed.',
        };
      const certificate = await this.kube.apply(ownedBy(deployment, certificateSpec));
      const chain: CertificateChain = { certificate };
      if (customDomainState(chain).status !== 'BINDING_CERTIFICATE') {
        // Not issued: read what cert-manager made for it. Requests and orders carry the Certificate's labels;
        // challenges carry none (the namespace's are listed, ownership decides).
        const selector = Object.entries(certificateSpec.metadata.labels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        chain.certificateRequests = await this.kube.list('cert-manager.io/v1', 'CertificateRequest', namespace, selector);
        chain.orders = await this.kube.list('acme.cert-manager.io/v1', 'Order', namespace, selector);
        chain.challenges = await this.kube.list('acme.cert-manager.io/v1', 'Challenge', namespace, '');
      }
      let state = customDomainState(chain);
      if (state.status === 'BINDING_CERTIFICATE') state = customDomainState(chain, await this.kube.apply(ownedBy(deployment, ingressSpec)));
      if (state.status === 'ACTIVE') return { status: 'SUCCEEDED' };
      if (state.status === 'CREATE_FAILED') return { status: 'FAILED', reason: state.reason };
      const validationRecords = certificateValidationRecords(domain.certificateValidationRecords, chain);
      return {
        status: 'IN_PROGRESS',
        retryAfterMs: this.settings.pollMs,
        progress: state.status,
        message: state.message,
        validationRecords,
      };
    } catch (e) {
      if (e instanceof KubePermanentError) {
        const what = domain.status === 'DELETING' ? "refused to remove the custom domain's objects" : 'refused the custom domain';
        return { status: 'FAILED', reason: `The cluster ${what}: ${e.message}` };
      }
      throw e;
    }
  }
}
