import { Injectable } from '@nestjs/common';
import { Repository } from '../database';
import { prismaErrorCode } from '../errors';

/**
 * What automatic deployments remember: the webhook deliveries already handled (a redelivery is a no-op) and, per
 * image service, the digest its tracked tag last had (a digest deploys once).
 */
@Injectable()
export class AutomaticDeploymentRepository extends Repository {
  /** Records a delivery; false when it was recorded before. */
  async firstDelivery(source: string, deliveryId: string, receivedAt: Date): Promise<boolean> {
    try {
      await this.db().webhookDelivery.create({ data: { source, deliveryId, receivedAt } });
      return true;
    } catch (e) {
      if (prismaErrorCode(e) === 'P2002') return false;
      throw e;
    }
  }

  /** Records deliveries in one statement; the ids not recorded before. */
  async firstDeliveries(source: string, deliveryIds: string[], receivedAt: Date): Promise<Set<string>> {
    const recorded = await this.db().webhookDelivery.createManyAndReturn({
      data: deliveryIds.map((deliveryId) => ({ source, deliveryId, receivedAt })),
      skipDuplicates: true,
      select: { deliveryId: true },
    });
    return new Set(recorded.map((r) => r.deliveryId));
  }

  async forgetDeliveriesBefore(cutoff: Date): Promise<number> {
    return (await this.db().webhookDelivery.deleteMany({ where: { receivedAt: { lt: cutoff } } })).count;
  }

  /** The digest last seen for the service's tag: undefined without a watch, null on a watch that saw none. */
  async watchedDigest(serviceId: string): Promise<string | null | undefined> {
    return (await this.db().imageWatch.findUnique({ where: { serviceId } }))?.digest;
  }

  /** Starts the watch of a service's tag at `digest`; false when another caller started it first. */
  async startWatch(serviceId: string, digest: string, checkedAt: Date): Promise<boolean> {
    try {
      await this.db().imageWatch.create({ data: { serviceId, digest, checkedAt } });
      return true;
    } catch (e) {
      if (prismaErrorCode(e) === 'P2002') return false;
      throw e;
    }
  }

  /** Starts the watch at `digest` unless it exists (the first sighting of a tag only records it). */
  async startWatchIfNone(serviceId: string, digest: string, checkedAt: Date): Promise<void> {
    await this.db().imageWatch.createMany({ data: [{ serviceId, digest, checkedAt }], skipDuplicates: true });
  }

  /** Compare-and-set of the watched digest: true for exactly one caller moving it from `seen`. */
  async moveWatch(serviceId: string, seen: string, digest: string, checkedAt: Date): Promise<boolean> {
    const moved = await this.db().imageWatch.updateMany({ where: { serviceId, digest: seen }, data: { digest, checkedAt } });
    return moved.count === 1;
  }
}
