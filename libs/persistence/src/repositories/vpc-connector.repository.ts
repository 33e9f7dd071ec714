import { Injectable } from '@nestjs/common';
import { type Transaction, Repository } from '../database';
import { type Page, type RevisionCursor, revisionAfter, type RevisionLookup, revisionWhere } from '../paging';
import type { VpcConnectorRecord } from '../records';

export type NewVpcConnector = Pick<
  VpcConnectorRecord,
  'tenantId' | 'name' | 'revision' | 'arn' | 'subnets' | 'securityGroups' | 'createdAt'
>;

/** VPC connectors (one active revision per name). */
@Injectable()
export class VpcConnectorRepository extends Repository {
  async create(connector: NewVpcConnector, tx: Transaction): Promise<VpcConnectorRecord> {
    return this.db(tx).vpcConnector.create({ data: { ...connector, status: 'ACTIVE' } });
  }

  async findById(id: string): Promise<VpcConnectorRecord> {
    return this.db().vpcConnector.findUniqueOrThrow({ where: { id } });
  }

  async findRevision(tenantId: string, lookup: RevisionLookup, tx?: Transaction): Promise<VpcConnectorRecord | undefined> {
    return (
      (await this.db(tx).vpcConnector.findFirst({ where: revisionWhere(tenantId, lookup), orderBy: { revision: 'desc' } })) ?? undefined
    );
  }

  async countActive(tenantId: string, tx?: Transaction): Promise<number> {
    return this.db(tx).vpcConnector.count({ where: { tenantId, status: 'ACTIVE' } });
  }

  async countActiveOfName(tenantId: string, name: string, tx?: Transaction): Promise<number> {
    return this.db(tx).vpcConnector.count({ where: { tenantId, name, status: 'ACTIVE' } });
  }

  /** The highest revision a name ever had (deleted ones included), 0 for a new name. */
  async lastRevision(tenantId: string, name: string, tx?: Transaction): Promise<number> {
    const last = await this.db(tx).vpcConnector.aggregate({ where: { tenantId, name }, _max: { revision: true } });
    return last._max.revision ?? 0;
  }

  async pageActive(tenantId: string, page: Page<RevisionCursor>): Promise<VpcConnectorRecord[]> {
    return this.db().vpcConnector.findMany({
      where: { tenantId, status: 'ACTIVE', ...revisionAfter(page.after) },
      orderBy: [{ name: 'asc' }, { revision: 'asc' }],
      take: page.take,
    });
  }

  async markInactive(id: string, deletedAt: Date, tx: Transaction): Promise<VpcConnectorRecord> {
    return this.db(tx).vpcConnector.update({ where: { id }, data: { status: 'INACTIVE', deletedAt } });
  }
}
