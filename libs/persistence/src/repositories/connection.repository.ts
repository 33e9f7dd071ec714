import { Injectable } from '@nestjs/common';
import { type Transaction, Repository } from '../database';
import { createdAfter, type CreatedCursor, type Page } from '../paging';
import type { ConnectionRecord } from '../records';

const LIVE = { status: { not: 'DELETED' } };

export type NewConnection = Pick<ConnectionRecord, 'tenantId' | 'connectionName' | 'arn' | 'providerType' | 'createdAt'>;

/** Connections to source code providers, and the GitHub App installations they are bound to. */
@Injectable()
export class ConnectionRepository extends Repository {
  async create(connection: NewConnection, tx: Transaction): Promise<ConnectionRecord> {
    return this.db(tx).connection.create({ data: { ...connection, activeName: connection.connectionName, status: 'PENDING_HANDSHAKE' } });
  }

  async findById(id: string, tx?: Transaction): Promise<ConnectionRecord | undefined> {
    return (await this.db(tx).connection.findUnique({ where: { id } })) ?? undefined;
  }

  /** A connection of the tenant by ARN, unless deleted. */
  async findLiveByArn(tenantId: string, arn: string, tx?: Transaction): Promise<ConnectionRecord | undefined> {
    return (await this.db(tx).connection.findFirst({ where: { tenantId, arn, ...LIVE } })) ?? undefined;
  }

  async countLive(tenantId: string, tx?: Transaction): Promise<number> {
    return this.db(tx).connection.count({ where: { tenantId, ...LIVE } });
  }

  async nameInUse(tenantId: string, name: string, tx?: Transaction): Promise<boolean> {
    return (await this.db(tx).connection.findFirst({ where: { tenantId, activeName: name } })) !== null;
  }

  async pageLive(tenantId: string, filter: { connectionName?: string }, page: Page<CreatedCursor>): Promise<ConnectionRecord[]> {
    return this.db().connection.findMany({
      where: {
        tenantId,
        ...LIVE,
        ...(filter.connectionName ? { connectionName: filter.connectionName } : {}),
        ...createdAfter(page.after),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.take,
    });
  }

  /** A live connection of another tenant bound to the installation. */
  async boundElsewhere(installationId: bigint, tenantId: string, tx: Transaction): Promise<ConnectionRecord | undefined> {
    const row = await this.db(tx).connection.findFirst({ where: { installationId, tenantId: { not: tenantId }, ...LIVE } });
    return row ?? undefined;
  }

  /** AVAILABLE, bound to the installation of the provider account. */
  async bind(
    id: string,
    installation: { installationId: bigint; providerAccount: string },
    at: Date,
    tx: Transaction,
  ): Promise<ConnectionRecord> {
    return this.db(tx).connection.update({ where: { id }, data: { status: 'AVAILABLE', ...installation, updatedAt: at } });
  }

  async markDeleted(id: string, at: Date, tx: Transaction): Promise<ConnectionRecord> {
    return this.db(tx).connection.update({ where: { id }, data: { status: 'DELETED', activeName: null, deletedAt: at } });
  }

  /** Moves the installation's connections in status `from` to `to`; how many moved. */
  async moveOnInstallation(installationId: bigint, from: string, to: string, at: Date): Promise<number> {
    return (await this.db().connection.updateMany({ where: { installationId, status: from }, data: { status: to, updatedAt: at } })).count;
  }
}
