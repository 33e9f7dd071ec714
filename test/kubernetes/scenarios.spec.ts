import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  AssociateCustomDomainCommand,
  CreateObservabilityConfigurationCommand,
  CreateServiceCommand,
  CreateVpcConnectorCommand,
  CreateVpcIngressConnectionCommand,
  DeleteVpcIngressConnectionCommand,
  DescribeVpcIngressConnectionCommand,
  DeleteServiceCommand,
  DescribeCustomDomainsCommand,
  DescribeServiceCommand,
  DisassociateCustomDomainCommand,
  ListOperationsCommand,
  PauseServiceCommand,
  ResumeServiceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FakeKube, rbacRulesFromCalls, startFakeKube } from '@apprunner/kube-fake';
import { APPLIED_SET, FAILURE_REASON, ResyncService, ROLLBACK_OF } from '@apprunner/kubernetes';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

const GOOD = 'registry.internal/team/app:1.0';
const GOOD_2 = 'registry.internal/team/app:2.0';
const BAD = 'registry.internal/team/app:broken';

/**
 * The worker against a faithful Kubernetes API (libs/kube-fake: real @kubernetes/client-node over HTTP, schema
 * validation of every object, server-side apply, a simulated deployment controller).
 */
describe('Kubernetes reconciler scenarios', () => {
  let kube: FakeKube;
  let platform: TestPlatform;
  let tenant: TestTenant;
  let ns: string;

  beforeAll(async () => {
    kube = await startFakeKube();
    kube.simulator.start(20);
    platform = await startTestPlatform({
      kube,
      pollMs: 30,
      env: {
        KUBE_PROGRESS_DEADLINE_SECONDS: '10',
        KUBE_PAUSED_BACKEND: 'paused-page.apprunner-system:8080',
        KUBE_OTLP_ENDPOINT: 'http://otel-collector.observability.svc:4318',
        KUBE_OTLP_NAMESPACE: 'observability',
      },
    });
    tenant = await platform.newTenant('kube-scenarios');
    ns = `apprunner-${tenant.accountId}`;
  });
  afterAll(async () => {
    await platform?.close();
    await kube?.close();
  });

  const describeService = async (arn: string) => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: arn }))).Service!;
  const settled = (arn: string, want: string) =>
    waitFor(async () => (await describeService(arn)).Status === want, `service ${want}`, 20_000);
  const lastOperation = async (arn: string) => (await tenant.client.send(new ListOperationsCommand({ ServiceArn: arn }))).OperationSummaryList![0];
  const create = async (name: string, image: string) =>
    (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: name,
          SourceConfiguration: { ImageRepository: { ImageIdentifier: image, ImageRepositoryType: 'ECR', ImageConfiguration: { Port: '8080' } } },
          HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/healthz' },
        }),
      )
    ).Service!;
  const objectName = (serviceId: string) => `svc-${serviceId}`;
  const deployment = (serviceId: string) => kube.store.get('apps/v1', 'Deployment', ns, objectName(serviceId));
  const image = (serviceId: string) => (deployment(serviceId)?.spec as any)?.template.spec.containers[0].image;
  const ownedBy = (serviceId: string) =>
    ['v1|Service', 'autoscaling/v2|HorizontalPodAutoscaler', 'networking.k8s.io/v1|Ingress', 'networking.k8s.io/v1|NetworkPolicy', 'apps/v1|Deployment', 'v1|Secret']
      .flatMap((k) => {
        const [apiVersion, kind] = k.split('|');
        return kube.store.list(apiVersion, kind, ns).filter((o: any) => o.metadata.labels?.['apprunner.k8s/service-id'] === serviceId);
      })
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .sort();

  it('creates an image service: tenant namespace, valid objects, RUNNING once the rollout is available', async () => {
    const svc = await create('web-app', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    expect((await lastOperation(svc.ServiceArn!)).Status).toBe('SUCCEEDED');

    expect(kube.store.get('v1', 'Namespace', undefined, ns)).toBeDefined();
    expect(kube.store.list('v1', 'ResourceQuota', ns)).toHaveLength(1);
    expect(kube.store.list('v1', 'LimitRange', ns)).toHaveLength(1);
    expect(kube.store.list('networking.k8s.io/v1', 'NetworkPolicy', ns).length).toBeGreaterThanOrEqual(2);

    const dep = deployment(svc.ServiceId!)!;
    const pod = (dep.spec as any).template.spec;
    expect(pod.containers[0]).toMatchObject({ image: GOOD, ports: [{ containerPort: 8080 }] });
    expect(pod.containers[0].readinessProbe.httpGet).toMatchObject({ path: '/healthz', port: 8080 });
    expect(pod.containers[0].resources.limits).toEqual(pod.containers[0].resources.requests);
    expect(dep.metadata.annotations?.['apprunner.k8s/arn']).toBe(svc.ServiceArn);
    const hpa = kube.store.get('autoscaling/v2', 'HorizontalPodAutoscaler', ns, objectName(svc.ServiceId!))!;
    expect(hpa.spec).toMatchObject({ minReplicas: 1, maxReplicas: 25 });
    const ingress = kube.store.get('networking.k8s.io/v1', 'Ingress', ns, objectName(svc.ServiceId!))!;
    expect((ingress.spec as any).rules[0].host).toBe(svc.ServiceUrl);
    // everything but the Deployment is owned by it, so deleting the Deployment leaves no orphans
    for (const o of kube.store.list('v1', 'Service', ns)) expect(o.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', uid: dep.metadata.uid });
    expect(dep.metadata.annotations?.[APPLIED_SET]).toContain('autoscaling/v2|HorizontalPodAutoscaler|');
  });

  it('serves RuntimeEnvironmentSecrets from Secrets in the tenant namespace through a per-service Secret', async () => {
    const put = async (name: string, data: Record<string, string>) => {
      const res = await fetch(`${kube.url}/api/v1/namespaces/${ns}/secrets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) }),
      });
      expect(res.status).toBe(201);
    };
    await put('db-creds', { password: 's3cr3t-db' });
    await put('api-token', { value: 'tok-123' });
    const withSecrets = (name: string, secrets: Record<string, string>) =>
      tenant.client.send(
        new CreateServiceCommand({
          ServiceName: name,
          SourceConfiguration: { ImageRepository: { ImageIdentifier: GOOD, ImageRepositoryType: 'ECR', ImageConfiguration: { RuntimeEnvironmentSecrets: secrets } } },
        }),
      );
    const svc = (await withSecrets('secretive', { DB_PASSWORD: `arn:aws:secretsmanager:us-east-1:${tenant.accountId}:secret:db-creds:password::`, API_TOKEN: 'api-token' })).Service!;
    await settled(svc.ServiceArn!, 'RUNNING');
    const dep = deployment(svc.ServiceId!)!;
    const container = (dep.spec as any).template.spec.containers[0];
    const secretName = `${objectName(svc.ServiceId!)}-env`;
    expect(container.env.filter((e: any) => e.valueFrom)).toEqual([
      { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: secretName, key: 'API_TOKEN' } } },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: secretName, key: 'DB_PASSWORD' } } },
    ]);
    expect(JSON.stringify(dep)).not.toContain('s3cr3t-db');
    expect((dep.spec as any).template.metadata.annotations['apprunner.k8s/secret-hash']).toMatch(/^[0-9a-f]{64}$/);
    const own = kube.store.get('v1', 'Secret', ns, secretName)!;
    expect(Buffer.from((own.data as any).DB_PASSWORD, 'base64').toString()).toBe('s3cr3t-db');
    expect(Buffer.from((own.data as any).API_TOKEN, 'base64').toString()).toBe('tok-123');
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
    kube.simulator.rolloutSteps = 5;
    try {
      await tenant.client.send(new UpdateServiceCommand({ ServiceArn: svc.ServiceArn, SourceConfiguration: { ImageRepository: { ImageIdentifier: GOOD_2, ImageRepositoryType: 'ECR' } } }));
      await waitFor(async () => image(svc.ServiceId!) === GOOD_2, 'new image applied');
      // applied but not yet available: the operation is still in progress
      const dep = deployment(svc.ServiceId!)!;
      if ((dep.status as any)?.updatedReplicas !== (dep.spec as any).replicas) expect((await describeService(svc.ServiceArn!)).Status).toBe('OPERATION_IN_PROGRESS');
      await settled(svc.ServiceArn!, 'RUNNING');
    } finally {
      kube.simulator.rolloutSteps = 1;
    }
    const op = await lastOperation(svc.ServiceArn!);
    expect(op).toMatchObject({ Type: 'UPDATE_SERVICE', Status: 'SUCCEEDED' });
    const status = deployment(svc.ServiceId!)!.status as any;
    expect(status.observedGeneration).toBe(deployment(svc.ServiceId!)!.metadata.generation);
    expect(status.conditions.find((c: any) => c.type === 'Progressing').reason).toBe('NewReplicaSetAvailable');
  });

  it('rolls a failing image back: ROLLBACK_SUCCEEDED, still RUNNING on the old image, reason kept', async () => {
    const svc = await create('fragile', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    kube.simulator.failImage(BAD, 'ImagePullBackOff');
    await tenant.client.send(new UpdateServiceCommand({ ServiceArn: svc.ServiceArn, SourceConfiguration: { ImageRepository: { ImageIdentifier: BAD, ImageRepositoryType: 'ECR' } } }));
    await waitFor(async () => image(svc.ServiceId!) === BAD, 'bad image applied');
    expect((await describeService(svc.ServiceArn!)).Status).toBe('OPERATION_IN_PROGRESS'); // not failed before the deadline
    kube.simulator.advance(11_000); // past progressDeadlineSeconds (10 s here)
    await waitFor(async () => (await lastOperation(svc.ServiceArn!)).Status === 'ROLLBACK_SUCCEEDED', 'rollback', 20_000);
    const after = await describeService(svc.ServiceArn!);
    expect(after.Status).toBe('RUNNING');
    expect(after.SourceConfiguration?.ImageRepository?.ImageIdentifier).toBe(GOOD);
    expect(image(svc.ServiceId!)).toBe(GOOD);
    const dep = deployment(svc.ServiceId!)!;
    expect(dep.metadata.annotations?.[FAILURE_REASON]).toMatch(/ImagePullBackOff/);
    const op = await platform.prisma.operation.findFirstOrThrow({ where: { status: 'ROLLBACK_SUCCEEDED', service: { serviceId: svc.ServiceId! } } });
    expect(op.errorMessage).toMatch(/ImagePullBackOff/);
    expect(dep.metadata.annotations?.[ROLLBACK_OF]).toBe(op.id);
    // shown to the tenant: the REST API lists the operation with its reason
    const listed = await platform.rest(tenant.apiKey, 'GET', `/v1/services/${encodeURIComponent(svc.ServiceArn!)}/operations`);
    expect(listed.body.OperationSummaryList[0]).toMatchObject({ Id: op.id, Status: 'ROLLBACK_SUCCEEDED', ErrorMessage: expect.stringMatching(/^ImagePullBackOff: /) });
  });

  it('leaves CREATE_FAILED when the first deployment fails, and UpdateService rebuilds it', async () => {
    kube.simulator.failImage(`${BAD}-first`, 'CrashLoopBackOff');
    const svc = await create('never-ran', `${BAD}-first`);
    await waitFor(async () => image(svc.ServiceId!) === `${BAD}-first`, 'first image applied');
    kube.simulator.advance(11_000);
    await settled(svc.ServiceArn!, 'CREATE_FAILED');
    const failed = await platform.prisma.operation.findFirstOrThrow({ where: { type: 'CREATE_SERVICE', service: { serviceId: svc.ServiceId! } } });
    expect(failed).toMatchObject({ status: 'FAILED' });
    expect(failed.errorMessage).toMatch(/CrashLoopBackOff/);
    await tenant.client.send(new UpdateServiceCommand({ ServiceArn: svc.ServiceArn, SourceConfiguration: { ImageRepository: { ImageIdentifier: GOOD, ImageRepositoryType: 'ECR' } } }));
    await settled(svc.ServiceArn!, 'RUNNING');
    expect(image(svc.ServiceId!)).toBe(GOOD);
  });

  it('pauses to zero replicas without an HPA and resumes to the previous scale', async () => {
    const svc = await create('sleepy', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    await tenant.client.send(new PauseServiceCommand({ ServiceArn: svc.ServiceArn }));
    await settled(svc.ServiceArn!, 'PAUSED');
    expect((deployment(svc.ServiceId!)!.spec as any).replicas).toBe(0);
    expect(kube.store.get('autoscaling/v2', 'HorizontalPodAutoscaler', ns, objectName(svc.ServiceId!))).toBeUndefined();
    // the URL shows the platform's "paused" page: the Ingress points at an alias of it
    const backend = () => (kube.store.get('networking.k8s.io/v1', 'Ingress', ns, objectName(svc.ServiceId!))!.spec as any).rules[0].http.paths[0].backend.service.name;
    expect(backend()).toBe(`${objectName(svc.ServiceId!)}-paused`);
    expect(kube.store.get('v1', 'Service', ns, `${objectName(svc.ServiceId!)}-paused`)!.spec).toMatchObject({ type: 'ExternalName', externalName: 'paused-page.apprunner-system.svc.cluster.local' });
    await tenant.client.send(new ResumeServiceCommand({ ServiceArn: svc.ServiceArn }));
    await settled(svc.ServiceArn!, 'RUNNING');
    expect((deployment(svc.ServiceId!)!.spec as any).replicas).toBe(1);
    expect(kube.store.get('autoscaling/v2', 'HorizontalPodAutoscaler', ns, objectName(svc.ServiceId!))).toBeDefined();
    expect(backend()).toBe(objectName(svc.ServiceId!));
    expect(kube.store.get('v1', 'Service', ns, `${objectName(svc.ServiceId!)}-paused`)).toBeUndefined();
  });

  it('deletes a service and leaves nothing of it behind', async () => {
    const svc = await create('doomed', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    expect(ownedBy(svc.ServiceId!).length).toBeGreaterThanOrEqual(4);
    await tenant.client.send(new DeleteServiceCommand({ ServiceArn: svc.ServiceArn }));
    await waitFor(async () => (await platform.prisma.service.findFirstOrThrow({ where: { serviceId: svc.ServiceId! } })).status === 'DELETED', 'DELETED');
    expect(ownedBy(svc.ServiceId!)).toEqual([]);
    expect(kube.store.list('apps/v1', 'ReplicaSet', ns).filter((rs: any) => rs.metadata.labels?.['apprunner.k8s/service-id'] === svc.ServiceId)).toEqual([]);
  });

  it('corrects drift on resync, and a resync with nothing to correct writes nothing', async () => {
    const svc = await create('drifty', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    const resync = platform.worker()!.get(ResyncService);
    await resync.resyncAll({ perSecond: 1_000 });

    // a hand edit with kubectl (another field manager) on fields the platform owns
    const name = objectName(svc.ServiceId!);
    const res = await fetch(`${kube.url}/apis/apps/v1/namespaces/${ns}/deployments/${name}?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'app', image: 'evil/miner:latest' }] } } } }),
    });
    expect(res.status).toBe(200);
    expect(image(svc.ServiceId!)).toBe('evil/miner:latest');
    await resync.resyncAll({ perSecond: 1_000 });
    expect(image(svc.ServiceId!)).toBe(GOOD);

    const versions = () =>
      ['apps/v1|Deployment', 'v1|Service', 'autoscaling/v2|HorizontalPodAutoscaler', 'networking.k8s.io/v1|Ingress', 'networking.k8s.io/v1|NetworkPolicy', 'v1|Namespace', 'v1|ResourceQuota', 'v1|LimitRange']
        .flatMap((k) => {
          const [apiVersion, kind] = k.split('|');
          return kube.store.list(apiVersion, kind, kind === 'Namespace' ? undefined : ns);
        })
        .map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`)
        .sort();
    kube.simulator.stop(); // the simulated controllers write status; only the platform's writes are measured here
    try {
      const before = versions();
      const from = kube.calls.length;
      const report = await resync.resyncAll({ perSecond: 1_000 });
      expect(report.services).toBeGreaterThanOrEqual(1);
      expect(versions()).toEqual(before);
      // it did re-apply: per service one read of the Deployment and one apply of it and of each object in its applied
      // set (plus a read of its own Secret when it has secrets); per tenant its 5 objects
      const calls = kube.calls.slice(from).filter((c) => !c.discovery);
      const settledServices = await platform.prisma.service.findMany({ where: { status: { in: ['RUNNING', 'PAUSED'] } } });
      const applied = settledServices.map((svc) => deployment(svc.serviceId)!.metadata.annotations![APPLIED_SET].split('\n').length + 1);
      expect(report.services).toBe(settledServices.length);
      expect(calls.filter((c) => c.verb === 'get' && c.kind === 'Deployment')).toHaveLength(report.services);
      expect(calls.filter((c) => c.verb === 'patch' && c.patchType === 'application/apply-patch+yaml').length).toBe(5 + applied.reduce((a, b) => a + b, 0));
    } finally {
      kube.simulator.start(20);
    }
  });

  it('associates custom domains through cert-manager: statuses follow the Certificate, disassociation removes only its objects', async () => {
    // the platform's issuer (installed by the admin): ACME, DNS-01 answered where the tenants' CNAMEs delegate to
    const issuer = await fetch(`${kube.url}/apis/cert-manager.io/v1/clusterissuers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'cert-manager.io/v1',
        kind: 'ClusterIssuer',
        metadata: { name: 'letsencrypt' },
        spec: { acme: { server: 'https://acme-v02.api.letsencrypt.org/directory', privateKeySecretRef: { name: 'letsencrypt-account' }, solvers: [{ dns01: { acmeDNS: { host: 'https://acme-dns.apprunner.test', accountSecretRef: { name: 'acme-dns', key: 'acmedns.json' } } } }] } },
      }),
    });
    expect(issuer.status).toBe(201);
    const svc = await create('with-domains', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    const name = (domain: string) => `${objectName(svc.ServiceId!)}-d-${createHash('sha256').update(domain).digest('hex').slice(0, 12)}`;
    const domains = async () => (await tenant.client.send(new DescribeCustomDomainsCommand({ ServiceArn: svc.ServiceArn }))).CustomDomains ?? [];
    const domainStatus = (domain: string, want: string) =>
      waitFor(async () => (await domains()).find((d) => d.DomainName === domain)?.Status === want, `${domain} ${want}`, 20_000);

    const shop = 'shop.example.com';
    kube.simulator.pendCertificate(name(shop), ns); // the ACME order waits for the tenant's validation record
    kube.simulator.ingressAddress = ''; // and the ingress controller has not picked the host up yet
    await tenant.client.send(new AssociateCustomDomainCommand({ ServiceArn: svc.ServiceArn, DomainName: shop }));
    await domainStatus(shop, 'PENDING_CERTIFICATE_DNS_VALIDATION');
    const certificate = kube.store.get('cert-manager.io/v1', 'Certificate', ns, name(shop))!;
    expect(certificate.spec).toMatchObject({ dnsNames: [shop, `www.${shop}`], secretName: `${name(shop)}-tls`, issuerRef: { kind: 'ClusterIssuer', name: 'letsencrypt' } });
    expect(certificate.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: objectName(svc.ServiceId!) });
    expect(kube.store.get('networking.k8s.io/v1', 'Ingress', ns, name(shop))).toBeUndefined();
    // the CNAME delegations, and the TXT records of the DNS-01 challenges in flight (custom-domains.spec.ts has more)
    expect((await domains())[0].CertificateValidationRecords?.map((r) => `${r.Type} ${r.Name} ${r.Status}`)).toEqual([
      `CNAME _acme-challenge.${shop}. PENDING_VALIDATION`,
      `CNAME _acme-challenge.www.${shop}. PENDING_VALIDATION`,
      `TXT _acme-challenge.${shop}. PENDING_VALIDATION`,
      `TXT _acme-challenge.www.${shop}. PENDING_VALIDATION`,
    ]);

    kube.simulator.releaseCertificate(name(shop), ns);
    await domainStatus(shop, 'BINDING_CERTIFICATE');
    const ingress = kube.store.get('networking.k8s.io/v1', 'Ingress', ns, name(shop))!;
    expect(ingress.spec).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ hosts: [shop, `www.${shop}`], secretName: `${name(shop)}-tls` }],
      rules: [shop, `www.${shop}`].map((host) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: objectName(svc.ServiceId!), port: { number: 80 } } } }] } })),
    });
    kube.simulator.ingressAddress = '192.0.2.10';
    kube.simulator.advance(0); // the simulated controllers look at everything again
    await domainStatus(shop, 'ACTIVE');
    expect((await domains()).find((d) => d.DomainName === shop)!.CertificateValidationRecords?.map((r) => r.Status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);

    const bad = 'bad.example.com';
    kube.simulator.failCertificate(name(bad), ns);
    await tenant.client.send(new AssociateCustomDomainCommand({ ServiceArn: svc.ServiceArn, DomainName: bad, EnableWWWSubdomain: false }));
    await domainStatus(bad, 'CREATE_FAILED');
    // the TXT record is there too if a pass saw the challenge pending before the ACME server rejected it
    const badRecords = (await domains()).find((d) => d.DomainName === bad)!.CertificateValidationRecords ?? [];
    expect(badRecords[0]).toMatchObject({ Type: 'CNAME', Status: 'FAILED' });
    expect(badRecords.every((r) => r.Status === 'FAILED')).toBe(true);

    // a domain belongs to one service on the whole platform
    const other = await platform.newTenant('domain-thief');
    const otherSvc = (await other.client.send(new CreateServiceCommand({ ServiceName: 'thief', SourceConfiguration: { ImageRepository: { ImageIdentifier: GOOD, ImageRepositoryType: 'ECR' } } }))).Service!;
    await waitFor(async () => (await other.client.send(new DescribeServiceCommand({ ServiceArn: otherSvc.ServiceArn }))).Service!.Status === 'RUNNING', 'thief RUNNING');
    await expect(other.client.send(new AssociateCustomDomainCommand({ ServiceArn: otherSvc.ServiceArn, DomainName: shop }))).rejects.toThrow(/already associated with another service/);

    await tenant.client.send(new DisassociateCustomDomainCommand({ ServiceArn: svc.ServiceArn, DomainName: shop }));
    await waitFor(async () => !(await domains()).some((d) => d.DomainName === shop), `${shop} gone`);
    expect(kube.store.get('cert-manager.io/v1', 'Certificate', ns, name(shop))).toBeUndefined();
    expect(kube.store.get('networking.k8s.io/v1', 'Ingress', ns, name(shop))).toBeUndefined();
    expect(kube.store.get('v1', 'Secret', ns, `${name(shop)}-tls`)).toBeUndefined();
    expect(kube.store.get('cert-manager.io/v1', 'Certificate', ns, name(bad))).toBeDefined(); // the other domain is untouched
    expect(kube.store.get('networking.k8s.io/v1', 'Ingress', ns, objectName(svc.ServiceId!))).toBeDefined(); // and so is the service URL
  });

  it('limits EgressType VPC to the connector networks the admin registered', async () => {
    // the admin API: registration, with validation
    expect((await platform.admin('PUT', '/admin/subnets/subnet-db', { Cidrs: ['10.1.0.0/16'] })).status).toBe(200);
    const sg = await platform.admin('PUT', '/admin/security-groups/sg-db', { Egress: [{ Protocol: 'tcp', FromPort: 5432, Cidrs: ['10.1.5.0/24'] }] });
    expect(sg.body.SecurityGroup.Egress).toEqual([{ Protocol: 'tcp', FromPort: 5432, ToPort: 5432, Cidrs: ['10.1.5.0/24'] }]);
    const bad = await platform.admin('PUT', '/admin/subnets/subnet-x', { Cidrs: ['10.1.0.0/33'] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'InvalidRequestException', message: 'Cidrs: "10.1.0.0/33" is not a CIDR block.' });
    expect((await platform.admin('DELETE', '/admin/security-groups/sg-nope')).status).toBe(404);
    expect((await platform.admin('GET', '/admin/subnets')).body.Subnets).toEqual([{ SubnetId: 'subnet-db', Cidrs: ['10.1.0.0/16'] }]);

    const connector = async (name: string, subnet: string) =>
      (await tenant.client.send(new CreateVpcConnectorCommand({ VpcConnectorName: name, Subnets: [subnet], SecurityGroups: ['sg-db'] }))).VpcConnector!.VpcConnectorArn!;
    const inVpc = async (name: string, connectorArn: string) =>
      (
        await tenant.client.send(
          new CreateServiceCommand({
            ServiceName: name,
            SourceConfiguration: { ImageRepository: { ImageIdentifier: GOOD, ImageRepositoryType: 'ECR' } },
            NetworkConfiguration: { EgressConfiguration: { EgressType: 'VPC', VpcConnectorArn: connectorArn } },
          }),
        )
      ).Service!;
    const svc = await inVpc('in-vpc', await connector('db-net', 'subnet-db'));
    await settled(svc.ServiceArn!, 'RUNNING');
    const policy = kube.store.get('networking.k8s.io/v1', 'NetworkPolicy', ns, objectName(svc.ServiceId!))!;
    expect((policy.spec as any).egress.slice(2)).toEqual([{ to: [{ ipBlock: { cidr: '10.1.5.0/24' } }], ports: [{ protocol: 'TCP', port: 5432 }] }]);

    // changing the connector is a new deployment, and the policy follows it
    expect((await platform.admin('PUT', '/admin/subnets/subnet-cache', { Cidrs: ['10.1.5.0/25'] })).status).toBe(200);
    await tenant.client.send(
      new UpdateServiceCommand({ ServiceArn: svc.ServiceArn, NetworkConfiguration: { EgressConfiguration: { EgressType: 'VPC', VpcConnectorArn: await connector('cache-net', 'subnet-cache') } } }),
    );
    await settled(svc.ServiceArn!, 'RUNNING');
    expect((await platform.prisma.operation.findFirstOrThrow({ where: { service: { serviceId: svc.ServiceId! }, type: 'UPDATE_SERVICE' } })).status).toBe('SUCCEEDED');
    const updated = kube.store.get('networking.k8s.io/v1', 'NetworkPolicy', ns, objectName(svc.ServiceId!))!;
    expect((updated.spec as any).egress.slice(2)).toEqual([{ to: [{ ipBlock: { cidr: '10.1.5.0/25' } }], ports: [{ protocol: 'TCP', port: 5432 }] }]);

    const nowhere = await inVpc('nowhere-vpc', await connector('unknown-net', 'subnet-unknown'));
    await settled(nowhere.ServiceArn!, 'CREATE_FAILED');
    const op = await platform.prisma.operation.findFirstOrThrow({ where: { service: { serviceId: nowhere.ServiceId! } } });
    expect(op.errorMessage).toBe('VPC connector unknown-net: subnet-unknown is not registered by the platform administrator.');
  });

  it('serves a VPC ingress connection on the IngressClass of the private network it names', async () => {
    expect((await platform.admin('PUT', '/admin/vpcs/vpc-private', { IngressClassName: 'nginx-private' })).status).toBe(200);
    const svc = await create('behind-vpc', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    const vicStatus = async (arn: string) => (await tenant.client.send(new DescribeVpcIngressConnectionCommand({ VpcIngressConnectionArn: arn }))).VpcIngressConnection!;
    const vic = (
      await tenant.client.send(
        new CreateVpcIngressConnectionCommand({ ServiceArn: svc.ServiceArn, VpcIngressConnectionName: 'private-in', IngressVpcConfiguration: { VpcId: 'vpc-private', VpcEndpointId: 'vpce-1' } }),
      )
    ).VpcIngressConnection!;
    await waitFor(async () => (await vicStatus(vic.VpcIngressConnectionArn!)).Status === 'AVAILABLE', 'VIC AVAILABLE');
    const endpoint = () => kube.store.list('networking.k8s.io/v1', 'Ingress', ns).filter((i) => i.metadata.annotations?.['apprunner.k8s/domain-name'] === vic.DomainName);
    expect(endpoint()).toHaveLength(1);
    expect(endpoint()[0].spec).toMatchObject({
      ingressClassName: 'nginx-private',
      rules: [{ host: vic.DomainName, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: objectName(svc.ServiceId!), port: { number: 80 } } } }] } }],
    });
    expect(endpoint()[0].metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: objectName(svc.ServiceId!) });

    await tenant.client.send(new DeleteVpcIngressConnectionCommand({ VpcIngressConnectionArn: vic.VpcIngressConnectionArn }));
    await waitFor(async () => (await platform.prisma.vpcIngressConnection.findFirstOrThrow({ where: { arn: vic.VpcIngressConnectionArn! } })).status === 'DELETED', 'VIC DELETED');
    expect(endpoint()).toEqual([]);
    expect(kube.store.get('networking.k8s.io/v1', 'Ingress', ns, objectName(svc.ServiceId!))).toBeDefined(); // the public URL stays

    const unknown = (
      await tenant.client.send(
        new CreateVpcIngressConnectionCommand({ ServiceArn: svc.ServiceArn, VpcIngressConnectionName: 'nowhere-in', IngressVpcConfiguration: { VpcId: 'vpc-unknown', VpcEndpointId: 'vpce-2' } }),
      )
    ).VpcIngressConnection!;
    await waitFor(async () => (await vicStatus(unknown.VpcIngressConnectionArn!)).Status === 'FAILED_CREATION', 'VIC FAILED_CREATION');
  });

  it('makes a bounded number of API calls per reconcile pass', async () => {
    const svc = await create('counted', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    const from = kube.calls.length;
    await tenant.client.send(new UpdateServiceCommand({ ServiceArn: svc.ServiceArn, SourceConfiguration: { ImageRepository: { ImageIdentifier: GOOD_2, ImageRepositoryType: 'ECR' } } }));
    await settled(svc.ServiceArn!, 'RUNNING');
    const calls = kube.calls.slice(from).filter((c) => !c.discovery);
    const passes = calls.filter((c) => c.verb === 'get' && c.kind === 'Deployment').length;
    expect(passes).toBeGreaterThanOrEqual(1);
    // first pass: read the Deployment, apply it and its 4 dependents (Service, HPA, Ingress, NetworkPolicy); later
    // passes only read the Deployment back; nothing else
    expect(calls.length).toBe(6 + (passes - 1));
    expect(calls.every((c) => c.status < 300)).toBe(true);
  });

  it('finishes an operation exactly once when the worker restarts in the middle of it (SIGKILL: worker-kill.spec.ts)', async () => {
    const svc = await create('survivor', GOOD);
    await settled(svc.ServiceArn!, 'RUNNING');
    kube.simulator.stop(); // the rollout cannot finish while the worker is alive
    await tenant.client.send(new UpdateServiceCommand({ ServiceArn: svc.ServiceArn, SourceConfiguration: { ImageRepository: { ImageIdentifier: GOOD_2, ImageRepositoryType: 'ECR' } } }));
    await waitFor(async () => image(svc.ServiceId!) === GOOD_2, 'new image applied');
    await platform.stopWorker();
    kube.simulator.start(20);
    await new Promise((r) => setTimeout(r, 200));
    expect((await describeService(svc.ServiceArn!)).Status).toBe('OPERATION_IN_PROGRESS');
    await platform.startWorker();
    await settled(svc.ServiceArn!, 'RUNNING');
    const ops = await platform.prisma.operation.findMany({ where: { service: { serviceId: svc.ServiceId! }, type: 'UPDATE_SERVICE' } });
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ status: 'SUCCEEDED' });
    expect(ops[0].endedAt).toBeInstanceOf(Date);
  });

  it('runs the pods as the ServiceAccount InstanceRoleArn names, and fails clearly when the tenant has not created it', async () => {
    const role = (name: string) => ({ InstanceRoleArn: `arn:aws:iam::${tenant.accountId}:role/service-role/${name}` });
    const withRole = async (serviceName: string, roleName: string) =>
      (
        await tenant.client.send(
          new CreateServiceCommand({
            ServiceName: serviceName,
            SourceConfiguration: { ImageRepository: { ImageIdentifier: GOOD, ImageRepositoryType: 'ECR', ImageConfiguration: { Port: '8080' } } },
            InstanceConfiguration: role(roleName),
          }),
        )
      ).Service!;
    const sa = await fetch(`${kube.url}/api/v1/namespaces/${ns}/serviceaccounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'orders-app', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/orders' } } }),
    });
    expect(sa.status).toBe(201);
    const ok = await withRole('with-role', 'orders-app');
    await settled(ok.ServiceArn!, 'RUNNING');
    expect((deployment(ok.ServiceId!)?.spec as any).template.spec.serviceAccountName).toBe('orders-app');

    const missing = await withRole('without-role', 'not-created');
    await settled(missing.ServiceArn!, 'CREATE_FAILED');
    expect((await lastOperation(missing.ServiceArn!)).Status).toBe('FAILED');
    const rest = await platform.rest(tenant.apiKey, 'GET', `/v1/services/${encodeURIComponent(missing.ServiceArn!)}/operations`);
    expect(rest.body.OperationSummaryList[0].ErrorMessage).toBe(`InstanceRoleArn: the ServiceAccount "not-created" does not exist in namespace ${ns}.`);
  });

  it('traces services whose observability configuration uses AWSXRAY: OTLP to the platform collector, reachable through egress', async () => {
    const obs = await tenant.client.send(new CreateObservabilityConfigurationCommand({ ObservabilityConfigurationName: 'xray-tracing', TraceConfiguration: { Vendor: 'AWSXRAY' } }));
    const svc = (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: 'traced-app',
          SourceConfiguration: { ImageRepository: { ImageIdentifier: GOOD, ImageRepositoryType: 'ECR', ImageConfiguration: { Port: '8080' } } },
          ObservabilityConfiguration: { ObservabilityEnabled: true, ObservabilityConfigurationArn: obs.ObservabilityConfiguration!.ObservabilityConfigurationArn },
        }),
      )
    ).Service!;
    await settled(svc.ServiceArn!, 'RUNNING');
    const env = Object.fromEntries(((deployment(svc.ServiceId!)?.spec as any).template.spec.containers[0].env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability.svc:4318', OTEL_SERVICE_NAME: 'traced-app', OTEL_PROPAGATORS: 'xray,tracecontext,baggage' });
    const policy = kube.store.get('networking.k8s.io/v1', 'NetworkPolicy', ns, objectName(svc.ServiceId!)) as any;
    expect(policy.spec.egress).toContainEqual({ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } } }], ports: [{ protocol: 'TCP', port: 4318 }] });
  });

  it('removes the namespace of a tenant the admin deleted, with what the tenant kept in it; other namespaces stay', async () => {
    const gone = await platform.newTenant('kube-gone');
    const goneNs = `apprunner-${gone.accountId}`;
    const svc = (
      await gone.client.send(
        new CreateServiceCommand({ ServiceName: 'short-lived', SourceConfiguration: { ImageRepository: { ImageIdentifier: GOOD, ImageRepositoryType: 'ECR', ImageConfiguration: { Port: '8080' } } } }),
      )
    ).Service!;
    const statusOf = async () => (await gone.client.send(new DescribeServiceCommand({ ServiceArn: svc.ServiceArn! }))).Service!.Status;
    await waitFor(async () => (await statusOf()) === 'RUNNING', 'RUNNING', 20_000);
    const kept = await fetch(`${kube.url}/api/v1/namespaces/${goneNs}/secrets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-creds' }, data: { password: Buffer.from('x').toString('base64') } }),
    });
    expect(kept.status).toBe(201);
    await gone.client.send(new DeleteServiceCommand({ ServiceArn: svc.ServiceArn! }));
    await waitFor(async () => (await statusOf()) === 'DELETED', 'DELETED', 20_000);
    expect((await platform.admin('DELETE', `/admin/tenants/${gone.accountId}`)).status).toBe(204);

    const resync = platform.worker()!.get(ResyncService);
    expect(await resync.removeDeletedTenants()).toBe(1);
    expect(kube.store.get('v1', 'Namespace', undefined, goneNs)).toBeUndefined();
    expect(kube.store.list('v1', 'Secret', goneNs)).toEqual([]);
    expect(await resync.removeDeletedTenants()).toBe(0);
    expect(kube.store.get('v1', 'Namespace', undefined, ns)).toBeDefined();
  });

  it('needs exactly the RBAC rules checked in at docs/worker-rbac.json (the chart grants these)', () => {
    // what the worker asked for (its kubeconfig user), not the tests' own requests to the fake
    const rules = rbacRulesFromCalls(kube.calls.filter((c) => c.user === kube.kubeConfigOptions().users[0].token));
    const file = join(__dirname, '../../docs/worker-rbac.json');
    if (process.env.UPDATE_GOLDEN) writeFileSync(file, `${JSON.stringify(rules, null, 2)}\n`);
    expect(rules).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });
});
