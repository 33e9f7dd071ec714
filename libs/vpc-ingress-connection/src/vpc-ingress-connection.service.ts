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
import {
  Database,
  type Transaction,
  UniqueConstraintError,
  type VpcIngressConnectionOfService,
  VpcIngressConnectionRepository,
} from '@apprunner/persistence';
import { ServiceActions } from '@apprunner/service';
import { TagService } from '@apprunner/tag';
import { type CallContext, notFound, ownArn, TenantLock } from '@apprunner/tenancy';

const NOUN = 'VPC ingress connection';
const UPDATABLE = ['AVAILABLE', 'FAILED_CREATION', 'FAILED_UPDATE'];
const DELETABLE = [...UPDATABLE, 'FAILED_DELETION'];

/** Private ingress for a service (App Runner: PrivateLink endpoint; here: an internal ingress, see docs/aws-mapping.md). */
@Injectable()
export class VpcIngressConnectionService {
  constructor(
    private readonly database: Database,
    private readonly connections: VpcIngressConnectionRepository,
    private readonly lock: TenantLock,
    private readonly services: ServiceActions,
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
      const row = await this.lock.run(ctx.tenant.id, async (tx, quotas) => {
        const service = await this.services.findOwn(ctx, input.ServiceArn as string, tx);
        if (service.status === 'DELETED') throw notFound('service', input.ServiceArn as string);
        if (['OPERATION_IN_PROGRESS', 'CREATE_FAILED', 'DELETE_FAILED'].includes(service.status)) {
          throw new InvalidStateException(`You can't add a VPC ingress connection to a service in the ${service.status} state.`);
        }
        const existing = await this.connections.countLiveOfService(service.id, tx);
        const limit = quotas.limit('VpcIngressConnections');
        if (existing >= limit) {
          throw new ServiceQuotaExceededException(`A service can have at most ${limit} VPC ingress connection(s).`);
        }
        if (await this.connections.nameInUse(ctx.tenant.id, name, tx)) throw duplicate(name);
        const created = await this.connections.create(
          {
            tenantId: ctx.tenant.id,
            name,
            arn: formatArn(ctx.tenant, 'vpcingressconnection', name, newResourceId()),
            serviceId: service.id,
            vpcId: vpc.VpcId as string,
            vpcEndpointId: vpc.VpcEndpointId as string,
            domainName: `${randomBytes(5).toString('hex')}.${service.serviceId.slice(0, 8)}.vpc.${this.config.APPRUNNER_REGION}.${this.config.PLATFORM_DOMAIN}`,
            status: 'PENDING_CREATION',
            createdAt: this.clock.now(),
          },
          tx,
        );
        await this.tags.put(tx, ctx, created.arn, input.Tags);
        return created;
      });
      await this.operations.dispatch('vpc-ingress-connection', row.id, row.updatedAt.getTime());
      return { VpcIngressConnection: this.toSdk(row, ctx) };
    } catch (e) {
      if (e instanceof UniqueConstraintError) throw duplicate(name);
      throw e;
    }
  }

  async describe(ctx: CallContext, arn: string): Promise<DescribeVpcIngressConnectionResponse> {
    return { VpcIngressConnection: this.toSdk(await this.find(ctx, arn), ctx) };
  }

  async list(ctx: CallContext, input: ListVpcIngressConnectionsRequest): Promise<ListVpcIngressConnectionsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['timestamp', 'uuid']);
    const rows = await this.connections.pageLive(
      ctx.tenant.id,
      {
        ...(input.Filter?.ServiceArn ? { serviceArn: input.Filter.ServiceArn } : {}),
        ...(input.Filter?.VpcEndpointId ? { vpcEndpointId: input.Filter.VpcEndpointId } : {}),
      },
      { ...(after ? { after: { createdAt: new Date(after[0]), id: String(after[1]) } } : {}), take: pageTake(max) },
    );
    const { items, nextToken } = page(rows, max, (r) => [r.createdAt.toISOString(), r.id]);
    return {
      VpcIngressConnectionSummaryList: items.map((r) => ({ VpcIngressConnectionArn: r.arn, ServiceArn: r.serviceArn })),
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
    change: { vpcId?: string; vpcEndpointId?: string },
  ): Promise<VpcIngressConnectionOfService> {
    const row = await this.database.transaction(async (tx) => {
      const found = await this.find(ctx, arn, tx);
      if (!from.includes(found.status)) {
        throw new InvalidStateException(`You can't change a VPC ingress connection in the ${found.status} state.`);
      }
      if (!(await this.connections.move(found.id, found.status, to, change, tx))) {
        throw new InvalidStateException('The VPC ingress connection changed state concurrently; retry.');
      }
      return this.connections.get(found.id, tx);
    });
    await this.operations.dispatch('vpc-ingress-connection', row.id, row.updatedAt.getTime());
    return row;
  }

  private async find(ctx: CallContext, arn: string, tx?: Transaction): Promise<VpcIngressConnectionOfService> {
    ownArn(ctx.tenant, arn, 'vpcingressconnection', NOUN);
    const row = await this.connections.findByArn(ctx.tenant.id, arn, tx);
    if (!row) throw new ResourceNotFoundException(`VPC ingress connection not found: ${arn}`);
    return row;
  }

  private toSdk(row: VpcIngressConnectionOfService, ctx: CallContext): SdkVic {
    return {
      VpcIngressConnectionArn: row.arn,
      VpcIngressConnectionName: row.name,
      ServiceArn: row.serviceArn,
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
