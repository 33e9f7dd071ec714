import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubernetesObject, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { type FakeKube, startFakeKube } from './index';
import { type Clients, connect, deployment, failure } from './spec-support';

type Obj = KubernetesObject & Record<string, unknown>;

describe('deletion: garbage collection, propagation, namespaces, finalizers', () => {
  let fake: FakeKube;
  let c: Clients;
  const ns = 'life';

  beforeAll(async () => {
    fake = await startFakeKube();
    c = connect(fake);
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
  });
  afterAll(() => fake.close());

  const owned = (kind: string, apiVersion: string, name: string, owners: KubernetesObject[], extra: Record<string, unknown> = {}): Obj => ({
    apiVersion,
    kind,
    metadata: {
      name,
      namespace: ns,
      ownerReferences: owners.map((o) => ({
        apiVersion: o.apiVersion!,
        kind: o.kind!,
        name: o.metadata!.name!,
        uid: o.metadata!.uid!,
        controller: false,
      })),
    },
    ...extra,
  });
  const exists = (apiVersion: string, kind: string, name: string, namespace: string | undefined = ns) =>
    fake.store.get(apiVersion, kind, namespace, name) !== undefined;

  it('collects dependents of a deleted owner recursively (background), and keeps those with another live owner', async () => {
    const dep = await c.objects.create(deployment('gc-web', ns));
    const other = await c.objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gc-other', namespace: ns } });
    const svc = await c.objects.create(owned('Service', 'v1', 'gc-svc', [dep], { spec: { ports: [{ port: 80 }] } }));
    await c.objects.create(owned('ConfigMap', 'v1', 'gc-grandchild', [svc]));
    await c.objects.create(owned('Secret', 'v1', 'gc-shared', [dep, other]));
    await fake.simulator.step(); // ReplicaSet and Pods owned by the Deployment

    expect(fake.store.list('apps/v1', 'ReplicaSet', ns).map((r) => r.metadata.name)).toHaveLength(1);
    expect(fake.store.list('v1', 'Pod', ns)).toHaveLength(2);
    await c.objects.delete(deployment('gc-web', ns), undefined, undefined, undefined, undefined, 'Background');
    expect(exists('apps/v1', 'Deployment', 'gc-web')).toBe(false);
    expect(exists('v1', 'Service', 'gc-svc')).toBe(false);
    expect(exists('v1', 'ConfigMap', 'gc-grandchild')).toBe(false);
    expect(fake.store.list('apps/v1', 'ReplicaSet', ns)).toEqual([]);
    expect(fake.store.list('v1', 'Pod', ns)).toEqual([]);
    const shared = fake.store.get('v1', 'Secret', ns, 'gc-shared');
    expect(shared?.metadata.ownerReferences?.map((r) => r.name)).toEqual(['gc-other']);
  });

  it('orphans dependents with propagationPolicy=Orphan and deletes them first with Foreground', async () => {
    const owner = await c.objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'parent', namespace: ns } });
    await c.objects.create(owned('ConfigMap', 'v1', 'orphan', [owner]));
    await c.core.deleteNamespacedConfigMap({ name: 'parent', namespace: ns, body: { propagationPolicy: 'Orphan' } });
    expect(fake.store.get('v1', 'ConfigMap', ns, 'orphan')?.metadata.ownerReferences).toBeUndefined();

    const fg = await c.objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fg-parent', namespace: ns } });
    await c.objects.create(owned('ConfigMap', 'v1', 'fg-child', [fg]));
    const events: string[] = [];
    const stop = fake.store.observe(
      (e) => e.kind === 'ConfigMap' && e.namespace === ns && events.push(`${e.type} ${e.object.metadata.name}`),
    );
    await c.objects.delete(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fg-parent', namespace: ns } },
      undefined,
      undefined,
      undefined,
      undefined,
      'Foreground',
    );
    stop();
    expect(events).toEqual(['MODIFIED fg-parent', 'DELETED fg-child', 'DELETED fg-parent']);
  });

  it('keeps an object with finalizers until an update clears them', async () => {
    await c.objects.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'held', namespace: ns, finalizers: ['example.com/cleanup'] },
      data: { a: '1' },
    });
    const marked = (await c.objects.delete({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'held', namespace: ns },
    })) as unknown as Obj;
    expect(marked.kind).toBe('ConfigMap');
    const live = await c.core.readNamespacedConfigMap({ name: 'held', namespace: ns });
    expect(live.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect(live.metadata?.finalizers).toEqual(['example.com/cleanup']);
    await c.core.patchNamespacedConfigMap(
      { name: 'held', namespace: ns, body: { metadata: { finalizers: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect((await failure(c.core.readNamespacedConfigMap({ name: 'held', namespace: ns }))).code).toBe(404);
  });

  it('checks delete preconditions', async () => {
    await c.objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pre', namespace: ns } });
    const err = await failure(
      c.core.deleteNamespacedConfigMap({ name: 'pre', namespace: ns, body: { preconditions: { uid: 'not-the-uid' } } }),
    );
    expect(err.code).toBe(409);
    expect(err.body.message).toMatch(
      /^Operation cannot be fulfilled on configmaps "pre": Precondition failed: UID in precondition: not-the-uid, UID in object meta: /,
    );
  });

  it('deletes everything in a namespace with it; a finalizer inside keeps the namespace Terminating', async () => {
    await c.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await c.objects.create({ ...deployment('d', 'doomed') });
    await c.objects.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'doomed' }, stringData: { k: 'v' } });
    await c.objects.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'sticky', namespace: 'doomed', finalizers: ['example.com/x'] },
    });
    await c.core.deleteNamespace({ name: 'doomed' });
    const ns1 = await c.core.readNamespace({ name: 'doomed' });
    expect(ns1.status?.phase).toBe('Terminating');
    expect(fake.store.list('apps/v1', 'Deployment', 'doomed')).toEqual([]);
    expect(fake.store.list('v1', 'Secret', 'doomed')).toEqual([]);
    const refused = await failure(
      c.objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: 'doomed' } }),
    );
    expect(refused.code).toBe(403);
    await c.core.patchNamespacedConfigMap({ name: 'sticky', namespace: 'doomed', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    expect((await failure(c.core.readNamespace({ name: 'doomed' }))).code).toBe(404);
  });
});
