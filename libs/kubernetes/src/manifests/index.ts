export type { KubeObject, KubeObjectMeta, OwnerReference, SecurityGroupRule, ServiceInput, TenantInput, VpcEgress } from './types';
export { cidrIntersection, cidrWithin, parseCidr } from './cidr';
export {
  DEFAULT_TENANT_QUOTA,
  SETTING_DEFAULTS,
  resolveSettings,
  type KubePlatformSettings,
  type PodSecurityLevel,
  type ResolvedSettings,
  type TenantQuotaSettings,
} from './settings';
export {
  DNS1035_LABEL,
  DNS1123_LABEL,
  TENANT_OBJECT_NAMES,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  namespaceName,
  pausedServiceName,
  serviceObjectName,
  serviceSecretName,
} from './names';
export { ANNOTATIONS, LABELS, serviceAnnotations, serviceLabels, serviceSelector, tenantLabels, toLabelValue } from './labels';
export {
  LARGEST_INSTANCE,
  SMALLEST_INSTANCE,
  cpuQuantity,
  cpuToMillicores,
  formatMebibytes,
  formatMillicores,
  instanceQuantities,
  memoryQuantity,
  memoryToMebibytes,
  type ComputeQuantities,
} from './resources';
export { buildTenantObjects, type WorkerSubject } from './tenant';
export {
  CONTAINER_NAME,
  DEFAULT_CONTAINER_PORT,
  SERVICE_PORT,
  buildDeployment,
  buildEnv,
  buildProbes,
  buildServiceObjects,
  escapeDependentExpansion,
  runtimeSettings,
  type RuntimeSettings,
} from './service';
export { buildServiceSecret, hashSecretValues } from './secret';
export { VALIDATED_KINDS, validateObject } from './validate';
export { toYaml } from './yaml';
export {
  buildVpcIngressObjects,
  type VpcIngressInput,
  buildCustomDomainObjects,
  type CertificateIssuer,
  CUSTOM_DOMAIN_LABEL,
  customDomainHosts,
  customDomainObjectName,
  type CustomDomainInput,
  DOMAIN_ANNOTATION,
} from './custom-domain';
export {
  BUILD_CONTAINER,
  BUILD_LABELS,
  CLONE_CONTAINER,
  PUSH_MARKER,
  buildJobManifest,
  buildJobName,
  type BuildJobObjects,
  type BuildJobOptions,
} from './build-job';
