import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { OperationService } from '@apprunner/operation';

/** Periodically enqueues operations whose enqueue failed (Redis down) — nothing accepted is lost. */
@Injectable()
export class OutboxSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxSweeper.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly operations: OperationService,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.operations.sweep().then(
        (n) => n > 0 && this.logger.log(`re-enqueued ${n} operation(s)`),
        (e: Error) => this.logger.warn(`outbox sweep failed: ${e.message}`),
      );
    }, this.config.OUTBOX_SWEEP_SECONDS * 1_000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
