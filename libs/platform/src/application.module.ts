import { Module } from '@nestjs/common';
import { AutoScalingConfigurationService } from '@apprunner/auto-scaling-configuration';
import { AutoDeployService } from '@apprunner/auto-deploy';
import { ConnectionService, GITHUB_APP, githubAppProvider } from '@apprunner/connection';
import { CustomDomainService } from '@apprunner/custom-domain';
import { ObservabilityConfigurationService } from '@apprunner/observability-configuration';
import { OperationService } from '@apprunner/operation';
import { ServiceActions } from '@apprunner/service';
import { TagService } from '@apprunner/tag';
import { CredentialResolver, TENANT_BOOTSTRAP, TenantLock, TenantService } from '@apprunner/tenancy';
import { NetworkRegistryService, VpcConnectorService } from '@apprunner/vpc-connector';
import { VpcIngressConnectionService } from '@apprunner/vpc-ingress-connection';

const APPLICATION_SERVICES = [
  AutoScalingConfigurationService,
  ConnectionService,
  CustomDomainService,
  ObservabilityConfigurationService,
  OperationService,
  ServiceActions,
  TagService,
  VpcConnectorService,
  NetworkRegistryService,
  VpcIngressConnectionService,
  CredentialResolver,
  TenantService,
  TenantLock,
  AutoDeployService,
];

/** The application layer: one service per App Runner noun, plus tenancy. */
@Module({
  providers: [...APPLICATION_SERVICES, githubAppProvider, { provide: TENANT_BOOTSTRAP, useExisting: AutoScalingConfigurationService }],
  exports: [...APPLICATION_SERVICES, GITHUB_APP],
})
export class ApplicationModule {}
