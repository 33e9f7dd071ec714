import { Injectable } from '@nestjs/common';
import type { ImageConfiguration } from '@aws-sdk/client-apprunner';
import { type ServiceSpec, serviceSpecSchema } from '@apprunner/api-model';
import { type Transaction, Repository } from '../database';
import { unique } from '../errors';
import { type AutomaticDeployment, parseColumn, toJsonColumn } from '../json-columns';
import { createdAfter, type CreatedCursor, type Page } from '../paging';
import { type AutoScalingConfigurationRecord, type ServiceRecord, toServiceRecord, type TenantRecord, toTenantRecord } from '../records';
import { Prisma } from '../generated/client';

const LIVE = { status: { not: 'DELETED' } };

export type NewService = Pick<
  ServiceRecord,
  | 'tenantId'
  | 'serviceId'
  | 'serviceName'
  | 'arn'
  | 'status'
  | 'urlHost'
  | 'spec'
  | 'autoScalingConfigurationId'
  | 'observabilityConfigurationId'
  | 'vpcConnectorId'
  | 'connectionId'
  | 'createdAt'
  | 'updatedAt'
>;

/** The configuration resources a service names, by record id. */
export type ServiceReference =
  { connectionId: string } | { vpcConnectorId: string } | { observabilityConfigurationId: string } | { autoScalingConfigurationId: string };

/** What an operation changes on its service when it starts. */
export interface ServiceChange {
  spec?: ServiceSpec;
  /** The cluster must apply the service again (a new spec, a new deployment): its generation moves on. */
  newGeneration?: boolean;
  autoScalingConfigurationId?: string;
  observabilityConfigurationId?: string | null;
  vpcConnectorId?: string | null;
  connectionId?: string | null;
  /** The automatic deployment kept for later is the one starting now. */
  clearPendingDeployment?: boolean;
}

/** What the end of an operation writes on its service. */
export interface ServiceAfterOperation {
  status: string;
  /** What runs now (a deployment that succeeded). */
  deployed?: { image: string; imageConfiguration?: ImageConfiguration; commit?: string };
  /** The spec a failed update or deployment rolled back to (a new generation). */
  restoreSpec?: ServiceSpec;
  /** Set when the service is deleted: its name is free again. */
  deletedAt?: Date;
}

/** A service in a list: what ListServices shows. */
export type ServiceSummary = Pick<
  ServiceRecord,
  'id' | 'serviceName' | 'serviceId' | 'arn' | 'urlHost' | 'createdAt' | 'updatedAt' | 'status'
>;

/** A service that may deploy automatically, and the digest its image watch last saw (undefined: no watch yet). */
export interface WatchedService {
  id: string;
  arn: string;
  spec: ServiceSpec;
  accountId: string;
  watchedDigest: string | null | undefined;
}

/** Services (App Runner's), with their spec parsed. */
@Injectable()
export class ServiceRepository extends Repository {
  async countLive(tenantId: string, tx?: Transaction): Promise<number> {
    return this.db(tx).service.count({ where: { tenantId, ...LIVE } });
  }

  /** How many live services name the configuration resource. */
  async countLiveUsing(reference: ServiceReference, tx?: Transaction): Promise<number> {
    return this.db(tx).service.count({ where: { ...reference, ...LIVE } });
  }

  /** The auto scaling configurations among `ids` that a live service uses. */
  async autoScalingConfigurationsInUse(ids: string[], tx?: Transaction): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db(tx).service.groupBy({
      by: ['autoScalingConfigurationId'],
      where: { autoScalingConfigurationId: { in: ids }, ...LIVE },
    });
    return new Set(rows.map((r) => r.autoScalingConfigurationId));
  }

  async nameInUse(tenantId: string, name: string, tx?: Transaction): Promise<boolean> {
    return (await this.db(tx).service.findFirst({ where: { tenantId, activeName: name }, select: { id: true } })) !== null;
  }

  /** UniqueConstraintError when a live service of the tenant has the name (the race the check above can't see). */
  async create(service: NewService, tx: Transaction): Promise<ServiceRecord> {
    const { spec, ...fields } = service;
    const row = await unique('service', () =>
      this.db(tx).service.create({ data: { ...fields, activeName: service.serviceName, spec: toJsonColumn(spec) } }),
    );
    return toServiceRecord(row);
  }

  /** A service that must exist. */
  async get(id: string, tx?: Transaction): Promise<ServiceRecord> {
    return toServiceRecord(await this.db(tx).service.findUniqueOrThrow({ where: { id } }));
  }

  async findById(id: string, tx?: Transaction): Promise<ServiceRecord | undefined> {
    const row = await this.db(tx).service.findUnique({ where: { id } });
    return row ? toServiceRecord(row) : undefined;
  }

  /** A service of the tenant by ARN, live or deleted. */
  async findByArn(tenantId: string, arn: string, tx?: Transaction): Promise<ServiceRecord | undefined> {
    const row = await this.db(tx).service.findFirst({ where: { tenantId, arn } });
    return row ? toServiceRecord(row) : undefined;
  }

  /** findByArn and the service's auto scaling configuration, in one round trip. */
  async findByArnWithAutoScaling(
    tenantId: string,
    arn: string,
  ): Promise<{ service: ServiceRecord; autoScaling: AutoScalingConfigurationRecord } | undefined> {
    const row = await this.db().service.findFirst({ where: { tenantId, arn }, include: { autoScalingConfiguration: true } });
    if (!row) return undefined;
    const { autoScalingConfiguration, ...service } = row;
    return { service: toServiceRecord(service), autoScaling: autoScalingConfiguration };
  }

  async pageLive(tenantId: string, page: Page<CreatedCursor>): Promise<ServiceSummary[]> {
    return this.db().service.findMany({
      where: { tenantId, ...LIVE, ...createdAfter(page.after) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.take,
      select: { id: true, serviceName: true, serviceId: true, arn: true, urlHost: true, createdAt: true, updatedAt: true, status: true },
    });
  }

  async pageLiveUsingAutoScaling(
    tenantId: string,
    autoScalingConfigurationId: string,
    page: Page<CreatedCursor>,
  ): Promise<Pick<ServiceRecord, 'id' | 'arn' | 'createdAt'>[]> {
    return this.db().service.findMany({
      where: { tenantId, autoScalingConfigurationId, ...LIVE, ...createdAfter(page.after) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.take,
      select: { id: true, arn: true, createdAt: true },
    });
  }

  /**
   * Moves the service from the status it was read with to OPERATION_IN_PROGRESS with `change`, in one conditional
   * update: of two operations starting at once, one finds the status moved (undefined) and is refused.
   */
  async startOperation(
    current: Pick<ServiceRecord, 'id' | 'status'>,
    change: ServiceChange,
    at: Date,
    tx: Transaction,
  ): Promise<ServiceRecord | undefined> {
    const { spec, newGeneration, clearPendingDeployment, ...references } = change;
    const moved = await this.db(tx).service.updateMany({
      where: { id: current.id, status: current.status },
      data: {
        ...references,
        ...(spec ? { spec: toJsonColumn(spec) } : {}),
        ...(newGeneration ? { generation: { increment: 1 } } : {}),
        ...(clearPendingDeployment ? { pendingDeployment: Prisma.DbNull } : {}),
        status: 'OPERATION_IN_PROGRESS',
        updatedAt: at,
      },
    });
    return moved.count === 1 ? this.get(current.id, tx) : undefined;
  }

  /** Keeps an automatic deployment for when the operation in progress ends; false when none is in progress any more. */
  async deferDeployment(id: string, deployment: AutomaticDeployment): Promise<boolean> {
    const deferred = await this.db().service.updateMany({
      where: { id, status: 'OPERATION_IN_PROGRESS' },
      data: { pendingDeployment: toJsonColumn(deployment) },
    });
    return deferred.count === 1;
  }

  /** Forgets the kept automatic deployment, if the service is still in `status`. */
  async dropDeferredDeployment(id: string, status: string): Promise<void> {
    await this.db().service.updateMany({ where: { id, status }, data: { pendingDeployment: Prisma.DbNull } });
  }

  /** RUNNING services with an automatic deployment kept for them. */
  async idsWithDeferredDeployment(): Promise<string[]> {
    const rows = await this.db().service.findMany({
      where: { status: 'RUNNING', NOT: { pendingDeployment: { equals: Prisma.DbNull } } },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  /** Writes what an operation's end means for its service. */
  async recordOperationEnd(id: string, end: ServiceAfterOperation, tx: Transaction): Promise<void> {
    const { deployed } = end;
    await this.db(tx).service.update({
      where: { id },
      data: {
        status: end.status,
        ...(deployed ? { deployedImage: deployed.image } : {}),
        ...(deployed?.imageConfiguration ? { deployedImageConfiguration: toJsonColumn(deployed.imageConfiguration) } : {}),
        ...(deployed?.commit ? { deployedCommit: deployed.commit } : {}),
        ...(end.restoreSpec ? { spec: toJsonColumn(end.restoreSpec), generation: { increment: 1 } } : {}),
        ...(end.deletedAt ? { deletedAt: end.deletedAt, activeName: null } : {}),
      },
    });
  }

  /** Live code-based services on an AVAILABLE connection of the GitHub App installation. */
  async findOnInstallation(installationId: bigint): Promise<Pick<ServiceRecord, 'id' | 'arn' | 'spec'>[]> {
    const rows = await this.db().service.findMany({
      where: { ...LIVE, connection: { installationId, status: 'AVAILABLE' } },
      select: { id: true, arn: true, spec: true },
    });
    return rows.map((r) => ({ ...r, spec: parseColumn(serviceSpecSchema, r.spec, `ServiceRecord ${r.id}: spec`) }));
  }

  /**
   * Live image services with automatic deployments whose image identifier may name one of `names` (a coarse filter:
   * the caller matches exactly; without names, every one of them).
   */
  async findDeployingImagesNamed(names: string[] | undefined): Promise<WatchedService[]> {
    const rows = await this.db().service.findMany({
      where: {
        ...LIVE,
        connectionId: null,
        AND: [
          { spec: { path: ['SourceConfiguration', 'AutoDeploymentsEnabled'], equals: true } },
          ...(names
            ? [
                {
                  OR: names.map((name) => ({
                    spec: { path: ['SourceConfiguration', 'ImageRepository', 'ImageIdentifier'], string_contains: name },
                  })),
                },
              ]
            : []),
        ],
      },
      select: { id: true, arn: true, spec: true, tenant: { select: { accountId: true } }, imageWatch: true },
    });
    return rows.map(watched);
  }

  /** RUNNING image services (those whose tracked tag the image poll resolves). */
  async findRunningImageServices(): Promise<WatchedService[]> {
    const rows = await this.db().service.findMany({
      where: { status: 'RUNNING', connectionId: null },
      select: { id: true, arn: true, spec: true, tenant: { select: { accountId: true } }, imageWatch: true },
    });
    return rows.map(watched);
  }

  /**
   * Settled services (RUNNING or PAUSED, no operation open) after the id `afterId`, in id order, with their tenant
   * and the last operation that succeeded on them: what the periodic resync applies again.
   */
  async pageSettled(
    afterId: string | undefined,
    take: number,
  ): Promise<{ service: ServiceRecord; tenant: TenantRecord; lastSucceededOperationId?: string }[]> {
    const rows = await this.db().service.findMany({
      where: {
        deletedAt: null,
        status: { in: ['RUNNING', 'PAUSED'] },
        operations: { none: { status: { in: ['PENDING', 'IN_PROGRESS'] } } },
        ...(afterId ? { id: { gt: afterId } } : {}),
      },
      include: {
        tenant: true,
        operations: {
          where: { status: { in: ['SUCCEEDED', 'ROLLBACK_SUCCEEDED'] } },
          orderBy: { endedAt: 'desc' },
          take: 1,
          select: { id: true },
        },
      },
      orderBy: { id: 'asc' },
      take,
    });
    return rows.map(({ tenant, operations, ...service }) => ({
      service: toServiceRecord(service),
      tenant: toTenantRecord(tenant),
      ...(operations[0] ? { lastSucceededOperationId: operations[0].id } : {}),
    }));
  }
}

function watched(row: {
  id: string;
  arn: string;
  spec: Prisma.JsonValue;
  tenant: { accountId: string };
  imageWatch: { digest: string | null } | null;
}): WatchedService {
  return {
    id: row.id,
    arn: row.arn,
    spec: parseColumn(serviceSpecSchema, row.spec, `ServiceRecord ${row.id}: spec`),
    accountId: row.tenant.accountId,
    watchedDigest: row.imageWatch ? row.imageWatch.digest : undefined,
  };
}
