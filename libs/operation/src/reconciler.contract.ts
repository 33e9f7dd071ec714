import type { CustomDomain, Operation, Service, Tenant, VpcIngressConnection } from '@apprunner/persistence';

/**
 * The contract between the control plane and whatever makes the desired state real (the Kubernetes
 * reconciler of the worker). Reconcilers are level-triggered: they receive the whole current record,
 * not a diff, and may be called again for the same operation after a crash or a retry.
 */
export type ReconcileOutcome =
  /** The cluster matches the record for this operation. */
  | { status: 'SUCCEEDED' }
  /** Applied, not yet converged (e.g. rollout in progress): call again after `retryAfterMs`. */
  | {
      status: 'IN_PROGRESS';
      retryAfterMs: number;
      message?: string;
      /** Where a custom domain stands meanwhile: CREATING, PENDING_CERTIFICATE_DNS_VALIDATION or BINDING_CERTIFICATE. */
      progress?: 'CREATING' | 'PENDING_CERTIFICATE_DNS_VALIDATION' | 'BINDING_CERTIFICATE';
      /**
       * A custom domain's CertificateValidationRecords as they stand now, complete (the reconciler gets the stored
       * ones with the record and returns them updated: the records the tenant must create, with their statuses).
       * Absent: nothing new, the stored records stay.
       */
      validationRecords?: ValidationRecord[];
    }
  /**
   * Permanent failure (bad spec, image not found, health check never passed): no retry. For an
   * update or deployment of a serving service, the reconciler has put the previous version back;
   * `rollbackFailed` says it could not.
   */
  | { status: 'FAILED'; reason: string; rollbackFailed?: boolean };

/** One of a custom domain's CertificateValidationRecords, as App Runner returns it (every field set). */
export interface ValidationRecord {
  Name: string;
  Type: string;
  Value: string;
  Status: 'PENDING_VALIDATION' | 'SUCCESS' | 'FAILED';
}

const RECORD_STATUSES = new Set(['PENDING_VALIDATION', 'SUCCESS', 'FAILED']);

/** The records held in a custom domain's JSON column; anything not shaped like a record is left out. */
export function parseValidationRecords(json: unknown): ValidationRecord[] {
  if (!Array.isArray(json)) return [];
  return json.flatMap((r: unknown) => {
    const { Name, Type, Value, Status } = (r ?? {}) as Record<string, unknown>;
    if (
      typeof Name !== 'string' ||
      typeof Type !== 'string' ||
      typeof Value !== 'string' ||
      typeof Status !== 'string' ||
      !RECORD_STATUSES.has(Status)
    )
      return [];
    return [{ Name, Type, Value, Status: Status as ValidationRecord['Status'] }];
  });
}

/** Thrown for transient trouble (API server unreachable, 409 conflict): the job is retried with backoff. */
export class TransientReconcileError extends Error {}

export type OperationType =
  'CREATE_SERVICE' | 'UPDATE_SERVICE' | 'START_DEPLOYMENT' | 'PAUSE_SERVICE' | 'RESUME_SERVICE' | 'DELETE_SERVICE';

export interface ServiceOperationRequest {
  operation: Operation & { type: OperationType };
  service: Service;
  tenant: Tenant;
}

export interface ServiceReconciler {
  reconcileOperation(request: ServiceOperationRequest): Promise<ReconcileOutcome>;
}

export interface VpcIngressConnectionReconciler {
  /** Brings the connection to AVAILABLE (create/update) or DELETED (PENDING_DELETION). */
  reconcileVpcIngressConnection(connection: VpcIngressConnection & { service: Service }): Promise<ReconcileOutcome>;
}

export interface CustomDomainReconciler {
  /** Drives certificate issuance and routing; DELETING domains are removed. */
  reconcileCustomDomain(domain: CustomDomain & { service: Service }): Promise<ReconcileOutcome>;
}

export type Reconcilers = ServiceReconciler & VpcIngressConnectionReconciler & CustomDomainReconciler;

export const RECONCILERS = Symbol('RECONCILERS');

/** Called after an operation of a service ended (automatic deployments deferred while it ran start then). */
export interface OperationEndedHook {
  afterOperation(serviceId: string): Promise<void>;
}

export const OPERATION_ENDED = Symbol('OPERATION_ENDED');
