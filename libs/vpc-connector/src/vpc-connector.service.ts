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
import { ServiceRepository, type Transaction, type VpcConnectorRecord, VpcConnectorRepository } from '@apprunner/persistence';
import { TagService } from '@apprunner/tag';
import { type CallContext, notFound, ownArn, revisionedPath, TenantLock } from '@apprunner/tenancy';

const NOUN = 'VPC connector';

/**
 * VPC connectors: App Runner supports one active revision per name. In-cluster, a connector is an
 * egress policy: Subnets map to CIDR blocks / node pools and SecurityGroups to NetworkPolicy rules (docs/aws-mapping.md).
 */
@Injectable()
export class VpcConnectorService {
  constructor(
    private readonly connectors: VpcConnectorRepository,
    private readonly services: ServiceRepository,
    private readonly lock: TenantLock,
    private readonly tags: TagService,
    private readonly clock: Clock,
  ) {}

  async create(ctx: CallContext, input: CreateVpcConnectorRequest): Promise<CreateVpcConnectorResponse> {
    const name = input.VpcConnectorName as string;
    const subnets = input.Subnets ?? [];
    if (subnets.length === 0) throw new InvalidRequestException('Subnets must contain at least one subnet.');
    const row = await this.lock.run(ctx.tenant.id, async (tx, quotas) => {
      const tenantId = ctx.tenant.id;
      await quotas.check('VpcConnectors', () => this.connectors.countActive(tenantId, tx));
      if ((await this.connectors.countActiveOfName(tenantId, name, tx)) > 0) {
        throw new InvalidRequestException(`A VPC connector named ${name} already exists; App Runner supports only one revision per name.`);
      }
      const revision = (await this.connectors.lastRevision(tenantId, name, tx)) + 1;
      const created = await this.connectors.create(
        {
          tenantId,
          name,
          revision,
          arn: formatArn(ctx.tenant, 'vpcconnector', name, revision, newResourceId()),
          subnets,
          securityGroups: input.SecurityGroups ?? [],
          createdAt: this.clock.now(),
        },
        tx,
      );
      await this.tags.put(tx, ctx, created.arn, input.Tags);
      return created;
    });
    return { VpcConnector: toSdk(row) };
  }

  async describe(ctx: CallContext, arn: string): Promise<DescribeVpcConnectorResponse> {
    return { VpcConnector: toSdk(await this.resolve(ctx, arn, true, true)) };
  }

  async list(ctx: CallContext, input: ListVpcConnectorsRequest): Promise<ListVpcConnectorsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['string', 'revision']);
    const rows = await this.connectors.pageActive(ctx.tenant.id, {
      ...(after ? { after: { name: String(after[0]), revision: Number(after[1]) } } : {}),
      take: pageTake(max),
    });
    const { items, nextToken } = page(rows, max, (r) => [r.name, r.revision]);
    return { VpcConnectors: items.map(toSdk), ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  async delete(ctx: CallContext, arn: string): Promise<DeleteVpcConnectorResponse> {
    const row = await this.lock.run(ctx.tenant.id, async (tx) => {
      const found = await this.resolve(ctx, arn, false, true, tx);
      const users = await this.services.countLiveUsing({ vpcConnectorId: found.id }, tx);
      if (users > 0) throw new InvalidRequestException(`You can't delete a VPC connector that is used by one or more services: ${arn}`);
      return this.connectors.markInactive(found.id, this.clock.now(), tx);
    });
    return { VpcConnector: toSdk(row) };
  }

  forService(tx: Transaction, ctx: CallContext, arn: string): Promise<VpcConnectorRecord> {
    return this.resolve(ctx, arn, false, false, tx);
  }

  /**
   * `fullArnOnly`: DescribeVpcConnector and DeleteVpcConnector take only a full ARN (name/revision/id), as their model
   * documentation says ("The ARN must be a full VPC connector ARN"); a service's EgressConfiguration may name a prefix.
   */
  private async resolve(
    ctx: CallContext,
    arn: string,
    includeInactive: boolean,
    fullArnOnly: boolean,
    tx?: Transaction,
  ): Promise<VpcConnectorRecord> {
    const { name, revision, id } = revisionedPath(ownArn(ctx.tenant, arn, 'vpcconnector', NOUN), arn, NOUN);
    if (fullArnOnly && id === undefined) throw new InvalidRequestException(`The ARN must be a full VPC connector ARN: ${arn}`);
    const row = await this.connectors.findRevision(
      ctx.tenant.id,
      { name, ...(revision !== undefined ? { revision } : {}), ...(id !== undefined ? { arn } : {}), includeInactive },
      tx,
    );
    if (!row) throw notFound(NOUN, arn);
    return row;
  }
}

export function toSdk(row: VpcConnectorRecord): SdkVpcConnector {
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
