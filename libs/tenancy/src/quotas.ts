import { Injectable } from '@nestjs/common';
import { AuthenticationError, ServiceQuotaExceededException } from '@apprunner/core';
import { Database, TenantRepository, type Transaction } from '@apprunner/persistence';

/** App Runner's per-account quotas (guide, "App Runner resource quotas"); an admin may override the adjustable ones. */
export const QUOTA_DEFAULTS = {
  Services: 30,
  Connections: 10,
  AutoScalingConfigurationNames: 10,
  ObservabilityConfigurationNames: 10,
  VpcConnectors: 10,
  /** Per service (guide L5816): a service has at most this many VPC ingress connections. */
  VpcIngressConnections: 1,
} as const;

export type QuotaName = keyof typeof QUOTA_DEFAULTS;
export const QUOTA_NAMES = Object.keys(QUOTA_DEFAULTS) as QuotaName[];

/** Fixed by App Runner, not adjustable per tenant. */
export const FIXED_LIMITS = {
  AutoScalingConfigurationRevisionsPerName: 5,
  ObservabilityConfigurationRevisionsPerName: 10,
  CustomDomainsPerService: 5,
  TagsPerResource: 50,
} as const;

export type QuotaOverrides = Partial<Record<QuotaName, number>>;

export function effectiveQuota(overrides: QuotaOverrides, name: QuotaName): number {
  return overrides[name] ?? QUOTA_DEFAULTS[name];
}

/** A tenant's quotas, read under its lock: a count made after taking the lock is compared with them. */
export class TenantQuotas {
  constructor(private readonly overrides: QuotaOverrides) {}

  limit(name: QuotaName): number {
    return effectiveQuota(this.overrides, name);
  }

  /** ServiceQuotaExceededException when `count` (run now, under the lock) has reached the quota. */
  async check(name: QuotaName, count: () => Promise<number>): Promise<void> {
    const limit = this.limit(name);
    if ((await count()) >= limit) {
      throw new ServiceQuotaExceededException(`You have reached the maximum number of ${QUOTA_LABELS[name]} (${limit}) for this account.`);
    }
  }
}

/**
 * The tenant lock serialises a tenant's quota-checked creates, and the deletions that must not race with them: two
 * concurrent creates at the limit, exactly one wins; a configuration is never deleted while an update takes it.
 * Every count a limit depends on runs after taking it (the lock itself: TenantRepository.lock).
 */
@Injectable()
export class TenantLock {
  constructor(
    private readonly database: Database,
    private readonly tenants: TenantRepository,
  ) {}

  /** Runs `work` in one transaction that first takes the tenant's lock. */
  run<T>(tenantId: string, work: (tx: Transaction, quotas: TenantQuotas) => Promise<T>): Promise<T> {
    return this.database.transaction(async (tx) => work(tx, await this.take(tx, tenantId)));
  }

  /** Takes the lock in a transaction already open, for work that must read something before it. */
  async take(tx: Transaction, tenantId: string): Promise<TenantQuotas> {
    const locked = await this.tenants.lock(tenantId, tx);
    // The tenant was deleted after this request authenticated: answer as every replica now does for its credentials.
    if (!locked) throw new AuthenticationError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    return new TenantQuotas(locked.quotaOverrides);
  }
}

const QUOTA_LABELS: Record<QuotaName, string> = {
  Services: 'services',
  Connections: 'connections',
  AutoScalingConfigurationNames: 'auto scaling configuration names',
  ObservabilityConfigurationNames: 'observability configuration names',
  VpcConnectors: 'VPC connectors',
  VpcIngressConnections: 'VPC ingress connections',
};
