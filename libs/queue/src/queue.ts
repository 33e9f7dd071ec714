import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
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
  private readonly options: ReturnType<typeof jobOptions>;

  constructor(@Inject(PLATFORM_CONFIG) config: PlatformConfig) {
    this.options = jobOptions(config);
    this.queue = new Queue(RECONCILE_QUEUE, { connection: redisConnection(config, 'producer'), prefix: config.REDIS_PREFIX });
    // A producer without Redis keeps serving; failures surface on add() and the outbox retries.
    this.queue.on('error', () => undefined);
  }

  /**
   * Idempotent: the job id is the record id plus, for records that change in place (VPC ingress connections,
   * custom domains), the version of the change; adding the same change twice is a no-op, a new change is a new job.
   * (BullMQ reserves ":" in custom ids, hence the dots.)
   */
  async add(name: ReconcileJobName, id: string, version?: number): Promise<void> {
    const jobId = version === undefined ? `${name}.${id}` : `${name}.${id}.${version}`;
    await this.queue.add(name, { id }, { ...this.options, jobId });
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
  }
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
