import { Injectable } from '@nestjs/common';
import type { ListTagsForResourceResponse, Tag as SdkTag } from '@aws-sdk/client-apprunner';
import { InvalidRequestException, parseArn, type ResourceType } from '@apprunner/core';
import { type Prisma, PrismaService } from '@apprunner/persistence';
import { type CallContext, FIXED_LIMITS, lockTenant, notFound, ownArn } from '@apprunner/tenancy';

/** Tags on any App Runner resource of the tenant, keyed by resource ARN. */
@Injectable()
export class TagService {
  constructor(private readonly prisma: PrismaService) {}

  /** Adds or overwrites tags; used by TagResource and by every Create* action's `Tags`. */
  async put(tx: Prisma.TransactionClient, ctx: CallContext, resourceArn: string, tags: SdkTag[] | undefined): Promise<void> {
    if (!tags || tags.length === 0) return;
    for (const tag of tags) {
      if (tag.Key === undefined) throw new InvalidRequestException('Tag keys must not be null.');
      if (tag.Key.toLowerCase().startsWith('aws:')) {
        throw new InvalidRequestException(`Tag keys starting with "aws:" are reserved: ${tag.Key}`);
      }
    }
    const keys = new Set(tags.map((t) => t.Key as string));
    const existing = await tx.tag.findMany({ where: { resourceArn }, select: { key: true } });
    const total = new Set([...existing.map((e) => e.key), ...keys]).size;
    if (total > FIXED_LIMITS.TagsPerResource) {
      throw new InvalidRequestException(`A resource can have at most ${FIXED_LIMITS.TagsPerResource} tags.`);
    }
    for (const tag of tags) {
      await tx.tag.upsert({
        where: { resourceArn_key: { resourceArn, key: tag.Key as string } },
        create: { tenantId: ctx.tenant.id, resourceArn, key: tag.Key as string, value: tag.Value ?? '' },
        update: { value: tag.Value ?? '' },
      });
    }
  }

  async tagResource(ctx: CallContext, resourceArn: string, tags: SdkTag[]): Promise<Record<string, never>> {
    await this.prisma.client.$transaction(async (tx) => {
      // The 50-tag count must see every concurrent TagResource on the resource: under the tenant lock it does.
      await lockTenant(tx, ctx.tenant.id);
      await this.assertLive(tx, ctx, resourceArn);
      await this.put(tx, ctx, resourceArn, tags);
    });
    return {};
  }

  async untagResource(ctx: CallContext, resourceArn: string, tagKeys: string[]): Promise<Record<string, never>> {
    await this.assertLive(this.prisma.client, ctx, resourceArn);
    await this.prisma.client.tag.deleteMany({ where: { tenantId: ctx.tenant.id, resourceArn, key: { in: tagKeys } } });
    return {};
  }

  async listTagsForResource(ctx: CallContext, resourceArn: string): Promise<ListTagsForResourceResponse> {
    await this.assertLive(this.prisma.client, ctx, resourceArn);
    const tags = await this.prisma.client.tag.findMany({ where: { tenantId: ctx.tenant.id, resourceArn }, orderBy: { key: 'asc' } });
    return { Tags: tags.map((t) => ({ Key: t.key, Value: t.value })) };
  }

  /** The resource must exist in the caller's tenant; deleted resources can't be tagged (InvalidStateException in App Runner is for in-flight deletes). */
  private async assertLive(db: Prisma.TransactionClient, ctx: CallContext, arn: string): Promise<void> {
    const type = parseArn(arn)?.resourceType;
    if (!type) throw new InvalidRequestException(`Invalid resource ARN: ${arn}`);
    ownArn(ctx.tenant, arn, type, 'resource');
    const where = { arn, tenantId: ctx.tenant.id };
    const finders: Record<ResourceType, () => Promise<{ status: string } | null>> = {
      service: () => db.service.findFirst({ where, select: { status: true } }),
      connection: () => db.connection.findFirst({ where, select: { status: true } }),
      autoscalingconfiguration: () => db.autoScalingConfiguration.findFirst({ where, select: { status: true } }),
      observabilityconfiguration: () => db.observabilityConfiguration.findFirst({ where, select: { status: true } }),
      vpcconnector: () => db.vpcConnector.findFirst({ where, select: { status: true } }),
      vpcingressconnection: () => db.vpcIngressConnection.findFirst({ where, select: { status: true } }),
    };
    const row = await finders[type]();
    if (!row || row.status === 'DELETED' || row.status === 'INACTIVE') throw notFound('resource', arn);
  }
}
