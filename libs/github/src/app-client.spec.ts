import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubApiError, GitHubAppClient, type GitHubAppSettings } from './app-client';
import { isolatedGitEnv, runGit } from './git';
import {
  type AppKeyPair,
  type BareRepo,
  createBareRepo,
  generateAppKeyPair,
  type GitHubStub,
  signedWebhookRequest,
  startGitHubStub,
} from '../../../test/doubles/github';

const APP_ID = '424242';
const CLIENT_ID = 'Iv1.0123456789abcdef';
const CLIENT_SECRET = '0123456789abcdef0123456789abcdef01234567';
/** More installations than one page of GET /user/installations holds (100). */
const MANY = Array.from({ length: 150 }, (_, i) => 1_000 + i);

describe('GitHubAppClient against the GitHub stub', () => {
  let dir: string;
  let keys: AppKeyPair;
  let repo: BareRepo;
  let stub: GitHubStub;
  let ghe: GitHubStub;

  const settings = (s: GitHubStub, overrides: Partial<GitHubAppSettings> = {}): GitHubAppSettings => ({
    appId: APP_ID,
    privateKey: keys.privateKeyPem,
    webhookSecret: 'a-webhook-secret-of-some-length',
    slug: 'apprunner-k8s',
    apiUrl: s.apiUrl,
    webUrl: s.webUrl,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    ...overrides,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'github-client-spec-'));
    keys = await generateAppKeyPair();
    repo = await createBareRepo(dir, 'acme/web', { 'app.py': 'print("v1")\n' });
    await createBareRepo(dir, 'other/secret', { 'README.md': 'not yours\n' });
    const installations = [
      { id: 11, account: 'acme', repositories: ['acme/web'] },
      { id: 12, account: 'other', repositories: ['other/secret'] },
      { id: 13, account: 'sleepy', repositories: ['acme/web'] },
      ...MANY.map((id) => ({ id, account: `org-${id}`, repositories: [] })),
    ];
    const users = [
      { login: 'mona', installations: [11, 13] },
      { login: 'nobody', installations: [] },
      { login: 'busy', installations: [...MANY, 12] },
    ];
    const common = {
      appId: APP_ID,
      publicKeyPem: keys.publicKeyPem,
      repositoriesDir: dir,
      installations,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      users,
    };
    stub = await startGitHubStub(common);
    ghe = await startGitHubStub({ ...common, apiPathPrefix: '/api/v3' });
  });

  afterAll(async () => {
    await stub?.stop();
    await ghe?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('builds the installation URL from webUrl and the slug, carrying the state', () => {
    const client = new GitHubAppClient(settings(stub, { webUrl: 'https://ghe.example.com/' }));
    expect(client.installationUrl('v1.abc.123.x-y_z')).toBe(
      'https://ghe.example.com/apps/apprunner-k8s/installations/new?state=v1.abc.123.x-y_z',
    );
    expect(new GitHubAppClient(settings(stub, { webUrl: 'https://github.com' })).installationUrl('a b&c')).toBe(
      'https://github.com/apps/apprunner-k8s/installations/new?state=a+b%26c',
    );
  });

  it('finds an installation with the App JWT, and answers undefined for an unknown one', async () => {
    const client = new GitHubAppClient(settings(stub));
    await expect(client.getInstallation(11)).resolves.toEqual({ id: 11, account: 'acme', suspended: false });
    await expect(client.getInstallation(999)).resolves.toBeUndefined();
  });

  it('issues a fresh token per call that the git endpoint accepts for the granted repository only', async () => {
    const client = new GitHubAppClient(settings(stub));
    const before = stub.issuedTokens().length;
    const token = await client.installationToken(11);
    const again = await client.installationToken(11);
    expect(token).toMatch(/^ghs_[A-Za-z0-9]{36}$/);
    expect(again).not.toBe(token);
    expect(stub.issuedTokens().slice(before)).toEqual([token, again]);

    const lsRemote = async (path: string, secret: string) => {
      const home = await mkdtemp(join(tmpdir(), 'github-client-home-'));
      try {
        const basic = Buffer.from(`x-access-token:${secret}`).toString('base64');
        const env = isolatedGitEnv(home, [['http.extraHeader', `Authorization: Basic ${basic}`]]);
        return await runGit(['ls-remote', `${stub.gitBaseUrl}/${path}`], { env, timeoutMs: 20_000 });
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    };
    const ok = await lsRemote('acme/web.git', token);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`${repo.commit}\trefs/heads/main`);
    // Another installation's repository: GitHub says "not found", not "forbidden".
    const other = await lsRemote('other/secret.git', token);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/not found/);
    // A token GitHub never issued.
    const forged = await lsRemote('acme/web.git', 'ghs_forgedforgedforgedforgedforgedforge');
    expect(forged.code).not.toBe(0);
    expect(forged.stderr).toMatch(/could not read Username|Authentication failed/);
  });

  it('reads the commit a branch points to, and follows the branch as it moves', async () => {
    const client = new GitHubAppClient(settings(stub));
    await expect(client.branchHead(11, 'https://127.0.0.1/acme/web', 'main')).rejects.toThrow(/is not on http:\/\/127\.0\.0\.1:\d+/);
    await expect(client.branchHead(11, `${stub.webUrl}/acme/web`, 'main')).resolves.toBe(repo.commit);
    const moved = await repo.commitFiles({ 'app.py': 'print("v2")\n' }, 'v2');
    // Case and .git do not matter, as on GitHub.
    await expect(client.branchHead(11, `${stub.webUrl}/Acme/Web.git`, 'main')).resolves.toBe(moved);
  });

  it('reads branches whose names contain slashes, and prefers the branch over a tag of the same name', async () => {
    const client = new GitHubAppClient(settings(stub));
    const env = isolatedGitEnv(dir);
    await runGit(['--git-dir', repo.path, 'update-ref', 'refs/heads/release/v2', repo.commit], { env });
    const mainHead = await client.branchHead(11, `${stub.webUrl}/acme/web`, 'main');
    expect(mainHead).not.toBe(repo.commit);
    await runGit(['--git-dir', repo.path, 'update-ref', 'refs/tags/release/v2', mainHead], { env });
    await expect(client.branchHead(11, `${stub.webUrl}/acme/web`, 'release/v2')).resolves.toBe(repo.commit);
    expect(stub.requests()).toContain('GET /repos/acme/web/commits/heads/release/v2');
  });

  it('names a missing branch and an inaccessible repository', async () => {
    const client = new GitHubAppClient(settings(stub));
    const missingBranch = await client.branchHead(11, `${stub.webUrl}/acme/web`, 'nope').catch((e: unknown) => e);
    expect(missingBranch).toBeInstanceOf(GitHubApiError);
    expect(missingBranch).toMatchObject({ kind: 'BRANCH_NOT_FOUND', status: 422, message: 'Branch "nope" was not found in acme/web' });
    const elsewhere = await client.branchHead(11, `${stub.webUrl}/other/secret`, 'main').catch((e: unknown) => e);
    expect(elsewhere).toMatchObject({ kind: 'REPOSITORY_NOT_FOUND', status: 404, transient: false });
    expect((elsewhere as Error).message).toMatch(/other\/secret was not found, or GitHub App installation 11 has no access/);
  });

  it('reports a JWT signed with the wrong key as rejected App credentials (401)', async () => {
    const wrong = await generateAppKeyPair();
    const client = new GitHubAppClient(settings(stub, { privateKey: wrong.privateKeyPem }));
    const lookup = await client.getInstallation(11).catch((e: unknown) => e);
    expect(lookup).toBeInstanceOf(GitHubApiError);
    expect(lookup).toMatchObject({ kind: 'APP_CREDENTIALS_REJECTED', status: 401, transient: false });
    expect((lookup as Error).message).toMatch(
      /GitHub rejected the App's credentials \(401: A JSON web token could not be decoded\)\. Check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY/,
    );
    await expect(client.installationToken(11)).rejects.toMatchObject({ kind: 'APP_CREDENTIALS_REJECTED' });
    // The wrong App id is refused just the same.
    await expect(new GitHubAppClient(settings(stub, { appId: '1' })).getInstallation(11)).rejects.toMatchObject({
      kind: 'APP_CREDENTIALS_REJECTED',
    });
  });

  it('reports suspended and unknown installations when asked for a token', async () => {
    const client = new GitHubAppClient(settings(stub));
    const token = await client.installationToken(13);
    stub.suspend(13);
    try {
      await expect(client.getInstallation(13)).resolves.toEqual({ id: 13, account: 'sleepy', suspended: true });
      await expect(client.installationToken(13)).rejects.toMatchObject({ kind: 'INSTALLATION_SUSPENDED', status: 403 });
      await expect(new GitHubAppClient(settings(stub)).branchHead(13, `${stub.webUrl}/acme/web`, 'main')).rejects.toMatchObject({
        kind: 'INSTALLATION_SUSPENDED',
      });
      // Tokens issued before the suspension stop working too.
      const res = await fetch(`${stub.apiUrl}/repos/acme/web/commits/main`, { headers: { authorization: `token ${token}` } });
      expect(res.status).toBe(401);
    } finally {
      stub.unsuspend(13);
    }
    await expect(client.installationToken(404_404)).rejects.toMatchObject({ kind: 'INSTALLATION_NOT_FOUND', status: 404 });
    // branchHead creates its token lazily; a vanished installation is named as such, not as a missing repository.
    await expect(client.branchHead(404_404, `${stub.webUrl}/acme/web`, 'main')).rejects.toMatchObject({ kind: 'INSTALLATION_NOT_FOUND' });
  });

  it('works against a GitHub Enterprise style API under /api/v3', async () => {
    expect(ghe.apiUrl).toMatch(/\/api\/v3$/);
    const client = new GitHubAppClient(settings(ghe));
    await expect(client.getInstallation(11)).resolves.toEqual({ id: 11, account: 'acme', suspended: false });
    await expect(client.getInstallation(999)).resolves.toBeUndefined();
    const head = await client.branchHead(11, `${ghe.webUrl}/acme/web`, 'main');
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    expect(ghe.requests()).toEqual(
      expect.arrayContaining([
        'GET /api/v3/app/installations/11',
        'POST /api/v3/app/installations/11/access_tokens',
        'GET /api/v3/repos/acme/web/commits/heads/main',
      ]),
    );
    // Nothing went to the root, where github.com's API would live.
    expect(ghe.requests().filter((r) => !r.includes('/api/v3/'))).toEqual([]);
  });

  it('serves GitHub-shaped JSON from the stub (installation, token, commit)', async () => {
    const client = new GitHubAppClient(settings(stub));
    const token = await client.installationToken(11);
    const res = await fetch(`${stub.apiUrl}/repos/acme/web/commits/heads/main`, {
      headers: { authorization: `token ${token}`, accept: 'application/vnd.github+json' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-github-request-id')).toBeTruthy();
    const body = (await res.json()) as any;
    expect(body.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(body.commit).toMatchObject({
      message: 'v2',
      author: { name: 'Mona Lisa', email: 'mona@example.com' },
      tree: { sha: expect.stringMatching(/^[0-9a-f]{40}$/) },
    });
    expect(body.parents).toEqual([expect.objectContaining({ sha: repo.commit })]);
    const unauthenticated = await fetch(`${stub.apiUrl}/repos/acme/web/commits/main`);
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ message: 'Bad credentials' });
  });

  it('lists the installations of the user who authorized a code, and the code works once', async () => {
    const client = new GitHubAppClient(settings(stub));
    const code = stub.authorize('mona');
    expect(code).toMatch(/^[0-9a-f]{20}$/);
    await expect(client.userInstallationIds(code)).resolves.toEqual(new Set([11, 13]));
    await expect(client.userInstallationIds(stub.authorize('nobody'))).resolves.toEqual(new Set());
    // A code is single-use, as on GitHub: replaying the callback gets nothing.
    const replay = await client.userInstallationIds(code).catch((e: unknown) => e);
    expect(replay).toBeInstanceOf(GitHubApiError);
    expect(replay).toMatchObject({ kind: 'AUTHORIZATION_CODE_REJECTED', transient: false });
  });

  it('names a bad or expired code, and refuses a malformed one without asking GitHub', async () => {
    const client = new GitHubAppClient(settings(stub));
    const bad = await client.userInstallationIds('0123456789abcdef0123').catch((e: unknown) => e);
    expect(bad).toMatchObject({ kind: 'AUTHORIZATION_CODE_REJECTED', status: 200 });
    expect((bad as Error).message).toBe(
      'Exchanging the authorization code of the setup callback for a GitHub user access token failed: GitHub refused the code ' +
        '(bad_verification_code: The code passed is incorrect or expired.). A code is valid once, for ten minutes.',
    );
    const before = stub.requests().length;
    await expect(client.userInstallationIds('a b')).rejects.toMatchObject({
      kind: 'AUTHORIZATION_CODE_REJECTED',
      message: expect.stringMatching(/the code is malformed$/),
    });
    await expect(client.userInstallationIds('')).rejects.toMatchObject({ kind: 'AUTHORIZATION_CODE_REJECTED' });
    expect(stub.requests().length).toBe(before);
  });

  it("reports wrong OAuth client credentials as the App's credentials, naming the settings", async () => {
    const code = stub.authorize('mona');
    const wrong = new GitHubAppClient(settings(stub, { clientSecret: 'ffffffffffffffffffffffffffffffffffffffff' }));
    const refused = await wrong.userInstallationIds(code).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GitHubApiError);
    expect(refused).toMatchObject({ kind: 'APP_CREDENTIALS_REJECTED', transient: false });
    expect((refused as Error).message).toMatch(
      /incorrect_client_credentials: The client_id and\/or client_secret passed are incorrect\.\)\. Check GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET\.$/,
    );
    // The secret never shows in what the caller sees.
    expect((refused as Error).message).not.toContain('ffffffff');
    await expect(new GitHubAppClient(settings(stub, { clientId: 'Iv1.other' })).userInstallationIds(code)).rejects.toMatchObject({
      kind: 'APP_CREDENTIALS_REJECTED',
    });
    // Unconfigured credentials are a platform setting, not something to send to GitHub.
    expect(new GitHubAppClient(settings(stub, { clientSecret: undefined })).userAuthorizationConfigured).toBe(false);
    await expect(new GitHubAppClient(settings(stub, { clientSecret: undefined })).userInstallationIds(code)).rejects.toThrow(
      /GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET/,
    );
    // A refused exchange did not use the code up.
    await expect(new GitHubAppClient(settings(stub)).userInstallationIds(code)).resolves.toEqual(new Set([11, 13]));
  });

  it("follows the Link header over every page of the user's installations", async () => {
    const client = new GitHubAppClient(settings(stub));
    const before = stub.requests().length;
    const ids = await client.userInstallationIds(stub.authorize('busy'));
    expect(ids).toEqual(new Set([...MANY, 12]));
    expect(stub.requests().slice(before)).toEqual(['POST /login/oauth/access_token', 'GET /user/installations', 'GET /user/installations']);
  });

  it('exchanges on the web host and lists on the API path of GitHub Enterprise Server', async () => {
    const client = new GitHubAppClient(settings(ghe));
    const before = ghe.requests().length;
    await expect(client.userInstallationIds(ghe.authorize('mona'))).resolves.toEqual(new Set([11, 13]));
    expect(ghe.requests().slice(before)).toEqual(['POST /login/oauth/access_token', 'GET /api/v3/user/installations']);
  });

  it('serves the OAuth exchange and the user installations as GitHub does (form answer by default, Link pages, user tokens only)', async () => {
    const form = new URLSearchParams({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code: stub.authorize('busy') });
    const exchanged = await fetch(`${stub.webUrl}/login/oauth/access_token`, { method: 'POST', body: form });
    expect(exchanged.status).toBe(200);
    expect(exchanged.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    const answer = new URLSearchParams(await exchanged.text());
    expect(answer.get('token_type')).toBe('bearer');
    const token = answer.get('access_token')!;
    expect(token).toMatch(/^ghu_[A-Za-z0-9]{36}$/);
    // JSON bodies are accepted too; errors come with HTTP 200.
    const json = await fetch(`${stub.webUrl}/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code: 'used-or-unknown' }),
    });
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({
      error: 'bad_verification_code',
      error_description: 'The code passed is incorrect or expired.',
    });

    const page2 = await fetch(`${stub.apiUrl}/user/installations?per_page=2&page=2`, { headers: { authorization: `Bearer ${token}` } });
    expect(page2.status).toBe(200);
    const body = (await page2.json()) as any;
    expect(body.total_count).toBe(151);
    expect(body.installations.map((i: any) => i.id)).toEqual([1_002, 1_003]);
    expect(body.installations[0].account).toMatchObject({ login: 'org-1002' });
    const link = (rel: string) =>
      new RegExp(`<${stub.apiUrl}/user/installations\\?per_page=2&page=(\\d+)>; rel="${rel}"`).exec(page2.headers.get('link') ?? '')?.[1];
    expect([link('prev'), link('next'), link('last'), link('first')]).toEqual(['1', '3', '76', '1']);
    const lastPage = await fetch(`${stub.apiUrl}/user/installations?per_page=2&page=76`, { headers: { authorization: `token ${token}` } });
    expect(lastPage.headers.get('link')).not.toMatch(/rel="next"/);

    const installationToken = await new GitHubAppClient(settings(stub)).installationToken(11);
    const withInstallationToken = await fetch(`${stub.apiUrl}/user/installations`, {
      headers: { authorization: `Bearer ${installationToken}` },
    });
    expect(withInstallationToken.status).toBe(403);
    expect((await fetch(`${stub.apiUrl}/user/installations`, { headers: { authorization: 'Bearer ghu_forged' } })).status).toBe(401);
  });

  it('maps failures of the user endpoints and never follows a next page off the API', async () => {
    let link = '';
    let listStatus = 200;
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/login/oauth/access_token')
        return res.end(JSON.stringify({ access_token: 'ghu_test', token_type: 'bearer', scope: '' }));
      res.statusCode = listStatus;
      if (link) res.setHeader('link', link);
      res.end(
        JSON.stringify(
          listStatus === 200 ? { total_count: 1, installations: [{ id: 5, account: { login: 'x' } }] } : { message: 'Server Error' },
        ),
      );
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const client = new GitHubAppClient(settings(stub, { apiUrl: base, webUrl: base }));
      await expect(client.userInstallationIds('abc')).resolves.toEqual(new Set([5]));
      link = '<http://127.0.0.2:9/user/installations?page=2>; rel="next"';
      await expect(client.userInstallationIds('abc')).rejects.toMatchObject({
        kind: 'UNEXPECTED',
        message: expect.stringMatching(/next page to http:\/\/127\.0\.0\.2:9\/user\/installations, not http:\/\/127\.0\.0\.1/),
      });
      link = '';
      listStatus = 502;
      await expect(client.userInstallationIds('abc')).rejects.toMatchObject({ kind: 'UNAVAILABLE', status: 502, transient: true });
      listStatus = 401;
      await expect(client.userInstallationIds('abc')).rejects.toMatchObject({
        kind: 'TOKEN_REJECTED',
        message: expect.stringMatching(/rejected the user access token \(401/),
      });
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
    const unreachable = new GitHubAppClient(settings(stub, { apiUrl: base, webUrl: base, requestTimeoutMs: 2_000 }));
    await expect(unreachable.userInstallationIds('abc')).rejects.toMatchObject({
      kind: 'UNAVAILABLE',
      message: expect.stringMatching(/did not answer/),
    });
  });

  it('verifies webhook deliveries with the configured secret', async () => {
    const client = new GitHubAppClient(settings(stub));
    const good = signedWebhookRequest('a-webhook-secret-of-some-length', 'ping', { zen: 'Design for failure.' });
    const bad = signedWebhookRequest('some-other-secret-value', 'ping', { zen: 'Design for failure.' });
    await expect(client.verifyWebhook(good.body, good.headers['x-hub-signature-256'])).resolves.toBe(true);
    await expect(client.verifyWebhook(bad.body, bad.headers['x-hub-signature-256'])).resolves.toBe(false);
  });

  it('refuses settings that cannot work', () => {
    expect(() => new GitHubAppClient(settings(stub, { appId: 'my-app' }))).toThrow(/numeric/);
    expect(() => new GitHubAppClient(settings(stub, { privateKey: 'not a key' }))).toThrow(/PEM/);
  });
});
