import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateServiceCommand, DescribeServiceCommand } from '@aws-sdk/client-apprunner';
import { BuildahDriver } from '@apprunner/build-driver';
import { ImagePoller, type KubeClient, type LiveObject } from '@apprunner/kubernetes';
import { adminKube, onRealCluster, testCluster } from '../support/real-cluster';
import { dockerConfigJson } from '@apprunner/registry';
import { buildBaseImage, type LocalRegistry, startLocalRegistry } from '../doubles/registry/local-registry';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

const TOKEN = 'registry-notifications-token-0123456789';

/**
 * Image-based services with AutoDeploymentsEnabled: a push of a new digest for the tracked tag deploys that digest
 * once, from the registry's notifications (a real docker-registry posting to the API) or, without them, from the
 * worker's tag → digest polling; private registries through a dockerconfigjson Secret named by AccessRoleArn.
 */
const cluster = testCluster();
describe.skipIf(!cluster)(onRealCluster('image services: automatic deployments and private registries'), () => {
  let dir: string;
  let notifying: LocalRegistry;
  let silent: LocalRegistry;
  let kube: KubeClient;
  let platform: TestPlatform;
  let tenant: TestTenant;
  let builder: BuildahDriver;
  let base: string;
  let ns: string;
  let version = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apprunner-e2e-images-'));
    kube = await adminKube(cluster!);
    platform = await startTestPlatform({
      cluster: { info: cluster! },
      pollMs: 100,
      env: { REGISTRY_WEBHOOK_TOKEN: TOKEN, IMAGE_POLL_SECONDS: '0', INSECURE_REGISTRIES: '127.0.0.1' },
    });
    notifying = await startLocalRegistry({
      notifications: { url: `${platform.url}/registry/notifications`, headers: { Authorization: `Bearer ${TOKEN}` } },
    });
    silent = await startLocalRegistry({ htpasswd: { user: 'puller', password: 'pull-pass-123' } });
    const storage = { root: join(dir, 'storage'), runroot: join(dir, 'run') };
    await writeFile(join(dir, 'auth.json'), dockerConfigJson(silent.host, { username: 'puller', password: 'pull-pass-123' }));
    builder = new BuildahDriver({ ...storage, tlsVerify: false, authFile: join(dir, 'auth.json') });
    base = await buildBaseImage(notifying.host, storage);
    tenant = await platform.newTenant('image-auto');
    ns = `apprunner-${tenant.accountId}`;
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
    if (ns) await kube?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
    await notifying?.stop();
    await silent?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Pushes a new image (new digest) to `repository:tag`. */
  const push = async (repository: string, tag: string): Promise<string> => {
    const context = await mkdtemp(join(dir, 'ctx-'));
    const result = await builder.build({
      buildId: `v${++version}`,
      contextDir: context,
      containerfile: `FROM ${base}\nRUN echo ${version} > /version\n`,
      repository,
      tag,
    });
    return result.digest;
  };
  const createService = async (name: string, image: string, extra: Record<string, unknown> = {}) =>
    (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: name,
          SourceConfiguration: {
            ImageRepository: { ImageIdentifier: image, ImageRepositoryType: 'ECR', ImageConfiguration: { Port: '8080' } },
            AutoDeploymentsEnabled: true,
            ...extra,
          },
        }),
      )
    ).Service!;
  const status = async (arn: string) => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: arn }))).Service!.Status;
  const operations = async (arn: string): Promise<{ Id: string; Type: string; Status: string; ErrorMessage?: string }[]> =>
    (await platform.rest(tenant.apiKey, 'GET', `/v1/services/${encodeURIComponent(arn)}/operations`)).body.OperationSummaryList;
  const image = async (serviceId: string) => (await kube.get<any>('apps/v1', 'Deployment', `svc-${serviceId}`, ns))?.spec.template.spec;
  const idle = (arn: string) =>
    waitFor(
      async () =>
        (await status(arn)) === 'RUNNING' && (await operations(arn)).every((o) => o.Status !== 'IN_PROGRESS' && o.Status !== 'PENDING'),
      'service idle',
      30_000,
    );

  it('a registry notification of a new digest deploys it by digest, once', async () => {
    await push(`${notifying.host}/team/app`, 'live');
    const svc = await createService('notified', `${notifying.host}/team/app:live`);
    await idle(svc.ServiceArn!);
    expect((await image(svc.ServiceId!)).containers[0].image).toBe(`${notifying.host}/team/app:live`);

    const digest = await push(`${notifying.host}/team/app`, 'live');
    await waitFor(async () => (await operations(svc.ServiceArn!)).length === 2, 'the automatic deployment', 15_000);
    await idle(svc.ServiceArn!);
    const ops = await operations(svc.ServiceArn!);
    expect(ops[0]).toMatchObject({ Type: 'START_DEPLOYMENT', Status: 'SUCCEEDED' });
    expect((await image(svc.ServiceId!)).containers[0].image).toBe(`${notifying.host}/team/app@${digest}`);

    // The same digest seen again (a redelivered event, the poller) deploys nothing.
    await platform.worker()!.get(ImagePoller).pollOnce();
    const redelivered = await fetch(`${platform.url}/registry/notifications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/vnd.docker.distribution.events.v1+json' },
      body: JSON.stringify({
        events: [
          {
            id: 'manual-redelivery-1',
            action: 'push',
            target: {
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              digest,
              repository: 'team/app',
              tag: 'live',
              url: `http://${notifying.host}/v2/team/app/manifests/${digest}`,
            },
            request: { host: notifying.host },
            timestamp: new Date().toISOString(),
          },
        ],
      }),
    });
    expect(redelivered.status).toBe(202);
    expect((await operations(svc.ServiceArn!)).length).toBe(2);

    const forged = await fetch(`${platform.url}/registry/notifications`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong-token-wrong-token', 'content-type': 'application/json' },
      body: '{"events":[]}',
    });
    expect(forged.status).toBe(401);
  }, 90_000);

  it('without notifications, polling finds the new digest of a private registry tag and deploys it once', async () => {
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      metadata: { name: 'private-pull', namespace: ns },
      data: {
        '.dockerconfigjson': Buffer.from(dockerConfigJson(silent.host, { username: 'puller', password: 'pull-pass-123' })).toString(
          'base64',
        ),
      },
    } as LiveObject);
    await push(`${silent.host}/team/private`, 'stable');
    const auth = { AuthenticationConfiguration: { AccessRoleArn: `arn:aws:iam::${tenant.accountId}:role/private-pull` } };
    const svc = await createService('polled', `${silent.host}/team/private:stable`, auth);
    await idle(svc.ServiceArn!);
    expect((await image(svc.ServiceId!)).imagePullSecrets).toEqual([{ name: 'private-pull' }]);

    const poller = platform.worker()!.get(ImagePoller);
    await poller.pollOnce(); // first sighting: recorded, nothing deployed
    expect((await operations(svc.ServiceArn!)).length).toBe(1);
    const digest = await push(`${silent.host}/team/private`, 'stable');
    const report = await poller.pollOnce();
    expect(report.deployments).toBe(1);
    await poller.pollOnce();
    await idle(svc.ServiceArn!);
    expect((await operations(svc.ServiceArn!)).length).toBe(2);
    expect((await image(svc.ServiceId!)).containers[0].image).toBe(`${silent.host}/team/private@${digest}`);
  }, 90_000);

  it('a missing registry credential fails the deployment with a clear reason', async () => {
    const svc = await createService('no-cred', `${silent.host}/team/private:stable`, {
      AuthenticationConfiguration: { AccessRoleArn: `arn:aws:iam::${tenant.accountId}:role/missing-cred` },
    });
    await waitFor(async () => (await status(svc.ServiceArn!)) === 'CREATE_FAILED', 'CREATE_FAILED', 20_000);
    expect((await operations(svc.ServiceArn!))[0].ErrorMessage).toContain('"missing-cred" does not exist');
  });
});
