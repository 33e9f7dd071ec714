import { describe, expect, it } from 'vitest';
import { InvalidRequestException } from '@apprunner/core';
import {
  INSTANCE_PAIRS,
  normalizeHealthCheck,
  normalizeInstance,
  normalizeNetwork,
  normalizeObservability,
  normalizeSource,
} from './service-spec';

const image = { ImageRepository: { ImageIdentifier: 'registry.local/app:1', ImageRepositoryType: 'ECR' as const } };

describe('instance configuration', () => {
  it('accepts exactly the 11 App Runner pairs, in both notations, and answers in numbers', () => {
    expect(Object.values(INSTANCE_PAIRS).flat()).toHaveLength(11);
    expect(normalizeInstance({ Cpu: '0.25 vCPU', Memory: '0.5 GB' })).toEqual({ Cpu: '256', Memory: '512' });
    expect(normalizeInstance({ Cpu: '4096', Memory: '12 GB' })).toEqual({ Cpu: '4096', Memory: '12288' });
    expect(normalizeInstance(undefined)).toEqual({ Cpu: '1024', Memory: '2048' });
    expect(() => normalizeInstance({ Cpu: '0.5 vCPU', Memory: '2 GB' })).toThrow(InvalidRequestException);
    expect(() => normalizeInstance({ Cpu: '4 vCPU', Memory: '6 GB' })).toThrow(/not supported/);
  });

  it('merges a partial update with the current values', () => {
    expect(normalizeInstance({ Memory: '4 GB' }, { Cpu: '1024', Memory: '2048', InstanceRoleArn: 'arn:role' })).toEqual({
      Cpu: '1024',
      Memory: '4096',
      InstanceRoleArn: 'arn:role',
    });
  });
});

describe('health check', () => {
  it('fills App Runner defaults TCP / 5 / 2 / 1 / 5', () => {
    expect(normalizeHealthCheck(undefined)).toEqual({
      Protocol: 'TCP',
      Path: '/',
      Interval: 5,
      Timeout: 2,
      HealthyThreshold: 1,
      UnhealthyThreshold: 5,
    });
    expect(normalizeHealthCheck({ Protocol: 'HTTP', Path: '/health' })).toMatchObject({ Protocol: 'HTTP', Path: '/health', Interval: 5 });
    expect(() => normalizeHealthCheck({ Interval: 21 })).toThrow(/between 1 and 20/);
  });
});

describe('source configuration', () => {
  it('needs exactly one repository kind and keeps the kind on update', () => {
    expect(() => normalizeSource({})).toThrow(/exactly one/);
    expect(() =>
      normalizeSource({ ...image, CodeRepository: { RepositoryUrl: 'x', SourceCodeVersion: { Type: 'BRANCH', Value: 'main' } } }),
    ).toThrow(/exactly one/);
    const base = normalizeSource(image);
    expect(() =>
      normalizeSource(
        { CodeRepository: { RepositoryUrl: 'https://github.com/a/b', SourceCodeVersion: { Type: 'BRANCH', Value: 'main' } } },
        base,
      ),
    ).toThrow(/can't change the source/);
  });

  it('defaults port 8080 and auto deployments (off only for ECR_PUBLIC)', () => {
    expect(normalizeSource(image)).toMatchObject({
      AutoDeploymentsEnabled: true,
      ImageRepository: { ImageConfiguration: { Port: '8080' } },
    });
    expect(
      normalizeSource({ ImageRepository: { ...image.ImageRepository, ImageRepositoryType: 'ECR_PUBLIC' } }).AutoDeploymentsEnabled,
    ).toBe(false);
  });

  it('reserves PORT and AWSAPPRUNNER* environment names', () => {
    expect(() =>
      normalizeSource({
        ImageRepository: { ...image.ImageRepository, ImageConfiguration: { RuntimeEnvironmentVariables: { PORT: '1' } } },
      }),
    ).toThrow(/reserved/);
    expect(() =>
      normalizeSource({
        ImageRepository: { ...image.ImageRepository, ImageConfiguration: { RuntimeEnvironmentSecrets: { AWSAPPRUNNER_X: 'arn' } } },
      }),
    ).toThrow(/reserved/);
  });

  it('requires a connection and code configuration for code repositories', () => {
    const code = { RepositoryUrl: 'https://github.com/a/b', SourceCodeVersion: { Type: 'BRANCH' as const, Value: 'main' } };
    expect(() => normalizeSource({ CodeRepository: code })).toThrow(/CodeConfiguration is required/);
    expect(() => normalizeSource({ CodeRepository: { ...code, CodeConfiguration: { ConfigurationSource: 'REPOSITORY' } } })).toThrow(
      /ConnectionArn is required/,
    );
    expect(() =>
      normalizeSource({
        CodeRepository: { ...code, CodeConfiguration: { ConfigurationSource: 'API' } },
        AuthenticationConfiguration: { ConnectionArn: 'arn:c' },
      }),
    ).toThrow(/CodeConfigurationValues/);
    const ok = normalizeSource({
      CodeRepository: { ...code, CodeConfiguration: { ConfigurationSource: 'API', CodeConfigurationValues: { Runtime: 'PYTHON_3' } } },
      AuthenticationConfiguration: { ConnectionArn: 'arn:c' },
    });
    expect(ok.CodeRepository?.CodeConfiguration?.CodeConfigurationValues?.Port).toBe('8080');
    // An update that changes only the branch keeps the code configuration.
    const updated = normalizeSource({ CodeRepository: { ...code, SourceCodeVersion: { Type: 'BRANCH', Value: 'release' } } }, ok);
    expect(updated.CodeRepository?.CodeConfiguration?.CodeConfigurationValues?.Runtime).toBe('PYTHON_3');
    expect(updated.AuthenticationConfiguration?.ConnectionArn).toBe('arn:c');
  });
});

describe('network and observability', () => {
  it('defaults to public IPv4 with default egress, and checks VPC egress', () => {
    expect(normalizeNetwork(undefined)).toEqual({
      EgressConfiguration: { EgressType: 'DEFAULT' },
      IngressConfiguration: { IsPubliclyAccessible: true },
      IpAddressType: 'IPV4',
    });
    expect(() => normalizeNetwork({ EgressConfiguration: { EgressType: 'VPC' } })).toThrow(/VpcConnectorArn is required/);
    expect(() => normalizeNetwork({ IngressConfiguration: { IsPubliclyAccessible: false }, IpAddressType: 'DUAL_STACK' })).toThrow(
      /DUAL_STACK/,
    );
    const vpc = normalizeNetwork({ EgressConfiguration: { EgressType: 'VPC', VpcConnectorArn: 'arn:v' } });
    expect(normalizeNetwork({ EgressConfiguration: { EgressType: 'DEFAULT' } }, vpc).EgressConfiguration).toEqual({
      EgressType: 'DEFAULT',
    });
  });

  it('requires a configuration ARN when observability is on', () => {
    expect(() => normalizeObservability({ ObservabilityEnabled: true })).toThrow(/ObservabilityConfigurationArn/);
    expect(normalizeObservability({ ObservabilityEnabled: false, ObservabilityConfigurationArn: 'arn:o' })).toEqual({
      ObservabilityEnabled: false,
    });
  });
});
