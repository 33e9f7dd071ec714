import { Injectable } from '@nestjs/common';
import { type Transaction, Repository } from '../database';
import { activeRevisionsPage, latestActiveRevisions, type Page, type RevisionCursor, type RevisionLookup, revisionWhere } from '../paging';
import type { ObservabilityConfigurationRecord } from '../records';

export type NewObservabilityConfiguration = Pick<
  ObservabilityConfigurationRecord,
  'tenantId' | 'name' | 'revision' | 'arn' | 'traceVendor' | 'createdAt'
>;

/** Observability configurations: named, revisioned, immutable. */
@Injectable()
export class ObservabilityConfigurationRepository extends Repository {
  async create(configuration: NewObservabilityConfiguration, tx: Transaction): Promise<ObservabilityConfigurationRecord> {
    return this.db(tx).observabilityConfiguration.create({ data: { ...configuration, status: 'ACTIVE' } });
  }

  async findRevision(tenantId: string, lookup: RevisionLookup, tx?: Transaction): Promise<ObservabilityConfigurationRecord | undefined> {
    const row = await this.db(tx).observabilityConfiguration.findFirst({
      where: revisionWhere(tenantId, lookup),
      orderBy: { revision: 'desc' },
    });
    return row ?? undefined;
  }

  /** TraceConfiguration.Vendor of a configuration (undefined: none, or no such configuration). */
  async traceVendor(id: string): Promise<string | undefined> {
    const row = await this.db().observabilityConfiguration.findUnique({ where: { id }, select: { traceVendor: true } });
    return row?.traceVendor ?? undefined;
  }

  async countActiveRevisions(tenantId: string, name: string, tx?: Transaction): Promise<number> {
    return this.db(tx).observabilityConfiguration.count({ where: { tenantId, name, status: 'ACTIVE' } });
  }

  async countActiveNames(tenantId: string, tx?: Transaction): Promise<number> {
    return (await this.db(tx).observabilityConfiguration.groupBy({ by: ['name'], where: { tenantId, status: 'ACTIVE' } })).length;
  }

  /** The highest revision a name ever had (deleted ones included), 0 for a new name. */
  async lastRevision(tenantId: string, name: string, tx?: Transaction): Promise<number> {
    const last = await this.db(tx).observabilityConfiguration.aggregate({ where: { tenantId, name }, _max: { revision: true } });
    return last._max.revision ?? 0;
  }

  /** The latest active revision of each name (of `name` alone when given). */
  async latestRevisions(tenantId: string, name?: string, tx?: Transaction): Promise<Map<string, number>> {
    const groups = await this.db(tx).observabilityConfiguration.groupBy(latestActiveRevisions(tenantId, name));
    return new Map(groups.map((g) => [g.name, g._max.revision ?? 0]));
  }

  /** Active revisions by name and revision, of `name` only and among `revisions` only when given. */
  async pageActive(
    tenantId: string,
    filter: { name?: string; revisions?: RevisionCursor[] },
    page: Page<RevisionCursor>,
  ): Promise<ObservabilityConfigurationRecord[]> {
    return this.db().observabilityConfiguration.findMany(activeRevisionsPage(tenantId, filter, page));
  }

  async markInactive(id: string, deletedAt: Date, tx: Transaction): Promise<ObservabilityConfigurationRecord> {
    return this.db(tx).observabilityConfiguration.update({ where: { id }, data: { status: 'INACTIVE', deletedAt } });
  }
}
