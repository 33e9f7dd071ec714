import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import type { Clock, PlatformConfig } from '@apprunner/core';
import { KUBE_CLIENT, type KubeClient, KubeReconcilers, ResyncService } from '@apprunner/kubernetes';
import { OperationRunner, RECONCILERS } from '@apprunner/operation';
import { PlatformModule } from '@apprunner/platform';
import { ReconcileConsumer } from './reconcile.consumer';

/**
 * The worker: consumes the reconcile queue and drives the reconcilers. The reconcilers are a
 * provider for the RECONCILERS token (the Kubernetes reconciler; tests may pass their own).
 */
@Module({})
export class WorkerModule {
  static forRoot(config: PlatformConfig, reconcilers: Provider | Provider[], clock?: Clock): DynamicModule {
    return {
      module: WorkerModule,
      imports: [PlatformModule.forRoot(config, clock)],
      providers: [OperationRunner, ReconcileConsumer, ...(Array.isArray(reconcilers) ? reconcilers : [reconcilers])],
      exports: [OperationRunner, RECONCILERS],
    };
  }

  /** The production wiring: one client of one cluster, the Kubernetes reconciler and the periodic resync. */
  static forKubernetes(config: PlatformConfig, kube: KubeClient, clock?: Clock): DynamicModule {
    const module = WorkerModule.forRoot(
      config,
      [{ provide: KUBE_CLIENT, useValue: kube }, KubeReconcilers, { provide: RECONCILERS, useExisting: KubeReconcilers }, ResyncService],
      clock,
    );
    return { ...module, exports: [...(module.exports ?? []), KubeReconcilers, ResyncService] };
  }
}
