import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { ReconcileSnapshots } from '@apprunner/operation';
import { ServiceRepository, TenantRepository } from '@apprunner/persistence';
import { PeriodicLock, PeriodicPass } from '@apprunner/queue';
import { ServiceReconciler, TenantNamespaceReconciler } from './reconcilers';

export interface ResyncReport {
  services: number;
  failed: number;
  seconds: number;
}

/**
 * Periodic drift correction: every RESYNC_SECONDS, each settled service (RUNNING or PAUSED, no operation open) is
 * re-applied exactly as its last successful operation applied it, at most RESYNC_PER_SECOND services a second.
 * Server-side apply of an unchanged configuration writes nothing; a hand-edited object is put back.
 */
@Injectable()
export class ResyncService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ResyncService.name);
  private readonly periodic: PeriodicPass;
  private stopped = false;

  constructor(
    private readonly serviceRecords: ServiceRepository,
    private readonly tenantRecords: TenantRepository,
    private readonly snapshots: ReconcileSnapshots,
    private readonly services: ServiceReconciler,
    private readonly tenants: TenantNamespaceReconciler,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    lock: PeriodicLock,
  ) {
    this.periodic = new PeriodicPass(
      lock,
      'resync',
      config.RESYNC_SECONDS,
      async () => {
        await this.removeDeletedTenants().catch((e: Error) =>
          this.logger.warn(`removing deleted tenants' namespaces failed: ${e.message}`),
        );
        const r = await this.resyncAll();
        if (r.failed > 0) this.logger.warn(`resync: ${r.failed} of ${r.services} services failed`);
      },
      (e) => this.logger.warn(`resync failed: ${e.message}`),
    );
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.periodic.stop();
  }

  /**
   * Namespaces of tenants the admin deleted (tombstones), with everything still in them, are deleted; a tombstone is
   * settled once its namespace is gone. A tenant created again under the same account keeps its namespace.
   */
  async removeDeletedTenants(): Promise<number> {
    let removed = 0;
    for (const accountId of await this.tenantRecords.tombstonesToClean(100)) {
      if (await this.tenantRecords.accountExists(accountId)) {
        await this.tenantRecords.tombstoneCleaned(accountId);
        continue;
      }
      if (await this.tenants.remove(accountId)) {
        await this.tenantRecords.tombstoneCleaned(accountId);
        removed++;
      }
    }
    return removed;
  }

  /** One pass over every settled service, rate-limited. */
  async resyncAll(options: { perSecond?: number } = {}): Promise<ResyncReport> {
    const started = Date.now();
    const gapMs = 1_000 / (options.perSecond ?? this.config.RESYNC_PER_SECOND);
    let services = 0;
    let failed = 0;
    let cursor: string | undefined;
    const tenantsDone = new Set<string>();
    for (;;) {
      const page = await this.serviceRecords.pageSettled(cursor, 200);
      if (page.length === 0) break;
      for (const { service, tenant, lastSucceededOperationId } of page) {
        if (this.stopped) return { services, failed, seconds: (Date.now() - started) / 1_000 };
        const t0 = Date.now();
        services++;
        try {
          const snapshot = await this.snapshots.forService(service, tenant);
          await this.services.resync(snapshot, lastSucceededOperationId, !tenantsDone.has(tenant.id));
          tenantsDone.add(tenant.id);
        } catch (e) {
          failed++;
          this.logger.warn(`resync of service ${service.serviceId} failed: ${(e as Error).message}`);
        }
        const wait = gapMs - (Date.now() - t0);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      cursor = page[page.length - 1].service.id;
    }
    return { services, failed, seconds: (Date.now() - started) / 1_000 };
  }
}
