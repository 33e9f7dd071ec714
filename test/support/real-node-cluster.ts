import { join } from 'node:path';
import { clusterDown, clusterStatus, clusterUp, readState } from '../../scripts/cluster/local-cluster';
import { realNodeLeftovers, realNodePreflight, realNodeUnavailable, type RealNodeState } from '../../scripts/cluster/real-node';
import type { GatewayState } from '../../scripts/cluster/gateway';
import { installWorkerAccess, type TestClusterInfo } from './cluster';
import { adminProbe } from '../../scripts/cluster/local-cluster';

// Imported by the global setup: nothing here may import vitest (real-node.ts has the suites' side).

const ROOT = join(__dirname, '../..');
/** The real-node cluster of the test run (its own folder: the KWOK test cluster runs beside it). */
export const TEST_NODE_CLUSTER_DIR = process.env.APPRUNNER_TEST_NODE_CLUSTER_DIR ?? join(ROOT, '.tmp', 'test-cluster-node');

/** What the global setup hands the real-node suites: the cluster (worker access as for KWOK), its node and gateway. */
export interface RealNodeTestInfo extends TestClusterInfo {
  dir: string;
  node: RealNodeState;
  gateway: GatewayState;
}

/**
 * Whether the run starts the real node beside the KWOK test cluster: APPRUNNER_TEST_NODE=real insists (a node that
 * cannot start fails the run), `kwok` declines. Unset: with CI=true always (the real-node suites must run in CI);
 * elsewhere wherever this machine can run one now (root, runc, iptables, cgroups, and the machine's one real-node slot
 * free: another engineer's run may hold it), and the reason it does not otherwise.
 */
export function realNodeChoice(): { start: boolean; reason: string } {
  const chosen = process.env.APPRUNNER_TEST_NODE;
  if (chosen !== undefined && chosen !== 'real' && chosen !== 'kwok')
    throw new Error(`APPRUNNER_TEST_NODE=${chosen}: use real (start the real node) or kwok (simulated nodes only)`);
  if (process.env.CI === 'true') {
    if (chosen === 'kwok') throw new Error('APPRUNNER_TEST_NODE=kwok is not allowed with CI=true: the real-node suites must run in CI.');
    return { start: true, reason: '' };
  }
  if (chosen === 'real') return { start: true, reason: '' };
  if (chosen === 'kwok') return { start: false, reason: 'APPRUNNER_TEST_NODE=kwok chose simulated nodes only' };
  const why = realNodeUnavailable(TEST_NODE_CLUSTER_DIR);
  if (why) return { start: false, reason: `this machine cannot run the real node now: ${why} (CI=true always runs it)` };
  return { start: true, reason: '' };
}

/**
 * Starts (or reuses) the real-node cluster and installs the chart's worker access there; `stop` takes it down
 * (unless it was running before) and returns what the node left on the machine (empty after a clean `down`).
 */
export async function startRealNodeTestCluster(
  log: (line: string) => void,
): Promise<{ info: RealNodeTestInfo; reused: boolean; stop: () => Promise<string[]> }> {
  const problem = realNodePreflight();
  if (problem) throw new Error(problem);
  const reused = (await clusterStatus(TEST_NODE_CLUSTER_DIR)).running;
  const state = await clusterUp({ dir: TEST_NODE_CLUSTER_DIR, node: 'real', log });
  const stop = async (): Promise<string[]> => {
    if (reused) return [];
    const node = readState(TEST_NODE_CLUSTER_DIR)?.realNode ?? state.realNode;
    const problems: string[] = [];
    await clusterDown(TEST_NODE_CLUSTER_DIR, (line) => problems.push(line));
    return [...problems, ...(node ? realNodeLeftovers(TEST_NODE_CLUSTER_DIR, node) : [])];
  };
  try {
    if (!state.realNode || !state.gateway) throw new Error(`the cluster in ${TEST_NODE_CLUSTER_DIR} has no real node or gateway`);
    const worker = await installWorkerAccess(state);
    const probe = adminProbe(state);
    return {
      reused,
      stop,
      info: {
        dir: state.dir,
        kubeconfig: state.kubeconfig,
        server: state.server,
        caFile: probe.ca!,
        admin: probe.client!,
        worker,
        issuers: state.issuers,
        version: state.version,
        node: state.realNode,
        gateway: state.gateway,
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
