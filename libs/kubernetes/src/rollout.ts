import type { LiveObject } from './kube-client';

/** What a Deployment's status says about its latest rollout (kubectl rollout status's rules). */
export type RolloutState =
  | { state: 'complete' }
  | { state: 'progressing'; message: string }
  | { state: 'failed'; reason: string };

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

/** Waiting reasons that mean the new pods will not come up without a change of spec. */
const FATAL_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/**
 * Evaluates a rollout as `kubectl rollout status` does: the controller has seen the latest generation, every
 * replica runs the new template and is available, and Progressing has not hit its deadline. `pods` (the new
 * ReplicaSet's pods) only refine the failure reason shown to the tenant.
 */
export function rolloutState(deployment: LiveObject, pods: LiveObject[] = []): RolloutState {
  const spec = deployment.spec as { replicas?: number } | undefined;
  const status = (deployment.status ?? {}) as DeploymentStatus;
  const generation = deployment.metadata.generation ?? 0;
  const desired = spec?.replicas ?? 1;
  if ((status.observedGeneration ?? 0) < generation) return { state: 'progressing', message: 'Waiting for the deployment controller to observe the new spec.' };
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { state: 'failed', reason: failureReason(pods) ?? `The new version did not become healthy in time: ${progressing.message ?? 'progress deadline exceeded'}.` };
  }
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < desired) return { state: 'progressing', message: `${updated} of ${desired} instances updated.` };
  if (total > updated) return { state: 'progressing', message: `${total - updated} old instances pending termination.` };
  if (available < updated) return { state: 'progressing', message: `${available} of ${updated} updated instances available.` };
  return { state: 'complete' };
}

/** The first fatal container state among pods, phrased for the tenant (e.g. "ImagePullBackOff: ..."). */
export function failureReason(pods: LiveObject[]): string | undefined {
  for (const pod of pods) {
    const statuses = ((pod.status as { containerStatuses?: unknown[] } | undefined)?.containerStatuses ?? []) as {
      name: string;
      state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
      lastState?: { terminated?: { reason?: string; exitCode?: number } };
    }[];
    for (const cs of statuses) {
      const waiting = cs.state?.waiting;
      if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
        const last = cs.lastState?.terminated;
        const exit = last ? ` (last exit: ${last.reason ?? 'Error'}, code ${last.exitCode ?? '?'})` : '';
        return `${waiting.reason}: ${waiting.message ?? 'the container did not start'}${exit}`;
      }
    }
    const ready = ((pod.status as { conditions?: { type: string; status: string; message?: string }[] } | undefined)?.conditions ?? []).find(
      (c) => c.type === 'Ready',
    );
    if (ready && ready.status === 'False' && /health|probe/i.test(ready.message ?? '')) return `Health check failed: ${ready.message}`;
  }
  return undefined;
}

/** Where a cert-manager Certificate stands (its Ready and Issuing conditions, as cert-manager writes them). */
export type CertificateState = { state: 'ready' } | { state: 'issuing' } | { state: 'creating' } | { state: 'failed'; reason: string };

export function certificateState(certificate: LiveObject): CertificateState {
  const status = (certificate.status ?? {}) as { conditions?: { type: string; status: string; reason?: string; message?: string; observedGeneration?: number }[]; failedIssuanceAttempts?: number };
  const generation = certificate.metadata.generation ?? 1;
  const current = (type: string) => status.conditions?.find((c) => c.type === type && (c.observedGeneration === undefined || c.observedGeneration >= generation));
  const ready = current('Ready');
  const issuing = current('Issuing');
  if (ready?.status === 'True') return { state: 'ready' };
  if (issuing?.status === 'False' && issuing.reason === 'Failed') return { state: 'failed', reason: `The certificate could not be issued: ${issuing.message ?? 'issuance failed'}` };
  if (issuing?.status === 'True') return { state: 'issuing' };
  return { state: 'creating' };
}
