import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '@apprunner/core';
import type { GitHubEvent } from '@apprunner/github';
import { normalizeRepositoryUrl } from '@apprunner/github';
import type { ServiceSpec } from '@apprunner/api-model';
import { AutomaticDeploymentRepository, ConnectionRepository, ServiceRepository } from '@apprunner/persistence';
import { isDockerHub, parseImageReference } from '@apprunner/registry';
import { type AutomaticDeployment, ServiceActions } from '@apprunner/service';

/** Beyond this many repository names in one batch the SQL filter keeps only services with automatic deployments. */
const MAX_NAMES_IN_FILTER = 100;

export type PushEvent = Extract<GitHubEvent, { kind: 'push' }>;
export type InstallationEvent = Extract<GitHubEvent, { kind: 'installation' }>;
export interface ImagePush {
  registryHost: string;
  repository: string;
  tag: string;
  digest: string;
}
export interface DeploymentDecision {
  serviceArn: string;
  operationId?: string;
  deferred?: boolean;
  ignored?: string;
}

/**
 * Automatic deployments (App Runner's AutoDeploymentsEnabled): a push to the branch a code-based service tracks, or
 * a new digest of the tag an image-based service tracks, starts a deployment of exactly that commit or digest.
 * Webhook deliveries are handled once (by delivery id); a digest deploys once (compare-and-set on the image watch).
 */
@Injectable()
export class AutoDeployService {
  private readonly logger = new Logger(AutoDeployService.name);

  constructor(
    private readonly automaticDeployments: AutomaticDeploymentRepository,
    private readonly serviceRecords: ServiceRepository,
    private readonly connections: ConnectionRepository,
    private readonly services: ServiceActions,
    private readonly clock: Clock,
  ) {}

  /** Records a webhook delivery; false when it was handled before (GitHub redelivers on timeouts and by hand). */
  async firstDelivery(source: 'github' | 'registry', deliveryId: string): Promise<boolean> {
    return this.automaticDeployments.firstDelivery(source, deliveryId, this.clock.now());
  }

  /** Deliveries older than this are forgotten (GitHub keeps redelivery possible for 3 days). */
  async forgetDeliveries(olderThanDays = 7): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - olderThanDays * 86_400_000);
    return this.automaticDeployments.forgetDeliveriesBefore(cutoff);
  }

  /** A push: every service on a connection of this installation that tracks the repository and branch deploys the commit. */
  async onGitHubPush(event: PushEvent): Promise<DeploymentDecision[]> {
    if (event.deleted) return [];
    const candidates = await this.serviceRecords.findOnInstallation(BigInt(event.installationId));
    const repository = normalizeRepositoryUrl(event.repositoryUrl);
    const decisions: DeploymentDecision[] = [];
    for (const service of candidates) {
      const source = service.spec.SourceConfiguration;
      const code = source.CodeRepository;
      if (!code || !source.AutoDeploymentsEnabled) continue;
      if (normalizeRepositoryUrl(code.RepositoryUrl ?? '') !== repository || code.SourceCodeVersion?.Value !== event.branch) continue;
      decisions.push({ serviceArn: service.arn, ...(await this.deploy(service.id, { trigger: 'github-push', commit: event.commit })) });
    }
    return decisions;
  }

  /** Installation events keep connections honest: an uninstalled or suspended app leaves them in ERROR. */
  async onInstallation(event: InstallationEvent): Promise<number> {
    const installationId = BigInt(event.installationId);
    const now = this.clock.now();
    switch (event.action) {
      case 'deleted':
      case 'suspend':
        return this.connections.moveOnInstallation(installationId, 'AVAILABLE', 'ERROR', now);
      case 'unsuspend':
      case 'new_permissions_accepted':
        return this.connections.moveOnInstallation(installationId, 'ERROR', 'AVAILABLE', now);
      default:
        return 0; // `created` binds nothing by itself: the handshake's setup callback names the connection.
    }
  }

  /**
   * A new digest of an image tag (registry notification or poll): image-based services with automatic deployments
   * that track `registry/repository:tag` deploy `registry/repository@digest`, once per digest.
   */
  async onImagePushed(push: ImagePush, trigger: 'registry-push' | 'image-poll'): Promise<DeploymentDecision[]> {
    return this.onImagesPushed([push], trigger);
  }

  /**
   * A registry notification's pushes (events with ids), each handled once: the new ids are recorded in one statement
   * and the services they may concern are read in one query, so a notification of a thousand events costs a few
   * queries plus one per deployment. Pushes apply in order, so the last digest of a tag in the batch wins.
   */
  async onRegistryEvents(events: (ImagePush & { id: string })[]): Promise<{ fresh: number; deployments: DeploymentDecision[] }> {
    const ids = [...new Set(events.map((e) => e.id))];
    if (ids.length === 0) return { fresh: 0, deployments: [] };
    const now = this.clock.now();
    const fresh = await this.automaticDeployments.firstDeliveries('registry', ids, now);
    // An id repeated within the batch is one event delivered twice: only its first occurrence counts.
    const pushes = events.filter((e) => fresh.delete(e.id));
    return { fresh: pushes.length, deployments: await this.onImagesPushed(pushes, 'registry-push') };
  }

  private async onImagesPushed(pushes: ImagePush[], trigger: 'registry-push' | 'image-poll'): Promise<DeploymentDecision[]> {
    if (pushes.length === 0) return [];
    // A coarse filter in SQL (the identifier may omit `library/` or the registry); the exact match follows.
    const names = [...new Set(pushes.map((p) => p.repository.split('/').pop() ?? p.repository))];
    const candidates = await this.serviceRecords.findDeployingImagesNamed(names.length <= MAX_NAMES_IN_FILTER ? names : undefined);
    const tracked = candidates.flatMap((service) => {
      const image = trackedImage(service.spec);
      return image ? [{ service, image }] : [];
    });
    const seen = new Map(candidates.map((c) => [c.id, c.watchedDigest ?? null]));
    const decisions: DeploymentDecision[] = [];
    for (const push of pushes) {
      for (const { service, image } of tracked) {
        if (!sameRegistry(image.registry, push.registryHost) || image.repository !== push.repository || image.tag !== push.tag) continue;
        if (!(await this.claimDigest(service.id, seen.get(service.id) ?? null, push.digest))) continue;
        seen.set(service.id, push.digest);
        const reference = `${isDockerHub(image.registry) ? 'docker.io' : image.registry}/${image.repository}@${push.digest}`;
        decisions.push({ serviceArn: service.arn, ...(await this.deploy(service.id, { trigger, image: reference })) });
      }
    }
    return decisions;
  }

  /** After an operation ends: a push that arrived meanwhile is deployed now. */
  async afterOperation(serviceId: string): Promise<void> {
    const service = await this.serviceRecords.findById(serviceId);
    if (!service?.pendingDeployment) return;
    if (service.status !== 'RUNNING') {
      // Paused, failed or deleted meanwhile: App Runner deploys only running services.
      await this.serviceRecords.dropDeferredDeployment(serviceId, service.status);
      return;
    }
    const result = await this.services.startAutomaticDeployment(serviceId, service.pendingDeployment);
    this.logger.log(
      `service ${serviceId}: deferred automatic deployment ${result.operationId ? `started (${result.operationId})` : `not started: ${result.ignored ?? 'deferred again'}`}`,
    );
  }

  private async deploy(serviceId: string, trigger: AutomaticDeployment): Promise<Omit<DeploymentDecision, 'serviceArn'>> {
    const result = await this.services.startAutomaticDeployment(serviceId, trigger);
    this.logger.log(
      `service ${serviceId}: ${trigger.trigger} ${trigger.commit ?? trigger.image ?? ''} → ${result.operationId ?? (result.deferred ? 'deferred' : `ignored (${result.ignored})`)}`,
    );
    return result;
  }

  /** Compare-and-set of the digest last seen for a service's tag: true for exactly one caller per new digest. */
  private async claimDigest(serviceId: string, seen: string | null, digest: string): Promise<boolean> {
    if (seen === digest) return false;
    if (seen === null) {
      if (await this.automaticDeployments.startWatch(serviceId, digest, this.clock.now())) return true;
      // Another caller started the watch meanwhile: compare with what it saw.
      return this.claimDigest(serviceId, (await this.automaticDeployments.watchedDigest(serviceId)) ?? null, digest);
    }
    return this.automaticDeployments.moveWatch(serviceId, seen, digest, this.clock.now());
  }
}

/** The tag an image-based service with automatic deployments tracks; undefined for digests, code, or deployments off. */
export function trackedImage(spec: ServiceSpec): { registry: string; repository: string; tag: string; canonical: string } | undefined {
  const source = spec.SourceConfiguration;
  const identifier = source.ImageRepository?.ImageIdentifier;
  if (!identifier || !source.AutoDeploymentsEnabled) return undefined;
  const ref = parseImageReference(identifier);
  if ('error' in ref || ref.digest) return undefined;
  return { registry: ref.registry, repository: ref.repository, tag: ref.tag ?? 'latest', canonical: ref.canonical };
}

function sameRegistry(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || (isDockerHub(a) && isDockerHub(b));
}
