import { Inject, Injectable, Optional } from '@nestjs/common';
import type { ServiceSpec } from '@apprunner/api-model';
import {
  AutoScalingConfigurationRepository,
  CustomDomainRepository,
  ObservabilityConfigurationRepository,
  type OperationRecord,
  NetworkRegistryRepository,
  type ServiceRecord,
  type TenantRecord,
  VpcConnectorRepository,
  VpcIngressConnectionRepository,
} from '@apprunner/persistence';
import { effectiveQuota } from '@apprunner/tenancy';
import {
  type CustomDomainSnapshot,
  OPERATION_BUILDS,
  type OperationBuilds,
  type OperationType,
  type ServiceOperationSnapshot,
  type ServiceSnapshot,
  type SourceOutcome,
  type TenantSnapshot,
  type VpcIngressConnectionSnapshot,
} from './reconciler.contract';

/** Operations whose service runs what it ran before, or nothing: they need no build. */
const NO_BUILD = new Set<OperationType>(['PAUSE_SERVICE', 'RESUME_SERVICE', 'DELETE_SERVICE']);

/**
 * Loads what a reconciler needs, as typed snapshots: the records it reads (through the repositories, which give JSON
 * columns their shapes) and, for deploying operations of code-based services, where the operation's build stands.
 */
@Injectable()
export class ReconcileSnapshots {
  constructor(
    private readonly autoScaling: AutoScalingConfigurationRepository,
    private readonly observability: ObservabilityConfigurationRepository,
    private readonly vpcConnectors: VpcConnectorRepository,
    private readonly networks: NetworkRegistryRepository,
    private readonly customDomains: CustomDomainRepository,
    private readonly vpcIngressConnections: VpcIngressConnectionRepository,
    @Optional() @Inject(OPERATION_BUILDS) private readonly builds: OperationBuilds | null = null,
  ) {}

  async forOperation({
    operation,
    service,
    tenant,
  }: {
    operation: OperationRecord;
    service: ServiceRecord;
    tenant: TenantRecord;
  }): Promise<ServiceOperationSnapshot> {
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
        ...(operation.rollbackSpec ? { rollbackSpec: operation.rollbackSpec } : {}),
      },
      ...(await this.build(operation, service, tenant, snapshot.service.spec, type)),
    };
  }

  async forService(service: ServiceRecord, tenant: TenantRecord): Promise<ServiceSnapshot> {
    const [autoScaling, vpcConnector, traceVendor] = await Promise.all([
      this.autoScaling.findById(service.autoScalingConfigurationId),
      service.vpcConnectorId ? this.vpcConnector(service.vpcConnectorId) : undefined,
      service.observabilityConfigurationId ? this.observability.traceVendor(service.observabilityConfigurationId) : undefined,
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
        spec: service.spec,
        ...(service.deployedImage
          ? {
              deployed: {
                image: service.deployedImage,
                ...(service.deployedImageConfiguration ? { imageConfiguration: service.deployedImageConfiguration } : {}),
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
    const found = await this.customDomains.findWithServiceAndTenant(id);
    if (!found) return undefined;
    const { domain, service, tenant } = found;
    return {
      tenant: { accountId: tenant.accountId },
      service,
      domain: {
        id: domain.id,
        domainName: domain.domainName,
        enableWWWSubdomain: domain.enableWWWSubdomain,
        status: domain.status,
        certificateValidationRecords: domain.certificateValidationRecords,
      },
    };
  }

  /** undefined when the record is gone. */
  async vpcIngressConnection(id: string): Promise<VpcIngressConnectionSnapshot | undefined> {
    const found = await this.vpcIngressConnections.findWithServiceAndTenant(id);
    if (!found) return undefined;
    const { connection: vic, service, tenant } = found;
    const network = await this.networks.findVpc(vic.vpcId);
    return {
      tenant: { accountId: tenant.accountId },
      service,
      connection: { id: vic.id, status: vic.status, domainName: vic.domainName, vpcId: vic.vpcId },
      ...(network ? { network: { ingressClassName: network.ingressClassName } } : {}),
    };
  }

  private async vpcConnector(id: string): Promise<ServiceSnapshot['vpcConnector']> {
    const connector = await this.vpcConnectors.findById(id);
    const [subnets, groups] = await Promise.all([
      this.networks.findSubnets(connector.subnets),
      this.networks.findSecurityGroups(connector.securityGroups),
    ]);
    return {
      name: connector.name,
      subnets: connector.subnets,
      securityGroups: connector.securityGroups,
      registeredSubnets: subnets.map((s) => ({ id: s.id, cidrs: s.cidrs })),
      registeredSecurityGroups: groups.map((g) => ({ id: g.id, egress: g.egress })),
    };
  }

  /** The build of a deploying operation of a code-based service (started here when it has not been). */
  private async build(
    operation: OperationRecord,
    service: ServiceRecord,
    tenant: TenantRecord,
    spec: ServiceSpec,
    type: OperationType,
  ): Promise<{ build?: SourceOutcome }> {
    if (!spec.SourceConfiguration?.CodeRepository || NO_BUILD.has(type) || !this.builds) return {};
    return { build: await this.builds.forOperation(operation, service, tenant) };
  }
}

function tenantSnapshot(tenant: TenantRecord): TenantSnapshot {
  return {
    id: tenant.id,
    accountId: tenant.accountId,
    name: tenant.name,
    quotas: { Services: effectiveQuota(tenant.quotaOverrides, 'Services') },
  };
}
