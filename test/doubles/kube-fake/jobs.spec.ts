import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultJobDigest, formatLogTime } from './jobs';
import { type FakeKube, startFakeKube } from './index';
import { type Clients, connect, deployment, failure } from './spec-support';

const NS = 'jobs';
const T0 = Date.parse('2025-03-01T10:00:00Z');

function job(name: string, spec: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS, labels: { app: 'builder' } },
    spec: {
      backoffLimit: 0,
      ...spec,
      template: {
        metadata: { labels: { app: 'builder', 'build-id': name } },
        spec: {
          restartPolicy: 'Never',
          initContainers: [{ name: 'clone', image: 'docker.io/alpine/git:2.47.2' }],
          containers: [{ name: 'build', image: 'quay.io/buildah/stable:v1.41.4', terminationMessagePolicy: 'FallbackToLogsOnError' }],
        },
      },
    },
  };
}

describe('kube-fake Jobs: controller, kubelet and pod logs', () => {
  let kube: FakeKube;
  let c: Clients;

  beforeAll(async () => {
    kube = await startFakeKube({ namespaces: ['default', NS], clock: () => new Date(T0), crds: 'none' });
    c = connect(kube);
  });
  afterAll(async () => {
    await kube?.close();
  });

  const get = (name: string): any => kube.store.get('batch/v1', 'Job', NS, name);
  const podsOf = (name: string): any[] => kube.store.list('v1', 'Pod', NS).filter((p) => p.metadata.labels?.['job-name'] === name);
  const advance = async (ms: number): Promise<void> => {
    kube.simulator.advance(ms);
    await kube.simulator.settle();
  };
  const rawLog = async (pod: string, query: string): Promise<{ status: number; text: string; type: string | null }> => {
    const res = await fetch(`${kube.url}/api/v1/namespaces/${NS}/pods/${pod}/log?${query}`);
    return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
  };

  it('runs a pod per Job, init container then container, and completes the Job as the job controller does', async () => {
    kube.simulator.jobs.script('ok', { logs: { clone: 'cloning\ndone\n', build: 'one\ntwo\nthree\n' }, delayMs: 1_000 });
    await c.objects.create(job('ok'));
    await kube.simulator.settle();
    const [pod] = podsOf('ok');
    const uid = get('ok').metadata.uid;
    expect(pod.metadata.name).toMatch(/^ok-[a-z0-9]{5}$/);
    expect(pod.metadata.labels).toEqual({
      app: 'builder',
      'build-id': 'ok',
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'ok',
      'controller-uid': uid,
      'job-name': 'ok',
    });
    expect(pod.metadata.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: 'ok', uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(pod.status.phase).toBe('Pending');
    expect(pod.status.initContainerStatuses[0].state).toEqual({ running: { startedAt: '2025-03-01T10:00:00Z' } });
    expect(pod.status.containerStatuses[0].state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(get('ok').status).toEqual({
      startTime: '2025-03-01T10:00:00Z',
      active: 1,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
    });

    await advance(1_000);
    const running = podsOf('ok')[0];
    expect(running.status.phase).toBe('Running');
    expect(running.status.initContainerStatuses[0]).toMatchObject({
      ready: true,
      state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: '2025-03-01T10:00:01Z' } },
    });
    expect(running.status.containerStatuses[0]).toMatchObject({
      ready: true,
      started: true,
      state: { running: { startedAt: '2025-03-01T10:00:01Z' } },
    });
    expect(get('ok').status).toMatchObject({ active: 1, ready: 1 });

    await advance(1_000);
    const done = podsOf('ok')[0];
    expect(done.status.phase).toBe('Succeeded');
    expect(done.status.containerStatuses[0].state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
      message: defaultJobDigest(NS, 'ok'),
    });
    const status = get('ok').status;
    expect(status).toMatchObject({ succeeded: 1, ready: 0, completionTime: '2025-03-01T10:00:02Z' });
    expect(status.active).toBeUndefined();
    expect(status.conditions.map((x: any) => [x.type, x.status, x.reason])).toEqual([
      ['SuccessCriteriaMet', 'True', 'CompletionsReached'],
      ['Complete', 'True', 'CompletionsReached'],
    ]);
    expect(kube.simulator.lastError).toBeUndefined();
  });

  it('serves pod logs as kube-apiserver does: growing while the container runs, timestamps, sinceTime, tailLines, limitBytes', async () => {
    kube.simulator.jobs.script('logs', { logs: { clone: 'a\nb\nc\n', build: 'x\ny\n' }, delayMs: 400 });
    await c.objects.create(job('logs'));
    await kube.simulator.settle();
    const pod = podsOf('logs')[0].metadata.name;
    // The pod starts at T0 + 2 s (the clock moved in the test before); lines appear at 100, 200 and 300 ms of the container's 400.
    expect(await c.core.readNamespacedPodLog({ name: pod, namespace: NS, container: 'clone' })).toBe('');
    kube.simulator.advance(250);
    expect(await c.core.readNamespacedPodLog({ name: pod, namespace: NS, container: 'clone' })).toBe('a\nb\n');
    const stamped = await rawLog(pod, 'container=clone&timestamps=true');
    expect(stamped).toEqual({ status: 200, text: `${formatLogTime(T0 + 2_100)} a\n${formatLogTime(T0 + 2_200)} b\n`, type: 'text/plain' });
    expect(formatLogTime(T0 + 120)).toBe('2025-03-01T10:00:00.12Z');
    expect(formatLogTime(T0)).toBe('2025-03-01T10:00:00Z');

    // The build container has not started: 400, as the kubelet answers.
    const waiting = await failure(c.core.readNamespacedPodLog({ name: pod, namespace: NS, container: 'build' }));
    expect(waiting.code).toBe(400);
    expect(waiting.body.message).toBe(`container "build" in pod "${pod}" is waiting to start: PodInitializing`);

    await advance(1_000);
    expect(await c.core.readNamespacedPodLog({ name: pod, namespace: NS, container: 'build' })).toBe('x\ny\n');
    expect(await c.core.readNamespacedPodLog({ name: pod, namespace: NS, container: 'clone', tailLines: 1 })).toBe('c\n');
    expect(await c.core.readNamespacedPodLog({ name: pod, namespace: NS, container: 'clone', limitBytes: 3 })).toBe('a\nb');
    // sinceTime counts whole seconds: the fraction is dropped.
    expect((await rawLog(pod, `container=build&sinceTime=${encodeURIComponent('2025-03-01T10:00:02.900Z')}`)).text).toBe('x\ny\n');
    expect((await rawLog(pod, `container=build&sinceTime=${encodeURIComponent('2025-03-01T10:00:03Z')}`)).text).toBe('');
    expect((await rawLog(pod, 'container=build&sinceTime=yesterday')).status).toBe(400);
  });

  it('answers log requests for missing pods and containers with the API server errors', async () => {
    const pod = podsOf('logs')[0].metadata.name;
    // The only container is the default; init containers do not count.
    expect(await c.core.readNamespacedPodLog({ name: pod, namespace: NS })).toBe('x\ny\n');
    const sidecar = job('sidecar');
    sidecar.spec.template.spec.containers.push({ name: 'proxy', image: 'envoyproxy/envoy:v1.31.0' });
    await c.objects.create(sidecar);
    await kube.simulator.settle();
    const two = podsOf('sidecar')[0].metadata.name;
    const unnamed = await failure(c.core.readNamespacedPodLog({ name: two, namespace: NS }));
    expect(unnamed.code).toBe(400);
    expect(unnamed.body.message).toBe(`a container name must be specified for pod ${two}, choose one of: [clone build proxy]`);
    const wrong = await failure(c.core.readNamespacedPodLog({ name: pod, namespace: NS, container: 'push' }));
    expect(wrong.code).toBe(400);
    expect(wrong.body.message).toBe(`container push is not valid for pod ${pod}`);
    const missing = await failure(c.core.readNamespacedPodLog({ name: 'nope', namespace: NS, container: 'build' }));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({ reason: 'NotFound', message: 'pods "nope" not found' });

    // A pod the Job controller does not run (a Deployment's): the only container is the default, its log empty.
    await c.apps.createNamespacedDeployment({ namespace: NS, body: deployment('web', NS, 'nginx:1.27', 1) as any });
    await kube.simulator.settle();
    const web = kube.store.list('v1', 'Pod', NS).find((p) => p.metadata.labels?.app === 'web');
    expect(await c.core.readNamespacedPodLog({ name: web!.metadata.name!, namespace: NS })).toBe('');
    expect(
      kube.calls.filter((x) => x.subresource === 'log').every((x) => x.verb === 'get' && x.resource === 'pods' && x.kind === 'Pod'),
    ).toBe(true);
  });

  it('replaces failed pods up to backoffLimit, then fails the Job; the termination message falls back to the log tail', async () => {
    const log = 'STEP 1/2: RUN make\nmake: *** [all] Error 2\n';
    kube.simulator.jobs.script((j) => j.metadata.name === 'flaky', { logs: { build: log }, result: { exitCode: 2 }, delayMs: 100 });
    await c.objects.create(job('flaky', { backoffLimit: 1 }));
    await kube.simulator.settle();
    await advance(200);
    expect(
      podsOf('flaky')
        .map((p) => p.status.phase)
        .sort(),
    ).toEqual(['Failed', 'Pending']);
    expect(get('flaky').status).toMatchObject({ failed: 1, active: 1 });
    await advance(200);
    const pods = podsOf('flaky');
    expect(pods.map((p) => p.status.phase)).toEqual(['Failed', 'Failed']);
    expect(pods[0].status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 2, reason: 'Error', message: log });
    const status = get('flaky').status;
    expect(status).toMatchObject({ failed: 2 });
    expect(status.conditions.map((x: any) => [x.type, x.reason, x.message])).toEqual([
      ['FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
      ['Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
    ]);
    // A failed init container: the container never starts.
    kube.simulator.jobs.script('no-clone', { result: { exitCode: 128, container: 'clone', message: 'fatal: not found' }, delayMs: 10 });
    await c.objects.create(job('no-clone'));
    await kube.simulator.settle();
    await advance(50);
    const [pod] = podsOf('no-clone');
    expect(pod.status.phase).toBe('Failed');
    expect(pod.status.initContainerStatuses[0].state.terminated).toMatchObject({ exitCode: 128, message: 'fatal: not found' });
    expect(pod.status.containerStatuses[0].state).toEqual({ waiting: { reason: 'PodInitializing' } });
  });

  it('fails a Job past activeDeadlineSeconds, deleting its active pod', async () => {
    kube.simulator.jobs.script('slow', { delayMs: 600_000 });
    await c.objects.create(job('slow', { activeDeadlineSeconds: 5 }));
    await kube.simulator.settle();
    await advance(4_000);
    expect(podsOf('slow')).toHaveLength(1);
    await advance(1_000);
    expect(podsOf('slow')).toEqual([]);
    const status = get('slow').status;
    expect(status).toMatchObject({ failed: 1, ready: 0 });
    expect(status.conditions.find((x: any) => x.type === 'Failed')).toMatchObject({
      status: 'True',
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    });
  });

  it('deletes finished Jobs after ttlSecondsAfterFinished, and a deleted Job takes its pod along', async () => {
    kube.simulator.jobs.script('ttl', { delayMs: 0 });
    await c.objects.create(job('ttl', { ttlSecondsAfterFinished: 60 }));
    await kube.simulator.settle();
    expect(get('ttl').status.succeeded).toBe(1);
    await advance(59_000);
    expect(get('ttl')).toBeDefined();
    await advance(1_000);
    expect(get('ttl')).toBeUndefined();
    expect(podsOf('ttl')).toEqual([]);

    kube.simulator.jobs.script('gone', { delayMs: 600_000 });
    await c.objects.create(job('gone'));
    await kube.simulator.settle();
    expect(podsOf('gone')).toHaveLength(1);
    await c.objects.delete(job('gone'), undefined, undefined, undefined, undefined, 'Foreground');
    await kube.simulator.settle();
    expect(podsOf('gone')).toEqual([]);
    expect(kube.simulator.lastError).toBeUndefined();
  });
});
