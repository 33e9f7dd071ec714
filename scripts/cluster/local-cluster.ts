import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KubeClient, type LiveObject } from '@apprunner/kubernetes';
import { ensurePki, kubeconfig, REAL_NODE_NAME, type ClientName, type Pki } from './pki';
import { freePort, get, isOurs, rawApply, startProcess, stopProcesses, tail, waitHealthy, type Probe, type Started } from './processes';
import { startGateway, type GatewayState } from './gateway';
import {
  checkIsolation,
  realNodePreflight,
  startRealNode,
  stopRealNode,
  waitClusterDns,
  type RealNodeBinaries,
  type RealNodeState,
} from './real-node';

/**
 * A Kubernetes control plane built from upstream source and run on loopback: etcd, kube-apiserver (TLS, RBAC, service
 * account tokens, the default admission plugins), kube-controller-manager, kube-scheduler, KWOK's simulated nodes and
 * cert-manager's controller, with cert-manager's and Gateway API's CRDs installed. Everything lives under `dir`.
 */
export interface ClusterState {
  dir: string;
  kubeconfig: string;
  server: string;
  version: string;
  ports: Record<string, number>;
  processes: Started[];
  startedAt: string;
  /** SelfSigned and CA ClusterIssuers served by the running cert-manager controller. */
  issuers: { selfSigned: string; ca: string };
  nodes: string[];
  /** KWOK's simulated nodes, or one real node (containerd, kubelet, kube-proxy, CNI, CoreDNS: real-node.ts). */
  node: NodeKind;
  realNode?: RealNodeState;
  /** The real node's gateway (Traefik: Ingress and Gateway API on a loopback port); not in a bare cluster. */
  gateway?: GatewayState;
}

export type NodeKind = 'kwok' | 'real';

export interface UpOptions {
  dir: string;
  /** Progress lines (build steps, components started); default stderr. */
  log?: (line: string) => void;
  /** Simulated nodes (default 2). */
  nodes?: number;
  /** A bare control plane: no CRDs, no cert-manager (what a freshly made cluster has; the chart's checks need one). */
  bare?: boolean;
  /** `kwok` (default): simulated nodes; `real`: one real node on this machine (root; see real-node.ts). */
  node?: NodeKind;
}

const ROOT = resolve(__dirname, '../..');
const SERVICE_CIDR = '10.96.0.0/16';
const SERVICE_IP = '10.96.0.1';
const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const FIELD_MANAGER = 'apprunner-local-cluster';
const NODE_ANNOTATION = 'kwok.x-k8s.io/node';

export const defaultClusterDir = () => process.env.APPRUNNER_CLUSTER_DIR ?? join(ROOT, '.tmp', 'cluster');
const statePath = (dir: string) => join(dir, 'state.json');

export function readState(dir: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

/** Builds (first time) and locates the binaries: the cache root that scripts/cluster/build.sh prints. */
export function buildBinaries(log: (line: string) => void): Record<string, string> {
  log('checking the cluster binaries (built from source the first time: about 15 minutes on 2 cores)');
  const cache = runBuild([]);
  const versions = readVersions();
  const k8s = join(cache, `kubernetes-${versions.K8S_VERSION}`);
  return {
    version: versions.K8S_VERSION,
    etcd: join(cache, `etcd-${versions.ETCD_VERSION}`, 'bin', 'etcd'),
    apiserver: join(k8s, 'bin', 'kube-apiserver'),
    controllerManager: join(k8s, 'bin', 'kube-controller-manager'),
    scheduler: join(k8s, 'bin', 'kube-scheduler'),
    kwok: join(cache, `kwok-${versions.KWOK_VERSION}`, 'bin', 'kwok'),
    certManager: join(cache, `cert-manager-${versions.CERT_MANAGER_VERSION}`, 'bin', 'cert-manager-controller'),
    certManagerCrds: join(cache, `cert-manager-${versions.CERT_MANAGER_VERSION}`, 'crds'),
    gatewayApiCrds: join(cache, `gateway-api-${versions.GATEWAY_API_VERSION}`, 'crds'),
  };
}

function runBuild(components: string[]): string {
  try {
    return execFileSync('bash', [join(__dirname, 'build.sh'), ...components], { stdio: ['ignore', 'pipe', 'inherit'] })
      .toString()
      .trim()
      .split('\n')
      .pop()!;
  } catch (e) {
    throw new Error(`building the local cluster failed (scripts/cluster/build.sh ${components.join(' ')}): ${(e as Error).message}`, {
      cause: e,
    });
  }
}

const readVersions = (): Record<string, string> =>
  Object.fromEntries(
    readFileSync(join(__dirname, 'versions.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => l.split('=') as [string, string]),
  );

/** Builds (first time) and locates the real node's binaries (build.sh node). */
export function buildNodeBinaries(log: (line: string) => void): RealNodeBinaries {
  log('checking the real node binaries (built from source the first time: about 20 minutes on 2 cores)');
  const cache = runBuild(['node']);
  const v = readVersions();
  // build.sh keys the pause, CoreDNS and Traefik builds by the hash of our own source file
  const hashOf = (dir: string, file = 'main.go') =>
    createHash('sha256')
      .update(readFileSync(join(__dirname, dir, file)))
      .digest('hex')
      .slice(0, 12);
  const pauseHash = hashOf('pause');
  const bins: RealNodeBinaries = {
    containerdBin: join(cache, `containerd-${v.CONTAINERD_VERSION}`, 'bin'),
    crictl: join(cache, `cri-tools-${v.CRI_TOOLS_VERSION}`, 'bin', 'crictl'),
    kubelet: join(cache, `kubernetes-node-${v.K8S_VERSION}`, 'bin', 'kubelet'),
    kubeProxy: join(cache, `kubernetes-node-${v.K8S_VERSION}`, 'bin', 'kube-proxy'),
    coredns: join(cache, `coredns-${v.COREDNS_VERSION}-${hashOf('coredns')}`, 'bin', 'coredns'),
    cniBin: join(cache, `cni-plugins-${v.CNI_PLUGINS_VERSION}`, 'bin'),
    pause: join(cache, `pause-${pauseHash}`, 'bin', 'pause'),
    traefik: join(cache, `traefik-${v.TRAEFIK_VERSION}-${hashOf('traefik', 'dns_providers.go')}`, 'bin', 'traefik'),
    kubeRouter: join(cache, `kube-router-${v.KUBE_ROUTER_VERSION}`, 'bin', 'kube-router'),
    metricsServer: join(cache, `metrics-server-${v.METRICS_SERVER_VERSION}`, 'bin', 'metrics-server'),
  };
  for (const [name, path] of Object.entries(bins)) {
    if (!existsSync(path)) throw new Error(`missing ${name} at ${path}: rebuild with bash scripts/cluster/build.sh node`);
  }
  return bins;
}

/** Is the cluster in `dir` running (every process alive, the API server ready)? */
export async function clusterStatus(dir: string): Promise<{ running: boolean; state?: ClusterState; problems: string[] }> {
  const state = readState(dir);
  if (!state) return { running: false, problems: [`no cluster in ${dir}`] };
  const problems = state.processes.filter((p) => !isOurs(p.pid, dir)).map((p) => `${p.name} (pid ${p.pid}) is not running; log: ${p.log}`);
  const pki = ensurePki(join(dir, 'pki'), SERVICE_IP);
  const ready = await get({ url: `${state.server}/readyz`, ca: pki.ca, client: pki.clients.admin });
  if (ready?.status !== 200) problems.push(`kube-apiserver is not ready at ${state.server} (${ready ? ready.status : 'no answer'})`);
  return { running: problems.length === 0, state, problems };
}

/** Starts the cluster in `opts.dir`, or returns the one already running there. */
export async function clusterUp(opts: UpOptions): Promise<ClusterState> {
  const dir = resolve(opts.dir);
  const log = opts.log ?? ((line: string) => process.stderr.write(`[cluster] ${line}\n`));
  const kind: NodeKind = opts.node ?? 'kwok';
  const current = await clusterStatus(dir);
  if (current.running) {
    const running = current.state!.node ?? 'kwok';
    if (running !== kind)
      throw new Error(`the cluster in ${dir} runs with --node=${running}; stop it first: npm run cluster -- down --dir ${dir}`);
    return current.state!;
  }
  if (current.state) await clusterDown(dir, log); // half-dead: start over, keeping the certificates

  const bins = buildBinaries(log);
  for (const [name, path] of Object.entries(bins)) {
    if (name !== 'version' && !existsSync(path)) throw new Error(`missing ${name} at ${path}: rebuild with bash scripts/cluster/build.sh`);
  }
  const nodeBins = kind === 'real' ? buildNodeBinaries(log) : undefined;
  if (nodeBins) {
    const problem = realNodePreflight();
    if (problem) throw new Error(problem);
  }
  const begun = Date.now();
  for (const sub of ['logs', 'config']) mkdirSync(join(dir, sub), { recursive: true });
  rmSync(join(dir, 'etcd'), { recursive: true, force: true }); // a fresh cluster each start
  const pki = ensurePki(join(dir, 'pki'), SERVICE_IP);
  const ports = {
    etcd: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
    controllerManager: await freePort(),
    scheduler: await freePort(),
    kwok: await freePort(),
  };
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const logFile = (n: string) => join(dir, 'logs', `${n}.log`);
  const configs = writeKubeconfigs(dir, server, pki);
  const started: Started[] = [];
  const state: ClusterState = {
    dir,
    kubeconfig: configs.admin,
    server,
    version: bins.version,
    ports,
    processes: started,
    startedAt: new Date().toISOString(),
    issuers: { selfSigned: 'apprunner-local-selfsigned', ca: 'apprunner-local-ca' },
    nodes: kind === 'real' ? [REAL_NODE_NAME] : Array.from({ length: opts.nodes ?? 2 }, (_, i) => `kwok-node-${i}`),
    node: kind,
  };
  const save = () => writeFileSync(statePath(dir), JSON.stringify(state, null, 2));

  try {
    const etcd = startProcess(
      'etcd',
      bins.etcd,
      [
        '--name=default',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${ports.etcd}`,
        `--advertise-client-urls=http://127.0.0.1:${ports.etcd}`,
        `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-cluster=default=http://127.0.0.1:${ports.etcdPeer}`,
        '--unsafe-no-fsync=true', // a throw-away test cluster: durability is not wanted, speed is
        '--listen-metrics-urls=',
        '--log-level=warn',
      ],
      logFile('etcd'),
    );
    started.push(etcd);
    save();
    await waitHealthy(etcd, dir, { url: `http://127.0.0.1:${ports.etcd}/health` }, 30_000);
    log(`etcd up (127.0.0.1:${ports.etcd})`);

    const apiserver = startProcess(
      'kube-apiserver',
      bins.apiserver,
      [
        `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${ports.apiserver}`,
        `--tls-cert-file=${pki.apiServer.cert}`,
        `--tls-private-key-file=${pki.apiServer.key}`,
        `--client-ca-file=${pki.ca}`,
        `--service-account-issuer=${ISSUER}`,
        `--api-audiences=${ISSUER}`,
        `--service-account-key-file=${pki.serviceAccountPub}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--authorization-mode=Node,RBAC',
        // the default plugins (NamespaceLifecycle, LimitRanger, ServiceAccount, PodSecurity, ResourceQuota,
        // ValidatingAdmissionPolicy, ...) plus NodeRestriction, as kubeadm enables
        '--enable-admission-plugins=NodeRestriction',
        '--allow-privileged=true',
        `--kubelet-client-certificate=${pki.clients['apiserver-kubelet-client'].cert}`,
        `--kubelet-client-key=${pki.clients['apiserver-kubelet-client'].key}`,
        `--requestheader-client-ca-file=${pki.frontProxyCa}`,
        '--requestheader-allowed-names=front-proxy-client',
        '--requestheader-username-headers=X-Remote-User',
        '--requestheader-group-headers=X-Remote-Group',
        '--requestheader-extra-headers-prefix=X-Remote-Extra-',
        `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
        `--proxy-client-key-file=${pki.frontProxyClient.key}`,
        // loopback can't be an endpoint of the `kubernetes` Service (no pod runs here to use it anyway)
        '--endpoint-reconciler-type=none',
        // the real node's name does not resolve on this machine: the API server reaches its kubelet by address
        ...(kind === 'real'
          ? [
              '--kubelet-preferred-address-types=InternalIP',
              // aggregated APIs (metrics-server) by their endpoints: a ClusterIP does not answer from the host
              '--enable-aggregator-routing=true',
            ]
          : []),
        '--max-requests-inflight=1000',
        '--max-mutating-requests-inflight=500',
        '--profiling=false',
        '--v=0',
      ],
      logFile('kube-apiserver'),
    );
    started.push(apiserver);
    save();
    await waitHealthy(apiserver, dir, { url: `${server}/readyz`, ca: pki.ca, client: pki.clients.admin }, 90_000);
    log(`kube-apiserver ${bins.version} up (${server})`);

    started.push(
      startProcess(
        'kube-controller-manager',
        bins.controllerManager,
        [
          `--kubeconfig=${configs['kube-controller-manager']}`,
          `--authentication-kubeconfig=${configs['kube-controller-manager']}`,
          `--authorization-kubeconfig=${configs['kube-controller-manager']}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${ports.controllerManager}`,
          `--service-account-private-key-file=${pki.serviceAccountKey}`,
          `--root-ca-file=${pki.ca}`,
          '--use-service-account-credentials=true',
          `--cluster-signing-cert-file=${pki.ca}`,
          `--cluster-signing-key-file=${pki.caKey}`,
          `--service-cluster-ip-range=${SERVICE_CIDR}`,
          '--leader-elect=false',
          '--kube-api-qps=200',
          '--kube-api-burst=400',
          '--concurrent-deployment-syncs=10',
          '--concurrent-replicaset-syncs=10',
          '--concurrent-gc-syncs=40',
          '--concurrent-namespace-syncs=10',
          // the real node's HPAs (metrics-server): decisions every 5 s, scale-down after 30 s of lower load
          // (defaults 15 s and 5 min), so that a test can see a service scale out and back within minutes
          ...(kind === 'real'
            ? [
                '--horizontal-pod-autoscaler-sync-period=5s',
                '--horizontal-pod-autoscaler-downscale-stabilization=30s',
                '--horizontal-pod-autoscaler-cpu-initialization-period=30s',
              ]
            : []),
          '--v=0',
        ],
        logFile('kube-controller-manager'),
      ),
    );
    const schedulerConfig = join(dir, 'config', 'kube-scheduler.yaml');
    writeFileSync(
      schedulerConfig,
      [
        'apiVersion: kubescheduler.config.k8s.io/v1',
        'kind: KubeSchedulerConfiguration',
        'clientConnection:',
        `  kubeconfig: ${configs['kube-scheduler']}`,
        '  qps: 200',
        '  burst: 400',
        'leaderElection:',
        '  leaderElect: false',
        '',
      ].join('\n'),
    );
    started.push(
      startProcess(
        'kube-scheduler',
        bins.scheduler,
        [
          `--config=${schedulerConfig}`,
          `--authentication-kubeconfig=${configs['kube-scheduler']}`,
          `--authorization-kubeconfig=${configs['kube-scheduler']}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${ports.scheduler}`,
          '--v=0',
        ],
        logFile('kube-scheduler'),
      ),
    );
    save();
    await waitHealthy(started[2], dir, { url: `https://127.0.0.1:${ports.controllerManager}/healthz`, insecure: true }, 60_000);
    await waitHealthy(started[3], dir, { url: `https://127.0.0.1:${ports.scheduler}/healthz`, insecure: true }, 60_000);
    log('kube-controller-manager and kube-scheduler up');

    const kube = await KubeClient.connect({ kubeconfigPath: configs.admin }, FIELD_MANAGER);
    const admin: Probe = { url: server, ca: pki.ca, client: pki.clients.admin };
    if (nodeBins) {
      state.realNode = await startRealNode({
        dir,
        serviceCidr: SERVICE_CIDR,
        pki,
        admin,
        kubeconfigs: {
          kubelet: configs.kubelet,
          'kube-proxy': configs['kube-proxy'],
          'kube-router': configs['kube-router'],
          'metrics-server': configs['metrics-server'],
        },
        bins: nodeBins,
        started,
        log,
        save: (node) => {
          state.realNode = node;
          save();
        },
      });
    } else {
      for (const name of state.nodes) await kube.apply(simulatedNode(name));
      started.push(
        startProcess(
          'kwok',
          bins.kwok,
          [
            `--kubeconfig=${configs.kwok}`,
            `--config=${join(__dirname, 'kwok.yaml')}`,
            `--manage-nodes-with-annotation-selector=${NODE_ANNOTATION}=fake`,
            `--server-address=127.0.0.1:${ports.kwok}`,
            '--node-ip=127.0.0.1',
            `--node-port=${ports.kwok}`,
            `--tls-cert-file=${pki.apiServer.cert}`, // as if each node had a kubelet serving certificate
            `--tls-private-key-file=${pki.apiServer.key}`,
          ],
          logFile('kwok'),
        ),
      );
    }
    save();
    if (!opts.bare) await installAddons(kube, state, bins, admin, configs['cert-manager'], logFile('cert-manager'));
    await waitFor(
      `the ${kind === 'real' ? 'real node' : 'simulated nodes'} to be Ready`,
      kind === 'real' ? 120_000 : 60_000,
      started,
      dir,
      async () => {
        for (const name of state.nodes) {
          const node = await kube.get<LiveObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(
            'v1',
            'Node',
            name,
          );
          if (!node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return false;
        }
        return true;
      },
    );
    await waitFor(
      'the default ServiceAccount',
      60_000,
      started,
      dir,
      async () => (await kube.get('v1', 'ServiceAccount', 'default', 'default')) !== undefined,
    );
    if (state.realNode) {
      // checked again once the node runs: its components must not have changed the routes (no pod ran yet)
      checkIsolation(state.realNode);
      await waitClusterDns(admin);
      log(
        `real node ${REAL_NODE_NAME} Ready (containerd, kubelet, kube-proxy; pods on ${state.realNode.podCidr}; registry ${state.realNode.registry})`,
      );
    } else log(`${state.nodes.length} simulated node(s) Ready (KWOK)`);
    if (!opts.bare) {
      await bootstrapIssuers(kube, state, started, dir);
      log('cert-manager issuing (ClusterIssuers apprunner-local-selfsigned, apprunner-local-ca)');
      if (nodeBins) {
        state.gateway = await startGateway({ dir, traefik: nodeBins.traefik, kubeconfig: configs.traefik, admin, started, log });
        save();
      }
    }
    log(`cluster up in ${((Date.now() - begun) / 1000).toFixed(1)} s; KUBECONFIG=${configs.admin}`);
    save();
    return state;
  } catch (e) {
    if (state.realNode) {
      const problems = await stopRealNode(dir, state.realNode, started);
      for (const p of problems) log(`clean-up: ${p}`);
    }
    await stopProcesses(started, dir);
    rmSync(statePath(dir), { force: true });
    throw e;
  }
}

/** cert-manager's and Gateway API's CRDs, and cert-manager's controller. */
async function installAddons(
  kube: KubeClient,
  state: ClusterState,
  bins: Record<string, string>,
  admin: Probe,
  certManagerConfig: string,
  certManagerLog: string,
): Promise<void> {
  // Raw server-side apply: @kubernetes/client-node serializes CRDs through its typed model, which loses
  // `x-kubernetes-preserve-unknown-fields` (the API server then refuses cert-manager's CRDs).
  for (const crd of [...yamlDir(bins.certManagerCrds), ...yamlDir(bins.gatewayApiCrds)]) {
    await rawApply(admin, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`, crd);
  }
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cert-manager' } });
  state.processes.push(
    startProcess(
      'cert-manager',
      bins.certManager,
      [`--kubeconfig=${certManagerConfig}`, '--cluster-resource-namespace=cert-manager'],
      certManagerLog,
    ),
  );
  writeFileSync(statePath(state.dir), JSON.stringify(state, null, 2));
}

/**
 * Stops exactly the processes the cluster in `dir` started; a real node's pods, mounts, cgroups, iptables rules,
 * bridge and routes go with it (what could not be undone is logged).
 */
export async function clusterDown(
  dir: string,
  log: (line: string) => void = (l) => process.stderr.write(`[cluster] ${l}\n`),
): Promise<boolean> {
  dir = resolve(dir);
  const state = readState(dir);
  if (!state) return false;
  if (state.realNode) {
    for (const p of await stopRealNode(dir, state.realNode, state.processes)) log(`clean-up: ${p}`);
  }
  // reverse order, one at a time: the node simulation and controllers before the API server, etcd last (signalled
  // together, the API server would wait for its vanished etcd until the SIGKILL, 10 s later)
  for (const p of [...state.processes].reverse()) await stopProcesses([p], dir);
  rmSync(statePath(dir), { force: true });
  return true;
}

function writeKubeconfigs(dir: string, server: string, pki: Pki): Record<ClientName, string> {
  const out = {} as Record<ClientName, string>;
  for (const name of Object.keys(pki.clients) as ClientName[]) {
    const path = join(dir, 'config', `${name}.kubeconfig`);
    writeFileSync(path, kubeconfig(server, pki.ca, name, pki.clients[name]), { mode: 0o600 });
    out[name] = path;
  }
  return out;
}

function yamlDir(dir: string): LiveObject[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJSON() as LiveObject))
    .filter((o) => o?.kind);
}

function simulatedNode(name: string): LiveObject {
  const capacity = { cpu: '2000', memory: '4000Gi', pods: '2000', 'ephemeral-storage': '10Ti' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
    spec: {},
    status: { capacity, allocatable: capacity },
  } as LiveObject;
}

/** A SelfSigned ClusterIssuer, a CA certificate it issues, and a CA ClusterIssuer over that certificate. */
async function bootstrapIssuers(kube: KubeClient, state: ClusterState, started: Started[], dir: string): Promise<void> {
  const { selfSigned, ca } = state.issuers;
  await kube.apply({
    apiVersion: 'cert-manager.io/v1',
    kind: 'ClusterIssuer',
    metadata: { name: selfSigned },
    spec: { selfSigned: {} },
  } as LiveObject);
  await kube.apply({
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: ca, namespace: 'cert-manager' },
    spec: {
      isCA: true,
      commonName: 'apprunner-local-ca',
      secretName: ca,
      privateKey: { algorithm: 'ECDSA', size: 256 },
      issuerRef: { name: selfSigned, kind: 'ClusterIssuer', group: 'cert-manager.io' },
    },
  } as LiveObject);
  await kube.apply({
    apiVersion: 'cert-manager.io/v1',
    kind: 'ClusterIssuer',
    metadata: { name: ca },
    spec: { ca: { secretName: ca } },
  } as LiveObject);
  type WithConditions = LiveObject & { status?: { conditions?: Array<{ type: string; status: string }> } };
  const ready = (o?: WithConditions) => o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  await waitFor('cert-manager to issue the local CA', 90_000, started, dir, async () =>
    ready(await kube.get<WithConditions>('cert-manager.io/v1', 'ClusterIssuer', ca)),
  );
}

async function waitFor(what: string, timeoutMs: number, started: Started[], dir: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = started.find((p) => !isOurs(p.pid, dir));
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}:\n${tail(dead.log)}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; logs in ${join(dir, 'logs')}`);
}

/** How to reach the cluster's API server as its admin (client certificate), for tooling outside the worker. */
export function adminProbe(state: ClusterState): Probe {
  const pki = ensurePki(join(state.dir, 'pki'), SERVICE_IP);
  return { url: state.server, ca: pki.ca, client: pki.clients.admin };
}
