/**
 * Derives the RBAC rules a client needs from the calls it made: one rule per API group and verb set, listing the
 * resources (subresources as `deployments/status`) used with exactly those verbs. Discovery and other
 * non-resource requests are left out (every authenticated user may make them via `system:discovery`).
 * A server-side apply (or any PATCH) that created the object (201) is authorized by kube-apiserver as `create` too.
 */
import type { CallRecord } from './types';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Merged, sorted and deterministic rules covering every resource call in `calls`. */
export function rbacRulesFromCalls(calls: readonly CallRecord[]): PolicyRule[] {
  const verbsByResource = new Map<string, Set<string>>();
  for (const c of calls) {
    if (c.discovery || !c.resource || !c.kind) continue;
    const resource = c.subresource ? `${c.resource}/${c.subresource}` : c.resource;
    const key = `${c.group}\u0000${resource}`;
    const verbs = verbsByResource.get(key) ?? new Set<string>();
    verbs.add(c.verb);
    if (c.verb === 'patch' && c.status === 201) verbs.add('create');
    verbsByResource.set(key, verbs);
  }
  const rules = new Map<string, PolicyRule>();
  for (const [key, verbSet] of verbsByResource) {
    const [group, resource] = key.split('\u0000');
    const verbs = [...verbSet].sort();
    const ruleKey = `${group}\u0000${verbs.join(',')}`;
    const rule = rules.get(ruleKey) ?? { apiGroups: [group], resources: [], verbs };
    rule.resources.push(resource);
    rules.set(ruleKey, rule);
  }
  const out = [...rules.values()];
  for (const r of out) r.resources.sort();
  return out.sort(
    (a, b) =>
      a.apiGroups[0].localeCompare(b.apiGroups[0]) ||
      a.resources[0].localeCompare(b.resources[0]) ||
      a.verbs.join(',').localeCompare(b.verbs.join(',')),
  );
}
