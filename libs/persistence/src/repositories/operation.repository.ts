import { Injectable } from '@nestjs/common';
import { type Transaction, Repository } from '../database';
import { toJsonColumn } from '../json-columns';
import { createdBefore, type CreatedCursor, type Page } from '../paging';
import {
  type OperationRecord,
  toOperationRecord,
  type ServiceRecord,
  toServiceRecord,
  type TenantRecord,
  toTenantRecord,
} from '../records';

const NOT_ENDED = ['PENDING', 'IN_PROGRESS'];

export type NewOperation = Pick<
  OperationRecord,
  'tenantId' | 'serviceId' | 'targetArn' | 'generation' | 'type' | 'fromStatus' | 'createdAt'
> &
  Partial<Pick<OperationRecord, 'rollbackSpec' | 'trigger' | 'sourceCommit' | 'image'>>;

/** Operations of services: recorded PENDING with their change, ended exactly once by the worker. */
@Injectable()
export class OperationRepository extends Repository {
  async create(operation: NewOperation, tx: Transaction): Promise<OperationRecord> {
    const { rollbackSpec, ...fields } = operation;
    const row = await this.db(tx).operation.create({
      data: { ...fields, status: 'PENDING', ...(rollbackSpec ? { rollbackSpec: toJsonColumn(rollbackSpec) } : {}) },
    });
    return toOperationRecord(row);
  }

  /** An operation that must exist. */
  async get(id: string, tx?: Transaction): Promise<OperationRecord> {
    return toOperationRecord(await this.db(tx).operation.findUniqueOrThrow({ where: { id } }));
  }

  async findById(id: string, tx?: Transaction): Promise<OperationRecord | undefined> {
    const row = await this.db(tx).operation.findUnique({ where: { id } });
    return row ? toOperationRecord(row) : undefined;
  }

  /** An operation of the tenant (tenant isolation: another tenant's id is not found). */
  async findOfTenant(tenantId: string, id: string): Promise<OperationRecord | undefined> {
    const row = await this.db().operation.findFirst({ where: { id, tenantId } });
    return row ? toOperationRecord(row) : undefined;
  }

  async findWithServiceAndTenant(
    id: string,
  ): Promise<{ operation: OperationRecord; service: ServiceRecord; tenant: TenantRecord } | undefined> {
    const row = await this.db().operation.findUnique({ where: { id }, include: { service: true, tenant: true } });
    if (!row) return undefined;
    const { service, tenant, ...operation } = row;
    return { operation: toOperationRecord(operation), service: toServiceRecord(service), tenant: toTenantRecord(tenant) };
  }

  /** The operation, and whether its service is code-based (has a connection): its deploying operations build. */
  async findWithSourceKind(id: string): Promise<{ operation: OperationRecord; codeBased: boolean } | undefined> {
    const row = await this.db().operation.findUnique({ where: { id }, include: { service: { select: { connectionId: true } } } });
    if (!row) return undefined;
    const { service, ...operation } = row;
    return { operation: toOperationRecord(operation), codeBased: service.connectionId !== null };
  }

  /** The operations of a service, newest first. */
  async pageOfService(tenantId: string, serviceId: string, page: Page<CreatedCursor>): Promise<OperationRecord[]> {
    const rows = await this.db().operation.findMany({
      where: { tenantId, serviceId, ...createdBefore(page.after) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.take,
    });
    return rows.map(toOperationRecord);
  }

  /** Ids of operations not ended and created before `cutoff`, oldest first (the outbox). */
  async idsNotEndedBefore(cutoff: Date, take: number): Promise<string[]> {
    const rows = await this.db().operation.findMany({
      where: { status: { in: NOT_ENDED }, createdAt: { lt: cutoff } },
      select: { id: true },
      orderBy: { createdAt: 'asc' },
      take,
    });
    return rows.map((r) => r.id);
  }

  async markEnqueued(id: string, at: Date): Promise<void> {
    await this.db().operation.update({ where: { id }, data: { enqueuedAt: at } });
  }

  /** PENDING → IN_PROGRESS (a no-op when a pass already started it). */
  async markStarted(id: string, at: Date): Promise<void> {
    await this.db().operation.updateMany({ where: { id, status: 'PENDING' }, data: { status: 'IN_PROGRESS', startedAt: at } });
  }

  /**
   * The claim of an operation's end: a conditional update, so that of two passes ending one operation at once (a
   * worker that lost its job's lock and the one that took it over) exactly one ends it; the other waits on the row
   * and then finds it ended (false).
   */
  async claimEnd(id: string, at: Date, tx: Transaction): Promise<boolean> {
    const claimed = await this.db(tx).operation.updateMany({ where: { id, status: { in: NOT_ENDED } }, data: { endedAt: at } });
    return claimed.count === 1;
  }

  async recordEnd(id: string, end: { status: string; startedAt: Date; errorMessage: string | null }, tx: Transaction): Promise<void> {
    await this.db(tx).operation.update({ where: { id }, data: end });
  }
}
