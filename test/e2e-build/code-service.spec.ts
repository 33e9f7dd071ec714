import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateConnectionCommand,
  CreateServiceCommand,
  DescribeServiceCommand,
  ListConnectionsCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import { registryDigest, type LocalRegistry } from '../doubles/registry/local-registry';
import type { KubeClient } from '@apprunner/kubernetes';
import { onRealCluster, testCluster } from '../support/real-cluster';
import { SourceBuilds } from '@apprunner/build';
import { type BareRepo, createBareRepo, type GitHubStub, installationPayload, pushPayload, signedWebhookRequest } from '../doubles/github';
import { type CodeStack, startCodeStack } from '../support/code-stack';
import type { TestPlatform, TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

const INSTALLATION = 4242;
/** Mallory's own installation of the App: she is a GitHub user of the App, but not one who can access INSTALLATION. */
const MALLORY_INSTALLATION = 5151;

const appYaml = (version: string, buildCommand = `echo "building $MARKER" && echo ${version} > /app/version.txt`) => `version: 1.0
runtime: nodejs18
build:
  commands:
    build:
      - ${buildCommand}
  env:
    - name: MARKER
      value: e2e-marker
run:
  command: httpd -f -p 8080 -h /app
  network:
    port: 8080
  env:
    - name: GREETING
      value: hello
`;

/**
 * A code-based service end to end with real parts: a git repository served by a local stand-in for GitHub (App JWT,
 * installation tokens, git over HTTP), the connection handshake, a signed push webhook, a real buildah build with RUN
 * steps from a small local base image, a push to a real docker-registry on loopback, and the Deployment (on the real
 * test cluster) updated to the new digest; then a failing build that leaves the old version serving.
 */
const cluster = testCluster();
describe.skipIf(!cluster)(onRealCluster('code-based services: GitHub push → build → deploy'), () => {
  let stack: CodeStack;
  let registry: LocalRegistry;
  let github: GitHubStub;
  let repo: BareRepo;
  let kube: KubeClient;
  let platform: TestPlatform;
  let tenant: TestTenant;
  let ns: string;
  let serviceArn: string;
  let serviceId: string;
  let connectionArn: string;

  beforeAll(async () => {
    stack = await startCodeStack({
      // Users (code-stack's default): acme can access INSTALLATION, mallory only her own installation.
      installations: [
        { id: INSTALLATION, account: 'acme', repositories: ['acme/web', 'acme/mono'] },
        { id: MALLORY_INSTALLATION, account: 'mallory', repositories: [] },
      ],
      seed: async (reposDir) => {
        repo = await createBareRepo(reposDir, 'acme/web', { 'apprunner.yaml': appYaml('v1'), 'index.html': '<h1>v1</h1>\n' });
        // A monorepo: the service lives in services/api, configured through the API (its apprunner.yaml is ignored).
        await createBareRepo(reposDir, 'acme/mono', {
          'services/api/index.html': '<h1>api</h1>\n',
          'services/api/apprunner.yaml': 'this: is not read\n',
          'README.md': 'monorepo\n',
        });
      },
      env: { KUBE_PROGRESS_DEADLINE_SECONDS: '10' },
      cluster: cluster!,
    });
    ({ registry, github, kube, platform } = stack);
    tenant = await platform.newTenant('code-e2e');
    ns = `apprunner-${tenant.accountId}`;
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
  });

  const describeService = async () => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: serviceArn }))).Service!;
  // REST shows ErrorMessage (why an operation failed), which the SDK's shape doesn't have.
  const operations = async (arn = serviceArn): Promise<{ Id: string; Type: string; Status: string; ErrorMessage?: string }[]> =>
    (await platform.rest(tenant.apiKey, 'GET', `/v1/services/${encodeURIComponent(arn)}/operations`)).body.OperationSummaryList;
  const container = async () => (await kube.get<any>('apps/v1', 'Deployment', `svc-${serviceId}`, ns))?.spec.template.spec.containers[0];
  const operationEnded = (id: string, arn = serviceArn) =>
    waitFor(
      async () => {
        const op = (await operations(arn)).find((o) => o.Id === id);
        return op && op.Status !== 'IN_PROGRESS' && op.Status !== 'PENDING' ? op : undefined;
      },
      `operation ${id} to end`,
      120_000,
    );
  const webhook = (event: string, payload: unknown, deliveryId?: string, secret = stack.webhookSecret) => {
    const signed = signedWebhookRequest(secret, event, payload, deliveryId);
    return fetch(`${platform.url}/github/webhook`, { method: 'POST', headers: signed.headers, body: signed.body });
  };
  const logsOf = async (operationId: string) => {
    const res = await fetch(`${platform.url}/v1/operations/${operationId}/logs`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
    return { status: res.status, text: await res.text() };
  };

  it('connects GitHub: CreateConnection is PENDING_HANDSHAKE, the App installation callback makes it AVAILABLE', async () => {
    const created = await tenant.client.send(new CreateConnectionCommand({ ConnectionName: 'acme-github', ProviderType: 'GITHUB' }));
    expect(created.Connection?.Status).toBe('PENDING_HANDSHAKE');
    connectionArn = created.Connection!.ConnectionArn!;

    const handshake = await platform.rest(tenant.apiKey, 'POST', `/v1/connections/${encodeURIComponent(connectionArn)}/handshake`);
    expect(handshake.status).toBe(200);
    const url = new URL(handshake.body.HandshakeUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${github.webUrl}/apps/apprunner-e2e/installations/new`);
    const state = url.searchParams.get('state')!;

    // GitHub returns to the setup URL with the installation and, since the App requests user authorization during
    // installation, a one-time code of the installing user.
    const setupUrl = (installationId: number, code: string | undefined, withState = state) =>
      `${platform.url}/github/setup?${code ? `code=${code}&` : ''}installation_id=${installationId}&setup_action=install&state=${encodeURIComponent(withState)}`;
    const messageOf = async (res: Response) => ((await res.json()) as { message: string }).message;
    const status = async () =>
      (await tenant.client.send(new ListConnectionsCommand({ ConnectionName: 'acme-github' }))).ConnectionSummaryList?.[0]?.Status;

    // A tampered state is refused and binds nothing.
    const forged = await fetch(setupUrl(INSTALLATION, github.authorize('acme'), `${state}x`));
    expect(forged.status).toBe(400);
    // installation_id alone proves nothing (it can be spoofed): without the user's code the callback is refused.
    const noCode = await fetch(setupUrl(INSTALLATION, undefined));
    expect(noCode.status).toBe(400);
    expect(await messageOf(noCode)).toContain("authorize the platform's GitHub App");
    // Someone who can't access the installation (mallory, with a real code of her own) is refused.
    const spoofed = await fetch(setupUrl(INSTALLATION, github.authorize('mallory')));
    expect(spoofed.status).toBe(400);
    expect(await messageOf(spoofed)).toContain(`installation ${INSTALLATION} is not one of yours`);
    // An installation the App doesn't have is refused.
    const unknown = await fetch(setupUrl(999, github.authorize('acme')));
    expect(unknown.status).toBe(400);
    // A made-up code is refused as such.
    const madeUp = await fetch(setupUrl(INSTALLATION, '0123456789abcdef0123'));
    expect(madeUp.status).toBe(400);
    expect(await messageOf(madeUp)).toContain('GitHub refused the authorization code');
    expect(await status()).toBe('PENDING_HANDSHAKE');

    // The user who installed the App: AVAILABLE.
    const code = github.authorize('acme');
    const setup = await fetch(setupUrl(INSTALLATION, code));
    expect(setup.status).toBe(200);
    expect(await status()).toBe('AVAILABLE');
    // The code was used up: replaying the callback is refused.
    expect((await fetch(setupUrl(INSTALLATION, code))).status).toBe(400);

    // Another tenant can't bind the same installation with a handshake of its own: its user can't access the
    // installation, and even a code of acme's user would meet the installation already bound to this tenant.
    const other = await platform.newTenant('code-e2e-other');
    const theirs = await other.client.send(new CreateConnectionCommand({ ConnectionName: 'theirs', ProviderType: 'GITHUB' }));
    const theirHandshake = await platform.rest(
      other.apiKey,
      'POST',
      `/v1/connections/${encodeURIComponent(theirs.Connection!.ConnectionArn!)}/handshake`,
    );
    const theirState = new URL(theirHandshake.body.HandshakeUrl).searchParams.get('state')!;
    const stolen = await fetch(setupUrl(INSTALLATION, github.authorize('mallory'), theirState));
    expect(stolen.status).toBe(400);
    expect(await messageOf(stolen)).toContain('is not one of yours');
    const bound = await fetch(setupUrl(INSTALLATION, github.authorize('acme'), theirState));
    expect(bound.status).toBe(400);
    expect(await messageOf(bound)).toContain('belongs to another account');
  });

  it('creates a code-based service: the commit is built with buildah, pushed to the registry and deployed by digest', async () => {
    const created = await tenant.client.send(
      new CreateServiceCommand({
        ServiceName: 'web-app',
        SourceConfiguration: {
          CodeRepository: {
            RepositoryUrl: `${github.webUrl}/acme/web`,
            SourceCodeVersion: { Type: 'BRANCH', Value: 'main' },
            CodeConfiguration: { ConfigurationSource: 'REPOSITORY' },
          },
          AutoDeploymentsEnabled: true,
          AuthenticationConfiguration: { ConnectionArn: connectionArn },
        },
      }),
    );
    serviceArn = created.Service!.ServiceArn!;
    serviceId = created.Service!.ServiceId!;
    const op = await operationEnded(created.OperationId!);
    expect(op.Status, JSON.stringify(op)).toBe('SUCCEEDED');
    expect((await describeService()).Status).toBe('RUNNING');

    const image: string = (await container()).image;
    expect(image).toMatch(new RegExp(`^${registry.host}/${tenant.accountId}/${serviceId}@sha256:[0-9a-f]{64}$`));
    // The digest is the one the registry holds for the commit's tag.
    expect(image.split('@')[1]).toBe(
      await registryDigest(`${registry.host}/${tenant.accountId}/${serviceId}:${repo.commit.slice(0, 12)}`, { tlsVerify: false }),
    );
    // apprunner.yaml's run section reaches the Deployment; its build env does not.
    const env = Object.fromEntries(((await container()).env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    expect(env.GREETING).toBe('hello');
    expect(env.MARKER).toBeUndefined();
    expect((await container()).ports[0].containerPort).toBe(8080);

    const logs = await logsOf(created.OperationId!);
    expect(logs.status).toBe(200);
    expect(logs.text).toContain('building e2e-marker');
    expect(logs.text).toContain(repo.commit);
    // Logs are the tenant's own.
    const other = await platform.newTenant('code-e2e-logs');
    const foreign = await fetch(`${platform.url}/v1/operations/${created.OperationId}/logs`, {
      headers: { authorization: `Bearer ${other.apiKey}` },
    });
    expect(foreign.status).toBe(404);
  }, 150_000);

  it('a signed push to the tracked branch deploys that commit within a second; redeliveries and bad signatures do nothing', async () => {
    const before: string = (await container()).image;
    const commit = await repo.commitFiles({ 'apprunner.yaml': appYaml('v2'), 'index.html': '<h1>v2</h1>\n' }, 'v2');
    const payload = pushPayload({
      installationId: INSTALLATION,
      repo: 'acme/web',
      webUrl: github.webUrl,
      branch: 'main',
      after: commit,
      before: repo.commit,
    });

    const forged = await webhook('push', payload, 'delivery-forged', 'not-the-secret-at-all');
    expect(forged.status).toBe(401);
    expect((await operations()).length).toBe(1);

    const started = Date.now();
    const res = await webhook('push', payload, 'delivery-v2');
    expect(res.status).toBe(202);
    const body = (await res.json()) as { deployments: { operationId?: string }[] };
    const operationId = body.deployments[0]?.operationId;
    expect(operationId).toBeDefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    // Followed while the build runs: the stream carries the output and ends when the build does.
    const followed = fetch(`${platform.url}/v1/operations/${operationId}/logs?follow=true`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    }).then((r) => r.text());
    expect((await operations())[0]).toMatchObject({ Id: operationId, Type: 'START_DEPLOYMENT' });

    const again = await webhook('push', payload, 'delivery-v2');
    expect(await again.json()).toMatchObject({ handled: 'duplicate delivery' });
    // A push to another branch, and a tag push, deploy nothing.
    await webhook(
      'push',
      pushPayload({ installationId: INSTALLATION, repo: 'acme/web', webUrl: github.webUrl, branch: 'feature', after: commit }),
      'delivery-feature',
    );
    await webhook(
      'push',
      pushPayload({ installationId: INSTALLATION, repo: 'acme/web', webUrl: github.webUrl, tag: 'v2.0.0', after: commit }),
      'delivery-tag',
    );

    const op = await operationEnded(operationId!);
    expect(op.Status, JSON.stringify(op)).toBe('SUCCEEDED');
    expect((await operations()).length).toBe(2);
    const after: string = (await container()).image;
    expect(after).not.toBe(before);
    expect(after.split('@')[1]).toBe(
      await registryDigest(`${registry.host}/${tenant.accountId}/${serviceId}:${commit.slice(0, 12)}`, { tlsVerify: false }),
    );
    expect((await logsOf(operationId!)).text).toContain(commit);
    const streamed = await followed;
    expect(streamed).toContain('building e2e-marker');
    expect(streamed).toContain('==> Pushed');
  }, 150_000);

  it('a failing build leaves the running version serving and fails the operation with the build reason', async () => {
    const before: string = (await container()).image;
    const commit = await repo.commitFiles({ 'apprunner.yaml': appYaml('v3', 'echo compiling && exit 3') }, 'broken build');
    const res = await webhook(
      'push',
      pushPayload({ installationId: INSTALLATION, repo: 'acme/web', webUrl: github.webUrl, branch: 'main', after: commit }),
      'delivery-v3',
    );
    const operationId = ((await res.json()) as { deployments: { operationId?: string }[] }).deployments[0]?.operationId;
    const op = await operationEnded(operationId!);
    // App Runner's outcome of a failed deployment of a running service: the previous version serves on.
    expect(op.Status).toBe('ROLLBACK_SUCCEEDED');
    expect(op.ErrorMessage).toMatch(/exited with code 3/);
    expect((await describeService()).Status).toBe('RUNNING');
    expect((await container()).image).toBe(before);
    expect((await logsOf(operationId!)).text).toContain('compiling');
  }, 150_000);

  it('UpdateService with a bad apprunner.yaml fails with line-numbered errors, and the service keeps running', async () => {
    const before: string = (await container()).image;
    await repo.commitFiles(
      { 'apprunner.yaml': 'version: 1.0\nruntime: nodejs18\nrun:\n  command: httpd\n  network:\n    port: eighty\n' },
      'bad config',
    );
    const updated = await tenant.client.send(
      new UpdateServiceCommand({ ServiceArn: serviceArn, InstanceConfiguration: { Cpu: '1024', Memory: '2048' } }),
    );
    const op = await operationEnded(updated.OperationId!);
    expect(op.Status).toBe('ROLLBACK_SUCCEEDED');
    expect(op.ErrorMessage).toMatch(/apprunner\.yaml:6:\d+/);
    expect((await describeService()).Status).toBe('RUNNING');
    expect((await container()).image).toBe(before);
    await platform.worker()!.get(SourceBuilds).idle();
  }, 150_000);

  it('a push while a deployment runs is kept and deployed when it ends: the newest commit, nothing lost', async () => {
    const first = await repo.commitFiles({ 'apprunner.yaml': appYaml('v4'), 'index.html': '<h1>v4</h1>\n' }, 'v4');
    const res1 = await webhook(
      'push',
      pushPayload({ installationId: INSTALLATION, repo: 'acme/web', webUrl: github.webUrl, branch: 'main', after: first }),
      'delivery-v4',
    );
    const op1 = ((await res1.json()) as { deployments: { operationId?: string }[] }).deployments[0]?.operationId;
    expect(op1).toBeDefined();
    const second = await repo.commitFiles({ 'index.html': '<h1>v5</h1>\n' }, 'v5');
    const res2 = await webhook(
      'push',
      pushPayload({ installationId: INSTALLATION, repo: 'acme/web', webUrl: github.webUrl, branch: 'main', after: second }),
      'delivery-v5',
    );
    expect(((await res2.json()) as { deployments: { deferred?: boolean }[] }).deployments[0]).toMatchObject({ deferred: true });
    expect((await operationEnded(op1!)).Status).toBe('SUCCEEDED');
    // Operations are newest first: the deferred push became the next deployment.
    const next = await waitFor(
      async () => {
        const [newest] = await operations();
        return newest.Id !== op1 && newest.Type === 'START_DEPLOYMENT' ? newest : undefined;
      },
      'the deferred deployment',
      30_000,
    );
    const op2 = await operationEnded(next.Id);
    expect(op2.Status).toBe('SUCCEEDED');
    expect(op2.Id).not.toBe(op1);
    expect((await container()).image.split('@')[1]).toBe(
      await registryDigest(`${registry.host}/${tenant.accountId}/${serviceId}:${second.slice(0, 12)}`, { tlsVerify: false }),
    );
  }, 200_000);

  it('ConfigurationSource API with a SourceDirectory: builds that directory with the API values; a failed first build is CREATE_FAILED', async () => {
    const source = (directory: string, build: string) => ({
      CodeRepository: {
        RepositoryUrl: `${github.webUrl}/acme/mono`,
        SourceCodeVersion: { Type: 'BRANCH' as const, Value: 'main' },
        SourceDirectory: directory,
        CodeConfiguration: {
          ConfigurationSource: 'API' as const,
          CodeConfigurationValues: {
            Runtime: 'NODEJS_18' as const,
            BuildCommand: build,
            StartCommand: 'httpd -f -p 9000 -h /app',
            Port: '9000',
            RuntimeEnvironmentVariables: { MODE: 'api' },
          },
        },
      },
      AutoDeploymentsEnabled: false,
      AuthenticationConfiguration: { ConnectionArn: connectionArn },
    });
    const ok = await tenant.client.send(
      new CreateServiceCommand({
        ServiceName: 'mono-api',
        SourceConfiguration: source('services/api', 'test -f /app/index.html && ! test -e /app/README.md'),
      }),
    );
    const op = await operationEnded(ok.OperationId!, ok.Service!.ServiceArn!);
    expect(op.Status, JSON.stringify(op)).toBe('SUCCEEDED');
    const dep = (await kube.get<any>('apps/v1', 'Deployment', `svc-${ok.Service!.ServiceId}`, ns))?.spec;
    const c = dep.template.spec.containers[0];
    expect(c.ports[0].containerPort).toBe(9000);
    expect(c.env.find((e: { name: string }) => e.name === 'MODE')?.value).toBe('api');
    expect(c.command.join(' ')).toContain('httpd -f -p 9000');
    expect((await logsOf(ok.OperationId!)).text).toContain('the API (CodeConfigurationValues)');

    const failed = await tenant.client.send(
      new CreateServiceCommand({ ServiceName: 'mono-broken', SourceConfiguration: source('services/api', 'echo broken; exit 7') }),
    );
    const failedOp = await operationEnded(failed.OperationId!, failed.Service!.ServiceArn!);
    expect(failedOp.Status).toBe('FAILED');
    expect(failedOp.ErrorMessage).toMatch(/exited with code 7/);
    const status = (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: failed.Service!.ServiceArn! }))).Service!.Status;
    expect(status).toBe('CREATE_FAILED');
    expect(await kube.get('apps/v1', 'Deployment', `svc-${failed.Service!.ServiceId}`, ns)).toBeUndefined();
  }, 150_000);

  it('installation events: an uninstalled app leaves the connection in ERROR; Bitbucket connections cannot complete a handshake', async () => {
    const res = await webhook(
      'installation',
      installationPayload({ action: 'deleted', installationId: INSTALLATION, account: 'acme', webUrl: github.webUrl }),
      'delivery-uninstall',
    );
    expect(res.status).toBe(202);
    const listed = await tenant.client.send(new ListConnectionsCommand({ ConnectionName: 'acme-github' }));
    expect(listed.ConnectionSummaryList?.[0]?.Status).toBe('ERROR');
    // No deployment from pushes on an ERROR connection.
    const commit = await repo.commitFiles({ 'index.html': '<h1>v6</h1>\n' }, 'v6');
    const push = await webhook(
      'push',
      pushPayload({ installationId: INSTALLATION, repo: 'acme/web', webUrl: github.webUrl, branch: 'main', after: commit }),
      'delivery-v6',
    );
    expect(((await push.json()) as { deployments: unknown[] }).deployments).toEqual([]);

    const bitbucket = await tenant.client.send(
      new CreateConnectionCommand({ ConnectionName: 'acme-bitbucket', ProviderType: 'BITBUCKET' }),
    );
    expect(bitbucket.Connection?.Status).toBe('PENDING_HANDSHAKE');
    const handshake = await platform.rest(
      tenant.apiKey,
      'POST',
      `/v1/connections/${encodeURIComponent(bitbucket.Connection!.ConnectionArn!)}/handshake`,
    );
    expect(handshake.status).toBe(400);
    expect(handshake.body.message).toContain('BITBUCKET connections are not supported');
  });
});
