import { Injectable } from '@nestjs/common';
import type {
  CreateObservabilityConfigurationRequest,
  CreateObservabilityConfigurationResponse,
  DeleteObservabilityConfigurationResponse,
  DescribeObservabilityConfigurationResponse,
  ListObservabilityConfigurationsRequest,
  ListObservabilityConfigurationsResponse,
  ObservabilityConfiguration as SdkObs,
} from '@aws-sdk/client-apprunner';
import {
  Clock,
  decodeNextToken,
  formatArn,
  InvalidRequestException,
  newResourceId,
  page,
  ServiceQuotaExceededException,
  pageTake,
} from '@apprunner/core';
import { type ObservabilityConfiguration, type Prisma, PrismaService } from '@apprunner/persistence';
import { TagService } from '@apprunner/tag';
import { type CallContext, checkQuota, FIXED_LIMITS, lockTenant, notFound, ownArn, revisionedPath } from '@apprunner/tenancy';

const NOUN = 'observability configuration';
const RESERVED_NAME = 'DefaultConfiguration';
type Db = Prisma.TransactionClient;

/** Observability configurations: named, revisioned, immutable; tracing (AWSXRAY → OpenTelemetry in-cluster). */
@Injectable()
export class ObservabilityConfigurationService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly tags: TagService,
    private readonly clock: Clock,
  ) {}

  async create(ctx: CallContext, input: CreateObservabilityConfigurationRequest): Promise<CreateObservabilityConfigurationResponse> {
    const name = input.ObservabilityConfigurationName as string;
    if (name === RESERVED_NAME) throw new InvalidRequestException(`The name ${RESERVED_NAME} is reserved.`);
    const row = await this.prisma.client.$transaction(async (tx) => {
      const where = { tenantId: ctx.tenant.id };
      // Counted under the tenant lock, so concurrent creates of one name can't pass the limits together.
      const { quotaOverrides } = await lockTenant(tx, ctx.tenant.id);
      const revisions = await tx.observabilityConfiguration.count({ where: { ...where, name, status: 'ACTIVE' } });
      if (revisions === 0) {
        await checkQuota(quotaOverrides, 'ObservabilityConfigurationNames', async () => {
          return (await tx.observabilityConfiguration.groupBy({ by: ['name'], where: { ...where, status: 'ACTIVE' } })).length;
        });
      } else if (revisions >= FIXED_LIMITS.ObservabilityConfigurationRevisionsPerName) {
        throw new ServiceQuotaExceededException(
          `You have reached the maximum number of revisions (${FIXED_LIMITS.ObservabilityConfigurationRevisionsPerName}) for observability configuration ${name}.`,
        );
      }
      const last = await tx.observabilityConfiguration.aggregate({ where: { ...where, name }, _max: { revision: true } });
      const revision = (last._max.revision ?? 0) + 1;
      const created = await tx.observabilityConfiguration.create({
        data: {
          tenantId: ctx.tenant.id,
          name,
          revision,
          arn: formatArn(ctx.tenant, 'observabilityconfiguration', name, revision, newResourceId()),
          traceVendor: input.TraceConfiguration?.Vendor ?? null,
          status: 'ACTIVE',
          createdAt: this.clock.now(),
        },
      });
      await this.tags.put(tx, ctx, created.arn, input.Tags);
      return created;
    });
    return { ObservabilityConfiguration: await this.toSdk(this.prisma.client, row) };
  }

  async describe(ctx: CallContext, arn: string): Promise<DescribeObservabilityConfigurationResponse> {
    return { ObservabilityConfiguration: await this.toSdk(this.prisma.client, await this.resolve(this.prisma.client, ctx, arn, true)) };
  }

  async list(ctx: CallContext, input: ListObservabilityConfigurationsRequest): Promise<ListObservabilityConfigurationsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['string', 'revision']);
    const db = this.prisma.client;
    const where: Prisma.ObservabilityConfigurationWhereInput = { tenantId: ctx.tenant.id, status: 'ACTIVE' };
    if (input.ObservabilityConfigurationName) where.name = input.ObservabilityConfigurationName;
    // "Default: true" (the model's documentation of LatestOnly).
    if (input.LatestOnly ?? true) {
      const latest = await this.latestRevisions(db, ctx.tenant.id);
      if (latest.size === 0) return { ObservabilityConfigurationSummaryList: [] };
      where.OR = [...latest].map(([name, revision]) => ({ name, revision }));
    }
    if (after) where.AND = [{ OR: [{ name: { gt: String(after[0]) } }, { name: String(after[0]), revision: { gt: Number(after[1]) } }] }];
    const rows = await db.observabilityConfiguration.findMany({
      where,
      orderBy: [{ name: 'asc' }, { revision: 'asc' }],
      take: pageTake(max),
    });
    const { items, nextToken } = page(rows, max, (r) => [r.name, r.revision]);
    return {
      ObservabilityConfigurationSummaryList: items.map((r) => ({
        ObservabilityConfigurationArn: r.arn,
        ObservabilityConfigurationName: r.name,
        ObservabilityConfigurationRevision: r.revision,
      })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async delete(ctx: CallContext, arn: string): Promise<DeleteObservabilityConfigurationResponse> {
    const deleted = await this.prisma.client.$transaction(async (tx) => {
      await lockTenant(tx, ctx.tenant.id);
      const row = await this.resolve(tx, ctx, arn, false);
      const users = await tx.service.count({ where: { observabilityConfigurationId: row.id, status: { not: 'DELETED' } } });
      if (users > 0)
        throw new InvalidRequestException(`You can't delete an observability configuration that is used by one or more services: ${arn}`);
      return tx.observabilityConfiguration.update({ where: { id: row.id }, data: { status: 'INACTIVE', deletedAt: this.clock.now() } });
    });
    return { ObservabilityConfiguration: await this.toSdk(this.prisma.client, deleted) };
  }

  /** The configuration a service references (full or partial ARN → latest active revision). */
  forService(tx: Db, ctx: CallContext, arn: string): Promise<ObservabilityConfiguration> {
    return this.resolve(tx, ctx, arn, false);
  }

  async toSdk(db: Db, row: ObservabilityConfiguration): Promise<SdkObs> {
    const latest = await this.latestRevisions(db, row.tenantId, row.name);
    return {
      ObservabilityConfigurationArn: row.arn,
      ObservabilityConfigurationName: row.name,
      ObservabilityConfigurationRevision: row.revision,
      ...(row.traceVendor ? { TraceConfiguration: { Vendor: row.traceVendor as 'AWSXRAY' } } : {}),
      Latest: row.status === 'ACTIVE' && latest.get(row.name) === row.revision,
      Status: row.status as SdkObs['Status'],
      CreatedAt: row.createdAt,
      ...(row.deletedAt ? { DeletedAt: row.deletedAt } : {}),
    };
  }

  private async resolve(db: Db, ctx: CallContext, arn: string, includeInactive: boolean): Promise<ObservabilityConfiguration> {
    const { name, revision, id } = revisionedPath(ownArn(ctx.tenant, arn, 'observabilityconfiguration', NOUN), arn, NOUN);
    const row = await db.observabilityConfiguration.findFirst({
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

  private async latestRevisions(db: Db, tenantId: string, name?: string): Promise<Map<string, number>> {
    const groups = await db.observabilityConfiguration.groupBy({
      by: ['name'],
      where: { tenantId, status: 'ACTIVE', ...(name ? { name } : {}) },
      _max: { revision: true },
    });
    return new Map(groups.map((g) => [g.name, g._max.revision ?? 0]));
  }
}
