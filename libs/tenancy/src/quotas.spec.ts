import { describe, expect, it } from 'vitest';
import { AuthenticationError, ServiceQuotaExceededException } from '@apprunner/core';
import type { Database, TenantRepository, Transaction } from '@apprunner/persistence';
import { TenantLock, TenantQuotas } from './quotas';

/** A database whose transactions only record what ran in them, and a tenant table of one row (or none). */
function fakes(overrides: Record<string, number> | undefined) {
  const steps: string[] = [];
  const tx = {} as Transaction;
  const database = { transaction: async <T>(work: (t: Transaction) => Promise<T>) => work(tx) } as unknown as Database;
  const tenants = {
    lock: async (id: string, t: Transaction) => {
      steps.push(`lock ${id}${t === tx ? ' in the transaction' : ''}`);
      return overrides ? { quotaOverrides: overrides } : undefined;
    },
  } as unknown as TenantRepository;
  return { steps, lock: new TenantLock(database, tenants) };
}

describe('the tenant lock', () => {
  it('is taken first, in the transaction of the work, which gets the tenant’s quotas', async () => {
    const { steps, lock } = fakes({ Services: 2 });
    const limit = await lock.run('t1', async (_tx, quotas) => {
      steps.push('work');
      return quotas.limit('Services');
    });
    expect(steps).toEqual(['lock t1 in the transaction', 'work']);
    expect(limit).toBe(2);
  });

  it('answers as for a revoked credential when the tenant was deleted after the request authenticated', async () => {
    const { steps, lock } = fakes(undefined);
    const refused = await lock.run('gone', async () => steps.push('work')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect((refused as AuthenticationError).code).toBe('UnrecognizedClientException');
    expect(steps).toEqual(['lock gone in the transaction']);
  });
});

describe('quotas under the lock', () => {
  it('refuse a create once the count has reached the quota (an override, or App Runner’s default)', async () => {
    const quotas = new TenantQuotas({ Connections: 1 });
    await expect(quotas.check('Connections', async () => 0)).resolves.toBeUndefined();
    const refused = await quotas.check('Connections', async () => 1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ServiceQuotaExceededException);
    expect((refused as Error).message).toBe('You have reached the maximum number of connections (1) for this account.');
    expect(quotas.limit('Services')).toBe(30);
    await expect(quotas.check('Services', async () => 29)).resolves.toBeUndefined();
    await expect(quotas.check('Services', async () => 30)).rejects.toThrow('(30)');
  });
});
