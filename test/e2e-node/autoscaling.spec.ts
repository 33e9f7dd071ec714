import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateAutoScalingConfigurationCommand,
  CreateServiceCommand,
  DescribeServiceCommand,
  type Service,
} from '@aws-sdk/client-apprunner';
import type { KubeClient, LiveObject } from '@apprunner/kubernetes';
import { adminKube } from '../support/cluster';
import { nodeApps, type NodeApps, nodeAppService } from '../support/node-apps';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { gatewayGet, onRealNode, testRealNode } from '../support/real-node';
import { waitFor } from '../support/wait';

const node = testRealNode();
const say = (line: string) => process.stderr.write(`[real node autoscaling] ${line}\n`);
const MIN = 1;
const MAX = 2;

type Hpa = LiveObject & {
  status?: {
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: Array<{ resource?: { current?: { averageUtilization?: number } } }>;
    conditions?: Array<{ type: string; status: string; reason?: string }>;
  };
};

/**
 * App Runner's auto scaling on the real node: the service's HorizontalPodAutoscaler (CPU, from metrics-server scraping
 * the kubelet) scales a CPU-bound service out under load, no further than its auto scaling configuration's MaxSize,
 * and back to MinSize once the load stops. The load is bounded: each request starts a 20 s CPU loop in the pod that
 * serves it (its CFS quota is 0.25 CPU), and the loop of requests stops after at most 150 s.
 */
describe.skipIf(!node)(onRealNode('auto scaling on the real node: HPA on CPU with metrics-server'), { timeout: 420_000 }, () => {
  let kube: KubeClient;
  let apps: NodeApps;
  let platform: TestPlatform;
  let tenant: TestTenant;
  let svc: Service;
  let ns: string;

  beforeAll(async () => {
    kube = await adminKube(node!);
    apps = await nodeApps(node!.node.registry);
    const image = await apps.image('v1');
    platform = await startTestPlatform({
      cluster: { info: node! },
      pollMs: 100,
      env: { KUBE_INGRESS_CLASS: node!.gateway.ingressClass, KUBE_INGRESS_NAMESPACE: node!.gateway.gateway.namespace },
    });
    tenant = await platform.newTenant('autoscaling');
    ns = `apprunner-${tenant.accountId}`;
    const config = await tenant.client.send(
      new CreateAutoScalingConfigurationCommand({ AutoScalingConfigurationName: 'burst', MinSize: MIN, MaxSize: MAX, MaxConcurrency: 100 }),
    );
    svc = (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: 'cpu-bound',
          ...nodeAppService(image),
          AutoScalingConfigurationArn: config.AutoScalingConfiguration!.AutoScalingConfigurationArn,
        }),
      )
    ).Service!;
    await waitFor(
      async () => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: svc.ServiceArn! }))).Service!.Status === 'RUNNING',
      'RUNNING',
      120_000,
    );
  }, 300_000);

  afterAll(async () => {
    await platform?.close();
    if (ns) await kube?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
    await apps?.close();
  }, 120_000);

  const hpa = () => kube.get<Hpa>('autoscaling/v2', 'HorizontalPodAutoscaler', `svc-${svc.ServiceId}`, ns);
  const replicas = async () =>
    (await kube.get<LiveObject & { spec: { replicas: number } }>('apps/v1', 'Deployment', `svc-${svc.ServiceId}`, ns))!.spec.replicas;

  it('scales out under CPU load up to MaxSize and no further, then back to MinSize', async () => {
    const begun = Date.now();
    expect((await hpa())!.spec).toMatchObject({ minReplicas: MIN, maxReplicas: MAX });
    // metrics-server has the pod's CPU: the HPA reads a utilisation
    const idle = await waitFor(
      async () => (await hpa())?.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization,
      'the HPA to read the pod CPU from metrics-server',
      120_000,
    ).catch(() => undefined);
    say(`idle utilisation ${idle ?? 'unknown'}% after ${((Date.now() - begun) / 1000).toFixed(0)} s`);
    expect(idle).toBeDefined();

    let most = await replicas();
    let scaledOutAt: number | undefined;
    let limited: { type: string; status: string; reason?: string } | undefined;
    const loadUntil = Date.now() + 150_000;
    while (Date.now() < loadUntil) {
      await gatewayGet(node!.gateway.http, svc.ServiceUrl!, '/cgi-bin/burn?20').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 2_500));
      const now = await replicas();
      most = Math.max(most, now);
      if (now >= MAX && scaledOutAt === undefined) scaledOutAt = Date.now();
      // at MaxSize every pod runs near 100% of its request (target 70%): the HPA wants more and may not (once the new
      // pod's first 30 s, when its CPU is not counted yet, are over)
      limited = (await hpa())?.status?.conditions?.find((c) => c.type === 'ScalingLimited' && c.status === 'True');
      if (scaledOutAt !== undefined && limited) break;
    }
    const status = (await hpa())!.status!;
    say(
      `scaled out to ${most} in ${scaledOutAt ? ((scaledOutAt - begun) / 1000).toFixed(0) : '-'} s; utilisation ${status.currentMetrics?.[0]?.resource?.current?.averageUtilization}%, desired ${status.desiredReplicas}; ${JSON.stringify(status.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`))}`,
    );
    expect(most).toBe(MAX);
    expect(scaledOutAt).toBeDefined();
    expect(limited).toMatchObject({ status: 'True', reason: 'TooManyReplicas' });

    const stopped = Date.now();
    await waitFor(async () => (await replicas()) === MIN, 'scale-in to MinSize', 180_000);
    say(`back to ${MIN} ${((Date.now() - stopped) / 1000).toFixed(0)} s after the load stopped; most replicas seen ${most}`);
    await waitFor(
      async () => (await kube.list('v1', 'Pod', ns, `apprunner.k8s/service-id=${svc.ServiceId}`)).length === MIN,
      'one pod',
      60_000,
    );
  });
});
