import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { LABELS } from '../manifests/labels';
import type { KubeObject } from '../manifests/types';

/** A pod of the simulated cluster: where it lives, the labels policies select it by, and its one IP. */
export interface SimulatedPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ip: string;
}

export interface SimulatedNamespace {
  name: string;
  /** `kubernetes.io/metadata.name` is added as Kubernetes does; no need to list it. */
  labels?: Record<string, string>;
}

/** Just what NetworkPolicy semantics need: namespaces with labels, pods with labels and IPs. */
export interface SimulatedCluster {
  namespaces: SimulatedNamespace[];
  pods: SimulatedPod[];
}

export type LabelSelector = NonNullable<NonNullable<INetworkPolicy['spec']>['podSelector']>;

/**
 * Kubernetes label selector semantics: every matchLabels pair and every expression must hold; `{}` selects
 * everything. `NotIn` also matches when the key is absent, as in Kubernetes.
 */
export function labelSelectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    switch (operator) {
      case 'In':
        if (!has || !values.includes(labels[key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`Label selector operator ${JSON.stringify(operator)} is not one of In, NotIn, Exists, DoesNotExist.`);
    }
  }
  return true;
}

/** The namespace as the simulation sees it, from a builder's Namespace object (its labels as applied). */
export function namespaceFromObject(namespace: KubeObject): SimulatedNamespace {
  if (namespace.kind !== 'Namespace') throw new Error(`Expected a Namespace, got ${namespace.kind}/${namespace.metadata.name}.`);
  return { name: namespace.metadata.name, labels: { ...namespace.metadata.labels } };
}

/** A pod the Deployment would create: its namespace and pod template labels, with the given name and IP. */
export function podFromDeployment(deployment: KubeObject, name: string, ip: string): SimulatedPod {
  if (deployment.kind !== 'Deployment') throw new Error(`Expected a Deployment, got ${deployment.kind}/${deployment.metadata.name}.`);
  const { namespace } = deployment.metadata;
  if (!namespace) throw new Error(`Deployment ${deployment.metadata.name} has no namespace.`);
  const labels = (deployment as unknown as IDeployment).spec?.template.metadata?.labels;
  if (!labels) throw new Error(`Deployment ${namespace}/${deployment.metadata.name} has no pod template labels.`);
  return { namespace, name, labels: { ...labels }, ip };
}

/** Namespace labels as the API server stores them: every namespace carries its name as a label. */
export function namespaceLabels(namespace: SimulatedNamespace): Record<string, string> {
  return { ...namespace.labels, [LABELS.namespaceName]: namespace.name };
}
