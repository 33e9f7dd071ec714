import { clusterDown, clusterStatus, clusterUp, defaultClusterDir, readState } from './local-cluster';

/**
 * npm run cluster -- up|down|status|kubeconfig [--dir <folder>] [--nodes <n>] [--node=kwok|real]
 * The local cluster's data, logs and kubeconfigs live in --dir (default .tmp/cluster, or APPRUNNER_CLUSTER_DIR).
 */
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
      const node = flag('node') ?? 'kwok';
      if (node !== 'kwok' && node !== 'real') throw new Error(`--node is kwok (simulated nodes, the default) or real, not ${node}`);
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
    default:
      console.error('usage: npm run cluster -- up|down|status|kubeconfig [--dir <folder>] [--nodes <n>] [--node=kwok|real]');
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
