import { describe, expect, it, vi } from 'vitest';
import { formatArn, InvalidRequestException, loadConfig, SystemClock } from '@apprunner/core';
import { GitHubApiError, type GitHubAppClient, signHandshakeState } from '@apprunner/github';
import type { ConnectionRepository, Database, ServiceRepository } from '@apprunner/persistence';
import type { TagService } from '@apprunner/tag';
import type { CallContext, TenantLock } from '@apprunner/tenancy';
import { ConnectionService } from './connection.service';
import { handshakeKey } from './github-app.provider';

/**
 * The checks of the handshake that come before the database: the App's OAuth client settings, and the setup
 * callback's user authorization. Binding and the tenant rules run against PostgreSQL in test/e2e-build.
 */
const BASE_ENV = { MASTER_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=', ADMIN_TOKEN: '0123456789abcdef0123456789abcdef' };
const OAUTH_ENV = { GITHUB_CLIENT_ID: 'Iv1.0123456789abcdef', GITHUB_CLIENT_SECRET: '0123456789abcdef0123456789abcdef01234567' };
const TENANT = { id: 't1', name: 'team', accountId: '123456789012', region: 'us-east-1', partition: 'aws' };
const ARN = formatArn(TENANT, 'connection', 'gh', 'abc');
const CTX: CallContext = { tenant: TENANT, principal: 'AKIA', requestId: 'r1' };

function setup(env: Record<string, string>, github: Partial<GitHubAppClient> | null) {
  const config = loadConfig({ ...BASE_ENV, ...env });
  const row = { id: 'conn-1', arn: ARN, tenantId: TENANT.id, connectionName: 'gh', providerType: 'GITHUB', status: 'PENDING_HANDSHAKE' };
  const transaction = vi.fn(() => Promise.reject(new Error('no database in this test: the checks must refuse first')));
  const database = { transaction } as unknown as Database;
  const connections = { findLiveByArn: vi.fn(async () => row) } as unknown as ConnectionRepository;
  const service = new ConnectionService(
    database,
    connections,
    {} as ServiceRepository,
    {} as TenantLock,
    {} as TagService,
    new SystemClock(),
    config,
    github as GitHubAppClient | null,
  );
  const state = signHandshakeState(handshakeKey(config), row.id, new Date(), 600);
  return { service, state, transaction };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('ConnectionService handshake checks', () => {
  const github = (ids: number[] | Error) => ({
    installationUrl: (state: string) => `https://github.com/apps/x/installations/new?state=${state}`,
    userInstallationIds: vi.fn(async () => {
      if (ids instanceof Error) throw ids;
      return new Set(ids);
    }),
    getInstallation: vi.fn(async (id: number) => ({ id, account: 'acme', suspended: false })),
  });

  it('refuses handshakes, naming the missing settings, while the App has no OAuth client credentials', async () => {
    const none = await refusal(setup({}, github([7])).service.handshake(CTX, ARN));
    expect(none).toBeInstanceOf(InvalidRequestException);
    expect((none as Error).message).toMatch(
      /^GitHub user authorization is not configured on this platform \(GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET: the App's OAuth client credentials\)/,
    );
    const secretOnly = await refusal(setup({ GITHUB_CLIENT_ID: OAUTH_ENV.GITHUB_CLIENT_ID }, github([7])).service.handshake(CTX, ARN));
    expect((secretOnly as Error).message).toContain('(GITHUB_CLIENT_SECRET: ');
    // The callback is refused the same way (settings removed after the link was handed out).
    const { service, state } = setup({}, github([7]));
    await expect(service.completeHandshake(state, 7, 'code')).rejects.toThrow(/GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET/);
    // With both, the handshake link is handed out.
    await expect(setup(OAUTH_ENV, github([7])).service.handshake(CTX, ARN)).resolves.toMatchObject({
      ConnectionArn: ARN,
      HandshakeUrl: expect.stringContaining('state='),
    });
  });

  it('requires the code of the installing user, and the installation among theirs', async () => {
    const gh = github([7, 8]);
    const { service, state, transaction } = setup(OAUTH_ENV, gh);
    const noCode = await refusal(service.completeHandshake(state, 7, undefined));
    expect(noCode).toBeInstanceOf(InvalidRequestException);
    expect((noCode as Error).message).toContain("authorize the platform's GitHub App");
    expect(gh.userInstallationIds).not.toHaveBeenCalled();

    const notTheirs = await refusal(service.completeHandshake(state, 9, 'c0de'));
    expect(notTheirs).toBeInstanceOf(InvalidRequestException);
    expect((notTheirs as Error).message).toMatch(/^GitHub installation 9 is not one of yours/);
    expect(gh.userInstallationIds).toHaveBeenCalledWith('c0de');
    expect(gh.getInstallation).not.toHaveBeenCalled();
    expect(transaction).not.toHaveBeenCalled();

    // Theirs: on to the App's own lookup and the binding (the database, absent here).
    await expect(service.completeHandshake(state, 8, 'c0de')).rejects.toThrow(/no database in this test/);
    expect(gh.getInstallation).toHaveBeenCalledWith(8);
  });

  it("answers a refused code as the caller's mistake, and the platform's own failures as errors", async () => {
    const rejected = setup(OAUTH_ENV, github(new GitHubApiError('AUTHORIZATION_CODE_REJECTED', 'bad_verification_code', 200)));
    const e = await refusal(rejected.service.completeHandshake(rejected.state, 7, 'stale'));
    expect(e).toBeInstanceOf(InvalidRequestException);
    expect((e as Error).message).toContain('GitHub refused the authorization code of the setup callback');

    const misconfigured = setup(
      OAUTH_ENV,
      github(new GitHubApiError('APP_CREDENTIALS_REJECTED', 'Check GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET.', 200)),
    );
    const platformFault = await refusal(misconfigured.service.completeHandshake(misconfigured.state, 7, 'c0de'));
    expect(platformFault).toBeInstanceOf(GitHubApiError);
    expect(platformFault).not.toBeInstanceOf(InvalidRequestException);
  });

  it('checks the state before spending the code', async () => {
    const gh = github([7]);
    const { service, state } = setup(OAUTH_ENV, gh);
    await expect(service.completeHandshake(`${state}x`, 7, 'c0de')).rejects.toThrow(/The handshake link is not valid/);
    expect(gh.userInstallationIds).not.toHaveBeenCalled();
  });
});
