import type { CodeConfigurationValues } from '@aws-sdk/client-apprunner';
import type { ServiceSpec } from '@apprunner/service';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

/** A desired Kubernetes object, ready for server-side apply (plain JSON, no class instances). */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: KubeObjectMeta;
  [k: string]: unknown;
};

export interface TenantInput {
  /** 12-digit account id. */
  accountId: string;
  name: string;
  /** Effective quotas (overrides applied), see `effectiveQuota` in @apprunner/tenancy. */
  quotas: { Services: number };
}

/** One egress rule of a registered security group (AWS's shape: protocol `tcp`, `udp` or `-1` for all). */
export interface SecurityGroupRule {
  Protocol: 'tcp' | 'udp' | '-1';
  FromPort?: number;
  ToPort?: number;
  Cidrs: string[];
}

/** What an `EgressType: VPC` service may reach: its connector's subnets, under its security groups' rules. */
export interface VpcEgress {
  subnets: { id: string; cidrs: string[] }[];
  securityGroups: { id: string; egress: SecurityGroupRule[] }[];
}

export interface ServiceInput {
  tenant: { accountId: string };
  service: {
    id: string;
    /** 32 lowercase hex characters. */
    serviceId: string;
    serviceName: string;
    arn: string;
    urlHost: string;
    generation: number;
    spec: ServiceSpec;
    status: string;
  };
  autoScaling: { arn: string; minSize: number; maxSize: number; maxConcurrency: number };
  /** Stamped as an annotation for traceability (never in the pod template). */
  operationId?: string;
  /** Image reference to run, digest-pinned when known (`reg/app@sha256:...`). */
  image: string;
  /** PauseService: Deployment at 0 replicas, no HPA, Ingress to `settings.pausedBackend` when set. */
  paused: boolean;
  /**
   * Env vars served from the per-service Secret: env var name -> key in that Secret. Only these names
   * and keys reach the Deployment; the values go to `buildServiceSecret`.
   */
  secretEnv: Record<string, string>;
  /**
   * Fingerprint of the Secret's values (see `hashSecretValues`). It is the only secret-derived data
   * in the pod template, so a changed value rolls the pods and an unchanged one does not.
   */
  secretHash?: string;
  /**
   * Code services with `ConfigurationSource: REPOSITORY`: the values the build read from
   * apprunner.yaml. Ignored when the record itself carries `CodeConfigurationValues` (source API).
   */
  codeConfigurationValues?: CodeConfigurationValues;
  /** TLS hook: when set, the Ingress terminates TLS for `urlHost` with this Secret (cert-manager later). */
  tls?: { secretName: string };
  /** Set for `EgressType: VPC`: egress is limited to the connector's networks (resolved from the platform's registry). */
  vpcEgress?: VpcEgress;
  /** dockerconfigjson Secrets of the tenant namespace the kubelet pulls the image with (AccessRoleArn of private registries). */
  imagePullSecrets?: string[];
  /** InstanceRoleArn: the tenant's ServiceAccount the pods run as (workload identity stands in for the instance role). */
  serviceAccountName?: string;
  /** Observability enabled with an AWSXRAY trace configuration: send traces to the platform's collector. */
  traced?: boolean;
}
