import { Database } from './database';
import { PrismaService } from './prisma.service';
import { REPOSITORIES } from './repositories';

// Prisma stays inside this library: what leaves it is repositories, records and transactions (npm run lint keeps it
// so). Tests reach the client through ./prisma.service directly.
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
