import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatchStrategy } from '@kubernetes/client-node';
import { type FakeKube, rbacRulesFromCalls, startFakeKube } from './index';
import { type Clients, connect, deployment, failure } from './spec-support';

describe('call records and RBAC derivation', () => {
  let fake: FakeKube;
  let c: Clients;

  beforeAll(async () => {
    fake = await startFakeKube();
    c = connect(fake);
  });
  afterAll(() => fake.close());

  it('records every request with verb, resource, kind, scope, user, patch type, field manager, dry run and status', async () => {
    fake.resetCalls();
    await c.core.createNamespace({ body: { metadata: { name: 'rec' } } });
    await c.objects.patch(deployment('web', 'rec'), undefined, 'All', 'ctl', true, PatchStrategy.ServerSideApply);
    await failure(c.apps.readNamespacedDeployment({ name: 'web', namespace: 'rec' }));
    await c.apps.listDeploymentForAllNamespaces();
    const calls = fake.calls.map(({ at, ...rest }) => {
      expect(typeof at).toBe('number');
      return rest;
    });
    expect(calls).toEqual([
      {
        verb: 'create',
        method: 'POST',
        path: '/api/v1/namespaces',
        apiVersion: 'v1',
        group: '',
        resource: 'namespaces',
        kind: 'Namespace',
        user: 'kube-fake',
        status: 201,
      },
      {
        verb: 'get',
        method: 'GET',
        path: '/apis/apps/v1',
        apiVersion: 'apps/v1',
        group: 'apps',
        resource: '',
        kind: '',
        user: 'kube-fake',
        discovery: true,
        status: 200,
      },
      {
        verb: 'patch',
        method: 'PATCH',
        path: '/apis/apps/v1/namespaces/rec/deployments/web',
        apiVersion: 'apps/v1',
        group: 'apps',
        resource: 'deployments',
        kind: 'Deployment',
        user: 'kube-fake',
        namespace: 'rec',
        name: 'web',
        patchType: 'application/apply-patch+yaml',
        fieldManager: 'ctl',
        dryRun: true,
        status: 201,
      },
      {
        verb: 'get',
        method: 'GET',
        path: '/apis/apps/v1/namespaces/rec/deployments/web',
        apiVersion: 'apps/v1',
        group: 'apps',
        resource: 'deployments',
        kind: 'Deployment',
        namespace: 'rec',
        name: 'web',
        user: 'kube-fake',
        status: 404,
      },
      {
        verb: 'list',
        method: 'GET',
        path: '/apis/apps/v1/deployments',
        apiVersion: 'apps/v1',
        group: 'apps',
        resource: 'deployments',
        kind: 'Deployment',
        user: 'kube-fake',
        status: 200,
      },
    ]);
    // a request without a token is anonymous, as RBAC sees it
    await fetch(`${fake.url}/api/v1/namespaces`);
    expect(fake.calls.at(-1)).toMatchObject({ verb: 'list', resource: 'namespaces', user: 'system:anonymous' });
    fake.resetCalls();
    expect(fake.calls).toEqual([]);
  });

  it('derives merged, sorted rules from the calls a controller made', async () => {
    fake.resetCalls();
    await c.core.createNamespace({ body: { metadata: { name: 'rbac' } } });
    await c.objects.patch(deployment('app', 'rbac'), undefined, undefined, 'ctl', true, PatchStrategy.ServerSideApply);
    await c.objects.patch(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app', namespace: 'rbac' }, spec: { ports: [{ port: 80 }] } },
      undefined,
      undefined,
      'ctl',
      true,
      PatchStrategy.ServerSideApply,
    );
    await c.objects.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app', namespace: 'rbac' } });
    await c.objects.list('apps/v1', 'Deployment', 'rbac');
    await c.apps.readNamespacedDeploymentStatus({ name: 'app', namespace: 'rbac' });
    await c.core.listNamespacedService({ namespace: 'rbac' });
    await c.objects.delete({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'app', namespace: 'rbac' } });
    await c.core.readNamespace({ name: 'rbac' });
    expect(rbacRulesFromCalls(fake.calls)).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['create', 'get'] },
      // created by server-side apply (201): kube-apiserver authorizes those as create as well as patch
      { apiGroups: [''], resources: ['services'], verbs: ['create', 'delete', 'list', 'patch'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'get', 'list', 'patch'] },
      { apiGroups: ['apps'], resources: ['deployments/status'], verbs: ['get'] },
    ]);
    // deterministic: the same calls in another order give the same rules
    expect(rbacRulesFromCalls([...fake.calls].reverse())).toEqual(rbacRulesFromCalls(fake.calls));
  });

  it('merges resources that need the same verbs into one rule', () => {
    const call = (group: string, resource: string, verb: 'get' | 'list') => ({
      verb,
      method: 'GET',
      path: '',
      apiVersion: '',
      group,
      resource,
      kind: 'X',
      user: 'u',
      status: 200,
      at: 0,
    });
    expect(
      rbacRulesFromCalls([call('', 'secrets', 'get'), call('', 'configmaps', 'get'), call('', 'pods', 'list'), call('', 'pods', 'get')]),
    ).toEqual([
      { apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
    ]);
  });
});
