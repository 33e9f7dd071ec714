import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateServiceCommand, DescribeServiceCommand } from '@aws-sdk/client-apprunner';
import { helmTemplate, onRealCluster, proxyFor, testCluster } from '../support/real-cluster';
import type { KubeProxy } from '../support/kube-proxy';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { configEnv, type PlatformProcess, startPlatformProcess, workerKubeconfig } from '../support/processes';
import { waitFor } from '../support/wait';

const cluster = testCluster();

/** What the chart gives each Deployment: its grace period, the preStop sleep, and the SHUTDOWN_TIMEOUT_SECONDS it sets. */
function chartShutdown(component: 'api' | 'worker'): { grace: number; preStop: number; timeout: number } {
  const deployment = helmTemplate('apprunner', 'apprunner-system', ['-f', 'charts/apprunner-k8s/values-evaluation.yaml']).find(
    (o) => o.kind === 'Deployment' && o.metadata.name.endsWith(`-${component}`),
  ) as any;
  const spec = deployment.spec.template.spec;
  const container = spec.containers[0];
  return {
    grace: spec.terminationGracePeriodSeconds,
    preStop: container.lifecycle?.preStop?.sleep?.seconds ?? 0,
    timeout: Number(container.env.find((e: { name: string }) => e.name === 'SHUTDOWN_TIMEOUT_SECONDS')?.value),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * SIGTERM, as Kubernetes sends it when a pod goes away: the API and the worker stop within the termination grace period
 * the chart gives them, leaving nothing half done. The worker runs as the chart's ServiceAccount against the real API
 * server, through a proxy that can hold its requests (a pass that hangs on the cluster).
 */
describe.skipIf(!cluster)(onRealCluster('graceful shutdown within the chart’s grace period'), () => {
  let proxy: KubeProxy;
  let platform: TestPlatform;
  let holdMs = 0;
  let held = 0;
  const holds: NodeJS.Timeout[] = [];
  const processes: PlatformProcess[] = [];
  const worker = chartShutdown('worker');
  const api = chartShutdown('api');

  beforeAll(async () => {
    proxy = await proxyFor(cluster!, (_req, _res, forward) => {
      if (holdMs === 0) return forward();
      held++;
      holds.push(setTimeout(forward, holdMs));
    });
    platform = await startTestPlatform({ cluster: { info: cluster!, via: proxy.url }, worker: false });
  });
  afterAll(async () => {
    for (const p of processes) p.kill();
    for (const h of holds) clearTimeout(h);
    await platform?.close();
    await proxy?.close();
  });

  const startWorker = async (env: Record<string, string> = {}) => {
    const p = await startPlatformProcess(
      'worker',
      configEnv(platform.config, {
        KUBECONFIG: workerKubeconfig(cluster!, proxy.url),
        WORKER_HEALTH_PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT_SECONDS: String(worker.timeout),
        ...env,
      }),
      (out) => out.includes('health endpoints on port'),
    );
    processes.push(p);
    return p;
  };

  it('the chart gives both Deployments a grace period and their processes a shutdown bound inside it', () => {
    expect(api.grace).toBeGreaterThan(0);
    expect(worker.grace).toBeGreaterThan(0);
    // the bound, and the API's preStop sleep before SIGTERM, end at least 5 s before Kubernetes' SIGKILL
    expect(api.preStop + api.timeout + 5).toBeLessThanOrEqual(api.grace);
    expect(worker.timeout + 5).toBeLessThanOrEqual(worker.grace);
  });

  it('an idle worker exits at once', async () => {
    const p = await startWorker();
    const sent = Date.now();
    p.child.kill('SIGTERM');
    const exit = await p.exited();
    expect(exit.at - sent).toBeLessThan(3_000);
    expect(p.output()).toContain('SIGTERM: stopping');
    expect(p.output()).not.toContain('did not finish');
  }, 90_000);

  it('a worker whose pass hangs on the API server exits within its bound; the job goes back and another worker ends the operation once', async () => {
    const tenant = await platform.newTenant('shutdown-busy');
    const svc = (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: 'held-pass',
          SourceConfiguration: { ImageRepository: { ImageIdentifier: 'registry.internal/a/b:1', ImageRepositoryType: 'ECR' } },
        }),
      )
    ).Service!;
    // every request of the pass hangs for longer than the whole grace period; a lapsed lock would take a minute
    holdMs = 120_000;
    const p = await startWorker({ JOB_LOCK_MS: '60000' });
    await waitFor(async () => held > 0, 'a pass waiting on the API server', 30_000);
    const sent = Date.now();
    p.child.kill('SIGTERM');
    const exit = await p.exited();
    const took = exit.at - sent;
    process.stdout.write(`[shutdown] busy worker exited ${took} ms after SIGTERM (bound ${worker.timeout} s, grace ${worker.grace} s)\n`);
    expect(took).toBeLessThan(worker.timeout * 1_000);
    expect(p.output()).toMatch(/job service-operation\.[0-9a-f-]+ handed back to the queue/);

    holdMs = 0;
    const takenOver = Date.now();
    await platform.startWorker();
    await waitFor(
      async () => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: svc.ServiceArn }))).Service!.Status === 'RUNNING',
      'RUNNING after the hand-back',
      30_000,
    );
    // far sooner than the 60 s lock: the job was handed back, not abandoned
    expect(Date.now() - takenOver).toBeLessThan(30_000);
    const ops = await platform.prisma.operation.findMany({ where: { service: { serviceId: svc.ServiceId! } } });
    expect(ops.map((o) => [o.type, o.status])).toEqual([['CREATE_SERVICE', 'SUCCEEDED']]);
    await platform.stopWorker();
  }, 120_000);

  it('the API finishes the request in flight, then exits', async () => {
    const port = await freePort();
    const p = await startPlatformProcess(
      'api',
      configEnv(platform.config, {
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT_SECONDS: String(api.timeout),
      }),
      (out) => out.includes('Nest application successfully started'),
    );
    processes.push(p);
    // an idle keep-alive connection must not keep it up
    await fetch(`http://127.0.0.1:${port}/healthz`);
    // a request whose body is still arriving when SIGTERM comes
    const body = JSON.stringify({ Name: 'created-while-stopping' });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/admin/tenants',
          headers: {
            authorization: `Bearer ${platform.config.ADMIN_TOKEN}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += String(d)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        p.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 1_000);
      }, 300);
    });
    const sent = Date.now();
    const response = await answer;
    const answeredAt = Date.now();
    expect(response.status).toBe(201);
    expect(JSON.parse(response.body).Tenant.Name).toBe('created-while-stopping');
    const exit = await p.exited();
    process.stdout.write(
      `[shutdown] API exited ${exit.at - sent} ms after SIGTERM, ${exit.at - answeredAt} ms after answering the request in flight (bound ${api.timeout} s)\n`,
    );
    expect(exit.at - sent).toBeLessThan(api.timeout * 1_000);
    // no keep-alive connection (the request's own, or the idle one) holds the close open until its timeout
    expect(exit.at - answeredAt).toBeLessThan(2_500);
    expect(p.output()).not.toContain('did not finish');
    // and it no longer accepts connections
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 90_000);
});
