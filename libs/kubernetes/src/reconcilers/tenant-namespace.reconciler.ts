import { Inject, Injectable } from '@nestjs/common';
import { TransientReconcileError, type TenantSnapshot } from '@apprunner/operation';
import { KUBE_CLIENT, KubeClient, type LiveObject } from '../kube-client';
import { buildTenantObjects, LABELS, namespaceName, type WorkerSubject } from '../manifests';
import { ReconcilerSettings } from './reconciler-settings';

/** Tenant objects are re-applied by operations at most this often (resync re-applies them every pass). */
const TENANT_REAPPLY_MS = 60_000;

/**
 * A tenant's namespace and what confines it: Namespace, ResourceQuota, LimitRange, NetworkPolicies and the worker's
 * RoleBinding (pure builders in ../manifests/tenant.ts), applied server-side; and the removal of the namespace of a
 * tenant the platform admin deleted.
 */
@Injectable()
export class TenantNamespaceReconciler {
  private readonly applied = new Map<string, { fingerprint: string; at: number }>();
  private subject?: Promise<WorkerSubject>;

  constructor(
    @Inject(KUBE_CLIENT) private readonly kube: KubeClient,
    private readonly settings: ReconcilerSettings,
  ) {}

  /**
   * Applies the tenant's objects. Operations skip it when this process applied the very same objects recently (they
   * change only with the tenant's quotas); `force` (resync) always applies.
   */
  async reconcile(tenant: TenantSnapshot, force = false): Promise<void> {
    const settings = this.settings.platform;
    const input = { accountId: tenant.accountId, name: tenant.name, quotas: tenant.quotas };
    const objects = buildTenantObjects(settings, input, settings.tenantRole ? await this.workerSubject() : undefined) as LiveObject[];
    const fingerprint = JSON.stringify(objects);
    const known = this.applied.get(tenant.id);
    if (!force && known && known.fingerprint === fingerprint && Date.now() - known.at < TENANT_REAPPLY_MS) return;
    for (const object of objects) {
      await this.kube.apply(object);
      if (object.kind === 'RoleBinding') await this.untilBindingEffective(object.metadata.namespace!);
    }
    this.applied.set(tenant.id, { fingerprint, at: Date.now() });
  }

  /**
   * Deletes the namespace of a deleted tenant, with everything still in it: only a namespace this platform made for that
   * tenant (one of the same name made by hand stays). True once it is gone, or was never the platform's.
   */
  async remove(accountId: string): Promise<boolean> {
    const namespace = namespaceName(this.settings.platform, accountId);
    const found = await this.kube.get<LiveObject>('v1', 'Namespace', namespace);
    const live =
      found?.metadata.labels?.[LABELS.tenant] === accountId &&
      found.metadata.labels?.[LABELS.managedBy] === this.settings.platform.fieldManager
        ? found
        : undefined;
    if (live && !live.metadata.deletionTimestamp) await this.kube.delete(live);
    return !live || !(await this.kube.get('v1', 'Namespace', namespace));
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
}
