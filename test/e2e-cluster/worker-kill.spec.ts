import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateServiceCommand, DescribeServiceCommand, UpdateServiceCommand } from '@aws-sdk/client-apprunner';
import type { KubeClient } from '@apprunner/kubernetes';
import { adminKube, onRealCluster, proxyFor, testCluster, workerKubeOptions } from '../support/real-cluster';
import type { KubeProxy } from '../support/kube-proxy';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

const ROOT = join(__dirname, '../..');
const LOCK_MS = 1_000;
const cluster = testCluster();

/**
 * The worker as a separate process, killed with SIGKILL in the middle of a reconcile pass (no shutdown hook runs, its
 * BullMQ job stays active and locked). A new worker takes the job over once the lock lapses and finishes the
 * operation once. The worker reaches the real API server (as the chart's ServiceAccount) through a proxy that can
 * hold requests, so that the kill lands while a pass is waiting on the API server.
 */
describe.skipIf(!cluster)(onRealCluster('a worker killed with SIGKILL mid-operation'), () => {
  let kube: KubeClient;
  let platform: TestPlatform;
  let tenant: TestTenant;
  const children: ChildProcess[] = [];
  let proxy: KubeProxy;
  let proxyUrl: string;
  let holdMs = 0;
  let held = 0;

  const startWorker = async (): Promise<ChildProcess> => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      TEST_KUBE_OPTIONS: JSON.stringify(workerKubeOptions(cluster!, proxyUrl)),
      TEST_POLL_MS: '50',
    };
    for (const [k, v] of Object.entries(platform.config)) if (v !== undefined) env[k] = String(v);
    env.JOB_LOCK_MS = String(LOCK_MS);
    env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'node_modules/vite-node/vite-node.mjs'),
        '-c',
        join(ROOT, 'vitest.config.mts'),
        join(ROOT, 'test/support/worker-main.ts'),
      ],
      {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(child);
    let out = '';
    const echo = process.env.TEST_LOG_LEVEL ? (d: unknown) => process.stderr.write(String(d)) : () => undefined;
    child.stdout!.on('data', (d) => ((out += String(d)), echo(d)));
    child.stderr!.on('data', (d) => ((out += String(d)), echo(d)));
    await waitFor(
      async () => out.includes('worker ready') || (child.exitCode !== null && Promise.reject(new Error(out))),
      'worker process ready',
      30_000,
    );
    return child;
  };

  beforeAll(async () => {
    kube = await adminKube(cluster!);
    proxy = await proxyFor(cluster!, (_req, _res, forward) => {
      if (holdMs > 0) {
        held++;
        setTimeout(forward, holdMs);
      } else forward();
    });
    proxyUrl = proxy.url;
    platform = await startTestPlatform({ cluster: { info: cluster!, via: proxyUrl }, worker: false });
    tenant = await platform.newTenant('worker-kill');
  }, 60_000);
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await platform?.close();
    await proxy?.close();
    if (tenant)
      await kube
        ?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `apprunner-${tenant.accountId}` } })
        .catch(() => undefined);
  });

  it('finishes the operation exactly once after a restart', async () => {
    const status = async (arn: string) => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: arn }))).Service!.Status;
    const first = await startWorker();
    const svc = (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: 'killed-mid-way',
          SourceConfiguration: { ImageRepository: { ImageIdentifier: 'registry.internal/k/app:1', ImageRepositoryType: 'ECR' } },
        }),
      )
    ).Service!;
    await waitFor(async () => (await status(svc.ServiceArn!)) === 'RUNNING', 'RUNNING', 20_000);

    // The next pass hangs on the API server; the worker is killed while it waits.
    holdMs = 3_000;
    await tenant.client.send(
      new UpdateServiceCommand({
        ServiceArn: svc.ServiceArn,
        SourceConfiguration: { ImageRepository: { ImageIdentifier: 'registry.internal/k/app:2', ImageRepositoryType: 'ECR' } },
      }),
    );
    const deployment = () => kube.get<any>('apps/v1', 'Deployment', `svc-${svc.ServiceId}`, `apprunner-${tenant.accountId}`);
    await waitFor(async () => held > 0, 'a pass waiting on the API server');
    first.kill('SIGKILL');
    await waitFor(async () => first.exitCode !== null || first.signalCode !== null, 'first worker dead');
    await new Promise((r) => setTimeout(r, 3_500)); // the held request reaches the API server after the kill, and is answered to nobody
    expect(await status(svc.ServiceArn!)).toBe('OPERATION_IN_PROGRESS'); // nobody is working on it
    holdMs = 0;

    await startWorker();
    // The takeover itself needs one lock period (1 s); the rest is the rollout on the real cluster, which a loaded
    // two-core machine (CI with builds beside it) has been seen to take more than 20 s over.
    await waitFor(async () => (await status(svc.ServiceArn!)) === 'RUNNING', 'RUNNING after restart', 45_000);
    const ops = await platform.prisma.operation.findMany({
      where: { service: { serviceId: svc.ServiceId! } },
      orderBy: { createdAt: 'asc' },
    });
    expect(ops.map((o) => [o.type, o.status])).toEqual([
      ['CREATE_SERVICE', 'SUCCEEDED'],
      ['UPDATE_SERVICE', 'SUCCEEDED'],
    ]);
    expect((await deployment())?.spec.template.spec.containers[0].image).toBe('registry.internal/k/app:2');
  }, 90_000);
});
