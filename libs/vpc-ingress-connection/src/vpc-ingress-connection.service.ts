import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type {
  CreateVpcIngressConnectionRequest,
  CreateVpcIngressConnectionResponse,
  DeleteVpcIngressConnectionResponse,
  DescribeVpcIngressConnectionResponse,
  ListVpcIngressConnectionsRequest,
  ListVpcIngressConnectionsResponse,
  UpdateVpcIngressConnectionRequest,
  UpdateVpcIngressConnectionResponse,
  VpcIngressConnection as SdkVic,
} from '@aws-sdk/client-apprunner';
import {
  Clock,
  decodeNextToken,
  formatArn,
  InvalidRequestException,
  InvalidStateException,
  newResourceId,
  page,
  PLATFORM_CONFIG,
  type PlatformConfig,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  pageTake,
} from '@apprunner/core';
import { OperationService } from '@apprunner/operation';
import { Prisma, PrismaService, type VpcIngressConnection } from '@apprunner/persistence';
import { ServiceService } from '@apprunner/service';
import { TagService } from '@apprunner/tag';
import { type CallContext, effectiveQuota, lockTenant, notFound, ownArn } from '@apprunner/tenancy';

const NOUN = 'VPC ingress connection';
const UPDATABLE = ['AVAILABLE', 'FAILED_CREATION', 'FAILED_UPDATE'];
const DELETABLE = [...UPDATABLE, 'FAILED_DELETION'];

/** Private ingress for a service (App Runner: PrivateLink endpoint; here: an internal ingress, see docs/aws-mapping.md). */
@Injectable()
export class VpcIngressConnectionService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly services: ServiceService,
    private readonly operations: OperationService,
    private readonly tags: TagService,
    private readonly clock: Clock,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async create(ctx: CallContext, input: CreateVpcIngressConnectionRequest): Promise<CreateVpcIngressConnectionResponse> {
    const name = input.VpcIngressConnectionName as string;
    const vpc = input.IngressVpcConfiguration ?? {};
    if (!vpc.VpcId || !vpc.VpcEndpointId) throw new InvalidRequestException('IngressVpcConfiguration requires VpcId and VpcEndpointId.');
    try {
      const row = await this.prisma.client.$transaction(async (tx) => {
        const { quotaOverrides } = await lockTenant(tx, ctx.tenant.id);
        const service = await this.services.findOwn(tx, ctx, input.ServiceArn as string);
        if (service.status === 'DELETED') throw notFound('service', input.ServiceArn as string);
        if (['OPERATION_IN_PROGRESS', 'CREATE_FAILED', 'DELETE_FAILED'].includes(service.status)) {
          throw new InvalidStateException(`You can't add a VPC ingress connection to a service in the ${service.status} state.`);
        }
        const existing = await tx.vpcIngressConnection.count({ where: { serviceId: service.id, status: { not: 'DELETED' } } });
        const limit = effectiveQuota(quotaOverrides, 'VpcIngressConnections');
        if (existing >= limit) {
          throw new ServiceQuotaExceededException(`A service can have at most ${limit} VPC ingress connection(s).`);
        }
        if (await tx.vpcIngressConnection.findFirst({ where: { tenantId: ctx.tenant.id, activeName: name }, select: { id: true } })) {
          throw duplicate(name);
        }
        const created = await tx.vpcIngressConnection.create({
          data: {
            tenantId: ctx.tenant.id,
            name,
            activeName: name,
            arn: formatArn(ctx.tenant, 'vpcingressconnection', name, newResourceId()),
            serviceId: service.id,
            vpcId: vpc.VpcId as string,
            vpcEndpointId: vpc.VpcEndpointId as string,
            domainName: `${randomBytes(5).toString('hex')}.${service.serviceId.slice(0, 8)}.vpc.${this.config.APPRUNNER_REGION}.${this.config.PLATFORM_DOMAIN}`,
            status: 'PENDING_CREATION',
            createdAt: this.clock.now(),
          },
          include: { service: true },
        });
        await this.tags.put(tx, ctx, created.arn, input.Tags);
        return created;
      });
      await this.operations.dispatch('vpc-ingress-connection', row.id, row.updatedAt.getTime());
      return { VpcIngressConnection: this.toSdk(row, ctx) };
    } catch (e) {
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') throw duplicate(name);
      throw e;
    }
  }

  async describe(ctx: CallContext, arn: string): Promise<DescribeVpcIngressConnectionResponse> {
    return { VpcIngressConnection: this.toSdk(await this.find(this.prisma.client, ctx, arn), ctx) };
  }

  async list(ctx: CallContext, input: ListVpcIngressConnectionsRequest): Promise<ListVpcIngressConnectionsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['timestamp', 'uuid']);
    const where: Prisma.VpcIngressConnectionWhereInput = { tenantId: ctx.tenant.id, status: { not: 'DELETED' } };
    if (input.Filter?.ServiceArn) where.service = { arn: input.Filter.ServiceArn };
    if (input.Filter?.VpcEndpointId) where.vpcEndpointId = input.Filter.VpcEndpointId;
    if (after) where.OR = [{ createdAt: { gt: new Date(after[0]) } }, { createdAt: new Date(after[0]), id: { gt: String(after[1]) } }];
    const rows = await this.prisma.client.vpcIngressConnection.findMany({
      where,
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: pageTake(max),
      include: { service: { select: { arn: true } } },
    });
    const { items, nextToken } = page(rows, max, (r) => [r.createdAt.toISOString(), r.id]);
    return {
      VpcIngressConnectionSummaryList: items.map((r) => ({ VpcIngressConnectionArn: r.arn, ServiceArn: r.service.arn })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async update(ctx: CallContext, input: UpdateVpcIngressConnectionRequest): Promise<UpdateVpcIngressConnectionResponse> {
    const vpc = input.IngressVpcConfiguration ?? {};
    const row = await this.transition(ctx, input.VpcIngressConnectionArn as string, UPDATABLE, 'PENDING_UPDATE', {
      ...(vpc.VpcId ? { vpcId: vpc.VpcId } : {}),
      ...(vpc.VpcEndpointId ? { vpcEndpointId: vpc.VpcEndpointId } : {}),
    });
    return { VpcIngressConnection: this.toSdk(row, ctx) };
  }

  async delete(ctx: CallContext, arn: string): Promise<DeleteVpcIngressConnectionResponse> {
    const row = await this.transition(ctx, arn, DELETABLE, 'PENDING_DELETION', {});
    return { VpcIngressConnection: this.toSdk(row, ctx) };
  }

  private async transition(
    ctx: CallContext,
    arn: string,
    from: string[],
    to: string,
    data: Prisma.VpcIngressConnectionUpdateManyMutationInput,
  ): Promise<VpcIngressConnection & { service: { arn: string } }> {
    const row = await this.prisma.client.$transaction(async (tx) => {
      const found = await this.find(tx, ctx, arn);
      if (!from.includes(found.status)) {
        throw new InvalidStateException(`You can't change a VPC ingress connection in the ${found.status} state.`);
      }
      const moved = await tx.vpcIngressConnection.updateMany({
        where: { id: found.id, status: found.status },
        data: { ...data, status: to },
      });
      if (moved.count !== 1) throw new InvalidStateException('The VPC ingress connection changed state concurrently; retry.');
      return tx.vpcIngressConnection.findUniqueOrThrow({ where: { id: found.id }, include: { service: { select: { arn: true } } } });
    });
    await this.operations.dispatch('vpc-ingress-connection', row.id, row.updatedAt.getTime());
    return row;
  }

  private async find(db: Prisma.TransactionClient, ctx: CallContext, arn: string) {
    ownArn(ctx.tenant, arn, 'vpcingressconnection', NOUN);
    const row = await db.vpcIngressConnection.findFirst({
      where: { tenantId: ctx.tenant.id, arn },
      include: { service: { select: { arn: true } } },
    });
    if (!row) throw new ResourceNotFoundException(`VPC ingress connection not found: ${arn}`);
    return row;
  }

  private toSdk(row: VpcIngressConnection & { service: { arn: string } }, ctx: CallContext): SdkVic {
    return {
      VpcIngressConnectionArn: row.arn,
      VpcIngressConnectionName: row.name,
      ServiceArn: row.service.arn,
      Status: row.status as SdkVic['Status'],
      AccountId: ctx.tenant.accountId,
      DomainName: row.domainName,
      IngressVpcConfiguration: { VpcId: row.vpcId, VpcEndpointId: row.vpcEndpointId },
      CreatedAt: row.createdAt,
      ...(row.deletedAt ? { DeletedAt: row.deletedAt } : {}),
    };
  }
}

function duplicate(name: string): InvalidRequestException {
  return new InvalidRequestException(`VPC ingress connection with the provided name already exists: ${name}`);
}
