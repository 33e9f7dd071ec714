import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKube, startFakeKube } from '@apprunner/kube-fake';
import { ReconcileConsumer } from '../../apps/worker/src/reconcile.consumer';
import { WorkerHealthServer } from '../../apps/worker/src/worker-health';
import { startTestPlatform, type TestPlatform } from '../support/platform';

/** The worker's terminus probes: live while its queue consumer runs; ready with PostgreSQL, Redis and the Kubernetes API. */
describe('worker health endpoints', () => {
  let kube: FakeKube;
  let platform: TestPlatform;
  let base: string;

  beforeAll(async () => {
    kube = await startFakeKube();
    platform = await startTestPlatform({ kube, env: { WORKER_HEALTH_PORT: '0', HOST: '127.0.0.1' } });
    base = `http://127.0.0.1:${platform.worker()!.get(WorkerHealthServer).port}`;
  });
  afterAll(async () => {
    await platform?.close();
    await kube?.close().catch(() => undefined);
  });

  it('is live and ready while everything answers', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' }, kubernetes: { status: 'up' } } });
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it('is not ready without the Kubernetes API, and stays live (a restart would not bring the API back)', async () => {
    await kube.close();
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'error', error: { kubernetes: { status: 'down' } } });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('is not live once its queue consumer stopped', async () => {
    const worker = platform.worker()!;
    await worker.get(ReconcileConsumer).onApplicationShutdown();
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
  });
});
