import { Injectable } from '@nestjs/common';
import type {
  CreateVpcConnectorRequest,
  CreateVpcConnectorResponse,
  DeleteVpcConnectorResponse,
  DescribeVpcConnectorResponse,
  ListVpcConnectorsRequest,
  ListVpcConnectorsResponse,
  VpcConnector as SdkVpcConnector,
} from '@aws-sdk/client-apprunner';
import { Clock, decodeNextToken, formatArn, InvalidRequestException, newResourceId, page, pageTake } from '@apprunner/core';
import { type Prisma, PrismaService, type VpcConnector } from '@apprunner/persistence';
import { TagService } from '@apprunner/tag';
import { type CallContext, enforceQuota, lockTenant, notFound, ownArn, revisionedPath } from '@apprunner/tenancy';

const NOUN = 'VPC connector';
type Db = Prisma.TransactionClient;

/**
 * VPC connectors: App Runner supports one active revision per name. In-cluster, a connector is an
 * egress policy: Subnets map to CIDR blocks / node pools and SecurityGroups to NetworkPolicy rules (docs/aws-mapping.md).
 */
@Injectable()
export class VpcConnectorService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly tags: TagService,
    private readonly clock: Clock,
  ) {}

  async create(ctx: CallContext, input: CreateVpcConnectorRequest): Promise<CreateVpcConnectorResponse> {
    const name = input.VpcConnectorName as string;
    const subnets = input.Subnets ?? [];
    if (subnets.length === 0) throw new InvalidRequestException('Subnets must contain at least one subnet.');
    const row = await this.prisma.client.$transaction(async (tx) => {
      const where = { tenantId: ctx.tenant.id };
      await enforceQuota(tx, ctx.tenant.id, 'VpcConnectors', () => tx.vpcConnector.count({ where: { ...where, status: 'ACTIVE' } }));
      if ((await tx.vpcConnector.count({ where: { ...where, name, status: 'ACTIVE' } })) > 0) {
        throw new InvalidRequestException(`A VPC connector named ${name} already exists; App Runner supports only one revision per name.`);
      }
      const last = await tx.vpcConnector.aggregate({ where: { ...where, name }, _max: { revision: true } });
      const revision = (last._max.revision ?? 0) + 1;
      const created = await tx.vpcConnector.create({
        data: {
          tenantId: ctx.tenant.id,
          name,
          revision,
          arn: formatArn(ctx.tenant, 'vpcconnector', name, revision, newResourceId()),
          subnets,
          securityGroups: input.SecurityGroups ?? [],
          status: 'ACTIVE',
          createdAt: this.clock.now(),
        },
      });
      await this.tags.put(tx, ctx, created.arn, input.Tags);
      return created;
    });
    return { VpcConnector: toSdk(row) };
  }

  async describe(ctx: CallContext, arn: string): Promise<DescribeVpcConnectorResponse> {
    return { VpcConnector: toSdk(await this.resolve(this.prisma.client, ctx, arn, true, true)) };
  }

  async list(ctx: CallContext, input: ListVpcConnectorsRequest): Promise<ListVpcConnectorsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['string', 'revision']);
    const rows = await this.prisma.client.vpcConnector.findMany({
      where: {
        tenantId: ctx.tenant.id,
        status: 'ACTIVE',
        ...(after ? { OR: [{ name: { gt: String(after[0]) } }, { name: String(after[0]), revision: { gt: Number(after[1]) } }] } : {}),
      },
      orderBy: [{ name: 'asc' }, { revision: 'asc' }],
      take: pageTake(max),
    });
    const { items, nextToken } = page(rows, max, (r) => [r.name, r.revision]);
    return { VpcConnectors: items.map(toSdk), ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  async delete(ctx: CallContext, arn: string): Promise<DeleteVpcConnectorResponse> {
    const row = await this.prisma.client.$transaction(async (tx) => {
      await lockTenant(tx, ctx.tenant.id);
      const found = await this.resolve(tx, ctx, arn, false, true);
      const users = await tx.service.count({ where: { vpcConnectorId: found.id, status: { not: 'DELETED' } } });
      if (users > 0) throw new InvalidRequestException(`You can't delete a VPC connector that is used by one or more services: ${arn}`);
      return tx.vpcConnector.update({ where: { id: found.id }, data: { status: 'INACTIVE', deletedAt: this.clock.now() } });
    });
    return { VpcConnector: toSdk(row) };
  }

  forService(tx: Db, ctx: CallContext, arn: string): Promise<VpcConnector> {
    return this.resolve(tx, ctx, arn, false);
  }

  /**
   * `fullArnOnly`: DescribeVpcConnector and DeleteVpcConnector take only a full ARN (name/revision/id), as their model
   * documentation says ("The ARN must be a full VPC connector ARN"); a service's EgressConfiguration may name a prefix.
   */
  private async resolve(db: Db, ctx: CallContext, arn: string, includeInactive: boolean, fullArnOnly = false): Promise<VpcConnector> {
    const { name, revision, id } = revisionedPath(ownArn(ctx.tenant, arn, 'vpcconnector', NOUN), arn, NOUN);
    if (fullArnOnly && id === undefined) throw new InvalidRequestException(`The ARN must be a full VPC connector ARN: ${arn}`);
    const row = await db.vpcConnector.findFirst({
      where: {
        tenantId: ctx.tenant.id,
        name,
        ...(revision !== undefined ? { revision } : { status: 'ACTIVE' }),
        ...(id !== undefined ? { arn } : {}),
        ...(includeInactive ? {} : { status: 'ACTIVE' }),
      },
      orderBy: { revision: 'desc' },
    });
    if (!row) throw notFound(NOUN, arn);
    return row;
  }
}

export function toSdk(row: VpcConnector): SdkVpcConnector {
  return {
    VpcConnectorName: row.name,
    VpcConnectorArn: row.arn,
    VpcConnectorRevision: row.revision,
    Subnets: row.subnets,
    SecurityGroups: row.securityGroups,
    Status: row.status as SdkVpcConnector['Status'],
    CreatedAt: row.createdAt,
    ...(row.deletedAt ? { DeletedAt: row.deletedAt } : {}),
  };
}
