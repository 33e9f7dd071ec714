import { Injectable } from '@nestjs/common';
import type {
  Connection as SdkConnection,
  CreateConnectionRequest,
  CreateConnectionResponse,
  DeleteConnectionResponse,
  ListConnectionsRequest,
  ListConnectionsResponse,
} from '@aws-sdk/client-apprunner';
import { Clock, decodeNextToken, formatArn, InvalidRequestException, newResourceId, page } from '@apprunner/core';
import { type Connection, type Prisma, PrismaService } from '@apprunner/persistence';
import { TagService } from '@apprunner/tag';
import { type CallContext, enforceQuota, lockTenant, notFound, ownArn } from '@apprunner/tenancy';

const NOUN = 'connection';

/** Connections to source code providers; created PENDING_HANDSHAKE until the provider app is installed (GitHub issue). */
@Injectable()
export class ConnectionService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly tags: TagService,
    private readonly clock: Clock,
  ) {}

  async create(ctx: CallContext, input: CreateConnectionRequest): Promise<CreateConnectionResponse> {
    const name = input.ConnectionName as string;
    const row = await this.prisma.client.$transaction(async (tx) => {
      await enforceQuota(tx, ctx.tenant.id, 'Connections', () =>
        tx.connection.count({ where: { tenantId: ctx.tenant.id, status: { not: 'DELETED' } } }),
      );
      if (await tx.connection.findFirst({ where: { tenantId: ctx.tenant.id, activeName: name } })) {
        throw new InvalidRequestException(`Connection with the provided name already exists: ${name}`);
      }
      const created = await tx.connection.create({
        data: {
          tenantId: ctx.tenant.id,
          connectionName: name,
          activeName: name,
          arn: formatArn(ctx.tenant, 'connection', name, newResourceId()),
          providerType: input.ProviderType as string,
          status: 'PENDING_HANDSHAKE',
          createdAt: this.clock.now(),
        },
      });
      await this.tags.put(tx, ctx, created.arn, input.Tags);
      return created;
    });
    return { Connection: toSdk(row) };
  }

  async list(ctx: CallContext, input: ListConnectionsRequest): Promise<ListConnectionsResponse> {
    const max = input.MaxResults ?? 100;
    const after = decodeNextToken(input.NextToken, 2);
    const rows = await this.prisma.client.connection.findMany({
      where: {
        tenantId: ctx.tenant.id,
        status: { not: 'DELETED' },
        ...(input.ConnectionName ? { connectionName: input.ConnectionName } : {}),
        ...(after ? { OR: [{ createdAt: { gt: new Date(after[0]) } }, { createdAt: new Date(after[0]), id: { gt: String(after[1]) } }] } : {}),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: max + 1,
    });
    const { items, nextToken } = page(rows, max, (r) => [r.createdAt.toISOString(), r.id]);
    return { ConnectionSummaryList: items.map(toSdk), ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  async delete(ctx: CallContext, arn: string): Promise<DeleteConnectionResponse> {
    const row = await this.prisma.client.$transaction(async (tx) => {
      await lockTenant(tx, ctx.tenant.id);
      const found = await this.resolve(tx, ctx, arn);
      const users = await tx.service.count({ where: { connectionId: found.id, status: { not: 'DELETED' } } });
      if (users > 0) throw new InvalidRequestException(`You can't delete a connection that is used by one or more services: ${arn}`);
      return tx.connection.update({ where: { id: found.id }, data: { status: 'DELETED', activeName: null, deletedAt: this.clock.now() } });
    });
    return { Connection: toSdk(row) };
  }

  /** A code repository service must name a live connection of its own tenant. */
  forService(tx: Prisma.TransactionClient, ctx: CallContext, arn: string): Promise<Connection> {
    return this.resolve(tx, ctx, arn);
  }

  private async resolve(db: Prisma.TransactionClient, ctx: CallContext, arn: string): Promise<Connection> {
    ownArn(ctx.tenant, arn, 'connection', NOUN);
    const row = await db.connection.findFirst({ where: { tenantId: ctx.tenant.id, arn, status: { not: 'DELETED' } } });
    if (!row) throw notFound(NOUN, arn);
    return row;
  }
}

function toSdk(row: Connection): SdkConnection {
  return {
    ConnectionName: row.connectionName,
    ConnectionArn: row.arn,
    ProviderType: row.providerType as SdkConnection['ProviderType'],
    Status: row.status as SdkConnection['Status'],
    CreatedAt: row.createdAt,
  };
}
