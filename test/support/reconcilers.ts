import type {
  CustomDomainSnapshot,
  Reconcilers,
  ReconcileOutcome,
  ServiceOperationSnapshot,
  VpcIngressConnectionSnapshot,
} from '@apprunner/operation';

/**
 * A scripted stand-in for the Kubernetes reconciler, for tests of the control plane: it succeeds
 * unless a test scripts another outcome for a service name, and records every call it gets.
 */
export class ScriptedReconcilers implements Reconcilers {
  readonly calls: { kind: string; id: string; type?: string; generation?: number }[] = [];
  private readonly scripted = new Map<string, ReconcileOutcome[]>();

  /** The next operations on `serviceName` get these outcomes in order; then SUCCEEDED again. */
  script(serviceName: string, ...outcomes: ReconcileOutcome[]): void {
    this.scripted.set(serviceName, outcomes);
  }

  readonly service = {
    reconcile: async (snapshot: ServiceOperationSnapshot): Promise<ReconcileOutcome> => {
      const { operation, service } = snapshot;
      this.calls.push({ kind: 'operation', id: operation.id, type: operation.type, generation: operation.generation });
      return this.scripted.get(service.serviceName)?.shift() ?? { status: 'SUCCEEDED' };
    },
  };

  readonly vpcIngressConnection = {
    reconcile: async ({ connection }: VpcIngressConnectionSnapshot): Promise<ReconcileOutcome> => {
      this.calls.push({ kind: 'vpc-ingress-connection', id: connection.id });
      return { status: 'SUCCEEDED' };
    },
  };

  readonly customDomain = {
    reconcile: async ({ domain }: CustomDomainSnapshot): Promise<ReconcileOutcome> => {
      this.calls.push({ kind: 'custom-domain', id: domain.id });
      return { status: 'SUCCEEDED' };
    },
  };
}
