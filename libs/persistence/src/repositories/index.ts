import { AuditRepository } from './audit.repository';
import { AutoScalingConfigurationRepository } from './auto-scaling-configuration.repository';
import { AutomaticDeploymentRepository } from './automatic-deployment.repository';
import { BuildRepository } from './build.repository';
import { ConnectionRepository } from './connection.repository';
import { CredentialRepository } from './credential.repository';
import { CustomDomainRepository } from './custom-domain.repository';
import { NetworkRegistryRepository } from './network-registry.repository';
import { ObservabilityConfigurationRepository } from './observability-configuration.repository';
import { OperationRepository } from './operation.repository';
import { ServiceRepository } from './service.repository';
import { TagRepository } from './tag.repository';
import { TenantRepository } from './tenant.repository';
import { VpcConnectorRepository } from './vpc-connector.repository';
import { VpcIngressConnectionRepository } from './vpc-ingress-connection.repository';

export * from './audit.repository';
export * from './auto-scaling-configuration.repository';
export * from './automatic-deployment.repository';
export * from './build.repository';
export * from './connection.repository';
export * from './credential.repository';
export * from './custom-domain.repository';
export * from './network-registry.repository';
export * from './observability-configuration.repository';
export * from './operation.repository';
export * from './service.repository';
export * from './tag.repository';
export * from './tenant.repository';
export * from './vpc-connector.repository';
export * from './vpc-ingress-connection.repository';

/** One repository per noun: the only code that reads and writes the tables. */
export const REPOSITORIES = [
  AuditRepository,
  AutoScalingConfigurationRepository,
  AutomaticDeploymentRepository,
  BuildRepository,
  ConnectionRepository,
  CredentialRepository,
  CustomDomainRepository,
  NetworkRegistryRepository,
  ObservabilityConfigurationRepository,
  OperationRepository,
  ServiceRepository,
  TagRepository,
  TenantRepository,
  VpcConnectorRepository,
  VpcIngressConnectionRepository,
];
