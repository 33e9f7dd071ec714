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
import {
  type AutoScalingConfigurationRecord,
  AutoScalingConfigurationRepository,
  type RevisionCursor,
  ServiceRepository,
  type Transaction,
} from '@apprunner/persistence';
import { TagService } from '@apprunner/tag';
import {
  type CallContext,
  FIXED_LIMITS,
  notFound,
  ownArn,
  revisionedPath,
  type TenantBootstrap,
  TenantLock,
  type TenantScope,
} from '@apprunner/tenancy';

export const DEFAULT_ASC_NAME = 'DefaultConfiguration';
/** App Runner's own id for every account's DefaultConfiguration revision 1. */
export const DEFAULT_ASC_ID = '00000000000000000000000000000001';
export const ASC_DEFAULTS = { MaxConcurrency: 100, MinSize: 1, MaxSize: 25 } as const;
const NOUN = 'auto scaling configuration';

@Injectable()
export class AutoScalingConfigurationService implements TenantBootstrap {
  constructor(
    private readonly configurations: AutoScalingConfigurationRepository,
    private readonly services: ServiceRepository,
    private readonly lock: TenantLock,
    private readonly tags: TagService,
    private readonly clock: Clock,
  ) {}

  /** Every tenant starts with DefaultConfiguration revision 1 (100/1/25), which is its default. */
  async onTenantCreated(tx: Transaction, tenant: TenantScope): Promise<void> {
    await this.configurations.create(
      {
        tenantId: tenant.id,
        name: DEFAULT_ASC_NAME,
        revision: 1,
        arn: formatArn(tenant, 'autoscalingconfiguration', DEFAULT_ASC_NAME, 1, DEFAULT_ASC_ID),
        maxConcurrency: ASC_DEFAULTS.MaxConcurrency,
        minSize: ASC_DEFAULTS.MinSize,
        maxSize: ASC_DEFAULTS.MaxSize,
        isDefault: true,
        createdAt: this.clock.now(),
      },
      tx,
    );
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

    // Every count below runs under the tenant lock: concurrent creates of one name are serialised, so the revision
    // limit and the name quota hold however many arrive at once.
    const row = await this.lock.run(ctx.tenant.id, async (tx, quotas) => {
      const tenantId = ctx.tenant.id;
      const revisions = await this.configurations.countActiveRevisions(tenantId, name, tx);
      if (revisions === 0) {
        await quotas.check('AutoScalingConfigurationNames', () => this.configurations.countActiveNames(tenantId, DEFAULT_ASC_NAME, tx));
      } else if (revisions >= FIXED_LIMITS.AutoScalingConfigurationRevisionsPerName) {
        throw new ServiceQuotaExceededException(
          `You have reached the maximum number of revisions (${FIXED_LIMITS.AutoScalingConfigurationRevisionsPerName}) for auto scaling configuration ${name}.`,
        );
      }
      const revision = (await this.configurations.lastRevision(tenantId, name, tx)) + 1;
      const created = await this.configurations.create(
        {
          tenantId,
          name,
          revision,
          arn: formatArn(ctx.tenant, 'autoscalingconfiguration', name, revision, newResourceId()),
          maxConcurrency,
          minSize,
          maxSize,
          createdAt: this.clock.now(),
        },
        tx,
      );
      await this.tags.put(tx, ctx, created.arn, input.Tags);
      return created;
    });
    return { AutoScalingConfiguration: await this.toSdk(row) };
  }

  async describe(ctx: CallContext, arn: string): Promise<DescribeAutoScalingConfigurationResponse> {
    const row = await this.resolve(ctx, arn, { includeInactive: true });
    return { AutoScalingConfiguration: await this.toSdk(row) };
  }

  async list(ctx: CallContext, input: ListAutoScalingConfigurationsRequest): Promise<ListAutoScalingConfigurationsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['string', 'revision']);
    let revisions: RevisionCursor[] | undefined;
    // "Default: true" (the model's documentation of LatestOnly).
    if (input.LatestOnly ?? true) {
      const latest = await this.configurations.latestRevisions(ctx.tenant.id);
      if (latest.size === 0) return { AutoScalingConfigurationSummaryList: [] };
      revisions = [...latest].map(([name, revision]) => ({ name, revision }));
    }
    const rows = await this.configurations.pageActive(
      ctx.tenant.id,
      { ...(input.AutoScalingConfigurationName ? { name: input.AutoScalingConfigurationName } : {}), ...(revisions ? { revisions } : {}) },
      { ...(after ? { after: { name: String(after[0]), revision: Number(after[1]) } } : {}), take: pageTake(max) },
    );
    const { items, nextToken } = page(rows, max, (r) => [r.name, r.revision]);
    const used = await this.services.autoScalingConfigurationsInUse(items.map((r) => r.id));
    return {
      AutoScalingConfigurationSummaryList: items.map((r) => summary(r, used.has(r.id))),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async delete(ctx: CallContext, input: DeleteAutoScalingConfigurationRequest): Promise<DeleteAutoScalingConfigurationResponse> {
    const arn = input.AutoScalingConfigurationArn as string;
    const deleted = await this.lock.run(ctx.tenant.id, async (tx) => {
      const target = await this.resolve(ctx, arn, { includeInactive: false }, tx);
      const victims = input.DeleteAllRevisions ? await this.configurations.findActiveOfName(ctx.tenant.id, target.name, tx) : [target];
      for (const v of victims) {
        if (v.isDefault) {
          throw new InvalidRequestException(
            `You can't delete the default auto scaling configuration (${v.arn}). Set another default first.`,
          );
        }
      }
      const ids = victims.map((v) => v.id);
      if ((await this.services.autoScalingConfigurationsInUse(ids, tx)).size > 0) {
        throw new InvalidRequestException(`You can't delete an auto scaling configuration that is used by one or more services: ${arn}`);
      }
      const now = this.clock.now();
      await this.configurations.markInactive(ids, now, tx);
      return { ...target, status: 'INACTIVE', deletedAt: now };
    });
    return { AutoScalingConfiguration: await this.toSdk(deleted) };
  }

  async updateDefault(ctx: CallContext, arn: string): Promise<UpdateDefaultAutoScalingConfigurationResponse> {
    const row = await this.lock.run(ctx.tenant.id, async (tx) => {
      const target = await this.resolve(ctx, arn, { includeInactive: false }, tx);
      return this.configurations.makeDefault(ctx.tenant.id, target.id, tx);
    });
    return { AutoScalingConfiguration: await this.toSdk(row) };
  }

  async listServices(
    ctx: CallContext,
    input: ListServicesForAutoScalingConfigurationRequest,
  ): Promise<ListServicesForAutoScalingConfigurationResponse> {
    const asc = await this.resolve(ctx, input.AutoScalingConfigurationArn as string, { includeInactive: true });
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['timestamp', 'uuid']);
    const rows = await this.services.pageLiveUsingAutoScaling(ctx.tenant.id, asc.id, {
      ...(after ? { after: { createdAt: new Date(after[0]), id: String(after[1]) } } : {}),
      take: pageTake(max),
    });
    const { items, nextToken } = page(rows, max, (r) => [r.createdAt.toISOString(), r.id]);
    return { ServiceArnList: items.map((r) => r.arn), ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  /**
   * The configuration a service will use: the named ARN (full, or partial resolving to the latest
   * active revision), or the tenant's current default.
   */
  async forService(tx: Transaction, ctx: CallContext, arn: string | undefined): Promise<AutoScalingConfigurationRecord> {
    if (arn !== undefined) return this.resolve(ctx, arn, { includeInactive: false }, tx);
    const row = await this.configurations.findDefault(ctx.tenant.id, tx);
    if (!row) throw new InvalidRequestException('This account has no default auto scaling configuration.');
    return row;
  }

  /** AutoScalingConfigurationSummary of a row whose association the caller already knows (e.g. a live service's). */
  summaryOf(row: AutoScalingConfigurationRecord, hasAssociatedService: boolean): AutoScalingConfigurationSummary {
    return summary(row, hasAssociatedService);
  }

  async toSdk(row: AutoScalingConfigurationRecord): Promise<SdkAsc> {
    const [latest, used] = await Promise.all([
      this.configurations.latestRevisions(row.tenantId, row.name),
      this.services.autoScalingConfigurationsInUse([row.id]),
    ]);
    return {
      ...summary(row, used.has(row.id)),
      Latest: row.status === 'ACTIVE' && latest.get(row.name) === row.revision,
      MaxConcurrency: row.maxConcurrency,
      MinSize: row.minSize,
      MaxSize: row.maxSize,
      ...(row.deletedAt ? { DeletedAt: row.deletedAt } : {}),
    };
  }

  private async resolve(
    ctx: CallContext,
    arn: string,
    opts: { includeInactive: boolean },
    tx?: Transaction,
  ): Promise<AutoScalingConfigurationRecord> {
    const parsed = ownArn(ctx.tenant, arn, 'autoscalingconfiguration', NOUN);
    const { name, revision, id } = revisionedPath(parsed, arn, NOUN);
    const row = await this.configurations.findRevision(
      ctx.tenant.id,
      {
        name,
        ...(revision !== undefined ? { revision } : {}),
        ...(id !== undefined ? { arn } : {}),
        includeInactive: opts.includeInactive,
      },
      tx,
    );
    if (!row) throw notFound(NOUN, arn);
    return row;
  }
}

function summary(r: AutoScalingConfigurationRecord, hasAssociatedService: boolean): AutoScalingConfigurationSummary {
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
