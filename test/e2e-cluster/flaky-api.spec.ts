import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateServiceCommand, DescribeServiceCommand, UpdateServiceCommand } from '@aws-sdk/client-apprunner';
import type { KubeClient } from '@apprunner/kubernetes';
import { adminKube, onRealCluster, proxyFor, testCluster } from '../support/real-cluster';
import type { KubeProxy } from '../support/kube-proxy';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

const cluster = testCluster();

/**
 * A proxy in front of the real API server that makes writes fail the way busy API servers do (409
 * Conflict, 429 Too Many Requests, 500, or a dropped connection). The worker must retry with backoff and still
 * finish every operation exactly once.
 */
describe.skipIf(!cluster)(onRealCluster('reconciling through a flaky API server'), () => {
  let kube: KubeClient;
  let proxy: KubeProxy;
  let platform: TestPlatform;
  let tenant: TestTenant;
  const injected: string[] = [];

  beforeAll(async () => {
    kube = await adminKube(cluster!);
    let writes = 0;
    const seen = new Set<string>();
    const failures = [
      (res: ServerResponse) => status(res, 409, 'Conflict', 'Operation cannot be fulfilled: the object has been modified'),
      (res: ServerResponse) => status(res, 429, 'TooManyRequests', 'the server has received too many requests'),
      (res: ServerResponse) => status(res, 500, 'InternalError', 'etcdserver: request timed out'),
      (res: ServerResponse) => res.socket?.destroy(),
    ];
    proxy = await proxyFor(cluster!, (req, res, forward) => {
      // every other distinct write fails once (so every pass makes progress on its retry)
      const path = `${req.method} ${req.url}`;
      if (req.method !== 'GET' && !seen.has(path) && (seen.add(path), ++writes % 2 === 0)) {
        const fail = failures[(writes / 2) % failures.length];
        injected.push(`${req.method} ${req.url}`);
        req.resume();
        fail(res);
        return;
      }
      forward();
    });
    platform = await startTestPlatform({
      cluster: { info: cluster!, via: proxy.url },
      pollMs: 30,
      env: { JOB_BACKOFF_MS: '20' },
    });
    tenant = await platform.newTenant('flaky-api');
  });
  afterAll(async () => {
    await platform?.close();
    await proxy?.close();
    if (tenant)
      await kube
        ?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `apprunner-${tenant.accountId}` } })
        .catch(() => undefined);
  });

  it('retries conflicts, throttling, server errors and dropped connections until the service runs', async () => {
    const svc = (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: 'flaky-web',
          SourceConfiguration: { ImageRepository: { ImageIdentifier: 'registry.internal/a/b:1', ImageRepositoryType: 'ECR' } },
        }),
      )
    ).Service!;
    const running = () =>
      waitFor(
        async () => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: svc.ServiceArn }))).Service!.Status === 'RUNNING',
        'RUNNING',
        60_000,
      );
    await running();
    await tenant.client.send(
      new UpdateServiceCommand({
        ServiceArn: svc.ServiceArn,
        SourceConfiguration: { ImageRepository: { ImageIdentifier: 'registry.internal/a/b:2', ImageRepositoryType: 'ECR' } },
      }),
    );
    await running();

    expect(injected.length).toBeGreaterThanOrEqual(2);
    const ops = await platform.prisma.operation.findMany({
      where: { service: { serviceId: svc.ServiceId! } },
      orderBy: { createdAt: 'asc' },
    });
    expect(ops.map((o) => [o.type, o.status])).toEqual([
      ['CREATE_SERVICE', 'SUCCEEDED'],
      ['UPDATE_SERVICE', 'SUCCEEDED'],
    ]);
    const dep = await kube.get<any>('apps/v1', 'Deployment', `svc-${svc.ServiceId}`, `apprunner-${tenant.accountId}`);
    expect(dep.spec.template.spec.containers[0].image).toBe('registry.internal/a/b:2');
  }, 90_000);
});

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json', ...(code === 429 ? { 'retry-after': '1' } : {}) });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}
