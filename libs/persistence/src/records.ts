import type { ImageConfiguration } from '@aws-sdk/client-apprunner';
import {
  imageConfigurationSchema,
  parseValidationRecords,
  type ServiceSpec,
  serviceSpecSchema,
  type ValidationRecord,
} from '@apprunner/api-model';
import type * as Row from './generated/client';
import {
  type AutomaticDeployment,
  automaticDeploymentSchema,
  parseColumn,
  type QuotaOverrides,
  quotaOverridesSchema,
  type SecurityGroupRuleView,
  securityGroupRuleSchema,
} from './json-columns';

/**
 * The records repositories return: a table's row with its JSON columns given their shapes. The columns come from
 * prisma/schema.prisma (a column added there is here at once); only a JSON column needs a line below.
 */
type WithJson<R, J> = Omit<R, keyof J> & J;

export type TenantRecord = WithJson<Row.Tenant, { quotaOverrides: QuotaOverrides }>;
export type CredentialRecord = Row.Credential;
export type ServiceRecord = WithJson<
  Row.Service,
  { spec: ServiceSpec; deployedImageConfiguration: ImageConfiguration | null; pendingDeployment: AutomaticDeployment | null }
>;
export type OperationRecord = WithJson<Row.Operation, { rollbackSpec: ServiceSpec | null }>;
export type ConnectionRecord = Row.Connection;
export type AutoScalingConfigurationRecord = Row.AutoScalingConfiguration;
export type ObservabilityConfigurationRecord = Row.ObservabilityConfiguration;
export type VpcConnectorRecord = Row.VpcConnector;
export type VpcIngressConnectionRecord = Row.VpcIngressConnection;
export type CustomDomainRecord = WithJson<Row.CustomDomain, { certificateValidationRecords: ValidationRecord[] }>;
export type BuildRecord = WithJson<Row.Build, { imageConfiguration: ImageConfiguration | null }>;
export type TagRecord = Row.Tag;
export type PlatformSubnetRecord = Row.PlatformSubnet;
export type PlatformSecurityGroupRecord = WithJson<Row.PlatformSecurityGroup, { egress: SecurityGroupRuleView[] }>;
export type PlatformVpcRecord = Row.PlatformVpc;

export function toTenantRecord(row: Row.Tenant): TenantRecord {
  return { ...row, quotaOverrides: parseColumn(quotaOverridesSchema, row.quotaOverrides, `Tenant ${row.id}: quotaOverrides`) };
}

export function toServiceRecord(row: Row.Service): ServiceRecord {
  const at = `Service ${row.id}`;
  return {
    ...row,
    spec: parseColumn(serviceSpecSchema, row.spec, `${at}: spec`),
    deployedImageConfiguration:
      row.deployedImageConfiguration === null
        ? null
        : parseColumn(imageConfigurationSchema, row.deployedImageConfiguration, `${at}: deployedImageConfiguration`),
    pendingDeployment:
      row.pendingDeployment === null ? null : parseColumn(automaticDeploymentSchema, row.pendingDeployment, `${at}: pendingDeployment`),
  };
}

export function toOperationRecord(row: Row.Operation): OperationRecord {
  return {
    ...row,
    rollbackSpec: row.rollbackSpec === null ? null : parseColumn(serviceSpecSchema, row.rollbackSpec, `Operation ${row.id}: rollbackSpec`),
  };
}

/** Its CertificateValidationRecords as stored; what is not shaped like a record is left out. */
export function toCustomDomainRecord(row: Row.CustomDomain): CustomDomainRecord {
  return { ...row, certificateValidationRecords: parseValidationRecords(row.certificateValidationRecords) };
}

export function toBuildRecord(row: Row.Build): BuildRecord {
  return {
    ...row,
    imageConfiguration:
      row.imageConfiguration === null
        ? null
        : parseColumn(imageConfigurationSchema, row.imageConfiguration, `Build ${row.id}: imageConfiguration`),
  };
}

export function toSecurityGroupRecord(row: Row.PlatformSecurityGroup): PlatformSecurityGroupRecord {
  return { ...row, egress: parseColumn(securityGroupRuleSchema.array(), row.egress, `PlatformSecurityGroup ${row.id}: egress`) };
}
