import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubernetesObject, PatchStrategy } from '@kubernetes/client-node';
import { type FakeKube, startFakeKube } from './index';
import { type Clients, connect, deployment, failure } from './spec-support';

type Obj = KubernetesObject & Record<string, unknown>;
type Causes = { reason: string; field?: string; message: string }[];

describe('validation', () => {
  let fake: FakeKube;
  let c: Clients;
  const ns = 'valid';

  beforeAll(async () => {
    fake = await startFakeKube();
    c = connect(fake);
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
  });
  afterAll(() => fake.close());

  const withSpec = (name: string, edit: (spec: Record<string, any>) => void): Obj => {
    const d = structuredClone(deployment(name, ns)) as Obj & { spec: Record<string, any> };
    edit(d.spec);
    return d;
  };
  const causes = async (p: Promise<unknown>): Promise<Causes> => {
    const f = await failure(p);
    expect(f.code).toBe(422);
    expect(f.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422 });
    return (f.body.details as { causes: Causes }).causes;
  };

  it('rejects schema violations from the real OpenAPI schema (replicas: "three")', async () => {
    const bad = withSpec('three', (s) => (s.replicas = 'three'));
    expect(await causes(c.objects.create(bad))).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: "three": must be integer' },
    ]);
    const f = await failure(c.objects.create(bad));
    expect(f.body.message).toBe('Deployment.apps "three" is invalid: spec.replicas: Invalid value: "three": must be integer');
    expect(f.body.details).toMatchObject({ name: 'three', group: 'apps', kind: 'Deployment' });
    // the same through apply and dry run
    expect((await failure(c.objects.patch(bad, undefined, 'All', 'm', true, PatchStrategy.ServerSideApply))).code).toBe(422);
    expect(fake.store.get('apps/v1', 'Deployment', ns, 'three')).toBeUndefined();
  });

  it('enforces server-side rules the schema does not express', async () => {
    expect(await causes(c.objects.create(withSpec('no-image', (s) => delete s.template.spec.containers[0].image)))).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers[0].image' },
    ]);
    expect(await causes(c.objects.create(withSpec('mismatch', (s) => (s.template.metadata.labels = { app: 'other' }))))).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        message: 'Invalid value: {"app":"other"}: `selector` does not match template `labels`',
      },
    ]);
    const dupes = await causes(c.objects.create(withSpec('dupes', (s) => s.template.spec.containers.push({ name: 'app', image: 'x:1' }))));
    expect(dupes).toEqual([
      { reason: 'FieldValueDuplicate', message: 'Duplicate value: "app"', field: 'spec.template.spec.containers[1].name' },
    ]);
    const greedy = await causes(
      c.objects.create(
        withSpec(
          'greedy',
          (s) =>
            (s.template.spec.containers[0].resources = { requests: { cpu: '2', memory: '64Mi' }, limits: { cpu: '1500m', memory: '1Gi' } }),
        ),
      ),
    );
    expect(greedy).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.template.spec.containers[0].resources.requests',
        message: 'Invalid value: "2": must be less than or equal to cpu limit of 1500m',
      },
    ]);
    expect(
      (
        await causes(
          c.objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: ns, labels: { 'bad key!': 'v' } } }),
        )
      )[0],
    ).toMatchObject({ field: 'metadata.labels' });
    expect((await causes(c.core.createNamespace({ body: { metadata: { name: 'has.dot' } } })))[0]).toMatchObject({
      field: 'metadata.name',
      message: expect.stringContaining('RFC 1123 label'),
    });
    expect(
      (
        await causes(
          c.objects.create({
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: '1svc', namespace: ns },
            spec: { ports: [{ port: 80 }] },
          }),
        )
      )[0],
    ).toMatchObject({ field: 'metadata.name', message: expect.stringContaining('DNS-1035') });

    await c.objects.create(deployment('immutable', ns));
    const moved = withSpec('immutable', (s) => {
      s.selector = { matchLabels: { app: 'immutable', v: '2' } };
      s.template.metadata.labels = { app: 'immutable', v: '2' };
    });
    expect(await causes(c.objects.replace(moved))).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.selector', message: expect.stringMatching(/field is immutable$/) },
    ]);
  });

  it('validates cert-manager resources with their models', async () => {
    const cert = (spec: Record<string, unknown>): Obj => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'tls', namespace: ns },
      spec,
    });
    expect(await causes(c.objects.create(cert({ issuerRef: { name: 'le', kind: 'ClusterIssuer' }, dnsNames: ['a.example.com'] })))).toEqual(
      [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.secretName' }],
    );
    const ok = await c.objects.create(
      cert({ secretName: 'tls', issuerRef: { name: 'le', kind: 'ClusterIssuer' }, dnsNames: ['a.example.com'] }),
    );
    expect(ok.metadata?.generation).toBe(1);
  });

  it('serves any CRD created through apiextensions.k8s.io/v1, with schema validation and pruning', async () => {
    await c.objects.create({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    required: ['size'],
                    properties: { size: { type: 'integer', minimum: 1 }, color: { type: 'string', _enum: ['red', 'blue'] } },
                  }, // client-node's V1JSONSchemaProps names it `_enum`
                  status: { type: 'object', properties: { ready: { type: 'boolean' } } },
                },
              },
            },
          },
        ],
      },
    });
    const crd = fake.store.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'widgets.example.com')!;
    expect((crd.status as { conditions: { type: string; status: string }[] }).conditions.map((x) => `${x.type}=${x.status}`)).toEqual([
      'NamesAccepted=True',
      'Established=True',
    ]);
    const widget = (spec: Record<string, unknown>): Obj => ({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: ns },
      spec,
    });
    expect(await causes(c.objects.create(widget({ size: 0, color: 'green' })))).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.size',
        message: 'Invalid value: 0: spec.size in body should be greater than or equal to 1',
      },
      { reason: 'FieldValueNotSupported', field: 'spec.color', message: 'Unsupported value: "green": supported values: "red", "blue"' },
    ]);
    const created = await c.objects.create(widget({ size: 2, extra: 'dropped' }));
    expect(created).toMatchObject({ apiVersion: 'example.com/v1', kind: 'Widget', spec: { size: 2 } });
    expect((created as Obj).spec).toEqual({ size: 2 });
    expect((await c.objects.list('example.com/v1', 'Widget', ns)).items).toHaveLength(1);
    const smp = await failure(
      c.objects.patch(widget({ size: 3 }), undefined, undefined, undefined, undefined, PatchStrategy.StrategicMergePatch),
    );
    expect(smp).toMatchObject({ code: 415, body: { reason: 'UnsupportedMediaType' } });
    expect(
      (await c.objects.patch(widget({ size: 3 }), undefined, undefined, undefined, undefined, PatchStrategy.MergePatch)).metadata
        ?.generation,
    ).toBe(2);

    await c.objects.delete({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
    });
    expect(fake.store.list('example.com/v1', 'Widget', ns)).toEqual([]);
    expect((await fetch(`${fake.url}/apis/example.com/v1/namespaces/${ns}/widgets`)).status).toBe(404);
  });

  it('accepts anything schema-wise with validate: false', async () => {
    const lax = await startFakeKube({ validate: false, crds: 'none', namespaces: [ns] });
    try {
      const created = await connect(lax).objects.create(withSpec('three', (s) => (s.replicas = 'three')));
      expect(created.metadata?.name).toBe('three');
      expect((await fetch(`${lax.url}/apis/cert-manager.io/v1`)).status).toBe(404);
    } finally {
      await lax.close();
    }
  });
});
