import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsApi, ApisApi, CoreApi, PatchStrategy, setHeaderOptions, type V1ConfigMap } from '@kubernetes/client-node';
import { type FakeKube, startFakeKube } from './index';
import { type Clients, connect, deployment, failure } from './spec-support';

describe('kube-fake REST API through @kubernetes/client-node', () => {
  let fake: FakeKube;
  let c: Clients;

  beforeAll(async () => {
    fake = await startFakeKube();
    c = connect(fake);
    await c.core.createNamespace({ body: { metadata: { name: 'crud' } } });
  });
  afterAll(() => fake.close());

  const cm = (
    name: string,
    data: Record<string, string> = { a: '1' },
    labels?: Record<string, string>,
  ): V1ConfigMap & { apiVersion: string; kind: string } => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'crud', ...(labels ? { labels } : {}) },
    data,
  });

  it('serves discovery: API versions, groups and resource lists with subresources', async () => {
    const core = await c.kc.makeApiClient(CoreApi).getAPIVersions();
    expect(core.versions).toEqual(['v1']);
    const groups = await c.kc.makeApiClient(ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name)).toEqual([
      'apps',
      'autoscaling',
      'batch',
      'networking.k8s.io',
      'rbac.authorization.k8s.io',
      'apiextensions.k8s.io',
      'cert-manager.io',
      'acme.cert-manager.io',
    ]);
    expect((await c.kc.makeApiClient(AppsApi).getAPIGroup()).preferredVersion).toEqual({ groupVersion: 'apps/v1', version: 'v1' });
    const apps = await c.apps.getAPIResources();
    expect(apps.groupVersion).toBe('apps/v1');
    expect(apps.resources.find((r) => r.name === 'deployments')).toMatchObject({
      singularName: 'deployment',
      namespaced: true,
      kind: 'Deployment',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['deploy'],
    });
    expect(apps.resources.filter((r) => r.name.startsWith('deployments/')).map((r) => [r.name, r.kind, r.verbs.join(',')])).toEqual([
      ['deployments/status', 'Deployment', 'get,patch,update'],
      ['deployments/scale', 'Scale', 'get,patch,update'],
    ]);
    const coreResources = await c.core.getAPIResources();
    expect(coreResources.resources.find((r) => r.name === 'namespaces')).toMatchObject({ namespaced: false, kind: 'Namespace' });
    const res = await fetch(`${fake.url}/apis/cert-manager.io/v1`);
    expect(((await res.json()) as { resources: { name: string }[] }).resources.map((r) => r.name)).toEqual([
      'certificates',
      'certificates/status',
      'certificaterequests',
      'certificaterequests/status',
      'issuers',
      'issuers/status',
      'clusterissuers',
      'clusterissuers/status',
    ]);
    const acme = await fetch(`${fake.url}/apis/acme.cert-manager.io/v1`);
    expect(((await acme.json()) as { resources: { name: string }[] }).resources.map((r) => r.name)).toEqual([
      'orders',
      'orders/status',
      'challenges',
      'challenges/status',
    ]);
  });

  it('creates, reads, lists, replaces and deletes, with server-populated metadata', async () => {
    const created = await c.objects.create(cm('one'));
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.generation).toBe(1);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    const rv = Number(created.metadata?.resourceVersion);
    const read = await c.core.readNamespacedConfigMap({ name: 'one', namespace: 'crud' });
    expect(read.data).toEqual({ a: '1' });
    expect(read.metadata?.resourceVersion).toBe(String(rv));

    const replaced = await c.objects.replace({ ...read, apiVersion: 'v1', kind: 'ConfigMap', data: { a: '2' } });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(rv);
    expect(replaced.metadata?.generation).toBe(2);
    expect(replaced.metadata?.uid).toBe(created.metadata?.uid);

    const list = await c.objects.list('v1', 'ConfigMap', 'crud');
    expect(list).toMatchObject({ kind: 'ConfigMapList', apiVersion: 'v1' });
    expect(list.metadata?.resourceVersion).toBe(fake.store.resourceVersion());
    expect(list.items.map((i) => [i.kind, i.apiVersion, i.metadata?.name])).toEqual([['ConfigMap', 'v1', 'one']]);

    const status = await c.objects.delete(cm('one'));
    expect(status).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'one', kind: 'configmaps', uid: created.metadata?.uid },
    });
    expect(fake.store.get('v1', 'ConfigMap', 'crud', 'one')).toBeUndefined();
  });

  it('answers errors with Status objects: NotFound, AlreadyExists, missing namespace, Invalid', async () => {
    const missing = await failure(c.core.readNamespacedConfigMap({ name: 'ghost', namespace: 'crud' }));
    expect(missing).toEqual({
      code: 404,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'configmaps "ghost" not found',
        reason: 'NotFound',
        details: { name: 'ghost', kind: 'configmaps' },
        code: 404,
      },
    });
    expect((await failure(c.objects.delete(cm('ghost')))).code).toBe(404);

    await c.objects.create(cm('dup'));
    const dup = await failure(c.objects.create(cm('dup')));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({
      reason: 'AlreadyExists',
      message: 'configmaps "dup" already exists',
      details: { name: 'dup', kind: 'configmaps' },
    });

    const noNs = await failure(c.objects.create({ ...cm('x'), metadata: { name: 'x', namespace: 'nowhere' } }));
    expect(noNs.code).toBe(404);
    expect(noNs.body).toMatchObject({
      reason: 'NotFound',
      message: 'namespaces "nowhere" not found',
      details: { name: 'nowhere', kind: 'namespaces' },
    });

    const bad = await failure(c.objects.create(cm('Bad_Name')));
    expect(bad.code).toBe(422);
    expect(bad.body).toMatchObject({ reason: 'Invalid', details: { name: 'Bad_Name', kind: 'ConfigMap' } });
    expect((bad.body.details as { causes: unknown[] }).causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: expect.stringMatching(/^Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/),
      },
    ]);
  });

  it('supports generateName and dryRun=All', async () => {
    const generated = await c.core.createNamespacedConfigMap({
      namespace: 'crud',
      body: { metadata: { generateName: 'gen-' }, data: { k: 'v' } },
    });
    expect(generated.metadata?.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const before = fake.store.resourceVersion();
    const dry = await c.objects.create(cm('dry-one'), undefined, 'All');
    expect(dry.metadata?.name).toBe('dry-one');
    expect(fake.store.get('v1', 'ConfigMap', 'crud', 'dry-one')).toBeUndefined();
    expect(fake.store.resourceVersion()).toBe(before);
  });

  it('bumps generation only for spec changes, and keeps status out of main-resource writes', async () => {
    await c.objects.create(deployment('gen', 'crud'));
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const relabeled = await c.apps.patchNamespacedDeployment(
      { name: 'gen', namespace: 'crud', body: { metadata: { labels: { tier: 'web' } } } },
      merge,
    );
    expect(relabeled.metadata?.generation).toBe(1);
    const rescaled = await c.apps.patchNamespacedDeployment(
      { name: 'gen', namespace: 'crud', body: { spec: { replicas: 3 }, status: { replicas: 99 } } },
      merge,
    );
    expect(rescaled.metadata?.generation).toBe(2);
    expect(rescaled.status).toBeUndefined();

    const live = await c.apps.readNamespacedDeployment({ name: 'gen', namespace: 'crud' });
    const statusWrite = await c.apps.replaceNamespacedDeploymentStatus({
      name: 'gen',
      namespace: 'crud',
      body: { ...live, spec: { ...live.spec!, replicas: 7 }, status: { observedGeneration: 2, replicas: 3 } },
    });
    expect(statusWrite.status).toEqual({ observedGeneration: 2, replicas: 3 });
    expect(statusWrite.spec?.replicas).toBe(3);
    expect(statusWrite.metadata?.generation).toBe(2);
    const statusManager = statusWrite.metadata?.managedFields?.find((m) => m.subresource === 'status');
    expect(statusManager).toMatchObject({
      operation: 'Update',
      fieldsV1: { 'f:status': { 'f:observedGeneration': {}, 'f:replicas': {} } },
    });
  });

  it('rejects stale resourceVersions on update and on patches that carry one with 409 Conflict', async () => {
    const first = await c.objects.create(cm('rv'));
    await c.objects.replace({ ...first, data: { a: 'newer' } });
    const stale = await failure(c.objects.replace({ ...first, data: { a: 'stale' } }));
    expect(stale).toEqual({
      code: 409,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'Operation cannot be fulfilled on configmaps "rv": the object has been modified; please apply your changes to the latest version and try again',
        reason: 'Conflict',
        details: { name: 'rv', kind: 'configmaps' },
        code: 409,
      },
    });
    const patch = await failure(
      c.core.patchNamespacedConfigMap(
        { name: 'rv', namespace: 'crud', body: { metadata: { resourceVersion: first.metadata?.resourceVersion }, data: { a: 'x' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(patch.code).toBe(409);
    expect(fake.store.get('v1', 'ConfigMap', 'crud', 'rv')?.data).toEqual({ a: 'newer' });
  });

  it('applies JSON merge, JSON and strategic merge patches', async () => {
    await c.objects.create(deployment('patchy', 'crud'));
    const merged = await c.apps.patchNamespacedDeployment(
      { name: 'patchy', namespace: 'crud', body: { metadata: { labels: { app: null, team: 'a' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.labels).toEqual({ team: 'a' });

    const jsonPatched = await c.apps.patchNamespacedDeployment({
      name: 'patchy',
      namespace: 'crud',
      body: [
        { op: 'test', path: '/spec/replicas', value: 2 },
        { op: 'replace', path: '/spec/replicas', value: 4 },
        { op: 'add', path: '/metadata/annotations', value: { 'x/y': 'z' } },
      ],
    });
    expect(jsonPatched.spec?.replicas).toBe(4);
    expect(jsonPatched.metadata?.annotations).toEqual({ 'x/y': 'z' });
    const failedTest = await failure(
      c.apps.patchNamespacedDeployment({ name: 'patchy', namespace: 'crud', body: [{ op: 'test', path: '/spec/replicas', value: 1 }] }),
    );
    expect(failedTest.code).toBe(422);

    const smp = await c.apps.patchNamespacedDeployment(
      {
        name: 'patchy',
        namespace: 'crud',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'sidecar', image: 'envoy:1' },
                  { name: 'app', env: [{ name: 'A', value: '1' }] },
                ],
              },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(smp.spec?.template.spec?.containers.map((x) => [x.name, x.image, x.env?.[0]?.name])).toEqual([
      ['app', 'nginx:1.27', 'A'],
      ['sidecar', 'envoy:1', undefined],
    ]);
  });

  it('filters lists by label and field selectors and paginates with limit/continue', async () => {
    await c.core.createNamespace({ body: { metadata: { name: 'sel' } } });
    const mk = (name: string, labels: Record<string, string>) =>
      c.objects.create({ ...cm(name, {}, labels), metadata: { name, namespace: 'sel', labels } });
    await mk('a', { app: 'web', tier: 'front' });
    await mk('b', { app: 'web', tier: 'back' });
    await mk('c', { app: 'db' });
    await mk('d', {});
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await c.core.listNamespacedConfigMap({ namespace: 'sel', labelSelector, fieldSelector })).items.map((i) => i.metadata?.name);
    expect(await names('app=web')).toEqual(['a', 'b']);
    expect(await names('app==web,tier!=front')).toEqual(['b']);
    expect(await names('tier')).toEqual(['a', 'b']);
    expect(await names('!app')).toEqual(['d']);
    expect(await names('app in (db, web),tier notin (back)')).toEqual(['a', 'c']);
    expect(await names(undefined, 'metadata.name=c')).toEqual(['c']);
    expect(await names(undefined, 'metadata.namespace=sel,metadata.name!=a')).toEqual(['b', 'c', 'd']);
    expect((await failure(names('app in (web'))).code).toBe(400);

    const page1 = await c.objects.list('v1', 'ConfigMap', 'sel', undefined, undefined, undefined, undefined, undefined, 3);
    expect(page1.items.map((i) => i.metadata?.name)).toEqual(['a', 'b', 'c']);
    expect(page1.metadata?._continue).toBeTruthy();
    const page2 = await c.objects.list(
      'v1',
      'ConfigMap',
      'sel',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      3,
      page1.metadata?._continue,
    );
    expect(page2.items.map((i) => i.metadata?.name)).toEqual(['d']);
    expect(page2.metadata?._continue).toBeUndefined();
    const all = await c.core.listConfigMapForAllNamespaces({ labelSelector: 'app=web' });
    expect(all.items.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`)).toEqual(['sel/a', 'sel/b']);
  });

  it('serves the scale subresource', async () => {
    await c.objects.create(deployment('scaled', 'crud'));
    const scale = await c.apps.readNamespacedDeploymentScale({ name: 'scaled', namespace: 'crud' });
    expect(scale).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 2 },
      status: { replicas: 0, selector: 'app=scaled' },
    });
    await c.apps.replaceNamespacedDeploymentScale({
      name: 'scaled',
      namespace: 'crud',
      body: { metadata: { name: 'scaled', namespace: 'crud' }, spec: { replicas: 5 } },
    });
    const after = fake.store.get('apps/v1', 'Deployment', 'crud', 'scaled')!;
    expect((after.spec as { replicas: number }).replicas).toBe(5);
    expect(after.metadata.generation).toBe(2);
  });
});
