import type {
  EncryptionConfiguration,
  HealthCheckConfiguration,
  InstanceConfiguration,
  NetworkConfiguration,
  ServiceObservabilityConfiguration,
  SourceConfiguration,
} from '@aws-sdk/client-apprunner';

/**
 * What a service record stores: App Runner's own shapes with every default filled in. Here, below every noun, because
 * both the service (which writes it) and the operation runner (which hands it to the reconcilers) need it, and the
 * service lib already depends on the operation lib.
 */
export interface ServiceSpec {
  SourceConfiguration: SourceConfiguration;
  InstanceConfiguration: InstanceConfiguration & { Cpu: string; Memory: string };
  HealthCheckConfiguration: Required<HealthCheckConfiguration>;
  NetworkConfiguration: NetworkConfiguration;
  ObservabilityConfiguration: ServiceObservabilityConfiguration;
  EncryptionConfiguration?: EncryptionConfiguration;
}
