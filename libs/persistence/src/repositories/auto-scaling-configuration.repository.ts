import { Injectable } from '@nestjs/common';
import { type Transaction, Repository } from '../database';
import { activeRevisionsPage, latestActiveRevisions, type Page, type RevisionCursor, type RevisionLookup, revisionWhere } from '../paging';
import type { AutoScalingConfigurationRecord } from '../records';

export type NewAutoScalingConfiguration = Pick<
  AutoScalingConfigurationRecord,
  'tenantId' | 'name' | 'revision' | 'arn' | 'maxConcurrency' | 'minSize' | 'maxSize' | 'createdAt'
> &
  Partial<Pick<AutoScalingConfigurationRecord, 'isDefault'>>;

/** Auto scaling configurations: named, revisioned; one of a tenant's is its default. */
@Injectable()
export class AutoScalingConfigurationRepository extends Repository {
  async create(configuration: NewAutoScalingConfiguration, tx: Transaction): Promise<AutoScalingConfigurationRecord> {
    return this.db(tx).autoScalingConfiguration.create({ data: { ...configuration, status: 'ACTIVE' } });
  }

  async findById(id: string, tx?: Transaction): Promise<AutoScalingConfigurationRecord> {
    return this.db(tx).autoScalingConfiguration.findUniqueOrThrow({ where: { id } });
  }

  async findRevision(tenantId: string, lookup: RevisionLookup, tx?: Transaction): Promise<AutoScalingConfigurationRecord | undefined> {
    const row = await this.db(tx).autoScalingConfiguration.findFirst({
      where: revisionWhere(tenantId, lookup),
      orderBy: { revision: 'desc' },
    });
    return row ?? undefined;
  }

  async findDefault(tenantId: string, tx?: Transaction): Promise<AutoScalingConfigurationRecord | undefined> {
    return (await this.db(tx).autoScalingConfiguration.findFirst({ where: { tenantId, isDefault: true, status: 'ACTIVE' } })) ?? undefined;
  }

  async findActiveOfName(tenantId: string, name: string, tx?: Transaction): Promise<AutoScalingConfigurationRecord[]> {
    return this.db(tx).autoScalingConfiguration.findMany({ where: { tenantId, name, status: 'ACTIVE' } });
  }

  async countActiveRevisions(tenantId: string, name: string, tx?: Transaction): Promise<number> {
    return this.db(tx).autoScalingConfiguration.count({ where: { tenantId, name, status: 'ACTIVE' } });
  }

  /** How many names have an active revision, `except` not counted. */
  async countActiveNames(tenantId: string, except: string, tx?: Transaction): Promise<number> {
    const names = await this.db(tx).autoScalingConfiguration.groupBy({
      by: ['name'],
      where: { tenantId, status: 'ACTIVE', name: { not: except } },
    });
    return names.length;
  }

  /** The highest revision a name ever had (deleted ones included), 0 for a new name. */
  async lastRevision(tenantId: string, name: string, tx?: Transaction): Promise<number> {
    const last = await this.db(tx).autoScalingConfiguration.aggregate({ where: { tenantId, name }, _max: { revision: true } });
    return last._max.revision ?? 0;
  }

  /** The latest active revision of each name (of `name` alone when given). */
  async latestRevisions(tenantId: string, name?: string, tx?: Transaction): Promise<Map<string, number>> {
    const groups = await this.db(tx).autoScalingConfiguration.groupBy(latestActiveRevisions(tenantId, name));
    return new Map(groups.map((g) => [g.name, g._max.revision ?? 0]));
  }

  /** Active revisions by name and revision, of `name` only and among `revisions` only when given. */
  async pageActive(
    tenantId: string,
    filter: { name?: string; revisions?: RevisionCursor[] },
    page: Page<RevisionCursor>,
  ): Promise<AutoScalingConfigurationRecord[]> {
    return this.db().autoScalingConfiguration.findMany(activeRevisionsPage(tenantId, filter, page));
  }

  async markInactive(ids: string[], deletedAt: Date, tx: Transaction): Promise<void> {
    await this.db(tx).autoScalingConfiguration.updateMany({ where: { id: { in: ids } }, data: { status: 'INACTIVE', deletedAt } });
  }

  /** Makes the configuration the tenant's only default. */
  async makeDefault(tenantId: string, id: string, tx: Transaction): Promise<AutoScalingConfigurationRecord> {
    await this.db(tx).autoScalingConfiguration.updateMany({ where: { tenantId, isDefault: true }, data: { isDefault: false } });
    return this.db(tx).autoScalingConfiguration.update({ where: { id }, data: { isDefault: true } });
  }
}
