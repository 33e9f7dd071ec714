import { Inject, Injectable, Optional } from '@nestjs/common';
import type { ImageConfiguration } from '@aws-sdk/client-apprunner';
import type { ServiceSpec } from '@apprunner/api-model';
import { type Operation, PrismaService, type Service, type Tenant } from '@apprunner/persistence';
import type { SecurityGroupRuleView } from '@apprunner/vpc-connector';
import { effectiveQuota } from '@apprunner/tenancy';
import {
  type CustomDomainSnapshot,
  OPERATION_BUILDS,
  type OperationBuilds,
  type OperationType,
  parseValidationRecords,
  type ServiceOperationSnapshot,
  type ServiceSnapshot,
  type SourceOutcome,
  type TenantSnapshot,
  type VpcIngressConnectionSnapshot,
} from './reconciler.contract';

/** Operations whose service runs what it ran before, or nothing: they need no build. */
const NO_BUILD = new Set<OperationType>(['PAUSE_SERVICE', 'RESUME_SERVICE', 'DELETE_SERVICE']);

/**
 * Loads what a reconciler needs, as typed snapshots: the records of the database (JSON columns given their shapes here,
 * the one place they are read for the worker) and, for deploying operations of code-based services, where the
 * operation's build stands.
 */
@Injectable()
export class ReconcileSnapshots {
  constructor(
    private readonly prisma: PrismaService,
    @Optional() @Inject(OPERATION_BUILDS) private readonly builds: OperationBuilds | null = null,
  ) {}

  async forOperation(op: Operation & { service: Service; tenant: Tenant }): Promise<ServiceOperationSnapshot> {
    const { service, tenant, ...operation } = op;
    const type = operation.type as OperationType;
    const snapshot = await this.forService(service, tenant);
    return {
      ...snapshot,
      operation: {
        id: operation.id,
        type,
        fromStatus: operation.fromStatus,
        generation: operation.generation,
        ...(operation.image ? { image: operation.image } : {}),
        ...(operation.rollbackSpec ? { rollbackSpec: operation.rollbackSpec as unknown as ServiceSpec } : {}),
      },
      ...(await this.build(operation, service, tenant, snapshot.service.spec, type)),
    };
  }

  async forService(service: Service, tenant: Tenant): Promise<ServiceSnapshot> {
    const [autoScaling, vpcConnector, traceVendor] = await Promise.all([
      this.prisma.client.autoScalingConfiguration.findUniqueOrThrow({ where: { id: service.autoScalingConfigurationId } }),
      service.vpcConnectorId ? this.vpcConnector(service.vpcConnectorId) : undefined,
      service.observabilityConfigurationId
        ? this.prisma.client.observabilityConfiguration
            .findUnique({ where: { id: service.observabilityConfigurationId }, select: { traceVendor: true } })
            .then((c) => c?.traceVendor ?? undefined)
        : undefined,
    ]);
    return {
      tenant: tenantSnapshot(tenant),
      service: {
        id: service.id,
        serviceId: service.serviceId,
        serviceName: service.serviceName,
        arn: service.arn,
        urlHost: service.urlHost,
        generation: service.generation,
        status: service.status,
        spec: service.spec as unknown as ServiceSpec,
        ...(service.deployedImage
          ? {
              deployed: {
                image: service.deployedImage,
                ...(service.deployedImageConfiguration
                  ? { imageConfiguration: service.deployedImageConfiguration as ImageConfiguration }
                  : {}),
                ...(service.deployedCommit ? { commit: service.deployedCommit } : {}),
              },
            }
          : {}),
      },
      autoScaling: {
        arn: autoScaling.arn,
        minSize: autoScaling.minSize,
        maxSize: autoScaling.maxSize,
        maxConcurrency: autoScaling.maxConcurrency,
      },
      ...(vpcConnector ? { vpcConnector } : {}),
      ...(traceVendor ? { traceVendor } : {}),
    };
  }

  /** undefined when the record is gone. */
  async customDomain(id: string): Promise<CustomDomainSnapshot | undefined> {
    const cd = await this.prisma.client.customDomain.findUnique({ where: { id }, include: { service: true, tenant: true } });
    if (!cd) return undefined;
    return {
      tenant: { accountId: cd.tenant.accountId },
      service: { serviceId: cd.service.serviceId, arn: cd.service.arn },
      domain: {
        id: cd.id,
        domainName: cd.domainName,
        enableWWWSubdomain: cd.enableWWWSubdomain,
        status: cd.status,
        certificateValidationRecords: parseValidationRecords(cd.certificateValidationRecords),
      },
    };
  }

  /** undefined when the record is gone. */
  async vpcIngressConnection(id: string): Promise<VpcIngressConnectionSnapshot | undefined> {
    const vic = await this.prisma.client.vpcIngressConnection.findUnique({ where: { id }, include: { service: true, tenant: true } });
    if (!vic) return undefined;
    const network = await this.prisma.client.platformVpc.findUnique({ where: { id: vic.vpcId } });
    return {
      tenant: { accountId: vic.tenant.accountId },
      service: { serviceId: vic.service.serviceId, arn: vic.service.arn },
      connection: { id: vic.id, status: vic.status, domainName: vic.domainName, vpcId: vic.vpcId },
      ...(network ? { network: { ingressClassName: network.ingressClassName } } : {}),
    };
  }

  private async vpcConnector(id: string): Promise<ServiceSnapshot['vpcConnector']> {
    const connector = await this.prisma.client.vpcConnector.findUniqueOrThrow({ where: { id } });
    const [subnets, groups] = await Promise.all([
      this.prisma.client.platformSubnet.findMany({ where: { id: { in: connector.subnets } } }),
      this.prisma.client.platformSecurityGroup.findMany({ where: { id: { in: connector.securityGroups } } }),
    ]);
    return {
      name: connector.name,
      subnets: connector.subnets,
      securityGroups: connector.securityGroups,
      registeredSubnets: subnets.map((s) => ({ id: s.id, cidrs: s.cidrs })),
      registeredSecurityGroups: groups.map((g) => ({ id: g.id, egress: g.egress as unknown as SecurityGroupRuleView[] })),
    };
  }

  /** The build of a deploying operation of a code-based service (started here when it has not been). */
  private async build(
    operation: Operation,
    service: Service,
    tenant: Tenant,
    spec: ServiceSpec,
    type: OperationType,
  ): Promise<{ build?: SourceOutcome }> {
    if (!spec.SourceConfiguration?.CodeRepository || NO_BUILD.has(type) || !this.builds) return {};
    return { build: await this.builds.forOperation(operation, service, tenant) };
  }
}

function tenantSnapshot(tenant: Tenant): TenantSnapshot {
  return {
    id: tenant.id,
    accountId: tenant.accountId,
    name: tenant.name,
    quotas: { Services: effectiveQuota(tenant.quotaOverrides, 'Services') },
  };
}
