import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { CodeConfigurationValues } from '@aws-sdk/client-apprunner';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import type { CustomDomain, Operation, Prisma, Service, Tenant, VpcIngressConnection } from '@apprunner/persistence';
import { PrismaService } from '@apprunner/persistence';
import { TransientReconcileError, type ReconcileOutcome, type Reconcilers, type ServiceOperationRequest } from '@apprunner/operation';
import type { ServiceSpec } from '@apprunner/service';
import { objectNameFromRoleArn, pullSecretNameFromRoleArn } from '@apprunner/registry';
import { type DeployableSource, SourceBuilds, type SourceOutcome } from '@apprunner/source-build';
import { effectiveQuota } from '@apprunner/tenancy';
import { KubeClient, type LiveObject, KubePermanentError } from './kube-client';
import {
  buildServiceObjects,
  buildServiceSecret,
  buildTenantObjects,
  hashSecretValues,
  ANNOTATIONS,
  buildCustomDomainObjects,
  buildVpcIngressObjects,
  type CertificateIssuer,
  type KubePlatformSettings,
  namespaceName,
  type SecurityGroupRule,
  type VpcEgress,
  type WorkerSubject,
  serviceObjectName,
  type ServiceInput,
  serviceSecretName,
} from './manifests';
import { parseSecretRef, type SecretRef } from './secret-refs';
import { type CertificateChain, certificateValidationRecords, customDomainState, rolloutState } from './rollout';

export const KUBE_CLIENT = Symbol('KUBE_CLIENT');
/** Tenant objects are re-applied by operations at most this often (resync re-applies them every pass). */
const TENANT_REAPPLY_MS = 60_000;

/** Deployment annotations the reconciler keeps its own bookkeeping in (level-triggered: state lives in the cluster). */
export const ROLLBACK_OF = 'apprunner.k8s/rollback-of';
export const FAILURE_REASON = 'apprunner.k8s/failure-reason';
/**
 * The objects the last apply produced besides the Deployment, as `apiVersion|kind|name` lines (an ApplySet in
 * miniature): what a later apply no longer produces (the HPA of a paused service, the Ingress of a private one)
 * is deleted, without listing every kind on every pass.
 */
export const APPLIED_SET = 'apprunner.k8s/applied-objects';

/** `object`, owned by the service's Deployment: deleting the Deployment (DeleteService) takes it along. */
function ownedBy<T extends LiveObject>(deployment: LiveObject, object: T): T {
  const owner = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: deployment.metadata.name,
    uid: deployment.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
  return { ...object, metadata: { ...object.metadata, ownerReferences: [owner] } };
}

function ref(o: Pick<LiveObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${o.apiVersion}|${o.kind}|${o.metadata.name}`;
}
function parseRef(line: string, namespace: string | undefined): LiveObject | undefined {
  const [apiVersion, kind, name] = line.split('|');
  return apiVersion && kind && name ? { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } } : undefined;
}

/** Where a pass takes secret values from: the tenant's Secrets (operations) or the service's own Secret (pause, resync). */
type SecretSource = 'tenant' | 'live';
type Input = ServiceInput & { extraDeploymentAnnotations?: Record<string, string>; secretValues?: Record<string, string> };
const SECRET_ENV_NAME = /^[-._a-zA-Z0-9]{1,253}$/;

export function platformSettings(config: PlatformConfig): KubePlatformSettings {
  return {
    namespacePrefix: config.KUBE_NAMESPACE_PREFIX,
    ingressClassName: config.KUBE_INGRESS_CLASS,
    ingressControllerNamespace: config.KUBE_INGRESS_NAMESPACE,
    fieldManager: config.KUBE_FIELD_MANAGER,
    ...(config.KUBE_TENANT_ROLE ? { tenantRole: config.KUBE_TENANT_ROLE } : {}),
    progressDeadlineSeconds: config.KUBE_PROGRESS_DEADLINE_SECONDS,
    ...(config.KUBE_EGRESS_DENIED_CIDRS ? { egressDeniedCidrs: config.KUBE_EGRESS_DENIED_CIDRS.split(',') } : {}),
    ...(config.KUBE_PRIVATE_INGRESS_CLASS ? { privateIngressClassName: config.KUBE_PRIVATE_INGRESS_CLASS } : {}),
    ...(config.KUBE_PRIVATE_INGRESS_NAMESPACE ? { privateIngressControllerNamespace: config.KUBE_PRIVATE_INGRESS_NAMESPACE } : {}),
    ...(config.KUBE_PAUSED_BACKEND ? { pausedBackend: parseBackend(config.KUBE_PAUSED_BACKEND) } : {}),
    ...(config.KUBE_CONCURRENCY_METRIC ? { concurrencyMetric: config.KUBE_CONCURRENCY_METRIC } : {}),
    ...(config.KUBE_OTLP_ENDPOINT && config.KUBE_OTLP_NAMESPACE
      ? { tracing: { otlpEndpoint: config.KUBE_OTLP_ENDPOINT, collectorNamespace: config.KUBE_OTLP_NAMESPACE } }
      : {}),
  };
}

function parseBackend(value: string): { serviceName: string; namespace: string; port: number } {
  const [host, port] = value.split(':');
  const [serviceName, namespace] = host.split('.');
  return { serviceName, namespace, port: Number(port) };
}

/**
 * The Kubernetes reconciler: service records become Namespace/ResourceQuota/LimitRange/NetworkPolicy per tenant and
 * Deployment/Service/HPA/Ingress per service (pure builders in ./manifests), applied server-side; rollouts are read
 * back from Deployment status. Every pass starts from the record and the cluster, never from memory, so a pass can
 * be repeated after a crash or a retry.
 */
@Injectable()
export class KubeReconcilers implements Reconcilers {
  private readonly logger = new Logger(KubeReconcilers.name);
  readonly settings: KubePlatformSettings;
  /** How soon to look again at a rollout in progress. */
  pollMs = 1_000;
  private readonly tenantsApplied = new Map<string, { fingerprint: string; at: number }>();
  /** Operations whose objects this process has applied in full (their later passes only read status back). */
  private readonly appliedOperations = new Set<string>();
  /** Key of the secret-values fingerprint in pod templates (derived from MASTER_KEY, never the key itself). */
  private readonly secretHashKey: Buffer;
  private readonly issuer: CertificateIssuer;
  private subject?: Promise<WorkerSubject>;

  constructor(
    @Inject(KUBE_CLIENT) private readonly kube: KubeClient,
    private readonly prisma: PrismaService,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
    @Optional() @Inject(SourceBuilds) private readonly builds: SourceBuilds | null = null,
  ) {
    this.settings = platformSettings(config);
    this.issuer = { name: config.KUBE_CERT_ISSUER, kind: config.KUBE_CERT_ISSUER_KIND };
    this.secretHashKey = createHash('sha256').update(`apprunner-k8s secret fingerprint\0${config.MASTER_KEY}`).digest();
  }

  async reconcileOperation({ operation, service, tenant }: ServiceOperationRequest): Promise<ReconcileOutcome> {
    try {
      await this.ensureTenant(tenant);
      switch (operation.type) {
        case 'DELETE_SERVICE':
          return await this.remove(service, tenant);
        case 'PAUSE_SERVICE':
          return await this.pause(service, tenant, operation.id);
        default:
          return await this.deploy(service, tenant, operation);
      }
    } catch (e) {
      // Invalid objects or forbidden requests will not get better by retrying: the operation fails with the reason.
      if (e instanceof KubePermanentError) return { status: 'FAILED', reason: `The cluster refused the change: ${e.message}` };
      throw e;
    }
  }

  /**
   * Drift correction for a settled service: re-applies what its last operation applied (and the tenant's objects
   * when `withTenant`, once per tenant and pass). Writes nothing when nothing drifted.
   */
  async resync(service: Service, tenant: Tenant, operationId: string | undefined, withTenant = true): Promise<void> {
    if (service.status !== 'RUNNING' && service.status !== 'PAUSED') return;
    const input = await this.serviceInput(service, tenant, operationId, service.status === 'PAUSED', 'live');
    if (!input || 'error' in input) return;
    if (withTenant) await this.ensureTenant(tenant, true);
    await this.applyService(input);
  }

  /**
   * A VPC ingress connection is the service's private endpoint: an Ingress for the connection's DomainName on the
   * IngressClass of the private network its VpcId names (registered by the platform admin), owned by the Deployment.
   * PENDING_DELETION removes it.
   */
  async reconcileVpcIngressConnection(connection: VpcIngressConnection & { service: Service }): Promise<ReconcileOutcome> {
    try {
      const tenant = await this.prisma.client.tenant.findUniqueOrThrow({ where: { id: connection.tenantId } });
      const namespace = namespaceName(this.settings, tenant.accountId);
      const network = await this.prisma.client.platformVpc.findUnique({ where: { id: connection.vpcId } });
      const [ingressSpec] = buildVpcIngressObjects(this.settings, {
        tenant: { accountId: tenant.accountId },
        service: { serviceId: connection.service.serviceId, arn: connection.service.arn },
        connectionId: connection.id,
        domainName: connection.domainName,
        ingressClassName: network?.ingressClassName ?? 'unregistered',
      }) as LiveObject[];
      if (connection.status === 'PENDING_DELETION') {
        await this.kube.delete(ingressSpec);
        return { status: 'SUCCEEDED' };
      }
      if (!network)
        return { status: 'FAILED', reason: `VPC ${connection.vpcId} is not a private network registered by the platform administrator.` };
      const deployment = await this.kube.get<LiveObject>(
        'apps/v1',
        'Deployment',
        serviceObjectName(connection.service.serviceId),
        namespace,
      );
      if (!deployment?.metadata.uid)
        return { status: 'IN_PROGRESS', retryAfterMs: this.pollMs, message: 'Waiting for the service to be deployed.' };
      await this.kube.apply(ownedBy(deployment, ingressSpec));
      return { status: 'SUCCEEDED' };
    } catch (e) {
      if (e instanceof KubePermanentError)
        return { status: 'FAILED', reason: `The cluster refused the VPC ingress connection: ${e.message}` };
      throw e;
    }
  }

  /**
   * A custom domain: a cert-manager Certificate, then (once it is issued) an Ingress for its hosts with that certificate,
   * both owned by the service's Deployment. Its status follows the whole cert-manager chain (Certificate →
   * CertificateRequest → Order → Challenges, see customDomainState): CREATING, PENDING_CERTIFICATE_DNS_VALIDATION while
   * challenges wait (the records the tenant must create come back as CertificateValidationRecords), BINDING_CERTIFICATE
   * until the ingress controller serves the hosts, ACTIVE; CREATE_FAILED when a challenge, the order, the request or
   * the issuance fails. DELETING removes its objects only; a permanent refusal (403, 422) is DELETE_FAILED.
   */
  async reconcileCustomDomain(domain: CustomDomain & { service: Service }): Promise<ReconcileOutcome> {
    try {
      const tenant = await this.prisma.client.tenant.findUniqueOrThrow({ where: { id: domain.tenantId } });
      const namespace = namespaceName(this.settings, tenant.accountId);
      const [certificateSpec, ingressSpec] = buildCustomDomainObjects(
        this.settings,
        {
          tenant: { accountId: tenant.accountId },
          service: { serviceId: domain.service.serviceId, arn: domain.service.arn },
          domainName: domain.domainName,
          enableWWWSubdomain: domain.enableWWWSubdomain,
        },
        this.issuer,
      ) as LiveObject[];
      const tlsSecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${certificateSpec.metadata.name}-tls`, namespace } };
      if (domain.status === 'DELETING') {
        for (const o of [ingressSpec, certificateSpec, tlsSecret]) await this.kube.delete(o);
        return { status: 'SUCCEEDED' };
      }
      const deployment = await this.kube.get<LiveObject>('apps/v1', 'Deployment', serviceObjectName(domain.service.serviceId), namespace);
      if (!deployment?.metadata.uid)
        return {
          status: 'IN_PROGRESS',
          retryAfterMs: this.pollMs,
          progress: 'CREATING',
          message: 'Waiting for the service to be deployed.',
        };
      const certificate = await this.kube.apply(ownedBy(deployment, certificateSpec));
      const chain: CertificateChain = { certificate };
      if (customDomainState(chain).status !== 'BINDING_CERTIFICATE') {
        // Not issued: read what cert-manager made for it. Requests and orders carry the Certificate's labels;
        // challenges carry none (the namespace's are listed, ownership decides).
        const selector = Object.entries(certificateSpec.metadata.labels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        chain.certificateRequests = await this.kube.list('cert-manager.io/v1', 'CertificateRequest', namespace, selector);
        chain.orders = await this.kube.list('acme.cert-manager.io/v1', 'Order', namespace, selector);
        chain.challenges = await this.kube.list('acme.cert-manager.io/v1', 'Challenge', namespace, '');
      }
      let state = customDomainState(chain);
      if (state.status === 'BINDING_CERTIFICATE') state = customDomainState(chain, await this.kube.apply(ownedBy(deployment, ingressSpec)));
      if (state.status === 'ACTIVE') return { status: 'SUCCEEDED' };
      if (state.status === 'CREATE_FAILED') return { status: 'FAILED', reason: state.reason };
      const validationRecords = certificateValidationRecords(domain.certificateValidationRecords, chain);
      return { status: 'IN_PROGRESS', retryAfterMs: this.pollMs, progress: state.status, message: state.message, validationRecords };
    } catch (e) {
      if (e instanceof KubePermanentError) {
        const what = domain.status === 'DELETING' ? "refused to remove the custom domain's objects" : 'refused the custom domain';
        return { status: 'FAILED', reason: `The cluster ${what}: ${e.message}` };
      }
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------------------

  private rememberApplied(operationId: string): void {
    if (this.appliedOperations.size >= 10_000) this.appliedOperations.delete(this.appliedOperations.values().next().value as string);
    this.appliedOperations.add(operationId);
  }

  private done(operationId: string, outcome: ReconcileOutcome): ReconcileOutcome {
    this.appliedOperations.delete(operationId);
    return outcome;
  }

  /**
   * Applies the tenant's Namespace, ResourceQuota, LimitRange and NetworkPolicies. Operations skip it when this
   * process applied the very same objects recently (they change only with the tenant's quotas); resync always applies.
   */
  private async ensureTenant(tenant: Tenant, force = false): Promise<void> {
    const input = {
      accountId: tenant.accountId,
      name: tenant.name,
      quotas: { Services: effectiveQuota(tenant.quotaOverrides, 'Services') },
    };
    const objects = buildTenantObjects(
      this.settings,
      input,
      this.settings.tenantRole ? await this.workerSubject() : undefined,
    ) as LiveObject[];
    const fingerprint = JSON.stringify(objects);
    const known = this.tenantsApplied.get(tenant.id);
    if (!force && known && known.fingerprint === fingerprint && Date.now() - known.at < TENANT_REAPPLY_MS) return;
    for (const object of objects) {
      await this.kube.apply(object);
      if (object.kind === 'RoleBinding') await this.untilBindingEffective(object.metadata.namespace!);
    }
    this.tenantsApplied.set(tenant.id, { fingerprint, at: Date.now() });
  }

  /** The worker's own identity, as the API server names it, for its RoleBinding in tenant namespaces. */
  private async workerSubject(): Promise<WorkerSubject> {
    this.subject ??= this.kube.whoAmI().then(({ username }) => {
      const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
      return sa ? { kind: 'ServiceAccount' as const, namespace: sa[1], name: sa[2] } : { kind: 'User' as const, name: username };
    });
    try {
      return await this.subject;
    } catch (e) {
      this.subject = undefined;
      throw e;
    }
  }

  /**
   * A new RoleBinding takes effect once the API server's RBAC cache has it (milliseconds, usually): asking the
   * authorizer first keeps the next writes from failing with a 403 that would read as a permanent error.
   */
  private async untilBindingEffective(namespace: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
      if (await this.kube.allowed({ verb: 'patch', group: 'apps', resource: 'deployments', namespace })) return;
      if (Date.now() > deadline)
        throw new TransientReconcileError(`the worker's RoleBinding in ${namespace} has not taken effect after 10 s`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  private async deploy(service: Service, tenant: Tenant, operation: ServiceOperationRequest['operation']): Promise<ReconcileOutcome> {
    const namespace = namespaceName(this.settings, tenant.accountId);
    const live = await this.kube.get<LiveObject>('apps/v1', 'Deployment', serviceObjectName(service.serviceId), namespace);

    // A rollback this operation started earlier: wait for the previous version to be back, then report the failure.
    if (live?.metadata.annotations?.[ROLLBACK_OF] === operation.id) {
      const state = rolloutState(live, await this.newPods(live));
      const reason = live.metadata.annotations[FAILURE_REASON] ?? 'The deployment failed.';
      if (state.state === 'complete') return this.done(operation.id, { status: 'FAILED', reason });
      if (state.state === 'failed')
        return this.done(operation.id, {
          status: 'FAILED',
          reason: `${reason} Rolling back failed too: ${state.reason}`,
          rollbackFailed: true,
        });
      return { status: 'IN_PROGRESS', retryAfterMs: this.pollMs, message: `Rolling back: ${state.message}` };
    }

    // Apply everything once per operation (per process); later passes only read the rollout back. After a restart,
    // or if the Deployment no longer carries this operation, everything is applied again (level-triggered).
    let deployment: LiveObject;
    if (live && this.appliedOperations.has(operation.id) && live.metadata.annotations?.[ANNOTATIONS.operation] === operation.id) {
      deployment = live;
    } else {
      const source = await this.sourceFor(operation, service, tenant);
      if ('inProgress' in source) return { status: 'IN_PROGRESS', retryAfterMs: this.pollMs, message: source.inProgress };
      if ('error' in source) return this.done(operation.id, { status: 'FAILED', reason: source.error });
      const input = await this.serviceInput(service, tenant, operation.id, false, 'tenant', source.ready);
      if (!input) return this.done(operation.id, { status: 'FAILED', reason: NO_IMAGE });
      if ('error' in input) return this.done(operation.id, { status: 'FAILED', reason: input.error });
      deployment = await this.applyService(input, live ?? null);
      this.rememberApplied(operation.id);
    }
    const state = rolloutState(deployment, await this.newPods(deployment));
    if (state.state === 'complete') {
      await this.recordDeployed(service, operation, deployment);
      return this.done(operation.id, { status: 'SUCCEEDED' });
    }
    if (state.state === 'progressing') return { status: 'IN_PROGRESS', retryAfterMs: this.pollMs, message: state.message };

    // The new version failed. A service that never ran has nothing to go back to (CREATE_FAILED).
    const previous = operation.rollbackSpec as unknown as ServiceSpec | null;
    if (operation.type === 'CREATE_SERVICE' || operation.fromStatus === 'CREATE_FAILED' || !previous) {
      return this.done(operation.id, { status: 'FAILED', reason: state.reason });
    }
    const rollbackInput = await this.serviceInput(
      { ...service, spec: previous as never },
      tenant,
      operation.id,
      operation.fromStatus === 'PAUSED',
      'tenant',
    );
    if (!rollbackInput || 'error' in rollbackInput) {
      return this.done(operation.id, {
        status: 'FAILED',
        reason: `${state.reason} Rolling back failed too: ${rollbackInput ? rollbackInput.error : 'no image to go back to'}`,
        rollbackFailed: true,
      });
    }
    rollbackInput.extraDeploymentAnnotations = { [ROLLBACK_OF]: operation.id, [FAILURE_REASON]: state.reason.slice(0, 1_000) };
    await this.applyService(rollbackInput, deployment);
    this.logger.warn(`operation ${operation.id}: ${state.reason}; rolling back service ${service.serviceId}`);
    return { status: 'IN_PROGRESS', retryAfterMs: this.pollMs, message: 'Rolling back to the previous version.' };
  }

  private async pause(service: Service, tenant: Tenant, operationId: string): Promise<ReconcileOutcome> {
    const input = await this.serviceInput(service, tenant, operationId, true, 'live');
    if (!input) return { status: 'FAILED', reason: NO_IMAGE };
    if ('error' in input) return { status: 'FAILED', reason: input.error };
    const deployment = await this.applyService(input);
    const status = (deployment.status ?? {}) as { replicas?: number; observedGeneration?: number };
    if ((status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0) && (status.replicas ?? 0) === 0)
      return { status: 'SUCCEEDED' };
    return { status: 'IN_PROGRESS', retryAfterMs: this.pollMs, message: 'Scaling to zero.' };
  }

  /** Deletes every object of the service; done when the Deployment is gone (owned objects follow it anyway). */
  private async remove(service: Service, tenant: Tenant): Promise<ReconcileOutcome> {
    const namespace = namespaceName(this.settings, tenant.accountId);
    const name = serviceObjectName(service.serviceId);
    const live = await this.kube.get<LiveObject>('apps/v1', 'Deployment', name, namespace);
    if (live) {
      // Dependents first (they are owned, but a cluster without a garbage collector must not keep them), then the owner.
      for (const line of (live.metadata.annotations?.[APPLIED_SET] ?? '').split('\n')) {
        const dependent = parseRef(line, namespace);
        if (dependent) await this.kube.delete(dependent);
      }
      if (!live.metadata.deletionTimestamp) await this.kube.delete(live);
      if (await this.kube.get('apps/v1', 'Deployment', name, namespace)) {
        return { status: 'IN_PROGRESS', retryAfterMs: this.pollMs, message: 'Waiting for the deployment to terminate.' };
      }
    }
    return { status: 'SUCCEEDED' };
  }

  /** Applies the Deployment first, then the objects it owns; deletes what the previous apply made and this one did not. */
  private async applyService(input: Input, live?: LiveObject | null): Promise<LiveObject> {
    const objects = buildServiceObjects(this.settings, input) as LiveObject[];
    if (input.secretValues && Object.keys(input.secretEnv).length > 0)
      objects.push(buildServiceSecret(this.settings, input, input.secretValues) as LiveObject);
    const deploymentSpec = objects.find((o) => o.kind === 'Deployment');
    if (!deploymentSpec) throw new Error('The builders produced no Deployment.');
    const dependents = objects.filter((o) => o !== deploymentSpec);
    const namespace = deploymentSpec.metadata.namespace;
    const previous =
      live === undefined ? await this.kube.get<LiveObject>('apps/v1', 'Deployment', deploymentSpec.metadata.name, namespace) : live;
    const applied = dependents.map(ref).sort();
    deploymentSpec.metadata.annotations = {
      ...deploymentSpec.metadata.annotations,
      ...input.extraDeploymentAnnotations,
      [APPLIED_SET]: applied.join('\n'),
    };
    const deployment = await this.kube.apply(deploymentSpec);
    for (const o of dependents) await this.kube.apply(ownedBy(deployment, o));
    const keep = new Set(applied);
    for (const line of (previous?.metadata.annotations?.[APPLIED_SET] ?? '').split('\n')) {
      const stale = line && !keep.has(line) ? parseRef(line, namespace) : undefined;
      if (stale) await this.kube.delete(stale);
    }
    return deployment;
  }

  private async newPods(deployment: LiveObject): Promise<LiveObject[]> {
    const state = rolloutState(deployment);
    if (state.state !== 'failed') return [];
    const selector = (deployment.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {};
    const labels = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return this.kube.list('v1', 'Pod', deployment.metadata.namespace, labels);
  }

  /**
   * What a deploying pass runs. Image services: the operation's image (a digest an automatic deployment resolved) or
   * the spec's. Code services: the image of the operation's build (started, followed or taken over here); RESUME
   * brings back what ran before the pause.
   */
  private async sourceFor(operation: Operation, service: Service, tenant: Tenant): Promise<SourceOutcome> {
    const spec = service.spec as unknown as ServiceSpec;
    if (spec.SourceConfiguration?.ImageRepository) {
      const image =
        operation.type === 'RESUME_SERVICE'
          ? (service.deployedImage ?? spec.SourceConfiguration.ImageRepository.ImageIdentifier)
          : (operation.image ?? spec.SourceConfiguration.ImageRepository.ImageIdentifier);
      return image ? { ready: { image } } : { error: 'The service has no image to run.' };
    }
    if (!spec.SourceConfiguration?.CodeRepository) return { error: 'The service has no source.' };
    if (operation.type === 'RESUME_SERVICE') {
      const deployed = deployedSource(service);
      return deployed ? { ready: deployed } : { error: 'The service has never been deployed: there is no build to resume.' };
    }
    if (!this.builds)
      return {
        error: 'Source code repositories need the build pipeline, which this worker is not configured for (BUILD_REGISTRY, GitHub App).',
      };
    return this.builds.forOperation(operation, service, tenant);
  }

  /**
   * After a successful rollout: what runs now (the Deployment's image, the build's run configuration), for pause,
   * resume, resync and later rollbacks. Read from the cluster and the build, so a repeated pass writes the same.
   */
  private async recordDeployed(service: Service, operation: Operation, deployment: LiveObject): Promise<void> {
    const containers =
      (deployment.spec as { template?: { spec?: { containers?: { image?: string }[] } } }).template?.spec?.containers ?? [];
    const image = containers[0]?.image;
    if (!image) return;
    const spec = service.spec as unknown as ServiceSpec;
    const build = spec.SourceConfiguration?.CodeRepository
      ? await this.prisma.client.build.findUnique({ where: { operationId: operation.id } })
      : null;
    await this.prisma.client.service.update({
      where: { id: service.id },
      data: {
        deployedImage: image,
        ...(build?.status === 'SUCCEEDED'
          ? { deployedImageConfiguration: build.imageConfiguration as Prisma.InputJsonValue, deployedCommit: build.commit }
          : {}),
      },
    });
  }

  private async serviceInput(
    service: Service,
    tenant: Tenant,
    operationId: string | undefined,
    paused: boolean,
    secrets: SecretSource,
    source: DeployableSource | undefined = deployedSource(service),
  ): Promise<Input | { error: string } | undefined> {
    const spec = service.spec as unknown as ServiceSpec;
    const code = spec.SourceConfiguration?.CodeRepository;
    const image = source?.image ?? spec.SourceConfiguration?.ImageRepository?.ImageIdentifier;
    if (!image) return code ? { error: 'The service has not been built yet: there is no image to run.' } : undefined;
    const codeValues = code ? (source?.imageConfiguration as CodeConfigurationValues | undefined) : undefined;
    const asc = await this.prisma.client.autoScalingConfiguration.findUniqueOrThrow({ where: { id: service.autoScalingConfigurationId } });
    const result = await this.secretValues(spec, tenant, service.serviceId, secrets, codeValues);
    if ('error' in result) return result;
    const vpc = await this.vpcEgress(spec, service);
    if (vpc && 'error' in vpc) return vpc;
    const pullSecret = await this.pullSecret(spec, tenant);
    if (pullSecret && 'error' in pullSecret) return pullSecret;
    const instanceRole = await this.instanceRole(spec, tenant);
    if (instanceRole && 'error' in instanceRole) return instanceRole;
    const traced = await this.traced(spec, service);
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
      autoScaling: { arn: asc.arn, minSize: asc.minSize, maxSize: asc.maxSize, maxConcurrency: asc.maxConcurrency },
      ...(operationId ? { operationId } : {}),
      image,
      paused,
      secretEnv,
      ...(codeValues ? { codeConfigurationValues: codeValues } : {}),
      ...(vpc ? { vpcEgress: vpc } : {}),
      ...(pullSecret ? { imagePullSecrets: [pullSecret.secretName] } : {}),
      ...(instanceRole ? { serviceAccountName: instanceRole.name } : {}),
      ...(traced ? { traced } : {}),
      ...(Object.keys(resolved).length > 0 ? { secretValues: resolved, secretHash: hashSecretValues(resolved, this.secretHashKey) } : {}),
    };
  }

  /**
   * Private registries: `AuthenticationConfiguration.AccessRoleArn` of an image service names (by its role name) a
   * `kubernetes.io/dockerconfigjson` Secret the tenant keeps in its namespace, as App Runner's access role grants ECR pulls.
   */
  private async pullSecret(spec: ServiceSpec, tenant: Tenant): Promise<{ secretName: string } | { error: string } | undefined> {
    const arn = spec.SourceConfiguration?.ImageRepository ? spec.SourceConfiguration.AuthenticationConfiguration?.AccessRoleArn : undefined;
    if (!arn) return undefined;
    const ref = pullSecretNameFromRoleArn(arn, tenant.accountId);
    if ('error' in ref) return { error: `AccessRoleArn: ${ref.error}` };
    const namespace = namespaceName(this.settings, tenant.accountId);
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

  /** Observability enabled with a configuration that traces with AWSXRAY (App Runner's only vendor). */
  private async traced(spec: ServiceSpec, service: Service): Promise<boolean> {
    if (!spec.ObservabilityConfiguration?.ObservabilityEnabled || !service.observabilityConfigurationId || !this.settings.tracing)
      return false;
    const configuration = await this.prisma.client.observabilityConfiguration.findUnique({
      where: { id: service.observabilityConfigurationId },
      select: { traceVendor: true },
    });
    return configuration?.traceVendor === 'AWSXRAY';
  }

  /**
   * `InstanceConfiguration.InstanceRoleArn`: the role the app's AWS calls use becomes a ServiceAccount of the same
   * name in the tenant namespace, which the tenant binds to its cloud identity (IRSA, GKE/AKS workload identity).
   */
  private async instanceRole(spec: ServiceSpec, tenant: Tenant): Promise<{ name: string } | { error: string } | undefined> {
    const arn = spec.InstanceConfiguration?.InstanceRoleArn;
    if (!arn) return undefined;
    const ref = objectNameFromRoleArn(arn, tenant.accountId, 'InstanceRoleArn', 'ServiceAccount');
    if ('error' in ref) return ref;
    const namespace = namespaceName(this.settings, tenant.accountId);
    if (!(await this.kube.get('v1', 'ServiceAccount', ref.name, namespace))) {
      return { error: `InstanceRoleArn: the ServiceAccount "${ref.name}" does not exist in namespace ${namespace}.` };
    }
    return ref;
  }

  /**
   * `EgressType: VPC`: the connector's subnets and security groups, resolved through the networks the platform admin
   * registered (admin API). A connector naming an unregistered one fails the deployment: reaching it is not possible.
   */
  private async vpcEgress(spec: ServiceSpec, service: Service): Promise<VpcEgress | { error: string } | undefined> {
    if (spec.NetworkConfiguration?.EgressConfiguration?.EgressType !== 'VPC') return undefined;
    if (!service.vpcConnectorId) return { error: 'EgressType VPC needs a VPC connector.' };
    const connector = await this.prisma.client.vpcConnector.findUniqueOrThrow({ where: { id: service.vpcConnectorId } });
    const [subnets, groups] = await Promise.all([
      this.prisma.client.platformSubnet.findMany({ where: { id: { in: connector.subnets } } }),
      this.prisma.client.platformSecurityGroup.findMany({ where: { id: { in: connector.securityGroups } } }),
    ]);
    const missing = [
      ...connector.subnets.filter((id) => !subnets.some((s) => s.id === id)),
      ...connector.securityGroups.filter((id) => !groups.some((g) => g.id === id)),
    ];
    if (missing.length > 0) {
      return {
        error: `VPC connector ${connector.name}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not registered by the platform administrator.`,
      };
    }
    return {
      subnets: connector.subnets.map((id) => ({ id, cidrs: subnets.find((s) => s.id === id)!.cidrs })),
      securityGroups: connector.securityGroups.map((id) => ({
        id,
        egress: groups.find((g) => g.id === id)!.egress as unknown as SecurityGroupRule[],
      })),
    };
  }

  /**
   * Values of `RuntimeEnvironmentSecrets`, by env var name. Deployments read them from the tenant's Secrets (see
   * secret-refs.ts), as App Runner reads Secrets Manager at deployment time; pause and resync reuse what the service's
   * own Secret holds, so a changed source takes effect with the next deployment, not behind the tenant's back.
   */
  private async secretValues(
    spec: ServiceSpec,
    tenant: Tenant,
    serviceId: string,
    source: SecretSource,
    codeValues?: CodeConfigurationValues,
  ): Promise<{ values: Record<string, string> } | { error: string }> {
    const refs = runtimeSecretRefs(spec, codeValues);
    const names = Object.keys(refs).sort();
    if (names.length === 0) return { values: {} };
    const namespace = namespaceName(this.settings, tenant.accountId);
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
        source === 'live' ? { secretName: serviceSecretName(serviceId), key: name } : parseSecretRef(refs[name], tenant.accountId);
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

/** What the last successful deployment ran, when the service records it. */
function deployedSource(service: Service): DeployableSource | undefined {
  if (!service.deployedImage) return undefined;
  return {
    image: service.deployedImage,
    ...(service.deployedImageConfiguration
      ? { imageConfiguration: service.deployedImageConfiguration as DeployableSource['imageConfiguration'] }
      : {}),
    ...(service.deployedCommit ? { commit: service.deployedCommit } : {}),
  };
}

/** serviceInput finds no image only for a spec with no source at all (code services get a reason of their own). */
const NO_IMAGE = 'The service has no image to run.';
