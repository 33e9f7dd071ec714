import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { AutoDeployService } from '@apprunner/auto-deploy';
import { BUILD_DRIVER, BuildLogStore, SourceBuilds } from '@apprunner/build';
import { BuildahDriver, KubernetesJobDriver } from '@apprunner/build-driver';
import type { Clock, PlatformConfig } from '@apprunner/core';
import {
  CustomDomainReconciler,
  ImagePoller,
  KUBE_CLIENT,
  type KubeClient,
  ReconcilerSettings,
  ResyncService,
  ServiceInputs,
  ServiceObjects,
  ServiceReconciler,
  TenantNamespaceReconciler,
  VpcIngressConnectionReconciler,
} from '@apprunner/kubernetes';
import {
  OPERATION_BUILDS,
  OPERATION_ENDED,
  OperationRunner,
  RECONCILERS,
  type Reconcilers,
  ReconcileSnapshots,
} from '@apprunner/operation';
import { ApplicationModule, PlatformModule } from '@apprunner/platform';
import { join } from 'node:path';
import { ReconcileConsumer } from './reconcile.consumer';
import { WorkerHealthServer } from './worker-health';

/**
 * The worker: consumes the reconcile queue and drives the reconcilers. The reconcilers are a
 * provider for the RECONCILERS token (the Kubernetes reconcilers; tests may pass their own).
 */
@Module({})
export class WorkerModule {
  static forRoot(config: PlatformConfig, reconcilers: Provider | Provider[], clock?: Clock): DynamicModule {
    return {
      module: WorkerModule,
      imports: [PlatformModule.forRoot(config, clock), ApplicationModule],
      providers: [
        OperationRunner,
        ReconcileSnapshots,
        ReconcileConsumer,
        WorkerHealthServer,
        { provide: OPERATION_ENDED, useExisting: AutoDeployService },
        ...(Array.isArray(reconcilers) ? reconcilers : [reconcilers]),
      ],
      exports: [OperationRunner, ReconcileSnapshots, RECONCILERS],
    };
  }

  /** The production wiring: one client of one cluster, the Kubernetes reconcilers, builds, the periodic resync and image polls. */
  static forKubernetes(config: PlatformConfig, kube: KubeClient, clock?: Clock): DynamicModule {
    const module = WorkerModule.forRoot(
      config,
      [
        { provide: KUBE_CLIENT, useValue: kube },
        { provide: BUILD_DRIVER, useValue: buildDriver(config, kube) },
        BuildLogStore,
        SourceBuilds,
        { provide: OPERATION_BUILDS, useExisting: SourceBuilds },
        ReconcilerSettings,
        TenantNamespaceReconciler,
        ServiceInputs,
        ServiceObjects,
        ServiceReconciler,
        CustomDomainReconciler,
        VpcIngressConnectionReconciler,
        {
          provide: RECONCILERS,
          inject: [ServiceReconciler, CustomDomainReconciler, VpcIngressConnectionReconciler],
          useFactory: (
            service: ServiceReconciler,
            customDomain: CustomDomainReconciler,
            vpcIngressConnection: VpcIngressConnectionReconciler,
          ) => ({ service, customDomain, vpcIngressConnection }) satisfies Reconcilers,
        },
        ResyncService,
        ImagePoller,
      ],
      clock,
    );
    return {
      ...module,
      exports: [
        ...(module.exports ?? []),
        ReconcilerSettings,
        ServiceReconciler,
        CustomDomainReconciler,
        ResyncService,
        SourceBuilds,
        ImagePoller,
      ],
    };
  }
}

/**
 * The build driver BUILD_DRIVER names: buildah in the worker, or a Kubernetes Job per build in BUILD_NAMESPACE.
 * null without BUILD_REGISTRY (code-based deployments then fail with the reason).
 */
export function buildDriver(config: PlatformConfig, kube: KubeClient): BuildahDriver | KubernetesJobDriver | null {
  if (!config.BUILD_REGISTRY) return null;
  if (config.BUILD_DRIVER === 'kubernetes') {
    return new KubernetesJobDriver(kube, {
      namespace: config.BUILD_NAMESPACE,
      buildahImage: config.BUILD_JOB_IMAGE,
      cloneImage: config.BUILD_CLONE_IMAGE,
      ...(config.BUILD_REGISTRY_AUTH_SECRET ? { registryAuthSecret: config.BUILD_REGISTRY_AUTH_SECRET } : {}),
      tlsVerify: !config.BUILD_REGISTRY_INSECURE,
      // Build pods keep nothing between builds: layers are cached in the registry, next to each service's images.
      cacheRepository: (repository) => `${repository}/cache`,
      resources: { cpu: config.BUILD_JOB_CPU, memory: config.BUILD_JOB_MEMORY, ephemeralStorage: config.BUILD_JOB_EPHEMERAL_STORAGE },
      labels: { 'app.kubernetes.io/managed-by': 'apprunner-k8s', 'app.kubernetes.io/component': 'build' },
    });
  }
  return new BuildahDriver({
    root: join(config.BUILD_STORAGE_DIR, 'storage'),
    runroot: join(config.BUILD_STORAGE_DIR, 'run'),
    tlsVerify: !config.BUILD_REGISTRY_INSECURE,
    ...(config.BUILD_REGISTRY_AUTH_FILE ? { authFile: config.BUILD_REGISTRY_AUTH_FILE } : {}),
  });
}
