import { Logger } from '@nestjs/common';
import type { PlatformConfig } from '@apprunner/core';

/**
 * Once SIGTERM (or SIGINT) arrived, the process is gone within SHUTDOWN_TIMEOUT_SECONDS even if a shutdown hook hangs
 * (a request or a pass waiting on an unreachable database): Kubernetes would SIGKILL it at the end of the grace period
 * anyway, and this way the exit is logged and comes first. Nest's shutdown hooks (enableShutdownHooks) do the orderly
 * part; this is only the bound.
 */
export function boundShutdown(config: Pick<PlatformConfig, 'SHUTDOWN_TIMEOUT_SECONDS'>, logger = new Logger('Shutdown')): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal}: stopping (at most ${config.SHUTDOWN_TIMEOUT_SECONDS} s)`);
      setTimeout(() => {
        logger.error(`shutdown did not finish within ${config.SHUTDOWN_TIMEOUT_SECONDS} s: exiting now`);
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_SECONDS * 1_000).unref();
    });
  }
}
