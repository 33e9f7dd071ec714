import { Injectable } from '@nestjs/common';
import type { ListTagsForResourceResponse, Tag as SdkTag } from '@aws-sdk/client-apprunner';
import { InvalidRequestException, parseArn } from '@apprunner/core';
import { TagRepository, type Transaction } from '@apprunner/persistence';
import { type CallContext, FIXED_LIMITS, notFound, ownArn, TenantLock } from '@apprunner/tenancy';

/** Tags on any App Runner resource of the tenant, keyed by resource ARN. */
@Injectable()
export class TagService {
  constructor(
    private readonly tags: TagRepository,
    private readonly lock: TenantLock,
  ) {}

  /** Adds or overwrites tags; used by TagResource and by every Create* action's `Tags`. */
  async put(tx: Transaction, ctx: CallContext, resourceArn: string, tags: SdkTag[] | undefined): Promise<void> {
    if (!tags || tags.length === 0) return;
    for (const tag of tags) {
      if (tag.Key === undefined) throw new InvalidRequestException('Tag keys must not be null.');
      if (tag.Key.toLowerCase().startsWith('aws:')) {
        throw new InvalidRequestException(`Tag keys starting with "aws:" are reserved: ${tag.Key}`);
      }
    }
    const keys = new Set(tags.map((t) => t.Key as string));
    const existing = await this.tags.keysOf(resourceArn, tx);
    const total = new Set([...existing, ...keys]).size;
    if (total > FIXED_LIMITS.TagsPerResource) {
      throw new InvalidRequestException(`A resource can have at most ${FIXED_LIMITS.TagsPerResource} tags.`);
    }
    for (const tag of tags) await this.tags.put(ctx.tenant.id, resourceArn, tag.Key as string, tag.Value ?? '', tx);
  }

  async tagResource(ctx: CallContext, resourceArn: string, tags: SdkTag[]): Promise<Record<string, never>> {
    // The 50-tag count must see every concurrent TagResource on the resource: under the tenant lock it does.
    await this.lock.run(ctx.tenant.id, async (tx) => {
      await this.assertLive(ctx, resourceArn, tx);
      await this.put(tx, ctx, resourceArn, tags);
    });
    return {};
  }

  async untagResource(ctx: CallContext, resourceArn: string, tagKeys: string[]): Promise<Record<string, never>> {
    await this.assertLive(ctx, resourceArn);
    await this.tags.remove(ctx.tenant.id, resourceArn, tagKeys);
    return {};
  }

  async listTagsForResource(ctx: CallContext, resourceArn: string): Promise<ListTagsForResourceResponse> {
    await this.assertLive(ctx, resourceArn);
    const tags = await this.tags.list(ctx.tenant.id, resourceArn);
    return { Tags: tags.map((t) => ({ Key: t.key, Value: t.value })) };
  }

  /** The resource must exist in the caller's tenant; deleted resources can't be tagged (InvalidStateException in App Runner is for in-flight deletes). */
  private async assertLive(ctx: CallContext, arn: string, tx?: Transaction): Promise<void> {
    const type = parseArn(arn)?.resourceType;
    if (!type) throw new InvalidRequestException(`Invalid resource ARN: ${arn}`);
    ownArn(ctx.tenant, arn, type, 'resource');
    const status = await this.tags.resourceStatus(type, ctx.tenant.id, arn, tx);
    if (!status || status === 'DELETED' || status === 'INACTIVE') throw notFound('resource', arn);
  }
}
