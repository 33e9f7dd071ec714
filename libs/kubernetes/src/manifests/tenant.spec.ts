import { describe, expect, it } from 'vitest';
import { SETTINGS, TENANT } from './__fixtures__/inputs';
import { buildTenantObjects, LABELS, namespaceName, TENANT_OBJECT_NAMES, type KubeObject } from './index';

const byKind = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind) as any[];

describe('buildTenantObjects', () => {
  it('builds Namespace, ResourceQuota, LimitRange and two NetworkPolicies in the tenant namespace', () => {
    const objects = buildTenantObjects(SETTINGS, TENANT);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/apprunner-123456789012',
      `ResourceQuota/${TENANT_OBJECT_NAMES.resourceQuota}`,
      `LimitRange/${TENANT_OBJECT_NAMES.limitRange}`,
      `NetworkPolicy/${TENANT_OBJECT_NAMES.denyIngress}`,
      `NetworkPolicy/${TENANT_OBJECT_NAMES.allowIngressController}`,
    ]);
    for (const o of objects.slice(1)) expect(o.metadata.namespace).toBe('apprunner-123456789012');
    for (const o of objects) {
      expect(o.metadata.labels).toMatchObject({ [LABELS.managedBy]: 'apprunner-k8s', [LABELS.tenant]: '123456789012' });
    }
    expect(objects[0].metadata.labels?.[LABELS.podSecurityEnforce]).toBe('baseline');
  });

  it('derives the quota from the Services quota × the per-service budget', () => {
    const [quota] = byKind(buildTenantObjects(SETTINGS, TENANT), 'ResourceQuota');
    expect(quota.spec.hard).toEqual({
      'count/deployments.apps': '30',
      'count/horizontalpodautoscalers.autoscaling': '30',
      pods: '960',
      'requests.cpu': '120',
      'limits.cpu': '120',
      'requests.memory': '240Gi',
      'limits.memory': '240Gi',
      'services.loadbalancers': '0',
      'services.nodeports': '0',
    });
    const [custom] = byKind(
      buildTenantObjects(
        { ...SETTINGS, tenantQuota: { cpuMilliPerService: 1500, memoryMiPerService: 3072 } },
        { ...TENANT, quotas: { Services: 3 } },
      ),
      'ResourceQuota',
    );
    expect(custom.spec.hard).toMatchObject({ 'count/deployments.apps': '3', pods: '96', 'limits.cpu': '4500m', 'limits.memory': '9Gi' });
    const [none] = byKind(buildTenantObjects(SETTINGS, { ...TENANT, quotas: { Services: 0 } }), 'ResourceQuota');
    expect(none.spec.hard).toMatchObject({ 'count/deployments.apps': '0', pods: '0', 'limits.cpu': '0', 'limits.memory': '0' });
    expect(() => buildTenantObjects(SETTINGS, { ...TENANT, quotas: { Services: -1 } })).toThrow(/Services quota/);
  });

  it('bounds containers by the smallest and largest App Runner pairs', () => {
    const [range] = byKind(buildTenantObjects(SETTINGS, TENANT), 'LimitRange');
    expect(range.spec.limits).toEqual([
      {
        type: 'Container',
        default: { cpu: '4', memory: '12Gi' },
        defaultRequest: { cpu: '4', memory: '12Gi' },
        max: { cpu: '4', memory: '12Gi' },
        min: { cpu: '250m', memory: '512Mi' },
      },
    ]);
  });

  it('denies ingress by default and admits only the ingress controller namespace; egress stays open', () => {
    const [deny, allow] = byKind(buildTenantObjects(SETTINGS, TENANT), 'NetworkPolicy');
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    expect(allow.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }] }],
    });
  });
});

describe('namespaceName', () => {
  it('prefixes the account id and refuses names that are not DNS-1123 labels', () => {
    expect(namespaceName(SETTINGS, '123456789012')).toBe('apprunner-123456789012');
    expect(() => namespaceName({ namespacePrefix: 'AppRunner_' }, '123456789012')).toThrow(/DNS-1123/);
    expect(() => namespaceName({ namespacePrefix: 'x'.repeat(60) }, '123456789012')).toThrow(/DNS-1123/);
  });
});
