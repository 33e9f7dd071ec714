import { Injectable } from '@nestjs/common';
import { type Transaction, Repository } from '../database';
import { prismaErrorCode, unique } from '../errors';
import { parseColumn, type QuotaOverrides, quotaOverridesSchema } from '../json-columns';
import { type TenantRecord, toTenantRecord } from '../records';

/** Tenants, and the tombstones of deleted ones (the worker removes their namespaces). */
@Injectable()
export class TenantRepository extends Repository {
  /** UniqueConstraintError when the name or the account id is taken. */
  async create(
    data: { name: string; accountId: string; quotaOverrides: QuotaOverrides; createdAt: Date },
    tx?: Transaction,
  ): Promise<TenantRecord> {
    return toTenantRecord(await unique('tenant', () => this.db(tx).tenant.create({ data })));
  }

  async list(): Promise<TenantRecord[]> {
    return (await this.db().tenant.findMany({ orderBy: { createdAt: 'asc' } })).map(toTenantRecord);
  }

  async findByAccountId(accountId: string): Promise<TenantRecord | undefined> {
    const row = await this.db().tenant.findUnique({ where: { accountId } });
    return row ? toTenantRecord(row) : undefined;
  }

  async setQuotaOverrides(id: string, quotaOverrides: QuotaOverrides): Promise<TenantRecord> {
    return toTenantRecord(await this.db().tenant.update({ where: { id }, data: { quotaOverrides } }));
  }

  /**
   * The tenant lock: an UPDATE of the tenant's row, which holds its row lock until the transaction ends; under READ
   * COMMITTED what the transaction reads after it sees every write committed before the lock was granted. Returns
   * the tenant's quota overrides, or undefined when the tenant is gone.
   */
  async lock(id: string, tx: Transaction): Promise<{ quotaOverrides: QuotaOverrides } | undefined> {
    try {
      const row = await this.db(tx).tenant.update({ where: { id }, data: { updatedAt: new Date() }, select: { quotaOverrides: true } });
      return { quotaOverrides: parseColumn(quotaOverridesSchema, row.quotaOverrides, `TenantRecord ${id}: quotaOverrides`) };
    } catch (e) {
      if (prismaErrorCode(e) === 'P2025') return undefined;
      throw e;
    }
  }

  /** Deletes the tenant (its records go with it) and leaves a tombstone for the worker. */
  async deleteLeavingTombstone(tenant: Pick<TenantRecord, 'id' | 'accountId'>, tx: Transaction): Promise<void> {
    await this.db(tx).tenant.delete({ where: { id: tenant.id } });
    await this.db(tx).tenantTombstone.upsert({
      where: { accountId: tenant.accountId },
      create: { accountId: tenant.accountId },
      update: { deletedAt: new Date(), cleanedAt: null },
    });
  }

  async accountExists(accountId: string): Promise<boolean> {
    return (await this.db().tenant.findUnique({ where: { accountId }, select: { id: true } })) !== null;
  }

  /** Account ids of deleted tenants whose namespace may still be in the cluster (at most `take`). */
  async tombstonesToClean(take = 100): Promise<string[]> {
    return (await this.db().tenantTombstone.findMany({ where: { cleanedAt: null }, take, select: { accountId: true } })).map(
      (t) => t.accountId,
    );
  }

  async tombstoneCleaned(accountId: string): Promise<void> {
    await this.db().tenantTombstone.update({ where: { accountId }, data: { cleanedAt: new Date() } });
  }
}
