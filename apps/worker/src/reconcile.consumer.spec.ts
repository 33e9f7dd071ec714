import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { failedForGood } from './reconcile.consumer';

describe('failedForGood', () => {
  const job = (attemptsMade: number) => ({ attemptsMade, opts: { attempts: 12 } });

  it('leaves a failure with attempts left to BullMQ, which retries it with backoff', () => {
    expect(failedForGood(job(1), new Error('connect ECONNREFUSED'))).toBe(false);
    expect(failedForGood(job(11), new Error('connect ECONNREFUSED'))).toBe(false);
  });

  it('settles a job whose attempts are spent', () => {
    expect(failedForGood(job(12), new Error('connect ECONNREFUSED'))).toBe(true);
  });

  it('settles a job BullMQ failed as unrecoverable, attempts left or not: stalled more than allowed is never retried', () => {
    // BullMQ fails a job that stalled past maxStalledCount with an UnrecoverableError on its next pick-up and does not
    // retry it, whatever its attempts (seen on the real cluster: the operation stayed OPERATION_IN_PROGRESS).
    expect(failedForGood(job(1), new UnrecoverableError('job stalled more than allowable limit'))).toBe(true);
    const revived = Object.assign(new Error('job stalled more than allowable limit'), { name: 'UnrecoverableError' });
    expect(failedForGood(job(1), revived)).toBe(true);
  });
});
