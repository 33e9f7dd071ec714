import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { type CallRecord, type FakeKube, type JobScript, rbacRulesFromCalls, startFakeKube } from '../../../test/doubles/kube-fake';
import { buildJobName, KubeClient, PUSH_MARKER } from '@apprunner/kubernetes';
import { KubernetesJobDriver, type KubernetesJobDriverOptions } from './kubernetes-job.driver';
import { BuildFailedError, type BuildRequest } from './types';

const NS = 'apprunner-builds';
const ROOT = join(__dirname, '../../..');
const CHART = join(ROOT, 'charts/apprunner-k8s');
const RBAC_FILE = join(CHART, 'files/build-rbac.json');
const TOKEN = 'ghs_installationToken0123456789abcdefXYZ';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const DIGEST = `sha256:${'cd'.repeat(32)}`;
const REPOSITORY = 'registry.apprunner.svc:5000/123456789012/0d1f6e3c9a2b4c5d8e7f6a5b4c3d2e1f';
const CONTAINERFILE = 'FROM public.ecr.aws/docker/library/node:22\nCOPY . .\nRUN npm ci\n';

const CLONE_LOG = `Initialized empty Git repository in /workspace/source/.git/\nchecked out ${COMMIT}\n`;
/** Many short lines: several share a millisecond, so the driver must tell repeated lines from new ones. */
const BUILD_LOG = [
  'STEP 1/3: FROM public.ecr.aws/docker/library/node:22',
  ...Array.from({ length: 40 }, (_, i) => `Copying blob ${String(i).padStart(2, '0')} done`),
  'STEP 2/3: COPY . .',
  'STEP 3/3: RUN npm ci',
  'added 120 packages in 3s',
  'added 120 packages in 3s', // the same text twice is output, not a duplicate
  'COMMIT',
  PUSH_MARKER,
  'Writing manifest to image destination',
  '',
].join('\n');

describe('KubernetesJobDriver against kube-fake', () => {
  let kube: FakeKube;
  let client: KubeClient;

  beforeAll(async () => {
    kube = await startFakeKube({ namespaces: ['default', NS] });
    kube.simulator.start(5);
    client = await KubeClient.connect({ options: kube.kubeConfigOptions() }, 'apprunner-k8s');
  });
  afterAll(async () => {
    await kube?.close();
  });

  const builder = (extra: Partial<KubernetesJobDriverOptions> = {}): KubernetesJobDriver =>
    new KubernetesJobDriver(client, {
      namespace: NS,
      buildahImage: 'quay.io/buildah/stable:v1.41.4',
      cloneImage: 'docker.io/alpine/git:2.47.2',
      registryAuthSecret: 'registry-push',
      tlsVerify: false,
      cacheRepository: (repository) => `${repository}/cache`,
      pollMs: 10,
      labels: { 'app.kubernetes.io/managed-by': 'apprunner-k8s', 'apprunner.k8s/account-id': '123456789012' },
      ...extra,
    });

  const request = (buildId: string, logs: string[], extra: Partial<BuildRequest> = {}): BuildRequest => ({
    buildId,
    contextDir: '/unused-by-the-job-driver',
    containerfile: CONTAINERFILE,
    repository: REPOSITORY,
    tag: COMMIT.slice(0, 12),
    source: { cloneUrl: 'https://github.com/example/web.git', commit: COMMIT, token: TOKEN, contextDirectory: '.' },
    onLog: (chunk) => logs.push(chunk),
    timeoutMs: 60_000,
    ...extra,
  });

  const script = (buildId: string, s: JobScript): void => kube.simulator.jobs.script(buildJobName(buildId), s);
  const job = (buildId: string): any => kube.store.get('batch/v1', 'Job', NS, buildJobName(buildId));
  const pods = (buildId: string): any[] =>
    kube.store.list('v1', 'Pod', NS).filter((p) => p.metadata.labels?.['job-name'] === buildJobName(buildId));
  const failure = async (p: Promise<unknown>): Promise<BuildFailedError> => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(BuildFailedError);
    return e as BuildFailedError;
  };
  const waitFor = async (what: string, fn: () => boolean, ms = 5_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!fn()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const createdJobs = (buildId: string): CallRecord[] =>
    kube.calls.filter((c) => c.resource === 'jobs' && c.name === buildJobName(buildId) && c.method === 'PATCH' && c.status === 201);

  it('builds in a Job: the clone and build output streamed in order as it comes, the digest and image returned', async () => {
    const id = 'op-success';
    script(id, { logs: { clone: CLONE_LOG, build: BUILD_LOG }, result: { digest: DIGEST }, delayMs: 1_000 });
    const logs: string[] = [];
    const completeWhenLogged: boolean[] = [];
    const req = request(id, logs, {
      onLog: (chunk) => {
        logs.push(chunk);
        completeWhenLogged.push((job(id)?.status?.conditions ?? []).some((c: any) => c.type === 'Complete'));
      },
    });

    const result = await builder().build(req);

    expect(result).toMatchObject({ digest: DIGEST, image: `${REPOSITORY}@${DIGEST}` });
    expect(result.durationMs).toBeGreaterThanOrEqual(2_000);
    expect(logs.join('')).toBe(`==> Started build Job ${NS}/${buildJobName(id)}\n${CLONE_LOG}${BUILD_LOG}`);
    // Streamed: the first lines arrived while the Job was still running, in many chunks.
    expect(completeWhenLogged.slice(0, 5)).toEqual([false, false, false, false, false]);
    expect(logs.length).toBeGreaterThan(10);
    const logReads = kube.calls.filter((c) => c.subresource === 'log' && c.name === pods(id)[0].metadata.name);
    expect(logReads.length).toBeGreaterThan(4);
    expect(logReads.every((c) => c.status === 200)).toBe(true);

    const live = job(id);
    expect(live.status.conditions.map((c: any) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(live.spec.activeDeadlineSeconds).toBe(60);
    expect(createdJobs(id)).toHaveLength(1);
  });

  it('makes the Job own its Secret and ConfigMap, and keeps the token out of the Job, its pod and the log', async () => {
    const id = 'op-success';
    const live = job(id);
    const owner = [{ apiVersion: 'batch/v1', kind: 'Job', name: buildJobName(id), uid: live.metadata.uid }];
    const secret: any = kube.store.get('v1', 'Secret', NS, `${buildJobName(id)}-source`);
    const configMap: any = kube.store.get('v1', 'ConfigMap', NS, `${buildJobName(id)}-containerfile`);
    expect(secret.metadata.ownerReferences).toEqual(owner);
    expect(configMap.metadata.ownerReferences).toEqual(owner);
    expect(Buffer.from(secret.data.token, 'base64').toString()).toBe(TOKEN);
    expect(configMap.data.Containerfile).toBe(CONTAINERFILE);
    expect(secret.metadata.labels).toMatchObject({ 'apprunner.k8s/build-id': id, 'apprunner.k8s/account-id': '123456789012' });

    const clone = live.spec.template.spec.initContainers[0];
    expect(clone.env.find((e: any) => e.name === 'GIT_TOKEN').valueFrom.secretKeyRef).toEqual({
      name: `${buildJobName(id)}-source`,
      key: 'token',
    });
    const build = live.spec.template.spec.containers[0];
    expect(build.command[2]).toContain('--cache-from "$CACHE_REPOSITORY"');
    expect(live.spec.template.spec.volumes).toContainEqual({
      name: 'registry-auth',
      secret: { secretName: 'registry-push', items: [{ key: '.dockerconfigjson', path: '.dockerconfigjson' }] },
    });
    for (const text of [JSON.stringify(live), JSON.stringify(pods(id)), JSON.stringify(configMap)]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(Buffer.from(TOKEN).toString('base64'));
    }
  });

  it('names the failed step from the termination message the kubelet kept of the build log', async () => {
    const id = 'op-step-fails';
    const log = 'STEP 1/3: FROM node:22\nSTEP 2/3: RUN npm ci\nnpm ERR! code E404\nError: building at STEP "RUN npm ci": exit status 1\n';
    script(id, { logs: { clone: CLONE_LOG, build: log }, result: { exitCode: 1 }, delayMs: 50 });
    const logs: string[] = [];
    const error = await failure(builder().build(request(id, logs)));
    expect(error).toMatchObject({ kind: 'build', reason: 'RUN step 2/3 "npm ci" exited with code 1' });
    expect(error.logTail).toContain('npm ERR! code E404');
    expect(logs.join('')).toContain(`${CLONE_LOG}${log}`);
    expect(job(id).status.conditions.find((c: any) => c.type === 'Failed')).toMatchObject({
      status: 'True',
      reason: 'BackoffLimitExceeded',
    });
    // backoffLimit 0: one pod, never retried.
    expect(pods(id)).toHaveLength(1);
  });

  it("reports a failed clone with git's last line", async () => {
    const id = 'op-clone-fails';
    script(id, {
      logs: { clone: "fatal: couldn't find remote ref 0123456789abcdef\n" },
      result: { exitCode: 128, container: 'clone' },
      delayMs: 30,
    });
    const error = await failure(builder().build(request(id, [])));
    expect(error).toMatchObject({
      kind: 'build',
      reason: "cloning the source failed (exit code 128): fatal: couldn't find remote ref 0123456789abcdef",
    });
  });

  it("fails with kind 'timeout' when the Job exceeds its activeDeadlineSeconds", async () => {
    const id = 'op-deadline';
    script(id, { logs: { clone: CLONE_LOG, build: 'STEP 1/2: RUN sleep 3600\n' }, delayMs: 60_000 });
    const logs: string[] = [];
    const error = await failure(builder().build(request(id, logs, { timeoutMs: 1_000 })));
    expect(error).toMatchObject({ kind: 'timeout', reason: 'build timed out after 1 s' });
    expect(job(id).spec.activeDeadlineSeconds).toBe(1);
    expect(job(id).status.conditions.find((c: any) => c.type === 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
    expect(pods(id)).toEqual([]);
  });

  it("deletes the Job itself and fails with kind 'timeout' when the cluster does not end it in time", async () => {
    const id = 'op-local-deadline';
    kube.simulator.stop();
    try {
      const error = await failure(builder({ deadlineGraceMs: 100 }).build(request(id, [], { timeoutMs: 300 })));
      expect(error).toMatchObject({ kind: 'timeout', reason: 'build timed out after 0.3 s (the build Job did not finish)' });
    } finally {
      kube.simulator.start(5);
    }
    expect(job(id)).toBeUndefined();
    expect(kube.store.get('v1', 'Secret', NS, `${buildJobName(id)}-source`)).toBeUndefined();
  });

  it("deletes the Job (and with it its pod, Secret and ConfigMap) on abort: kind 'cancelled'", async () => {
    const id = 'op-abort';
    script(id, { logs: { clone: CLONE_LOG, build: 'STEP 1/2: RUN sleep 3600\n' }, delayMs: 60_000 });
    const abort = new AbortController();
    const logs: string[] = [];
    const building = builder().build(request(id, logs, { signal: abort.signal }));
    await waitFor('the clone container to run', () => pods(id)[0]?.status?.initContainerStatuses?.[0]?.state?.running !== undefined);
    abort.abort();
    const error = await failure(building);
    expect(error).toMatchObject({ kind: 'cancelled', reason: 'build cancelled' });
    expect(job(id)).toBeUndefined();
    expect(pods(id)).toEqual([]);
    expect(kube.store.get('v1', 'Secret', NS, `${buildJobName(id)}-source`)).toBeUndefined();
    expect(kube.store.get('v1', 'ConfigMap', NS, `${buildJobName(id)}-containerfile`)).toBeUndefined();
    expect(kube.calls.filter((c) => c.verb === 'delete' && c.resource === 'jobs' && c.name === buildJobName(id))).toHaveLength(1);
    // Aborted before it starts: nothing is created.
    await expect(builder().build(request('op-aborted-early', [], { signal: AbortSignal.abort() }))).rejects.toMatchObject({
      kind: 'cancelled',
    });
    expect(job('op-aborted-early')).toBeUndefined();
  });

  it('adopts the running Job when another worker calls build for the same build id, and reads its whole log', async () => {
    const id = 'op-adopt';
    script(id, { logs: { clone: CLONE_LOG, build: BUILD_LOG }, result: { digest: DIGEST }, delayMs: 400 });
    const first: string[] = [];
    const building = builder().build(request(id, first));
    await waitFor('the pod to run', () => pods(id)[0]?.status?.initContainerStatuses?.[0]?.state?.running !== undefined);
    const uid = job(id).metadata.uid;
    // A second worker (its own client) takes over with a fresh token.
    const other = await KubeClient.connect({ options: kube.kubeConfigOptions() }, 'apprunner-k8s');
    const second: string[] = [];
    const adopted = await new KubernetesJobDriver(other, {
      namespace: NS,
      buildahImage: 'quay.io/buildah/stable:v1.41.4',
      cloneImage: 'docker.io/alpine/git:2.47.2',
      tlsVerify: false,
      pollMs: 10,
    }).build(
      request(id, second, {
        source: { cloneUrl: 'https://github.com/example/web.git', commit: COMMIT, token: 'ghs_refreshed', contextDirectory: '.' },
      }),
    );
    expect(adopted).toMatchObject({ digest: DIGEST, image: `${REPOSITORY}@${DIGEST}` });
    expect(await building).toMatchObject({ digest: DIGEST });

    expect(job(id).metadata.uid).toBe(uid);
    expect(createdJobs(id)).toHaveLength(1);
    expect(pods(id)).toHaveLength(1);
    expect(second.join('')).toBe(`==> Following build Job ${NS}/${buildJobName(id)} (already started)\n${CLONE_LOG}${BUILD_LOG}`);
    expect(first.join('')).toBe(`==> Started build Job ${NS}/${buildJobName(id)}\n${CLONE_LOG}${BUILD_LOG}`);
    const configMap: any = kube.store.get('v1', 'ConfigMap', NS, `${buildJobName(id)}-containerfile`);
    expect(configMap.metadata.ownerReferences[0].uid).toBe(uid);

    // Once it has finished, a build call answers from the Job's result without starting another.
    const again = await builder().build(request(id, []));
    expect(again.digest).toBe(DIGEST);
    expect(createdJobs(id)).toHaveLength(1);
  });

  it('leaves no Secret behind when the API server rejects the Job', async () => {
    const id = 'op-rejected';
    const error = await failure(builder({ buildahImage: '' }).build(request(id, [])));
    expect(error.kind).toBe('builder');
    expect(error.reason).toMatch(/refused a build request: .*Job.* is invalid: .*spec\.template\.spec\.containers\[0\]\.image/);
    expect(job(id)).toBeUndefined();
    expect(kube.store.get('v1', 'Secret', NS, `${buildJobName(id)}-source`)).toBeUndefined();
    expect(kube.store.get('v1', 'ConfigMap', NS, `${buildJobName(id)}-containerfile`)).toBeUndefined();
  });

  it('gives the build container fixed resources (requests = limits), so one build cannot starve a node', async () => {
    const id = 'op-resources';
    script(id, { logs: { clone: CLONE_LOG, build: BUILD_LOG }, result: { digest: DIGEST }, delayMs: 50 });
    await builder({ resources: { cpu: '2', memory: '4Gi', ephemeralStorage: '20Gi' } }).build(request(id, []));
    const build = job(id).spec.template.spec.containers.find((c: any) => c.name === 'build');
    const quantities = { cpu: '2', memory: '4Gi', 'ephemeral-storage': '20Gi' };
    expect(build.resources).toEqual({ requests: quantities, limits: quantities });
  });

  it('needs the source to clone', async () => {
    const req = request('op-no-source', []);
    delete req.source;
    await expect(builder().build(req)).rejects.toThrow(/needs req\.source/);
    expect(job('op-no-source')).toBeUndefined();
  });

  it('wrote only valid objects, and its calls need exactly the Role the chart grants in the build namespace', () => {
    expect(kube.simulator.lastError).toBeUndefined();
    const own = kube.calls.filter((c) => c.user === kube.kubeConfigOptions().users[0].token && c.namespace === NS);
    // Only the rejected Job was refused: every other object passed the schema validation.
    expect(own.filter((c) => c.status >= 400 && c.status !== 404).map((c) => `${c.verb} ${c.resource} ${c.status}`)).toEqual([
      'patch jobs 422',
    ]);
    // rbacRulesFromCalls counts a server-side apply that created an object as `create` too (kube-apiserver does).
    const rules = rbacRulesFromCalls(own);
    if (process.env.UPDATE_GOLDEN) writeFileSync(RBAC_FILE, `${JSON.stringify(rules, null, 2)}\n`);
    expect(rules).toEqual(JSON.parse(readFileSync(RBAC_FILE, 'utf8')));

    const r = spawnSync(
      'bash',
      [
        join(ROOT, 'scripts/helm.sh'),
        'template',
        'ar',
        CHART,
        '--namespace',
        'apprunner',
        '-f',
        join(CHART, 'ci/existing-secret-values.yaml'),
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 32 * 1024 * 1024,
      },
    );
    expect(r.stderr).toBe('');
    const role = YAML.parseAllDocuments(r.stdout)
      .map((d) => d.toJS())
      .find((o) => o?.kind === 'Role' && o.metadata.namespace === NS);
    expect(role.rules).toEqual(rules);
  });
});
