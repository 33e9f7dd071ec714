import { Injectable } from '@nestjs/common';
import { type Transaction, Repository } from '../database';
import { unique } from '../errors';
import { createdAfter, type CreatedCursor, type Page } from '../paging';
import { type TenantRecord, toTenantRecord, type VpcIngressConnectionRecord } from '../records';

const LIVE = { status: { not: 'DELETED' } };
const WITH_SERVICE_ARN = { service: { select: { arn: true } } } as const;

export type NewVpcIngressConnection = Pick<
  VpcIngressConnectionRecord,
  'tenantId' | 'name' | 'arn' | 'serviceId' | 'vpcId' | 'vpcEndpointId' | 'domainName' | 'status' | 'createdAt'
>;

/** A VPC ingress connection and the ARN of its service (every answer about one names it). */
export type VpcIngressConnectionOfService = VpcIngressConnectionRecord & { serviceArn: string };

/** VPC ingress connections: private ingress of a service. */
@Injectable()
export class VpcIngressConnectionRepository extends Repository {
  /** UniqueConstraintError when a live connection of the tenant has the name. */
  async create(connection: NewVpcIngressConnection, tx: Transaction): Promise<VpcIngressConnectionOfService> {
    const row = await unique('VPC ingress connection', () =>
      this.db(tx).vpcIngressConnection.create({ data: { ...connection, activeName: connection.name }, include: WITH_SERVICE_ARN }),
    );
    return withServiceArn(row);
  }

  async findByArn(tenantId: string, arn: string, tx?: Transaction): Promise<VpcIngressConnectionOfService | undefined> {
    const row = await this.db(tx).vpcIngressConnection.findFirst({ where: { tenantId, arn }, include: WITH_SERVICE_ARN });
    return row ? withServiceArn(row) : undefined;
  }

  /** A connection that must exist (read again in the transaction that changed it). */
  async get(id: string, tx?: Transaction): Promise<VpcIngressConnectionOfService> {
    return withServiceArn(await this.db(tx).vpcIngressConnection.findUniqueOrThrow({ where: { id }, include: WITH_SERVICE_ARN }));
  }

  async findById(id: string, tx?: Transaction): Promise<VpcIngressConnectionOfService | undefined> {
    const row = await this.db(tx).vpcIngressConnection.findUnique({ where: { id }, include: WITH_SERVICE_ARN });
    return row ? withServiceArn(row) : undefined;
  }

  /** The connection with its service and tenant: what its reconciler is given. */
  async findWithServiceAndTenant(
    id: string,
  ): Promise<{ connection: VpcIngressConnectionRecord; service: { serviceId: string; arn: string }; tenant: TenantRecord } | undefined> {
    const row = await this.db().vpcIngressConnection.findUnique({ where: { id }, include: { service: true, tenant: true } });
    if (!row) return undefined;
    const { service, tenant, ...connection } = row;
    return { connection, service: { serviceId: service.serviceId, arn: service.arn }, tenant: toTenantRecord(tenant) };
  }

  async countLiveOfService(serviceId: string, tx?: Transaction): Promise<number> {
    return this.db(tx).vpcIngressConnection.count({ where: { serviceId, ...LIVE } });
  }

  async liveOfService(serviceId: string): Promise<VpcIngressConnectionRecord[]> {
    return this.db().vpcIngressConnection.findMany({ where: { serviceId, ...LIVE } });
  }

  async nameInUse(tenantId: string, name: string, tx?: Transaction): Promise<boolean> {
    return (await this.db(tx).vpcIngressConnection.findFirst({ where: { tenantId, activeName: name }, select: { id: true } })) !== null;
  }

  async pageLive(
    tenantId: string,
    filter: { serviceArn?: string; vpcEndpointId?: string },
    page: Page<CreatedCursor>,
  ): Promise<VpcIngressConnectionOfService[]> {
    const rows = await this.db().vpcIngressConnection.findMany({
      where: {
        tenantId,
        ...LIVE,
        ...(filter.serviceArn ? { service: { arn: filter.serviceArn } } : {}),
        ...(filter.vpcEndpointId ? { vpcEndpointId: filter.vpcEndpointId } : {}),
        ...createdAfter(page.after),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.take,
      include: WITH_SERVICE_ARN,
    });
    return rows.map(withServiceArn);
  }

  /** Those in one of `statuses` last changed before `cutoff` (the outbox), with the time of that change. */
  async findInStatusesBefore(
    statuses: string[],
    cutoff: Date,
    take: number,
  ): Promise<Pick<VpcIngressConnectionRecord, 'id' | 'updatedAt'>[]> {
    return this.db().vpcIngressConnection.findMany({
      where: { status: { in: statuses }, updatedAt: { lt: cutoff } },
      select: { id: true, updatedAt: true },
      take,
    });
  }

  /** Moves the connection from `from` to `status` (with `change`), unless its status moved meanwhile (false). */
  async move(
    id: string,
    from: string,
    status: string,
    change: Partial<Pick<VpcIngressConnectionRecord, 'vpcId' | 'vpcEndpointId'>> & { deletedAt?: Date },
    tx?: Transaction,
  ): Promise<boolean> {
    const { deletedAt, ...fields } = change;
    const moved = await this.db(tx).vpcIngressConnection.updateMany({
      where: { id, status: from },
      data: { ...fields, status, ...(deletedAt ? { deletedAt, activeName: null } : {}) },
    });
    return moved.count === 1;
  }

  async setStatus(id: string, status: string): Promise<void> {
    await this.db().vpcIngressConnection.update({ where: { id }, data: { status } });
  }
}

function withServiceArn<R extends VpcIngressConnectionRecord & { service: { arn: string } }>(row: R): VpcIngressConnectionOfService {
  const { service, ...connection } = row;
  return { ...connection, serviceArn: service.arn };
}
