import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { cidrWithin, parseCidr, type Cidr } from '../manifests/cidr';
import type { KubeObject } from '../manifests/types';
import { labelSelectorMatches, namespaceLabels, type LabelSelector, type SimulatedCluster, type SimulatedPod } from './cluster';

type PolicySpec = NonNullable<INetworkPolicy['spec']>;
type PolicyRule = NonNullable<PolicySpec['ingress']>[number] & NonNullable<PolicySpec['egress']>[number];
type Peer = NonNullable<PolicyRule['from']>[number];
type PolicyPort = NonNullable<PolicyRule['ports']>[number];
type Direction = 'ingress' | 'egress';

interface Policy {
  ref: string;
  namespace: string;
  spec: PolicySpec;
  podSelector: LabelSelector;
  types: Set<Direction>;
}

export const DEFAULT_NFT_TABLE = 'apprunner_netpol';

export interface NftablesOptions {
  /** Name of the `inet` table the ruleset replaces (default `apprunner_netpol`). */
  table?: string;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * What a NetworkPolicy-enforcing CNI (Calico-style, on a router every pod's traffic crosses) does for the given
 * NetworkPolicies, as an nftables ruleset for `nft -f`. Pure: the NetworkPolicy objects the builders return (other
 * kinds are ignored), and the simulated cluster they select in.
 *
 * Semantics: a pod selected by a policy of type Ingress (Egress) is isolated in that direction, and what is allowed
 * is the union of the rules of every policy selecting it; a connection needs the source's egress and the
 * destination's ingress to allow it. Replies of allowed connections pass (conntrack). Peers: podSelector,
 * namespaceSelector (alone or together), ipBlock with `except`, matched on any address, pod IPs included (like Calico;
 * Cilium ignores ipBlocks for cluster endpoints). Ports: TCP/UDP/SCTP, a number or a range (`endPort`), or any port
 * of a protocol. Not simulated: named ports (refused with an error), Services' ClusterIPs (policies see pod IPs
 * after DNAT in a real cluster too), host-network pods and node traffic.
 *
 * The first lines replace the table atomically, so applying a new ruleset never leaves a gap.
 */
export function networkPoliciesToNftables(
  objects: readonly KubeObject[],
  cluster: SimulatedCluster,
  options: NftablesOptions = {},
): string {
  const table = options.table ?? DEFAULT_NFT_TABLE;
  if (!TABLE.test(table)) throw new Error(`nftables table name ${JSON.stringify(table)} must match ${TABLE}.`);
  const nsLabels = validateCluster(cluster);
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy').map(toPolicy);

  const chains: string[] = [];
  const jumps: string[] = [];
  for (const direction of ['egress', 'ingress'] as const) {
    for (const pod of cluster.pods) {
      const selecting = policies.filter(
        (p) => p.types.has(direction) && p.namespace === pod.namespace && labelSelectorMatches(p.podSelector, pod.labels),
      );
      if (selecting.length === 0) continue;
      const chain = `${direction}.${pod.namespace}/${pod.name}`;
      const lines = selecting.flatMap((p) => policyLines(p, direction, cluster, nsLabels));
      chains.push(
        `  # ${pod.namespace}/${pod.name} (${pod.ip}): ${direction} isolated by ${selecting.map((p) => p.ref).join(', ')}`,
        `  chain ${chain} {`,
        ...lines.map((l) => `    ${l}`),
        '    drop',
        '  }',
        '',
      );
      jumps.push(`    ${family(pod.ip)} ${direction === 'egress' ? 'saddr' : 'daddr'} ${pod.ip} jump ${chain}`);
    }
  }
  return [
    `# NetworkPolicy enforcement generated from ${policies.length} NetworkPolicies for ${cluster.pods.length} pods.`,
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    ...chains,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    // Replies and related ICMP of a connection allowed when it opened; isolation applies to new connections.
    '    ct state established,related accept',
    '    ct state invalid drop',
    // An allowing chain returns here; both the source's egress and the destination's ingress must return.
    ...jumps,
    '  }',
    '}',
    '',
  ].join('\n');
}

function validateCluster(cluster: SimulatedCluster): Map<string, Record<string, string>> {
  const nsLabels = new Map<string, Record<string, string>>();
  for (const ns of cluster.namespaces) {
    if (!NAME.test(ns.name)) throw new Error(`Namespace name ${JSON.stringify(ns.name)} is not a DNS-1123 name.`);
    if (nsLabels.has(ns.name)) throw new Error(`Namespace ${ns.name} is listed twice.`);
    nsLabels.set(ns.name, namespaceLabels(ns));
  }
  const ips = new Map<string, string>();
  const names = new Set<string>();
  for (const pod of cluster.pods) {
    const ref = `${pod.namespace}/${pod.name}`;
    if (!nsLabels.has(pod.namespace)) throw new Error(`Pod ${ref}: namespace ${pod.namespace} is not in the cluster's namespaces.`);
    if (!NAME.test(pod.name)) throw new Error(`Pod name ${JSON.stringify(pod.name)} is not a DNS-1123 name.`);
    if (names.has(ref)) throw new Error(`Pod ${ref} is listed twice.`);
    names.add(ref);
    const address = parseCidr(`${pod.ip}/${pod.ip.includes(':') ? 128 : 32}`);
    if (!address) throw new Error(`Pod ${ref}: ${JSON.stringify(pod.ip)} is not an IP address.`);
    const other = ips.get(address.base.toString() + address.family);
    if (other) throw new Error(`Pods ${other} and ${ref} have the same IP ${pod.ip}.`);
    ips.set(address.base.toString() + address.family, ref);
  }
  return nsLabels;
}

function toPolicy(object: KubeObject): Policy {
  const ref = `${object.metadata.namespace}/${object.metadata.name}`;
  const { spec } = object as unknown as INetworkPolicy;
  if (!object.metadata.namespace) throw new Error(`NetworkPolicy ${object.metadata.name} has no namespace.`);
  if (!spec?.podSelector) throw new Error(`NetworkPolicy ${ref} has no spec.podSelector.`);
  // The API's defaulting: always Ingress, Egress when there is an egress section.
  const declared = spec.policyTypes ?? ['Ingress', ...(spec.egress ? ['Egress'] : [])];
  const types = new Set<Direction>();
  for (const t of declared) {
    if (t !== 'Ingress' && t !== 'Egress')
      throw new Error(`NetworkPolicy ${ref}: policyType ${JSON.stringify(t)} is not Ingress or Egress.`);
    types.add(t === 'Ingress' ? 'ingress' : 'egress');
  }
  return { ref, namespace: object.metadata.namespace, spec, podSelector: spec.podSelector, types };
}

/** One line per (peer, port) pair of each rule; a matching line returns to the forward chain (allowed). */
function policyLines(
  policy: Policy,
  direction: Direction,
  cluster: SimulatedCluster,
  nsLabels: Map<string, Record<string, string>>,
): string[] {
  const rules: PolicyRule[] = (direction === 'ingress' ? policy.spec.ingress : policy.spec.egress) ?? [];
  if (rules.length === 0) return [`# ${policy.ref}: no ${direction} rule, allows nothing`];
  const addr = direction === 'ingress' ? 'saddr' : 'daddr';
  return rules.flatMap((rule, i) => {
    const tag = `${policy.ref} ${direction}[${i}]`;
    const peers = (direction === 'ingress' ? rule.from : rule.to) ?? [];
    const notes: string[] = [];
    // No peers: every address; no ports: every port and protocol.
    const matches =
      peers.length === 0
        ? ['']
        : peers.flatMap((peer, j) => {
            const m = peerMatches(peer, policy, addr, cluster, nsLabels, `${tag} peer ${j}`);
            if (m.length === 0) notes.push(`# ${tag}: peer ${j} selects no pod`);
            return m;
          });
    const ports = rule.ports?.length ? rule.ports.map((p) => portMatch(p, tag)) : [''];
    if (matches.length === 0) return [...notes, `# ${tag}: allows nothing`];
    return [...notes, ...matches.flatMap((m) => ports.map((p) => [m, p, 'return', `comment "${tag}"`].filter(Boolean).join(' ')))];
  });
}

function peerMatches(
  peer: Peer,
  policy: Policy,
  addr: 'saddr' | 'daddr',
  cluster: SimulatedCluster,
  nsLabels: Map<string, Record<string, string>>,
  where: string,
): string[] {
  if (peer.ipBlock) {
    if (peer.podSelector || peer.namespaceSelector)
      throw new Error(`${where}: an ipBlock peer cannot also have a pod or namespace selector.`);
    return [ipBlockMatch(peer.ipBlock, addr, where)];
  }
  if (!peer.podSelector && !peer.namespaceSelector)
    throw new Error(`${where}: a peer needs an ipBlock, a podSelector or a namespaceSelector.`);
  const inNamespace = (pod: SimulatedPod) =>
    peer.namespaceSelector
      ? labelSelectorMatches(peer.namespaceSelector, nsLabels.get(pod.namespace) ?? {})
      : pod.namespace === policy.namespace;
  const ips = cluster.pods
    .filter((pod) => inNamespace(pod) && (!peer.podSelector || labelSelectorMatches(peer.podSelector, pod.labels)))
    .map((p) => p.ip);
  return (['ip', 'ip6'] as const)
    .map((fam) => ips.filter((ip) => family(ip) === fam))
    .filter((list) => list.length > 0)
    .map((list) => `${family(list[0])} ${addr} ${nftSet(list)}`);
}

function ipBlockMatch(block: { cidr: string; except?: string[] }, addr: 'saddr' | 'daddr', where: string): string {
  const cidr = parseCidr(block.cidr);
  if (!cidr) throw new Error(`${where}: ipBlock cidr ${JSON.stringify(block.cidr)} is not a CIDR.`);
  const fam = cidr.family === 4 ? 'ip' : 'ip6';
  const except = (block.except ?? []).map((text) => {
    const e = parseCidr(text);
    if (!e) throw new Error(`${where}: ipBlock except ${JSON.stringify(text)} is not a CIDR.`);
    if (!cidrWithin(e, cidr)) throw new Error(`${where}: ipBlock except ${text} is not inside ${block.cidr}.`);
    return canonical(e);
  });
  return [`${fam} ${addr} ${canonical(cidr)}`, ...(except.length ? [`${fam} ${addr} != ${nftSet(except)}`] : [])].join(' ');
}

function portMatch(port: PolicyPort, where: string): string {
  const protocol = port.protocol ?? 'TCP';
  if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP')
    throw new Error(`${where}: protocol ${JSON.stringify(protocol)} is not TCP, UDP or SCTP.`);
  const proto = protocol.toLowerCase();
  if (port.port === undefined) {
    if (port.endPort !== undefined) throw new Error(`${where}: endPort needs a port.`);
    return `meta l4proto ${proto}`;
  }
  if (typeof port.port === 'string') {
    throw new Error(
      `${where}: named port ${JSON.stringify(port.port)} is not supported (the simulation has no container ports); use a number.`,
    );
  }
  const valid = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (!valid(port.port)) throw new Error(`${where}: port ${port.port} is not in 1-65535.`);
  if (port.endPort === undefined || port.endPort === port.port) return `${proto} dport ${port.port}`;
  if (!valid(port.endPort) || port.endPort < port.port) throw new Error(`${where}: endPort ${port.endPort} must be in ${port.port}-65535.`);
  return `${proto} dport ${port.port}-${port.endPort}`;
}

function family(ip: string): 'ip' | 'ip6' {
  return ip.includes(':') ? 'ip6' : 'ip';
}

function nftSet(items: string[]): string {
  const unique = [...new Set(items)];
  return unique.length === 1 ? unique[0] : `{ ${unique.join(', ')} }`;
}

/** The text as given unless host bits are set: nft wants the network address (Kubernetes masks them too). */
function canonical(c: Cidr): string {
  const bits = c.family === 4 ? 32 : 128;
  const hostBits = BigInt(bits - c.prefix);
  const network = (c.base >> hostBits) << hostBits;
  if (network === c.base) return c.text;
  if (c.family === 4) return `${[24n, 16n, 8n, 0n].map((s) => (network >> s) & 255n).join('.')}/${c.prefix}`;
  const groups = Array.from({ length: 8 }, (_, i) => ((network >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return `${groups.join(':')}/${c.prefix}`;
}
