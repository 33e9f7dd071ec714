import type { OperationType } from './reconciler.contract';

/**
 * App Runner's service state machine, as a pure function: where a service goes when an operation
 * ends. A failed create leaves CREATE_FAILED; a failed update or deployment of a service that was
 * serving rolls back and keeps RUNNING (ROLLBACK_SUCCEEDED); a failed rebuild of a CREATE_FAILED
 * service stays CREATE_FAILED.
 */
export function operationEnd(
  type: OperationType,
  fromStatus: string,
  outcome: { status: 'SUCCEEDED' } | { status: 'FAILED'; rollbackFailed?: boolean },
): { operationStatus: string; serviceStatus: string; restoreSpec: boolean } {
  if (outcome.status === 'SUCCEEDED') {
    const serviceStatus = type === 'PAUSE_SERVICE' ? 'PAUSED' : type === 'DELETE_SERVICE' ? 'DELETED' : 'RUNNING';
    return { operationStatus: 'SUCCEEDED', serviceStatus, restoreSpec: false };
  }
  switch (type) {
    case 'CREATE_SERVICE':
      return { operationStatus: 'FAILED', serviceStatus: 'CREATE_FAILED', restoreSpec: false };
    case 'UPDATE_SERVICE':
    case 'START_DEPLOYMENT':
      if (fromStatus === 'CREATE_FAILED') return { operationStatus: 'FAILED', serviceStatus: 'CREATE_FAILED', restoreSpec: false };
      return outcome.rollbackFailed
        ? { operationStatus: 'ROLLBACK_FAILED', serviceStatus: 'RUNNING', restoreSpec: true }
        : { operationStatus: 'ROLLBACK_SUCCEEDED', serviceStatus: 'RUNNING', restoreSpec: true };
    case 'PAUSE_SERVICE':
      return { operationStatus: 'FAILED', serviceStatus: 'RUNNING', restoreSpec: false };
    case 'RESUME_SERVICE':
      return { operationStatus: 'FAILED', serviceStatus: 'PAUSED', restoreSpec: false };
    case 'DELETE_SERVICE':
      return { operationStatus: 'FAILED', serviceStatus: 'DELETE_FAILED', restoreSpec: false };
  }
}
