import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ListOperationsRequest, ListOperationsResponse, OperationSummary } from '@aws-sdk/client-apprunner';
import { Clock, decodeNextToken, page, PLATFORM_CONFIG, type PlatformConfig, pageTake } from '@apprunner/core';
import type { ServiceSpec } from '@apprunner/api-model';
import {
  CustomDomainRepository,
  type OperationRecord,
  OperationRepository,
  type Transaction,
  VpcIngressConnectionRepository,
} from '@apprunner/persistence';
import { ReconcileQueue, type ReconcileJobName } from '@apprunner/queue';
import type { OperationType } from './reconciler.contract';

const VIC_TRANSITIONAL = new Set(['PENDING_CREATION', 'PENDING_UPDATE', 'PENDING_DELETION']);
const DOMAIN_TRANSITIONAL = new Set(['CREATING', 'PENDING_CERTIFICATE_DNS_VALIDATION', 'BINDING_CERTIFICATE', 'DELETING']);

/** Records operations and hands their ids to the queue (transactional outbox: the row is the source of truth). */
@Injectable()
export class OperationService {
  private readonly logger = new Logger(OperationService.name);

  constructor(
    private readonly operations: OperationRepository,
    private readonly vpcIngressConnections: VpcIngressConnectionRepository,
    private readonly customDomains: CustomDomainRepository,
    private readonly queue: ReconcileQueue,
    private readonly clock: Clock,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  /** Writes a PENDING operation in the caller's transaction; call `dispatch` after commit. */
  begin(
    tx: Transaction,
    args: {
      tenantId: string;
      serviceId: string;
      targetArn: string;
      generation: number;
      type: OperationType;
      fromStatus: string;
      rollbackSpec?: ServiceSpec;
      /** Automatic deployments: what started it, and the commit or image it deploys. */
      trigger?: string;
      sourceCommit?: string;
      image?: string;
    },
  ): Promise<OperationRecord> {
    return this.operations.create(
      {
        tenantId: args.tenantId,
        serviceId: args.serviceId,
        targetArn: args.targetArn,
        generation: args.generation,
        type: args.type,
        fromStatus: args.fromStatus,
        ...(args.rollbackSpec ? { rollbackSpec: args.rollbackSpec } : {}),
        ...(args.trigger ? { trigger: args.trigger } : {}),
        ...(args.sourceCommit ? { sourceCommit: args.sourceCommit } : {}),
        ...(args.image ? { image: args.image } : {}),
        createdAt: this.clock.now(),
      },
      tx,
    );
  }

  /** Enqueues after commit. If Redis is unavailable the record stays un-enqueued and `sweep` retries it. */
  async dispatch(name: ReconcileJobName, id: string, version?: number): Promise<void> {
    try {
      await this.queue.add(name, id, version);
      if (name === 'service-operation') {
        await this.operations.markEnqueued(id, this.clock.now());
      }
    } catch (e) {
      this.logger.warn(`Could not enqueue ${name} ${id}; the outbox sweeper will retry: ${(e as Error).message}`);
    }
  }

  /**
   * Enqueues again the work whose job is not in the queue: an enqueue that failed (Redis down when the record was
   * written), a queue that lost its jobs (Redis restarted empty), a job that finished without its record settling.
   * That is operations not ended (PENDING, IN_PROGRESS), and VPC ingress connections and custom domains still in a
   * transitional state, older than OUTBOX_SWEEP_SECONDS. A job still waiting, delayed or running is left alone, so
   * with no worker running nothing is enqueued twice. Returns how many were enqueued.
   */
  async sweep(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.OUTBOX_SWEEP_SECONDS * 1_000);
    const [ops, vics, domains] = await Promise.all([
      this.operations.idsNotEndedBefore(cutoff, 500),
      this.vpcIngressConnections.findInStatusesBefore([...VIC_TRANSITIONAL], cutoff, 500),
      this.customDomains.findInStatusesBefore([...DOMAIN_TRANSITIONAL], cutoff, 500),
    ]);
    let enqueued = 0;
    const each = async (what: string, enqueue: () => Promise<boolean>) => {
      try {
        if (await enqueue()) enqueued++;
      } catch (e) {
        this.logger.warn(`outbox: could not enqueue ${what} again: ${(e as Error).message}`);
      }
    };
    for (const id of ops) {
      await each(`operation ${id}`, async () => {
        if (await this.queue.pending('service-operation', id)) return false;
        // Read again: the job may have finished, with the operation, since the list was read.
        const now = await this.operations.findById(id);
        if (now?.status !== 'PENDING' && now?.status !== 'IN_PROGRESS') return false;
        if (!(await this.queue.requeue('service-operation', id))) return false;
        if (now.status === 'PENDING') await this.operations.markEnqueued(id, this.clock.now());
        return true;
      });
    }
    for (const v of vics) {
      await each(`VPC ingress connection ${v.id}`, async () => {
        const version = v.updatedAt.getTime();
        if (await this.queue.pending('vpc-ingress-connection', v.id, version)) return false;
        const now = await this.vpcIngressConnections.findById(v.id);
        if (!now || !VIC_TRANSITIONAL.has(now.status) || now.updatedAt.getTime() !== version) return false;
        return this.queue.requeue('vpc-ingress-connection', v.id, version);
      });
    }
    for (const d of domains) {
      await each(`custom domain ${d.id}`, async () => {
        const version = d.updatedAt.getTime();
        if (await this.queue.pending('custom-domain', d.id, version)) return false;
        const now = await this.customDomains.findById(d.id);
        if (!now || !DOMAIN_TRANSITIONAL.has(now.status) || now.updatedAt.getTime() !== version) return false;
        return this.queue.requeue('custom-domain', d.id, version);
      });
    }
    return enqueued;
  }

  async list(tenantId: string, serviceId: string, input: ListOperationsRequest): Promise<ListOperationsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['timestamp', 'uuid']);
    const rows = await this.operations.pageOfService(tenantId, serviceId, {
      ...(after ? { after: { createdAt: new Date(after[0]), id: String(after[1]) } } : {}),
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
function summary(op: OperationRecord): OperationSummary & { ErrorMessage?: string } {
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
