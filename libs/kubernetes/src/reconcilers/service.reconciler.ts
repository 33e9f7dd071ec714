import { Injectable, Logger } from '@nestjs/common';
import type {
  DeployableSource,
  ReconcileOutcome,
  ServiceOperationSnapshot,
  ServiceReconcilerPort,
  ServiceSnapshot,
  SourceOutcome,
} from '@apprunner/operation';
import { KubePermanentError, type LiveObject } from '../kube-client';
import { ANNOTATIONS } from '../manifests';
import { rolloutState } from '../rollout';
import { ReconcilerSettings } from './reconciler-settings';
import { ServiceInputs } from './service-inputs';
import { FAILURE_REASON, ROLLBACK_OF, ServiceObjects } from './service-objects';
import { TenantNamespaceReconciler } from './tenant-namespace.reconciler';

/** ServiceInputs finds no image only for a spec with no source at all (code services get a reason of their own). */
const NO_IMAGE = 'The service has no image to run.';

/**
 * A service's operations: its record becomes a Deployment with its Service, HPA, Ingress, NetworkPolicy and Secret
 * (pure builders in ../manifests), applied server-side in the tenant's namespace; the rollout is read back from the
 * Deployment's status, and a failed one is rolled back to the previous spec. Every pass starts from the snapshot and the
 * cluster, never from memory, so a pass can be repeated after a crash or a retry.
 */
@Injectable()
export class ServiceReconciler implements ServiceReconcilerPort {
  private readonly logger = new Logger(ServiceReconciler.name);
  /** Operations whose objects this process has applied in full (their later passes only read status back). */
  private readonly appliedOperations = new Set<string>();

  constructor(
    private readonly settings: ReconcilerSettings,
    private readonly tenants: TenantNamespaceReconciler,
    private readonly inputs: ServiceInputs,
    private readonly objects: ServiceObjects,
  ) {}

  async reconcile(snapshot: ServiceOperationSnapshot): Promise<ReconcileOutcome> {
    try {
      await this.tenants.reconcile(snapshot.tenant);
      switch (snapshot.operation.type) {
        case 'DELETE_SERVICE':
          return await this.remove(snapshot);
        case 'PAUSE_SERVICE':
          return await this.pause(snapshot);
        default:
          return await this.deploy(snapshot);
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
  async resync(snapshot: ServiceSnapshot, lastOperationId: string | undefined, withTenant = true): Promise<void> {
    const { status } = snapshot.service;
    if (status !== 'RUNNING' && status !== 'PAUSED') return;
    const input = await this.inputs.resolve(snapshot, { operationId: lastOperationId, paused: status === 'PAUSED', secrets: 'live' });
    if (!input || 'error' in input) return;
    if (withTenant) await this.tenants.reconcile(snapshot.tenant, true);
    await this.objects.apply(input);
  }

  private async deploy(snapshot: ServiceOperationSnapshot): Promise<ReconcileOutcome> {
    const { operation, service, tenant } = snapshot;
    const live = await this.objects.deployment(service.serviceId, tenant.accountId);

    // A rollback this operation started earlier: wait for the previous version to be back, then report the failure.
    if (live?.metadata.annotations?.[ROLLBACK_OF] === operation.id) {
      const state = rolloutState(live, await this.objects.newPods(live));
      const reason = live.metadata.annotations[FAILURE_REASON] ?? 'The deployment failed.';
      if (state.state === 'complete') return this.done(operation.id, { status: 'FAILED', reason });
      if (state.state === 'failed')
        return this.done(operation.id, {
          status: 'FAILED',
          reason: `${reason} Rolling back failed too: ${state.reason}`,
          rollbackFailed: true,
        });
      return { status: 'IN_PROGRESS', retryAfterMs: this.settings.pollMs, message: `Rolling back: ${state.message}` };
    }

    // Apply everything once per operation (per process); later passes only read the rollout back. After a restart,
    // or if the Deployment no longer carries this operation, everything is applied again (level-triggered).
    let deployment: LiveObject;
    if (live && this.appliedOperations.has(operation.id) && live.metadata.annotations?.[ANNOTATIONS.operation] === operation.id) {
      deployment = live;
    } else {
      const source = sourceFor(snapshot);
      if ('inProgress' in source) return { status: 'IN_PROGRESS', retryAfterMs: this.settings.pollMs, message: source.inProgress };
      if ('error' in source) return this.done(operation.id, { status: 'FAILED', reason: source.error });
      const input = await this.inputs.resolve(snapshot, {
        operationId: operation.id,
        paused: false,
        secrets: 'tenant',
        source: source.ready,
      });
      if (!input) return this.done(operation.id, { status: 'FAILED', reason: NO_IMAGE });
      if ('error' in input) return this.done(operation.id, { status: 'FAILED', reason: input.error });
      deployment = await this.objects.apply(input, live ?? null);
      this.rememberApplied(operation.id);
    }
    const state = rolloutState(deployment, await this.objects.newPods(deployment));
    if (state.state === 'complete') return this.done(operation.id, { status: 'SUCCEEDED', ...deployedNow(snapshot, deployment) });
    if (state.state === 'progressing') return { status: 'IN_PROGRESS', retryAfterMs: this.settings.pollMs, message: state.message };

    // The new version failed. A service that never ran has nothing to go back to (CREATE_FAILED).
    const previous = operation.rollbackSpec;
    if (operation.type === 'CREATE_SERVICE' || operation.fromStatus === 'CREATE_FAILED' || !previous) {
      return this.done(operation.id, { status: 'FAILED', reason: state.reason });
    }
    const rollbackInput = await this.inputs.resolve(snapshot, {
      operationId: operation.id,
      paused: operation.fromStatus === 'PAUSED',
      secrets: 'tenant',
      spec: previous,
    });
    if (!rollbackInput || 'error' in rollbackInput) {
      return this.done(operation.id, {
        status: 'FAILED',
        reason: `${state.reason} Rolling back failed too: ${rollbackInput ? rollbackInput.error : 'no image to go back to'}`,
        rollbackFailed: true,
      });
    }
    rollbackInput.extraDeploymentAnnotations = { [ROLLBACK_OF]: operation.id, [FAILURE_REASON]: state.reason.slice(0, 1_000) };
    await this.objects.apply(rollbackInput, deployment);
    this.logger.warn(`operation ${operation.id}: ${state.reason}; rolling back service ${service.serviceId}`);
    return { status: 'IN_PROGRESS', retryAfterMs: this.settings.pollMs, message: 'Rolling back to the previous version.' };
  }

  private async pause(snapshot: ServiceOperationSnapshot): Promise<ReconcileOutcome> {
    const input = await this.inputs.resolve(snapshot, { operationId: snapshot.operation.id, paused: true, secrets: 'live' });
    if (!input) return { status: 'FAILED', reason: NO_IMAGE };
    if ('error' in input) return { status: 'FAILED', reason: input.error };
    const deployment = await this.objects.apply(input);
    const status = (deployment.status ?? {}) as { replicas?: number; observedGeneration?: number };
    if ((status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0) && (status.replicas ?? 0) === 0)
      return { status: 'SUCCEEDED' };
    return { status: 'IN_PROGRESS', retryAfterMs: this.settings.pollMs, message: 'Scaling to zero.' };
  }

  /** Deletes every object of the service; done when the Deployment is gone (owned objects follow it anyway). */
  private async remove({ service, tenant }: ServiceOperationSnapshot): Promise<ReconcileOutcome> {
    const live = await this.objects.deployment(service.serviceId, tenant.accountId);
    if (live && !(await this.objects.remove(live))) {
      return { status: 'IN_PROGRESS', retryAfterMs: this.settings.pollMs, message: 'Waiting for the deployment to terminate.' };
    }
    return { status: 'SUCCEEDED' };
  }

  private rememberApplied(operationId: string): void {
    if (this.appliedOperations.size >= 10_000) this.appliedOperations.delete(this.appliedOperations.values().next().value as string);
    this.appliedOperations.add(operationId);
  }

  private done(operationId: string, outcome: ReconcileOutcome): ReconcileOutcome {
    this.appliedOperations.delete(operationId);
    return outcome;
  }
}

/**
 * What a deploying pass runs. Image services: the operation's image (a digest an automatic deployment resolved) or
 * the spec's. Code services: the image of the operation's build (the snapshot says where it stands); RESUME brings back
 * what ran before the pause.
 */
function sourceFor({ operation, service, build }: ServiceOperationSnapshot): SourceOutcome {
  const source = service.spec.SourceConfiguration;
  if (source?.ImageRepository) {
    const image =
      operation.type === 'RESUME_SERVICE'
        ? (service.deployed?.image ?? source.ImageRepository.ImageIdentifier)
        : (operation.image ?? source.ImageRepository.ImageIdentifier);
    return image ? { ready: { image } } : { error: 'The service has no image to run.' };
  }
  if (!source?.CodeRepository) return { error: 'The service has no source.' };
  if (operation.type === 'RESUME_SERVICE') {
    return service.deployed ? { ready: service.deployed } : { error: 'The service has never been deployed: there is no build to resume.' };
  }
  return (
    build ?? {
      error: 'Source code repositories need the build pipeline, which this worker is not configured for (BUILD_REGISTRY, GitHub App).',
    }
  );
}

/**
 * After a successful rollout: what runs now (the Deployment's image, the run configuration of the operation's build),
 * for pause, resume, resync and later rollbacks. Read from the cluster and the build, so a repeated pass says the same.
 */
function deployedNow({ build }: ServiceOperationSnapshot, deployment: LiveObject): { deployed?: DeployableSource } {
  const containers = (deployment.spec as { template?: { spec?: { containers?: { image?: string }[] } } }).template?.spec?.containers ?? [];
  const image = containers[0]?.image;
  if (!image) return {};
  const built = build && 'ready' in build ? build.ready : undefined;
  return {
    deployed: {
      image,
      ...(built?.imageConfiguration ? { imageConfiguration: built.imageConfiguration } : {}),
      ...(built?.commit ? { commit: built.commit } : {}),
    },
  };
}
