import type {
  AuthenticationConfiguration,
  CodeConfiguration,
  CodeConfigurationValues,
  CodeRepository,
  EgressConfiguration,
  EncryptionConfiguration,
  HealthCheckConfiguration,
  ImageConfiguration,
  ImageRepository,
  IngressConfiguration,
  InstanceConfiguration,
  NetworkConfiguration,
  ServiceObservabilityConfiguration,
  SourceCodeVersion,
  SourceConfiguration,
} from '@aws-sdk/client-apprunner';
import { z } from 'zod';
import { getShape } from './model';
import type { ServiceSpec } from './service-spec';

/**
 * App Runner's shapes as the records keep them in JSON columns, as zod schemas: persistence parses a column with
 * these when it reads it, so what comes out of a repository is typed by a check, not by a cast. Each object schema
 * lists exactly the members of the SDK's type (a member the SDK adds fails to compile here until it is listed), and
 * each enum takes the values of App Runner's model, the one input validation checks against.
 */

/** z.object over exactly the members of T. */
function members<T>() {
  return <S extends { [K in keyof T]-?: z.ZodType }>(shape: S & Record<Exclude<keyof S, keyof T>, never>) => z.object(shape);
}

/** A string of one of the values App Runner's model lists for the enum shape `shape`. */
function modelEnum<T extends string>(shape: string) {
  const model = getShape(shape);
  const values: readonly string[] = model.type === 'string' ? (model.enum ?? []) : [];
  return z.custom<T>((v) => typeof v === 'string' && values.includes(v), { message: `expected one of ${values.join(', ')}` });
}

const text = z.string();
const env = z.record(z.string(), z.string());

export const imageConfigurationSchema: z.ZodType<ImageConfiguration> = members<ImageConfiguration>()({
  RuntimeEnvironmentVariables: env.optional(),
  StartCommand: text.optional(),
  Port: text.optional(),
  RuntimeEnvironmentSecrets: env.optional(),
});

const codeConfigurationValues: z.ZodType<CodeConfigurationValues> = members<CodeConfigurationValues>()({
  Runtime: modelEnum<NonNullable<CodeConfigurationValues['Runtime']>>('Runtime'),
  BuildCommand: text.optional(),
  StartCommand: text.optional(),
  Port: text.optional(),
  RuntimeEnvironmentVariables: env.optional(),
  RuntimeEnvironmentSecrets: env.optional(),
});

const codeConfiguration: z.ZodType<CodeConfiguration> = members<CodeConfiguration>()({
  ConfigurationSource: modelEnum<NonNullable<CodeConfiguration['ConfigurationSource']>>('ConfigurationSource'),
  CodeConfigurationValues: codeConfigurationValues.optional(),
});

const sourceCodeVersion: z.ZodType<SourceCodeVersion> = members<SourceCodeVersion>()({
  Type: modelEnum<NonNullable<SourceCodeVersion['Type']>>('SourceCodeVersionType'),
  Value: text,
});

const codeRepository: z.ZodType<CodeRepository> = members<CodeRepository>()({
  RepositoryUrl: text,
  SourceCodeVersion: sourceCodeVersion,
  CodeConfiguration: codeConfiguration.optional(),
  SourceDirectory: text.optional(),
});

const imageRepository: z.ZodType<ImageRepository> = members<ImageRepository>()({
  ImageIdentifier: text,
  ImageConfiguration: imageConfigurationSchema.optional(),
  ImageRepositoryType: modelEnum<NonNullable<ImageRepository['ImageRepositoryType']>>('ImageRepositoryType'),
});

const authenticationConfiguration: z.ZodType<AuthenticationConfiguration> = members<AuthenticationConfiguration>()({
  ConnectionArn: text.optional(),
  AccessRoleArn: text.optional(),
});

const sourceConfiguration: z.ZodType<SourceConfiguration> = members<SourceConfiguration>()({
  CodeRepository: codeRepository.optional(),
  ImageRepository: imageRepository.optional(),
  AutoDeploymentsEnabled: z.boolean().optional(),
  AuthenticationConfiguration: authenticationConfiguration.optional(),
});

const instanceConfiguration: z.ZodType<ServiceSpec['InstanceConfiguration']> = members<InstanceConfiguration>()({
  Cpu: text,
  Memory: text,
  InstanceRoleArn: text.optional(),
});

const healthCheckConfiguration: z.ZodType<ServiceSpec['HealthCheckConfiguration']> = members<HealthCheckConfiguration>()({
  Protocol: modelEnum<NonNullable<HealthCheckConfiguration['Protocol']>>('HealthCheckProtocol'),
  Path: text,
  Interval: z.number(),
  Timeout: z.number(),
  HealthyThreshold: z.number(),
  UnhealthyThreshold: z.number(),
});

const networkConfiguration: z.ZodType<NetworkConfiguration> = members<NetworkConfiguration>()({
  EgressConfiguration: members<EgressConfiguration>()({
    EgressType: modelEnum<NonNullable<EgressConfiguration['EgressType']>>('EgressType').optional(),
    VpcConnectorArn: text.optional(),
  }).optional(),
  IngressConfiguration: members<IngressConfiguration>()({ IsPubliclyAccessible: z.boolean().optional() }).optional(),
  IpAddressType: modelEnum<NonNullable<NetworkConfiguration['IpAddressType']>>('IpAddressType').optional(),
});

const observabilityConfiguration: z.ZodType<ServiceObservabilityConfiguration> = members<ServiceObservabilityConfiguration>()({
  ObservabilityEnabled: z.boolean(),
  ObservabilityConfigurationArn: text.optional(),
});

/** What a service record stores (`Service.spec`, and `Operation.rollbackSpec`). */
export const serviceSpecSchema: z.ZodType<ServiceSpec> = members<ServiceSpec>()({
  SourceConfiguration: sourceConfiguration,
  InstanceConfiguration: instanceConfiguration,
  HealthCheckConfiguration: healthCheckConfiguration,
  NetworkConfiguration: networkConfiguration,
  ObservabilityConfiguration: observabilityConfiguration,
  EncryptionConfiguration: members<EncryptionConfiguration>()({ KmsKey: text }).optional(),
});

/** One of a custom domain's CertificateValidationRecords, as App Runner returns it (every field set). */
export type ValidationRecord = {
  Name: string;
  Type: string;
  Value: string;
  Status: 'PENDING_VALIDATION' | 'SUCCESS' | 'FAILED';
};

const validationRecord: z.ZodType<ValidationRecord> = z.object({
  Name: text,
  Type: text,
  Value: text,
  Status: z.enum(['PENDING_VALIDATION', 'SUCCESS', 'FAILED']),
});

/** The records held in a custom domain's JSON column; anything not shaped like a record is left out. */
export function parseValidationRecords(json: unknown): ValidationRecord[] {
  if (!Array.isArray(json)) return [];
  return json.flatMap((item: unknown) => {
    const parsed = validationRecord.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
}
