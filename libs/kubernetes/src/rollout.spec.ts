import { describe, expect, it } from 'vitest';
import { TransientReconcileError } from '@apprunner/operation';
import { classify, KubePermanentError, type LiveObject } from './kube-client';
import { failureReason, rolloutState } from './rollout';

const deployment = (generation: number, replicas: number | undefined, status: Record<string, unknown>): LiveObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd', namespace: 'n', generation },
  spec: replicas === undefined ? {} : { replicas },
  status,
});
const progressing = (reason: string, status = 'True') => ({ type: 'Progressing', status, reason, message: `m-${reason}` });

describe('rolloutState (kubectl rollout status rules)', () => {
  it('waits for the controller to observe the latest generation', () => {
    expect(rolloutState(deployment(3, 1, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 })).state).toBe('progressing');
  });
  it('waits for every replica to be updated, old ones to go, and new ones to be available', () => {
    expect(rolloutState(deployment(2, 3, { observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 3 }))).toEqual({ state: 'progressing', message: '2 of 3 instances updated.' });
    expect(rolloutState(deployment(2, 3, { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 }))).toEqual({ state: 'progressing', message: '1 old instances pending termination.' });
    expect(rolloutState(deployment(2, 3, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 }))).toEqual({ state: 'progressing', message: '2 of 3 updated instances available.' });
  });
  it('is complete when all replicas run the new template and are available (replicas default to 1)', () => {
    expect(rolloutState(deployment(2, undefined, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1, conditions: [progressing('NewReplicaSetAvailable')] }))).toEqual({ state: 'complete' });
    expect(rolloutState(deployment(5, 0, { observedGeneration: 5 }))).toEqual({ state: 'complete' });
  });
  it('fails on ProgressDeadlineExceeded, with the pods’ reason when there is one', () => {
    const dep = deployment(2, 1, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1, conditions: [progressing('ProgressDeadlineExceeded', 'False')] });
    expect(rolloutState(dep)).toEqual({ state: 'failed', reason: 'The new version did not become healthy in time: m-ProgressDeadlineExceeded.' });
    const pod: LiveObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      status: { containerStatuses: [{ name: 'app', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } }, lastState: { terminated: { reason: 'Error', exitCode: 3 } } }] },
    };
    expect(rolloutState(dep, [pod])).toEqual({ state: 'failed', reason: 'CrashLoopBackOff: back-off 5m0s (last exit: Error, code 3)' });
  });
  it('ignores harmless waiting reasons', () => {
    const pod: LiveObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ContainerCreating' } } }] } };
    expect(failureReason([pod])).toBeUndefined();
  });
});

describe('classify (which API errors are worth a retry)', () => {
  it('retries conflicts, throttling, server errors and network failures', () => {
    for (const code of [409, 429, 500, 503]) expect(classify('x', { code, body: { message: 'busy' } })).toBeInstanceOf(TransientReconcileError);
    expect(classify('x', new Error('ECONNREFUSED'))).toBeInstanceOf(TransientReconcileError);
  });
  it('does not retry invalid or forbidden requests, and keeps the API server’s message', () => {
    const e = classify('apply Deployment n/d', { code: 422, body: JSON.stringify({ kind: 'Status', message: 'spec.replicas: Invalid value' }) });
    expect(e).toBeInstanceOf(KubePermanentError);
    expect(e.message).toBe('apply Deployment n/d: spec.replicas: Invalid value');
    expect((e as KubePermanentError).code).toBe(422);
  });
});
