import { Injectable } from '@nestjs/common';
import type { ResourceType } from '@apprunner/core';
import { type Transaction, Repository } from '../database';
import type { TagRecord } from '../records';

/** Tags of any resource of a tenant, keyed by resource ARN. */
@Injectable()
export class TagRepository extends Repository {
  async keysOf(resourceArn: string, tx?: Transaction): Promise<string[]> {
    return (await this.db(tx).tag.findMany({ where: { resourceArn }, select: { key: true } })).map((t) => t.key);
  }

  async put(tenantId: string, resourceArn: string, key: string, value: string, tx: Transaction): Promise<void> {
    await this.db(tx).tag.upsert({
      where: { resourceArn_key: { resourceArn, key } },
      create: { tenantId, resourceArn, key, value },
      update: { value },
    });
  }

  async list(tenantId: string, resourceArn: string): Promise<TagRecord[]> {
    return this.db().tag.findMany({ where: { tenantId, resourceArn }, orderBy: { key: 'asc' } });
  }

  async remove(tenantId: string, resourceArn: string, keys: string[]): Promise<void> {
    await this.db().tag.deleteMany({ where: { tenantId, resourceArn, key: { in: keys } } });
  }

  /** The tags of a resource that is gone. */
  async removeAll(resourceArn: string, tx: Transaction): Promise<void> {
    await this.db(tx).tag.deleteMany({ where: { resourceArn } });
  }

  /** The status of the tenant's resource an ARN names, in whichever table holds that type; undefined when none. */
  async resourceStatus(type: ResourceType, tenantId: string, arn: string, tx?: Transaction): Promise<string | undefined> {
    const db = this.db(tx);
    const where = { arn, tenantId };
    const select = { status: true } as const;
    const finders: Record<ResourceType, () => Promise<{ status: string } | null>> = {
      service: () => db.service.findFirst({ where, select }),
      connection: () => db.connection.findFirst({ where, select }),
      autoscalingconfiguration: () => db.autoScalingConfiguration.findFirst({ where, select }),
      observabilityconfiguration: () => db.observabilityConfiguration.findFirst({ where, select }),
      vpcconnector: () => db.vpcConnector.findFirst({ where, select }),
      vpcingressconnection: () => db.vpcIngressConnection.findFirst({ where, select }),
    };
    return (await finders[type]())?.status;
  }
}
