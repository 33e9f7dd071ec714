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
import {
  type ObservabilityConfigurationRecord,
  ObservabilityConfigurationRepository,
  type RevisionCursor,
  ServiceRepository,
  type Transaction,
} from '@apprunner/persistence';
import { TagService } from '@apprunner/tag';
import { type CallContext, FIXED_LIMITS, notFound, ownArn, revisionedPath, TenantLock } from '@apprunner/tenancy';

const NOUN = 'observability configuration';
const RESERVED_NAME = 'DefaultConfiguration';

/** Observability configurations: named, revisioned, immutable; tracing (AWSXRAY → OpenTelemetry in-cluster). */
@Injectable()
export class ObservabilityConfigurationService {
  constructor(
    private readonly configurations: ObservabilityConfigurationRepository,
    private readonly services: ServiceRepository,
    private readonly lock: TenantLock,
    private readonly tags: TagService,
    private readonly clock: Clock,
  ) {}

  async create(ctx: CallContext, input: CreateObservabilityConfigurationRequest): Promise<CreateObservabilityConfigurationResponse> {
    const name = input.ObservabilityConfigurationName as string;
    if (name === RESERVED_NAME) throw new InvalidRequestException(`The name ${RESERVED_NAME} is reserved.`);
    // Counted under the tenant lock, so concurrent creates of one name can't pass the limits together.
    const row = await this.lock.run(ctx.tenant.id, async (tx, quotas) => {
      const tenantId = ctx.tenant.id;
      const revisions = await this.configurations.countActiveRevisions(tenantId, name, tx);
      if (revisions === 0) {
        await quotas.check('ObservabilityConfigurationNames', () => this.configurations.countActiveNames(tenantId, tx));
      } else if (revisions >= FIXED_LIMITS.ObservabilityConfigurationRevisionsPerName) {
        throw new ServiceQuotaExceededException(
          `You have reached the maximum number of revisions (${FIXED_LIMITS.ObservabilityConfigurationRevisionsPerName}) for observability configuration ${name}.`,
        );
      }
      const revision = (await this.configurations.lastRevision(tenantId, name, tx)) + 1;
      const created = await this.configurations.create(
        {
          tenantId,
          name,
          revision,
          arn: formatArn(ctx.tenant, 'observabilityconfiguration', name, revision, newResourceId()),
          traceVendor: input.TraceConfiguration?.Vendor ?? null,
          createdAt: this.clock.now(),
        },
        tx,
      );
      await this.tags.put(tx, ctx, created.arn, input.Tags);
      return created;
    });
    return { ObservabilityConfiguration: await this.toSdk(row) };
  }

  async describe(ctx: CallContext, arn: string): Promise<DescribeObservabilityConfigurationResponse> {
    return { ObservabilityConfiguration: await this.toSdk(await this.resolve(ctx, arn, true)) };
  }

  async list(ctx: CallContext, input: ListObservabilityConfigurationsRequest): Promise<ListObservabilityConfigurationsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['string', 'revision']);
    let revisions: RevisionCursor[] | undefined;
    // "Default: true" (the model's documentation of LatestOnly).
    if (input.LatestOnly ?? true) {
      const latest = await this.configurations.latestRevisions(ctx.tenant.id);
      if (latest.size === 0) return { ObservabilityConfigurationSummaryList: [] };
      revisions = [...latest].map(([name, revision]) => ({ name, revision }));
    }
    const rows = await this.configurations.pageActive(
      ctx.tenant.id,
      {
        ...(input.ObservabilityConfigurationName ? { name: input.ObservabilityConfigurationName } : {}),
        ...(revisions ? { revisions } : {}),
      },
      { ...(after ? { after: { name: String(after[0]), revision: Number(after[1]) } } : {}), take: pageTake(max) },
    );
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
    const deleted = await this.lock.run(ctx.tenant.id, async (tx) => {
      const row = await this.resolve(ctx, arn, false, tx);
      const users = await this.services.countLiveUsing({ observabilityConfigurationId: row.id }, tx);
      if (users > 0)
        throw new InvalidRequestException(`You can't delete an observability configuration that is used by one or more services: ${arn}`);
      return this.configurations.markInactive(row.id, this.clock.now(), tx);
    });
    return { ObservabilityConfiguration: await this.toSdk(deleted) };
  }

  /** The configuration a service references (full or partial ARN → latest active revision). */
  forService(tx: Transaction, ctx: CallContext, arn: string): Promise<ObservabilityConfigurationRecord> {
    return this.resolve(ctx, arn, false, tx);
  }

  async toSdk(row: ObservabilityConfigurationRecord): Promise<SdkObs> {
    const latest = await this.configurations.latestRevisions(row.tenantId, row.name);
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

  private async resolve(
    ctx: CallContext,
    arn: string,
    includeInactive: boolean,
    tx?: Transaction,
  ): Promise<ObservabilityConfigurationRecord> {
    const { name, revision, id } = revisionedPath(ownArn(ctx.tenant, arn, 'observabilityconfiguration', NOUN), arn, NOUN);
    const row = await this.configurations.findRevision(
      ctx.tenant.id,
      { name, ...(revision !== undefined ? { revision } : {}), ...(id !== undefined ? { arn } : {}), includeInactive },
      tx,
    );
    if (!row) throw notFound(NOUN, arn);
    return row;
  }
}
