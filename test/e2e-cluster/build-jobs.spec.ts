import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildFailedError, type BuildRequest, KubernetesJobDriver, type KubernetesJobDriverOptions } from '@apprunner/build-driver';
import { buildJobName, KubeClient } from '@apprunner/kubernetes';
import type { KubeProxy } from '../support/kube-proxy';
import { adminKube, onRealCluster, proxyFor, testCluster, workerSource } from '../support/real-cluster';
import { waitFor } from '../support/wait';

const cluster = testCluster();
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const REPOSITORY = 'registry.apprunner.svc:5000/123456789012/0d1f6e3c9a2b4c5d8e7f6a5b4c3d2e1f';

/**
 * The Kubernetes build driver (BUILD_DRIVER=kubernetes) against the real Job controller, scheduler and garbage
 * collector, authorizing as the chart's worker with the chart's Role in the build namespace. KWOK stands in for the
 * kubelet: the clone step exits 0, the build container exits 0 with a digest as its termination message (what the
 * build script writes), or 1 when the builder image's tag ends in `-fail`, or never ends when it ends in `-unready`.
 * Log streaming, failed clones and push failures are scripted on kube-fake (libs/build-driver/src/kubernetes-job.driver.spec.ts).
 */
describe.skipIf(!cluster)(onRealCluster('build Jobs on a real cluster'), { timeout: 90_000 }, () => {
  let admin: KubeClient;
  let worker: KubeClient;
  let proxy: KubeProxy;
  const ns = cluster?.worker.buildNamespace ?? '';

  beforeAll(async () => {
    admin = await adminKube(cluster!);
    proxy = await proxyFor(cluster!);
    worker = await KubeClient.connect(workerSource(cluster!, proxy.url), 'apprunner-k8s');
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const builder = (extra: Partial<KubernetesJobDriverOptions> = {}) =>
    new KubernetesJobDriver(worker, {
      namespace: ns,
      buildahImage: 'quay.io/buildah/stable:v1.41.4',
      cloneImage: 'docker.io/alpine/git:2.47.2',
      tlsVerify: false,
      pollMs: 100,
      labels: { 'app.kubernetes.io/managed-by': 'apprunner-k8s', 'apprunner.k8s/account-id': '123456789012' },
      ...extra,
    });
  const request = (buildId: string, extra: Partial<BuildRequest> = {}): BuildRequest => ({
    buildId,
    contextDir: '/unused-by-the-job-driver',
    containerfile: 'FROM busybox\nRUN true\n',
    repository: REPOSITORY,
    tag: COMMIT.slice(0, 12),
    source: {
      cloneUrl: 'https://github.com/example/web.git',
      commit: COMMIT,
      token: 'ghs_realClusterToken0123456789',
      contextDirectory: '.',
    },
    timeoutMs: 60_000,
    ...extra,
  });
  const job = (id: string) => admin.get<any>('batch/v1', 'Job', buildJobName(id), ns);
  const pods = (id: string) => admin.list<any>('v1', 'Pod', ns, `job-name=${buildJobName(id)}`);
  const failure = async (p: Promise<unknown>): Promise<BuildFailedError> => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(BuildFailedError);
    return e as BuildFailedError;
  };

  it('builds in a Job that the Job controller runs to Complete; the digest comes from the termination message', async () => {
    const id = 'real-success';
    const logs: string[] = [];
    const result = await builder({ resources: { cpu: '2', memory: '4Gi' } }).build(request(id, { onLog: (c) => logs.push(c) }));
    const [pod] = await pods(id);
    const digest = `sha256:${createHash('sha256').update(`${ns}/${pod.metadata.name}`).digest('hex')}`;
    expect(result).toMatchObject({ digest, image: `${REPOSITORY}@${digest}` });
    expect(logs.join('')).toContain(`==> Started build Job ${ns}/${buildJobName(id)}`);
    // the driver reads the result from the pod; the Job controller marks the Job a moment later
    await waitFor(async () => (await job(id)).status?.conditions?.some((c: any) => c.type === 'Complete'), 'the Job Complete');
    const live = await job(id);
    expect(live.status.conditions.filter((c: any) => c.status === 'True').map((c: any) => c.type)).toEqual([
      'SuccessCriteriaMet',
      'Complete',
    ]);
    expect(live.status.succeeded).toBe(1);
    // the pod the Job controller made, placed by the scheduler, with the build container's fixed resources
    expect(pod.spec.nodeName).toMatch(/^kwok-node-/);
    expect(pod.metadata.ownerReferences[0]).toMatchObject({ kind: 'Job', name: buildJobName(id), uid: live.metadata.uid });
    expect(pod.spec.containers[0].resources).toEqual({ requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } });
    // the Job owns its Secret and ConfigMap: deleting it (as its TTL would) takes them along, by the real garbage collector
    const owner = [
      { apiVersion: 'batch/v1', kind: 'Job', name: buildJobName(id), uid: live.metadata.uid, controller: true, blockOwnerDeletion: true },
    ];
    const secret = await admin.get<any>('v1', 'Secret', `${buildJobName(id)}-source`, ns);
    expect(secret.metadata.ownerReferences).toMatchObject(owner.map(({ controller: _c, blockOwnerDeletion: _b, ...o }) => o));
    await admin.delete(live);
    await waitFor(
      async () =>
        (await admin.get('v1', 'Secret', `${buildJobName(id)}-source`, ns)) === undefined &&
        (await admin.get('v1', 'ConfigMap', `${buildJobName(id)}-containerfile`, ns)) === undefined &&
        (await pods(id)).length === 0,
      "the Job's objects collected",
      30_000,
    );
  });

  it('fails the build when its container exits non-zero: one pod, no retry (backoffLimit 0)', async () => {
    const id = 'real-fails';
    const error = await failure(builder({ buildahImage: 'quay.io/buildah/stable:v1.41.4-fail' }).build(request(id)));
    expect(error.kind).toBe('build');
    expect(error.reason).toMatch(/exited with code 1|exit code 1/);
    await waitFor(async () => (await job(id)).status?.conditions?.some((c: any) => c.type === 'Failed'), 'the Job Failed');
    expect((await job(id)).status.conditions.find((c: any) => c.type === 'Failed')).toMatchObject({
      status: 'True',
      reason: 'BackoffLimitExceeded',
    });
    expect(await pods(id)).toHaveLength(1);
  });

  it("fails with kind 'timeout' when the Job controller ends the Job at its activeDeadlineSeconds", async () => {
    const id = 'real-deadline';
    const error = await failure(
      builder({ buildahImage: 'quay.io/buildah/stable:v1.41.4-unready' }).build(request(id, { timeoutMs: 2_000 })),
    );
    expect(error).toMatchObject({ kind: 'timeout', reason: 'build timed out after 2 s' });
    const live = await job(id);
    expect(live.spec.activeDeadlineSeconds).toBe(2);
    expect(live.status.conditions.find((c: any) => c.type === 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
  });

  it("deletes the Job on abort, and the garbage collector its pod, Secret and ConfigMap: kind 'cancelled'", async () => {
    const id = 'real-abort';
    const abort = new AbortController();
    const building = builder({ buildahImage: 'quay.io/buildah/stable:v1.41.4-unready' }).build(request(id, { signal: abort.signal }));
    await waitFor(async () => (await pods(id))[0]?.status?.phase === 'Running', 'the build pod running', 20_000);
    abort.abort();
    expect(await failure(building)).toMatchObject({ kind: 'cancelled', reason: 'build cancelled' });
    await waitFor(
      async () =>
        (await job(id)) === undefined &&
        (await pods(id)).length === 0 &&
        (await admin.get('v1', 'Secret', `${buildJobName(id)}-source`, ns)) === undefined,
      'everything of the build gone',
      30_000,
    );
  });

  it('was allowed every call by the Role the chart grants in the build namespace (and refused where it grants none)', async () => {
    expect(proxy.calls.length).toBeGreaterThan(10);
    expect(proxy.calls.filter((c) => c.status === 401 || c.status === 403).map((c) => `${c.method} ${c.path}`)).toEqual([]);
    const elsewhere = await worker
      .apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' }, data: {} })
      .then(
        () => 'applied',
        (e: Error) => e.message,
      );
    expect(elsewhere).toMatch(/forbidden/);
  });
});
