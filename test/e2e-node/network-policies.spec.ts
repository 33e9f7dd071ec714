import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateServiceCommand, CreateVpcConnectorCommand, DescribeServiceCommand, type Service } from '@aws-sdk/client-apprunner';
import type { KubeClient, LiveObject } from '@apprunner/kubernetes';
import { adminKube } from '../support/cluster';
import { nodeApps, type NodeApps, nodeAppService } from '../support/node-apps';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { gatewayGet, onRealNode, testRealNode } from '../support/real-node';
import { waitFor } from '../support/wait';

const node = testRealNode();
const say = (line: string) => process.stderr.write(`[real node policies] ${line}\n`);

type Pod = LiveObject & { status?: { podIP?: string; conditions?: Array<{ type: string; status: string }> } };
type Verdict = 'reachable' | 'blocked';
interface Probe {
  from: string;
  to: string;
  target: string;
  expected: Verdict;
  actual?: string;
}

/**
 * The platform's own NetworkPolicies (tenant default-deny, per-service rules, DEFAULT and VPC egress), applied by the
 * worker through the API and enforced by a real policy engine (kube-router's firewall) on the real node. Each probe
 * is a TCP connection made from inside a pod (its app's /cgi-bin/probe, reached through Traefik or on its pod IP).
 * A pod in a namespace without policies stands in for the VPC's database (the VPC connector's subnet is its address);
 * its neighbour, also without policies, shows every probed port open where no policy applies.
 */
describe.skipIf(!node)(onRealNode('NetworkPolicies on the real node, enforced by kube-router'), { timeout: 300_000 }, () => {
  let kube: KubeClient;
  let apps: NodeApps;
  let platform: TestPlatform;
  let tenantA: TestTenant;
  let tenantB: TestTenant;
  let image: string;
  const vpcNs = `vpc-db-${Date.now().toString(36)}`;
  const probes: Probe[] = [];
  let aWeb: Service;
  let aVpc: Service;
  let bApi: Service;
  const ip: Record<string, string> = {};

  beforeAll(async () => {
    kube = await adminKube(node!);
    apps = await nodeApps(node!.node.registry);
    image = await apps.image('v1');
    platform = await startTestPlatform({
      cluster: { info: node! },
      pollMs: 100,
      env: {
        KUBE_INGRESS_CLASS: node!.gateway.ingressClass,
        KUBE_INGRESS_NAMESPACE: node!.gateway.gateway.namespace,
        KUBE_PROGRESS_DEADLINE_SECONDS: '60',
      },
    });
    tenantA = await platform.newTenant('policies-a');
    tenantB = await platform.newTenant('policies-b');

    // the VPC's database and a neighbour: plain pods, in a namespace no policy selects
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: vpcNs } });
    const plainPod = (name: string, command?: string[]) =>
      kube.apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: vpcNs, labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name,
              image,
              ...(command ? { command } : {}),
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
              resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '250m', memory: '128Mi' } },
            },
          ],
        },
      } as LiveObject);
    // the database listens on 5432 (the security group's port) and 5433 (not in it), besides the app's 8080
    await plainPod('db', ['sh', '-c', 'httpd -p 5432 -h /app && httpd -p 5433 -h /app && exec sh /app/start.sh']);
    await plainPod('neighbour');
    for (const name of ['db', 'neighbour']) {
      const ready = await waitFor(
        async () => {
          const p = await kube.get<Pod>('v1', 'Pod', name, vpcNs);
          return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
        },
        `pod ${name} Ready`,
        120_000,
      );
      ip[name] = ready.status!.podIP!;
    }
    // the platform administrator registers the VPC: one subnet (the database's address), a security group for 5432
    expect((await platform.admin('PUT', '/admin/subnets/subnet-db', { Cidrs: [`${ip.db}/32`] })).status).toBe(200);
    expect(
      (
        await platform.admin('PUT', '/admin/security-groups/sg-db', {
          Egress: [{ Protocol: 'tcp', FromPort: 5432, Cidrs: [`${ip.db}/32`] }],
        })
      ).status,
    ).toBe(200);
    const connector = (
      await tenantA.client.send(
        new CreateVpcConnectorCommand({ VpcConnectorName: 'db-net', Subnets: ['subnet-db'], SecurityGroups: ['sg-db'] }),
      )
    ).VpcConnector!.VpcConnectorArn!;

    const create = async (tenant: TestTenant, name: string, vpc?: string) =>
      (
        await tenant.client.send(
          new CreateServiceCommand({
            ServiceName: name,
            ...nodeAppService(image),
            ...(vpc ? { NetworkConfiguration: { EgressConfiguration: { EgressType: 'VPC', VpcConnectorArn: vpc } } } : {}),
          }),
        )
      ).Service!;
    [aWeb, aVpc, bApi] = await Promise.all([create(tenantA, 'a-web'), create(tenantA, 'a-vpc', connector), create(tenantB, 'b-api')]);
    for (const [tenant, svc] of [
      [tenantA, aWeb],
      [tenantA, aVpc],
      [tenantB, bApi],
    ] as const) {
      await waitFor(
        async () => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: svc.ServiceArn! }))).Service!.Status === 'RUNNING',
        `${svc.ServiceName} RUNNING`,
        120_000,
      );
      const [pod] = await kube.list<Pod>('v1', 'Pod', `apprunner-${tenant.accountId}`, `apprunner.k8s/service-id=${svc.ServiceId}`);
      ip[svc.ServiceName!] = pod.status!.podIP!;
      // RUNNING does not wait for the ingress controller: the probes go through it
      await waitFor(async () => (await gatewayGet(node!.gateway.http, svc.ServiceUrl!)).status === 200, `${svc.ServiceUrl} served`, 60_000);
    }
    // kube-router programs a pod's chains on its next sync after the pod gets its address; until then nothing filters
    // that pod's traffic (measured here, and waited for, so that each probe judges the policies)
    const programmed = Date.now();
    await waitFor(
      async () => {
        const rules = spawnSync('iptables', ['-w', '-S', 'KUBE-ROUTER-FORWARD'], { encoding: 'utf8' }).stdout ?? '';
        return Object.values(ip).every((address) => rules.includes(`-d ${address}/32`));
      },
      'kube-router to program every pod',
      60_000,
    );
    say(`pods: ${JSON.stringify(ip)}; kube-router had programmed them ${Date.now() - programmed} ms after the last was RUNNING`);
  }, 600_000);

  afterAll(async () => {
    if (probes.length)
      say(
        `probes (${probes.filter((p) => p.actual === p.expected).length}/${probes.length} as expected):\n${probes
          .map(
            (p) => `  ${p.actual === p.expected ? 'ok ' : 'BAD'} ${p.from} → ${p.to} (${p.target}): ${p.actual} (expected ${p.expected})`,
          )
          .join('\n')}`,
      );
    const tenants = [tenantA, tenantB].filter(Boolean);
    await platform?.close();
    for (const t of tenants)
      await kube?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `apprunner-${t.accountId}` } }).catch(() => undefined);
    await kube?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: vpcNs } }).catch(() => undefined);
    await apps?.close();
  }, 120_000);

  /** Asks the app in a pod (a service through Traefik by its URL, or a plain pod on its IP) to connect to `target`. */
  const probeFrom = async (from: Service | string, path: string): Promise<string> => {
    if (typeof from !== 'string') return (await gatewayGet(node!.gateway.http, from.ServiceUrl!, path, { timeoutMs: 15_000 })).body.trim();
    return new Promise((resolve, reject) => {
      const req = request({ hostname: ip[from], port: 8080, path, timeout: 15_000 }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body.trim()));
      });
      req.on('error', reject);
      req.end();
    });
  };
  const check = async (from: Service | string, to: string, target: string, expected: Verdict) => {
    const probe: Probe = { from: typeof from === 'string' ? from : from.ServiceName!, to, target, expected };
    probes.push(probe);
    probe.actual = await probeFrom(from, `/cgi-bin/probe?${target}`);
    if (probe.actual !== expected) {
      const address = target.split(':')[0];
      const rules = (spawnSync('iptables', ['-w', '-S'], { encoding: 'utf8' }).stdout ?? '').split('\n');
      say(
        `unexpected ${probe.from} → ${target}: ${probe.actual}; kube-router's rules naming ${address}:\n${rules.filter((l) => l.includes(address)).join('\n')}`,
      );
    }
    return probe;
  };
  const api = () => `${node!.node.nodeIp}:${node!.node.ports.apiForwarder}`;

  it('from a pod no egress policy selects (the neighbour), the probed ports are open; a tenant’s pod still refuses it (ingress)', async () => {
    const results = [
      await check('neighbour', 'db (VPC database)', `${ip.db}:5432`, 'reachable'),
      await check('neighbour', 'db, a port outside the security group', `${ip.db}:5433`, 'reachable'),
      await check('neighbour', 'the node (API server forwarder)', api(), 'reachable'),
      await check('neighbour', 'tenant B’s pod', `${ip['b-api']}:8080`, 'blocked'),
    ];
    expect(results.map((p) => p.actual)).toEqual(results.map((p) => p.expected));
  });

  it('keeps tenants apart: no pod of tenant A reaches tenant B’s pods, nor B A’s; nor another service of the same tenant', async () => {
    const results = [
      await check(aWeb, 'tenant B’s pod', `${ip['b-api']}:8080`, 'blocked'),
      await check(aVpc, 'tenant B’s pod', `${ip['b-api']}:8080`, 'blocked'),
      await check(bApi, 'tenant A’s pod', `${ip['a-web']}:8080`, 'blocked'),
      await check(aWeb, 'a-vpc, another service of tenant A', `${ip['a-vpc']}:8080`, 'blocked'),
    ];
    expect(results.map((p) => p.actual)).toEqual(results.map((p) => p.expected));
  });

  it('DEFAULT egress reaches no private address (the VPC database, the node, the API server’s ClusterIP) but resolves names', async () => {
    const results = [
      await check(aWeb, 'db (VPC database)', `${ip.db}:5432`, 'blocked'),
      await check(aWeb, 'the neighbour pod', `${ip.neighbour}:8080`, 'blocked'),
      await check(aWeb, 'the node (API server forwarder)', api(), 'blocked'),
      await check(aWeb, 'the kubernetes Service', '10.96.0.1:443', 'blocked'),
    ];
    expect(results.map((p) => p.actual)).toEqual(results.map((p) => p.expected));
    const name = `svc-${bApi.ServiceId}.apprunner-${tenantB.accountId}.svc.cluster.local`;
    const resolved = await probeFrom(aWeb, `/cgi-bin/resolve?${name}`);
    probes.push({
      from: 'a-web',
      to: 'cluster DNS',
      target: name,
      expected: 'reachable',
      actual: resolved.startsWith('resolved 10.96.') ? 'reachable' : resolved,
    });
    expect(resolved).toMatch(/^resolved 10\.96\.\d+\.\d+$/);
  });

  it('VPC egress reaches exactly the connector’s subnet on the security group’s ports', async () => {
    const results = [
      await check(aVpc, 'db (VPC database) on 5432', `${ip.db}:5432`, 'reachable'),
      await check(aVpc, 'db on 5433 (not in the security group)', `${ip.db}:5433`, 'blocked'),
      await check(aVpc, 'the neighbour pod (outside the subnet)', `${ip.neighbour}:5432`, 'blocked'),
      await check(aVpc, 'the node (API server forwarder)', api(), 'blocked'),
    ];
    expect(results.map((p) => p.actual)).toEqual(results.map((p) => p.expected));
  });

  it('the ingress controller (Traefik) reaches every service', async () => {
    for (const svc of [aWeb, aVpc, bApi]) {
      const res = await gatewayGet(node!.gateway.http, svc.ServiceUrl!);
      probes.push({
        from: 'traefik',
        to: svc.ServiceName!,
        target: svc.ServiceUrl!,
        expected: 'reachable',
        actual: res.status === 200 ? 'reachable' : String(res.status),
      });
      expect(res.status).toBe(200);
      expect(res.body.trim()).toBe('hello from v1');
    }
  });
});
