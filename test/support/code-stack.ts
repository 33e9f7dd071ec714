import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeClient } from '@apprunner/kubernetes';
import { buildBaseImage, type LocalRegistry, startLocalRegistry } from '../doubles/registry/local-registry';
import { generateAppKeyPair, type GitHubStub, type GitHubStubUser, startGitHubStub } from '../doubles/github';
import { startTestPlatform, type TestPlatform, type TestTenant } from './platform';
import { adminKube, type TestClusterInfo } from './cluster';

export interface CodeStack {
  dir: string;
  /** Where bare repositories go (`<reposDir>/<owner>/<repo>.git`, see createBareRepo). */
  reposDir: string;
  registry: LocalRegistry;
  github: GitHubStub;
  /** The real cluster, as its admin (the worker authorizes as the chart's ServiceAccount). */
  kube: KubeClient;
  platform: TestPlatform;
  webhookSecret: string;
  /** The App's OAuth client credentials the platform is configured with (the stub checks them). */
  clientId: string;
  clientSecret: string;
  /**
   * A connection of `tenant` made AVAILABLE through the handshake and the App's setup callback, as the user who
   * installed the App (`installer`, default the installation's account) authorizes it during the installation.
   */
  connect(tenant: TestTenant, name: string, installationId: number, installer?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Everything a code-based service needs, with real parts, for end-to-end tests and the build benchmark: a
 * docker-registry on loopback, a busybox base image standing in for the NODEJS_18 runtime image, a local GitHub
 * (App API + git over HTTP) serving the repositories `seed` creates, the real test cluster, and the platform
 * configured for them (buildah driver).
 */
export async function startCodeStack(opts: {
  installations: { id: number; account: string; repositories: string[] }[];
  /** GitHub users who can authorize the App; default: one per installation account, who can access that installation. */
  users?: GitHubStubUser[];
  seed: (reposDir: string) => Promise<void>;
  env?: Record<string, string>;
  cluster: TestClusterInfo;
}): Promise<CodeStack> {
  const dir = await mkdtemp(join(tmpdir(), 'apprunner-code-stack-'));
  const reposDir = join(dir, 'repos');
  const webhookSecret = 'code-stack-webhook-secret-0123456789';
  const registry = await startLocalRegistry();
  const base = await buildBaseImage(registry.host, { root: join(dir, 'builds', 'storage'), runroot: join(dir, 'builds', 'run') });
  const keys = await generateAppKeyPair();
  await opts.seed(reposDir);
  const clientId = 'Iv1.c0de57ac4e2e0001';
  const clientSecret = 'code-stack-client-secret-0123456789abcdef';
  const users = opts.users ?? defaultUsers(opts.installations);
  const github = await startGitHubStub({
    appId: '1001',
    publicKeyPem: keys.publicKeyPem,
    repositoriesDir: reposDir,
    installations: opts.installations,
    clientId,
    clientSecret,
    users,
  });
  const kube = await adminKube(opts.cluster);
  const platform = await startTestPlatform({
    cluster: { info: opts.cluster },
    pollMs: 100,
    env: {
      GITHUB_APP_ID: '1001',
      GITHUB_APP_PRIVATE_KEY: keys.privateKeyPem,
      GITHUB_APP_SLUG: 'apprunner-e2e',
      GITHUB_WEBHOOK_SECRET: webhookSecret,
      GITHUB_CLIENT_ID: clientId,
      GITHUB_CLIENT_SECRET: clientSecret,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_WEB_URL: github.webUrl,
      BUILD_REGISTRY: registry.host,
      BUILD_REGISTRY_INSECURE: 'true',
      BUILD_STORAGE_DIR: join(dir, 'builds'),
      BUILD_RUNTIME_IMAGES: JSON.stringify({ NODEJS_18: base }),
      ...opts.env,
    },
  });
  return {
    dir,
    reposDir,
    registry,
    github,
    kube,
    platform,
    webhookSecret,
    clientId,
    clientSecret,
    async connect(tenant, name, installationId, installer) {
      const { CreateConnectionCommand } = await import('@aws-sdk/client-apprunner');
      const created = await tenant.client.send(new CreateConnectionCommand({ ConnectionName: name, ProviderType: 'GITHUB' }));
      const arn = created.Connection!.ConnectionArn!;
      const handshake = await platform.rest(tenant.apiKey, 'POST', `/v1/connections/${encodeURIComponent(arn)}/handshake`);
      const state = new URL(handshake.body.HandshakeUrl).searchParams.get('state')!;
      const login = installer ?? opts.installations.find((i) => i.id === installationId)?.account;
      if (!login) throw new Error(`connect(${name}): installation ${installationId} is not in the stack; name the installer`);
      const code = github.authorize(login);
      const setup = await fetch(
        `${platform.url}/github/setup?code=${code}&installation_id=${installationId}&setup_action=install&state=${encodeURIComponent(state)}`,
      );
      if (setup.status !== 200) throw new Error(`handshake of ${name} failed: ${await setup.text()}`);
      return arn;
    },
    async close() {
      const tenants = await platform.prisma.tenant.findMany({ select: { accountId: true } });
      await platform.close();
      for (const { accountId } of tenants)
        await kube.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `apprunner-${accountId}` } }).catch(() => undefined);
      await github.stop();
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One user per installation account, who can access the installations of that account (as its owner or an org admin). */
function defaultUsers(installations: { id: number; account: string }[]): GitHubStubUser[] {
  const byAccount = new Map<string, number[]>();
  for (const i of installations) byAccount.set(i.account, [...(byAccount.get(i.account) ?? []), i.id]);
  return [...byAccount].map(([login, ids]) => ({ login, installations: ids }));
}
