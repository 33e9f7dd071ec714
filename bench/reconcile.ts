/**
 * The worker's side of `npm run bench`: N image services created through the AWS SDK and reconciled into Kubernetes,
 * once into the real local cluster (scripts/cluster: kube-apiserver, etcd, the controllers, KWOK nodes; the worker
 * authorizing as the chart's ServiceAccount, its calls counted by a proxy) and once into kube-fake (test/doubles/kube-fake), side by side:
 * - reconcile throughput (CreateService → RUNNING for all N),
 * - Kubernetes API calls per reconcile,
 * - writes of a no-op resync (must be 0),
 * - control-plane time from UpdateService to the Deployment carrying the new image (p50/p99).
 * BENCH_KUBE=real or fake runs one backend.
 */
import { CreateServiceCommand, UpdateServiceCommand } from '@aws-sdk/client-apprunner';
import { startFakeKube } from '../test/doubles/kube-fake';
import { type KubeClient, type LiveObject, ResyncService, serviceObjectName } from '@apprunner/kubernetes';
import { adminKube, proxyFor, type TestClusterInfo } from '../test/support/cluster';
import { startTestPlatform } from '../test/support/platform';

const SERVICES = Number(process.env.BENCH_RECONCILE_SERVICES ?? 1_000);
const UPDATES = Number(process.env.BENCH_RECONCILE_UPDATES ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const KINDS: [string, string][] = [
  ['apps/v1', 'Deployment'],
  ['v1', 'Service'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
  ['networking.k8s.io/v1', 'Ingress'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['v1', 'ResourceQuota'],
  ['v1', 'LimitRange'],
];

/** What the bench needs of a Kubernetes API: the platform's options, the worker's call log, reads. */
interface Backend {
  description: string;
  platform: Parameters<typeof startTestPlatform>[0];
  calls(): { verb: string }[];
  resetCalls(): void;
  /** Per object, what only a write by the platform changes. */
  snapshot(ns: string): Promise<Map<string, string>>;
  deploymentImage(ns: string, name: string): Promise<string | undefined>;
  /** Stop/restart the fake's simulated controllers around the no-op resync (real controllers keep running). */
  quiet(): Promise<void>;
  loud(): void;
  close(): Promise<void>;
}

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
type Image = { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } };
type Managed = LiveObject & { metadata: { generation?: number; managedFields?: { manager: string; operation: string; time?: string }[] } };

async function fakeBackend(): Promise<Backend> {
  const kube = await startFakeKube();
  kube.simulator.start(25);
  return {
    description: 'kube-fake over HTTP on loopback (schema validation on, simulated controllers every 25 ms)',
    platform: { kube, pollMs: 200 },
    calls: () => kube.calls.filter((c) => !c.discovery),
    resetCalls: () => kube.resetCalls(),
    async snapshot(ns) {
      const versions = new Map<string, string>();
      for (const [apiVersion, kind] of KINDS)
        for (const o of kube.store.list(apiVersion, kind, ns))
          versions.set(`${kind}/${o.metadata.name}`, String(o.metadata.resourceVersion));
      return versions;
    },
    deploymentImage: async (ns, name) =>
      (kube.store.get('apps/v1', 'Deployment', ns, name) as Image | undefined)?.spec?.template?.spec?.containers?.[0]?.image,
    quiet: async () => {
      kube.simulator.stop();
      await kube.simulator.step();
    },
    loud: () => kube.simulator.start(25),
    close: () => kube.close(),
  };
}

/** A method and path as an RBAC verb. */
function verbOf(method: string, named: boolean, contentType?: string): string {
  if (method === 'GET') return named ? 'get' : 'list';
  if (method === 'PATCH') return contentType === 'application/apply-patch+yaml' ? 'apply' : 'patch';
  return { POST: 'create', PUT: 'update', DELETE: 'delete' }[method] ?? method.toLowerCase();
}

async function realBackend(info: TestClusterInfo): Promise<Backend> {
  const proxy = await proxyFor(info);
  const admin: KubeClient = await adminKube(info, 'apprunner-bench');
  let from = 0;
  return {
    description: `kube-apiserver ${info.version} (scripts/cluster: etcd, controller-manager, scheduler, KWOK nodes) on loopback, the worker authorizing as the chart's ServiceAccount through a counting proxy`,
    platform: { cluster: { info, via: proxy.url }, pollMs: 200 },
    calls: () => proxy.calls.slice(from).map((c) => ({ verb: verbOf(c.method, Boolean(c.name), c.contentType) })),
    resetCalls: () => void (from = proxy.calls.length),
    async snapshot(ns) {
      // status writes by the real controllers don't count: the spec generation and the platform's own apply time do
      const versions = new Map<string, string>();
      for (const [apiVersion, kind] of KINDS) {
        for (const o of await admin.list<Managed>(apiVersion, kind, ns, '')) {
          const applied = o.metadata.managedFields?.find((m) => m.manager === 'apprunner-k8s' && m.operation === 'Apply')?.time;
          versions.set(`${kind}/${o.metadata.name}`, `${o.metadata.generation ?? '-'} ${applied}`);
        }
      }
      return versions;
    },
    deploymentImage: async (ns, name) =>
      (await admin.get<LiveObject & Image>('apps/v1', 'Deployment', name, ns))?.spec?.template?.spec?.containers?.[0]?.image,
    quiet: async () => undefined,
    loud: () => undefined,
    async close() {
      await proxy.close();
    },
  };
}

async function run(backend: Backend): Promise<Record<string, unknown>> {
  const platform = await startTestPlatform(backend.platform);
  try {
    const tenant = await platform.newTenant('bench-reconcile', { Services: SERVICES });
    const ns = `apprunner-${tenant.accountId}`;
    const names = Array.from({ length: SERVICES }, (_, i) => `bench-svc-${i}`);
    const ids: string[] = new Array(SERVICES);
    const arns: string[] = new Array(SERVICES);

    backend.resetCalls();
    const createStart = Date.now();
    await pool(names, CONCURRENCY, async (name, i) => {
      const out = await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: name,
          SourceConfiguration: { ImageRepository: { ImageIdentifier: 'registry.internal/bench/app:1', ImageRepositoryType: 'ECR' } },
        }),
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
    const calls = backend.calls();
    const byVerb: Record<string, number> = {};
    for (const c of calls) byVerb[c.verb] = (byVerb[c.verb] ?? 0) + 1;
    const passes = await platform.prisma.operation.count({ where: { type: 'CREATE_SERVICE' } });

    // A resync with nothing to correct: nothing of the platform's may be written.
    await backend.quiet();
    const before = await backend.snapshot(ns);
    backend.resetCalls();
    const resync = await platform.worker()!.get(ResyncService).resyncAll({ perSecond: 1e6 });
    const resyncCalls = backend.calls().length;
    const after = await backend.snapshot(ns);
    const resyncWrites = [...after].filter(([k, v]) => before.get(k) !== v).length + [...before.keys()].filter((k) => !after.has(k)).length;
    backend.loud();

    // UpdateService → Deployment applied (the worker's control-plane latency, not the rollout).
    const latencies: number[] = [];
    const apiLatencies: number[] = [];
    const targets = ids.slice(0, Math.min(UPDATES, SERVICES));
    await pool(targets, 8, async (serviceId, i) => {
      const image = `registry.internal/bench/app:2-${i}`;
      const t0 = performance.now();
      await tenant.client.send(
        new UpdateServiceCommand({
          ServiceArn: arns[i],
          SourceConfiguration: { ImageRepository: { ImageIdentifier: image, ImageRepositoryType: 'ECR' } },
        }),
      );
      apiLatencies.push(performance.now() - t0);
      while ((await backend.deploymentImage(ns, serviceObjectName(serviceId))) !== image) {
        if (performance.now() - t0 > 60_000) throw new Error(`update of ${serviceId} not applied in 60 s`);
        await new Promise((r) => setTimeout(r, 5));
      }
      latencies.push(performance.now() - t0);
    });
    latencies.sort((a, b) => a - b);
    apiLatencies.sort((a, b) => a - b);

    return {
      services: SERVICES,
      workerConcurrency: platform.config.WORKER_CONCURRENCY,
      kubeApi: backend.description,
      create: {
        acceptSeconds: Number(((accepted - createStart) / 1_000).toFixed(1)),
        convergeSeconds: Number(((converged - createStart) / 1_000).toFixed(1)),
        servicesPerSecond: Number((SERVICES / ((converged - createStart) / 1_000)).toFixed(1)),
        kubeApiCalls: calls.length,
        kubeApiCallsPerService: Number((calls.length / passes).toFixed(1)),
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
    await backend.close();
  }
}

/** Both backends, one after the other (the real cluster first), so the difference is measured on the same machine. */
export async function reconcileBench(cluster: TestClusterInfo): Promise<Record<string, unknown>> {
  const only = process.env.BENCH_KUBE;
  const out: Record<string, unknown> = {};
  if (only !== 'fake') out.realCluster = await run(await realBackend(cluster));
  if (only !== 'real') out.kubeFake = await run(await fakeBackend());
  return out;
}
