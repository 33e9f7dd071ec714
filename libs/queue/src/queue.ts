import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';

/** One queue carries every reconcile request; a job names what to reconcile and carries only its id. */
export const RECONCILE_QUEUE = 'reconcile';

export type ReconcileJobName = 'service-operation' | 'vpc-ingress-connection' | 'custom-domain';
export interface ReconcileJobData {
  /** Operation id (service-operation), VpcIngressConnection id, or CustomDomain id. Never a spec or a secret. */
  id: string;
}

/** Retries of a job whose pass threw (API server unreachable, 409/429/5xx): exponential backoff from JOB_BACKOFF_MS. */
export function jobOptions(config: Pick<PlatformConfig, 'JOB_BACKOFF_MS'>) {
  return {
    attempts: 12,
    backoff: { type: 'exponential', delay: config.JOB_BACKOFF_MS },
    removeOnComplete: { age: 3_600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3_600 },
  } as const;
}

/**
 * Producers fail fast when Redis is down (the operation stays in PostgreSQL and the outbox sweeper
 * enqueues it later); workers must wait instead, hence maxRetriesPerRequest null there.
 */
export function redisConnection(config: Pick<PlatformConfig, 'REDIS_URL'>, role: 'producer' | 'worker'): ConnectionOptions {
  const url = new URL(config.REDIS_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    // rediss:// is Redis over TLS (managed Redis services), verified against the system's CAs.
    ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
    ...(role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 }),
  };
}

@Injectable()
export class ReconcileQueue implements OnModuleDestroy {
  readonly queue: Queue<ReconcileJobData, unknown, ReconcileJobName>;
  private readonly redis: Redis;
  private readonly logger = new Logger(ReconcileQueue.name);
  private readonly options: ReturnType<typeof jobOptions>;

  constructor(@Inject(PLATFORM_CONFIG) config: PlatformConfig) {
    this.options = jobOptions(config);
    // The queue's connection is this process's own, so that shutdown can drop it when Redis is gone (below).
    this.redis = new Redis(redisConnection(config, 'producer') as RedisOptions);
    this.redis.on('error', () => undefined);
    this.queue = new Queue(RECONCILE_QUEUE, { connection: this.redis, prefix: config.REDIS_PREFIX });
    // A producer without Redis keeps serving; failures surface on add() and the outbox retries.
    this.queue.on('error', () => undefined);
  }

  /**
   * Idempotent: the job id is the record id plus, for records that change in place (VPC ingress connections,
   * custom domains), the version of the change; adding the same change twice is a no-op, a new change is a new job.
   */
  async add(name: ReconcileJobName, id: string, version?: number): Promise<void> {
    await this.queue.add(name, { id }, { ...this.options, jobId: jobIdOf(name, id, version) });
  }

  /** Whether the record's job is still to be worked on: waiting, delayed or running (not finished, not lost). */
  async pending(name: ReconcileJobName, id: string, version?: number): Promise<boolean> {
    const state = await this.queue.getJobState(jobIdOf(name, id, version));
    return !['completed', 'failed', 'unknown'].includes(state);
  }

  /**
   * Enqueues a record's job again after the queue lost it (Redis restarted empty) or finished it without the record
   * settling (its end could not be written): a finished job of the same id is removed first, or the add would be a
   * no-op. Returns false when the job turned out to be pending after all (taken meanwhile: nothing to do).
   */
  async requeue(name: ReconcileJobName, id: string, version?: number): Promise<boolean> {
    const jobId = jobIdOf(name, id, version);
    const state = await this.queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') await this.queue.remove(jobId);
    else if (state !== 'unknown') return false;
    await this.queue.add(name, { id }, { ...this.options, jobId });
    return true;
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
    // Redis may be gone first (helm uninstall deletes it with the API and the worker): QUIT then fails on the dead
    // connection (BullMQ's own close threw there and left the client reconnecting), so drop it instead.
    await this.redis.quit().catch((e: Error) => {
      this.logger.warn(`closing the reconcile queue's Redis connection: ${e.message}`);
      this.redis.disconnect();
    });
  }
}

/** BullMQ reserves ":" in custom ids, hence the dots. */
function jobIdOf(name: ReconcileJobName, id: string, version?: number): string {
  return version === undefined ? `${name}.${id}` : `${name}.${id}.${version}`;
}

/** Deletes every key under a BullMQ prefix (test and benchmark clean-up; never used on a live prefix). */
export async function deleteQueueKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    await redis.quit();
  }
}
