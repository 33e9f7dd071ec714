import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient, LiveObject } from '@apprunner/kubernetes';
import { CASES as MANIFEST_CASES } from '../../libs/kubernetes/src/manifests/__fixtures__/cases';
import { CASES as JOB_CASES } from '../../libs/kubernetes/src/manifests/__fixtures__/build-job-options';
import { buildJobManifest } from '@apprunner/kubernetes';
import { adminKube, adminRequest, helmTemplate, onRealCluster, testCluster } from '../support/real-cluster';

const ROOT = join(__dirname, '../..');
const CHART = join(ROOT, 'charts/apprunner-k8s');
const cluster = testCluster();

type Status = { code?: number; message?: string; details?: { causes?: { field?: string; message?: string }[] } };

/**
 * Every object the platform writes (the manifest builders' golden cases, the build Job manifests) and ships (the chart
 * with each values file), judged by the real kube-apiserver: a dry-run server-side apply with `fieldValidation=Strict`, so a
 * field the API does not declare (which @kubernetes/client-node would drop silently) is an error, as are values its
 * validation, admission and CRD schemas refuse. Nothing is stored.
 */
describe.skipIf(!cluster)(onRealCluster('objects accepted by the real API server (dry run, strict fields)'), () => {
  let kube: KubeClient;
  const namespaces = new Set<string>();

  /** Where a kind's objects live, from the API server's discovery (`/api/v1`, `/apis/<group>/<version>`). */
  const resources = new Map<string, { name: string; namespaced: boolean }>();
  async function resourceOf(apiVersion: string, kind: string): Promise<{ name: string; namespaced: boolean }> {
    const key = `${apiVersion}/${kind}`;
    if (!resources.has(key)) {
      const list = await adminRequest<{ resources: { name: string; kind: string; namespaced: boolean }[] }>(
        cluster!,
        'GET',
        apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`,
      );
      for (const r of list.resources)
        if (!r.name.includes('/')) resources.set(`${apiVersion}/${r.kind}`, { name: r.name, namespaced: r.namespaced });
    }
    const found = resources.get(key);
    if (!found) throw new Error(`the API server serves no ${key}`);
    return found;
  }

  /** A dry-run create; resolves the API server's Status on refusal, undefined on acceptance. */
  async function dryRun(obj: LiveObject, namespace = 'default'): Promise<Status | undefined> {
    const { name, namespaced } = await resourceOf(obj.apiVersion, obj.kind);
    const ns = obj.metadata.namespace ?? namespace;
    if (namespaced && !namespaces.has(ns)) {
      await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } as LiveObject);
      namespaces.add(ns);
    }
    const base = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
    // server-side apply, as the worker writes: undeclared fields are always errors there (and Strict says so again)
    const path = `${base}${namespaced ? `/namespaces/${ns}` : ''}/${name}/${obj.metadata.name}?dryRun=All&fieldValidation=Strict&fieldManager=manifest-check&force=true`;
    return adminRequest(
      cluster!,
      'PATCH',
      path,
      { ...obj, metadata: { ...obj.metadata, ...(namespaced ? { namespace: ns } : {}) } },
      'application/apply-patch+yaml',
    ).then(
      () => undefined,
      (e: Error & { body?: Status }) => e.body ?? { message: e.message },
    );
  }
  const accepted = async (objects: LiveObject[], namespace?: string) => {
    const refused: string[] = [];
    for (const o of objects) {
      const status = await dryRun(o, namespace);
      if (status) refused.push(`${o.kind}/${o.metadata.name}: ${status.message}`);
    }
    return refused;
  };

  beforeAll(async () => {
    kube = await adminKube(cluster!, 'manifest-check');
  });

  it.each(Object.keys(MANIFEST_CASES))('manifest builders, %s: accepted', async (name) => {
    expect(await accepted(MANIFEST_CASES[name]() as LiveObject[])).toEqual([]);
  });

  it.each(Object.keys(JOB_CASES))('build Job manifest, %s: the ConfigMap and the Job accepted', async (name) => {
    const { configMap, job } = buildJobManifest(JOB_CASES[name]());
    expect(await accepted([configMap, job] as LiveObject[])).toEqual([]);
  });

  it.each(['ci/production-values.yaml', 'ci/existing-secret-values.yaml', 'values-evaluation.yaml'])(
    'the chart with %s: every rendered object accepted',
    async (values) => {
      const objects = helmTemplate('ar', 'apprunner-dryrun', ['-f', join(CHART, values)]);
      expect(objects.length).toBeGreaterThan(10);
      // a release's Namespace objects first (the build namespace), as Helm orders them
      expect(
        await accepted(
          [...objects.filter((o) => o.kind === 'Namespace'), ...objects.filter((o) => o.kind !== 'Namespace')],
          'apprunner-dryrun',
        ),
      ).toEqual([]);
    },
  );

  it.each(Object.keys(MANIFEST_CASES))(
    'manifest builders, %s: stored by the worker’s own client (KubeClient.apply) with every field as built',
    async (name) => {
      // the dry run above sends raw JSON; the worker's client goes through @kubernetes/client-node, whose typed models
      // once dropped every NetworkPolicy `from` (its name there is `_from`): read back raw, nothing may be missing
      // a namespace of the case's own: the previous case's is still terminating
      const objects = JSON.parse(
        JSON.stringify(MANIFEST_CASES[name]()).replace(/"(apprunner-\d{12})"/g, `"$1-${Object.keys(MANIFEST_CASES).indexOf(name)}"`),
      ) as LiveObject[];
      const created = new Set<string>();
      try {
        for (const o of [...objects.filter((x) => x.kind === 'Namespace'), ...objects.filter((x) => x.kind !== 'Namespace')]) {
          if (o.kind === 'Namespace') created.add(o.metadata.name);
          else if (o.metadata.namespace && !created.has(o.metadata.namespace)) {
            await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.metadata.namespace } } as LiveObject);
            created.add(o.metadata.namespace);
          }
          await kube.apply(o);
          const { name: resource, namespaced } = await resourceOf(o.apiVersion, o.kind);
          const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
          const live = await adminRequest<LiveObject>(
            cluster!,
            'GET',
            `${base}${namespaced ? `/namespaces/${o.metadata.namespace}` : ''}/${resource}/${o.metadata.name}`,
          );
          const { metadata, ...rest } = o as LiveObject & Record<string, unknown>;
          expect(live, `${o.kind}/${o.metadata.name}`).toMatchObject({ ...rest, metadata: { name: metadata.name } });
        }
      } finally {
        for (const ns of created) await kube.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } as LiveObject);
      }
    },
  );

  it('refuses what the checks above would have to catch: an undeclared field, a field at the wrong level, an invalid Job', async () => {
    const deployment = () => structuredClone(MANIFEST_CASES['image-tcp-defaults']().find((o) => o.kind === 'Deployment')) as any;
    const typo = deployment();
    typo.spec.template.spec.containers[0].imagePulPolicy = 'Always';
    expect((await dryRun(typo))?.message).toMatch(
      /\.spec\.template\.spec\.containers\[name="app"\]\.imagePulPolicy: field not declared in schema$/,
    );
    const misplaced = deployment();
    misplaced.spec.template.serviceAccountName = 'x';
    expect((await dryRun(misplaced))?.message).toMatch(/\.spec\.template\.serviceAccountName: field not declared in schema$/);
    const { job } = buildJobManifest(JOB_CASES['build-job-minimal']());
    const broken = structuredClone(job) as any;
    broken.spec.template.spec.restartPolicy = 'Always';
    const invalid = await dryRun(broken);
    expect(invalid?.code).toBe(422);
    expect(invalid?.details?.causes?.map((c) => c.field)).toContain('spec.template.spec.restartPolicy');
  });
});
