import { Inject, Injectable } from '@nestjs/common';
import type { ReconcileOutcome, VpcIngressConnectionReconcilerPort, VpcIngressConnectionSnapshot } from '@apprunner/operation';
import { KUBE_CLIENT, KubeClient, KubePermanentError, type LiveObject } from '../kube-client';
import { buildVpcIngressObjects } from '../manifests';
import { ReconcilerSettings } from './reconciler-settings';
import { ownedBy, ServiceObjects } from './service-objects';

/**
 * A VPC ingress connection is the service's private endpoint: an Ingress for the connection's DomainName on the
 * IngressClass of the private network its VpcId names (registered by the platform admin), owned by the Deployment.
 * PENDING_DELETION removes it.
 */
@Injectable()
export class VpcIngressConnectionReconciler implements VpcIngressConnectionReconcilerPort {
  constructor(
    @Inject(KUBE_CLIENT) private readonly kube: KubeClient,
    private readonly settings: ReconcilerSettings,
    private readonly services: ServiceObjects,
  ) {}

  async reconcile({ tenant, service, connection, network }: VpcIngressConnectionSnapshot): Promise<ReconcileOutcome> {
    try {
      const [ingressSpec] = buildVpcIngressObjects(this.settings.platform, {
        tenant: { accountId: tenant.accountId },
        service: { serviceId: service.serviceId, arn: service.arn },
        connectionId: connection.id,
        domainName: connection.domainName,
        ingressClassName: network?.ingressClassName ?? 'unregistered',
      }) as LiveObject[];
      if (connection.status === 'PENDING_DELETION') {
        await this.kube.delete(ingressSpec);
        return { status: 'SUCCEEDED' };
      }
      if (!network)
        return { status: 'FAILED', reason: `VPC ${connection.vpcId} is not a private network registered by the platform administrator.` };
      const deployment = await this.services.deployment(service.serviceId, tenant.accountId);
      if (!deployment?.metadata.uid)
        return { status: 'IN_PROGRESS', retryAfterMs: this.settings.pollMs, message: 'Waiting for the service to be deployed.' };
      await this.kube.apply(ownedBy(deployment, ingressSpec));
      return { status: 'SUCCEEDED' };
    } catch (e) {
      if (e instanceof KubePermanentError)
        return { status: 'FAILED', reason: `The cluster refused the VPC ingress connection: ${e.message}` };
      throw e;
    }
  }
}
