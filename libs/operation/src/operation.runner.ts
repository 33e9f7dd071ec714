import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '@apprunner/core';
import { type Prisma, PrismaService } from '@apprunner/persistence';
import type { ReconcileJobName } from '@apprunner/queue';
import { operationEnd } from './operation.transitions';
import { type OperationType, type ReconcileOutcome, RECONCILERS, type Reconcilers } from './reconciler.contract';

/** What the queue consumer should do after one pass. */
export type RunResult = { done: true } | { done: false; retryAfterMs: number };

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'ROLLBACK_SUCCEEDED', 'ROLLBACK_FAILED']);

/**
 * Worker side of an operation: loads the record, asks the reconciler, and applies the outcome to the
 * operation and the service in one transaction. Safe to run twice for the same id.
 */
@Injectable()
export class OperationRunner {
  private readonly logger = new Logger(OperationRunner.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly clock: Clock,
    @Inject(RECONCILERS) private readonly reconcilers: Reconcilers,
  ) {}

  run(name: ReconcileJobName, id: string): Promise<RunResult> {
    switch (name) {
      case 'service-operation':
        return this.runOperation(id);
      case 'vpc-ingress-connection':
        return this.runVpcIngressConnection(id);
      case 'custom-domain':
        return this.runCustomDomain(id);
    }
  }

  /** Called when the queue gives up on a job (attempts exhausted): the operation fails with the last error. */
  async giveUp(name: ReconcileJobName, id: string, error: string): Promise<void> {
    if (name === 'service-operation') {
      await this.finishOperation(id, { status: 'FAILED', reason: `Reconcile did not succeed after retries: ${error}` });
    } else if (name === 'vpc-ingress-connection') {
      const vic = await this.prisma.client.vpcIngressConnection.findUnique({ where: { id } });
      if (vic) await this.prisma.client.vpcIngressConnection.update({ where: { id }, data: { status: failedVicStatus(vic.status) } });
    } else {
      const cd = await this.prisma.client.customDomain.findUnique({ where: { id } });
      if (cd) await this.prisma.client.customDomain.update({ where: { id }, data: { status: cd.status === 'DELETING' ? 'DELETE_FAILED' : 'CREATE_FAILED' } });
    }
  }

  private async runOperation(id: string): Promise<RunResult> {
    const op = await this.prisma.client.operation.findUnique({ where: { id }, include: { service: true, tenant: true } });
    if (!op || TERMINAL.has(op.status)) return { done: true };
    if (op.status === 'PENDING') {
      await this.prisma.client.operation.updateMany({
        where: { id, status: 'PENDING' },
        data: { status: 'IN_PROGRESS', startedAt: this.clock.now() },
      });
    }
    const { service, tenant, ...operation } = op;
    const outcome = await this.reconcilers.reconcileOperation({ operation: { ...operation, type: operation.type as OperationType }, service, tenant });
    if (outcome.status === 'IN_PROGRESS') return { done: false, retryAfterMs: outcome.retryAfterMs };
    await this.finishOperation(id, outcome);
    return { done: true };
  }

  private async finishOperation(id: string, outcome: Exclude<ReconcileOutcome, { status: 'IN_PROGRESS' }>): Promise<void> {
    await this.prisma.client.$transaction(async (tx) => {
      const op = await tx.operation.findUnique({ where: { id } });
      if (!op || TERMINAL.has(op.status)) return;
      const end = operationEnd(op.type as OperationType, op.fromStatus, outcome);
      const now = this.clock.now();
      await tx.operation.update({
        where: { id },
        data: {
          status: end.operationStatus,
          endedAt: now,
          startedAt: op.startedAt ?? now,
          errorMessage: outcome.status === 'FAILED' ? outcome.reason.slice(0, 2_000) : null,
        },
      });
      const data: Prisma.ServiceUpdateInput = { status: end.serviceStatus };
      if (end.restoreSpec && op.rollbackSpec) {
        data.spec = op.rollbackSpec as Prisma.InputJsonValue;
        data.generation = { increment: 1 };
      }
      if (end.serviceStatus === 'DELETED') {
        data.deletedAt = now;
        data.activeName = null;
        await tx.customDomain.deleteMany({ where: { serviceId: op.serviceId } });
        await tx.tag.deleteMany({ where: { resourceArn: op.targetArn } });
      }
      await tx.service.update({ where: { id: op.serviceId }, data });
    });
    this.logger.log(`operation ${id} ended: ${outcome.status}${outcome.status === 'FAILED' ? ` (${outcome.reason})` : ''}`);
  }

  private async runVpcIngressConnection(id: string): Promise<RunResult> {
    const vic = await this.prisma.client.vpcIngressConnection.findUnique({ where: { id }, include: { service: true } });
    if (!vic || !vic.status.startsWith('PENDING_')) return { done: true };
    const outcome = await this.reconcilers.reconcileVpcIngressConnection(vic);
    if (outcome.status === 'IN_PROGRESS') return { done: false, retryAfterMs: outcome.retryAfterMs };
    const status =
      outcome.status === 'FAILED' ? failedVicStatus(vic.status) : vic.status === 'PENDING_DELETION' ? 'DELETED' : 'AVAILABLE';
    await this.prisma.client.vpcIngressConnection.updateMany({
      where: { id, status: vic.status },
      data: { status, ...(status === 'DELETED' ? { deletedAt: this.clock.now(), activeName: null } : {}) },
    });
    return { done: true };
  }

  private async runCustomDomain(id: string): Promise<RunResult> {
    const cd = await this.prisma.client.customDomain.findUnique({ where: { id }, include: { service: true } });
    if (!cd || ['ACTIVE', 'CREATE_FAILED', 'DELETE_FAILED'].includes(cd.status)) return { done: true };
    const outcome = await this.reconcilers.reconcileCustomDomain(cd);
    if (outcome.status === 'IN_PROGRESS') {
      // Progress of an association (certificate pending DNS validation, being bound) is shown to the tenant.
      if (outcome.progress && cd.status !== 'DELETING' && outcome.progress !== cd.status) {
        await this.prisma.client.customDomain.updateMany({ where: { id, status: cd.status }, data: { status: outcome.progress } });
      }
      return { done: false, retryAfterMs: outcome.retryAfterMs };
    }
    if (cd.status === 'DELETING' && outcome.status === 'SUCCEEDED') {
      await this.prisma.client.customDomain.deleteMany({ where: { id, status: 'DELETING' } });
    } else {
      const status = outcome.status === 'FAILED' ? (cd.status === 'DELETING' ? 'DELETE_FAILED' : 'CREATE_FAILED') : 'ACTIVE';
      const records = status === 'DELETE_FAILED' ? undefined : withRecordStatus(cd.certificateValidationRecords, status === 'ACTIVE' ? 'SUCCESS' : 'FAILED');
      await this.prisma.client.customDomain.updateMany({ where: { id, status: cd.status }, data: { status, ...(records ? { certificateValidationRecords: records } : {}) } });
    }
    return { done: true };
  }
}

/** CertificateValidationRecords with every record's Status set (SUCCESS once the certificate is issued, FAILED if not). */
function withRecordStatus(records: Prisma.JsonValue, status: 'SUCCESS' | 'FAILED'): Prisma.InputJsonValue {
  return (Array.isArray(records) ? records : []).map((r) => ({ ...(r as Record<string, unknown>), Status: status })) as Prisma.InputJsonValue;
}

function failedVicStatus(status: string): string {
  return status === 'PENDING_DELETION' ? 'FAILED_DELETION' : status === 'PENDING_UPDATE' ? 'FAILED_UPDATE' : 'FAILED_CREATION';
}
