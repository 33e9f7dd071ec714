/**
 * The worker's side of `npm run bench`: N image services created through the AWS SDK and reconciled into the
 * in-process Kubernetes API (libs/kube-fake, real @kubernetes/client-node over HTTP, schema validation on), then
 * - reconcile throughput (CreateService → RUNNING for all N),
 * - Kubernetes API calls per reconcile,
 * - writes of a no-op resync (must be 0),
 * - control-plane time from UpdateService to the Deployment carrying the new image (p50/p99).
 */
import { CreateServiceCommand, UpdateServiceCommand } from '@aws-sdk/client-apprunner';
import { startFakeKube } from '@apprunner/kube-fake';
import { ResyncService, serviceObjectName } from '@apprunner/kubernetes';
import { startTestPlatform } from '../test/support/platform';

const SERVICES = Number(process.env.BENCH_RECONCILE_SERVICES ?? 1_000);
const UPDATES = Number(process.env.BENCH_RECONCILE_UPDATES ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

async function pool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

const quantile = (sorted: number[], p: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1));

export async function reconcileBench(): Promise<Record<string, unknown>> {
  const kube = await startFakeKube();
  kube.simulator.start(25);
  const platform = await startTestPlatform({ kube, pollMs: 200 });
  try {
    const tenant = await platform.newTenant('bench-reconcile', { Services: SERVICES });
    const ns = `apprunner-${tenant.accountId}`;
    const names = Array.from({ length: SERVICES }, (_, i) => `bench-svc-${i}`);
    const ids: string[] = new Array(SERVICES);
    const arns: string[] = new Array(SERVICES);

    kube.resetCalls();
    const createStart = Date.now();
    await pool(names, CONCURRENCY, async (name, i) => {
      const out = await tenant.client.send(
        new CreateServiceCommand({ ServiceName: name, SourceConfiguration: { ImageRepository: { ImageIdentifier: 'registry.internal/bench/app:1', ImageRepositoryType: 'ECR' } } }),
      );
      ids[i] = out.Service!.ServiceId!;
      arns[i] = out.Service!.ServiceArn!;
    });
    const accepted = Date.now();
    const deadline = Date.now() + 30 * 60_000;
    for (;;) {
      const running = await platform.prisma.service.count({ where: { status: 'RUNNING' } });
      if (running >= SERVICES) break;
      if (Date.now() > deadline) throw new Error(`only ${running} of ${SERVICES} services RUNNING after 30 min`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const converged = Date.now();
    const createCalls = kube.calls.length;
    const byVerb: Record<string, number> = {};
    for (const c of kube.calls) byVerb[c.verb] = (byVerb[c.verb] ?? 0) + 1;
    const passes = await platform.prisma.operation.count({ where: { type: 'CREATE_SERVICE' } });

    // A resync with nothing to correct: the simulated controllers are stopped so that only the platform could write.
    kube.simulator.stop();
    const s0 = performance.now();
    await kube.simulator.step();
    const simulatorStepMs = Number((performance.now() - s0).toFixed(1));
    const snapshot = () => {
      const versions = new Map<string, string>();
      for (const [apiVersion, kind] of [
        ['apps/v1', 'Deployment'],
        ['v1', 'Service'],
        ['autoscaling/v2', 'HorizontalPodAutoscaler'],
        ['networking.k8s.io/v1', 'Ingress'],
        ['networking.k8s.io/v1', 'NetworkPolicy'],
        ['v1', 'ResourceQuota'],
        ['v1', 'LimitRange'],
      ]) {
        for (const o of kube.store.list(apiVersion, kind, ns)) versions.set(`${kind}/${o.metadata.name}`, String(o.metadata.resourceVersion));
      }
      return versions;
    };
    const before = snapshot();
    kube.resetCalls();
    const resync = await platform.worker()!.get(ResyncService).resyncAll({ perSecond: 1e6 });
    const after = snapshot();
    const resyncWrites = [...after].filter(([k, v]) => before.get(k) !== v).length + [...before.keys()].filter((k) => !after.has(k)).length;
    const resyncCalls = kube.calls.length;
    kube.simulator.start(25);

    // UpdateService → Deployment applied (the worker's control-plane latency, not the rollout).
    const latencies: number[] = [];
    const apiLatencies: number[] = [];
    const targets = ids.slice(0, Math.min(UPDATES, SERVICES));
    await pool(targets, 8, async (serviceId, i) => {
      const image = `registry.internal/bench/app:2-${i}`;
      const t0 = performance.now();
      await tenant.client.send(new UpdateServiceCommand({ ServiceArn: arns[i], SourceConfiguration: { ImageRepository: { ImageIdentifier: image, ImageRepositoryType: 'ECR' } } }));
      apiLatencies.push(performance.now() - t0);
      for (;;) {
        const dep = kube.store.get('apps/v1', 'Deployment', ns, serviceObjectName(serviceId));
        const current = (dep?.spec as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined)?.template?.spec?.containers?.[0]?.image;
        if (current === image) break;
        if (performance.now() - t0 > 60_000) throw new Error(`update of ${serviceId} not applied in 60 s`);
        await new Promise((r) => setTimeout(r, 2));
      }
      latencies.push(performance.now() - t0);
    });
    latencies.sort((a, b) => a - b);
    apiLatencies.sort((a, b) => a - b);

    return {
      services: SERVICES,
      workerConcurrency: platform.config.WORKER_CONCURRENCY,
      kubeApi: 'libs/kube-fake over HTTP on loopback (schema validation on, simulated controllers every 25 ms)',
      simulatorStepMs,
      create: {
        acceptSeconds: Number(((accepted - createStart) / 1_000).toFixed(1)),
        convergeSeconds: Number(((converged - createStart) / 1_000).toFixed(1)),
        servicesPerSecond: Number((SERVICES / ((converged - createStart) / 1_000)).toFixed(1)),
        kubeApiCalls: createCalls,
        kubeApiCallsPerService: Number((createCalls / passes).toFixed(1)),
        kubeApiCallsByVerb: byVerb,
      },
      noOpResync: { services: resync.services, seconds: resync.seconds, kubeApiCalls: resyncCalls, objectsWritten: resyncWrites },
      updateToDeploymentApplied: {
        updates: latencies.length,
        concurrency: 8,
        p50Ms: quantile(latencies, 0.5),
        p99Ms: quantile(latencies, 0.99),
        updateServiceCallP50Ms: quantile(apiLatencies, 0.5),
        updateServiceCallP99Ms: quantile(apiLatencies, 0.99),
      },
    };
  } finally {
    await platform.close();
    await kube.close();
  }
}
