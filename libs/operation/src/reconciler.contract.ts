import type { ImageConfiguration } from '@aws-sdk/client-apprunner';
import type { ServiceSpec, ValidationRecord } from '@apprunner/api-model';
import type { OperationRecord, SecurityGroupRuleView, ServiceRecord, TenantRecord } from '@apprunner/persistence';

/**
 * The contract between the control plane and whatever makes the desired state real (the Kubernetes reconcilers of
 * the worker). The operation runner loads a snapshot of the records a reconciler needs, the reconciler compares it
 * with the cluster and returns an outcome, and the runner writes the outcome: reconcilers never touch the database.
 * They are level-triggered: they receive the whole current state, not a diff, and may be called again for the same
 * operation after a crash or a retry.
 */
export type ReconcileOutcome =
  /** The cluster matches the record for this operation; a service's deployment says what runs now. */
  | { status: 'SUCCEEDED'; deployed?: DeployableSource }
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

/** A custom domain's CertificateValidationRecords: App Runner's shape, parsed where the column is read. */
export { parseValidationRecords, type ValidationRecord } from '@apprunner/api-model';

/** Thrown for transient trouble (API server unreachable, 409 conflict): the job is retried with backoff. */
export class TransientReconcileError extends Error {}

export type OperationType =
  'CREATE_SERVICE' | 'UPDATE_SERVICE' | 'START_DEPLOYMENT' | 'PAUSE_SERVICE' | 'RESUME_SERVICE' | 'DELETE_SERVICE';

/** What a deployment of a service runs: an image and, for code-based services, what its build derived. */
export interface DeployableSource {
  image: string;
  imageConfiguration?: ImageConfiguration;
  commit?: string;
}
/** Where the build of a deploying operation stands. */
export type SourceOutcome = { ready: DeployableSource } | { inProgress: string } | { error: string };

/** A tenant, as reconcilers see it. */
export interface TenantSnapshot {
  id: string;
  /** 12-digit account id. */
  accountId: string;
  name: string;
  /** Effective quotas (overrides applied). */
  quotas: { Services: number };
}

/** A service, as reconcilers see it: what its record says. */
export interface ReconciledService {
  id: string;
  serviceId: string;
  serviceName: string;
  arn: string;
  urlHost: string;
  generation: number;
  status: string;
  spec: ServiceSpec;
  /** What its last successful deployment ran (pause, resume, resync and rollbacks run it again). */
  deployed?: DeployableSource;
}

/** A VPC connector and the networks the platform admin registered under the ids it names (unregistered ones absent). */
export interface VpcConnectorSnapshot {
  name: string;
  subnets: string[];
  securityGroups: string[];
  registeredSubnets: { id: string; cidrs: string[] }[];
  registeredSecurityGroups: { id: string; egress: SecurityGroupRuleView[] }[];
}

/** Everything a service's objects are built from, besides what is read from the cluster (the tenant's Secrets). */
export interface ServiceSnapshot {
  tenant: TenantSnapshot;
  service: ReconciledService;
  autoScaling: { arn: string; minSize: number; maxSize: number; maxConcurrency: number };
  /** The service's VPC connector, when it has one. */
  vpcConnector?: VpcConnectorSnapshot;
  /** TraceConfiguration.Vendor of the service's observability configuration, when it has one. */
  traceVendor?: string;
}

/** A service operation to carry out. */
export interface ServiceOperationSnapshot extends ServiceSnapshot {
  operation: {
    id: string;
    type: OperationType;
    fromStatus: string;
    generation: number;
    /** The image this operation deploys when it differs from the spec's (a new digest of the tracked tag). */
    image?: string;
    /** The spec an update or deployment that fails goes back to. */
    rollbackSpec?: ServiceSpec;
  };
  /**
   * Deploying operations of code-based services: where the operation's build stands (started or taken over by the
   * runner's loading). Absent: this worker has no build pipeline.
   */
  build?: SourceOutcome;
}

/** A custom domain to bring to ACTIVE, or to remove (DELETING). */
export interface CustomDomainSnapshot {
  tenant: Pick<TenantSnapshot, 'accountId'>;
  service: Pick<ReconciledService, 'serviceId' | 'arn'>;
  domain: {
    id: string;
    domainName: string;
    enableWWWSubdomain: boolean;
    status: string;
    /** The stored CertificateValidationRecords. */
    certificateValidationRecords: ValidationRecord[];
  };
}

/** A VPC ingress connection to bring to AVAILABLE, or to remove (PENDING_DELETION). */
export interface VpcIngressConnectionSnapshot {
  tenant: Pick<TenantSnapshot, 'accountId'>;
  service: Pick<ReconciledService, 'serviceId' | 'arn'>;
  connection: { id: string; status: string; domainName: string; vpcId: string };
  /** The private network its VpcId names, when the platform admin registered it. */
  network?: { ingressClassName: string };
}

/** Deploys, pauses, resumes and deletes services. */
export interface ServiceReconcilerPort {
  reconcile(snapshot: ServiceOperationSnapshot): Promise<ReconcileOutcome>;
}

/** Drives certificate issuance and routing; DELETING domains are removed. */
export interface CustomDomainReconcilerPort {
  reconcile(snapshot: CustomDomainSnapshot): Promise<ReconcileOutcome>;
}

/** Brings the connection to AVAILABLE (create/update) or DELETED (PENDING_DELETION). */
export interface VpcIngressConnectionReconcilerPort {
  reconcile(snapshot: VpcIngressConnectionSnapshot): Promise<ReconcileOutcome>;
}

/** The reconcilers the runner drives, one per resource (the RECONCILERS provider). */
export interface Reconcilers {
  service: ServiceReconcilerPort;
  customDomain: CustomDomainReconcilerPort;
  vpcIngressConnection: VpcIngressConnectionReconcilerPort;
}

export const RECONCILERS = Symbol('RECONCILERS');

/** The build pipeline, as the runner asks it: starts, follows or takes over the build of a deploying operation. */
export interface OperationBuilds {
  forOperation(operation: OperationRecord, service: ServiceRecord, tenant: TenantRecord): Promise<SourceOutcome>;
}

export const OPERATION_BUILDS = Symbol('OPERATION_BUILDS');

/** Called after an operation of a service ended (automatic deployments deferred while it ran start then). */
export interface OperationEndedHook {
  afterOperation(serviceId: string): Promise<void>;
}

export const OPERATION_ENDED = Symbol('OPERATION_ENDED');
