import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Clock } from '@apprunner/core';
import {
  CustomDomainRepository,
  Database,
  OperationRepository,
  ServiceRepository,
  TagRepository,
  VpcIngressConnectionRepository,
} from '@apprunner/persistence';
import type { ReconcileJobName } from '@apprunner/queue';
import { operationEnd } from './operation.transitions';
import { ReconcileSnapshots } from './reconcile-snapshots';
import {
  OPERATION_ENDED,
  type OperationEndedHook,
  type OperationType,
  type ReconcileOutcome,
  RECONCILERS,
  type Reconcilers,
  type ValidationRecord,
  parseValidationRecords,
} from './reconciler.contract';

/** What the queue consumer should do after one pass. */
export type RunResult = { done: true } | { done: false; retryAfterMs: number };

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'ROLLBACK_SUCCEEDED', 'ROLLBACK_FAILED']);

/**
 * Worker side of an operation: loads the snapshot of the records (ReconcileSnapshots), asks the resource's reconciler,
 * and writes the outcome (the operation and the service in one transaction). Safe to run twice for the same id.
 */
@Injectable()
export class OperationRunner {
  private readonly logger = new Logger(OperationRunner.name);

  constructor(
    private readonly database: Database,
    private readonly operations: OperationRepository,
    private readonly services: ServiceRepository,
    private readonly vpcIngressConnections: VpcIngressConnectionRepository,
    private readonly customDomains: CustomDomainRepository,
    private readonly tags: TagRepository,
    private readonly clock: Clock,
    private readonly snapshots: ReconcileSnapshots,
    @Inject(RECONCILERS) private readonly reconcilers: Reconcilers,
    @Optional() @Inject(OPERATION_ENDED) private readonly ended: OperationEndedHook | null = null,
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
      const vic = await this.vpcIngressConnections.findById(id);
      if (vic) await this.vpcIngressConnections.setStatus(id, failedVicStatus(vic.status));
    } else {
      const cd = await this.customDomains.findById(id);
      if (cd && cd.status === 'DELETING') await this.customDomains.settle(id, { status: 'DELETE_FAILED' });
      else if (cd)
        await this.customDomains.settle(id, {
          status: 'CREATE_FAILED',
          certificateValidationRecords: settledRecords(cd.certificateValidationRecords, false),
        });
      if (cd) this.logger.warn(`custom domain ${cd.domainName} (${id}): gave up after retries: ${error}`);
    }
  }

  private async runOperation(id: string): Promise<RunResult> {
    const found = await this.operations.findWithServiceAndTenant(id);
    if (!found || TERMINAL.has(found.operation.status)) return { done: true };
    if (found.operation.status === 'PENDING') await this.operations.markStarted(id, this.clock.now());
    const outcome = await this.reconcilers.service.reconcile(await this.snapshots.forOperation(found));
    if (outcome.status === 'IN_PROGRESS') return { done: false, retryAfterMs: outcome.retryAfterMs };
    await this.finishOperation(id, outcome);
    return { done: true };
  }

  private async finishOperation(id: string, outcome: Exclude<ReconcileOutcome, { status: 'IN_PROGRESS' }>): Promise<void> {
    const serviceId = await this.database.transaction(async (tx) => {
      const now = this.clock.now();
      // Of two passes ending one operation at once, exactly one claims it; the other finds it ended.
      if (!(await this.operations.claimEnd(id, now, tx))) return undefined;
      const op = await this.operations.get(id, tx);
      const end = operationEnd(op.type as OperationType, op.fromStatus, outcome);
      await this.operations.recordEnd(
        id,
        {
          status: end.operationStatus,
          startedAt: op.startedAt ?? now,
          errorMessage: outcome.status === 'FAILED' ? outcome.reason.slice(0, 2_000) : null,
        },
        tx,
      );
      const deleted = end.serviceStatus === 'DELETED';
      if (deleted) {
        await this.customDomains.removeAllOfService(op.serviceId, tx);
        await this.tags.removeAll(op.targetArn, tx);
      }
      await this.services.recordOperationEnd(
        op.serviceId,
        {
          status: end.serviceStatus,
          // What runs now, for pause, resume, resync and later rollbacks (the build's run configuration for code services).
          ...(outcome.status === 'SUCCEEDED' && outcome.deployed ? { deployed: outcome.deployed } : {}),
          ...(end.restoreSpec && op.rollbackSpec ? { restoreSpec: op.rollbackSpec } : {}),
          ...(deleted ? { deletedAt: now } : {}),
        },
        tx,
      );
      return op.serviceId;
    });
    if (serviceId === undefined) return;
    if (this.ended) {
      await this.ended.afterOperation(serviceId).catch((e: Error) => this.logger.error(`after operation ${id}: ${e.message}`));
    }
    this.logger.log(`operation ${id} ended: ${outcome.status}${outcome.status === 'FAILED' ? ` (${outcome.reason})` : ''}`);
  }

  private async runVpcIngressConnection(id: string): Promise<RunResult> {
    const snapshot = await this.snapshots.vpcIngressConnection(id);
    const vic = snapshot?.connection;
    if (!snapshot || !vic?.status.startsWith('PENDING_')) return { done: true };
    const outcome = await this.reconcilers.vpcIngressConnection.reconcile(snapshot);
    if (outcome.status === 'IN_PROGRESS') return { done: false, retryAfterMs: outcome.retryAfterMs };
    const status = outcome.status === 'FAILED' ? failedVicStatus(vic.status) : vic.status === 'PENDING_DELETION' ? 'DELETED' : 'AVAILABLE';
    await this.vpcIngressConnections.move(id, vic.status, status, status === 'DELETED' ? { deletedAt: this.clock.now() } : {});
    return { done: true };
  }

  private async runCustomDomain(id: string): Promise<RunResult> {
    const snapshot = await this.snapshots.customDomain(id);
    const cd = snapshot?.domain;
    if (!snapshot || !cd || ['ACTIVE', 'CREATE_FAILED', 'DELETE_FAILED'].includes(cd.status)) return { done: true };
    const outcome = await this.reconcilers.customDomain.reconcile(snapshot);
    if (outcome.status === 'IN_PROGRESS') {
      // Progress of an association (certificate pending DNS validation, being bound) and the validation records
      // with their statuses are shown to the tenant; written only when they change.
      if (cd.status !== 'DELETING') {
        const status = outcome.progress && outcome.progress !== cd.status ? outcome.progress : undefined;
        const changed = (next: ValidationRecord[]) =>
          JSON.stringify(parseValidationRecords(next)) !== JSON.stringify(cd.certificateValidationRecords);
        const records = outcome.validationRecords && changed(outcome.validationRecords) ? outcome.validationRecords : undefined;
        if (status || records) {
          await this.customDomains.update(id, cd.status, {
            ...(status ? { status } : {}),
            ...(records ? { certificateValidationRecords: records } : {}),
          });
        }
      }
      return { done: false, retryAfterMs: outcome.retryAfterMs };
    }
    if (cd.status === 'DELETING' && outcome.status === 'SUCCEEDED') {
      await this.customDomains.removeDeleted(id);
    } else {
      const status = outcome.status === 'FAILED' ? (cd.status === 'DELETING' ? 'DELETE_FAILED' : 'CREATE_FAILED') : 'ACTIVE';
      const records = status === 'DELETE_FAILED' ? undefined : settledRecords(cd.certificateValidationRecords, status === 'ACTIVE');
      await this.customDomains.update(id, cd.status, { status, ...(records ? { certificateValidationRecords: records } : {}) });
      // CustomDomain has no field for a reason (App Runner's API has none): the worker's log is where it is kept.
      if (outcome.status === 'FAILED') this.logger.warn(`custom domain ${cd.domainName} (${id}): ${status}: ${outcome.reason}`);
    }
    return { done: true };
  }
}

/**
 * CertificateValidationRecords once an association settled: all SUCCESS when the certificate was issued; otherwise
 * those still pending are FAILED (a record that validated stays SUCCESS).
 */
function settledRecords(records: ValidationRecord[], issued: boolean): ValidationRecord[] {
  return records.map((r) => ({
    ...r,
    Status: issued ? 'SUCCESS' : r.Status === 'SUCCESS' ? 'SUCCESS' : 'FAILED',
  }));
}

function failedVicStatus(status: string): string {
  return status === 'PENDING_DELETION' ? 'FAILED_DELETION' : status === 'PENDING_UPDATE' ? 'FAILED_UPDATE' : 'FAILED_CREATION';
}
