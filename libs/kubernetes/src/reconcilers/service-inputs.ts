import { Inject, Injectable } from '@nestjs/common';
import type { CodeConfigurationValues } from '@aws-sdk/client-apprunner';
import type { ServiceSpec } from '@apprunner/api-model';
import type { DeployableSource, ServiceSnapshot } from '@apprunner/operation';
import { objectNameFromRoleArn, pullSecretNameFromRoleArn } from '@apprunner/registry';
import { KUBE_CLIENT, KubeClient, type LiveObject } from '../kube-client';
import { hashSecretValues, type KubePlatformSettings, namespaceName, serviceSecretName, type VpcEgress } from '../manifests';
import { parseSecretRef, type SecretRef } from '../secret-refs';
import { ReconcilerSettings } from './reconciler-settings';
import type { ServiceObjectsInput } from './service-objects';

/** Where a pass takes secret values from: the tenant's Secrets (operations) or the service's own Secret (pause, resync). */
export type SecretSource = 'tenant' | 'live';

export interface InputOptions {
  /** The operation stamped on the objects. */
  operationId?: string;
  paused: boolean;
  secrets: SecretSource;
  /** What to run; default: what the service's last deployment ran. */
  source?: DeployableSource;
  /** The spec to build from; default: the service's (a rollback passes the previous one). */
  spec?: ServiceSpec;
}

const SECRET_ENV_NAME = /^[-._a-zA-Z0-9]{1,253}$/;

/**
 * The input of a service's builders, from its snapshot and what only the cluster knows: the values of its
 * RuntimeEnvironmentSecrets, the tenant's registry credential Secret and ServiceAccount. A problem the tenant must fix
 * comes back as `{ error }`; undefined when there is no image to run.
 */
@Injectable()
export class ServiceInputs {
  constructor(
    @Inject(KUBE_CLIENT) private readonly kube: KubeClient,
    private readonly settings: ReconcilerSettings,
  ) {}

  async resolve(snapshot: ServiceSnapshot, options: InputOptions): Promise<ServiceObjectsInput | { error: string } | undefined> {
    const { service, tenant } = snapshot;
    const spec = options.spec ?? service.spec;
    const source = options.source ?? service.deployed;
    const code = spec.SourceConfiguration?.CodeRepository;
    const image = source?.image ?? spec.SourceConfiguration?.ImageRepository?.ImageIdentifier;
    if (!image) return code ? { error: 'The service has not been built yet: there is no image to run.' } : undefined;
    const codeValues = code ? (source?.imageConfiguration as CodeConfigurationValues | undefined) : undefined;
    const result = await this.secretValues(spec, tenant.accountId, service.serviceId, options.secrets, codeValues);
    if ('error' in result) return result;
    const vpc = vpcEgress(spec, snapshot);
    if (vpc && 'error' in vpc) return vpc;
    const pullSecret = await this.pullSecret(spec, tenant.accountId);
    if (pullSecret && 'error' in pullSecret) return pullSecret;
    const instanceRole = await this.instanceRole(spec, tenant.accountId);
    if (instanceRole && 'error' in instanceRole) return instanceRole;
    const isTraced = traced(spec, snapshot, this.settings.platform);
    const resolved = result.values;
    const secretEnv = Object.fromEntries(Object.keys(resolved).map((name) => [name, name]));
    return {
      tenant: { accountId: tenant.accountId },
      service: {
        id: service.id,
        serviceId: service.serviceId,
        serviceName: service.serviceName,
        arn: service.arn,
        urlHost: service.urlHost,
        generation: service.generation,
        spec,
        status: service.status,
      },
      autoScaling: snapshot.autoScaling,
      ...(options.operationId ? { operationId: options.operationId } : {}),
      image,
      paused: options.paused,
      secretEnv,
      ...(codeValues ? { codeConfigurationValues: codeValues } : {}),
      ...(vpc ? { vpcEgress: vpc } : {}),
      ...(pullSecret ? { imagePullSecrets: [pullSecret.secretName] } : {}),
      ...(instanceRole ? { serviceAccountName: instanceRole.name } : {}),
      ...(isTraced ? { traced: isTraced } : {}),
      ...(Object.keys(resolved).length > 0
        ? { secretValues: resolved, secretHash: hashSecretValues(resolved, this.settings.secretHashKey) }
        : {}),
    };
  }

  /**
   * Private registries: `AuthenticationConfiguration.AccessRoleArn` of an image service names (by its role name) a
   * `kubernetes.io/dockerconfigjson` Secret the tenant keeps in its namespace, as App Runner's access role grants ECR pulls.
   */
  private async pullSecret(spec: ServiceSpec, accountId: string): Promise<{ secretName: string } | { error: string } | undefined> {
    const arn = spec.SourceConfiguration?.ImageRepository ? spec.SourceConfiguration.AuthenticationConfiguration?.AccessRoleArn : undefined;
    if (!arn) return undefined;
    const ref = pullSecretNameFromRoleArn(arn, accountId);
    if ('error' in ref) return { error: `AccessRoleArn: ${ref.error}` };
    const namespace = namespaceName(this.settings.platform, accountId);
    const secret = await this.kube.get<LiveObject & { type?: string }>('v1', 'Secret', ref.secretName, namespace);
    if (!secret)
      return { error: `AccessRoleArn: the registry credential Secret "${ref.secretName}" does not exist in namespace ${namespace}.` };
    if (secret.type !== 'kubernetes.io/dockerconfigjson') {
      return {
        error: `AccessRoleArn: Secret "${ref.secretName}" in namespace ${namespace} must be of type kubernetes.io/dockerconfigjson (it is ${secret.type ?? 'Opaque'}).`,
      };
    }
    return { secretName: ref.secretName };
  }

  /**
   * `InstanceConfiguration.InstanceRoleArn`: the role the app's AWS calls use becomes a ServiceAccount of the same
   * name in the tenant namespace, which the tenant binds to its cloud identity (IRSA, GKE/AKS workload identity).
   */
  private async instanceRole(spec: ServiceSpec, accountId: string): Promise<{ name: string } | { error: string } | undefined> {
    const arn = spec.InstanceConfiguration?.InstanceRoleArn;
    if (!arn) return undefined;
    const ref = objectNameFromRoleArn(arn, accountId, 'InstanceRoleArn', 'ServiceAccount');
    if ('error' in ref) return ref;
    const namespace = namespaceName(this.settings.platform, accountId);
    if (!(await this.kube.get('v1', 'ServiceAccount', ref.name, namespace))) {
      return { error: `InstanceRoleArn: the ServiceAccount "${ref.name}" does not exist in namespace ${namespace}.` };
    }
    return ref;
  }

  /**
   * Values of `RuntimeEnvironmentSecrets`, by env var name. Deployments read them from the tenant's Secrets (see
   * secret-refs.ts), as App Runner reads Secrets Manager at deployment time; pause and resync reuse what the service's
   * own Secret holds, so a changed source takes effect with the next deployment, not behind the tenant's back.
   */
  private async secretValues(
    spec: ServiceSpec,
    accountId: string,
    serviceId: string,
    source: SecretSource,
    codeValues?: CodeConfigurationValues,
  ): Promise<{ values: Record<string, string> } | { error: string }> {
    const refs = runtimeSecretRefs(spec, codeValues);
    const names = Object.keys(refs).sort();
    if (names.length === 0) return { values: {} };
    const namespace = namespaceName(this.settings.platform, accountId);
    const values: Record<string, string> = {};
    const secrets = new Map<string, LiveObject | undefined>();
    const read = async (name: string) => {
      if (!secrets.has(name)) secrets.set(name, await this.kube.get<LiveObject>('v1', 'Secret', name, namespace));
      return secrets.get(name);
    };
    for (const name of names) {
      if (!SECRET_ENV_NAME.test(name))
        return {
          error: `RuntimeEnvironmentSecrets: "${name}" can't be used as an environment variable name here (letters, digits, "-", "_", ".").`,
        };
      const ref: SecretRef | { error: string } =
        source === 'live' ? { secretName: serviceSecretName(serviceId), key: name } : parseSecretRef(refs[name], accountId);
      if ('error' in ref) return { error: `RuntimeEnvironmentSecrets ${name}: the reference ${ref.error}.` };
      const secret = await read(ref.secretName);
      const encoded = (secret?.data as Record<string, string> | undefined)?.[ref.key];
      if (encoded === undefined) {
        return {
          error: `RuntimeEnvironmentSecrets ${name}: Secret "${ref.secretName}" in namespace ${namespace} ${secret ? `has no key "${ref.key}"` : 'does not exist'}.`,
        };
      }
      values[name] = Buffer.from(encoded, 'base64').toString('utf8');
    }
    return { values };
  }
}

/**
 * `EgressType: VPC`: the connector's subnets and security groups, resolved through the networks the platform admin
 * registered (admin API). A connector naming an unregistered one fails the deployment: reaching it is not possible.
 */
function vpcEgress(spec: ServiceSpec, snapshot: ServiceSnapshot): VpcEgress | { error: string } | undefined {
  if (spec.NetworkConfiguration?.EgressConfiguration?.EgressType !== 'VPC') return undefined;
  const connector = snapshot.vpcConnector;
  if (!connector) return { error: 'EgressType VPC needs a VPC connector.' };
  const subnets = new Map(connector.registeredSubnets.map((s) => [s.id, s.cidrs]));
  const groups = new Map(connector.registeredSecurityGroups.map((g) => [g.id, g.egress]));
  const missing = [...connector.subnets.filter((id) => !subnets.has(id)), ...connector.securityGroups.filter((id) => !groups.has(id))];
  if (missing.length > 0) {
    return {
      error: `VPC connector ${connector.name}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not registered by the platform administrator.`,
    };
  }
  return {
    subnets: connector.subnets.map((id) => ({ id, cidrs: subnets.get(id) ?? [] })),
    securityGroups: connector.securityGroups.map((id) => ({ id, egress: groups.get(id) ?? [] })),
  };
}

/** Observability enabled with a configuration that traces with AWSXRAY (App Runner's only vendor). */
function traced(spec: ServiceSpec, snapshot: ServiceSnapshot, settings: KubePlatformSettings): boolean {
  return Boolean(spec.ObservabilityConfiguration?.ObservabilityEnabled && settings.tracing && snapshot.traceVendor === 'AWSXRAY');
}

/** RuntimeEnvironmentSecrets of the image configuration, the API's code configuration, or the build's apprunner.yaml. */
function runtimeSecretRefs(spec: ServiceSpec, codeValues: CodeConfigurationValues | undefined): Record<string, string> {
  const source = spec.SourceConfiguration;
  if (source?.ImageRepository) return source.ImageRepository.ImageConfiguration?.RuntimeEnvironmentSecrets ?? {};
  const code = source?.CodeRepository?.CodeConfiguration;
  return (
    (code?.ConfigurationSource === 'API'
      ? code.CodeConfigurationValues?.RuntimeEnvironmentSecrets
      : codeValues?.RuntimeEnvironmentSecrets) ?? {}
  );
}
