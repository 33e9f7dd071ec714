import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { clusterDown } from '../../scripts/cluster/local-cluster';
import { startTestCluster, TEST_CLUSTER_DIR } from './cluster';

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

/**
 * PostgreSQL and Redis must be up (`npm test` starts them: scripts/setup/services.sh). The real Kubernetes cluster
 * (scripts/cluster, built from source the first time) is started for the run and stopped after it, unless it was
 * already running in .tmp/test-cluster. With CI=true a cluster that cannot start fails the run; elsewhere the
 * suites that need it are skipped, with the reason printed here and in their titles. APPRUNNER_TEST_CLUSTER=off
 * skips it on purpose.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
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

  project.provide('cluster', null);
  project.provide('clusterUnavailable', '');
  if (process.env.APPRUNNER_TEST_CLUSTER === 'off') {
    if (process.env.CI === 'true')
      throw new Error('APPRUNNER_TEST_CLUSTER=off is not allowed with CI=true: the real-cluster suites must run in CI.');
    project.provide('clusterUnavailable', 'APPRUNNER_TEST_CLUSTER=off');
    say('APPRUNNER_TEST_CLUSTER=off: the suites that need a real cluster are skipped');
    return undefined;
  }
  try {
    const begun = Date.now();
    const { info, reused } = await startTestCluster(say);
    project.provide('cluster', info);
    say(
      `${reused ? 'reusing' : 'started'} Kubernetes ${info.version} at ${info.server} (${((Date.now() - begun) / 1000).toFixed(1)} s); the worker authorizes as ${info.worker.namespace}/${info.worker.serviceAccount}`,
    );
    return reused ? undefined : async () => void (await clusterDown(TEST_CLUSTER_DIR));
  } catch (e) {
    const reason = `the local cluster could not start: ${(e as Error).message.split('\n')[0]}`;
    if (process.env.CI === 'true') throw new Error(`${reason}\n${(e as Error).message}`, { cause: e });
    project.provide('clusterUnavailable', reason);
    say(`${reason}; the suites that need it are skipped (CI=true makes this an error)`);
    say((e as Error).message);
    return undefined;
  }
}
