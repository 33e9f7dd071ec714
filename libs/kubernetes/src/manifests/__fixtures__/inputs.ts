/** Representative builder inputs shared by the manifest tests (and handy for debugging). */
import type { ServiceSpec } from '@apprunner/service';
import type { KubePlatformSettings } from '../settings';
import type { ServiceInput, TenantInput } from '../types';

export const SETTINGS: KubePlatformSettings = {
  namespacePrefix: 'apprunner-',
  ingressClassName: 'nginx',
  ingressControllerNamespace: 'ingress-nginx',
  fieldManager: 'apprunner-k8s',
};

export const SETTINGS_WITH_PAUSED_BACKEND: KubePlatformSettings = {
  ...SETTINGS,
  pausedBackend: { serviceName: 'paused-page', namespace: 'apprunner-system', port: 8080 },
};

/** A platform with a private network: a second IngressClass whose controller runs in its own namespace. */
export const SETTINGS_WITH_PRIVATE_CLASS: KubePlatformSettings = {
  ...SETTINGS,
  privateIngressClassName: 'nginx-private',
  privateIngressControllerNamespace: 'ingress-private',
};

export const TENANT: TenantInput = { accountId: '123456789012', name: 'acme', quotas: { Services: 30 } };

export const DIGEST = 'sha256:3b2f0c6e0d3b8f1a9e4c7d5b6a8f9e0c1d2b3a4f5e6d7c8b9a0f1e2d3c4b5a69';

/** What normalizeSource & co. store for `CreateService` with only an image: every App Runner default filled in. */
export function imageSpec(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    SourceConfiguration: {
      ImageRepository: {
        ImageIdentifier: 'registry.example.com/team/web:1.4.2',
        ImageRepositoryType: 'ECR',
        ImageConfiguration: { Port: '8080' },
      },
      AutoDeploymentsEnabled: true,
    },
    InstanceConfiguration: { Cpu: '1024', Memory: '2048' },
    HealthCheckConfiguration: { Protocol: 'TCP', Path: '/', Interval: 5, Timeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 5 },
    NetworkConfiguration: {
      EgressConfiguration: { EgressType: 'DEFAULT' },
      IngressConfiguration: { IsPubliclyAccessible: true },
      IpAddressType: 'IPV4',
    },
    ObservabilityConfiguration: { ObservabilityEnabled: false },
    ...overrides,
  };
}

export function serviceInput(overrides: Partial<ServiceInput> = {}, spec: ServiceSpec = imageSpec()): ServiceInput {
  return {
    tenant: { accountId: TENANT.accountId },
    service: {
      id: '0b8f3c1e-6a2d-4f57-9c3e-2d1a5b7e9f40',
      serviceId: '8fe1e10304f84fd2b0df550fe98a71fa',
      serviceName: 'web',
      arn: 'arn:aws:apprunner:us-east-1:123456789012:service/web/8fe1e10304f84fd2b0df550fe98a71fa',
      urlHost: 'k3xq7mn2pa.us-east-1.apprunner.example.com',
      generation: 1,
      spec,
      status: 'OPERATION_IN_PROGRESS',
    },
    autoScaling: {
      arn: 'arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/DefaultConfiguration/1/00000000000000000000000000000001',
      minSize: 1,
      maxSize: 25,
      maxConcurrency: 100,
    },
    operationId: '5c7d2e4f-1a3b-4c5d-8e9f-0a1b2c3d4e5f',
    image: `registry.example.com/team/web@${DIGEST}`,
    paused: false,
    secretEnv: {},
    ...overrides,
  };
}

/** HTTP health check, start command, env + secrets, 4 vCPU / 12 GB, a service name that is not label-safe. */
export const FULL_SECRET_VALUES = { API_TOKEN: 'tok-live-9f8e7d6c5b4a', DATABASE_URL: 'postgres://app:hunter2@db.internal:5432/app' };

export function fullInput(): ServiceInput {
  const spec = imageSpec({
    SourceConfiguration: {
      ImageRepository: {
        ImageIdentifier: 'registry.example.com/team/checkout:2025.11',
        ImageRepositoryType: 'ECR',
        ImageConfiguration: {
          Port: '3000',
          StartCommand: 'node dist/server.js --port "$PORT"',
          RuntimeEnvironmentVariables: {
            NODE_ENV: 'production',
            LOG_LEVEL: 'debug',
            FEATURE_X: 'no',
            PRICE_TEMPLATE: 'costs $(AMOUNT) $$',
          },
          RuntimeEnvironmentSecrets: {
            DATABASE_URL: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:checkout-db-AbCdEf',
            API_TOKEN: 'arn:aws:ssm:us-east-1:123456789012:parameter/checkout/api-token',
          },
        },
      },
      AutoDeploymentsEnabled: true,
    },
    InstanceConfiguration: { Cpu: '4096', Memory: '12288' },
    HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/healthz', Interval: 10, Timeout: 5, HealthyThreshold: 3, UnhealthyThreshold: 4 },
  });
  const base = serviceInput({}, spec);
  return {
    ...base,
    service: {
      ...base.service,
      id: '6d1c9a2b-3e4f-4a5b-8c7d-9e0f1a2b3c4d',
      serviceId: 'c0ffee00c0ffee00c0ffee00c0ffee00',
      serviceName: 'checkout_api_',
      arn: 'arn:aws:apprunner:us-east-1:123456789012:service/checkout_api_/c0ffee00c0ffee00c0ffee00c0ffee00',
      urlHost: 'b7d2qk9zxe.us-east-1.apprunner.example.com',
      generation: 7,
    },
    autoScaling: {
      arn: 'arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/high/3/a1b2c3d4e5f60718293a4b5c6d7e8f90',
      minSize: 2,
      maxSize: 10,
      maxConcurrency: 50,
    },
    image: `registry.example.com/team/checkout@${DIGEST}`,
    secretEnv: { DATABASE_URL: 'DATABASE_URL', API_TOKEN: 'API_TOKEN' },
    secretHash: 'f00dfeed'.repeat(8),
    tls: { secretName: 'svc-c0ffee00c0ffee00c0ffee00c0ffee00-tls' },
  };
}

export function pausedInput(): ServiceInput {
  return serviceInput({ paused: true, operationId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' });
}

export function privateInput(): ServiceInput {
  const spec = imageSpec({
    NetworkConfiguration: {
      EgressConfiguration: { EgressType: 'DEFAULT' },
      IngressConfiguration: { IsPubliclyAccessible: false },
      IpAddressType: 'IPV4',
    },
  });
  return serviceInput({}, spec);
}

/** A private, dual-stack service. */
export function privateDualStackInput(): ServiceInput {
  const spec = imageSpec({
    NetworkConfiguration: {
      EgressConfiguration: { EgressType: 'DEFAULT' },
      IngressConfiguration: { IsPubliclyAccessible: false },
      IpAddressType: 'DUAL_STACK',
    },
  });
  return serviceInput({}, spec);
}

/** Code repository with API configuration values, run from the image the build produced. */
export function codeInput(): ServiceInput {
  const spec = imageSpec({
    SourceConfiguration: {
      CodeRepository: {
        RepositoryUrl: 'https://github.com/acme/orders',
        SourceCodeVersion: { Type: 'BRANCH', Value: 'main' },
        CodeConfiguration: {
          ConfigurationSource: 'API',
          CodeConfigurationValues: {
            Runtime: 'NODEJS_18',
            BuildCommand: 'npm ci && npm run build',
            StartCommand: 'npm start',
            Port: '8000',
          },
        },
      },
      AutoDeploymentsEnabled: true,
      AuthenticationConfiguration: {
        ConnectionArn: 'arn:aws:apprunner:us-east-1:123456789012:connection/gh/0123456789abcdef0123456789abcdef',
      },
    },
    InstanceConfiguration: { Cpu: '256', Memory: '512' },
  });
  return serviceInput({ image: `builds.apprunner.internal/123456789012/orders@${DIGEST}` }, spec);
}
