import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onRealCluster, proxyFor, testCluster } from '../support/real-cluster';
import type { KubeProxy } from '../support/kube-proxy';
import { ReconcileConsumer } from '../../apps/worker/src/reconcile.consumer';
import { WorkerHealthServer } from '../../apps/worker/src/worker-health';
import { startTestPlatform, type TestPlatform } from '../support/platform';

const cluster = testCluster();

/**
 * The worker's terminus probes: live while its queue consumer runs; ready with PostgreSQL, Redis and the Kubernetes API
 * (the real one, reached through a proxy that the test closes to take the API away).
 */
describe.skipIf(!cluster)(onRealCluster('worker health endpoints'), () => {
  let proxy: KubeProxy;
  let platform: TestPlatform;
  let base: string;

  beforeAll(async () => {
    proxy = await proxyFor(cluster!);
    platform = await startTestPlatform({
      cluster: { info: cluster!, via: proxy.url },
      env: { WORKER_HEALTH_PORT: '0', HOST: '127.0.0.1' },
    });
    base = `http://127.0.0.1:${platform.worker()!.get(WorkerHealthServer).port}`;
  });
  afterAll(async () => {
    await platform?.close();
    await proxy?.close().catch(() => undefined);
  });

  it('is live and ready while everything answers', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, redis: { status: 'up' }, kubernetes: { status: 'up' } },
    });
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it('is not ready without the Kubernetes API, and stays live (a restart would not bring the API back)', async () => {
    await proxy.close();
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
