import { describe, expect, it } from 'vitest';
import type { ServiceSpec } from './service-spec';
import { imageConfigurationSchema, serviceSpecSchema } from './stored-shapes';

/** Every member of every part set: what the schema keeps of it must be all of it. */
const FULL: ServiceSpec = {
  SourceConfiguration: {
    CodeRepository: {
      RepositoryUrl: 'https://github.com/acme/web',
      SourceCodeVersion: { Type: 'BRANCH', Value: 'main' },
      CodeConfiguration: {
        ConfigurationSource: 'API',
        CodeConfigurationValues: {
          Runtime: 'NODEJS_22',
          BuildCommand: 'npm ci',
          StartCommand: 'node server.js',
          Port: '3000',
          RuntimeEnvironmentVariables: { A: '1' },
          RuntimeEnvironmentSecrets: { S: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s' },
        },
      },
      SourceDirectory: '/app',
    },
    AutoDeploymentsEnabled: true,
    AuthenticationConfiguration: {
      ConnectionArn: 'arn:aws:apprunner:us-east-1:123456789012:connection/gh/x',
      AccessRoleArn: 'arn:aws:iam::1:role/r',
    },
  },
  InstanceConfiguration: { Cpu: '1024', Memory: '2048', InstanceRoleArn: 'arn:aws:iam::123456789012:role/i' },
  HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/health', Interval: 5, Timeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 5 },
  NetworkConfiguration: {
    EgressConfiguration: { EgressType: 'VPC', VpcConnectorArn: 'arn:aws:apprunner:us-east-1:123456789012:vpcconnector/v/1/x' },
    IngressConfiguration: { IsPubliclyAccessible: false },
    IpAddressType: 'IPV4',
  },
  ObservabilityConfiguration: {
    ObservabilityEnabled: true,
    ObservabilityConfigurationArn: 'arn:aws:apprunner:us-east-1:1:observabilityconfiguration/o/1/x',
  },
  EncryptionConfiguration: { KmsKey: 'arn:aws:kms:us-east-1:123456789012:key/k' },
};

describe('the stored shapes (JSON columns read back)', () => {
  it('keep every member of a stored service spec, through JSON', () => {
    expect(serviceSpecSchema.parse(JSON.parse(JSON.stringify(FULL)))).toEqual(FULL);
    const image = {
      ...FULL,
      SourceConfiguration: {
        ImageRepository: {
          ImageIdentifier: 'public.ecr.aws/nginx/nginx:1.27',
          ImageRepositoryType: 'ECR_PUBLIC',
          ImageConfiguration: { Port: '80', StartCommand: 'nginx', RuntimeEnvironmentVariables: {}, RuntimeEnvironmentSecrets: {} },
        },
        AutoDeploymentsEnabled: false,
      },
    };
    expect(serviceSpecSchema.parse(image)).toEqual(image);
  });

  it('refuse a column that is not a spec, saying where', () => {
    const badRuntime = structuredClone(FULL) as unknown as Record<string, any>;
    badRuntime.SourceConfiguration.CodeRepository.CodeConfiguration.CodeConfigurationValues.Runtime = 'COBOL_1';
    const parsed = serviceSpecSchema.safeParse(badRuntime);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0].path.join('.')).toBe(
      'SourceConfiguration.CodeRepository.CodeConfiguration.CodeConfigurationValues.Runtime',
    );
    const { HealthCheckConfiguration: _dropped, ...noHealthCheck } = FULL;
    expect(serviceSpecSchema.safeParse(noHealthCheck).success).toBe(false);
    expect(imageConfigurationSchema.safeParse({ Port: 8080 }).success).toBe(false);
  });
});
