import { describe, expect, it } from 'vitest';
import { SETTINGS, TENANT, serviceInput } from '../manifests/__fixtures__/inputs';
import { buildServiceObjects, buildTenantObjects, type KubeObject } from '../manifests';
import { labelSelectorMatches, namespaceFromObject, podFromDeployment, type SimulatedCluster, type SimulatedPod } from './cluster';
import { networkPoliciesToNftables } from './nftables';

type Spec = Record<string, unknown>;
const policy = (namespace: string, name: string, spec: Spec): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});
const pod = (namespace: string, name: string, ip: string, labels: Record<string, string> = {}): SimulatedPod => ({
  namespace,
  name,
  ip,
  labels,
});

const CLUSTER: SimulatedCluster = {
  namespaces: [{ name: 'team', labels: { tier: 'apps' } }, { name: 'other', labels: { tier: 'apps' } }, { name: 'infra' }],
  pods: [
    pod('team', 'web', '10.0.0.1', { app: 'web' }),
    pod('team', 'db', '10.0.0.2', { app: 'db' }),
    pod('other', 'web', '10.0.1.1', { app: 'web' }),
    pod('infra', 'proxy', '10.0.2.1', { app: 'proxy' }),
  ],
};

/** The rules of one chain, without the closing brace. */
function chain(ruleset: string, name: string): string[] {
  const lines = ruleset.split('\n');
  const start = lines.indexOf(`  chain ${name} {`);
  if (start < 0) throw new Error(`No chain ${name} in\n${ruleset}`);
  const end = lines.indexOf('  }', start);
  return lines.slice(start + 1, end).map((l) => l.trim());
}

const jumps = (ruleset: string) => chain(ruleset, 'forward').filter((l) => l.includes(' jump '));

describe('networkPoliciesToNftables', () => {
  it('writes an atomic table replacement: isolated pods get a chain, the forward hook lets replies through and jumps to them', () => {
    const ruleset = networkPoliciesToNftables(
      [
        policy('team', 'db-from-web', {
          podSelector: { matchLabels: { app: 'db' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
        }),
      ],
      CLUSTER,
    );
    expect(ruleset).toBe(
      [
        '# NetworkPolicy enforcement generated from 1 NetworkPolicies for 4 pods.',
        'table inet apprunner_netpol',
        'delete table inet apprunner_netpol',
        'table inet apprunner_netpol {',
        '  # team/db (10.0.0.2): ingress isolated by team/db-from-web',
        '  chain ingress.team/db {',
        '    ip saddr 10.0.0.1 tcp dport 5432 return comment "team/db-from-web ingress[0]"',
        '    drop',
        '  }',
        '',
        '  chain forward {',
        '    type filter hook forward priority filter; policy accept;',
        '    ct state established,related accept',
        '    ct state invalid drop',
        '    ip daddr 10.0.0.2 jump ingress.team/db',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('selects peers like Kubernetes: podSelector in the policy namespace, namespaceSelector, both, and the automatic name label', () => {
    const ruleset = networkPoliciesToNftables(
      [
        policy('team', 'peers', {
          podSelector: { matchLabels: { app: 'db' } },
          policyTypes: ['Ingress'],
          ingress: [
            { from: [{ podSelector: { matchLabels: { app: 'web' } } }] },
            { from: [{ namespaceSelector: { matchLabels: { tier: 'apps' } } }] },
            { from: [{ namespaceSelector: { matchLabels: { tier: 'apps' } }, podSelector: { matchLabels: { app: 'web' } } }] },
            { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'infra' } } }] },
            {
              from: [
                { podSelector: { matchLabels: { app: 'nothing' } } },
                { namespaceSelector: {}, podSelector: { matchLabels: { app: 'proxy' } } },
              ],
            },
          ],
        }),
      ],
      CLUSTER,
    );
    expect(chain(ruleset, 'ingress.team/db')).toEqual([
      'ip saddr 10.0.0.1 return comment "team/peers ingress[0]"',
      'ip saddr { 10.0.0.1, 10.0.0.2, 10.0.1.1 } return comment "team/peers ingress[1]"',
      'ip saddr { 10.0.0.1, 10.0.1.1 } return comment "team/peers ingress[2]"',
      'ip saddr 10.0.2.1 return comment "team/peers ingress[3]"',
      '# team/peers ingress[4]: peer 0 selects no pod',
      'ip saddr 10.0.2.1 return comment "team/peers ingress[4]"',
      'drop',
    ]);
  });

  it('matches ipBlocks with their except list, and every port form: number, range, protocol only, SCTP', () => {
    const ruleset = networkPoliciesToNftables(
      [
        policy('team', 'egress', {
          podSelector: { matchLabels: { app: 'web' } },
          policyTypes: ['Egress'],
          egress: [
            {
              to: [
                { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '169.254.0.0/16'] } },
                { ipBlock: { cidr: '::/0', except: ['fc00::/7'] } },
              ],
            },
            {
              to: [{ ipBlock: { cidr: '10.1.5.7/24' } }],
              ports: [
                { protocol: 'TCP', port: 5432 },
                { protocol: 'UDP', port: 8000, endPort: 8100 },
              ],
            },
            { ports: [{ protocol: 'UDP' }, { protocol: 'SCTP', port: 9, endPort: 9 }, { port: 443 }] },
          ],
        }),
      ],
      CLUSTER,
    );
    expect(chain(ruleset, 'egress.team/web')).toEqual([
      'ip daddr 0.0.0.0/0 ip daddr != { 10.0.0.0/8, 169.254.0.0/16 } return comment "team/egress egress[0]"',
      'ip6 daddr ::/0 ip6 daddr != fc00::/7 return comment "team/egress egress[0]"',
      // host bits masked, as Kubernetes does
      'ip daddr 10.1.5.0/24 tcp dport 5432 return comment "team/egress egress[1]"',
      'ip daddr 10.1.5.0/24 udp dport 8000-8100 return comment "team/egress egress[1]"',
      // no peers: any destination; protocol without port: any port; no protocol: TCP
      'meta l4proto udp return comment "team/egress egress[2]"',
      'sctp dport 9 return comment "team/egress egress[2]"',
      'tcp dport 443 return comment "team/egress egress[2]"',
      'drop',
    ]);
    expect(jumps(ruleset)).toEqual(['ip saddr 10.0.0.1 jump egress.team/web']);
  });

  it('unions every policy selecting a pod, defaults policyTypes like the API, and lets an empty rule list allow nothing', () => {
    const ruleset = networkPoliciesToNftables(
      [
        policy('team', 'deny-all', { podSelector: {} }), // policyTypes default: Ingress only
        policy('team', 'web-any', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}], egress: [{ to: [{ podSelector: {} }] }] }), // Ingress + Egress
        policy('team', 'no-egress', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Egress'] }),
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ignored', namespace: 'team' } },
      ],
      CLUSTER,
    );
    expect(chain(ruleset, 'ingress.team/web')).toEqual([
      '# team/deny-all: no ingress rule, allows nothing',
      'return comment "team/web-any ingress[0]"',
      'drop',
    ]);
    expect(chain(ruleset, 'ingress.team/db')).toEqual(['# team/deny-all: no ingress rule, allows nothing', 'drop']);
    expect(chain(ruleset, 'egress.team/web')).toEqual(['ip daddr { 10.0.0.1, 10.0.0.2 } return comment "team/web-any egress[0]"', 'drop']);
    expect(chain(ruleset, 'egress.team/db')).toEqual(['# team/no-egress: no egress rule, allows nothing', 'drop']);
    expect(ruleset).toContain('  # team/web (10.0.0.1): ingress isolated by team/deny-all, team/web-any\n');
    // pods of other namespaces are not isolated: no chain, no jump
    expect(jumps(ruleset)).toEqual([
      'ip saddr 10.0.0.1 jump egress.team/web',
      'ip saddr 10.0.0.2 jump egress.team/db',
      'ip daddr 10.0.0.1 jump ingress.team/web',
      'ip daddr 10.0.0.2 jump ingress.team/db',
    ]);
  });

  it('handles IPv6 pods and a custom table name', () => {
    const cluster: SimulatedCluster = {
      namespaces: [{ name: 'v6' }],
      pods: [pod('v6', 'a', 'fd00::1', { app: 'a' }), pod('v6', 'b', 'fd00::2', { app: 'b' })],
    };
    const ruleset = networkPoliciesToNftables(
      [
        policy('v6', 'a', {
          podSelector: { matchLabels: { app: 'a' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }],
        }),
      ],
      cluster,
      { table: 'lab' },
    );
    expect(ruleset.split('\n').slice(1, 4)).toEqual(['table inet lab', 'delete table inet lab', 'table inet lab {']);
    expect(chain(ruleset, 'ingress.v6/a')).toEqual(['ip6 saddr fd00::2 return comment "v6/a ingress[0]"', 'drop']);
    expect(jumps(ruleset)).toEqual(['ip6 daddr fd00::1 jump ingress.v6/a']);
  });

  it('refuses what it cannot simulate or what the API would reject, with the place named', () => {
    const withRule = (rule: Spec) => [policy('team', 'p', { podSelector: {}, policyTypes: ['Ingress'], ingress: [rule] })];
    const translate =
      (objects: KubeObject[], cluster = CLUSTER) =>
      () =>
        networkPoliciesToNftables(objects, cluster);
    expect(translate(withRule({ ports: [{ port: 'http' }] }))).toThrow(
      'team/p ingress[0]: named port "http" is not supported (the simulation has no container ports); use a number.',
    );
    expect(translate(withRule({ ports: [{ port: 80, endPort: 79 }] }))).toThrow('endPort 79 must be in 80-65535');
    expect(translate(withRule({ ports: [{ protocol: 'ICMP', port: 1 }] }))).toThrow('protocol "ICMP" is not TCP, UDP or SCTP');
    expect(translate(withRule({ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }))).toThrow(
      'team/p ingress[0] peer 0: an ipBlock peer cannot also have',
    );
    expect(translate(withRule({ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['192.168.0.0/16'] } }] }))).toThrow(
      'except 192.168.0.0/16 is not inside 10.0.0.0/8',
    );
    expect(translate(withRule({ from: [{ ipBlock: { cidr: '10.0.0/8' } }] }))).toThrow('cidr "10.0.0/8" is not a CIDR');
    expect(translate(withRule({ from: [{}] }))).toThrow('a peer needs an ipBlock, a podSelector or a namespaceSelector');
    expect(translate([], { ...CLUSTER, pods: [...CLUSTER.pods, pod('team', 'clone', '10.0.0.1')] })).toThrow(
      'Pods team/web and team/clone have the same IP 10.0.0.1.',
    );
    expect(translate([], { ...CLUSTER, pods: [pod('nowhere', 'x', '10.9.9.9')] })).toThrow(
      'Pod nowhere/x: namespace nowhere is not in the cluster',
    );
    expect(translate([], { ...CLUSTER, pods: [pod('team', 'x', '10.9.9')] })).toThrow('Pod team/x: "10.9.9" is not an IP address.');
    expect(() => networkPoliciesToNftables([], CLUSTER, { table: 'bad-name;' })).toThrow('nftables table name "bad-name;"');
  });
});

describe('labelSelectorMatches', () => {
  it('requires every matchLabels pair and expression; NotIn also matches an absent key', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(labelSelectorMatches({}, labels)).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { app: 'web', tier: 'back' } }, labels)).toBe(false);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'web'] }] }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, labels)).toBe(false);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels)).toBe(false);
    expect(() => labelSelectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Gt' }] }, labels)).toThrow('operator "Gt"');
  });
});

describe('the builders’ own policies, translated', () => {
  const tenant = buildTenantObjects(SETTINGS, TENANT);
  const service = buildServiceObjects(SETTINGS, serviceInput());
  const web = podFromDeployment(
    service.find((o) => o.kind === 'Deployment')!,
    'web-1',
    '10.244.1.10',
  );
  const cluster: SimulatedCluster = {
    namespaces: [namespaceFromObject(tenant[0]), { name: 'kube-system' }, { name: 'ingress-nginx' }],
    pods: [
      web,
      { ...web, name: 'web-2', ip: '10.244.1.11' },
      { namespace: 'kube-system', name: 'dns', labels: { 'k8s-app': 'kube-dns' }, ip: '10.244.0.10' },
      { namespace: 'ingress-nginx', name: 'controller', labels: {}, ip: '10.244.0.20' },
    ],
  };
  const ruleset = networkPoliciesToNftables([...tenant, ...service], cluster);
  const svc = 'apprunner-123456789012/svc-8fe1e10304f84fd2b0df550fe98a71fa';

  it('takes pod labels from the Deployment template and namespace labels from the Namespace object', () => {
    expect(web).toEqual({ namespace: 'apprunner-123456789012', name: 'web-1', ip: '10.244.1.10', labels: service[0].metadata.labels });
    expect(namespaceFromObject(tenant[0]).labels).toEqual(tenant[0].metadata.labels);
    expect(() => podFromDeployment(tenant[0], 'x', '10.0.0.1')).toThrow('Expected a Deployment, got Namespace/apprunner-123456789012.');
  });

  it('gives a DEFAULT service pod cluster DNS on 53, its own pods, the internet outside the denied ranges and the public ingress controller on 80/443', () => {
    expect(chain(ruleset, 'egress.apprunner-123456789012/web-1')).toEqual([
      `ip daddr 10.244.0.10 udp dport 53 return comment "${svc} egress[0]"`,
      `ip daddr 10.244.0.10 tcp dport 53 return comment "${svc} egress[0]"`,
      `ip daddr { 10.244.1.10, 10.244.1.11 } return comment "${svc} egress[1]"`,
      `ip daddr 0.0.0.0/0 ip daddr != { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 169.254.0.0/16, 127.0.0.0/8 } return comment "${svc} egress[2]"`,
      `ip6 daddr ::/0 ip6 daddr != { fc00::/7, fe80::/10, ::1/128 } return comment "${svc} egress[2]"`,
      `ip daddr 10.244.0.20 tcp dport 80 return comment "${svc} egress[3]"`,
      `ip daddr 10.244.0.20 tcp dport 443 return comment "${svc} egress[3]"`,
      'drop',
    ]);
  });

  it('admits the ingress controller namespace and the same service into a tenant pod, nothing else', () => {
    expect(chain(ruleset, 'ingress.apprunner-123456789012/web-1')).toEqual([
      '# apprunner-123456789012/apprunner-default-deny-ingress: no ingress rule, allows nothing',
      'ip saddr 10.244.0.20 return comment "apprunner-123456789012/apprunner-allow-ingress-controller ingress[0]"',
      `ip saddr { 10.244.1.10, 10.244.1.11 } return comment "${svc} ingress[0]"`,
      'drop',
    ]);
    // DNS and the controller are in namespaces without policies: not isolated
    expect(jumps(ruleset).filter((j) => j.includes('10.244.0.'))).toEqual([]);
  });
});
