import { Injectable } from '@nestjs/common';
import type { ValidationRecord } from '@apprunner/api-model';
import { type Transaction, Repository } from '../database';
import { unique } from '../errors';
import { toJsonColumn } from '../json-columns';
import type { Page } from '../paging';
import { type CustomDomainRecord, toCustomDomainRecord, type TenantRecord, toTenantRecord } from '../records';

export type NewCustomDomain = Pick<
  CustomDomainRecord,
  'tenantId' | 'serviceId' | 'domainName' | 'enableWWWSubdomain' | 'status' | 'certificateValidationRecords' | 'createdAt'
>;

/** Custom domains of services (a domain name belongs to one service on the whole platform). */
@Injectable()
export class CustomDomainRepository extends Repository {
  /** UniqueConstraintError when the domain is associated with a service already (of any tenant). */
  async create(domain: NewCustomDomain, tx: Transaction): Promise<CustomDomainRecord> {
    const { certificateValidationRecords, ...fields } = domain;
    const row = await unique('custom domain', () =>
      this.db(tx).customDomain.create({ data: { ...fields, certificateValidationRecords: toJsonColumn(certificateValidationRecords) } }),
    );
    return toCustomDomainRecord(row);
  }

  async findById(id: string): Promise<CustomDomainRecord | undefined> {
    const row = await this.db().customDomain.findUnique({ where: { id } });
    return row ? toCustomDomainRecord(row) : undefined;
  }

  /** The domain with its service and tenant: what its reconciler is given. */
  async findWithServiceAndTenant(
    id: string,
  ): Promise<{ domain: CustomDomainRecord; service: { serviceId: string; arn: string }; tenant: TenantRecord } | undefined> {
    const row = await this.db().customDomain.findUnique({ where: { id }, include: { service: true, tenant: true } });
    if (!row) return undefined;
    const { service, tenant, ...domain } = row;
    return {
      domain: toCustomDomainRecord(domain),
      service: { serviceId: service.serviceId, arn: service.arn },
      tenant: toTenantRecord(tenant),
    };
  }

  async findOfService(serviceId: string, domainName: string, tx?: Transaction): Promise<CustomDomainRecord | undefined> {
    const row = await this.db(tx).customDomain.findFirst({ where: { serviceId, domainName } });
    return row ? toCustomDomainRecord(row) : undefined;
  }

  async namesOfService(serviceId: string, tx?: Transaction): Promise<string[]> {
    return (await this.db(tx).customDomain.findMany({ where: { serviceId }, select: { domainName: true } })).map((d) => d.domainName);
  }

  /** Whether any service on the platform has the domain. */
  async taken(domainName: string, tx?: Transaction): Promise<boolean> {
    return (await this.db(tx).customDomain.findFirst({ where: { domainName }, select: { id: true } })) !== null;
  }

  /** A service's domains by name, after the name `page.after`. */
  async pageOfService(serviceId: string, page: Page<string>): Promise<CustomDomainRecord[]> {
    const rows = await this.db().customDomain.findMany({
      where: { serviceId, ...(page.after !== undefined ? { domainName: { gt: page.after } } : {}) },
      orderBy: { domainName: 'asc' },
      take: page.take,
    });
    return rows.map(toCustomDomainRecord);
  }

  /** Those in one of `statuses` last changed before `cutoff` (the outbox), with the time of that change. */
  async findInStatusesBefore(statuses: string[], cutoff: Date, take: number): Promise<Pick<CustomDomainRecord, 'id' | 'updatedAt'>[]> {
    return this.db().customDomain.findMany({
      where: { status: { in: statuses }, updatedAt: { lt: cutoff } },
      select: { id: true, updatedAt: true },
      take,
    });
  }

  async markDeleting(id: string, tx: Transaction): Promise<CustomDomainRecord> {
    return toCustomDomainRecord(await this.db(tx).customDomain.update({ where: { id }, data: { status: 'DELETING' } }));
  }

  /** Writes the domain's status and/or validation records, unless its status moved from `from` meanwhile. */
  async update(id: string, from: string, change: { status?: string; certificateValidationRecords?: ValidationRecord[] }): Promise<void> {
    const { status, certificateValidationRecords } = change;
    await this.db().customDomain.updateMany({
      where: { id, status: from },
      data: {
        ...(status ? { status } : {}),
        ...(certificateValidationRecords ? { certificateValidationRecords: toJsonColumn(certificateValidationRecords) } : {}),
      },
    });
  }

  /** Writes the domain's status and records whatever its status (a job given up on). */
  async settle(id: string, change: { status: string; certificateValidationRecords?: ValidationRecord[] }): Promise<void> {
    const { status, certificateValidationRecords } = change;
    await this.db().customDomain.update({
      where: { id },
      data: {
        status,
        ...(certificateValidationRecords ? { certificateValidationRecords: toJsonColumn(certificateValidationRecords) } : {}),
      },
    });
  }

  /** Removes a domain whose disassociation finished (still DELETING). */
  async removeDeleted(id: string): Promise<void> {
    await this.db().customDomain.deleteMany({ where: { id, status: 'DELETING' } });
  }

  /** The domains of a service that is gone. */
  async removeAllOfService(serviceId: string, tx: Transaction): Promise<void> {
    await this.db(tx).customDomain.deleteMany({ where: { serviceId } });
  }
}
