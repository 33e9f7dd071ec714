import type {
  HealthCheckConfiguration,
  InstanceConfiguration,
  NetworkConfiguration,
  ServiceObservabilityConfiguration,
  SourceConfiguration,
} from '@aws-sdk/client-apprunner';
import type { ServiceSpec } from '@apprunner/api-model';
import { InvalidRequestException } from '@apprunner/core';

export type { ServiceSpec } from '@apprunner/api-model';

const CPU: Record<string, string> = { '0.25 vCPU': '256', '0.5 vCPU': '512', '1 vCPU': '1024', '2 vCPU': '2048', '4 vCPU': '4096' };
const MEMORY: Record<string, string> = {
  '0.5 GB': '512',
  '1 GB': '1024',
  '2 GB': '2048',
  '3 GB': '3072',
  '4 GB': '4096',
  '6 GB': '6144',
  '8 GB': '8192',
  '10 GB': '10240',
  '12 GB': '12288',
};
/** The 11 vCPU/memory pairs App Runner supports (numeric form, as responses carry them). */
export const INSTANCE_PAIRS: Record<string, string[]> = {
  '256': ['512', '1024'],
  '512': ['1024'],
  '1024': ['2048', '3072', '4096'],
  '2048': ['4096', '6144'],
  '4096': ['8192', '10240', '12288'],
};

export const HEALTH_CHECK_DEFAULTS: Required<HealthCheckConfiguration> = {
  Protocol: 'TCP',
  Path: '/',
  Interval: 5,
  Timeout: 2,
  HealthyThreshold: 1,
  UnhealthyThreshold: 5,
};
export const DEFAULT_PORT = '8080';
const RESERVED_ENV = /^(PORT|AWSAPPRUNNER.*)$/;

export function normalizeInstance(
  input: InstanceConfiguration | undefined,
  base?: ServiceSpec['InstanceConfiguration'],
): ServiceSpec['InstanceConfiguration'] {
  const cpuIn = input?.Cpu ?? base?.Cpu ?? '1024';
  const memIn = input?.Memory ?? base?.Memory ?? '2048';
  const Cpu = CPU[cpuIn] ?? cpuIn;
  const Memory = MEMORY[memIn] ?? memIn;
  if (!INSTANCE_PAIRS[Cpu]?.includes(Memory)) {
    throw new InvalidRequestException(
      `The combination of Cpu ${cpuIn} and Memory ${memIn} is not supported. Supported pairs: ` +
        Object.entries(INSTANCE_PAIRS)
          .map(([c, ms]) => `${c} with ${ms.join('/')}`)
          .join('; '),
    );
  }
  const InstanceRoleArn = input && 'InstanceRoleArn' in input ? input.InstanceRoleArn : base?.InstanceRoleArn;
  return { Cpu, Memory, ...(InstanceRoleArn ? { InstanceRoleArn } : {}) };
}

export function normalizeHealthCheck(
  input: HealthCheckConfiguration | undefined,
  base?: ServiceSpec['HealthCheckConfiguration'],
): ServiceSpec['HealthCheckConfiguration'] {
  const merged = { ...(base ?? HEALTH_CHECK_DEFAULTS), ...stripUndefined(input ?? {}) } as Required<HealthCheckConfiguration>;
  for (const key of ['Interval', 'Timeout', 'HealthyThreshold', 'UnhealthyThreshold'] as const) {
    if (merged[key] < 1 || merged[key] > 20) throw new InvalidRequestException(`HealthCheckConfiguration.${key} must be between 1 and 20.`);
  }
  return merged;
}

export function normalizeNetwork(input: NetworkConfiguration | undefined, base?: NetworkConfiguration): NetworkConfiguration {
  const egress = { ...(base?.EgressConfiguration ?? { EgressType: 'DEFAULT' }), ...stripUndefined(input?.EgressConfiguration ?? {}) };
  if (input?.EgressConfiguration?.EgressType === 'DEFAULT' && !input.EgressConfiguration.VpcConnectorArn) delete egress.VpcConnectorArn;
  const ingress = {
    ...(base?.IngressConfiguration ?? { IsPubliclyAccessible: true }),
    ...stripUndefined(input?.IngressConfiguration ?? {}),
  };
  const IpAddressType = input?.IpAddressType ?? base?.IpAddressType ?? 'IPV4';
  if (egress.EgressType === 'VPC' && !egress.VpcConnectorArn) {
    throw new InvalidRequestException('VpcConnectorArn is required when EgressType is VPC.');
  }
  if (egress.EgressType !== 'VPC' && egress.VpcConnectorArn) {
    throw new InvalidRequestException('VpcConnectorArn can only be set when EgressType is VPC.');
  }
  if (IpAddressType === 'DUAL_STACK' && ingress.IsPubliclyAccessible === false) {
    throw new InvalidRequestException('IpAddressType DUAL_STACK is supported only for publicly accessible services.');
  }
  return { EgressConfiguration: egress, IngressConfiguration: ingress, IpAddressType };
}

export function normalizeObservability(
  input: ServiceObservabilityConfiguration | undefined,
  base?: ServiceObservabilityConfiguration,
): ServiceObservabilityConfiguration {
  const value = input ?? base ?? { ObservabilityEnabled: false };
  if (value.ObservabilityEnabled && !value.ObservabilityConfigurationArn) {
    throw new InvalidRequestException('ObservabilityConfigurationArn is required when ObservabilityEnabled is true.');
  }
  return value.ObservabilityEnabled
    ? { ObservabilityEnabled: true, ObservabilityConfigurationArn: value.ObservabilityConfigurationArn }
    : { ObservabilityEnabled: false };
}

/**
 * Source rules: exactly one of CodeRepository / ImageRepository; an update must keep the same kind;
 * CodeConfiguration is required on create; omitted nested parts of an update keep their current value.
 */
export function normalizeSource(input: SourceConfiguration | undefined, base?: SourceConfiguration): SourceConfiguration {
  if (!input) {
    if (!base) throw new InvalidRequestException('SourceConfiguration is required.');
    return base;
  }
  const hasCode = input.CodeRepository !== undefined;
  const hasImage = input.ImageRepository !== undefined;
  if (base && !hasCode && !hasImage) {
    return finishSource({
      ...base,
      ...stripUndefined({
        AutoDeploymentsEnabled: input.AutoDeploymentsEnabled,
        AuthenticationConfiguration: input.AuthenticationConfiguration,
      }),
    });
  }
  if (hasCode === hasImage) {
    throw new InvalidRequestException('SourceConfiguration must specify exactly one of CodeRepository or ImageRepository.');
  }
  if (base && (base.CodeRepository !== undefined) !== hasCode) {
    throw new InvalidRequestException("You can't change the source of a service between a code repository and a source image.");
  }
  const out: SourceConfiguration = {
    ...stripUndefined({ AutoDeploymentsEnabled: input.AutoDeploymentsEnabled ?? base?.AutoDeploymentsEnabled }),
    ...stripUndefined({ AuthenticationConfiguration: input.AuthenticationConfiguration ?? base?.AuthenticationConfiguration }),
  };
  if (input.CodeRepository) {
    const code = { ...input.CodeRepository };
    code.CodeConfiguration = code.CodeConfiguration ?? base?.CodeRepository?.CodeConfiguration;
    if (!code.CodeConfiguration) throw new InvalidRequestException('CodeConfiguration is required for a code repository source.');
    if (code.CodeConfiguration.ConfigurationSource === 'API') {
      const values = code.CodeConfiguration.CodeConfigurationValues;
      if (!values) throw new InvalidRequestException('CodeConfigurationValues is required when ConfigurationSource is API.');
      checkEnv(values.RuntimeEnvironmentVariables, values.RuntimeEnvironmentSecrets);
      code.CodeConfiguration = {
        ...code.CodeConfiguration,
        CodeConfigurationValues: { ...values, Port: values.Port ?? DEFAULT_PORT },
      };
    }
    out.CodeRepository = code;
    if (!out.AuthenticationConfiguration?.ConnectionArn) {
      throw new InvalidRequestException('AuthenticationConfiguration.ConnectionArn is required for a code repository source.');
    }
  } else if (input.ImageRepository) {
    const image = { ...input.ImageRepository };
    const cfg = image.ImageConfiguration ?? {};
    checkEnv(cfg.RuntimeEnvironmentVariables, cfg.RuntimeEnvironmentSecrets);
    image.ImageConfiguration = { ...cfg, Port: cfg.Port ?? DEFAULT_PORT };
    out.ImageRepository = image;
  }
  return finishSource(out);
}

function finishSource(src: SourceConfiguration): SourceConfiguration {
  // App Runner: false for ECR Public sources, true otherwise (code repositories, same-account images).
  const AutoDeploymentsEnabled = src.AutoDeploymentsEnabled ?? src.ImageRepository?.ImageRepositoryType !== 'ECR_PUBLIC';
  return { ...src, AutoDeploymentsEnabled };
}

function checkEnv(vars?: Record<string, string>, secrets?: Record<string, string>): void {
  for (const name of [...Object.keys(vars ?? {}), ...Object.keys(secrets ?? {})]) {
    if (RESERVED_ENV.test(name)) {
      throw new InvalidRequestException(`Environment variable name ${name} is reserved (PORT and names starting with AWSAPPRUNNER).`);
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
