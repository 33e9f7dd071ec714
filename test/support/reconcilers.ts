import type { Reconcilers, ReconcileOutcome, ServiceOperationRequest } from '@apprunner/operation';

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

  async reconcileOperation(request: ServiceOperationRequest): Promise<ReconcileOutcome> {
    this.calls.push({
      kind: 'operation',
      id: request.operation.id,
      type: request.operation.type,
      generation: request.operation.generation,
    });
    return this.scripted.get(request.service.serviceName)?.shift() ?? { status: 'SUCCEEDED' };
  }

  async reconcileVpcIngressConnection(connection: { id: string }): Promise<ReconcileOutcome> {
    this.calls.push({ kind: 'vpc-ingress-connection', id: connection.id });
    return { status: 'SUCCEEDED' };
  }

  async reconcileCustomDomain(domain: { id: string }): Promise<ReconcileOutcome> {
    this.calls.push({ kind: 'custom-domain', id: domain.id });
    return { status: 'SUCCEEDED' };
  }
}
