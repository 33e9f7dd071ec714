import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { clusterDown } from '../../scripts/cluster/local-cluster';
import { startTestCluster, TEST_CLUSTER_DIR } from './cluster';
import { realNodeChoice, startRealNodeTestCluster } from './real-node-cluster';

/** Fails the run at once, with a clear message, when PostgreSQL or Redis is not reachable. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 2_000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

const say = (line: string) => process.stderr.write(`[test cluster] ${line}\n`);
const sayNode = (line: string) => process.stderr.write(`[real node] ${line}\n`);

/**
 * PostgreSQL and Redis must be up (`npm test` starts them: scripts/setup/services.sh). Then the run's clusters: the
 * KWOK test cluster and, with CI=true or APPRUNNER_TEST_NODE=real, the real-node cluster.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pinned = readFileSync(join(__dirname, '../../.node-version'), 'utf8').trim();
  if (process.versions.node.split('.')[0] !== pinned.split('.')[0]) {
    throw new Error(
      `The tests run on Node.js ${process.versions.node}; the project runs on ${pinned} (.node-version): use ./npmw test, which installs it.`,
    );
  }
  const pg = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test');
  const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const missing: string[] = [];
  if (!(await reachable(pg.hostname, Number(pg.port || 5432)))) missing.push(`PostgreSQL at ${pg.host}`);
  if (!(await reachable(redis.hostname, Number(redis.port || 6379)))) missing.push(`Redis at ${redis.host}`);
  if (missing.length > 0)
    throw new Error(`Test services are not reachable: ${missing.join(', ')} (npm test starts them with scripts/setup/services.sh).`);

  const stops: Array<() => Promise<void>> = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    await startKwok(project, stops);
    await startRealNode(project, stops);
  } catch (e) {
    await teardown();
    throw e;
  }
  return teardown;
}

/**
 * The KWOK test cluster (scripts/cluster, built from source the first time), started for the run and stopped after
 * it, unless it was already running in .tmp/test-cluster. With CI=true a cluster that cannot start fails the run;
 * elsewhere the suites that need it are skipped, with the reason printed here and in their titles.
 * APPRUNNER_TEST_CLUSTER=off skips it on purpose.
 */
async function startKwok(project: TestProject, stops: Array<() => Promise<void>>): Promise<void> {
  project.provide('cluster', null);
  project.provide('clusterUnavailable', '');
  if (process.env.APPRUNNER_TEST_CLUSTER === 'off') {
    if (process.env.CI === 'true')
      throw new Error('APPRUNNER_TEST_CLUSTER=off is not allowed with CI=true: the real-cluster suites must run in CI.');
    project.provide('clusterUnavailable', 'APPRUNNER_TEST_CLUSTER=off');
    say('APPRUNNER_TEST_CLUSTER=off: the suites that need a real cluster are skipped');
    return;
  }
  try {
    const begun = Date.now();
    const { info, reused } = await startTestCluster(say);
    project.provide('cluster', info);
    say(
      `${reused ? 'reusing' : 'started'} Kubernetes ${info.version} at ${info.server} (${((Date.now() - begun) / 1000).toFixed(1)} s); the worker authorizes as ${info.worker.namespace}/${info.worker.serviceAccount}`,
    );
    if (!reused) stops.push(async () => void (await clusterDown(TEST_CLUSTER_DIR)));
  } catch (e) {
    const reason = `the local cluster could not start: ${(e as Error).message.split('\n')[0]}`;
    if (process.env.CI === 'true') throw new Error(`${reason}\n${(e as Error).message}`, { cause: e });
    project.provide('clusterUnavailable', reason);
    say(`${reason}; the suites that need it are skipped (CI=true makes this an error)`);
    say((e as Error).message);
  }
}

/**
 * The real-node cluster (test/support/real-node.ts: containerd, kubelet, kube-proxy, CNI, CoreDNS, kube-router,
 * metrics-server, Traefik), shared by every real-node suite of the run. Started with CI=true or
 * APPRUNNER_TEST_NODE=real, and then a node that cannot start fails the run; its `down` must leave nothing on the
 * machine, or the teardown fails the run.
 */
async function startRealNode(project: TestProject, stops: Array<() => Promise<void>>): Promise<void> {
  project.provide('realNode', null);
  const choice = realNodeChoice();
  project.provide('realNodeUnavailable', choice.reason);
  if (!choice.start) {
    sayNode(`not started: ${choice.reason}`);
    return;
  }
  const begun = Date.now();
  const { info, reused, stop } = await startRealNodeTestCluster(sayNode).catch((e: Error) => {
    throw new Error(`the real node could not start: ${e.message}`, { cause: e });
  });
  project.provide('realNode', info);
  sayNode(
    `${reused ? 'reusing' : 'started'} the cluster with a real node in ${info.dir} (${((Date.now() - begun) / 1000).toFixed(1)} s); gateway http ${info.gateway.http}, https ${info.gateway.https}; registry ${info.node.registry}`,
  );
  stops.push(async () => {
    const begunDown = Date.now();
    const left = await stop();
    if (reused) return;
    sayNode(
      `down in ${((Date.now() - begunDown) / 1000).toFixed(1)} s${left.length ? `; left behind: ${left.join('; ')}` : ', nothing left behind'}`,
    );
    if (left.length) throw new Error(`the real node's down left things behind: ${left.join('; ')}`);
  });
}
