import { join } from 'node:path';
import { clusterDown, clusterStatus, clusterUp, type ClusterState } from '../../scripts/cluster/local-cluster';
import type { RealNodeState } from '../../scripts/cluster/real-node';

const ROOT = join(__dirname, '../..');
/** The real-node cluster of the suites that need one (its own folder: the KWOK test cluster runs beside it). */
export const TEST_NODE_CLUSTER_DIR = process.env.APPRUNNER_TEST_NODE_CLUSTER_DIR ?? join(ROOT, '.tmp', 'test-cluster-node');

/**
 * Whether this run wants the real node: APPRUNNER_TEST_NODE=real. Not yet part of the default run or of CI; with it
 * set, a node that cannot start fails the suite (never a skip).
 */
export function realNodeWanted(): boolean {
  return process.env.APPRUNNER_TEST_NODE === 'real';
}

export function onRealNode(title: string): string {
  return realNodeWanted() ? title : `${title} [skipped: APPRUNNER_TEST_NODE=real runs it (root, a real node on this machine)]`;
}

/** Starts (or reuses) the real-node cluster; `stop` stops it unless it was already running. */
export async function startRealNodeCluster(
  log: (line: string) => void,
): Promise<{ state: ClusterState & { realNode: RealNodeState }; stop: () => Promise<void>; startMs: number }> {
  const begun = Date.now();
  const reused = (await clusterStatus(TEST_NODE_CLUSTER_DIR)).running;
  const state = await clusterUp({ dir: TEST_NODE_CLUSTER_DIR, node: 'real', log });
  if (!state.realNode) throw new Error(`the cluster in ${TEST_NODE_CLUSTER_DIR} has no real node`);
  return {
    state: state as ClusterState & { realNode: RealNodeState },
    startMs: Date.now() - begun,
    stop: async () => {
      if (!reused) await clusterDown(TEST_NODE_CLUSTER_DIR, log);
    },
  };
}
