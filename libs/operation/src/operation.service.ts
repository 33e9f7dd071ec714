import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ListOperationsRequest, ListOperationsResponse, OperationSummary } from '@aws-sdk/client-apprunner';
import { Clock, decodeNextToken, page, PLATFORM_CONFIG, type PlatformConfig, pageTake } from '@apprunner/core';
import { type Operation, type Prisma, PrismaService } from '@apprunner/persistence';
import { ReconcileQueue, type ReconcileJobName } from '@apprunner/queue';
import type { OperationType } from './reconciler.contract';

/** Records operations and hands their ids to the queue (transactional outbox: the row is the source of truth). */
@Injectable()
export class OperationService {
  private readonly logger = new Logger(OperationService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly queue: ReconcileQueue,
    private readonly clock: Clock,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  /** Writes a PENDING operation in the caller's transaction; call `dispatch` after commit. */
  begin(
    tx: Prisma.TransactionClient,
    args: {
      tenantId: string;
      serviceId: string;
      targetArn: string;
      generation: number;
      type: OperationType;
      fromStatus: string;
      rollbackSpec?: Prisma.InputJsonValue;
      /** Automatic deployments: what started it, and the commit or image it deploys. */
      trigger?: string;
      sourceCommit?: string;
      image?: string;
    },
  ): Promise<Operation> {
    return tx.operation.create({
      data: {
        tenantId: args.tenantId,
        serviceId: args.serviceId,
        targetArn: args.targetArn,
        generation: args.generation,
        type: args.type,
        status: 'PENDING',
        fromStatus: args.fromStatus,
        rollbackSpec: args.rollbackSpec,
        ...(args.trigger ? { trigger: args.trigger } : {}),
        ...(args.sourceCommit ? { sourceCommit: args.sourceCommit } : {}),
        ...(args.image ? { image: args.image } : {}),
        createdAt: this.clock.now(),
      },
    });
  }

  /** Enqueues after commit. If Redis is unavailable the record stays un-enqueued and `sweep` retries it. */
  async dispatch(name: ReconcileJobName, id: string, version?: number): Promise<void> {
    try {
      await this.queue.add(name, id, version);
      if (name === 'service-operation') {
        await this.prisma.client.operation.update({ where: { id }, data: { enqueuedAt: this.clock.now() } });
      }
    } catch (e) {
      this.logger.warn(`Could not enqueue ${name} ${id}; the outbox sweeper will retry: ${(e as Error).message}`);
    }
  }

  /**
   * Re-enqueues work whose enqueue failed (Redis down) or whose job was lost: PENDING operations, and VPC ingress
   * connections and custom domains still in a transitional state. Jobs that still exist are not duplicated (same
   * job id). Returns how many were sent.
   */
  async sweep(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.OUTBOX_SWEEP_SECONDS * 1_000);
    const [ops, vics, domains] = await Promise.all([
      this.prisma.client.operation.findMany({
        where: { status: 'PENDING', OR: [{ enqueuedAt: null }, { enqueuedAt: { lt: cutoff } }], createdAt: { lt: cutoff } },
        select: { id: true },
        take: 500,
      }),
      this.prisma.client.vpcIngressConnection.findMany({
        where: { status: { in: ['PENDING_CREATION', 'PENDING_UPDATE', 'PENDING_DELETION'] }, updatedAt: { lt: cutoff } },
        select: { id: true, updatedAt: true },
        take: 500,
      }),
      this.prisma.client.customDomain.findMany({
        where: {
          status: { in: ['CREATING', 'PENDING_CERTIFICATE_DNS_VALIDATION', 'BINDING_CERTIFICATE', 'DELETING'] },
          updatedAt: { lt: cutoff },
        },
        select: { id: true, updatedAt: true },
        take: 500,
      }),
    ]);
    for (const op of ops) await this.dispatch('service-operation', op.id);
    for (const v of vics) await this.dispatch('vpc-ingress-connection', v.id, v.updatedAt.getTime());
    for (const d of domains) await this.dispatch('custom-domain', d.id, d.updatedAt.getTime());
    return ops.length + vics.length + domains.length;
  }

  async list(tenantId: string, serviceId: string, input: ListOperationsRequest): Promise<ListOperationsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['timestamp', 'uuid']);
    const rows = await this.prisma.client.operation.findMany({
      where: {
        tenantId,
        serviceId,
        ...(after
          ? { OR: [{ createdAt: { lt: new Date(after[0]) } }, { createdAt: new Date(after[0]), id: { lt: String(after[1]) } }] }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: pageTake(max),
    });
    const { items, nextToken } = page(rows, max, (r) => [r.createdAt.toISOString(), r.id]);
    return { OperationSummaryList: items.map(summary), ...(nextToken ? { NextToken: nextToken } : {}) };
  }
}

/**
 * App Runner's OperationSummary, plus `ErrorMessage` on failed operations: why a deployment failed (e.g.
 * "ImagePullBackOff: ..."). App Runner shows that in its console and logs; here it is an extra member, which AWS
 * SDKs and the CLI ignore and the REST API shows.
 */
function summary(op: Operation): OperationSummary & { ErrorMessage?: string } {
  return {
    ...(op.errorMessage ? { ErrorMessage: op.errorMessage } : {}),
    Id: op.id,
    Type: op.type as OperationSummary['Type'],
    Status: op.status as OperationSummary['Status'],
    TargetArn: op.targetArn,
    ...(op.startedAt ? { StartedAt: op.startedAt } : {}),
    ...(op.endedAt ? { EndedAt: op.endedAt } : {}),
    UpdatedAt: op.updatedAt,
  };
}
