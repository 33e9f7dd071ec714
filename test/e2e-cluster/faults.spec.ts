import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppRunnerClient,
  CreateServiceCommand,
  DeleteServiceCommand,
  ListOperationsCommand,
  ListServicesCommand,
  type OperationSummary,
  PauseServiceCommand,
  ResumeServiceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import type { KubeClient, LiveObject } from '@apprunner/kubernetes';
import { compilePlatform } from '../support/compiled';
import type { KubeProxy } from '../support/kube-proxy';
import { operationLedger, type OperationLedger } from '../support/operation-ledger';
import { type OwnService, startOwnPostgres, startOwnRedis } from '../support/own-services';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { configEnv, type PlatformProcess, startPlatformProcess, workerKubeconfig } from '../support/processes';
import { adminKube, onRealCluster, proxyFor, testCluster } from '../support/real-cluster';
import { waitFor } from '../support/wait';

const cluster = testCluster();

const SERVICES = 20;
const KILLS = 50;
/** Worker processes running side by side while they are being killed. */
const SLOTS = 2;
/** Faults, in seconds after the workload starts. */
const REDIS_RESTART_AT = 12;
const POSTGRES_RESTART_AT = 28;
const KUBE_OUTAGE_AT = 42;
const KUBE_OUTAGE_SECONDS = 30;
/** The whole workload must be done by then (it normally takes a fraction of it). */
const WORKLOAD_DEADLINE_MS = 420_000;

type Step = 'CREATE_SERVICE' | 'UPDATE_SERVICE' | 'PAUSE_SERVICE' | 'RESUME_SERVICE' | 'DELETE_SERVICE';
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'ROLLBACK_SUCCEEDED', 'ROLLBACK_FAILED']);

/**
 * What each service goes through, and where it ends: a third deleted, a quarter paused, the rest running an updated
 * image (so that at the end every kind of record has its cluster counterpart to compare with).
 */
function planFor(i: number): { steps: Step[]; ends: 'DELETED' | 'PAUSED' | 'RUNNING' } {
  if (i % 4 === 0 || i % 4 === 1)
    return { steps: ['CREATE_SERVICE', 'UPDATE_SERVICE', 'PAUSE_SERVICE', 'DELETE_SERVICE'], ends: 'DELETED' };
  if (i % 4 === 2) return { steps: ['CREATE_SERVICE', 'UPDATE_SERVICE', 'PAUSE_SERVICE'], ends: 'PAUSED' };
  return { steps: ['CREATE_SERVICE', 'UPDATE_SERVICE', 'PAUSE_SERVICE', 'RESUME_SERVICE', 'UPDATE_SERVICE'], ends: 'RUNNING' };
}

const imageOf = (i: number, version: number) => `registry.internal/faults/app-${i}:${version}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Requested {
  index: number;
  name: string;
  arn?: string;
  serviceId?: string;
  operations: { type: Step; id: string }[];
  /** Last image the service was given. */
  image: string;
}

/**
 * Faults while 20 services are created, updated, paused, resumed and deleted, on the real cluster: the worker (a
 * process of its own, as in production) SIGKILLed 50 times at random points of its work, Redis restarted (empty: no
 * persistence), PostgreSQL restarted (an immediate shutdown: every connection cut), the Kubernetes API unreachable
 * for 30 s. PostgreSQL and Redis are the suite's own (never the shared ones). At the end: every operation the client
 * asked for was recorded once and ended exactly once (a trigger in PostgreSQL counts every write that ends one), none
 * is left unfinished, nothing was recorded that nobody asked for, and the cluster holds exactly what the records say.
 */
describe.skipIf(!cluster)(onRealCluster('faults survived: worker kills, Redis and PostgreSQL restarts, the Kubernetes API away'), () => {
  let pg: OwnService;
  let redis: OwnService;
  let compiled: string;
  let proxy: KubeProxy;
  let platform: TestPlatform;
  let ledger: OperationLedger;
  let tenant: TestTenant;
  let kube: KubeClient;
  let kubeDown = false;
  let refused = 0;
  const workers = new Set<PlatformProcess>();
  const exitedOnTheirOwn: string[] = [];

  beforeAll(async () => {
    [pg, redis, compiled] = await Promise.all([startOwnPostgres(), startOwnRedis(), compilePlatform()]);
    proxy = await proxyFor(cluster!, (req, _res, forward) => {
      if (!kubeDown) return forward();
      refused++;
      req.socket.destroy();
    });
    platform = await startTestPlatform({
      databaseUrl: pg.url,
      worker: false,
      cluster: { info: cluster!, via: proxy.url },
      // retries (the producer sets them) span the API server's 30 s outage: 250 ms doubling, 12 attempts take minutes
      env: { REDIS_URL: redis.url, OUTBOX_SWEEP_SECONDS: '2', DATABASE_POOL_SIZE: '10', JOB_BACKOFF_MS: '250' },
    });
    ledger = await operationLedger(pg.url, platform.config.DATABASE_SCHEMA);
    tenant = await platform.newTenant('faults');
    kube = await adminKube(cluster!);
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) w.kill();
    kubeDown = false;
    await ledger?.close().catch(() => undefined);
    await platform?.close().catch(() => undefined);
    await pg?.stop();
    await redis?.stop();
    await proxy?.close();
    if (tenant)
      await kube
        ?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `apprunner-${tenant.accountId}` } })
        .catch(() => undefined);
  });

  const startWorker = async (): Promise<PlatformProcess> => {
    const w = await startPlatformProcess(
      'worker',
      configEnv(platform.config, {
        KUBECONFIG: workerKubeconfig(cluster!, proxy.url),
        WORKER_HEALTH_PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        // a killed worker's jobs are taken over after 4 s
        JOB_LOCK_MS: '4000',
        IMAGE_POLL_SECONDS: '0',
        RESYNC_SECONDS: '0',
      }),
      (out) => out.includes('health endpoints on port'),
      90_000,
      compiled,
    );
    workers.add(w);
    void w.exited().then((e) => {
      workers.delete(w);
      if (e.signal !== 'SIGKILL' && e.signal !== 'SIGTERM') exitedOnTheirOwn.push(`${e.code}/${e.signal}: ${w.output().slice(-2_000)}`);
    });
    return w;
  };

  it('ends every operation exactly once, loses none, and leaves the cluster as the records say', async () => {
    const started = Date.now();
    const since = () => ((Date.now() - started) / 1000).toFixed(1);
    const figures = {
      kills: 0,
      workerStarts: 0,
      redisRestarts: 0,
      postgresRestarts: 0,
      kubeOutageSeconds: 0,
      refusedKubeRequests: 0,
      apiServerErrors: 0,
      operations: 0,
      ended: 0,
      succeeded: 0,
      lost: 0,
      duplicated: 0,
      seconds: 0,
    };
    const timeline: string[] = [];
    const note = (what: string) => timeline.push(`${since()} s ${what}`);
    let aborted = false;

    // ── the faults ──────────────────────────────────────────────────────────────────────────────────────────────
    const killing = (async () => {
      const slot = async () => {
        while (figures.kills < KILLS && !aborted) {
          let w: PlatformProcess;
          try {
            w = await startWorker();
            figures.workerStarts++;
          } catch (e) {
            note(`a worker did not start: ${(e as Error).message.split('\n')[0]}`);
            await sleep(1_000);
            continue;
          }
          // a random point of its work: anywhere from its first job to a few passes in
          await sleep(randomInt(0, 2_500));
          if (figures.kills >= KILLS) {
            w.kill();
            break;
          }
          w.child.kill('SIGKILL');
          await w.exited();
          figures.kills++;
        }
      };
      await Promise.all(Array.from({ length: SLOTS }, slot));
      note(`${figures.kills} kills done`);
      // from here on the workers stay up
      for (let i = 0; i < SLOTS && !aborted; i++) {
        for (;;) {
          try {
            await startWorker();
            figures.workerStarts++;
            break;
          } catch {
            await sleep(1_000);
          }
        }
      }
    })();
    const outages = (async () => {
      await sleep(REDIS_RESTART_AT * 1_000);
      note('Redis killed (restarts empty)');
      await redis.restart(1_500);
      figures.redisRestarts++;
      note('Redis back');
      await sleep(Math.max(0, started + POSTGRES_RESTART_AT * 1_000 - Date.now()));
      if (aborted) return;
      note('PostgreSQL stopped (immediate: connections cut)');
      await pg.restart(2_000);
      figures.postgresRestarts++;
      note('PostgreSQL back');
      await sleep(Math.max(0, started + KUBE_OUTAGE_AT * 1_000 - Date.now()));
      if (aborted) return;
      note('Kubernetes API unreachable');
      const outage = Date.now();
      kubeDown = true;
      await sleep(KUBE_OUTAGE_SECONDS * 1_000);
      kubeDown = false;
      figures.kubeOutageSeconds = Math.round((Date.now() - outage) / 1000);
      note('Kubernetes API back');
    })();

    // ── the workload: what a client does, retrying what the outages refuse ──────────────────────────────────────
    const client: AppRunnerClient = tenant.client;
    const requested: Requested[] = [];
    const serverFault = (e: unknown) => {
      const err = e as { $fault?: string; $metadata?: { httpStatusCode?: number }; name?: string };
      const isServer = err.$fault === 'server' || (err.$metadata?.httpStatusCode ?? 0) >= 500 || !err.$metadata?.httpStatusCode;
      if (isServer) figures.apiServerErrors++;
      return isServer;
    };
    /** Calls until an answer that is not a server fault (the API's database or queue may be away meanwhile). */
    const patiently = async <T>(call: () => Promise<T>): Promise<T> => {
      for (;;) {
        if (aborted) throw new Error('aborted: past the deadline');
        try {
          return await call();
        } catch (e) {
          if (!serverFault(e)) throw e;
          await sleep(500);
        }
      }
    };
    const operationsOf = async (arn: string): Promise<OperationSummary[]> =>
      (await patiently(() => client.send(new ListOperationsCommand({ ServiceArn: arn, MaxResults: 20 })))).OperationSummaryList ?? [];

    /**
     * Asks for one operation and returns its id. When the answer is lost (a server fault), the operation may or may not
     * have been recorded: the service's operations say which, and a recorded one is not asked for again.
     */
    const submit = async (r: Requested, type: Step, send: () => Promise<{ OperationId?: string }>): Promise<string> => {
      const before = new Set((await operationsOf(r.arn!)).map((o) => o.Id));
      for (;;) {
        try {
          return (await send()).OperationId!;
        } catch (e) {
          const retry = serverFault(e) || (e as Error).name === 'InvalidStateException';
          if (!retry) throw e;
          const recorded = (await operationsOf(r.arn!)).filter((o) => !before.has(o.Id) && o.Type === type);
          if (recorded.length > 0) return recorded[0].Id!;
          await sleep(500);
        }
      }
    };

    const drive = async (i: number) => {
      const plan = planFor(i);
      const r: Requested = { index: i, name: `fault-${String(i).padStart(2, '0')}`, operations: [], image: imageOf(i, 1) };
      requested.push(r);
      await sleep(i * 1_500 + randomInt(0, 1_000));
      let version = 1;
      for (const type of plan.steps) {
        let id: string;
        if (type === 'CREATE_SERVICE') {
          id = await (async () => {
            for (;;) {
              try {
                const out = await client.send(
                  new CreateServiceCommand({
                    ServiceName: r.name,
                    SourceConfiguration: { ImageRepository: { ImageIdentifier: r.image, ImageRepositoryType: 'ECR' } },
                  }),
                );
                r.arn = out.Service!.ServiceArn;
                r.serviceId = out.Service!.ServiceId;
                return out.OperationId!;
              } catch (e) {
                if (!serverFault(e) && !/already exists/.test((e as Error).message)) throw e;
                // recorded, answer lost? the service is there by its name
                const found = (await patiently(() => client.send(new ListServicesCommand({ MaxResults: 20 })))).ServiceSummaryList?.find(
                  (s) => s.ServiceName === r.name,
                );
                if (found) {
                  r.arn = found.ServiceArn;
                  r.serviceId = found.ServiceId;
                  return (await operationsOf(r.arn!)).find((o) => o.Type === 'CREATE_SERVICE')!.Id!;
                }
                await sleep(500);
              }
            }
          })();
        } else if (type === 'UPDATE_SERVICE') {
          r.image = imageOf(i, ++version);
          const image = r.image;
          id = await submit(r, type, () =>
            client.send(
              new UpdateServiceCommand({
                ServiceArn: r.arn,
                SourceConfiguration: { ImageRepository: { ImageIdentifier: image, ImageRepositoryType: 'ECR' } },
              }),
            ),
          );
        } else if (type === 'PAUSE_SERVICE') id = await submit(r, type, () => client.send(new PauseServiceCommand({ ServiceArn: r.arn })));
        else if (type === 'RESUME_SERVICE') id = await submit(r, type, () => client.send(new ResumeServiceCommand({ ServiceArn: r.arn })));
        else id = await submit(r, type, () => client.send(new DeleteServiceCommand({ ServiceArn: r.arn })));
        r.operations.push({ type, id });
        figures.operations++;
        // until it ends (whatever the faults): the next step needs the service settled
        for (;;) {
          if (aborted) return;
          const op = (await operationsOf(r.arn!)).find((o) => o.Id === id);
          if (op && TERMINAL.has(op.Status!)) break;
          await sleep(1_000);
        }
        await sleep(randomInt(500, 3_000));
      }
    };
    const workload = Promise.all(Array.from({ length: SERVICES }, (_, i) => drive(i))).then(() => note('workload done'));
    const everything = Promise.all([workload, killing, outages]).then(() => true);
    everything.catch(() => undefined); // past the deadline its rejection ("aborted") is expected
    const finished = await Promise.race([everything, sleep(WORKLOAD_DEADLINE_MS).then(() => false)]);
    // past the deadline, the drivers still waiting stop at their next call; what they were waiting for shows below
    aborted = !finished;
    figures.refusedKubeRequests = refused;
    figures.seconds = Math.round((Date.now() - started) / 1000);
    process.stdout.write(`[faults] timeline: ${timeline.join('; ')}\n`);

    // ── what the records say ───────────────────────────────────────────────────────────────────────────────────
    const ends = await ledger.ends();
    const recorded = await platform.prisma.operation.findMany({
      where: { tenant: { accountId: tenant.accountId } },
      include: { service: true },
      orderBy: { createdAt: 'asc' },
    });
    const asked = new Map(requested.flatMap((r) => r.operations.map((o) => [o.id, { ...o, service: r }] as const)));
    figures.ended = recorded.filter((o) => TERMINAL.has(o.status)).length;
    figures.succeeded = recorded.filter((o) => o.status === 'SUCCEEDED').length;
    // lost: asked for and not recorded, or recorded and never ended; duplicated: recorded and not asked for, or ended twice
    const lost = [...asked.entries()]
      .filter(([id]) => !recorded.some((o) => o.id === id && TERMINAL.has(o.status)))
      .map(([id, o]) => `${o.service.name} ${o.type} ${recorded.find((x) => x.id === id)?.status ?? 'not recorded'}`);
    const unasked = recorded.filter((o) => !asked.has(o.id));
    const endedTwice = [...ends].filter(([, n]) => n > 1);
    figures.lost = lost.length;
    figures.duplicated = unasked.length + endedTwice.length;
    process.stdout.write(`[faults] ${JSON.stringify(figures)}\n`);

    expect(lost, 'operations asked for and never ended').toEqual([]);
    expect(
      unasked.map((o) => `${o.service.serviceName} ${o.type}`),
      'operations nobody asked for',
    ).toEqual([]);
    expect(endedTwice, 'operations ended more than once').toEqual([]);
    for (const o of recorded) expect(ends.get(o.id), `${o.service.serviceName} ${o.type} ended`).toBe(1);
    expect(
      recorded.filter((o) => o.status !== 'SUCCEEDED').map((o) => `${o.service.serviceName} ${o.type} ${o.status}: ${o.errorMessage}`),
    ).toEqual([]);
    expect(finished, `the workload finished within ${WORKLOAD_DEADLINE_MS / 1000} s`).toBe(true);
    expect(exitedOnTheirOwn, 'workers that exited on their own').toEqual([]);
    expect(figures.kills).toBe(KILLS);
    expect(figures.operations).toBe(requested.reduce((n, r) => n + planFor(r.index).steps.length, 0));
    expect(figures.redisRestarts).toBe(1);
    expect(figures.postgresRestarts).toBe(1);
    expect(figures.kubeOutageSeconds).toBeGreaterThanOrEqual(KUBE_OUTAGE_SECONDS);
    expect(figures.refusedKubeRequests).toBeGreaterThan(0);

    // ── and the cluster agrees ─────────────────────────────────────────────────────────────────────────────────
    const namespace = `apprunner-${tenant.accountId}`;
    for (const r of requested) {
      const service = recorded.find((o) => o.service.arn === r.arn)!.service;
      const plan = planFor(r.index);
      const fresh = await platform.prisma.service.findUniqueOrThrow({ where: { id: service.id } });
      expect(fresh.status, r.name).toBe(plan.ends);
      const objects = async () =>
        (
          await Promise.all(
            [
              ['apps/v1', 'Deployment'],
              ['v1', 'Service'],
              ['autoscaling/v2', 'HorizontalPodAutoscaler'],
              ['networking.k8s.io/v1', 'Ingress'],
              ['networking.k8s.io/v1', 'NetworkPolicy'],
            ].map(([apiVersion, kind]) => kube.list<LiveObject>(apiVersion, kind, namespace, `apprunner.k8s/service-id=${r.serviceId}`)),
          )
        ).flat();
      if (plan.ends === 'DELETED') {
        await waitFor(async () => (await objects()).length === 0, `${r.name}: nothing left in the cluster`, 30_000);
        continue;
      }
      const deployment = await kube.get<any>('apps/v1', 'Deployment', `svc-${r.serviceId}`, namespace);
      expect(deployment, `${r.name}: its Deployment`).toBeTruthy();
      expect(deployment.spec.template.spec.containers[0].image, `${r.name}: image`).toBe(r.image);
      if (plan.ends === 'PAUSED') expect(deployment.spec.replicas, `${r.name}: paused`).toBe(0);
      else expect(deployment.spec.replicas, `${r.name}: running`).toBeGreaterThanOrEqual(1);
    }
  }, 600_000);
});
