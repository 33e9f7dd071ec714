import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AssociateCustomDomainCommand,
  CreateObservabilityConfigurationCommand,
  CreateServiceCommand,
  CreateVpcConnectorCommand,
  CreateVpcIngressConnectionCommand,
  DeleteServiceCommand,
  DeleteVpcIngressConnectionCommand,
  DescribeCustomDomainsCommand,
  DescribeServiceCommand,
  DescribeVpcIngressConnectionCommand,
  DisassociateCustomDomainCommand,
  ListOperationsCommand,
  PauseServiceCommand,
  ResumeServiceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import { APPLIED_SET, FAILURE_REASON, type KubeClient, type LiveObject, ResyncService, ROLLBACK_OF } from '@apprunner/kubernetes';
import { adminKube, adminRequest, onRealCluster, proxyFor, testCluster, tokenRequest } from '../support/real-cluster';
import type { KubeProxy } from '../support/kube-proxy';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

// KWOK runs every pod; what becomes of it is chosen by the image (scripts/cluster/kwok.yaml).
const GOOD = 'registry.internal/team/app:1.0';
const GOOD_2 = 'registry.internal/team/app:2.0';
const SLOW = 'registry.internal/team/app:2.1-slow'; // Ready 3 s after it starts
const BAD_PULL = 'registry.invalid/team/app:broken'; // ImagePullBackOff
const CRASHING = 'registry.internal/team/app:first-crashloop'; // CrashLoopBackOff
const UNHEALTHY = 'registry.internal/team/app:3.0-unready'; // runs, its health check never passes
const DEADLINE_S = 10;

const cluster = testCluster();

/**
 * The worker's scenarios against a real kube-apiserver (scripts/cluster: etcd, kube-apiserver with RBAC and the
 * default admission plugins, kube-controller-manager's deployment/replicaset/garbage-collector/namespace/HPA
 * controllers, kube-scheduler, KWOK nodes, cert-manager's controller). The worker authorizes as the chart's
 * ServiceAccount (helm template's RBAC and admission policy), through a proxy that counts its calls: any call the
 * chart does not allow fails the scenario that makes it.
 */
describe.skipIf(!cluster)(onRealCluster('worker scenarios on a real cluster'), { timeout: 120_000 }, () => {
  let kube: KubeClient;
  let proxy: KubeProxy;
  let platform: TestPlatform;
  let tenant: TestTenant;
  let ns: string;

  beforeAll(async () => {
    kube = await adminKube(cluster!);
    proxy = await proxyFor(cluster!);
    platform = await startTestPlatform({
      cluster: { info: cluster!, via: proxy.url },
      pollMs: 100,
      env: {
        KUBE_PROGRESS_DEADLINE_SECONDS: String(DEADLINE_S),
        KUBE_PAUSED_BACKEND: 'paused-page.apprunner-system:8080',
        KUBE_OTLP_ENDPOINT: 'http://otel-collector.observability.svc:4318',
        KUBE_OTLP_NAMESPACE: 'observability',
        KUBE_CERT_ISSUER: cluster!.issuers.ca,
      },
    });
    tenant = await platform.newTenant('kube-scenarios');
    ns = `apprunner-${tenant.accountId}`;
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
    await proxy?.close();
    if (ns) await kube?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
  }, 60_000);

  const describeService = async (arn: string) => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: arn }))).Service!;
  const settled = (arn: string, want: string, ms = 40_000) =>
    waitFor(async () => (await describeService(arn)).Status === want, `service ${want}`, ms);
  const lastOperation = async (arn: string) =>
    (await tenant.client.send(new ListOperationsCommand({ ServiceArn: arn }))).OperationSummaryList![0];
  const source = (image: string) => ({
    ImageRepository: { ImageIdentifier: image, ImageRepositoryType: 'ECR' as const, ImageConfiguration: { Port: '8080' } },
  });
  const create = async (name: string, image: string) =>
    (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: name,
          SourceConfiguration: source(image),
          HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/healthz' },
        }),
      )
    ).Service!;
  const update = (arn: string, image: string) =>
    tenant.client.send(
      new UpdateServiceCommand({
        ServiceArn: arn,
        SourceConfiguration: { ImageRepository: { ImageIdentifier: image, ImageRepositoryType: 'ECR' } },
      }),
    );
  const objectName = (serviceId: string) => `svc-${serviceId}`;
  const get = (apiVersion: string, kind: string, name: string, namespace: string | undefined = ns) =>
    kube.get<any>(apiVersion, kind, name, namespace);
  const list = (apiVersion: string, kind: string, selector = '', namespace: string | undefined = ns) =>
    kube.list<any>(apiVersion, kind, namespace, selector);
  const deployment = (serviceId: string) => get('apps/v1', 'Deployment', objectName(serviceId));
  const image = async (serviceId: string) => (await deployment(serviceId))?.spec.template.spec.containers[0].image;
  const KINDS = [
    'v1|Service',
    'autoscaling/v2|HorizontalPodAutoscaler',
    'networking.k8s.io/v1|Ingress',
    'networking.k8s.io/v1|NetworkPolicy',
    'apps/v1|Deployment',
    'v1|Secret',
    'apps/v1|ReplicaSet',
    'v1|Pod',
  ];
  const ownedBy = async (serviceId: string, kinds = KINDS) =>
    (
      await Promise.all(
        kinds.map(async (k) => {
          const [apiVersion, kind] = k.split('|');
          return (await list(apiVersion, kind, `apprunner.k8s/service-id=${serviceId}`)).map((o) => `${kind}/${o.metadata.name}`);
        }),
      )
    )
      .flat()
      .sort();
  /** The worker's calls through the proxy since `from` (its own reads and writes; the tests' go to the API server directly). */
  const callsSince = (from: number) => proxy.calls.slice(from);

  it('creates an image service: tenant namespace with its RoleBinding and guard rails, RUNNING once the rollout is available', async () => {
    const svc = await create('web-app', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    expect((await lastOperation(svc.ServiceArn!)).Status).toBe('SUCCEEDED');

    const namespace = await get('v1', 'Namespace', ns, undefined);
    expect(namespace.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'apprunner-k8s',
      'pod-security.kubernetes.io/enforce': 'baseline',
    });
    const binding = await get('rbac.authorization.k8s.io/v1', 'RoleBinding', 'apprunner-worker');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: cluster!.worker.tenantRole });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: cluster!.worker.serviceAccount, namespace: cluster!.worker.namespace },
    ]);
    expect(await list('v1', 'ResourceQuota')).toHaveLength(1);
    expect(await list('v1', 'LimitRange')).toHaveLength(1);
    expect((await list('networking.k8s.io/v1', 'NetworkPolicy')).length).toBeGreaterThanOrEqual(2);

    const dep = await deployment(svc.ServiceId!);
    const pod = dep.spec.template.spec;
    expect(pod.containers[0]).toMatchObject({ image: GOOD, ports: [{ containerPort: 8080, protocol: 'TCP' }] });
    expect(pod.containers[0].readinessProbe.httpGet).toMatchObject({ path: '/healthz', port: 8080 });
    expect(pod.containers[0].resources.limits).toEqual(pod.containers[0].resources.requests);
    expect(dep.metadata.annotations?.['apprunner.k8s/arn']).toBe(svc.ServiceArn);
    expect(dep.status).toMatchObject({ availableReplicas: 1, readyReplicas: 1 });
    // the real scheduler placed the pod on a (simulated) node, and the ReplicaSet controller made it
    const pods = await list('v1', 'Pod', `apprunner.k8s/service-id=${svc.ServiceId}`);
    expect(pods).toHaveLength(1);
    expect(pods[0].spec.nodeName).toMatch(/^kwok-node-/);
    expect(pods[0].status.phase).toBe('Running');
    // the LimitRanger admission plugin left the pod's resources as the builder set them (requests = limits)
    expect(pods[0].spec.containers[0].resources).toEqual(pod.containers[0].resources);
    const hpa = await get('autoscaling/v2', 'HorizontalPodAutoscaler', objectName(svc.ServiceId!));
    expect(hpa.spec).toMatchObject({ minReplicas: 1, maxReplicas: 25 });
    const ingress = await get('networking.k8s.io/v1', 'Ingress', objectName(svc.ServiceId!));
    expect(ingress.spec.rules[0].host).toBe(svc.ServiceUrl);
    // everything but the Deployment is owned by it, so deleting the Deployment leaves no orphans
    for (const o of await list('v1', 'Service'))
      expect(o.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', uid: dep.metadata.uid });
    expect(dep.metadata.annotations?.[APPLIED_SET]).toContain('autoscaling/v2|HorizontalPodAutoscaler|');
  });

  it('enforces the tenant ResourceQuota and LimitRange in the real admission chain', async () => {
    const quota = await get('v1', 'ResourceQuota', 'apprunner-quota');
    // the quota controller has counted the running service
    await waitFor(
      async () => (await get('v1', 'ResourceQuota', 'apprunner-quota')).status?.used?.['count/deployments.apps'] !== undefined,
      'quota usage counted',
    );
    expect(quota.spec.hard['services.loadbalancers']).toBe('0');
    // a pod above the LimitRange's largest instance is refused by the API server, and so is a LoadBalancer
    const big = await kube
      .apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'too-big', namespace: ns },
        spec: {
          containers: [
            { name: 'x', image: GOOD, resources: { requests: { cpu: '8', memory: '1Gi' }, limits: { cpu: '8', memory: '1Gi' } } },
          ],
        },
      } as LiveObject)
      .then(
        () => 'created',
        (e: Error) => e.message,
      );
    expect(big).toMatch(/forbidden: maximum cpu usage per Container is 4/);
    const lb = await kube
      .apply({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'lb', namespace: ns },
        spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
      } as LiveObject)
      .then(
        () => 'created',
        (e: Error) => e.message,
      );
    expect(lb).toMatch(/exceeded quota: apprunner-quota.*services.loadbalancers/);
    // Pod Security (baseline) refuses a privileged pod
    const privileged = await kube
      .apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'privileged', namespace: ns },
        spec: { containers: [{ name: 'x', image: GOOD, securityContext: { privileged: true } }] },
      } as LiveObject)
      .then(
        () => 'created',
        (e: Error) => e.message,
      );
    expect(privileged).toMatch(/violates PodSecurity "baseline:latest"/);
  });

  it('serves RuntimeEnvironmentSecrets from Secrets in the tenant namespace through a per-service Secret', async () => {
    const put = (name: string, data: Record<string, string>) =>
      kube.apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: ns },
        data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      } as LiveObject);
    await put('db-creds', { password: 's3cr3t-db' });
    await put('api-token', { value: 'tok-123' });
    const withSecrets = (name: string, secrets: Record<string, string>) =>
      tenant.client.send(
        new CreateServiceCommand({
          ServiceName: name,
          SourceConfiguration: {
            ImageRepository: {
              ImageIdentifier: GOOD,
              ImageRepositoryType: 'ECR',
              ImageConfiguration: { RuntimeEnvironmentSecrets: secrets },
            },
          },
        }),
      );
    const svc = (
      await withSecrets('secretive', {
        DB_PASSWORD: `arn:aws:secretsmanager:us-east-1:${tenant.accountId}:secret:db-creds:password::`,
        API_TOKEN: 'api-token',
      })
    ).Service!;
    await settled(svc.ServiceArn!, 'RUNNING');
    const dep = await deployment(svc.ServiceId!);
    const container = dep.spec.template.spec.containers[0];
    const secretName = `${objectName(svc.ServiceId!)}-env`;
    expect(container.env.filter((e: any) => e.valueFrom)).toEqual([
      { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: secretName, key: 'API_TOKEN' } } },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: secretName, key: 'DB_PASSWORD' } } },
    ]);
    expect(JSON.stringify(dep)).not.toContain('s3cr3t-db');
    expect(dep.spec.template.metadata.annotations['apprunner.k8s/secret-hash']).toMatch(/^[0-9a-f]{64}$/);
    const own = await get('v1', 'Secret', secretName);
    expect(Buffer.from(own.data.DB_PASSWORD, 'base64').toString()).toBe('s3cr3t-db');
    expect(Buffer.from(own.data.API_TOKEN, 'base64').toString()).toBe('tok-123');
    expect(own.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: objectName(svc.ServiceId!) });

    // a missing Secret or another account's ARN fails the deployment with a reason that names no value
    const missing = (await withSecrets('no-secret', { X: 'nowhere' })).Service!;
    await settled(missing.ServiceArn!, 'CREATE_FAILED');
    const op = await platform.prisma.operation.findFirstOrThrow({ where: { service: { serviceId: missing.ServiceId! } } });
    expect(op.errorMessage).toBe(`RuntimeEnvironmentSecrets X: Secret "nowhere" in namespace ${ns} does not exist.`);
    const foreign = (await withSecrets('foreign-secret', { X: 'arn:aws:secretsmanager:us-east-1:999999999999:secret:db-creds' })).Service!;
    await settled(foreign.ServiceArn!, 'CREATE_FAILED');
  });

  it('rolls out a new image (UpdateService) and reports SUCCEEDED only when the new ReplicaSet is available', async () => {
    const svc = await create('roller', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    await update(svc.ServiceArn!, SLOW);
    await waitFor(async () => (await image(svc.ServiceId!)) === SLOW, 'new image applied');
    // applied, and the new pod is not Ready yet (3 s): the operation is still in progress
    const ready = (pod: any) => pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;
    const newPods = async () =>
      (await list('v1', 'Pod', `apprunner.k8s/service-id=${svc.ServiceId}`)).filter((p) => p.spec.containers[0].image === SLOW);
    expect((await newPods()).some(ready)).toBe(false);
    expect((await describeService(svc.ServiceArn!)).Status).toBe('OPERATION_IN_PROGRESS');
    await settled(svc.ServiceArn!, 'RUNNING');
    expect(await lastOperation(svc.ServiceArn!)).toMatchObject({ Type: 'UPDATE_SERVICE', Status: 'SUCCEEDED' });
    const after = await deployment(svc.ServiceId!);
    expect(after.status.observedGeneration).toBe(after.metadata.generation);
    expect(after.status.conditions.find((c: any) => c.type === 'Progressing').reason).toBe('NewReplicaSetAvailable');
    // the old ReplicaSet was scaled down by the deployment controller
    const replicaSets = await list('apps/v1', 'ReplicaSet', `apprunner.k8s/service-id=${svc.ServiceId}`);
    expect(replicaSets.map((rs) => `${rs.spec.template.spec.containers[0].image}=${rs.spec.replicas}`).sort()).toEqual([
      `${GOOD}=0`,
      `${SLOW}=1`,
    ]);
  });

  it('rolls a failing image back after the progress deadline: ROLLBACK_SUCCEEDED, still RUNNING on the old image, reason kept', async () => {
    const svc = await create('fragile', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    await update(svc.ServiceArn!, BAD_PULL);
    await waitFor(async () => (await image(svc.ServiceId!)) === BAD_PULL, 'bad image applied');
    expect((await describeService(svc.ServiceArn!)).Status).toBe('OPERATION_IN_PROGRESS'); // not failed before the deadline
    await waitFor(async () => (await lastOperation(svc.ServiceArn!)).Status === 'ROLLBACK_SUCCEEDED', 'rollback', (DEADLINE_S + 30) * 1000);
    const after = await describeService(svc.ServiceArn!);
    expect(after.Status).toBe('RUNNING');
    expect(after.SourceConfiguration?.ImageRepository?.ImageIdentifier).toBe(GOOD);
    expect(await image(svc.ServiceId!)).toBe(GOOD);
    const dep = await deployment(svc.ServiceId!);
    expect(dep.metadata.annotations?.[FAILURE_REASON]).toMatch(/ImagePullBackOff/);
    const op = await platform.prisma.operation.findFirstOrThrow({
      where: { status: 'ROLLBACK_SUCCEEDED', service: { serviceId: svc.ServiceId! } },
    });
    expect(op.errorMessage).toMatch(/^ImagePullBackOff: Back-off pulling image "registry.invalid\/team\/app:broken"/);
    expect(dep.metadata.annotations?.[ROLLBACK_OF]).toBe(op.id);
    // the old version serves throughout: its pod was never taken down
    await waitFor(async () => (await deployment(svc.ServiceId!)).status?.availableReplicas === 1, 'old version available');
    const listed = await platform.rest(tenant.apiKey, 'GET', `/v1/services/${encodeURIComponent(svc.ServiceArn!)}/operations`);
    expect(listed.body.OperationSummaryList[0]).toMatchObject({
      Id: op.id,
      Status: 'ROLLBACK_SUCCEEDED',
      ErrorMessage: expect.stringMatching(/^ImagePullBackOff: /),
    });
  });

  it("rolls back a version whose health check never passes (pods run, never Ready), on the deployment controller's deadline", async () => {
    const svc = await create('unhealthy', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    await update(svc.ServiceArn!, UNHEALTHY);
    await waitFor(async () => (await lastOperation(svc.ServiceArn!)).Status === 'ROLLBACK_SUCCEEDED', 'rollback', (DEADLINE_S + 30) * 1000);
    expect(await image(svc.ServiceId!)).toBe(GOOD);
    const op = await platform.prisma.operation.findFirstOrThrow({
      where: { status: 'ROLLBACK_SUCCEEDED', service: { serviceId: svc.ServiceId! } },
    });
    // the reason is the real deployment controller's Progressing message
    expect(op.errorMessage).toMatch(
      /^The new version did not become healthy in time: ReplicaSet "svc-[0-9a-f]+-[a-z0-9]+" has timed out progressing\.$/,
    );
    expect((await describeService(svc.ServiceArn!)).Status).toBe('RUNNING');
  });

  it('leaves CREATE_FAILED when the first deployment crash-loops, and UpdateService rebuilds it', async () => {
    const svc = await create('never-ran', CRASHING);
    await settled(svc.ServiceArn!, 'CREATE_FAILED', (DEADLINE_S + 30) * 1000);
    const failed = await platform.prisma.operation.findFirstOrThrow({
      where: { type: 'CREATE_SERVICE', service: { serviceId: svc.ServiceId! } },
    });
    expect(failed).toMatchObject({ status: 'FAILED' });
    expect(failed.errorMessage).toMatch(/CrashLoopBackOff/);
    await update(svc.ServiceArn!, GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    expect(await image(svc.ServiceId!)).toBe(GOOD);
  });

  it('pauses to zero replicas without an HPA and resumes to the previous scale', async () => {
    const svc = await create('sleepy', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    await tenant.client.send(new PauseServiceCommand({ ServiceArn: svc.ServiceArn }));
    await settled(svc.ServiceArn!, 'PAUSED');
    expect((await deployment(svc.ServiceId!)).spec.replicas).toBe(0);
    expect(await get('autoscaling/v2', 'HorizontalPodAutoscaler', objectName(svc.ServiceId!))).toBeUndefined();
    await waitFor(async () => (await list('v1', 'Pod', `apprunner.k8s/service-id=${svc.ServiceId}`)).length === 0, 'pods gone');
    const backend = async () =>
      (await get('networking.k8s.io/v1', 'Ingress', objectName(svc.ServiceId!))).spec.rules[0].http.paths[0].backend.service.name;
    expect(await backend()).toBe(`${objectName(svc.ServiceId!)}-paused`);
    expect((await get('v1', 'Service', `${objectName(svc.ServiceId!)}-paused`)).spec).toMatchObject({
      type: 'ExternalName',
      externalName: 'paused-page.apprunner-system.svc.cluster.local',
    });
    await tenant.client.send(new ResumeServiceCommand({ ServiceArn: svc.ServiceArn }));
    await settled(svc.ServiceArn!, 'RUNNING');
    expect((await deployment(svc.ServiceId!)).spec.replicas).toBe(1);
    expect(await get('autoscaling/v2', 'HorizontalPodAutoscaler', objectName(svc.ServiceId!))).toBeDefined();
    expect(await backend()).toBe(objectName(svc.ServiceId!));
    expect(await get('v1', 'Service', `${objectName(svc.ServiceId!)}-paused`)).toBeUndefined();
  });

  it('deletes a service and the real garbage collector leaves nothing of it behind', async () => {
    const svc = await create('doomed', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    expect((await ownedBy(svc.ServiceId!)).length).toBeGreaterThanOrEqual(6);
    await tenant.client.send(new DeleteServiceCommand({ ServiceArn: svc.ServiceArn }));
    await waitFor(
      async () => (await platform.prisma.service.findFirstOrThrow({ where: { serviceId: svc.ServiceId! } })).status === 'DELETED',
      'DELETED',
    );
    await waitFor(async () => (await ownedBy(svc.ServiceId!)).length === 0, 'owned objects, ReplicaSets and pods collected', 30_000);
  });

  it('corrects drift on resync, and a resync with nothing to correct writes nothing', async () => {
    const svc = await create('drifty', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    const resync = platform.worker()!.get(ResyncService);
    await resync.resyncAll({ perSecond: 1_000 });

    // a hand edit with kubectl (another field manager, strategic merge patch) on fields the platform owns
    const name = objectName(svc.ServiceId!);
    await adminRequest(
      cluster!,
      'PATCH',
      `/apis/apps/v1/namespaces/${ns}/deployments/${name}?fieldManager=kubectl-edit`,
      { spec: { template: { spec: { containers: [{ name: 'app', image: 'evil/miner:latest' }] } } } },
      'application/strategic-merge-patch+json',
    );
    expect(await image(svc.ServiceId!)).toBe('evil/miner:latest');
    await resync.resyncAll({ perSecond: 1_000 });
    expect(await image(svc.ServiceId!)).toBe(GOOD);

    // "writes nothing": no spec changed (generation) and the platform's field manager touched nothing (an apply that
    // changes nothing keeps its managedFields entry's time); controllers' own status writes don't count
    const snapshot = async () => {
      const kinds = [
        'apps/v1|Deployment',
        'v1|Service',
        'autoscaling/v2|HorizontalPodAutoscaler',
        'networking.k8s.io/v1|Ingress',
        'networking.k8s.io/v1|NetworkPolicy',
        'v1|ResourceQuota',
        'v1|LimitRange',
        'rbac.authorization.k8s.io/v1|RoleBinding',
      ];
      const objects = (await Promise.all(kinds.map((k) => list(k.split('|')[0], k.split('|')[1])))).flat();
      objects.push(await get('v1', 'Namespace', ns, undefined));
      return objects
        .map(
          (o) =>
            `${o.kind}/${o.metadata.name} g${o.metadata.generation ?? '-'} ${o.metadata.managedFields?.find((m: any) => m.manager === 'apprunner-k8s' && m.operation === 'Apply')?.time}`,
        )
        .sort();
    };
    const before = await snapshot();
    const from = proxy.calls.length;
    const report = await resync.resyncAll({ perSecond: 1_000 });
    expect(await snapshot()).toEqual(before);
    // it did re-apply: per service one read of the Deployment and one apply of it and of each object in its applied
    // set (plus a read of its own Secret when it has secrets); per tenant its 6 objects (with the RoleBinding)
    const calls = callsSince(from);
    const settledServices = await platform.prisma.service.findMany({ where: { status: { in: ['RUNNING', 'PAUSED'] } } });
    const applied = await Promise.all(
      settledServices.map(async (s) => (await deployment(s.serviceId)).metadata.annotations[APPLIED_SET].split('\n').length + 1),
    );
    expect(report.services).toBe(settledServices.length);
    expect(calls.filter((c) => c.method === 'GET' && c.resource === 'apps/deployments' && c.name)).toHaveLength(report.services);
    expect(calls.filter((c) => c.method === 'PATCH' && c.contentType === 'application/apply-patch+yaml').length).toBe(
      6 + applied.reduce((a, b) => a + b, 0),
    );
    expect(calls.filter((c) => c.status === 403)).toEqual([]);
  });

  it('issues a custom domain certificate with the real cert-manager; ACTIVE once the ingress controller serves it; disassociation removes only its objects', async () => {
    const svc = await create('with-domains', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    const domains = async () =>
      (await tenant.client.send(new DescribeCustomDomainsCommand({ ServiceArn: svc.ServiceArn }))).CustomDomains ?? [];
    const domainStatus = (domain: string, want: string) =>
      waitFor(async () => (await domains()).find((d) => d.DomainName === domain)?.Status === want, `${domain} ${want}`, 40_000);
    const shop = 'shop.example.com';
    await tenant.client.send(new AssociateCustomDomainCommand({ ServiceArn: svc.ServiceArn, DomainName: shop }));
    // the CA ClusterIssuer issues at once: the Ingress is created and waits for the ingress controller
    await domainStatus(shop, 'BINDING_CERTIFICATE');
    const certificates = await list('cert-manager.io/v1', 'Certificate', `apprunner.k8s/service-id=${svc.ServiceId}`);
    expect(certificates).toHaveLength(1);
    const certificate = certificates[0];
    expect(certificate.spec).toMatchObject({
      dnsNames: [shop, `www.${shop}`],
      issuerRef: { kind: 'ClusterIssuer', name: cluster!.issuers.ca },
    });
    expect(certificate.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: objectName(svc.ServiceId!) });
    expect(certificate.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    const secret = await get('v1', 'Secret', certificate.spec.secretName);
    const cert = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
    expect(cert.subjectAltName).toBe(`DNS:${shop}, DNS:www.${shop}`);
    expect(cert.issuer).toBe('CN=apprunner-local-ca');
    const ingress = await get('networking.k8s.io/v1', 'Ingress', certificate.metadata.name);
    expect(ingress.spec).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ hosts: [shop, `www.${shop}`], secretName: certificate.spec.secretName }],
    });

    // the ingress controller publishes its address on the Ingress (status subresource): the domain is ACTIVE
    await adminRequest(
      cluster!,
      'PATCH',
      `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/${ingress.metadata.name}/status`,
      { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } },
      'application/merge-patch+json',
    );
    await domainStatus(shop, 'ACTIVE');

    await tenant.client.send(new DisassociateCustomDomainCommand({ ServiceArn: svc.ServiceArn, DomainName: shop }));
    await waitFor(async () => !(await domains()).some((d) => d.DomainName === shop), `${shop} gone`);
    expect(await get('cert-manager.io/v1', 'Certificate', certificate.metadata.name)).toBeUndefined();
    expect(await get('networking.k8s.io/v1', 'Ingress', certificate.metadata.name)).toBeUndefined();
    expect(await get('v1', 'Secret', certificate.spec.secretName)).toBeUndefined();
    expect(await get('networking.k8s.io/v1', 'Ingress', objectName(svc.ServiceId!))).toBeDefined(); // the service URL stays
  });

  it('limits EgressType VPC to the connector networks the admin registered (NetworkPolicies accepted by the API server)', async () => {
    expect((await platform.admin('PUT', '/admin/subnets/subnet-db', { Cidrs: ['10.1.0.0/16'] })).status).toBe(200);
    expect(
      (
        await platform.admin('PUT', '/admin/security-groups/sg-db', {
          Egress: [{ Protocol: 'tcp', FromPort: 5432, Cidrs: ['10.1.5.0/24'] }],
        })
      ).status,
    ).toBe(200);
    const connector = async (name: string, subnet: string) =>
      (await tenant.client.send(new CreateVpcConnectorCommand({ VpcConnectorName: name, Subnets: [subnet], SecurityGroups: ['sg-db'] })))
        .VpcConnector!.VpcConnectorArn!;
    const inVpc = async (name: string, connectorArn: string) =>
      (
        await tenant.client.send(
          new CreateServiceCommand({
            ServiceName: name,
            SourceConfiguration: source(GOOD),
            NetworkConfiguration: { EgressConfiguration: { EgressType: 'VPC', VpcConnectorArn: connectorArn } },
          }),
        )
      ).Service!;
    const svc = await inVpc('in-vpc', await connector('db-net', 'subnet-db'));
    await settled(svc.ServiceArn!, 'RUNNING');
    const policy = await get('networking.k8s.io/v1', 'NetworkPolicy', objectName(svc.ServiceId!));
    expect(policy.spec.egress.slice(2)).toEqual([{ to: [{ ipBlock: { cidr: '10.1.5.0/24' } }], ports: [{ protocol: 'TCP', port: 5432 }] }]);

    expect((await platform.admin('PUT', '/admin/subnets/subnet-cache', { Cidrs: ['10.1.5.0/25'] })).status).toBe(200);
    await tenant.client.send(
      new UpdateServiceCommand({
        ServiceArn: svc.ServiceArn,
        NetworkConfiguration: { EgressConfiguration: { EgressType: 'VPC', VpcConnectorArn: await connector('cache-net', 'subnet-cache') } },
      }),
    );
    await settled(svc.ServiceArn!, 'RUNNING');
    const updated = await get('networking.k8s.io/v1', 'NetworkPolicy', objectName(svc.ServiceId!));
    expect(updated.spec.egress.slice(2)).toEqual([
      { to: [{ ipBlock: { cidr: '10.1.5.0/25' } }], ports: [{ protocol: 'TCP', port: 5432 }] },
    ]);

    const nowhere = await inVpc('nowhere-vpc', await connector('unknown-net', 'subnet-unknown'));
    await settled(nowhere.ServiceArn!, 'CREATE_FAILED');
    const op = await platform.prisma.operation.findFirstOrThrow({ where: { service: { serviceId: nowhere.ServiceId! } } });
    expect(op.errorMessage).toBe('VPC connector unknown-net: subnet-unknown is not registered by the platform administrator.');
  });

  it('serves a VPC ingress connection on the IngressClass of the private network it names', async () => {
    expect((await platform.admin('PUT', '/admin/vpcs/vpc-private', { IngressClassName: 'nginx-private' })).status).toBe(200);
    const svc = await create('behind-vpc', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    const vicStatus = async (arn: string) =>
      (await tenant.client.send(new DescribeVpcIngressConnectionCommand({ VpcIngressConnectionArn: arn }))).VpcIngressConnection!;
    const vic = (
      await tenant.client.send(
        new CreateVpcIngressConnectionCommand({
          ServiceArn: svc.ServiceArn,
          VpcIngressConnectionName: 'private-in',
          IngressVpcConfiguration: { VpcId: 'vpc-private', VpcEndpointId: 'vpce-1' },
        }),
      )
    ).VpcIngressConnection!;
    await waitFor(async () => (await vicStatus(vic.VpcIngressConnectionArn!)).Status === 'AVAILABLE', 'VIC AVAILABLE');
    const endpoint = async () =>
      (await list('networking.k8s.io/v1', 'Ingress')).filter(
        (i) => i.metadata.annotations?.['apprunner.k8s/domain-name'] === vic.DomainName,
      );
    expect(await endpoint()).toHaveLength(1);
    expect((await endpoint())[0].spec).toMatchObject({
      ingressClassName: 'nginx-private',
      rules: [
        {
          host: vic.DomainName,
          http: {
            paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: objectName(svc.ServiceId!), port: { number: 80 } } } }],
          },
        },
      ],
    });
    await tenant.client.send(new DeleteVpcIngressConnectionCommand({ VpcIngressConnectionArn: vic.VpcIngressConnectionArn }));
    await waitFor(
      async () =>
        (await platform.prisma.vpcIngressConnection.findFirstOrThrow({ where: { arn: vic.VpcIngressConnectionArn! } })).status ===
        'DELETED',
      'VIC DELETED',
    );
    expect(await endpoint()).toEqual([]);
    expect(await get('networking.k8s.io/v1', 'Ingress', objectName(svc.ServiceId!))).toBeDefined();
  });

  it('makes a bounded number of API calls per reconcile pass', async () => {
    const svc = await create('counted', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    const from = proxy.calls.length;
    await update(svc.ServiceArn!, GOOD_2);
    await settled(svc.ServiceArn!, 'RUNNING');
    const calls = callsSince(from);
    const passes = calls.filter((c) => c.method === 'GET' && c.resource === 'apps/deployments').length;
    expect(passes).toBeGreaterThanOrEqual(1);
    // first pass: read the Deployment, apply it and its 4 dependents (Service, HPA, Ingress, NetworkPolicy); later
    // passes only read the Deployment back (and, while the rollout has not finished, the new pods); nothing else
    const other = calls.filter((c) => !(c.method === 'GET' && (c.resource === 'apps/deployments' || c.resource === '/pods')));
    expect(other.map((c) => `${c.method} ${c.resource}`)).toEqual(
      Array(5)
        .fill('PATCH')
        .map(
          (m, i) =>
            `${m} ${['apps/deployments', '/services', 'autoscaling/horizontalpodautoscalers', 'networking.k8s.io/ingresses', 'networking.k8s.io/networkpolicies'][i]}`,
        ),
    );
    expect(calls.every((c) => c.status < 300)).toBe(true);
  });

  it('finishes an operation exactly once when the worker restarts in the middle of it (SIGKILL: worker-kill.spec.ts)', async () => {
    const svc = await create('survivor', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    await update(svc.ServiceArn!, SLOW);
    await waitFor(async () => (await image(svc.ServiceId!)) === SLOW, 'new image applied');
    await platform.stopWorker();
    expect((await describeService(svc.ServiceArn!)).Status).toBe('OPERATION_IN_PROGRESS');
    await platform.startWorker();
    await settled(svc.ServiceArn!, 'RUNNING');
    const ops = await platform.prisma.operation.findMany({ where: { service: { serviceId: svc.ServiceId! }, type: 'UPDATE_SERVICE' } });
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ status: 'SUCCEEDED' });
    expect(ops[0].endedAt).toBeInstanceOf(Date);
  });

  it('runs the pods as the ServiceAccount InstanceRoleArn names, and fails clearly when the tenant has not created it', async () => {
    const withRole = async (serviceName: string, roleName: string) =>
      (
        await tenant.client.send(
          new CreateServiceCommand({
            ServiceName: serviceName,
            SourceConfiguration: source(GOOD),
            InstanceConfiguration: { InstanceRoleArn: `arn:aws:iam::${tenant.accountId}:role/service-role/${roleName}` },
          }),
        )
      ).Service!;
    await kube.apply({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: 'orders-app',
        namespace: ns,
        annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/orders' },
      },
    } as LiveObject);
    const ok = await withRole('with-role', 'orders-app');
    await settled(ok.ServiceArn!, 'RUNNING');
    expect((await deployment(ok.ServiceId!)).spec.template.spec.serviceAccountName).toBe('orders-app');
    // the ServiceAccount admission plugin accepted it; the pods run as it
    expect((await list('v1', 'Pod', `apprunner.k8s/service-id=${ok.ServiceId}`))[0].spec.serviceAccountName).toBe('orders-app');

    const missing = await withRole('without-role', 'not-created');
    await settled(missing.ServiceArn!, 'CREATE_FAILED');
    const rest = await platform.rest(tenant.apiKey, 'GET', `/v1/services/${encodeURIComponent(missing.ServiceArn!)}/operations`);
    expect(rest.body.OperationSummaryList[0].ErrorMessage).toBe(
      `InstanceRoleArn: the ServiceAccount "not-created" does not exist in namespace ${ns}.`,
    );
  });

  it('traces services whose observability configuration uses AWSXRAY: OTLP to the platform collector, reachable through egress', async () => {
    const obs = await tenant.client.send(
      new CreateObservabilityConfigurationCommand({
        ObservabilityConfigurationName: 'xray-tracing',
        TraceConfiguration: { Vendor: 'AWSXRAY' },
      }),
    );
    const svc = (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: 'traced-app',
          SourceConfiguration: source(GOOD),
          ObservabilityConfiguration: {
            ObservabilityEnabled: true,
            ObservabilityConfigurationArn: obs.ObservabilityConfiguration!.ObservabilityConfigurationArn,
          },
        }),
      )
    ).Service!;
    await settled(svc.ServiceArn!, 'RUNNING');
    const env = Object.fromEntries(
      ((await deployment(svc.ServiceId!)).spec.template.spec.containers[0].env as { name: string; value?: string }[]).map((e) => [
        e.name,
        e.value,
      ]),
    );
    expect(env).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability.svc:4318',
      OTEL_SERVICE_NAME: 'traced-app',
      OTEL_PROPAGATORS: 'xray,tracecontext,baggage',
    });
    const policy = await get('networking.k8s.io/v1', 'NetworkPolicy', objectName(svc.ServiceId!));
    expect(policy.spec.egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } } }],
      ports: [{ protocol: 'TCP', port: 4318 }],
    });
  });

  it('removes the namespace of a tenant the admin deleted (the namespace controller empties it); other namespaces stay', async () => {
    const gone = await platform.newTenant('kube-gone');
    const goneNs = `apprunner-${gone.accountId}`;
    const svc = (await gone.client.send(new CreateServiceCommand({ ServiceName: 'short-lived', SourceConfiguration: source(GOOD) })))
      .Service!;
    const statusOf = async () => (await gone.client.send(new DescribeServiceCommand({ ServiceArn: svc.ServiceArn! }))).Service!.Status;
    await waitFor(async () => (await statusOf()) === 'RUNNING', 'RUNNING', 40_000);
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db-creds', namespace: goneNs },
      data: { password: Buffer.from('x').toString('base64') },
    } as LiveObject);
    await gone.client.send(new DeleteServiceCommand({ ServiceArn: svc.ServiceArn! }));
    await waitFor(async () => (await statusOf()) === 'DELETED', 'DELETED', 40_000);
    expect((await platform.admin('DELETE', `/admin/tenants/${gone.accountId}`)).status).toBe(204);

    // a real namespace is deleted in the background (Terminating until the namespace controller has emptied it):
    // the first pass starts it, a later pass settles the tombstone once the namespace is gone
    const resync = platform.worker()!.get(ResyncService);
    let settledTombstones = await resync.removeDeletedTenants();
    expect((await get('v1', 'Namespace', goneNs, undefined))?.metadata.deletionTimestamp ?? 'gone').toBeTruthy();
    await waitFor(async () => (await get('v1', 'Namespace', goneNs, undefined)) === undefined, 'namespace gone', 60_000);
    settledTombstones += await resync.removeDeletedTenants();
    expect(settledTombstones).toBe(1);
    expect(await list('v1', 'Secret', '', goneNs)).toEqual([]);
    expect(await resync.removeDeletedTenants()).toBe(0);
    expect(await get('v1', 'Namespace', ns, undefined)).toBeDefined();
  });

  it("cannot read, bind or change anything outside the namespaces it created (the chart's RBAC and admission policy, on the real authorizer)", async () => {
    const token = cluster!.worker.token;
    const as = (method: string, path: string, body?: object, type?: string) => tokenRequest(cluster!, token, method, path, body, type);
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cluster-secret', namespace: 'kube-system' },
      data: { key: Buffer.from('do not read').toString('base64') },
    } as LiveObject);
    const denied = async (what: string, call: Promise<{ status: number; body: any }>, message: RegExp) => {
      const res = await call;
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body.message, what).toMatch(message);
    };
    const rbac = /is forbidden: User "system:serviceaccount:apprunner-system:apprunner-apprunner-k8s-worker" cannot/;
    const policy =
      /denied request: the apprunner-k8s worker writes only in namespaces labelled app.kubernetes.io\/managed-by=apprunner-k8s/;
    await denied('read a kube-system Secret', as('GET', '/api/v1/namespaces/kube-system/secrets/cluster-secret'), rbac);
    await denied('list Secrets cluster-wide', as('GET', '/api/v1/secrets'), rbac);
    await denied(
      'create a Deployment in default',
      as('POST', '/apis/apps/v1/namespaces/default/deployments', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'x' },
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'x', image: GOOD }] } },
        },
      }),
      rbac,
    );
    const selfBinding = (namespace: string, role: string) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'worker-escape', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name: cluster!.worker.serviceAccount, namespace: cluster!.worker.namespace }],
    });
    await denied(
      'bind its tenant role in kube-system',
      as(
        'POST',
        '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings',
        selfBinding('kube-system', cluster!.worker.tenantRole),
      ),
      policy,
    );
    await denied(
      'bind cluster-admin in its own tenant namespace',
      as('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, selfBinding(ns, 'cluster-admin')),
      /is attempting to grant RBAC permissions not currently held|cannot bind/,
    );
    await denied(
      'label kube-system as its own',
      as(
        'PATCH',
        '/api/v1/namespaces/kube-system',
        { metadata: { labels: { 'app.kubernetes.io/managed-by': 'apprunner-k8s' } } },
        'application/merge-patch+json',
      ),
      policy,
    );
    await denied(
      'create a namespace without its label',
      as('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apprunner-unlabelled' } }),
      policy,
    );
    // a namespace named like a tenant's but made by someone else stays out of reach
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apprunner-000000000000' } } as LiveObject);
    await denied('delete a namespace it did not create', as('DELETE', '/api/v1/namespaces/apprunner-000000000000'), policy);
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apprunner-000000000000' } });
    // and inside its tenant namespaces it may do its work
    expect((await as('GET', `/api/v1/namespaces/${ns}/secrets/${'db-creds'}`)).status).toBe(200);
  });

  it('uses every permission the chart grants it (least privilege: docs/worker-rbac.json has nothing unused)', () => {
    const doc = JSON.parse(readFileSync(join(__dirname, '../../docs/worker-rbac.json'), 'utf8')) as Record<
      'cluster' | 'tenantNamespace',
      { apiGroups: string[]; resources: string[]; verbs: string[] }[]
    >;
    const granted = new Set(
      [...doc.cluster, ...doc.tenantNamespace].flatMap((r) =>
        r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))),
      ),
    );
    const used = new Set(
      proxy.calls
        .filter((c) => c.status < 400 || c.status === 404)
        .flatMap((c) => {
          const verb =
            c.method === 'GET' ? (c.name ? 'get' : 'list') : c.method === 'POST' ? 'create' : c.method === 'DELETE' ? 'delete' : 'patch';
          const resource = `${c.resource}${c.subresource ? `/${c.subresource}` : ''}`;
          // a server-side apply that creates the object is authorized as create (and patch)
          return c.method === 'PATCH' && c.status === 201 ? [`${resource}:create`, `${resource}:patch`] : [`${resource}:${verb}`];
        }),
    );
    expect([...granted].filter((p) => !used.has(p)).sort()).toEqual([]);
    const ungranted = [...used].filter((p) => !granted.has(p) && !/selfsubject(access)?reviews:create$/.test(p)).sort();
    expect(ungranted).toEqual([]);
  });

  it('was never refused by the real authorizer: every call the worker made was allowed by the chart RBAC', () => {
    expect(proxy.calls.length).toBeGreaterThan(100);
    expect(proxy.calls.filter((c) => c.status === 401 || c.status === 403).map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([]);
  });
});
