import { mkdir, mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, type LiveObject } from '@apprunner/kubernetes';
import { BuildahDriver } from '@apprunner/build-driver';
import { buildServiceObjects, buildTenantObjects } from '../../libs/kubernetes/src/manifests';
import { SETTINGS, TENANT, imageSpec, serviceInput } from '../../libs/kubernetes/src/manifests/__fixtures__/inputs';
import { buildBaseImage } from '../doubles/registry/local-registry';
import type { GatewayState } from '../../scripts/cluster/gateway';
import { checkIsolation, type RealNodeState } from '../../scripts/cluster/real-node';
import { gatewayGet, onRealNode, testRealNode } from '../support/real-node';
import { waitFor } from '../support/wait';

const say = (line: string) => process.stderr.write(`[real node] ${line}\n`);
const BODY = 'hello from a pod on the real node';

type Pod = LiveObject & {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ state?: Record<string, { reason?: string; message?: string; exitCode?: number }> }>;
  };
};

const info = testRealNode();

/**
 * The real node (`npm run cluster -- up --node=real`, started once per run by the global setup): an image built here
 * with buildah and pushed to the node's loopback registry runs as a pod on the node's bridge, answers HTTP on its pod
 * IP from this machine, answers through a ClusterIP Service (kube-proxy's rules) from another pod, its Service's name
 * resolves through CoreDNS, and Traefik on a loopback port routes to it by Host header (Ingress and Gateway API).
 * That `down` leaves nothing behind is checked by the global teardown (realNodeLeftovers), which fails the run if not.
 */
describe.skipIf(!info)(onRealNode('a real node: containerd, kubelet, CNI bridge, kube-proxy, CoreDNS, Traefik'), () => {
  let node: RealNodeState;
  let gateway: GatewayState;
  let kube: KubeClient;
  let buildDir: string;
  let image: string;
  const ns = `node-e2e-${Date.now().toString(36)}`;
  let podIp: string;
  let clusterIp: string;
  let clientLog = '';

  const pod = (name: string) => kube.get<Pod>('v1', 'Pod', name, ns);
  const podProblem = (p: Pod | undefined) =>
    JSON.stringify(p?.status?.containerStatuses?.map((c) => c.state) ?? p?.status?.conditions ?? 'no status');

  beforeAll(async () => {
    node = info!.node;
    gateway = info!.gateway;
    kube = await KubeClient.connect({ kubeconfigPath: info!.kubeconfig }, 'apprunner-tests');

    // a tiny HTTP server: Debian's static busybox (httpd) on a base built here, nothing pulled
    buildDir = await mkdtemp(join(tmpdir(), 'apprunner-node-e2e-'));
    const storage = { root: join(buildDir, 'storage'), runroot: join(buildDir, 'run') };
    const base = await buildBaseImage(node.registry, storage);
    const context = join(buildDir, 'context');
    await mkdir(context, { recursive: true });
    await writeFile(join(context, 'index.html'), `${BODY}\n`);
    const built = await new BuildahDriver({ ...storage, tlsVerify: false }).build({
      buildId: 'node-e2e-httpd',
      contextDir: context,
      containerfile: [`FROM ${base}`, 'COPY index.html /www/index.html', 'CMD ["httpd", "-f", "-v", "-p", "8080", "-h", "/www"]', ''].join(
        '\n',
      ),
      repository: `${node.registry}/node-e2e/httpd`,
      tag: 'v1',
    });
    image = built.image;
    say(`image ${image}`);

    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: ns, labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'httpd',
            image,
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
          },
        ],
        terminationGracePeriodSeconds: 1,
      },
    } as LiveObject);
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    } as LiveObject);
  }, 45 * 60_000);

  afterAll(async () => {
    if (kube) await kube.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
    if (buildDir) await rm(buildDir, { recursive: true, force: true });
  }, 180_000);

  it('keeps every pod and service address on this machine (blackhole routes, no forwarding out)', () => {
    expect(() => checkIsolation(node)).not.toThrow();
  });

  it('runs the pod from the loopback registry, Ready, with an IP on the bridge that answers HTTP from this machine', async () => {
    const ready = await waitFor(
      async () => {
        const p = await pod('web');
        return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
      },
      'pod web Ready',
      120_000,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}; pod: ${podProblem(await pod('web'))}`);
    });
    expect(ready.spec?.nodeName).toBe(node.name);
    podIp = ready.status!.podIP!;
    expect(podIp).toMatch(/^10\.244\.0\.\d+$/);
    const res = await fetch(`http://${podIp}:8080/`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe(BODY);
  }, 150_000);

  it('answers through its ClusterIP Service from another pod (kube-proxy), and CoreDNS resolves the Service by name', async () => {
    const svc = await kube.get<LiveObject & { spec: { clusterIP: string } }>('v1', 'Service', 'web', ns);
    clusterIp = svc!.spec.clusterIP;
    expect(clusterIp).toMatch(/^10\.96\./);
    // no `wget -T`: Debian's busybox-static 1.35 wget crashes (SIGSEGV) with it, in a pod and on the host alike
    const script = [
      'set -e',
      `echo "== by-ip"; timeout 10 wget -q -O - http://${clusterIp}/`,
      `echo "== nslookup"; nslookup web.${ns}.svc.cluster.local`,
      `echo "== by-name"; timeout 10 wget -q -O - http://web.${ns}.svc.cluster.local/`,
      'echo "== by-short-name"; timeout 10 wget -q -O - http://web/',
      'echo "== done"',
    ].join('\n');
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'client', namespace: ns },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'client', image, command: ['sh', '-c', script] }],
        terminationGracePeriodSeconds: 1,
      },
    } as LiveObject);
    const done = await waitFor(
      async () => {
        const p = await pod('client');
        return p?.status?.phase === 'Succeeded' || p?.status?.phase === 'Failed' ? p : undefined;
      },
      'pod client to finish',
      120_000,
    );
    clientLog = (await kube.podLog(ns, 'client', 'client')) ?? '';
    say(`client pod log:\n${clientLog}`);
    expect(done.status?.phase, clientLog).toBe('Succeeded');
    const section = (name: string) => new RegExp(`== ${name}\\n([\\s\\S]*?)(?=\\n== )`).exec(clientLog)?.[1]?.trim();
    expect(section('by-ip')).toBe(BODY);
    expect(section('nslookup')).toContain(`Address: ${clusterIp}`);
    expect(section('by-name')).toBe(BODY);
    expect(section('by-short-name')).toBe(BODY);
    expect(clientLog).toContain('== done');
  }, 150_000);

  it('lets a pod reach other pods and the API server’s forwarder on the host, and nothing else on the host (the kubelet port here)', async () => {
    expect(podIp, 'the pod test ran first').toBeTruthy();
    const probe = (name: string, ip: string, port: number) =>
      `if nc -w 3 ${ip} ${port} -e true; then echo "${name} reachable"; else echo "${name} blocked"; fi`;
    const script = [
      probe('pod', podIp, 8080),
      probe('host-api', node.nodeIp, node.ports.apiForwarder),
      probe('host-kubelet', node.nodeIp, node.ports.kubelet),
      'echo "== done"',
    ].join('\n');
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'prober', namespace: ns },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'prober', image, command: ['sh', '-c', script] }],
        terminationGracePeriodSeconds: 1,
      },
    } as LiveObject);
    await waitFor(
      async () => ['Succeeded', 'Failed'].includes((await pod('prober'))?.status?.phase ?? ''),
      'pod prober to finish',
      120_000,
    );
    const log = (await kube.podLog(ns, 'prober', 'prober')) ?? '';
    expect(log).toContain('pod reachable');
    expect(log).toContain('host-api reachable');
    expect(log).toContain('host-kubelet blocked');
  }, 150_000);

  it('routes by Host header through Traefik on loopback: an Ingress of class traefik and an HTTPRoute on the Gateway', async () => {
    expect(gateway, 'the cluster runs a gateway').toBeDefined();
    await kube.apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: ns },
      spec: {
        ingressClassName: gateway.ingressClass,
        rules: [
          {
            host: 'ingress.node-e2e.test',
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] },
          },
        ],
      },
    } as LiveObject);
    await kube.apply({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web', namespace: ns },
      spec: {
        parentRefs: [{ name: gateway.gateway.name, namespace: gateway.gateway.namespace }],
        hostnames: ['route.node-e2e.test'],
        rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
      },
    } as LiveObject);
    for (const host of ['ingress.node-e2e.test', 'route.node-e2e.test']) {
      const res = await waitFor(
        async () => {
          const r = await hostGet(gateway.http, host);
          return r.status === 200 ? r : undefined;
        },
        `${host} through Traefik`,
        60_000,
      );
      expect(res.body.trim()).toBe(BODY);
    }
    expect((await hostGet(gateway.http, 'unknown.node-e2e.test')).status).toBe(404);
  }, 150_000);

  it("runs the platform's own objects for an image service (a Guaranteed pod, RuntimeDefault seccomp) with its CPU and memory limits in its cgroup, and serves its URL through Traefik", async () => {
    const settings = { ...SETTINGS, ingressClassName: gateway.ingressClass, ingressControllerNamespace: gateway.gateway.namespace };
    const spec = imageSpec({
      HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/', Interval: 1, Timeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 5 },
    });
    const input = serviceInput({ image }, spec);
    const objects = [...buildTenantObjects(settings, TENANT), ...buildServiceObjects(settings, input)];
    for (const o of objects) await kube.apply(o as unknown as LiveObject);
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    const namespace = deployment.metadata.namespace!;
    type Deployment = LiveObject & { status?: { availableReplicas?: number } };
    await waitFor(
      async () =>
        ((await kube.get<Deployment>('apps/v1', 'Deployment', deployment.metadata.name, namespace))?.status?.availableReplicas ?? 0) >= 1,
      `Deployment ${namespace}/${deployment.metadata.name} available`,
      120_000,
    ).catch(async (e: Error) => {
      const pods = await kube.list<Pod>('v1', 'Pod', namespace, '');
      throw new Error(`${e.message}; pods: ${pods.map((p) => `${p.metadata.name} ${podProblem(p)}`).join('; ')}`);
    });
    const res = await waitFor(
      async () => {
        const r = await hostGet(gateway.http, input.service.urlHost);
        return r.status === 200 ? r : undefined;
      },
      `${input.service.urlHost} through Traefik`,
      60_000,
    );
    expect(res.body.trim()).toBe(BODY);
    // InstanceConfiguration 1 vCPU / 2 GB: the kubelet's pod cgroup (cgroup v1 here, under the node's cgroup root)
    const [running] = await kube.list<Pod>('v1', 'Pod', namespace, '');
    const podCgroup = (controller: string) => join('/sys/fs/cgroup', controller, node.cgroupRoot, 'kubepods', `pod${running.metadata.uid}`);
    expect(Number((await readFile(join(podCgroup('memory'), 'memory.limit_in_bytes'), 'utf8')).trim())).toBe(2 * 1024 ** 3);
    expect(Number((await readFile(join(podCgroup('cpu'), 'cpu.cfs_quota_us'), 'utf8')).trim())).toBe(100_000);
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  }, 240_000);
});

/** GET / on `address` (`127.0.0.1:<port>`) with a Host header. */
function hostGet(address: string, host: string): Promise<{ status: number; body: string }> {
  return gatewayGet(address, host);
}
