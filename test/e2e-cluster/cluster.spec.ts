import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServiceCommand,
  ListOperationsCommand,
  PauseServiceCommand,
  ResumeServiceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import { KubeClient, ResyncService, serviceObjectName } from '@apprunner/kubernetes';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

/**
 * The scenarios of test/kubernetes, against a real cluster (kind, k3d...) when KUBECONFIG points at one. Without it
 * the suite reports itself skipped, never passed. It creates namespaces `apprunner-e2e-<account id>` and deletes
 * them at the end. Images come from Docker Hub (the cluster needs to pull them).
 */
const KUBECONFIG = process.env.KUBECONFIG;
const IMAGE = process.env.E2E_IMAGE ?? 'nginxinc/nginx-unprivileged:1.27-alpine';
const IMAGE_2 = process.env.E2E_IMAGE_2 ?? 'nginxinc/nginx-unprivileged:1.26-alpine';
const MISSING = 'registry.invalid/apprunner-e2e/does-not-exist:0';

describe.skipIf(!KUBECONFIG)('real cluster (KUBECONFIG)', () => {
  let platform: TestPlatform;
  let tenant: TestTenant;
  let kube: KubeClient;
  let ns: string;
  const minutes = (n: number) => n * 60_000;

  beforeAll(async () => {
    platform = await startTestPlatform({
      kubeSource: { kubeconfigPath: KUBECONFIG! },
      pollMs: 1_000,
      env: { KUBE_NAMESPACE_PREFIX: 'apprunner-e2e-', KUBE_PROGRESS_DEADLINE_SECONDS: '60' },
    });
    tenant = await platform.newTenant('e2e');
    ns = `apprunner-e2e-${tenant.accountId}`;
    kube = await KubeClient.connect({ kubeconfigPath: KUBECONFIG! }, 'apprunner-e2e-test');
  }, minutes(2));
  afterAll(async () => {
    await kube?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
    await platform?.close();
  }, minutes(2));

  const status = async (arn: string) => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: arn }))).Service!.Status;
  const settled = (arn: string, want: string) => waitFor(async () => (await status(arn)) === want, `service ${want}`, minutes(4));
  const deployment = (serviceId: string) => kube.get<any>('apps/v1', 'Deployment', serviceObjectName(serviceId), ns);
  const image = async (serviceId: string) => (await deployment(serviceId))?.spec.template.spec.containers[0].image;
  const source = (img: string) => ({ ImageRepository: { ImageIdentifier: img, ImageRepositoryType: 'ECR_PUBLIC' as const, ImageConfiguration: { Port: '8080' } } });

  it(
    'creates, updates, rolls back, pauses, resumes, corrects drift and deletes a service',
    async () => {
      const svc = (await tenant.client.send(new CreateServiceCommand({ ServiceName: 'e2e-web', SourceConfiguration: source(IMAGE) }))).Service!;
      await settled(svc.ServiceArn!, 'RUNNING');
      expect(await image(svc.ServiceId!)).toBe(IMAGE);

      await tenant.client.send(new UpdateServiceCommand({ ServiceArn: svc.ServiceArn, SourceConfiguration: source(IMAGE_2) }));
      await settled(svc.ServiceArn!, 'RUNNING');
      expect(await image(svc.ServiceId!)).toBe(IMAGE_2);

      await tenant.client.send(new UpdateServiceCommand({ ServiceArn: svc.ServiceArn, SourceConfiguration: source(MISSING) }));
      await settled(svc.ServiceArn!, 'RUNNING');
      const ops = (await tenant.client.send(new ListOperationsCommand({ ServiceArn: svc.ServiceArn }))).OperationSummaryList!;
      expect(ops[0].Status).toBe('ROLLBACK_SUCCEEDED');
      expect(await image(svc.ServiceId!)).toBe(IMAGE_2);

      await tenant.client.send(new PauseServiceCommand({ ServiceArn: svc.ServiceArn }));
      await settled(svc.ServiceArn!, 'PAUSED');
      expect((await deployment(svc.ServiceId!)).spec.replicas).toBe(0);
      await tenant.client.send(new ResumeServiceCommand({ ServiceArn: svc.ServiceArn }));
      await settled(svc.ServiceArn!, 'RUNNING');

      const drifted = await deployment(svc.ServiceId!);
      drifted.spec.template.spec.containers[0].image = 'busybox:1.36';
      await kube.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: drifted.metadata.name, namespace: ns }, spec: { template: drifted.spec.template, selector: drifted.spec.selector } });
      await platform.worker()!.get(ResyncService).resyncAll({ perSecond: 100 });
      expect(await image(svc.ServiceId!)).toBe(IMAGE_2);

      await tenant.client.send(new DeleteServiceCommand({ ServiceArn: svc.ServiceArn }));
      await waitFor(async () => (await platform.prisma.service.findFirstOrThrow({ where: { serviceId: svc.ServiceId! } })).status === 'DELETED', 'DELETED', minutes(4));
      await waitFor(async () => (await kube.list('v1', 'Service', ns, `apprunner.k8s/service-id=${svc.ServiceId}`)).length === 0, 'owned objects gone', minutes(2));
      expect(await deployment(svc.ServiceId!)).toBeUndefined();
    },
    minutes(20),
  );
});
