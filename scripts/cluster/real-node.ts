import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Pki } from './pki';
import { REAL_NODE_NAME, servingCert } from './pki';
import {
  freePort,
  isOurs,
  kubeRequest,
  rawApply,
  startProcess,
  stopProcesses,
  tail,
  waitHealthy,
  type Probe,
  type Started,
} from './processes';

/**
 * The real node of the local cluster (`npm run cluster -- up --node=real`): containerd with Debian's runc, the
 * kubelet and kube-proxy of the control plane's Kubernetes version, the CNI bridge, host-local, loopback and portmap
 * plugins, and CoreDNS, all built from their Go modules by build.sh. Images come from a docker-registry on loopback
 * that this script starts; the pod sandbox image is built here (scripts/cluster/pause) with buildah and pushed there.
 *
 * Everything the node changes outside its cluster folder is recorded in the cluster's state and undone by `down`:
 * the bridge, the blackhole routes, our nftables table, the kubelet's and kube-proxy's iptables chains, cgroups,
 * sysctls, mounts. One real node per machine: kube-proxy's iptables chains, the bridge and the pod network are
 * machine-wide, so a lock file says which cluster folder owns them.
 */

/** Pod addresses of the node: one /24 on the bridge; the rest of the /16 is blackholed. */
export const POD_CIDR = '10.244.0.0/16';
const NODE_POD_SUBNET = '10.244.0.0/24';
/** The bridge's own address: the pods' gateway, the kubelet's node IP, where pods reach the API server. */
export const NODE_IP = '10.244.0.1';
export const DNS_SERVICE_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
const BRIDGE = 'apprunner0';
/**
 * Our own nftables table. Its base chains hook in before iptables' filter chains (priority -10), where kube-proxy and
 * the kubelet insert theirs first: a drop here is final whatever they add. Pods' packets may cross the host only from
 * the bridge back onto the bridge (Services), and may reach the host itself only for the API server (its forwarder).
 */
const NFT_TABLE = 'apprunner_node';
/** The kubelet's cgroup root (cgroupfs driver): every pod's cgroup lives under it, in every hierarchy. */
const CGROUP_ROOT = 'apprunner-k8s';
const LOCK = '/run/apprunner-k8s/real-node.json';
const PAUSE_REPOSITORY = 'apprunner-local/pause';
const COREDNS_REPOSITORY = 'apprunner-local/coredns';
/** Where pods reach the API server (the `kubernetes` Service's endpoint): a forwarder on the node's address. */
const API_FORWARD_PORT = 6443;
/** Sysctls the kubelet (setupKernelTunables) and this script set: their values before, restored by `down`. */
const TOUCHED_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
  'net/bridge/bridge-nf-call-iptables',
  'net/ipv4/conf/all/route_localnet',
];

export interface RealNodeBinaries {
  containerdBin: string;
  crictl: string;
  kubelet: string;
  kubeProxy: string;
  coredns: string;
  cniBin: string;
  pause: string;
  traefik: string;
  kubeRouter: string;
  metricsServer: string;
}

/** What `down` needs to undo the node, saved in the cluster's state as soon as anything is changed. */
export interface RealNodeState {
  name: string;
  /** The loopback registry the node pulls from (plain HTTP): `127.0.0.1:<port>`. */
  registry: string;
  pauseImage: string;
  containerdSocket: string;
  podCidr: string;
  nodeIp: string;
  dnsServiceIp: string;
  clusterDomain: string;
  bridge: string;
  blackholes: string[];
  cgroupRoot: string;
  sysctls: Record<string, string>;
  /** nftables tables before the node started: those that appear with it (iptables-nft makes them on first use) go once empty. */
  nftTablesBefore?: string[];
  crictl: string;
  kubeProxy: string;
  ports: Record<string, number>;
}

export interface RealNodeContext {
  dir: string;
  serviceCidr: string;
  pki: Pki;
  admin: Probe;
  kubeconfigs: { kubelet: string; 'kube-proxy': string; 'kube-router': string; 'metrics-server': string };
  bins: RealNodeBinaries;
  started: Started[];
  log: (line: string) => void;
  /** Persists the cluster's state (with `node`) so that a failure half-way can still be undone by `down`. */
  save: (node: RealNodeState) => void;
}

function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  const r = spawnSync(cmd, args, { input: opts.input, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}
/** Runs and reports failure instead of throwing: clean-up goes on past each failed step. */
function tryRun(cmd: string, args: string[], problems: string[], timeoutMs = 60_000): string | undefined {
  try {
    return run(cmd, args, { timeoutMs });
  } catch (e) {
    problems.push((e as Error).message.split('\n')[0]);
    return undefined;
  }
}

const sysctlPath = (name: string) => join('/proc/sys', name);
function readSysctl(name: string): string | undefined {
  try {
    return readFileSync(sysctlPath(name), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** What the machine lacks for a real node, as one message; undefined when nothing. */
export function realNodePreflight(): string | undefined {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (containerd, the kubelet and the pod network need it)');
  for (const [path, pkg] of [
    ['/usr/sbin/runc', 'runc'],
    ['/usr/sbin/iptables', 'iptables'],
    ['/usr/sbin/nft', 'nftables'],
    ['/usr/sbin/ipset', 'ipset'],
    ['/usr/bin/buildah', 'buildah'],
    ['/usr/bin/docker-registry', 'docker-registry'],
  ]) {
    if (!existsSync(path)) missing.push(`${path} (Debian package ${pkg})`);
  }
  if (!existsSync('/sbin/ip') && !existsSync('/usr/sbin/ip') && !existsSync('/usr/bin/ip')) missing.push('ip (Debian package iproute2)');
  if (!existsSync('/sys/fs/cgroup/memory') && !existsSync('/sys/fs/cgroup/cgroup.controllers'))
    missing.push('a mounted cgroup file system');
  return missing.length ? `the real node needs ${missing.join(', ')}` : undefined;
}

interface Lock {
  dir: string;
  since: string;
}
function readLock(): Lock | undefined {
  try {
    return JSON.parse(readFileSync(LOCK, 'utf8')) as Lock;
  } catch {
    return undefined;
  }
}

/** Whether a process of the cluster in `dir` still runs (its state file names them). */
function clusterStillRunning(dir: string): boolean {
  try {
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { processes: Started[] };
    return state.processes.some((p) => isOurs(p.pid, dir));
  } catch {
    return false;
  }
}

/**
 * Why a real node cannot start for the cluster in `dir` on this machine now (what is missing, or whose real node
 * holds the machine's one slot), or undefined when it can.
 */
export function realNodeUnavailable(dir: string): string | undefined {
  const problem = realNodePreflight();
  if (problem) return problem;
  const lock = readLock();
  if (lock && lock.dir !== dir && clusterStillRunning(lock.dir))
    return `the machine's one real node runs for the cluster in ${lock.dir} (since ${lock.since})`;
  return undefined;
}

/** Takes the machine's one real-node slot for `dir`; refuses while another cluster folder's node still runs. */
function takeLock(dir: string, stillRunning: (other: string) => boolean): void {
  const lock = readLock();
  if (lock && lock.dir !== dir && stillRunning(lock.dir)) {
    throw new Error(
      `a real node already runs on this machine for the cluster in ${lock.dir} (since ${lock.since}); ` +
        `one machine runs one real node: npm run cluster -- down --dir ${lock.dir}`,
    );
  }
  mkdirSync(dirname(LOCK), { recursive: true });
  writeFileSync(LOCK, JSON.stringify({ dir, since: new Date().toISOString() } satisfies Lock));
}

/**
 * Routes that keep every pod and service address on this machine: the node's /24 is on the bridge (a more specific
 * route), everything else in the pod and service ranges is a blackhole. Throws unless the kernel agrees.
 */
export function checkIsolation(node: Pick<RealNodeState, 'bridge' | 'blackholes' | 'nodeIp'>): void {
  const routeOf = (ip: string) => run('ip', ['-4', 'route', 'get', ip]).trim();
  for (const cidr of node.blackholes) {
    const probe = cidr.replace(/\.0\.0\/16$/, '.200.7');
    const shown = run('ip', ['-4', 'route', 'show', 'exact', cidr]).trim();
    if (!/^blackhole /.test(shown)) throw new Error(`safety: no blackhole route for ${cidr} (ip route shows "${shown}")`);
    let seen: string;
    try {
      seen = routeOf(probe);
    } catch (e) {
      seen = (e as Error).message; // `ip route get` to a blackhole fails with "Invalid argument"
    }
    if (/ dev (?!lo\b)/.test(seen) && !seen.includes(`dev ${node.bridge}`))
      throw new Error(`safety: ${probe} would leave this machine: ${seen}`);
  }
  const onBridge = routeOf(node.nodeIp.replace(/\.1$/, '.77'));
  if (!onBridge.includes(`dev ${node.bridge}`)) throw new Error(`safety: the pod subnet is not on ${node.bridge}: ${onBridge}`);
  const table = spawnSync('nft', ['list', 'table', 'inet', NFT_TABLE], { encoding: 'utf8' });
  const rules = table.status === 0 ? table.stdout : '';
  for (const wanted of [
    `iifname "${node.bridge}" oifname != "${node.bridge}" drop`,
    `oifname "${node.bridge}" iifname != "${node.bridge}" drop`,
  ]) {
    if (!rules.includes(wanted)) throw new Error(`safety: nftables table inet ${NFT_TABLE} lacks "${wanted}": ${rules || table.stderr}`);
  }
}

function setupNetwork(node: RealNodeState, log: (line: string) => void): void {
  node.nftTablesBefore ??= nftTables();
  for (const name of TOUCHED_SYSCTLS) {
    const value = readSysctl(name);
    if (value !== undefined && node.sysctls[name] === undefined) node.sysctls[name] = value;
  }
  for (const cidr of node.blackholes) run('ip', ['route', 'replace', 'blackhole', cidr]);
  if (spawnSync('ip', ['link', 'show', node.bridge]).status !== 0) run('ip', ['link', 'add', node.bridge, 'type', 'bridge']);
  run('ip', ['addr', 'replace', `${node.nodeIp}/24`, 'dev', node.bridge]);
  run('ip', ['link', 'set', node.bridge, 'up']);
  // Forwarding is switched on for packets that come in from the bridge only (IPv4 checks the input device), so pods
  // reach Services (DNAT, then routed back onto the bridge) while the machine's own interfaces still forward nothing.
  writeFileSync(sysctlPath(`net/ipv4/conf/${node.bridge}/forwarding`), '1');
  // bridged pod-to-pod packets must traverse iptables for kube-proxy's DNAT of hairpin Service traffic
  writeFileSync(sysctlPath('net/bridge/bridge-nf-call-iptables'), '1');
  const q = (name: string) => JSON.stringify(name);
  run('nft', ['-f', '-'], {
    input: [
      `table inet ${NFT_TABLE}`,
      `delete table inet ${NFT_TABLE}`,
      `table inet ${NFT_TABLE} {`,
      '  chain forward {',
      '    type filter hook forward priority -10; policy accept;',
      `    iifname ${q(node.bridge)} oifname != ${q(node.bridge)} drop`,
      `    oifname ${q(node.bridge)} iifname != ${q(node.bridge)} drop`,
      '  }',
      '  chain input {',
      '    type filter hook input priority -10; policy accept;',
      `    iifname != ${q(node.bridge)} accept`,
      '    ct state established,related accept',
      `    ip daddr ${node.nodeIp} tcp dport ${API_FORWARD_PORT} accept`,
      // refused rather than dropped: a pod sees at once that the host is closed to it
      '    reject',
      '  }',
      '}',
      '',
    ].join('\n'),
  });
  checkIsolation(node);
  log(
    `pod network: bridge ${node.bridge} ${node.nodeIp}/24, blackhole routes for ${node.blackholes.join(' and ')}, forwarding only within the bridge`,
  );
}

/** Every cgroup hierarchy of the machine (v1 controllers and the v2 tree), as mount points. */
function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => {
      const sep = f.indexOf('-');
      return sep > 0 && (f[sep + 1] === 'cgroup' || f[sep + 1] === 'cgroup2');
    })
    .map((f) => f[4]);
}

/** The kubelet refuses a cgroup root that does not exist; cpuset's children start with no CPUs unless given some. */
function createCgroupRoot(root: string): void {
  for (const mount of cgroupMounts()) {
    const path = join(mount, root);
    mkdirSync(path, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const parent = join(mount, file);
      if (existsSync(parent) && readFileSync(join(path, file), 'utf8').trim() === '') writeFileSync(join(path, file), readFileSync(parent));
    }
  }
}

/** Kills every process left in the cgroup root (containers whose shim is gone) and removes its cgroups. */
function removeCgroupRoot(root: string, problems: string[]): void {
  const mounts = cgroupMounts();
  const walk = (path: string): string[] =>
    existsSync(path)
      ? [
          ...readdirSync(path, { withFileTypes: true })
            .filter((d) => d.isDirectory())
            .flatMap((d) => walk(join(path, d.name))),
          path,
        ]
      : [];
  for (let attempt = 0; attempt < 20; attempt++) {
    let left = 0;
    for (const mount of mounts) {
      for (const cg of walk(join(mount, root))) {
        const procs = existsSync(join(cg, 'cgroup.procs'))
          ? readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)
          : [];
        for (const pid of procs) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        try {
          // rmdir(2): a cgroup's directory goes with its control files once no process is left in it
          rmdirSync(cg);
        } catch {
          left++;
        }
      }
    }
    if (left === 0) return;
    spawnSync('sleep', ['0.25']);
  }
  problems.push(`some cgroups under ${root} could not be removed`);
}

/** Mount points under `prefix`, deepest first. */
function mountsUnder(prefix: string): string[] {
  const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((m) => m === prefix || m.startsWith(`${prefix}/`))
    .sort((a, b) => b.length - a.length);
}

function unmountUnder(prefix: string, problems: string[]): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    const mounts = mountsUnder(prefix);
    if (mounts.length === 0) return;
    for (const m of mounts) {
      if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
    }
  }
  const left = mountsUnder(prefix);
  if (left.length) problems.push(`still mounted: ${left.join(', ')}`);
}

function writeFile(path: string, content: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** buildah in the node's own storage (vfs, chroot isolation: no daemon, nothing shared with other builds). */
function buildah(dir: string, args: string[]): string {
  return run(
    'buildah',
    ['--root', join(dir, 'buildah', 'root'), '--runroot', join(dir, 'buildah', 'run'), '--storage-driver', 'vfs', ...args],
    {
      timeoutMs: 300_000,
    },
  );
}

/**
 * Packages one static binary into `registry/<repository>:<hash of the binary>` (FROM scratch, the binary as its
 * entry point) with buildah and pushes it: the sandbox (pause) and CoreDNS images, made here, never pulled.
 */
function pushBinaryImage(dir: string, registry: string, repository: string, binary: string, user?: string): string {
  const name = repository.split('/').pop()!;
  const hash = createHash('sha256').update(readFileSync(binary)).digest('hex').slice(0, 12);
  const image = `${registry}/${repository}:${hash}`;
  const context = join(dir, 'buildah', `${name}-context`);
  mkdirSync(context, { recursive: true });
  copyFileSync(binary, join(context, name));
  writeFileSync(
    join(context, 'Containerfile'),
    ['FROM scratch', `COPY ${name} /${name}`, ...(user ? [`USER ${user}`] : []), `ENTRYPOINT ["/${name}"]`, ''].join('\n'),
  );
  buildah(dir, ['build', '--isolation', 'chroot', '--quiet', '-f', join(context, 'Containerfile'), '-t', image, context]);
  buildah(dir, ['push', '--tls-verify=false', '--quiet', image, `docker://${image}`]);
  return image;
}

function containerdConfig(dir: string, node: RealNodeState, cniBin: string): string {
  const root = join(dir, 'containerd');
  const hosts = join(root, 'certs.d');
  // plain HTTP for the loopback registry; containerd falls back to HTTP for other 127.0.0.1:<port> registries itself
  writeFile(
    join(hosts, node.registry, 'hosts.toml'),
    [`server = "http://${node.registry}"`, '', `[host."http://${node.registry}"]`, '  capabilities = ["pull", "resolve"]', ''].join('\n'),
  );
  const q = (s: string) => JSON.stringify(s);
  return writeFile(
    join(root, 'config.toml'),
    [
      'version = 3',
      `root = ${q(join(root, 'root'))}`,
      `state = ${q(join(root, 'state'))}`,
      '[grpc]',
      `  address = ${q(node.containerdSocket)}`,
      '[ttrpc]',
      `  address = ${q(`${node.containerdSocket}.ttrpc`)}`,
      '[debug]',
      '  address = ""',
      '[metrics]',
      '  address = ""',
      "[plugins.'io.containerd.cri.v1.images']",
      "  snapshotter = 'overlayfs'",
      "  [plugins.'io.containerd.cri.v1.images'.pinned_images]",
      `    sandbox = ${q(node.pauseImage)}`,
      "  [plugins.'io.containerd.cri.v1.images'.registry]",
      `    config_path = ${q(hosts)}`,
      "[plugins.'io.containerd.cri.v1.runtime']",
      // the pods' network namespaces are mounted in the state folder, not /var/run/netns: `down` finds them all
      '  netns_mounts_under_state_dir = true',
      // no process here holds CAP_SYS_RESOURCE (CapEff lacks bit 24), so none may lower an oom_score_adj: without this
      // every sandbox fails ("failed to update /proc/self/oom_score_adj: Permission denied" from runc's nsexec, which
      // containerd reports as "can't get final child's PID from pipe: EOF"); with it, scores below containerd's own
      // (0) are raised to 0
      '  restrict_oom_score_adj = true',
      "  [plugins.'io.containerd.cri.v1.runtime'.containerd]",
      "    default_runtime_name = 'runc'",
      "    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]",
      "      runtime_type = 'io.containerd.runc.v2'",
      "      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
      "        BinaryName = '/usr/sbin/runc'",
      // runc's state in the cluster folder rather than /run/containerd/runc
      `        Root = ${q(join(root, 'runc'))}`,
      '        SystemdCgroup = false',
      "  [plugins.'io.containerd.cri.v1.runtime'.cni]",
      `    bin_dirs = [${q(cniBin)}]`,
      `    conf_dir = ${q(join(dir, 'cni', 'net.d'))}`,
      '    max_conf_num = 1',
      '',
    ].join('\n'),
  );
}

function cniConfig(dir: string, node: RealNodeState): void {
  const conf = {
    cniVersion: '1.0.0',
    name: 'apprunner-local',
    plugins: [
      {
        type: 'bridge',
        bridge: node.bridge,
        // the script gave the bridge its address; isGateway would make the plugin switch on forwarding machine-wide
        isGateway: false,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: join(dir, 'cni', 'ipam'),
          ranges: [[{ subnet: NODE_POD_SUBNET, gateway: node.nodeIp, rangeStart: node.nodeIp.replace(/\.1$/, '.10') }]],
          routes: [{ dst: '0.0.0.0/0', gw: node.nodeIp }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
  writeFile(join(dir, 'cni', 'net.d', '10-apprunner-local.conflist'), JSON.stringify(conf, null, 2));
}

async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
  proc?: Started,
  dir?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && dir && !isOurs(proc.pid, dir)) throw new Error(`${proc.name} exited while waiting for ${what}:\n${tail(proc.log)}`);
    if (await Promise.resolve(check()).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${proc ? `:\n${tail(proc.log)}` : ''}`);
}

/**
 * Cluster DNS as a cluster runs it: CoreDNS in a pod of kube-system labelled `k8s-app: kube-dns` (its upstream
 * Deployment's ServiceAccount, ClusterRole and Corefile), behind the kube-dns Service. A NetworkPolicy that allows DNS
 * names those pods, so DNS must be a pod: on the host, a policy engine sees the pods' queries as traffic to the node.
 * CoreDNS reaches the API server through the `kubernetes` Service (the node's API forwarder).
 */
async function applyDnsObjects(admin: Probe, node: RealNodeState, image: string): Promise<void> {
  const name = 'system:coredns';
  const apply = (path: string, body: object) => rawApply(admin, path, body);
  await apply(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${encodeURIComponent(name)}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name },
    rules: [
      { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ],
  });
  await apply('/api/v1/namespaces/kube-system/serviceaccounts/coredns', {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'coredns', namespace: 'kube-system' },
  });
  await apply(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${encodeURIComponent(name)}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }],
  });
  const corefile = [
    `${CLUSTER_DOMAIN}:53 in-addr.arpa:53 ip6.arpa:53 {`,
    '  errors',
    '  health :8080',
    '  ready :8181',
    `  kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {`,
    '    pods insecure',
    '    fallthrough in-addr.arpa ip6.arpa',
    '  }',
    '  cache 5',
    '}',
    // every other name: refused, never forwarded (pods have no way out of this machine)
    '',
  ].join('\n');
  await apply('/api/v1/namespaces/kube-system/configmaps/coredns', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'coredns', namespace: 'kube-system' },
    data: { Corefile: corefile },
  });
  const labels = { 'k8s-app': 'kube-dns' };
  await apply('/apis/apps/v1/namespaces/kube-system/deployments/coredns', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'coredns', namespace: 'kube-system', labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: 'coredns',
          priorityClassName: 'system-cluster-critical',
          dnsPolicy: 'Default',
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'coredns',
              image,
              args: ['-conf', '/etc/coredns/Corefile'],
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
              ],
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '170Mi' } },
              readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
              livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10, failureThreshold: 5 },
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                readOnlyRootFilesystem: true,
              },
              volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
            },
          ],
          volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
        },
      },
    },
  });
  const ports = [
    { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
    { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
  ];
  await apply('/api/v1/namespaces/kube-system/services/kube-dns', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels },
    spec: { clusterIP: node.dnsServiceIp, selector: labels, ports },
  });
}

/**
 * The API server for pods: it listens on loopback only, so a forwarder on the node's address (a few lines of Node.js
 * in the cluster folder, run by this Node.js) passes TCP through to it, and the `kubernetes` Service's endpoint (the
 * API server runs with --endpoint-reconciler-type=none) points there. TLS is end to end: the API server's
 * certificate names the Service's ClusterIP.
 */
async function startApiForwarder(ctx: RealNodeContext, node: RealNodeState): Promise<void> {
  const { dir, started, admin } = ctx;
  const target = Number(new URL(admin.url).port);
  node.ports.apiForwarder = API_FORWARD_PORT;
  const script = writeFile(
    join(dir, 'node', 'api-forwarder.cjs'),
    [
      "const net = require('node:net');",
      'const [host, port, target] = process.argv.slice(2);',
      'net',
      '  .createServer((client) => {',
      "    const upstream = net.connect(Number(target), '127.0.0.1');",
      '    const end = () => (client.destroy(), upstream.destroy());',
      "    for (const s of [client, upstream]) s.on('error', end).on('close', end);",
      '    client.pipe(upstream).pipe(client);',
      '  })',
      '  .listen(Number(port), host);',
      '',
    ].join('\n'),
  );
  const forwarder = startProcess(
    'api-forwarder',
    process.execPath,
    [script, node.nodeIp, String(API_FORWARD_PORT), String(target)],
    join(dir, 'logs', 'api-forwarder.log'),
  );
  started.push(forwarder);
  ctx.save(node);
  // (the API server's certificate names 127.0.0.1 and the ClusterIP, not the node's address: this only checks the path)
  await waitHealthy(
    forwarder,
    dir,
    { url: `https://${node.nodeIp}:${API_FORWARD_PORT}/readyz`, insecure: true, client: admin.client },
    20_000,
  );
  await rawApply(admin, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes-node', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kubernetes-node',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'apprunner-local-cluster' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [node.nodeIp], conditions: { ready: true } }],
    ports: [{ name: 'https', port: API_FORWARD_PORT, protocol: 'TCP' }],
  });
}

/** Waits for the CoreDNS pod to be Ready (after the Node is): pods resolve names from then on. */
export async function waitClusterDns(admin: Probe, timeoutMs = 120_000): Promise<void> {
  type Dep = { status?: { readyReplicas?: number } };
  await waitFor('the CoreDNS pod to be Ready', timeoutMs, () =>
    kubeRequest<Dep>(admin, 'GET', '/apis/apps/v1/namespaces/kube-system/deployments/coredns').then(
      (d) => (d.status?.readyReplicas ?? 0) >= 1,
      () => false,
    ),
  );
}

/** Starts the real node's processes; the caller waits for the Node to be Ready. */
export async function startRealNode(ctx: RealNodeContext): Promise<RealNodeState> {
  const { dir, bins, started, log } = ctx;
  const problem = realNodePreflight();
  if (problem) throw new Error(problem);
  takeLock(dir, clusterStillRunning);
  const node: RealNodeState = {
    name: REAL_NODE_NAME,
    registry: '',
    pauseImage: '',
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    podCidr: POD_CIDR,
    nodeIp: NODE_IP,
    dnsServiceIp: DNS_SERVICE_IP,
    clusterDomain: CLUSTER_DOMAIN,
    bridge: BRIDGE,
    blackholes: [POD_CIDR, ctx.serviceCidr],
    cgroupRoot: CGROUP_ROOT,
    sysctls: {},
    crictl: bins.crictl,
    kubeProxy: bins.kubeProxy,
    ports: {},
  };
  if (node.containerdSocket.length > 100)
    throw new Error(`the cluster folder's path is too long for containerd's socket: ${node.containerdSocket}`);
  ctx.save(node);
  for (const sub of ['containerd', 'kubelet', 'cni', 'buildah', 'registry', 'node'])
    rmSync(join(dir, sub), { recursive: true, force: true });
  setupNetwork(node, log);
  ctx.save(node);
  const logFile = (n: string) => join(dir, 'logs', `${n}.log`);

  // the loopback registry the node pulls from
  node.ports.registry = await freePort();
  node.registry = `127.0.0.1:${node.ports.registry}`;
  const registryConfig = writeFile(
    join(dir, 'registry', 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'registry', 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${node.registry}`,
      '',
    ].join('\n'),
  );
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
  const registry = startProcess('docker-registry', '/usr/bin/docker-registry', ['serve', registryConfig], logFile('docker-registry'), env);
  started.push(registry);
  ctx.save(node);
  await waitHealthy(registry, dir, { url: `http://${node.registry}/v2/` }, 20_000);
  node.pauseImage = pushBinaryImage(dir, node.registry, PAUSE_REPOSITORY, bins.pause, '65535:65535');
  log(`loopback registry ${node.registry}; sandbox image ${node.pauseImage} built here`);

  const containerd = startProcess(
    'containerd',
    join(bins.containerdBin, 'containerd'),
    ['--config', containerdConfig(dir, node, bins.cniBin)],
    logFile('containerd'),
    // the shim is found on PATH, next to containerd
    { PATH: `${bins.containerdBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
  );
  started.push(containerd);
  ctx.save(node);
  cniConfig(dir, node);
  const crictl = ['--runtime-endpoint', `unix://${node.containerdSocket}`, '--timeout', '10s'];
  await waitFor(
    'containerd',
    30_000,
    () => spawnSync(bins.crictl, [...crictl, 'info'], { stdio: 'ignore', timeout: 10_000 }).status === 0,
    containerd,
    dir,
  );
  log(`containerd up (${node.containerdSocket})`);

  // the API server for pods, and CoreDNS as a pod (Ready once the node is: waitClusterDns)
  await startApiForwarder(ctx, node);
  await applyDnsObjects(ctx.admin, node, pushBinaryImage(dir, node.registry, COREDNS_REPOSITORY, bins.coredns));
  log(`API server for pods at ${node.nodeIp}:${API_FORWARD_PORT} (Service default/kubernetes); CoreDNS image pushed`);

  // kubelet
  createCgroupRoot(node.cgroupRoot);
  node.ports.kubelet = await freePort();
  node.ports.kubeletHealthz = await freePort();
  // signed by the cluster CA for the node's address: metrics-server verifies the kubelet it scrapes
  const kubeletServing = servingCert(ctx.pki, 'kubelet-serving', [`DNS:${node.name}`, `IP:${node.nodeIp}`]);
  const kubeletDir = join(dir, 'kubelet');
  const resolvConf = writeFile(join(dir, 'node', 'resolv.conf'), '# the real node has no upstream DNS: pods resolve cluster names only\n');
  const kubeletConfig = writeFile(
    join(dir, 'node', 'kubelet.yaml'),
    [
      'apiVersion: kubelet.config.k8s.io/v1beta1',
      'kind: KubeletConfiguration',
      // this machine mounts cgroup v1 controllers (cgroup2 only beside them); the kubelet refuses v1 by default
      'failCgroupV1: false',
      'cgroupDriver: cgroupfs',
      `cgroupRoot: /${node.cgroupRoot}`,
      `containerRuntimeEndpoint: unix://${node.containerdSocket}`,
      `address: ${node.nodeIp}`,
      `port: ${node.ports.kubelet}`,
      'readOnlyPort: 0',
      `tlsCertFile: ${kubeletServing.cert}`,
      `tlsPrivateKeyFile: ${kubeletServing.key}`,
      'healthzBindAddress: 127.0.0.1',
      `healthzPort: ${node.ports.kubeletHealthz}`,
      'authentication:',
      '  anonymous:',
      '    enabled: false',
      '  webhook:',
      '    enabled: true',
      '  x509:',
      `    clientCAFile: ${ctx.pki.ca}`,
      'authorization:',
      '  mode: Webhook',
      `clusterDomain: ${CLUSTER_DOMAIN}`,
      'clusterDNS:',
      `- ${node.dnsServiceIp}`,
      `resolvConf: ${resolvConf}`,
      `podLogsDir: ${join(dir, 'node', 'pod-logs')}`,
      'failSwapOn: false',
      // -999 by default, which needs CAP_SYS_RESOURCE (see the containerd configuration)
      'oomScoreAdj: 0',
      'serializeImagePulls: false',
      'maxPods: 110',
      // a shared development machine: the node's own disk thresholds must not evict pods for others' files
      'evictionHard:',
      "  memory.available: '100Mi'",
      "  nodefs.available: '1%'",
      "  imagefs.available: '1%'",
      'imageGCHighThresholdPercent: 100',
      'imageGCLowThresholdPercent: 99',
      'nodeStatusReportFrequency: 10s',
      'syncFrequency: 10s',
      'fileCheckFrequency: 10s',
      '',
    ].join('\n'),
  );
  const kubelet = startProcess(
    'kubelet',
    bins.kubelet,
    [
      `--config=${kubeletConfig}`,
      `--kubeconfig=${ctx.kubeconfigs.kubelet}`,
      `--root-dir=${kubeletDir}`,
      `--cert-dir=${join(kubeletDir, 'pki')}`,
      `--hostname-override=${node.name}`,
      `--node-ip=${node.nodeIp}`,
      '--node-labels=apprunner-k8s.local/node=real',
      '--v=1',
    ],
    logFile('kubelet'),
  );
  started.push(kubelet);
  ctx.save(node);
  await waitHealthy(kubelet, dir, { url: `http://127.0.0.1:${node.ports.kubeletHealthz}/healthz` }, 60_000);
  log(`kubelet up (node ${node.name}, ${node.nodeIp}:${node.ports.kubelet})`);

  // kube-proxy
  node.ports.kubeProxyHealthz = await freePort();
  node.ports.kubeProxyMetrics = await freePort();
  const proxyConfig = writeFile(
    join(dir, 'node', 'kube-proxy.yaml'),
    [
      'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
      'kind: KubeProxyConfiguration',
      'clientConnection:',
      `  kubeconfig: ${ctx.kubeconfigs['kube-proxy']}`,
      `hostnameOverride: ${node.name}`,
      'mode: iptables',
      'oomScoreAdj: 0',
      `clusterCIDR: ${node.podCidr}`,
      `healthzBindAddress: 127.0.0.1:${node.ports.kubeProxyHealthz}`,
      `metricsBindAddress: 127.0.0.1:${node.ports.kubeProxyMetrics}`,
      `nodePortAddresses: ['${node.nodeIp}/32']`,
      'iptables:',
      // NodePorts on 127.0.0.1 would need route_localnet, which opens loopback to the pods' network
      '  localhostNodePorts: false',
      // the machine's conntrack settings belong to the machine
      'conntrack:',
      '  maxPerCore: 0',
      '  min: 0',
      '  tcpEstablishedTimeout: 0s',
      '  tcpCloseWaitTimeout: 0s',
      '',
    ].join('\n'),
  );
  const proxy = startProcess('kube-proxy', bins.kubeProxy, [`--config=${proxyConfig}`, '--v=1'], logFile('kube-proxy'));
  started.push(proxy);
  ctx.save(node);
  await waitHealthy(proxy, dir, { url: `http://127.0.0.1:${node.ports.kubeProxyHealthz}/healthz` }, 60_000);
  log('kube-proxy up (iptables)');

  await startKubeRouter(ctx, node);
  await startMetricsServer(ctx, node);
  return node;
}

/**
 * metrics-server (the resource metrics API behind HPAs), out of cluster: it scrapes the kubelet's /metrics/resource
 * and serves `metrics.k8s.io` on the node's address, where the API server reaches it through the APIService (the
 * API server routes aggregated APIs to endpoints, not to ClusterIPs, which do not answer from the host).
 */
async function startMetricsServer(ctx: RealNodeContext, node: RealNodeState): Promise<void> {
  const { dir, bins, started, log, admin } = ctx;
  const user = 'apprunner-local-metrics-server';
  const rbac = (kind: string, path: string, body: object) =>
    rawApply(admin, path, { apiVersion: 'rbac.authorization.k8s.io/v1', kind, ...body });
  // upstream's manifests: its ClusterRole, auth-delegator, and the authentication ConfigMap's reader in kube-system
  await rbac('ClusterRole', '/apis/rbac.authorization.k8s.io/v1/clusterroles/system:metrics-server', {
    metadata: { name: 'system:metrics-server' },
    rules: [
      { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
    ],
  });
  const subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }];
  for (const role of ['system:metrics-server', 'system:auth-delegator'])
    await rbac('ClusterRoleBinding', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${user}:${role.split(':')[1]}`, {
      metadata: { name: `${user}:${role.split(':')[1]}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects,
    });
  await rbac('RoleBinding', `/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings/${user}:auth-reader`, {
    metadata: { name: `${user}:auth-reader`, namespace: 'kube-system' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
    subjects,
  });
  node.ports.metricsServer = await freePort();
  const serving = servingCert(ctx.pki, 'metrics-server-serving', ['DNS:metrics-server.kube-system.svc', `IP:${node.nodeIp}`]);
  const metrics = startProcess(
    'metrics-server',
    bins.metricsServer,
    [
      `--kubeconfig=${ctx.kubeconfigs['metrics-server']}`,
      `--authentication-kubeconfig=${ctx.kubeconfigs['metrics-server']}`,
      `--authorization-kubeconfig=${ctx.kubeconfigs['metrics-server']}`,
      `--bind-address=${node.nodeIp}`,
      `--secure-port=${node.ports.metricsServer}`,
      `--tls-cert-file=${serving.cert}`,
      `--tls-private-key-file=${serving.key}`,
      '--kubelet-preferred-address-types=InternalIP',
      '--kubelet-use-node-status-port',
      `--kubelet-certificate-authority=${ctx.pki.ca}`,
      '--metric-resolution=15s',
      '--kubelet-request-timeout=5s',
      '--v=1',
    ],
    join(dir, 'logs', 'metrics-server.log'),
  );
  started.push(metrics);
  ctx.save(node);
  await waitHealthy(metrics, dir, { url: `https://${node.nodeIp}:${node.ports.metricsServer}/livez`, insecure: true }, 60_000);
  const ports = [{ name: 'https', port: 443, protocol: 'TCP' }];
  await rawApply(admin, '/api/v1/namespaces/kube-system/services/metrics-server', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'metrics-server', namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' } },
    spec: { ports: ports.map((p) => ({ ...p, targetPort: node.ports.metricsServer })) },
  });
  await rawApply(admin, '/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/metrics-server-host', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'metrics-server-host',
      namespace: 'kube-system',
      labels: { 'kubernetes.io/service-name': 'metrics-server', 'endpointslice.kubernetes.io/managed-by': 'apprunner-local-cluster' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [node.nodeIp], conditions: { ready: true } }],
    ports: [{ name: 'https', port: node.ports.metricsServer, protocol: 'TCP' }],
  });
  await rawApply(admin, '/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io', {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: 'v1beta1.metrics.k8s.io', labels: { 'k8s-app': 'metrics-server' } },
    spec: {
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      service: { namespace: 'kube-system', name: 'metrics-server', port: 443 },
      caBundle: readFileSync(ctx.pki.ca).toString('base64'),
      groupPriorityMinimum: 100,
      versionPriority: 100,
    },
  });
  await waitFor(
    'the metrics API (APIService v1beta1.metrics.k8s.io Available)',
    90_000,
    () =>
      kubeRequest<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
        admin,
        'GET',
        '/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io',
      ).then(
        (o) => o.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false,
        () => false,
      ),
    metrics,
    dir,
  );
  log(`metrics-server up (${node.nodeIp}:${node.ports.metricsServer}, APIService v1beta1.metrics.k8s.io)`);
}

/**
 * The NetworkPolicy engine: kube-router's network-policy controller alone (no routing, no service proxy: kube-proxy
 * and the bridge do those), out of cluster. It keeps iptables chains (KUBE-ROUTER-*, KUBE-POD-FW-*, KUBE-NWPLCY-*) and
 * ipsets (KUBE-SRC-*, KUBE-DST-*) in step with the pods and policies; a pod's traffic crosses them in FORWARD (pod to
 * pod, bridged), INPUT (pod to host) and OUTPUT (host to pod). Traffic from the host itself (the kubelet's probes,
 * Traefik) is accepted by its rule for the node's own addresses.
 */
async function startKubeRouter(ctx: RealNodeContext, node: RealNodeState): Promise<void> {
  const { dir, bins, started, log } = ctx;
  const name = 'apprunner-local-kube-router';
  await rawApply(ctx.admin, `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name },
    // what upstream's firewall-only DaemonSet grants, less what the router and service proxy need
    rules: [
      { apiGroups: [''], resources: ['namespaces', 'pods', 'services', 'nodes', 'endpoints'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ],
  });
  await rawApply(ctx.admin, `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name }],
  });
  // kube-router reads its Node (for the node's address) when it starts: the kubelet registers it first
  await waitFor('the kubelet to register the Node', 60_000, () =>
    kubeRequest(ctx.admin, 'GET', `/api/v1/nodes/${node.name}`).then(
      () => true,
      () => false,
    ),
  );
  const router = startProcess(
    'kube-router',
    bins.kubeRouter,
    [
      `--kubeconfig=${ctx.kubeconfigs['kube-router']}`,
      '--run-firewall=true',
      '--run-router=false',
      '--run-service-proxy=false',
      `--hostname-override=${node.name}`,
      `--service-cluster-ip-range=${ctx.serviceCidr}`,
      '--enable-ipv4=true',
      '--enable-ipv6=false',
      // no listener on the machine's interfaces (its health server binds every address)
      '--health-port=0',
      '--metrics-port=0',
      '--iptables-sync-period=1m',
      '--v=1',
    ],
    join(dir, 'logs', 'kube-router.log'),
    { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
  );
  started.push(router);
  ctx.save(node);
  // ready once its chains are hooked into FORWARD, INPUT and OUTPUT (its first full sync)
  await waitFor(
    'kube-router to hook its chains',
    60_000,
    () => {
      const rules = spawnSync('iptables', ['-w', '-t', 'filter', '-S'], { encoding: 'utf8' }).stdout ?? '';
      return ['FORWARD', 'INPUT', 'OUTPUT'].every((chain) => rules.includes(`-A ${chain} `) && rules.includes(`-j KUBE-ROUTER-${chain}`));
    },
    router,
    dir,
  );
  log('kube-router up (network-policy controller only: NetworkPolicies enforced in iptables and ipsets)');
}

/** crictl against the node's containerd; undefined (and a problem noted) when it fails. */
function crictl(node: RealNodeState, args: string[], problems: string[]): string | undefined {
  return tryRun(node.crictl, ['--runtime-endpoint', `unix://${node.containerdSocket}`, '--timeout', '20s', ...args], problems, 120_000);
}

/**
 * Undoes the real node: the kubelet and kube-proxy first (nothing restarts pods), every pod sandbox through CRI (so
 * the CNI plugins release addresses and rules), then containerd, CoreDNS and the registry; then whatever is left
 * behind: container processes and cgroups, mounts under the folder, kube-proxy's and our iptables rules, the bridge,
 * the blackhole routes, the sysctls, the lock. Returns what could not be undone.
 */
export async function stopRealNode(dir: string, node: RealNodeState, processes: Started[]): Promise<string[]> {
  const problems: string[] = [];
  const named = (...names: string[]) => processes.filter((p) => names.includes(p.name));
  await stopProcesses(named('kubelet', 'kube-proxy', 'kube-router'), dir);
  const containerd = named('containerd')[0];
  if (containerd && isOurs(containerd.pid, dir)) {
    crictl(node, ['rmp', '--all', '--force'], problems);
  }
  await stopProcesses(named('traefik', 'containerd', 'api-forwarder', 'docker-registry'), dir);
  // shims outlive containerd; theirs name its socket, inside the folder
  const shims = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(node.containerdSocket);
      } catch {
        return false;
      }
    });
  await stopProcesses(
    shims.map((pid) => ({ name: 'containerd-shim', pid, log: '' })),
    node.containerdSocket,
    5_000,
  );
  removeCgroupRoot(node.cgroupRoot, problems);
  unmountUnder(dir, problems);
  if (existsSync(node.kubeProxy)) tryRun(node.kubeProxy, ['--cleanup', '--v=0'], problems);
  cleanPacketFilter(node, problems);
  // kube-router's ipsets, once no iptables rule refers to them any more
  for (const set of kubeRouterIpsets()) tryRun('ipset', ['destroy', set], problems);
  if (spawnSync('ip', ['link', 'show', node.bridge]).status === 0) tryRun('ip', ['link', 'del', node.bridge], problems);
  for (const cidr of node.blackholes) {
    if (/^blackhole /.test(spawnSync('ip', ['-4', 'route', 'show', 'exact', cidr], { encoding: 'utf8' }).stdout ?? ''))
      tryRun('ip', ['route', 'del', 'blackhole', cidr], problems);
  }
  for (const [name, value] of Object.entries(node.sysctls)) {
    try {
      if (readSysctl(name) !== value) writeFileSync(sysctlPath(name), value);
    } catch (e) {
      problems.push(`sysctl ${name}: ${(e as Error).message}`);
    }
  }
  removeContainerLogLinks(dir);
  // the shims' sockets live in /run/containerd/s whatever containerd's state folder: the folders go once empty
  for (const d of ['/run/containerd/s', '/run/containerd/fifo', '/run/containerd/runc/k8s.io', '/run/containerd/runc', '/run/containerd']) {
    if (existsSync(d) && readdirSync(d).length === 0) rmSync(d, { recursive: true, force: true });
  }
  for (const sub of ['containerd', 'kubelet', 'cni', 'buildah', 'registry']) {
    try {
      rmSync(join(dir, sub), { recursive: true, force: true });
    } catch (e) {
      problems.push(`rm ${join(dir, sub)}: ${(e as Error).message}`);
    }
  }
  if (readLock()?.dir === dir) rmSync(LOCK, { force: true });
  return problems;
}

/** What of the real node is still on the machine (empty after a clean `down`): for tests and diagnostics. */
export function realNodeLeftovers(dir: string, node: RealNodeState): string[] {
  const left: string[] = [];
  if (spawnSync('ip', ['link', 'show', node.bridge], { stdio: 'ignore' }).status === 0) left.push(`bridge ${node.bridge}`);
  for (const cidr of node.blackholes) {
    if ((spawnSync('ip', ['-4', 'route', 'show', 'exact', cidr], { encoding: 'utf8' }).stdout ?? '').trim()) left.push(`route ${cidr}`);
  }
  if (spawnSync('nft', ['list', 'table', 'inet', NFT_TABLE], { stdio: 'ignore' }).status === 0)
    left.push(`nftables table inet ${NFT_TABLE}`);
  for (const bin of ['iptables-save', 'ip6tables-save']) {
    const chains = (spawnSync(bin, [], { encoding: 'utf8' }).stdout ?? '').split('\n').filter((l) => /^:(KUBE-|CNI-HOSTPORT-)/.test(l));
    if (chains.length) left.push(`${bin}: ${chains.map((l) => l.split(' ')[0].slice(1)).join(', ')}`);
  }
  const sets = kubeRouterIpsets();
  if (sets.length) left.push(`ipsets: ${sets.join(', ')}`);
  const mounts = mountsUnder(dir);
  if (mounts.length) left.push(`mounts: ${mounts.join(', ')}`);
  const cgroups = cgroupMounts().filter((m) => existsSync(join(m, node.cgroupRoot)));
  if (cgroups.length) left.push(`cgroups: ${cgroups.map((m) => join(m, node.cgroupRoot)).join(', ')}`);
  const procs = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    });
  if (procs.length) left.push(`processes: ${procs.join(', ')}`);
  for (const [name, value] of Object.entries(node.sysctls)) {
    if (readSysctl(name) !== value) left.push(`sysctl ${name}=${readSysctl(name)} (was ${value})`);
  }
  if (readLock()?.dir === dir) left.push(`lock ${LOCK}`);
  return left;
}

/** Our FORWARD chain, and the portmap plugin's chains once no pod has a port mapping left in them. */
/**
 * The packet filter as it was: our nftables table; the kubelet's and kube-proxy's KUBE-* chains (kube-proxy --cleanup
 * leaves the kubelet's); the portmap plugin's CNI-HOSTPORT-* chains once no pod maps a port; then the iptables tables
 * that only this node had made and that are empty again.
 */
function cleanPacketFilter(node: RealNodeState, problems: string[]): void {
  if (spawnSync('nft', ['list', 'table', 'inet', NFT_TABLE], { stdio: 'ignore' }).status === 0)
    tryRun('nft', ['delete', 'table', 'inet', NFT_TABLE], problems);
  for (const bin of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      const r = spawnSync(bin, ['-w', '-t', table, '-S'], { encoding: 'utf8' });
      if (r.status !== 0) continue;
      const lines = r.stdout.split('\n');
      // a chain per pod (CNI-DN-...) hangs off CNI-HOSTPORT-DNAT while any pod on this machine maps a port
      const portmapInUse = lines.some((l) => /^-A CNI-HOSTPORT-DNAT .* -j CNI-DN-/.test(l));
      const ours = (chain: string) => /^KUBE-/.test(chain) || (!portmapInUse && /^CNI-HOSTPORT-/.test(chain));
      for (const line of lines) {
        const m = /^-A (\S+) (.*-j (\S+).*)$/.exec(line);
        if (m && !ours(m[1]) && ours(m[3])) tryRun(bin, ['-w', '-t', table, '-D', m[1], ...splitRule(m[2])], problems);
      }
      const chains = lines.map((l) => /^-N (\S+)$/.exec(l)?.[1]).filter((c): c is string => !!c && ours(c));
      for (const chain of chains) tryRun(bin, ['-w', '-t', table, '-F', chain], problems);
      for (const chain of chains) tryRun(bin, ['-w', '-t', table, '-X', chain], problems);
    }
  }
  const before = new Set(node.nftTablesBefore ?? nftTables());
  for (const table of nftTables().filter((t) => !before.has(t))) {
    const [family, name] = table.split(' ');
    const listed = spawnSync('nft', ['list', 'table', family, name], { encoding: 'utf8' });
    // empty again: built-in chains with no rule left in them
    if (listed.status === 0 && !listed.stdout.split('\n').some((l) => /^\t\t(?!type )\S/.test(l)))
      tryRun('nft', ['delete', 'table', family, name], problems);
  }
}

/** kube-router's ipsets (KUBE-SRC-*, KUBE-DST-*, its TMP-* while syncing; inet6: ones with IPv6). */
function kubeRouterIpsets(): string[] {
  const r = spawnSync('ipset', ['list', '-n'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').filter((n) => /^(inet6:)?(KUBE-|TMP-)/.test(n)) : [];
}

function nftTables(): string[] {
  const r = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  return r.status === 0
    ? r.stdout.split('\n').flatMap((l) => (/^table (\S+ \S+)$/.exec(l.trim()) ? [l.trim().slice('table '.length)] : []))
    : [];
}

/** An `iptables -S` rule's arguments (quoted comments kept whole). */
function splitRule(rule: string): string[] {
  return (rule.match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"(.*)"$/, '$1'));
}

/** The kubelet links /var/log/containers/*.log to the pods' logs; those pointing into `dir` go with the node. */
function removeContainerLogLinks(dir: string): void {
  const links = '/var/log/containers';
  if (!existsSync(links)) return;
  for (const name of readdirSync(links)) {
    const path = join(links, name);
    try {
      if (readlinkSync(path).startsWith(dir)) unlinkSync(path);
    } catch {
      /* not a link, or gone */
    }
  }
}
