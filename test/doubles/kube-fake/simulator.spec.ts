import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKube, startFakeKube } from './index';
import { type Clients, connect, deployment, until } from './spec-support';

const T0 = '2030-01-01T00:00:00Z';

describe('cluster simulator', () => {
  let fake: FakeKube;
  let c: Clients;
  const ns = 'sim';

  beforeAll(async () => {
    fake = await startFakeKube({ clock: () => new Date(T0) });
    c = connect(fake);
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
  });
  afterAll(() => fake.close());

  const dep = (name: string) => fake.store.get('apps/v1', 'Deployment', ns, name)!;
  const status = (name: string) => dep(name).status as Record<string, any>;
  const progressing = (name: string) =>
    ((status(name)?.conditions ?? []) as Record<string, string>[]).find((x) => x.type === 'Progressing');
  const simTime = () =>
    fake.simulator
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  const replicaSets = (name: string) =>
    fake.store
      .list('apps/v1', 'ReplicaSet', ns)
      .filter((rs) => rs.metadata.ownerReferences?.[0]?.uid === dep(name).metadata.uid)
      .map((rs) => ({
        name: rs.metadata.name,
        replicas: (rs.spec as { replicas: number }).replicas,
        image: (rs.spec as any).template.spec.containers[0].image,
      }));
  const pods = (rsName: string) => fake.store.list('v1', 'Pod', ns).filter((p) => p.metadata.ownerReferences?.[0]?.name === rsName);

  it('takes a Deployment to Available in one step: ReplicaSet, Pods and the status real Kubernetes writes', async () => {
    await c.objects.create(deployment('web', ns));
    expect(await fake.simulator.step()).toBeGreaterThan(0);
    const [rs] = fake.store.list('apps/v1', 'ReplicaSet', ns);
    const hash = rs.metadata.labels?.['pod-template-hash'];
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(rs.metadata.ownerReferences).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: dep('web').metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(rs.status).toEqual({ replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
    expect(status('web')).toEqual({
      observedGeneration: 1,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      conditions: [
        {
          type: 'Available',
          status: 'True',
          lastUpdateTime: T0,
          lastTransitionTime: T0,
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        },
        {
          type: 'Progressing',
          status: 'True',
          lastUpdateTime: T0,
          lastTransitionTime: T0,
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "web-${hash}" has successfully progressed.`,
        },
      ],
    });
    expect(dep('web').metadata.annotations).toEqual({ 'deployment.kubernetes.io/revision': '1' });
    const running = pods(rs.metadata.name!);
    expect(running.map((p) => [p.metadata.labels, (p.status as any).phase, (p.status as any).containerStatuses[0].ready])).toEqual([
      [{ app: 'web', 'pod-template-hash': hash }, 'Running', true],
      [{ app: 'web', 'pod-template-hash': hash }, 'Running', true],
    ]);
    expect(await fake.simulator.step()).toBe(0); // settled: nothing more to write
  });

  it('scales to zero: no pods, and the zero counts omitted from status as Kubernetes does', async () => {
    await c.objects.create(deployment('sleepy', ns));
    await fake.simulator.settle();
    await c.apps.patchNamespacedDeployment({ name: 'sleepy', namespace: ns, body: [{ op: 'replace', path: '/spec/replicas', value: 0 }] });
    await fake.simulator.settle();
    expect(replicaSets('sleepy').map((r) => r.replicas)).toEqual([0]);
    expect(pods(replicaSets('sleepy')[0].name!)).toEqual([]);
    expect(status('sleepy')).toMatchObject({ observedGeneration: 2 });
    expect(Object.keys(status('sleepy')).sort()).toEqual(['conditions', 'observedGeneration']);
    expect(status('sleepy').conditions.map((x: Record<string, string>) => `${x.type}=${x.status}/${x.reason}`)).toEqual([
      'Available=True/MinimumReplicasAvailable',
      'Progressing=True/NewReplicaSetAvailable',
    ]);
  });

  it('writes HPA, Certificate (with its Secret), Issuer and Ingress status', async () => {
    await c.objects.create(deployment('scaled', ns, 'app:1', 1));
    await c.objects.create({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'scaled', namespace: ns },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'scaled' }, minReplicas: 2, maxReplicas: 5 },
    });
    await c.objects.create({
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: 'le' },
      spec: {
        acme: { server: 'https://acme.example/dir', privateKeySecretRef: { name: 'le-key' }, solvers: [{ http01: { ingress: {} } }] },
      },
    });
    const cert = (name: string) => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name, namespace: ns },
      spec: { secretName: `${name}-tls`, dnsNames: [`${name}.example.com`], issuerRef: { name: 'le', kind: 'ClusterIssuer' } },
    });
    await c.objects.create(cert('good'));
    fake.simulator.failCertificate('broken', ns);
    await c.objects.create(cert('broken'));
    await c.objects.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: ns },
      spec: {
        rules: [
          {
            host: 'good.example.com',
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] },
          },
        ],
      },
    });
    await fake.simulator.settle();

    const hpa = fake.store.get('autoscaling/v2', 'HorizontalPodAutoscaler', ns, 'scaled')!.status as any;
    expect(hpa).toMatchObject({ currentReplicas: 2, desiredReplicas: 2 });
    expect(hpa.conditions.find((x: any) => x.type === 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'TooFewReplicas' });
    const ready = (name: string) =>
      (fake.store.get('cert-manager.io/v1', 'Certificate', ns, name)!.status as any).conditions.find((x: any) => x.type === 'Ready');
    expect(ready('good')).toEqual({
      type: 'Ready',
      status: 'True',
      lastTransitionTime: simTime(),
      reason: 'Ready',
      message: 'Certificate is up to date and has not expired',
      observedGeneration: 1,
    });
    expect(fake.store.get('v1', 'Secret', ns, 'good-tls')).toMatchObject({
      type: 'kubernetes.io/tls',
      metadata: { annotations: { 'cert-manager.io/certificate-name': 'good' } },
    });
    expect(ready('broken')).toMatchObject({ status: 'False', reason: 'DoesNotExist' });
    const issuing = (fake.store.get('cert-manager.io/v1', 'Certificate', ns, 'broken')!.status as any).conditions.find(
      (x: any) => x.type === 'Issuing',
    );
    expect(issuing).toMatchObject({
      status: 'False',
      reason: 'Failed',
      message: expect.stringMatching(/^The certificate request has failed to complete and will be retried: /),
    });
    expect(fake.store.get('v1', 'Secret', ns, 'broken-tls')).toBeUndefined();
    expect((fake.store.get('cert-manager.io/v1', 'ClusterIssuer', undefined, 'le')!.status as any).conditions[0]).toMatchObject({
      type: 'Ready',
      status: 'True',
      reason: 'ACMEAccountRegistered',
    });
    expect(fake.store.get('networking.k8s.io/v1', 'Ingress', ns, 'web')!.status).toEqual({
      loadBalancer: { ingress: [{ ip: '192.0.2.10' }] },
    });
  });

  it('runs in the background with start()/stop()', async () => {
    fake.simulator.start(5);
    try {
      await c.objects.create(deployment('bg', ns));
      await until(() => progressing('bg')?.reason === 'NewReplicaSetAvailable');
    } finally {
      fake.simulator.stop();
    }
    expect(fake.simulator.lastError).toBeUndefined();
  });
});
