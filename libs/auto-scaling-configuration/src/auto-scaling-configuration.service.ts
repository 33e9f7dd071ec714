import { Injectable } from '@nestjs/common';
import type {
  AutoScalingConfiguration as SdkAsc,
  AutoScalingConfigurationSummary,
  CreateAutoScalingConfigurationRequest,
  CreateAutoScalingConfigurationResponse,
  DeleteAutoScalingConfigurationRequest,
  DeleteAutoScalingConfigurationResponse,
  DescribeAutoScalingConfigurationResponse,
  ListAutoScalingConfigurationsRequest,
  ListAutoScalingConfigurationsResponse,
  ListServicesForAutoScalingConfigurationRequest,
  ListServicesForAutoScalingConfigurationResponse,
  UpdateDefaultAutoScalingConfigurationResponse,
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
import { type AutoScalingConfiguration, type Prisma, PrismaService } from '@apprunner/persistence';
import { TagService } from '@apprunner/tag';
import {
  type CallContext,
  checkQuota,
  FIXED_LIMITS,
  lockTenant,
  notFound,
  ownArn,
  revisionedPath,
  type TenantBootstrap,
  type TenantScope,
} from '@apprunner/tenancy';

export const DEFAULT_ASC_NAME = 'DefaultConfiguration';
/** App Runner's own id for every account's DefaultConfiguration revision 1. */
export const DEFAULT_ASC_ID = '00000000000000000000000000000001';
export const ASC_DEFAULTS = { MaxConcurrency: 100, MinSize: 1, MaxSize: 25 } as const;
const NOUN = 'auto scaling configuration';

type Db = Prisma.TransactionClient;

@Injectable()
export class AutoScalingConfigurationService implements TenantBootstrap {
  constructor(
    private readonly prisma: PrismaService,
    private readonly tags: TagService,
    private readonly clock: Clock,
  ) {}

  /** Every tenant starts with DefaultConfiguration revision 1 (100/1/25), which is its default. */
  async onTenantCreated(tx: Db, tenant: TenantScope): Promise<void> {
    await tx.autoScalingConfiguration.create({
      data: {
        tenantId: tenant.id,
        name: DEFAULT_ASC_NAME,
        revision: 1,
        arn: formatArn(tenant, 'autoscalingconfiguration', DEFAULT_ASC_NAME, 1, DEFAULT_ASC_ID),
        maxConcurrency: ASC_DEFAULTS.MaxConcurrency,
        minSize: ASC_DEFAULTS.MinSize,
        maxSize: ASC_DEFAULTS.MaxSize,
        status: 'ACTIVE',
        isDefault: true,
        createdAt: this.clock.now(),
      },
    });
  }

  async create(ctx: CallContext, input: CreateAutoScalingConfigurationRequest): Promise<CreateAutoScalingConfigurationResponse> {
    // DefaultConfiguration is an ordinary name since App Runner's auto scaling enhancements (the model's documentation
    // of AutoScalingConfigurationName): new revisions of it, or a new one after all its revisions were deleted.
    const name = input.AutoScalingConfigurationName as string;
    const maxConcurrency = input.MaxConcurrency ?? ASC_DEFAULTS.MaxConcurrency;
    const minSize = input.MinSize ?? ASC_DEFAULTS.MinSize;
    const maxSize = input.MaxSize ?? ASC_DEFAULTS.MaxSize;
    if (maxConcurrency < 1 || maxConcurrency > 200) throw new InvalidRequestException('MaxConcurrency must be between 1 and 200.');
    if (minSize < 1 || minSize > 25) throw new InvalidRequestException('MinSize must be between 1 and 25.');
    if (maxSize < 1 || maxSize > 25) throw new InvalidRequestException('MaxSize must be between 1 and 25.');
    if (minSize > maxSize) throw new InvalidRequestException('MinSize must be less than or equal to MaxSize.');

    const row = await this.prisma.client.$transaction(async (tx) => {
      const where = { tenantId: ctx.tenant.id };
      // Every count below runs under the tenant lock: concurrent creates of one name are serialised, so the
      // revision limit and the name quota hold however many arrive at once.
      const { quotaOverrides } = await lockTenant(tx, ctx.tenant.id);
      const revisions = await tx.autoScalingConfiguration.count({ where: { ...where, name, status: 'ACTIVE' } });
      if (revisions === 0) {
        await checkQuota(quotaOverrides, 'AutoScalingConfigurationNames', async () => {
          const names = await tx.autoScalingConfiguration.groupBy({
            by: ['name'],
            where: { ...where, status: 'ACTIVE', name: { not: DEFAULT_ASC_NAME } },
          });
          return names.length;
        });
      } else if (revisions >= FIXED_LIMITS.AutoScalingConfigurationRevisionsPerName) {
        throw new ServiceQuotaExceededException(
          `You have reached the maximum number of revisions (${FIXED_LIMITS.AutoScalingConfigurationRevisionsPerName}) for auto scaling configuration ${name}.`,
        );
      }
      const last = await tx.autoScalingConfiguration.aggregate({ where: { ...where, name }, _max: { revision: true } });
      const revision = (last._max.revision ?? 0) + 1;
      const created = await tx.autoScalingConfiguration.create({
        data: {
          tenantId: ctx.tenant.id,
          name,
          revision,
          arn: formatArn(ctx.tenant, 'autoscalingconfiguration', name, revision, newResourceId()),
          maxConcurrency,
          minSize,
          maxSize,
          status: 'ACTIVE',
          createdAt: this.clock.now(),
        },
      });
      await this.tags.put(tx, ctx, created.arn, input.Tags);
      return created;
    });
    return { AutoScalingConfiguration: await this.toSdk(this.prisma.client, row) };
  }

  async describe(ctx: CallContext, arn: string): Promise<DescribeAutoScalingConfigurationResponse> {
    const row = await this.resolve(this.prisma.client, ctx, arn, { includeInactive: true });
    return { AutoScalingConfiguration: await this.toSdk(this.prisma.client, row) };
  }

  async list(ctx: CallContext, input: ListAutoScalingConfigurationsRequest): Promise<ListAutoScalingConfigurationsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['string', 'revision']);
    const db = this.prisma.client;
    const where: Prisma.AutoScalingConfigurationWhereInput = { tenantId: ctx.tenant.id, status: 'ACTIVE' };
    if (input.AutoScalingConfigurationName) where.name = input.AutoScalingConfigurationName;
    // "Default: true" (the model's documentation of LatestOnly).
    if (input.LatestOnly ?? true) {
      const latest = await this.latestRevisions(db, ctx.tenant.id);
      if (latest.size === 0) return { AutoScalingConfigurationSummaryList: [] };
      where.OR = [...latest].map(([name, revision]) => ({ name, revision }));
    }
    if (after) {
      where.AND = [{ OR: [{ name: { gt: String(after[0]) } }, { name: String(after[0]), revision: { gt: Number(after[1]) } }] }];
    }
    const rows = await db.autoScalingConfiguration.findMany({
      where,
      orderBy: [{ name: 'asc' }, { revision: 'asc' }],
      take: pageTake(max),
    });
    const { items, nextToken } = page(rows, max, (r) => [r.name, r.revision]);
    const used = await this.associated(
      db,
      items.map((r) => r.id),
    );
    return {
      AutoScalingConfigurationSummaryList: items.map((r) => summary(r, used.has(r.id))),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async delete(ctx: CallContext, input: DeleteAutoScalingConfigurationRequest): Promise<DeleteAutoScalingConfigurationResponse> {
    const arn = input.AutoScalingConfigurationArn as string;
    const deleted = await this.prisma.client.$transaction(async (tx) => {
      await lockTenant(tx, ctx.tenant.id);
      const target = await this.resolve(tx, ctx, arn, { includeInactive: false });
      const victims = input.DeleteAllRevisions
        ? await tx.autoScalingConfiguration.findMany({ where: { tenantId: ctx.tenant.id, name: target.name, status: 'ACTIVE' } })
        : [target];
      for (const v of victims) {
        if (v.isDefault) {
          throw new InvalidRequestException(
            `You can't delete the default auto scaling configuration (${v.arn}). Set another default first.`,
          );
        }
      }
      if (
        (
          await this.associated(
            tx,
            victims.map((v) => v.id),
          )
        ).size > 0
      ) {
        throw new InvalidRequestException(`You can't delete an auto scaling configuration that is used by one or more services: ${arn}`);
      }
      const now = this.clock.now();
      await tx.autoScalingConfiguration.updateMany({
        where: { id: { in: victims.map((v) => v.id) } },
        data: { status: 'INACTIVE', deletedAt: now },
      });
      return { ...target, status: 'INACTIVE', deletedAt: now };
    });
    return { AutoScalingConfiguration: await this.toSdk(this.prisma.client, deleted) };
  }

  async updateDefault(ctx: CallContext, arn: string): Promise<UpdateDefaultAutoScalingConfigurationResponse> {
    const row = await this.prisma.client.$transaction(async (tx) => {
      await lockTenant(tx, ctx.tenant.id);
      const target = await this.resolve(tx, ctx, arn, { includeInactive: false });
      await tx.autoScalingConfiguration.updateMany({ where: { tenantId: ctx.tenant.id, isDefault: true }, data: { isDefault: false } });
      return tx.autoScalingConfiguration.update({ where: { id: target.id }, data: { isDefault: true } });
    });
    return { AutoScalingConfiguration: await this.toSdk(this.prisma.client, row) };
  }

  async listServices(
    ctx: CallContext,
    input: ListServicesForAutoScalingConfigurationRequest,
  ): Promise<ListServicesForAutoScalingConfigurationResponse> {
    const db = this.prisma.client;
    const asc = await this.resolve(db, ctx, input.AutoScalingConfigurationArn as string, { includeInactive: true });
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['timestamp', 'uuid']);
    const rows = await db.service.findMany({
      where: {
        tenantId: ctx.tenant.id,
        autoScalingConfigurationId: asc.id,
        status: { not: 'DELETED' },
        ...(after
          ? { OR: [{ createdAt: { gt: new Date(after[0]) } }, { createdAt: new Date(after[0]), id: { gt: String(after[1]) } }] }
          : {}),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: pageTake(max),
      select: { id: true, arn: true, createdAt: true },
    });
    const { items, nextToken } = page(rows, max, (r) => [r.createdAt.toISOString(), r.id]);
    return { ServiceArnList: items.map((r) => r.arn), ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  /**
   * The configuration a service will use: the named ARN (full, or partial resolving to the latest
   * active revision), or the tenant's current default.
   */
  async forService(tx: Db, ctx: CallContext, arn: string | undefined): Promise<AutoScalingConfiguration> {
    if (arn !== undefined) return this.resolve(tx, ctx, arn, { includeInactive: false });
    const row = await tx.autoScalingConfiguration.findFirst({ where: { tenantId: ctx.tenant.id, isDefault: true, status: 'ACTIVE' } });
    if (!row) throw new InvalidRequestException('This account has no default auto scaling configuration.');
    return row;
  }

  /** AutoScalingConfigurationSummary of a row whose association the caller already knows (e.g. a live service's). */
  summaryOf(row: AutoScalingConfiguration, hasAssociatedService: boolean): AutoScalingConfigurationSummary {
    return summary(row, hasAssociatedService);
  }

  async toSdk(db: Db, row: AutoScalingConfiguration): Promise<SdkAsc> {
    const [latest, used] = await Promise.all([this.latestRevisions(db, row.tenantId, row.name), this.associated(db, [row.id])]);
    return {
      ...summary(row, used.has(row.id)),
      Latest: row.status === 'ACTIVE' && latest.get(row.name) === row.revision,
      MaxConcurrency: row.maxConcurrency,
      MinSize: row.minSize,
      MaxSize: row.maxSize,
      ...(row.deletedAt ? { DeletedAt: row.deletedAt } : {}),
    };
  }

  private async resolve(db: Db, ctx: CallContext, arn: string, opts: { includeInactive: boolean }): Promise<AutoScalingConfiguration> {
    const parsed = ownArn(ctx.tenant, arn, 'autoscalingconfiguration', NOUN);
    const { name, revision, id } = revisionedPath(parsed, arn, NOUN);
    const row = await db.autoScalingConfiguration.findFirst({
      where: {
        tenantId: ctx.tenant.id,
        name,
        ...(revision !== undefined ? { revision } : { status: 'ACTIVE' }),
        ...(id !== undefined ? { arn } : {}),
        ...(opts.includeInactive ? {} : { status: 'ACTIVE' }),
      },
      orderBy: { revision: 'desc' },
    });
    if (!row) throw notFound(NOUN, arn);
    return row;
  }

  private async latestRevisions(db: Db, tenantId: string, name?: string): Promise<Map<string, number>> {
    const groups = await db.autoScalingConfiguration.groupBy({
      by: ['name'],
      where: { tenantId, status: 'ACTIVE', ...(name ? { name } : {}) },
      _max: { revision: true },
    });
    return new Map(groups.map((g) => [g.name, g._max.revision ?? 0]));
  }

  private async associated(db: Db, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db.service.groupBy({
      by: ['autoScalingConfigurationId'],
      where: { autoScalingConfigurationId: { in: ids }, status: { not: 'DELETED' } },
    });
    return new Set(rows.map((r) => r.autoScalingConfigurationId));
  }
}

function summary(r: AutoScalingConfiguration, hasAssociatedService: boolean): AutoScalingConfigurationSummary {
  return {
    AutoScalingConfigurationArn: r.arn,
    AutoScalingConfigurationName: r.name,
    AutoScalingConfigurationRevision: r.revision,
    Status: r.status as AutoScalingConfigurationSummary['Status'],
    CreatedAt: r.createdAt,
    HasAssociatedService: hasAssociatedService,
    IsDefault: r.isDefault,
  };
}
