import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { OperationService } from '@apprunner/operation';

/** Periodically enqueues the work whose job is not in the queue (OperationService.sweep): nothing accepted is lost. */
@Injectable()
export class OutboxSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxSweeper.name);
  private timer?: NodeJS.Timeout;
  /** The sweep in progress: a slow one (Redis or PostgreSQL slow to answer) is not overlapped by the next. */
  private running?: Promise<void>;

  constructor(
    private readonly operations: OperationService,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.operations
        .sweep()
        .then(
          (n) => void (n > 0 && this.logger.log(`re-enqueued ${n} operation(s) whose job was not in the queue`)),
          (e: Error) => this.logger.warn(`outbox sweep failed: ${e.message}`),
        )
        .finally(() => (this.running = undefined));
    }, this.config.OUTBOX_SWEEP_SECONDS * 1_000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
