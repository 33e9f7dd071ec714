import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInformer, type V1ConfigMap, Watch } from '@kubernetes/client-node';
import { type FakeKube, startFakeKube } from './index';
import { type Clients, connect, until } from './spec-support';

interface Seen {
  type: string;
  name: string;
  data?: Record<string, string>;
  rv?: string;
}

describe('watch', () => {
  let fake: FakeKube;
  let c: Clients;
  const ns = 'watched';

  beforeAll(async () => {
    fake = await startFakeKube({ watchHistory: 50 });
    c = connect(fake);
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
  });
  afterAll(() => fake.close());

  const cm = (name: string, data: Record<string, string>, labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data });

  async function collect(path: string, query: Record<string, string | number | boolean | undefined>): Promise<{ seen: Seen[]; stop: () => void; done: Promise<unknown> }> {
    const seen: Seen[] = [];
    let resolveDone: (e: unknown) => void = () => undefined;
    const done = new Promise((r) => (resolveDone = r));
    const controller = await new Watch(c.kc).watch(
      path,
      query,
      (type, obj: { metadata?: { name?: string; resourceVersion?: string }; data?: Record<string, string>; code?: number; reason?: string }) =>
        seen.push({ type, name: obj.metadata?.name ?? `${obj.code}/${obj.reason}`, data: obj.data, rv: obj.metadata?.resourceVersion }),
      (err) => resolveDone(err),
    );
    return { seen, stop: () => controller.abort(), done };
  }

  it('streams ADDED, MODIFIED and DELETED after the listed resourceVersion, replaying history', async () => {
    const list = await c.core.listNamespacedConfigMap({ namespace: ns });
    const from = list.metadata?.resourceVersion;
    await c.objects.create(cm('w1', { v: '1' }));
    await c.objects.patch(cm('w1', { v: '2' }), undefined, undefined, 'm', true, 'application/apply-patch+yaml');
    // started after the writes: history replay delivers them
    const w = await collect(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: from });
    await c.core.deleteNamespacedConfigMap({ name: 'w1', namespace: ns });
    await until(() => w.seen.length === 3);
    w.stop();
    expect(w.seen.map((e) => [e.type, e.name, e.data?.v])).toEqual([
      ['ADDED', 'w1', '1'],
      ['MODIFIED', 'w1', '2'],
      ['DELETED', 'w1', '2'],
    ]);
    const rvs = w.seen.map((e) => Number(e.rv));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    await until(() => fake.store.watcherCount() === 0);
  });

  it('sends the current objects as ADDED when no resourceVersion is given, and applies label selectors to transitions', async () => {
    await c.objects.create(cm('sel-a', { v: '1' }, { pick: 'yes' }));
    await c.objects.create(cm('sel-b', { v: '1' }, { pick: 'no' }));
    const w = await collect(`/api/v1/namespaces/${ns}/configmaps`, { labelSelector: 'pick=yes' });
    await until(() => w.seen.length === 1);
    await c.objects.patch(cm('sel-b', { v: '1' }, { pick: 'yes' }), undefined, undefined, 'm', true, 'application/apply-patch+yaml');
    await c.objects.patch(cm('sel-a', { v: '1' }, { pick: 'no' }), undefined, undefined, 'm', true, 'application/apply-patch+yaml');
    await until(() => w.seen.length === 3);
    w.stop();
    expect(w.seen.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED sel-a', 'ADDED sel-b', 'DELETED sel-a']);

    // one named object: GET .../configmaps/<name>?watch=true
    const one = await collect(`/api/v1/namespaces/${ns}/configmaps/sel-b`, {});
    await c.objects.patch(cm('sel-a', { v: '2' }), undefined, undefined, 'm', true, 'application/apply-patch+yaml');
    await c.objects.patch(cm('sel-b', { v: '2' }), undefined, undefined, 'm', true, 'application/apply-patch+yaml');
    await until(() => one.seen.length === 2);
    one.stop();
    expect(one.seen.map((e) => `${e.type} ${e.name} ${e.data?.v}`)).toEqual(['ADDED sel-b 1', 'MODIFIED sel-b 2']);
  });

  it('answers a resourceVersion older than the history with one ERROR event: Status 410 Expired', async () => {
    for (let i = 0; i < 60; i++) fake.store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'churn', namespace: ns }, data: { i: String(i) } });
    const w = await collect(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: '1' });
    expect(await w.done).toBeNull();
    expect(w.seen).toEqual([{ type: 'ERROR', name: '410/Expired', data: undefined, rv: undefined }]);
    const raw = await fetch(`${fake.url}/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=1`);
    expect(JSON.parse((await raw.text()).trim())).toEqual({
      type: 'ERROR',
      object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: expect.stringMatching(/^too old resource version: 1 \(\d+\)$/), reason: 'Expired', code: 410 },
    });
  });

  it('ends the stream after timeoutSeconds and cleans up on client disconnect', async () => {
    const started = Date.now();
    const timed = await collect(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: fake.store.resourceVersion(), timeoutSeconds: 1 });
    expect(await timed.done).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const open = await collect(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: fake.store.resourceVersion() });
    await until(() => fake.store.watcherCount() === 1);
    open.stop();
    await until(() => fake.store.watcherCount() === 0);
  });

  it('drives a client-node informer (list, then watch from the list resourceVersion)', async () => {
    await c.core.createNamespace({ body: { metadata: { name: 'informed' } } });
    await c.objects.create({ ...cm('pre', { v: '0' }), metadata: { name: 'pre', namespace: 'informed' } });
    const informer = makeInformer(c.kc, '/api/v1/namespaces/informed/configmaps', () => c.core.listNamespacedConfigMap({ namespace: 'informed' }));
    const log: string[] = [];
    informer.on('add', (o: V1ConfigMap) => log.push(`add ${o.metadata?.name}`));
    informer.on('update', (o: V1ConfigMap) => log.push(`update ${o.metadata?.name} ${o.data?.v}`));
    informer.on('delete', (o: V1ConfigMap) => log.push(`delete ${o.metadata?.name}`));
    await informer.start();
    await until(() => log.length === 1);
    await c.objects.create({ ...cm('live', { v: '1' }), metadata: { name: 'live', namespace: 'informed' } });
    await c.core.patchNamespacedConfigMap({ name: 'live', namespace: 'informed', body: [{ op: 'replace', path: '/data/v', value: '2' }] });
    await c.core.deleteNamespacedConfigMap({ name: 'pre', namespace: 'informed' });
    await until(() => log.length === 4);
    await informer.stop();
    expect(log).toEqual(['add pre', 'add live', 'update live 2', 'delete pre']);
    expect(informer.list('informed').map((o) => o.metadata?.name)).toEqual(['live']);
  });
});
