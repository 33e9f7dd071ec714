import { clusterDown, clusterStatus, clusterUp, defaultClusterDir, readState, type ClusterState } from './local-cluster';
import { realNodeUnavailable } from './real-node';

/**
 * npm run cluster -- up|down|status|kubeconfig|env [--dir <folder>] [--nodes <n>] [--node=kwok|real|auto]
 * The local cluster's data, logs and kubeconfigs live in --dir (default .tmp/cluster, or APPRUNNER_CLUSTER_DIR).
 * `--node=auto` runs a real node where this machine can (root, runc, iptables, cgroups, the one real-node slot free)
 * and KWOK's simulated nodes elsewhere, saying which and why; a running cluster keeps its kind.
 */

/** Shell assignments for a running cluster: what `npm run platform` and the README walk need to use it. */
function shellEnv(state: ClusterState): string[] {
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  const vars: Record<string, string> = {
    KUBECONFIG: state.kubeconfig,
    APPRUNNER_NODE: state.node ?? 'kwok',
    KUBE_CERT_ISSUER: state.issuers.ca,
  };
  if (state.realNode) vars.APPRUNNER_REGISTRY = state.realNode.registry;
  if (state.gateway) {
    vars.KUBE_INGRESS_CLASS = state.gateway.ingressClass;
    vars.KUBE_INGRESS_NAMESPACE = state.gateway.gateway.namespace;
    vars.APPRUNNER_GATEWAY = `http://${state.gateway.http}`;
    vars.APPRUNNER_GATEWAY_HTTPS = `https://${state.gateway.https}`;
  }
  return Object.entries(vars).map(([k, v]) => `${k}=${quote(v)}`);
}
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv.filter((a) => a !== '--');
  const flag = (name: string) => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 ? rest[i + 1] : rest.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  };
  const dir = flag('dir') ?? defaultClusterDir();
  switch (command) {
    case 'up': {
      const nodes = flag('nodes');
      const requested = flag('node') ?? 'kwok';
      if (requested !== 'kwok' && requested !== 'real' && requested !== 'auto')
        throw new Error(`--node is kwok (simulated nodes, the default), real or auto, not ${requested}`);
      let node: 'kwok' | 'real' = requested === 'auto' ? 'real' : requested;
      if (requested === 'auto') {
        const current = await clusterStatus(dir);
        const why = current.running ? undefined : realNodeUnavailable(dir);
        if (current.running) node = current.state!.node ?? 'kwok';
        else if (why) node = 'kwok';
        console.error(
          current.running
            ? `[cluster] --node=auto: the cluster in ${dir} already runs with --node=${node}`
            : why
              ? `[cluster] --node=auto: KWOK's simulated nodes (no container runs), because ${why}`
              : '[cluster] --node=auto: a real node (this machine can run one: root, runc, iptables, cgroups)',
        );
      }
      const state = await clusterUp({ dir, nodes: nodes ? Number(nodes) : undefined, node });
      console.log(state.kubeconfig);
      return 0;
    }
    case 'down':
      console.error((await clusterDown(dir)) ? `stopped the cluster in ${dir}` : `no cluster in ${dir}`);
      return 0;
    case 'status': {
      const { running, state, problems } = await clusterStatus(dir);
      if (running) {
        console.log(`running: Kubernetes ${state!.version} at ${state!.server}, since ${state!.startedAt}`);
        for (const p of state!.processes) console.log(`  ${p.name.padEnd(24)} pid ${p.pid}  log ${p.log}`);
        if (state!.realNode)
          console.log(`real node ${state!.realNode.name}: pods ${state!.realNode.podCidr}, registry ${state!.realNode.registry}`);
        console.log(`KUBECONFIG=${state!.kubeconfig}`);
        return 0;
      }
      console.log(`not running: ${problems.join('; ')}`);
      return 1;
    }
    case 'kubeconfig': {
      const state = readState(dir);
      if (!state) {
        console.error(`no cluster in ${dir}: npm run cluster -- up`);
        return 1;
      }
      console.log(state.kubeconfig);
      return 0;
    }
    case 'env': {
      const { running, state, problems } = await clusterStatus(dir);
      if (!running) {
        console.error(`no running cluster in ${dir} (${problems.join('; ')}): npm run cluster -- up`);
        return 1;
      }
      for (const line of shellEnv(state!)) console.log(line);
      return 0;
    }
    default:
      console.error('usage: npm run cluster -- up|down|status|kubeconfig|env [--dir <folder>] [--nodes <n>] [--node=kwok|real|auto]');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`cluster: ${e.message}`);
    process.exit(1);
  },
);
