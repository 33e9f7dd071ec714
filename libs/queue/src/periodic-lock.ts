import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';

/**
 * One pass per interval across all worker replicas: a periodic task (resync, image polling) runs only in the
 * replica that takes `<prefix>:periodic:<task>` for the interval (SET NX PX). A replica that dies mid-pass simply
 * leaves the next interval to whoever takes the key then; nothing waits on it.
 */
@Injectable()
export class PeriodicLock implements OnModuleDestroy {
  private redis?: Redis;
  private readonly owner = randomUUID();

  constructor(@Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig) {}

  /** True for exactly one caller per task and `ttlMs` window; false (not an error) when Redis is unreachable. */
  async tryAcquire(task: string, ttlMs: number): Promise<boolean> {
    if (!this.redis) {
      this.redis = new Redis(this.config.REDIS_URL, { maxRetriesPerRequest: 1 });
      // Connection trouble shows as a refused acquisition (the pass is skipped, the next interval retries).
      this.redis.on('error', () => undefined);
    }
    try {
      const ok = await this.redis.set(`${this.config.REDIS_PREFIX}:periodic:${task}`, this.owner, 'PX', Math.max(1, Math.floor(ttlMs)), 'NX');
      return ok === 'OK';
    } catch {
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis?.quit().catch(() => undefined);
  }
}
