import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AssociateCustomDomainCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeCustomDomainsCommand,
  DescribeServiceCommand,
  ListOperationsCommand,
  PauseServiceCommand,
  ResumeServiceCommand,
  StartDeploymentCommand,
  UpdateServiceCommand,
  type Service,
  type SourceConfiguration,
} from '@aws-sdk/client-apprunner';
import type { KubeClient, LiveObject } from '@apprunner/kubernetes';
import { adminKube } from '../support/cluster';
import { nodeApps, type NodeApps } from '../support/node-apps';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { gatewayGet, onRealNode, testRealNode, type HostResponse } from '../support/real-node';
import { waitFor } from '../support/wait';

const DEADLINE_S = 20;
const node = testRealNode();
const say = (line: string) => process.stderr.write(`[real node platform] ${line}\n`);

type Pod = LiveObject & { status?: { phase?: string; conditions?: Array<{ type: string; status: string }> } };

/**
 * A bounded request loop against the gateway for one host, counting every answer that is not one of `accepted`
 * (bodies) with status 200: the failed requests a user of the service would have seen during a rollout.
 */
function requestLoop(address: string, host: string, accepted: string[], maxMs = 180_000) {
  let stop = false;
  const failures: string[] = [];
  const bodies = new Map<string, number>();
  let total = 0;
  const done = (async () => {
    const deadline = Date.now() + maxMs;
    while (!stop && Date.now() < deadline) {
      total++;
      try {
        const r = await gatewayGet(address, host, '/', { timeoutMs: 3_000 });
        const body = r.body.trim();
        bodies.set(`${r.status} ${body}`, (bodies.get(`${r.status} ${body}`) ?? 0) + 1);
        if (r.status !== 200 || !accepted.includes(body)) failures.push(`${new Date().toISOString()} ${r.status} ${body.slice(0, 80)}`);
      } catch (e) {
        failures.push(`${new Date().toISOString()} ${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    async stop(): Promise<{ total: number; failed: number; failures: string[]; bodies: Record<string, number> }> {
      stop = true;
      await done;
      return { total, failed: failures.length, failures: failures.slice(0, 20), bodies: Object.fromEntries(bodies) };
    },
  };
}

/**
 * The platform (API + worker, the worker as the chart's ServiceAccount) deploying onto the real node: App Runner
 * services whose containers run, whose URLs answer through Traefik by Host header, whose rollouts and rollbacks keep
 * serving, whose pause, resume, delete, secrets, instance size and custom domains take effect on real pods.
 */
describe.skipIf(!node)(onRealNode('App Runner services on the real node: API → worker → pods → Traefik'), { timeout: 240_000 }, () => {
  let kube: KubeClient;
  let apps: NodeApps;
  let platform: TestPlatform;
  let tenant: TestTenant;
  let ns: string;
  let v1: string;
  let v2: string;
  let unhealthy: string;
  let web: Service;
  const started = Date.now();

  beforeAll(async () => {
    kube = await adminKube(node!);
    apps = await nodeApps(node!.node.registry);
    v1 = await apps.image('v1');
    v2 = await apps.image('v2');
    unhealthy = await apps.image('v3-unhealthy');
    say(`images ${v1}, ${v2}, ${unhealthy} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    platform = await startTestPlatform({
      cluster: { info: node! },
      pollMs: 100,
      env: {
        KUBE_INGRESS_CLASS: node!.gateway.ingressClass,
        KUBE_INGRESS_NAMESPACE: node!.gateway.gateway.namespace,
        KUBE_CERT_ISSUER: node!.issuers.ca,
        KUBE_PROGRESS_DEADLINE_SECONDS: String(DEADLINE_S),
      },
    });
    tenant = await platform.newTenant('real-node');
    ns = `apprunner-${tenant.accountId}`;
  }, 600_000);

  afterAll(async () => {
    await platform?.close();
    if (ns) await kube?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
    await apps?.close();
    say(`suite wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 120_000);

  const describeService = async (arn: string) => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: arn }))).Service!;
  const settled = (arn: string, want: string, ms = 120_000) =>
    waitFor(async () => (await describeService(arn)).Status === want, `service ${want}`, ms).catch(async (e: Error) => {
      const pods = await kube.list<Pod>('v1', 'Pod', ns, '');
      const events = await kube.list<LiveObject & { reason?: string; message?: string }>('v1', 'Event', ns, '');
      throw new Error(
        `${e.message}; operation ${JSON.stringify(await lastOperation(arn))}; pods ${JSON.stringify(pods.map((p) => [p.metadata.name, p.status]))}; events ${events
          .slice(-10)
          .map((ev) => `${ev.reason}: ${ev.message}`)
          .join(' | ')}`,
      );
    });
  const lastOperation = async (arn: string) =>
    (await tenant.client.send(new ListOperationsCommand({ ServiceArn: arn }))).OperationSummaryList![0];
  const operationEnded = (arn: string, ms = 180_000) =>
    waitFor(
      async () => {
        const op = await lastOperation(arn);
        return op && !['PENDING', 'IN_PROGRESS', 'ROLLBACK_IN_PROGRESS'].includes(op.Status!) ? op : undefined;
      },
      'the operation to end',
      ms,
    );
  const source = (image: string, env?: Record<string, string>, secrets?: Record<string, string>): SourceConfiguration => ({
    ImageRepository: {
      ImageIdentifier: image,
      ImageRepositoryType: 'ECR',
      ImageConfiguration: {
        Port: '8080',
        ...(env ? { RuntimeEnvironmentVariables: env } : {}),
        ...(secrets ? { RuntimeEnvironmentSecrets: secrets } : {}),
      },
    },
    AutoDeploymentsEnabled: false,
  });
  // the node has 2 CPUs: App Runner's default instance (1 vCPU, 2 GB) would fit twice, a rollout's surge included
  const small = { Cpu: '0.25 vCPU', Memory: '0.5 GB' };
  const healthCheck = { Protocol: 'HTTP' as const, Path: '/healthz', Interval: 1, Timeout: 1, HealthyThreshold: 1, UnhealthyThreshold: 2 };
  const get = (host: string, path = '/') => gatewayGet(node!.gateway.http, host, path);
  const served = (host: string, body: string, path = '/', ms = 60_000) =>
    waitFor(
      async () => {
        const r = await get(host, path);
        return r.status === 200 && r.body.trim() === body ? r : undefined;
      },
      `${host}${path} to answer "${body}"`,
      ms,
    );
  const pods = (serviceId: string) => kube.list<Pod>('v1', 'Pod', ns, `apprunner.k8s/service-id=${serviceId}`);

  it('runs an image service: CreateService → RUNNING → its URL answers through Traefik with the container’s body', async () => {
    const begun = Date.now();
    web = (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: 'webapp',
          SourceConfiguration: source(v1),
          HealthCheckConfiguration: healthCheck,
          InstanceConfiguration: small,
        }),
      )
    ).Service!;
    await settled(web.ServiceArn!, 'RUNNING');
    const running = Date.now() - begun;
    const res = await served(web.ServiceUrl!, 'hello from v1');
    say(`web: RUNNING after ${(running / 1000).toFixed(1)} s, its URL answered after ${((Date.now() - begun) / 1000).toFixed(1)} s`);
    expect(res.status).toBe(200);
    const [pod] = await pods(web.ServiceId!);
    expect(pod.spec).toMatchObject({ nodeName: node!.node.name });
    expect((await get('unknown.apprunner.test')).status).toBe(404);
  });

  it('rolls out UpdateService (new image and env var) with no failed request, and StartDeployment redeploys', async () => {
    const loop = requestLoop(node!.gateway.http, web.ServiceUrl!, ['hello from v1', 'bonjour from v2']);
    await new Promise((r) => setTimeout(r, 500));
    await tenant.client.send(
      new UpdateServiceCommand({ ServiceArn: web.ServiceArn!, SourceConfiguration: source(v2, { GREETING: 'bonjour' }) }),
    );
    const op = await operationEnded(web.ServiceArn!);
    await served(web.ServiceUrl!, 'bonjour from v2', '/', 10_000);
    // the old pod's whole termination (preStop sleep, SIGTERM, exit) falls inside the loop
    await waitFor(async () => (await pods(web.ServiceId!)).length === 1, 'the old pod gone', 60_000);
    const result = await loop.stop();
    say(
      `healthy rollout v1 → v2: ${result.failed} failed of ${result.total} requests ${JSON.stringify(result.bodies)} ${result.failures.join(' | ')}`,
    );
    expect(op.Status).toBe('SUCCEEDED');
    expect(result.failed, result.failures.join('\n')).toBe(0);
    expect(result.bodies['200 bonjour from v2']).toBeGreaterThan(0);

    const deployLoop = requestLoop(node!.gateway.http, web.ServiceUrl!, ['bonjour from v2']);
    const started = await tenant.client.send(new StartDeploymentCommand({ ServiceArn: web.ServiceArn! }));
    const deployed = await operationEnded(web.ServiceArn!);
    expect(deployed).toMatchObject({ Id: started.OperationId, Type: 'START_DEPLOYMENT', Status: 'SUCCEEDED' });
    const deployResult = await deployLoop.stop();
    say(`StartDeployment: ${deployResult.failed} failed of ${deployResult.total} requests`);
    expect(deployResult.failed, deployResult.failures.join('\n')).toBe(0);
  });

  it.each([
    ['an image that cannot be pulled', 'v9-missing'],
    ['a version whose health check never passes', 'unhealthy'],
  ])('rolls back %s, and the old version answers every request throughout', async (_what, version) => {
    const image = version === 'unhealthy' ? unhealthy : `${node!.node.registry}/node-e2e/app:${version}`;
    const loop = requestLoop(node!.gateway.http, web.ServiceUrl!, ['bonjour from v2']);
    await tenant.client.send(
      new UpdateServiceCommand({ ServiceArn: web.ServiceArn!, SourceConfiguration: source(image, { GREETING: 'bonjour' }) }),
    );
    const op = await operationEnded(web.ServiceArn!, (DEADLINE_S + 90) * 1000);
    const result = await loop.stop();
    say(`rollback (${version}): ${op.Status}; ${result.failed} failed of ${result.total} requests ${JSON.stringify(result.bodies)}`);
    expect(op.Status).toBe('ROLLBACK_SUCCEEDED');
    expect((await describeService(web.ServiceArn!)).Status).toBe('RUNNING');
    expect(result.failed, result.failures.join('\n')).toBe(0);
    expect((await get(web.ServiceUrl!)).body.trim()).toBe('bonjour from v2');
  });

  it('PauseService: the URL answers 503 (no instance); ResumeService: the body again', async () => {
    await tenant.client.send(new PauseServiceCommand({ ServiceArn: web.ServiceArn! }));
    await settled(web.ServiceArn!, 'PAUSED');
    const paused = await waitFor(
      async () => {
        const r = await get(web.ServiceUrl!);
        return r.status === 503 ? r : undefined;
      },
      'the paused answer',
      30_000,
    );
    expect(paused.status).toBe(503);
    await waitFor(async () => (await pods(web.ServiceId!)).length === 0, 'the paused service’s pods gone', 60_000);
    await tenant.client.send(new ResumeServiceCommand({ ServiceArn: web.ServiceArn! }));
    await settled(web.ServiceArn!, 'RUNNING');
    await served(web.ServiceUrl!, 'bonjour from v2');
  });

  it('gives the process its RuntimeEnvironmentSecrets, and its pod cgroup the InstanceConfiguration limits', async () => {
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db-creds', namespace: ns },
      data: { password: Buffer.from('s3cr3t-on-node').toString('base64') },
    } as LiveObject);
    const svc = (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: 'sized',
          SourceConfiguration: source(
            v1,
            { PLAIN: 'visible' },
            {
              DB_PASSWORD: `arn:aws:secretsmanager:us-east-1:${tenant.accountId}:secret:db-creds:password::`,
            },
          ),
          InstanceConfiguration: small,
          HealthCheckConfiguration: healthCheck,
        }),
      )
    ).Service!;
    await settled(svc.ServiceArn!, 'RUNNING');
    const env = await served(svc.ServiceUrl!, 'hello from v1').then(() => get(svc.ServiceUrl!, '/env.txt'));
    expect(env.body.split('\n')).toEqual(expect.arrayContaining(['DB_PASSWORD=s3cr3t-on-node', 'PLAIN=visible', 'PORT=8080']));
    const [pod] = await pods(svc.ServiceId!);
    const podCgroup = (controller: string) =>
      join('/sys/fs/cgroup', controller, node!.node.cgroupRoot, 'kubepods', `pod${pod.metadata.uid}`);
    expect(Number((await readFile(join(podCgroup('memory'), 'memory.limit_in_bytes'), 'utf8')).trim())).toBe(512 * 1024 ** 2);
    expect(Number((await readFile(join(podCgroup('cpu'), 'cpu.cfs_quota_us'), 'utf8')).trim())).toBe(25_000);
    expect(Number((await readFile(join(podCgroup('cpu'), 'cpu.cfs_period_us'), 'utf8')).trim())).toBe(100_000);
  });

  it('serves a custom domain over HTTPS through Traefik with the certificate the local CA issued (SNI)', async () => {
    const domain = 'shop.node-e2e.test';
    await tenant.client.send(
      new AssociateCustomDomainCommand({ ServiceArn: web.ServiceArn!, DomainName: domain, EnableWWWSubdomain: true }),
    );
    await waitFor(
      async () =>
        (await tenant.client.send(new DescribeCustomDomainsCommand({ ServiceArn: web.ServiceArn! }))).CustomDomains?.find(
          (d) => d.DomainName === domain,
        )?.Status === 'ACTIVE',
      `${domain} ACTIVE`,
      120_000,
    );
    const caSecret = await kube.get<LiveObject & { data: Record<string, string> }>('v1', 'Secret', node!.issuers.ca, 'cert-manager');
    const ca = Buffer.from(caSecret!.data['ca.crt'] ?? caSecret!.data['tls.crt'], 'base64').toString();
    for (const host of [domain, `www.${domain}`]) {
      const res = await waitFor(
        async () => {
          const r: HostResponse = await gatewayGet(node!.gateway.https, host, '/', { tls: { ca } });
          return r.status === 200 ? r : undefined;
        },
        `https://${host}/ through Traefik`,
        60_000,
      );
      expect(res.body.trim()).toBe('bonjour from v2');
    }
    const peer = await new Promise<X509Certificate>((resolve, reject) => {
      void import('node:tls').then(({ connect }) => {
        const [hostname, port] = node!.gateway.https.split(':');
        const socket = connect({ host: hostname, port: Number(port), servername: domain, ca }, () => {
          resolve(new X509Certificate(socket.getPeerX509Certificate()!.raw));
          socket.end();
        });
        socket.on('error', reject);
      });
    });
    expect(peer.subjectAltName).toBe(`DNS:${domain}, DNS:www.${domain}`);
    expect(peer.issuer).toBe('CN=apprunner-local-ca');
  });

  it('DeleteService: its URL answers 404 once the service is gone', async () => {
    await tenant.client.send(new DeleteServiceCommand({ ServiceArn: web.ServiceArn! }));
    await settled(web.ServiceArn!, 'DELETED');
    await waitFor(async () => (await get(web.ServiceUrl!)).status === 404, 'the deleted service’s 404', 30_000);
    await waitFor(async () => (await pods(web.ServiceId!)).length === 0, 'no pod left', 60_000);
  });
});
