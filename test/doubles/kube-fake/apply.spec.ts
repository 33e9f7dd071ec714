import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubernetesObject, PatchStrategy } from '@kubernetes/client-node';
import { type FakeKube, startFakeKube } from './index';
import { type Clients, connect, deployment, failure } from './spec-support';

type Obj = KubernetesObject & Record<string, unknown>;

describe('server-side apply', () => {
  let fake: FakeKube;
  let c: Clients;
  const ns = 'ssa';

  beforeAll(async () => {
    fake = await startFakeKube();
    c = connect(fake);
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
  });
  afterAll(() => fake.close());

  const apply = (obj: Obj, manager: string, force = false, dryRun?: string) =>
    c.objects.patch(obj, undefined, dryRun, manager, force, PatchStrategy.ServerSideApply);
  const cm = (name: string, data: Record<string, string>, labels?: Record<string, string>): Obj => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns, ...(labels ? { labels } : {}) },
    data,
  });
  const managers = (name: string, kind = 'ConfigMap', apiVersion = 'v1') =>
    (fake.store.get(apiVersion, kind, ns, name)?.metadata.managedFields ?? []).map(
      (m) => `${m.manager}:${m.operation}:${JSON.stringify(m.fieldsV1)}`,
    );

  it('creates when absent, records an Apply entry, and a re-apply of the same configuration is a true no-op', async () => {
    const created = await apply(deployment('ssa-web', ns), 'deployer');
    expect(created.metadata?.generation).toBe(1);
    expect(fake.calls.at(-1)).toMatchObject({
      verb: 'patch',
      status: 201,
      patchType: 'application/apply-patch+yaml',
      fieldManager: 'deployer',
      resource: 'deployments',
      kind: 'Deployment',
    });
    const entry = created.metadata?.managedFields?.[0];
    expect(entry).toMatchObject({ manager: 'deployer', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1' });
    expect(entry?.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': { 'f:matchLabels': { 'f:app': {} } },
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"app"}': {
                '.': {},
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    });

    const events: string[] = [];
    const stop = fake.store.observe((e) => e.kind === 'Deployment' && e.namespace === ns && events.push(e.type));
    const again = await apply(deployment('ssa-web', ns), 'deployer');
    expect(again.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(again.metadata?.generation).toBe(1);
    expect(again.metadata?.managedFields?.[0]?.time).toEqual(entry?.time);
    await apply({ ...deployment('ssa-web', ns), spec: { ...(deployment('ssa-web', ns).spec as object), replicas: 3 } }, 'deployer');
    stop();
    expect(events).toEqual(['MODIFIED']);
  });

  it('removes fields the same manager stopped applying: map keys, keyed list items', async () => {
    const withAll = deployment('shrink', ns) as any;
    withAll.metadata = { ...withAll.metadata, labels: { app: 'shrink', old: 'yes' }, annotations: { note: 'x' } };
    withAll.spec.template.spec.containers = [
      {
        name: 'app',
        image: 'nginx:1',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        ports: [{ containerPort: 80 }, { containerPort: 81 }],
      },
      { name: 'sidecar', image: 'envoy:1' },
    ];
    await apply(withAll, 'deployer');
    const slim = deployment('shrink', ns) as any;
    slim.spec.template.spec.containers = [
      { name: 'app', image: 'nginx:1', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 81 }] },
    ];
    const result = (await apply(slim, 'deployer')) as Obj & {
      spec: { template: { spec: { containers: { name: string; env?: { name: string }[]; ports?: { containerPort: number }[] }[] } } };
    };
    expect(result.metadata?.labels).toEqual({ app: 'shrink' });
    expect(result.metadata?.annotations).toBeUndefined();
    expect(
      result.spec.template.spec.containers.map((x) => [x.name, x.env?.map((e) => e.name), x.ports?.map((p) => p.containerPort)]),
    ).toEqual([['app', ['B'], [81]]]);
    expect(result.metadata?.generation).toBe(2);

    await apply(cm('data', { a: '1', b: '2' }), 'writer');
    const after = await apply(cm('data', { b: '2' }), 'writer');
    expect(after.data).toEqual({ b: '2' });
  });

  it('reports conflicts with other managers (Apply or Update) and takes ownership with force', async () => {
    await apply(cm('shared', { color: 'red', size: 'L' }), 'alice');
    const conflict = await failure(apply(cm('shared', { color: 'blue', size: 'XL' }), 'bob'));
    expect(conflict.code).toBe(409);
    expect(conflict.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'Apply failed with 2 conflicts: conflicts with "alice" using v1:\n- .data.color\n- .data.size',
      details: {
        causes: [
          { reason: 'FieldManagerConflict', message: 'conflict with "alice" using v1', field: '.data.color' },
          { reason: 'FieldManagerConflict', message: 'conflict with "alice" using v1', field: '.data.size' },
        ],
      },
    });
    expect(fake.store.get('v1', 'ConfigMap', ns, 'shared')?.data).toEqual({ color: 'red', size: 'L' });

    // same value: shared ownership, no conflict
    await apply(cm('shared', { size: 'L' }), 'carol');
    const forced = await apply(cm('shared', { color: 'blue' }), 'bob', true);
    expect(forced.data).toEqual({ color: 'blue', size: 'L' });
    expect(managers('shared')).toEqual([
      'alice:Apply:{"f:data":{"f:size":{}}}',
      'carol:Apply:{"f:data":{"f:size":{}}}',
      'bob:Apply:{"f:data":{"f:color":{}}}',
    ]);
    // alice drops size, but carol still owns it: it stays
    const kept = await apply(cm('shared', {}), 'alice');
    expect(kept.data).toEqual({ color: 'blue', size: 'L' });

    // an Update (non-apply) writer owns what it changed
    await c.objects.create(cm('edited', { mode: 'a' }), undefined, undefined, 'kubectl-create');
    const vsUpdate = await failure(apply(cm('edited', { mode: 'b' }), 'platform'));
    expect(vsUpdate.body.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.mode');
    await apply(cm('edited', { mode: 'b' }), 'platform', true);
    expect(managers('edited')).toEqual(['platform:Apply:{"f:data":{"f:mode":{}}}']);
  });

  it('takes back a field another manager edited with a strategic merge patch (drift correction), then stays a no-op', async () => {
    const spec = deployment('drift', ns);
    await apply(spec, 'platform', true);
    const res = await fetch(`${fake.url}/apis/apps/v1/namespaces/${ns}/deployments/drift?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'app', image: 'evil/miner:latest' }] } } } }),
    });
    expect(res.status).toBe(200);
    const image = () =>
      (fake.store.get('apps/v1', 'Deployment', ns, 'drift')?.spec as { template: { spec: { containers: { image: string }[] } } }).template
        .spec.containers[0].image;
    expect(image()).toBe('evil/miner:latest');
    expect((await failure(apply(spec, 'platform'))).code).toBe(409);
    const fixed = await apply(spec, 'platform', true);
    expect(image()).toBe('nginx:1.27');
    const again = await apply(spec, 'platform', true);
    expect(again.metadata?.resourceVersion).toBe(fixed.metadata?.resourceVersion);
  });

  it('accepts YAML bodies, requires a fieldManager, and honours dryRun', async () => {
    const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n  namespace: ${ns}\ndata:\n  key: value\n`;
    const url = `${fake.url}/api/v1/namespaces/${ns}/configmaps/from-yaml`;
    const ok = await fetch(`${url}?fieldManager=yamler`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/apply-patch+yaml' },
      body: yaml,
    });
    expect(ok.status).toBe(201);
    expect(fake.store.get('v1', 'ConfigMap', ns, 'from-yaml')?.data).toEqual({ key: 'value' });
    const noManager = await fetch(url, { method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' }, body: yaml });
    expect(noManager.status).toBe(422);
    expect(await noManager.json()).toMatchObject({
      reason: 'Invalid',
      details: { causes: [{ field: 'fieldManager', reason: 'FieldValueRequired' }] },
    });

    const dry = await apply(cm('dry-apply', { a: '1' }), 'dry', false, 'All');
    expect(dry.data).toEqual({ a: '1' });
    expect(fake.store.get('v1', 'ConfigMap', ns, 'dry-apply')).toBeUndefined();
  });
});
