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
      const ok = await this.redis.set(
        `${this.config.REDIS_PREFIX}:periodic:${task}`,
        this.owner,
        'PX',
        Math.max(1, Math.floor(ttlMs)),
        'NX',
      );
      return ok === 'OK';
    } catch {
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis?.quit().catch(() => undefined);
  }
}

/**
 * A pass run every `seconds` by one replica of the fleet (PeriodicLock), never overlapping itself in a process.
 * `seconds` 0 turns it off. The window is a little shorter than the interval, so drifting timers still take turns.
 */
export class PeriodicPass {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly lock: PeriodicLock,
    private readonly task: string,
    private readonly seconds: number,
    private readonly pass: () => Promise<void>,
    private readonly onError: (e: Error) => void,
  ) {}

  start(): void {
    if (this.seconds === 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.lock
        .tryAcquire(this.task, this.seconds * 900)
        .then((mine) => (mine ? this.pass() : undefined))
        .catch((e: Error) => this.onError(e))
        .finally(() => (this.running = undefined));
    }, this.seconds * 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
