import { Database } from './database';
import { PrismaService } from './prisma.service';
import { REPOSITORIES } from './repositories';

export { Database, Transaction } from './database';
export { UniqueConstraintError } from './errors';
export {
  type AutomaticDeployment,
  automaticDeploymentSchema,
  type QuotaOverrides,
  quotaOverridesSchema,
  type SecurityGroupRuleView,
  securityGroupRuleSchema,
} from './json-columns';
export type { CreatedCursor, Page, RevisionCursor, RevisionLookup } from './paging';
export type {
  AutoScalingConfigurationRecord,
  BuildRecord,
  ConnectionRecord,
  CredentialRecord,
  CustomDomainRecord,
  ObservabilityConfigurationRecord,
  OperationRecord,
  PlatformSecurityGroupRecord,
  PlatformSubnetRecord,
  PlatformVpcRecord,
  ServiceRecord,
  TagRecord,
  TenantRecord,
  VpcConnectorRecord,
  VpcIngressConnectionRecord,
} from './records';
export * from './repositories';

/** The providers of the persistence layer: the pool, transactions, the repositories. */
export const PERSISTENCE_PROVIDERS = [PrismaService, Database, ...REPOSITORIES];

export { PrismaService, createPrismaClient } from './prisma.service';
export { Prisma, type PrismaClient } from './generated/client';
export type {
  AuditRecord,
  AutoScalingConfiguration,
  Build,
  BuildLogChunk,
  Connection,
  Credential,
  CustomDomain,
  ObservabilityConfiguration,
  Operation,
  Service,
  Tag,
  Tenant,
  VpcConnector,
  VpcIngressConnection,
  WebhookDelivery,
  ImageWatch,
} from './generated/client';
