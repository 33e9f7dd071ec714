import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AutoDeployService, trackedImage } from '@apprunner/auto-deploy';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import type { ServiceSpec } from '@apprunner/api-model';
import { AutomaticDeploymentRepository, ServiceRepository } from '@apprunner/persistence';
import { PeriodicLock, PeriodicPass } from '@apprunner/queue';
import { credentialFor, pullSecretNameFromRoleArn, RegistryClient, type RegistryCredential } from '@apprunner/registry';
import { KUBE_CLIENT, KubeClient, type LiveObject } from './kube-client';
import { namespaceName } from './manifests';
import { ReconcilerSettings } from './reconcilers';

export interface ImagePollReport {
  images: number;
  deployments: number;
  failed: number;
  pendingStarted: number;
}

/**
 * The fallback of registry notifications: every IMAGE_POLL_SECONDS the tags that RUNNING image services with automatic
 * deployments track are resolved to digests (with the service's pull credential); a digest not seen before deploys
 * once (the first sighting of a service's tag only records it). The same pass starts automatic deployments that were
 * deferred while an operation ran, if the worker that ended it did not get to it.
 */
@Injectable()
export class ImagePoller implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ImagePoller.name);
  private readonly periodic: PeriodicPass;
  readonly registry: RegistryClient;

  constructor(
    private readonly services: ServiceRepository,
    private readonly watches: AutomaticDeploymentRepository,
    private readonly autoDeploy: AutoDeployService,
    private readonly settings: ReconcilerSettings,
    @Inject(KUBE_CLIENT) private readonly kube: KubeClient,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    lock: PeriodicLock,
  ) {
    const insecure = (config.INSECURE_REGISTRIES ?? '').split(',').filter(Boolean);
    if (config.BUILD_REGISTRY_INSECURE && config.BUILD_REGISTRY) insecure.push(config.BUILD_REGISTRY.split('/')[0]);
    this.registry = new RegistryClient({ insecureRegistries: insecure });
    // Digests deploy once anyway; one replica per interval saves the registries the duplicate lookups.
    this.periodic = new PeriodicPass(
      lock,
      'image-poll',
      config.IMAGE_POLL_SECONDS,
      async () => {
        await this.pollOnce();
      },
      (e) => this.logger.warn(`image poll failed: ${e.message}`),
    );
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.periodic.stop();
  }

  async pollOnce(): Promise<ImagePollReport> {
    const report: ImagePollReport = { images: 0, deployments: 0, failed: 0, pendingStarted: 0 };
    for (const id of await this.services.idsWithDeferredDeployment()) {
      await this.autoDeploy.afterOperation(id);
      report.pendingStarted++;
    }
    const resolved = new Map<string, string | undefined>();
    for (const service of await this.services.findRunningImageServices()) {
      const tracked = trackedImage(service.spec);
      if (!tracked) continue;
      try {
        const credential = await this.credential(service.spec, service.accountId, tracked.registry);
        // One lookup per image and credential in a pass, whatever the number of services tracking it.
        const key = `${tracked.canonical}\0${credential?.username ?? ''}`;
        if (!resolved.has(key)) {
          resolved.set(key, await this.registry.resolveDigest(tracked.canonical, credential));
          report.images++;
        }
        const digest = resolved.get(key);
        if (!digest) continue;
        if (service.watchedDigest === undefined) {
          await this.watches.startWatchIfNone(service.id, digest, new Date());
          continue;
        }
        if (service.watchedDigest === digest) continue;
        const decisions = await this.autoDeploy.onImagePushed(
          { registryHost: tracked.registry, repository: tracked.repository, tag: tracked.tag, digest },
          'image-poll',
        );
        report.deployments += decisions.filter((d) => d.operationId).length;
      } catch (e) {
        report.failed++;
        this.logger.warn(`image poll of ${tracked.canonical} for service ${service.id}: ${(e as Error).message}`);
      }
    }
    return report;
  }

  /** The pull credential an AccessRoleArn names (a dockerconfigjson Secret in the tenant namespace), if any. */
  private async credential(spec: ServiceSpec, accountId: string, registry: string): Promise<RegistryCredential | undefined> {
    const arn = spec.SourceConfiguration.AuthenticationConfiguration?.AccessRoleArn;
    if (!arn) return undefined;
    const ref = pullSecretNameFromRoleArn(arn, accountId);
    if ('error' in ref) throw new Error(`AccessRoleArn: ${ref.error}`);
    const secret = await this.kube.get<LiveObject>('v1', 'Secret', ref.secretName, namespaceName(this.settings.platform, accountId));
    const encoded = (secret?.data as Record<string, string> | undefined)?.['.dockerconfigjson'];
    if (!encoded) throw new Error(`the registry credential Secret "${ref.secretName}" is missing or has no .dockerconfigjson`);
    return credentialFor(Buffer.from(encoded, 'base64').toString('utf8'), registry);
  }
}
