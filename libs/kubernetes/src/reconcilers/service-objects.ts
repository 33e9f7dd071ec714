import { Inject, Injectable } from '@nestjs/common';
import { KUBE_CLIENT, KubeClient, type LiveObject } from '../kube-client';
import { buildServiceObjects, buildServiceSecret, namespaceName, serviceObjectName, type ServiceInput } from '../manifests';
import { rolloutState } from '../rollout';
import { ReconcilerSettings } from './reconciler-settings';

/** Deployment annotations the reconciler keeps its own bookkeeping in (level-triggered: state lives in the cluster). */
export const ROLLBACK_OF = 'apprunner.k8s/rollback-of';
export const FAILURE_REASON = 'apprunner.k8s/failure-reason';
/**
 * The objects the last apply produced besides the Deployment, as `apiVersion|kind|name` lines (an ApplySet in
 * miniature): what a later apply no longer produces (the HPA of a paused service, the Ingress of a private one)
 * is deleted, without listing every kind on every pass.
 */
export const APPLIED_SET = 'apprunner.k8s/applied-objects';

/** What a service's objects are built from: the builders' input, and what only the apply adds. */
export type ServiceObjectsInput = ServiceInput & {
  extraDeploymentAnnotations?: Record<string, string>;
  /** Values of the service's Secret, by env var name (RuntimeEnvironmentSecrets). */
  secretValues?: Record<string, string>;
};

/** `object`, owned by the service's Deployment: deleting the Deployment (DeleteService) takes it along. */
export function ownedBy<T extends LiveObject>(deployment: LiveObject, object: T): T {
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

/** A service's Deployment and the objects it owns (Service, HPA, Ingress, NetworkPolicy, Secret): applied, read, deleted. */
@Injectable()
export class ServiceObjects {
  constructor(
    @Inject(KUBE_CLIENT) private readonly kube: KubeClient,
    private readonly settings: ReconcilerSettings,
  ) {}

  /** The service's Deployment as it is in the cluster. */
  deployment(serviceId: string, accountId: string): Promise<LiveObject | undefined> {
    return this.kube.get<LiveObject>(
      'apps/v1',
      'Deployment',
      serviceObjectName(serviceId),
      namespaceName(this.settings.platform, accountId),
    );
  }

  /**
   * Applies the Deployment first, then the objects it owns; deletes what the previous apply made and this one did not.
   * `live`: the Deployment as read by the caller (null: known to be absent; undefined: read it here).
   */
  async apply(input: ServiceObjectsInput, live?: LiveObject | null): Promise<LiveObject> {
    const settings = this.settings.platform;
    const objects = buildServiceObjects(settings, input) as LiveObject[];
    if (input.secretValues && Object.keys(input.secretEnv).length > 0)
      objects.push(buildServiceSecret(settings, input, input.secretValues) as LiveObject);
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

  /**
   * Deletes the Deployment's dependents (they are owned, but a cluster without a garbage collector must not keep them),
   * then the Deployment. True once the Deployment is gone.
   */
  async remove(live: LiveObject): Promise<boolean> {
    const namespace = live.metadata.namespace;
    for (const line of (live.metadata.annotations?.[APPLIED_SET] ?? '').split('\n')) {
      const dependent = parseRef(line, namespace);
      if (dependent) await this.kube.delete(dependent);
    }
    if (!live.metadata.deletionTimestamp) await this.kube.delete(live);
    return !(await this.kube.get('apps/v1', 'Deployment', live.metadata.name, namespace));
  }

  /** The pods of a failed rollout (their states give the reason); none while it is not failed. */
  async newPods(deployment: LiveObject): Promise<LiveObject[]> {
    const state = rolloutState(deployment);
    if (state.state !== 'failed') return [];
    const selector = (deployment.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {};
    const labels = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return this.kube.list('v1', 'Pod', deployment.metadata.namespace, labels);
  }
}
