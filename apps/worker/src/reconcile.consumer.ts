import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { DelayedError, type Job, Worker } from 'bullmq';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { OperationRunner } from '@apprunner/operation';
import { RECONCILE_QUEUE, type ReconcileJobData, type ReconcileJobName, redisConnection } from '@apprunner/queue';

type ReconcileJob = Job<ReconcileJobData, void, ReconcileJobName>;

/**
 * How often a job may lose its worker mid-pass (killed, node lost, lock lapsed under load) before BullMQ fails it. A
 * pass is idempotent and a lost worker is not the job's fault, so this is high; what it still catches is a job that
 * takes every worker down with it, and its operation then fails (giveUp) rather than crash-looping the fleet.
 */
const MAX_STALLS = 20;

/**
 * BullMQ consumer of the reconcile queue. A job carries only an id; the runner reads the record.
 * Transient errors are retried with backoff; a pass that is still converging is delayed, not failed.
 */
@Injectable()
export class ReconcileConsumer implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger(ReconcileConsumer.name);
  private worker?: Worker<ReconcileJobData, void, ReconcileJobName>;
  /** Jobs whose pass runs in this process, with the lock token it holds them by. */
  private readonly active = new Map<string, { job: ReconcileJob; token?: string }>();
  private stopping?: Promise<void>;

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
      // Retried (delayed, waiting) or failed for good (attempts exhausted, or stalled MAX_STALLS times): only the job's
      // state says which.
      void job
        .getState()
        .then((state) => (state === 'failed' ? this.runner.giveUp(job.name, job.data.id, error.message) : undefined))
        .catch((e: Error) => this.logger.error(`could not fail ${job.id}: ${e.message} (the outbox sweeper enqueues it again)`));
    });
    this.worker.on('error', (e) => this.logger.error(`worker error: ${e.message}`));
  }

  /** Whether the BullMQ worker is consuming (liveness). */
  running(): boolean {
    return !this.stopping && (this.worker?.isRunning() ?? false);
  }

  private async process(job: ReconcileJob, token?: string): Promise<void> {
    this.active.set(job.id!, { job, token });
    try {
      const result = await this.runner.run(job.name, job.data.id);
      if (!result.done) {
        await job.moveToDelayed(Date.now() + result.retryAfterMs, token);
        throw new DelayedError();
      }
    } finally {
      this.active.delete(job.id!);
    }
  }

  /** First of the shutdown hooks: the passes in flight still have the database, the queue and the cluster. */
  onModuleDestroy(): Promise<void> {
    return this.stop();
  }

  onApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /**
   * Stops taking jobs, lets the passes in flight finish for half of SHUTDOWN_TIMEOUT_SECONDS, then hands those still
   * running back to the queue, so that another worker takes them at once rather than after their lock lapses. A pass
   * handed back may still be running here until the process exits: passes are idempotent and an operation ends once.
   */
  private stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    this.stopping ??= (async () => {
      await worker.pause(true).catch(() => undefined);
      const deadline = Date.now() + (this.config.SHUTDOWN_TIMEOUT_SECONDS * 1_000) / 2;
      while (this.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const { job, token } of [...this.active.values()]) {
        // Redis may be what hangs: a hand-back that gets no answer is left to the lock's lapse.
        await within(2_000, job.moveToWait(token))
          .then(() => this.logger.log(`stopping: job ${job.id} handed back to the queue`))
          .catch((e: Error) => this.logger.warn(`stopping: job ${job.id} could not be handed back (${e.message}); its lock lapses`));
      }
      await worker.close(true).catch((e: Error) => this.logger.warn(`stopping: ${e.message}`));
    })();
    return this.stopping;
  }
}

function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
