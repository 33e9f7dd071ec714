import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { OperationRunner } from '@apprunner/operation';
import { RECONCILE_QUEUE, type ReconcileJobData, type ReconcileJobName, redisConnection } from '@apprunner/queue';

/**
 * How often a job may be found without a live worker (its worker killed, or too busy to renew the lock) before BullMQ
 * fails it. The count lasts the job's whole life, and a rollout is one job across many passes: at BullMQ's default
 * of 1, a worker restart and, later, one late lock renewal would fail a deployment that nothing is wrong with.
 */
export const MAX_STALLS = 10;

/**
 * Whether BullMQ will not run a failed job again: its attempts are spent, or it failed as unrecoverable (BullMQ's own
 * verdict for a job that stalled more than MAX_STALLS times). Either way the record must be settled now, or its
 * operation would wait forever for a job that no longer exists.
 */
export function failedForGood(job: Pick<Job, 'attemptsMade' | 'opts'>, error: Error): boolean {
  return error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/**
 * BullMQ consumer of the reconcile queue. A job carries only an id; the runner reads the record.
 * Transient errors are retried with backoff; a pass that is still converging is delayed, not failed.
 */
@Injectable()
export class ReconcileConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReconcileConsumer.name);
  private worker?: Worker<ReconcileJobData, void, ReconcileJobName>;

  constructor(
    private readonly runner: OperationRunner,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<ReconcileJobData, void, ReconcileJobName>(RECONCILE_QUEUE, (job, token) => this.process(job, token), {
      connection: redisConnection(this.config, 'worker'),
      prefix: this.config.REDIS_PREFIX,
      concurrency: this.config.WORKER_CONCURRENCY,
      // A dead worker's jobs are taken over once their lock lapses (checked as often as a lock lasts).
      lockDuration: this.config.JOB_LOCK_MS,
      stalledInterval: this.config.JOB_LOCK_MS,
      maxStalledCount: MAX_STALLS,
    });
    this.worker.on('failed', (job, error) => {
      if (!job) return;
      this.logger.warn(`job ${job.id} attempt ${job.attemptsMade} failed: ${error.message}`);
      if (failedForGood(job, error)) {
        this.runner
          .giveUp(job.name, job.data.id, error.message)
          .catch((e: Error) => this.logger.error(`could not fail ${job.id}: ${e.message}`));
      }
    });
    this.worker.on('error', (e) => this.logger.error(`worker error: ${e.message}`));
  }

  /** Whether the BullMQ worker is consuming (liveness). */
  running(): boolean {
    return this.worker?.isRunning() ?? false;
  }

  private async process(job: Job<ReconcileJobData, void, ReconcileJobName>, token?: string): Promise<void> {
    const result = await this.runner.run(job.name, job.data.id);
    if (!result.done) {
      await job.moveToDelayed(Date.now() + result.retryAfterMs, token);
      throw new DelayedError();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }
}
