import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubernetesObject, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { type FakeKube, type KubeObject, startFakeKube } from './index';
import { type Clients, connect, deployment, failure } from './spec-support';

type Obj = KubernetesObject & Record<string, any>;

/** Unknown fields of built-in kinds: rejected by server-side apply and Strict writes, dropped (with a warning) otherwise. */
describe('field validation', () => {
  let fake: FakeKube;
  let c: Clients;
  const ns = 'fv';
  const deployments = `/apis/apps/v1/namespaces/${ns}/deployments`;

  beforeAll(async () => {
    fake = await startFakeKube();
    c = connect(fake);
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
  });
  afterAll(() => fake.close());

  /** A Deployment with a typo in the pod template and a misspelt `replicas` (in that document order). */
  const withTypos = (name: string): Obj => {
    const d = structuredClone(deployment(name, ns)) as Obj;
    d.spec.template.spec.containers[0].imagee = 'nginx:1.28';
    d.spec.replica = 5;
    return d;
  };
  const stored = (name: string) => fake.store.get('apps/v1', 'Deployment', ns, name) as (KubeObject & { spec: any }) | undefined;
  // the typed patch calls send `body` as it is (create/replace serialize it through the model class, see below)
  const apply = (name: string, body: unknown, fieldValidation?: string) =>
    c.apps.patchNamespacedDeployment({ name, namespace: ns, body, fieldManager: 'deployer', force: true, fieldValidation }, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply));
  const mergePatch = (name: string, body: unknown, fieldValidation?: string) =>
    c.apps.patchNamespacedDeploymentWithHttpInfo({ name, namespace: ns, body, fieldValidation }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  const raw = (method: string, path: string, body: unknown): Promise<Response> =>
    fetch(`${fake.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('fails a server-side apply of an object with a typo, whatever fieldValidation says, and stores nothing', async () => {
    const f = await failure(apply('typo', withTypos('typo')));
    expect(f.code).toBe(422);
    expect(f.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422, details: { name: 'typo', group: 'apps', kind: 'Deployment' } });
    expect(f.body.message).toBe(
      'failed to create typed patch object (fv/typo; apps/v1, Kind=Deployment): errors:\n' +
        '  .spec.template.spec.containers[name="app"].imagee: field not declared in schema\n' +
        '  .spec.replica: field not declared in schema',
    );
    expect((f.body.details as { causes: unknown[] }).causes).toEqual([
      { reason: 'FieldValueInvalid', message: 'field not declared in schema', field: 'spec.template.spec.containers[0].imagee' },
      { reason: 'FieldValueInvalid', message: 'field not declared in schema', field: 'spec.replica' },
    ]);
    expect(stored('typo')).toBeUndefined();
    expect((await failure(apply('typo', withTypos('typo'), 'Ignore'))).code).toBe(422);

    // on an existing object too; one field reads without the "errors:" list
    await apply('typo', deployment('typo', ns));
    const one = structuredClone(deployment('typo', ns)) as Obj;
    one.spec.template.spec.containers[0].ports[0].hostPortt = 80;
    const again = await failure(apply('typo', one, 'Warn'));
    expect(again.body.message).toBe(
      'failed to create typed patch object (fv/typo; apps/v1, Kind=Deployment): .spec.template.spec.containers[name="app"].ports[containerPort=8080].hostPortt: field not declared in schema',
    );
    expect(stored('typo')?.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);

    // core kinds and atomic lists
    const cm = await failure(
      c.core.patchNamespacedConfigMap(
        { name: 'cm', namespace: ns, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, dat: { a: '1' } }, fieldManager: 'deployer' },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
    expect(cm.body.message).toBe('failed to create typed patch object (fv/cm; /v1, Kind=ConfigMap): .dat: field not declared in schema');
  });

  it('shows why builders need their own check: KubernetesObjectApi drops unknown fields of known kinds before sending', async () => {
    // client-node serializes the object through its V1Deployment model, which keeps declared attributes only
    await c.objects.patch(withTypos('silent'), undefined, undefined, 'deployer', true, PatchStrategy.ServerSideApply);
    expect(fake.calls.at(-1)).toMatchObject({ verb: 'patch', status: 201 });
    expect(stored('silent')?.spec).not.toHaveProperty('replica');
    expect(stored('silent')?.spec.template.spec.containers[0]).not.toHaveProperty('imagee');
  });

  it('refuses Strict creates, updates and patches with the strict decoding message', async () => {
    const created = await raw('POST', `${deployments}?fieldValidation=Strict`, withTypos('strict'));
    expect(created.status).toBe(422);
    const body = (await created.json()) as Record<string, any>;
    expect(body).toMatchObject({ reason: 'Invalid', code: 422, details: { group: 'apps', kind: 'Deployment', name: 'strict' } });
    expect(body.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagee", unknown field "spec.replica"',
    );
    expect(body.details.causes).toEqual([
      { reason: 'FieldValueInvalid', message: 'unknown field', field: 'spec.template.spec.containers[0].imagee' },
      { reason: 'FieldValueInvalid', message: 'unknown field', field: 'spec.replica' },
    ]);
    expect(stored('strict')).toBeUndefined();
    // dry run refuses the same way
    expect((await raw('POST', `${deployments}?fieldValidation=Strict&dryRun=All`, withTypos('strict'))).status).toBe(422);

    await c.objects.create(deployment('strict', ns));
    const live = stored('strict')!;
    const put = await raw('PUT', `${deployments}/strict?fieldValidation=Strict`, { ...withTypos('strict'), metadata: live.metadata });
    expect(put.status).toBe(422);
    expect(((await put.json()) as { message: string }).message).toMatch(/^Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field /);

    const merge = await failure(mergePatch('strict', { spec: { replica: 5 } }, 'Strict'));
    expect(merge).toMatchObject({ code: 422, body: { reason: 'Invalid', message: 'strict decoding error: unknown field "spec.replica"' } });
    const json = await failure(
      c.apps.patchNamespacedDeployment(
        { name: 'strict', namespace: ns, body: [{ op: 'add', path: '/spec/template/spec/containers/0/imagee', value: 'x' }], fieldValidation: 'Strict' },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
    expect(json.body.message).toBe('strict decoding error: unknown field "spec.template.spec.containers[0].imagee"');
    expect(stored('strict')?.metadata.resourceVersion).toBe(live.metadata.resourceVersion);

    // only what the patch brings counts: a field that got in through the store directly is dropped, not refused
    fake.store.put({ ...structuredClone(stored('strict')!), spec: { ...stored('strict')!.spec, legacy: true } });
    const ok = await mergePatch('strict', { spec: { replicas: 4 } }, 'Strict');
    expect(ok.data.spec?.replicas).toBe(4);
    expect(stored('strict')?.spec).not.toHaveProperty('legacy');
  });

  it('accepts Warn (the default) with a Warning header per field, and Ignore silently; both drop the fields', async () => {
    await c.objects.create(deployment('lax', ns));
    const warned = await mergePatch('lax', { spec: { replica: 5, template: { spec: { containers: [{ name: 'app', image: 'nginx:1.27', imagee: 'x' }] } } } }, 'Warn');
    expect(warned.httpStatusCode).toBe(200);
    // in the patched object's order: the live spec's fields first
    expect(warned.headers.warning).toBe('299 - "unknown field \\"spec.template.spec.containers[0].imagee\\"", 299 - "unknown field \\"spec.replica\\""');
    expect(stored('lax')?.spec).not.toHaveProperty('replica');
    expect(stored('lax')?.spec.template.spec.containers[0]).not.toHaveProperty('imagee');

    const byDefault = await raw('POST', deployments, withTypos('lax-default'));
    expect(byDefault.status).toBe(201);
    expect(byDefault.headers.get('warning')).toBe('299 - "unknown field \\"spec.template.spec.containers[0].imagee\\"", 299 - "unknown field \\"spec.replica\\""');
    expect(((await byDefault.json()) as Obj).spec).not.toHaveProperty('replica');
    expect(stored('lax-default')?.spec.replicas).toBe(2);

    const ignored = await mergePatch('lax', { spec: { replica: 7 } }, 'Ignore');
    expect(ignored.httpStatusCode).toBe(200);
    expect(ignored.headers.warning).toBeUndefined();
    expect(stored('lax')?.spec).not.toHaveProperty('replica');
    // a clean write has no warning
    expect((await mergePatch('lax', { spec: { replicas: 3 } })).headers.warning).toBeUndefined();
  });

  it('refuses an unsupported fieldValidation value', async () => {
    const f = await failure(mergePatch('lax', { spec: { replicas: 3 } }, 'Bogus'));
    expect(f).toMatchObject({
      code: 422,
      body: { reason: 'Invalid', message: 'PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Bogus": supported values: "", "Ignore", "Strict", "Warn"' },
    });
  });

  it('keeps pruning custom resources instead, even on apply and Strict writes', async () => {
    await c.objects.create({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gadgets.example.com' },
      spec: {
        group: 'example.com',
        names: { kind: 'Gadget', plural: 'gadgets', singular: 'gadget', listKind: 'GadgetList' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } } }],
      },
    } as Obj);
    const gadget = (name: string): Obj => ({ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name, namespace: ns }, spec: { size: 1, colour: 'red' } });
    const applied = await c.objects.patch(gadget('g1'), undefined, undefined, 'deployer', true, PatchStrategy.ServerSideApply);
    expect((applied as Obj).spec).toEqual({ size: 1 });
    const strict = await raw('POST', `/apis/example.com/v1/namespaces/${ns}/gadgets?fieldValidation=Strict`, gadget('g2'));
    expect(strict.status).toBe(201);
    expect(strict.headers.get('warning')).toBeNull();
    expect(((await strict.json()) as Obj).spec).toEqual({ size: 1 });
  });
});
