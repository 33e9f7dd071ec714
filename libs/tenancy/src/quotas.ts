import { AuthenticationError, ServiceQuotaExceededException } from '@apprunner/core';
import { Prisma } from '@apprunner/persistence';

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

export function effectiveQuota(overrides: unknown, name: QuotaName): number {
  const value = (overrides as QuotaOverrides | null | undefined)?.[name];
  return typeof value === 'number' ? value : QUOTA_DEFAULTS[name];
}

/**
 * Serialises quota-checked creates of one tenant: an UPDATE takes the tenant row lock until the
 * transaction ends, and under READ COMMITTED the count that follows sees every create committed
 * before the lock was granted. Two concurrent creates at the limit: exactly one wins.
 */
export async function lockTenant(tx: Prisma.TransactionClient, tenantId: string): Promise<{ quotaOverrides: unknown }> {
  try {
    return await tx.tenant.update({ where: { id: tenantId }, data: { updatedAt: new Date() }, select: { quotaOverrides: true } });
  } catch (e) {
    // The tenant was deleted after this request authenticated: answer as every replica now does for its credentials.
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2025') {
      throw new AuthenticationError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    throw e;
  }
}

export async function enforceQuota(
  tx: Prisma.TransactionClient,
  tenantId: string,
  name: QuotaName,
  count: () => Promise<number>,
): Promise<void> {
  const { quotaOverrides } = await lockTenant(tx, tenantId);
  await checkQuota(quotaOverrides, name, count);
}

/** The quota check alone, for callers that already hold the tenant lock (their count must run after taking it). */
export async function checkQuota(quotaOverrides: unknown, name: QuotaName, count: () => Promise<number>): Promise<void> {
  const limit = effectiveQuota(quotaOverrides, name);
  if ((await count()) >= limit) {
    throw new ServiceQuotaExceededException(`You have reached the maximum number of ${quotaLabel(name)} (${limit}) for this account.`);
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

function quotaLabel(name: QuotaName): string {
  return QUOTA_LABELS[name];
}
