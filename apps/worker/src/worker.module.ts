import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import type { Clock, PlatformConfig } from '@apprunner/core';
import { OperationRunner, RECONCILERS } from '@apprunner/operation';
import { PlatformModule } from '@apprunner/platform';
import { ReconcileConsumer } from './reconcile.consumer';

/**
 * The worker: consumes the reconcile queue and drives the reconcilers. The reconcilers are a
 * provider for the RECONCILERS token (the Kubernetes reconciler; tests pass their own).
 */
@Module({})
export class WorkerModule {
  static forRoot(config: PlatformConfig, reconcilers: Provider, clock?: Clock): DynamicModule {
    return {
      module: WorkerModule,
      imports: [PlatformModule.forRoot(config, clock)],
      providers: [OperationRunner, ReconcileConsumer, reconcilers],
      exports: [OperationRunner, RECONCILERS],
    };
  }
}
