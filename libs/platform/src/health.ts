import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { Database } from '@apprunner/persistence';

const TIMEOUT_MS = 2_000;

/**
 * Readiness of a platform process (terminus): PostgreSQL and Redis answer within two seconds. Processes add their
 * own indicators (the worker: the Kubernetes API and its queue consumer).
 */
@Injectable()
export class PlatformHealth implements OnModuleDestroy {
  private redis?: Redis;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly db: Database,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  /** Resolves with terminus's result; rejects with ServiceUnavailableException (503) when an indicator is down. */
  readiness(extra: HealthIndicatorFunction[] = []) {
    return this.health.check([() => this.database(), () => this.queue(), ...extra]);
  }

  /** A named check from a function that throws when unhealthy. */
  indicator(key: string, fn: () => Promise<unknown> | unknown): HealthIndicatorFunction {
    return () =>
      this.indicators
        .check(key)
        .attempt(async () => {
          await fn();
        })
        .withTimeout(TIMEOUT_MS);
  }

  private database() {
    return this.indicators
      .check('database')
      .attempt(async () => {
        await this.db.ping();
      })
      .withTimeout(TIMEOUT_MS);
  }

  private queue() {
    return this.indicators
      .check('redis')
      .attempt(async () => {
        if (!this.redis) {
          this.redis = new Redis(this.config.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
          this.redis.on('error', () => undefined);
        }
        if (this.redis.status === 'wait' || this.redis.status === 'end') await this.redis.connect();
        if ((await this.redis.ping()) !== 'PONG') throw new Error('Redis did not answer PING');
      })
      .withTimeout(TIMEOUT_MS);
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis?.quit().catch(() => undefined);
  }
}
