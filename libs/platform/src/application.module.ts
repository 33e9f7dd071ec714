import { Module } from '@nestjs/common';
import { AutoScalingConfigurationService } from '@apprunner/auto-scaling-configuration';
import { ConnectionService } from '@apprunner/connection';
import { CustomDomainService } from '@apprunner/custom-domain';
import { ObservabilityConfigurationService } from '@apprunner/observability-configuration';
import { OperationService } from '@apprunner/operation';
import { ServiceService } from '@apprunner/service';
import { TagService } from '@apprunner/tag';
import { CredentialResolver, TENANT_BOOTSTRAP, TenantService } from '@apprunner/tenancy';
import { NetworkRegistryService, VpcConnectorService } from '@apprunner/vpc-connector';
import { VpcIngressConnectionService } from '@apprunner/vpc-ingress-connection';

const ROOMS = [
  AutoScalingConfigurationService,
  ConnectionService,
  CustomDomainService,
  ObservabilityConfigurationService,
  OperationService,
  ServiceService,
  TagService,
  VpcConnectorService,
  NetworkRegistryService,
  VpcIngressConnectionService,
  CredentialResolver,
  TenantService,
];

/** The application layer: one service per App Runner noun, plus tenancy. */
@Module({
  providers: [...ROOMS, { provide: TENANT_BOOTSTRAP, useExisting: AutoScalingConfigurationService }],
  exports: ROOMS,
})
export class ApplicationModule {}
