import { Injectable } from '@nestjs/common';
import { Repository } from '../database';
import { prismaErrorCode } from '../errors';
import { toJsonColumn } from '../json-columns';

export interface NewAuditRecord {
  tenantId: string;
  principal: string;
  action: string;
  resourceArn: string | null;
  /** The request, redacted: stored as JSON. */
  request: unknown;
  outcome: string;
  requestId: string;
  sourceIp: string | null;
  createdAt: Date;
}

/** The audit log: one record per mutating call. */
@Injectable()
export class AuditRepository extends Repository {
  async record(record: NewAuditRecord): Promise<void> {
    const data = { ...record, request: toJsonColumn(record.request) };
    try {
      await this.db().auditRecord.create({ data });
    } catch (e) {
      // The tenant was deleted while the call ran: its record is kept without it, as its older ones were (SetNull).
      if (prismaErrorCode(e) !== 'P2003') throw e;
      await this.db().auditRecord.create({ data: { ...data, tenantId: null } });
    }
  }
}
