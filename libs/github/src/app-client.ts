import { App } from '@octokit/app';
import { Octokit } from '@octokit/core';
import { parseRepositoryUrl, trimTrailingSlashes } from './repository-url';
import { verifyWebhookSignature } from './webhooks';

export interface GitHubAppSettings {
  appId: string;
  /** PEM private key of the App (PKCS#1 as GitHub issues it, or PKCS#8); `\n` escapes are accepted. */
  privateKey: string;
  webhookSecret: string;
  /** The App's slug, for the installation URL. */
  slug: string;
  /** https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server. */
  apiUrl: string;
  /** https://github.com, or https://HOST for GitHub Enterprise Server. */
  webUrl: string;
  /**
   * The App's OAuth client credentials (its settings page, "Client ID" and a generated client secret): they turn
   * the `code` of the setup callback into a user access token. Without them `userInstallationIds` is refused.
   */
  clientId?: string;
  clientSecret?: string;
  /** Per-request timeout of GitHub API calls (default 30 s). */
  requestTimeoutMs?: number;
}

export const GITHUB_DEFAULT_API_URL = 'https://api.github.com';
export const GITHUB_DEFAULT_WEB_URL = 'https://github.com';

export type GitHubApiErrorKind =
  /** The App JWT was refused: wrong App id or private key, or a clock far off. */
  | 'APP_CREDENTIALS_REJECTED'
  | 'INSTALLATION_NOT_FOUND'
  | 'INSTALLATION_SUSPENDED'
  /** Missing, or not among the repositories the installation was granted. GitHub does not tell them apart. */
  | 'REPOSITORY_NOT_FOUND'
  | 'BRANCH_NOT_FOUND'
  /** The installation token, or the user access token, was refused (revoked, expired, installation removed meanwhile). */
  | 'TOKEN_REJECTED'
  /** The `code` of an OAuth authorization is unknown, already used or expired (GitHub: ten minutes). */
  | 'AUTHORIZATION_CODE_REJECTED'
  | 'RATE_LIMITED'
  /** Network failure, timeout or a 5xx: worth retrying. */
  | 'UNAVAILABLE'
  | 'UNEXPECTED';

export class GitHubApiError extends Error {
  override readonly name = 'GitHubApiError';
  constructor(
    readonly kind: GitHubApiErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }

  /** Transient failures are retried with backoff; the others need someone to change something. */
  get transient(): boolean {
    return this.kind === 'RATE_LIMITED' || this.kind === 'UNAVAILABLE';
  }
}

/** GitHub's media type and REST API version, sent with every request made without Octokit. */
const GITHUB_JSON = 'application/vnd.github+json';
const GITHUB_API_VERSION = '2022-11-28';
const USER_AGENT = 'apprunner-k8s';
/** Installations per page of GET /user/installations (GitHub's maximum). */
const USER_INSTALLATIONS_PER_PAGE = 100;
/** A bound on pages followed, so a misbehaving server can't keep the callback busy forever (100 x 100 installations). */
const MAX_USER_INSTALLATION_PAGES = 100;

export interface GitHubInstallation {
  id: number;
  /** Login of the user or organization the App is installed on. */
  account: string;
  suspended: boolean;
}

/**
 * The platform's GitHub App: installation lookups with the App JWT, installation tokens, branch heads.
 * Every URL derives from `apiUrl`/`webUrl`, so GitHub Enterprise Server works by configuration alone.
 */
export class GitHubAppClient {
  private readonly app: App;
  private readonly apiUrl: string;
  private readonly webUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly settings: GitHubAppSettings) {
    if (!/^\d+$/.test(settings.appId)) throw new Error(`GitHub App id must be numeric, got "${settings.appId}"`);
    if (!settings.privateKey.includes('PRIVATE KEY')) throw new Error('GitHub App private key must be a PEM private key');
    if (!/^[a-z0-9][a-z0-9-]*$/.test(settings.slug)) throw new Error(`GitHub App slug "${settings.slug}" is not a valid slug`);
    this.apiUrl = trimTrailingSlashes(settings.apiUrl || GITHUB_DEFAULT_API_URL);
    this.webUrl = trimTrailingSlashes(settings.webUrl || GITHUB_DEFAULT_WEB_URL);
    const timeoutMs = settings.requestTimeoutMs ?? 30_000;
    const fetchWithTimeout: typeof fetch = (input, init) =>
      fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
    this.fetch = fetchWithTimeout;
    this.app = new App({
      appId: Number(settings.appId),
      privateKey: settings.privateKey,
      Octokit: Octokit.defaults({ baseUrl: this.apiUrl, userAgent: USER_AGENT, request: { fetch: fetchWithTimeout } }),
    });
  }

  /** Where a tenant completes a connection handshake: the App's installation page, carrying our signed `state`. */
  installationUrl(state: string): string {
    const url = new URL(`${this.webUrl}/apps/${encodeURIComponent(this.settings.slug)}/installations/new`);
    url.searchParams.set('state', state);
    return url.href;
  }

  /** Checks a webhook delivery against the App's webhook secret (see verifyWebhookSignature). */
  verifyWebhook(rawBody: Buffer | string, signatureHeader: string | undefined): Promise<boolean> {
    return verifyWebhookSignature(this.settings.webhookSecret, rawBody, signatureHeader);
  }

  /** The installation (GET /app/installations/{id}, App JWT); undefined when GitHub does not know it. */
  async getInstallation(installationId: number): Promise<GitHubInstallation | undefined> {
    checkInstallationId(installationId);
    try {
      const { data } = await this.app.octokit.request('GET /app/installations/{installation_id}', { installation_id: installationId });
      const account = data.account && 'login' in data.account ? data.account.login : (data.account?.slug ?? '');
      return { id: data.id, account, suspended: Boolean(data.suspended_at) };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw this.toError(e, `Reading GitHub App installation ${installationId}`);
    }
  }

  /**
   * A fresh installation access token (POST /app/installations/{id}/access_tokens). Fetched on every call and
   * held only in memory by the caller: it lives an hour at most and a new one costs one request.
   */
  async installationToken(installationId: number): Promise<string> {
    checkInstallationId(installationId);
    try {
      const auth = (await this.app.octokit.auth({ type: 'installation', installationId, refresh: true })) as { token?: unknown };
      if (typeof auth.token !== 'string' || !auth.token)
        throw new GitHubApiError('UNEXPECTED', `GitHub returned no token for installation ${installationId}`);
      return auth.token;
    } catch (e) {
      throw this.toError(e, `Creating an access token for GitHub App installation ${installationId}`, 'INSTALLATION_NOT_FOUND');
    }
  }

  /** Whether the App's OAuth client credentials are configured, which `userInstallationIds` needs. */
  get userAuthorizationConfigured(): boolean {
    return Boolean(this.settings.clientId && this.settings.clientSecret);
  }

  /**
   * Ids of the App's installations that the user who authorized `code` can access. The code (sent with the setup
   * callback when the App requests user authorization during installation) is exchanged for a user access token
   * (POST {webUrl}/login/oauth/access_token), which lists them (GET {apiUrl}/user/installations, every page). GitHub
   * warns that the callback's installation_id can be spoofed; this is the check it recommends. The token serves this
   * one listing and is dropped: never stored, logged or put into an error message.
   */
  async userInstallationIds(code: string): Promise<Set<number>> {
    const token = await this.exchangeAuthorizationCode(code);
    const what = 'Listing the GitHub App installations of the user who authorized the setup callback';
    const ids = new Set<number>();
    let url: string | undefined = `${this.apiUrl}/user/installations?per_page=${USER_INSTALLATIONS_PER_PAGE}&page=1`;
    for (let page = 1; url; page++) {
      if (page > MAX_USER_INSTALLATION_PAGES)
        throw new GitHubApiError('UNEXPECTED', `${what} failed: more than ${MAX_USER_INSTALLATION_PAGES} pages`);
      const res = await this.send(
        url,
        {
          headers: {
            accept: GITHUB_JSON,
            authorization: `Bearer ${token}`,
            'user-agent': USER_AGENT,
            'x-github-api-version': GITHUB_API_VERSION,
          },
        },
        what,
      );
      const body = await readJson(res);
      if (!res.ok) throw this.httpError(res, body, what, 'the user access token');
      const installations = (body as { installations?: unknown } | undefined)?.installations;
      if (!Array.isArray(installations))
        throw new GitHubApiError('UNEXPECTED', `${what} failed: GitHub answered without an installations list`, res.status);
      for (const installation of installations) {
        const id = (installation as { id?: unknown } | null)?.id;
        if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) ids.add(id);
      }
      url = this.nextPage(res.headers.get('link'), what);
    }
    return ids;
  }

  /** The user access token for an OAuth `code`; GitHub answers OAuth errors with HTTP 200 and `{error, error_description}`. */
  private async exchangeAuthorizationCode(code: string): Promise<string> {
    const { clientId, clientSecret } = this.settings;
    if (!clientId || !clientSecret)
      throw new Error("The GitHub App's OAuth client credentials are not configured (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET)");
    const what = 'Exchanging the authorization code of the setup callback for a GitHub user access token';
    // GitHub's codes are 20 hex characters; anything unprintable or huge is not worth a request.
    if (!/^[\x21-\x7e]{1,256}$/.test(code))
      throw new GitHubApiError('AUTHORIZATION_CODE_REJECTED', `${what} failed: the code is malformed`);
    const res = await this.send(
      `${this.webUrl}/login/oauth/access_token`,
      {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'user-agent': USER_AGENT },
        body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret, code }).toString(),
      },
      what,
    );
    const body = (await readJson(res)) as { error?: unknown; error_description?: unknown; access_token?: unknown } | undefined;
    if (res.status >= 500 || res.status === 429) throw this.httpError(res, body, what, 'the OAuth client credentials');
    if (typeof body?.error === 'string') {
      const detail = `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 200)}` : ''}`;
      if (body.error === 'bad_verification_code') {
        throw new GitHubApiError(
          'AUTHORIZATION_CODE_REJECTED',
          `${what} failed: GitHub refused the code (${detail}). A code is valid once, for ten minutes.`,
          res.status,
        );
      }
      if (body.error === 'incorrect_client_credentials') {
        throw new GitHubApiError(
          'APP_CREDENTIALS_REJECTED',
          `${what} failed: GitHub rejected the App's OAuth client credentials (${detail}). Check GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET.`,
          res.status,
        );
      }
      throw new GitHubApiError('UNEXPECTED', `${what} failed (${detail})`, res.status);
    }
    if (!res.ok) throw this.httpError(res, body, what, 'the OAuth client credentials');
    if (typeof body?.access_token !== 'string' || !body.access_token)
      throw new GitHubApiError('UNEXPECTED', `${what} failed: GitHub answered without an access token`, res.status);
    return body.access_token;
  }

  /** fetch, with network failures and timeouts as UNAVAILABLE (the request may be retried by starting over). */
  private async send(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await this.fetch(url, { ...init, redirect: 'error' });
    } catch (e) {
      const cause = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      throw new GitHubApiError('UNAVAILABLE', `${what} failed: GitHub at ${new URL(url).origin} did not answer (${cause})`);
    }
  }

  /** The `rel="next"` page of a Link header, only if it stays on this App's API: the user token is sent there. */
  private nextPage(link: string | null, what: string): string | undefined {
    let next: string | undefined;
    for (const part of link?.split(',') ?? []) {
      const m = /^\s*<([^>]+)>(.*)$/.exec(part);
      const rel = m && /;\s*rel="?([^";]+)"?/.exec(m[2])?.[1];
      if (rel && rel.split(/\s+/).includes('next')) next = m[1];
    }
    if (!next) return undefined;
    const url = new URL(next, `${this.apiUrl}/`);
    const api = new URL(`${this.apiUrl}/user/installations`);
    if (url.origin !== api.origin || url.pathname !== api.pathname) {
      throw new GitHubApiError(
        'UNEXPECTED',
        `${what} failed: GitHub pointed the next page to ${url.origin}${url.pathname}, not ${api.origin}${api.pathname}`,
      );
    }
    return url.href;
  }

  /** A non-2xx answer of a request made without Octokit, as toError maps Octokit's. */
  private httpError(res: Response, body: unknown, what: string, credential: string): GitHubApiError {
    const message = (body as { message?: unknown } | undefined)?.message;
    const suffix = typeof message === 'string' ? `: ${message.slice(0, 200)}` : '';
    if (res.status >= 500)
      return new GitHubApiError('UNAVAILABLE', `${what} failed, GitHub is unavailable (HTTP ${res.status}${suffix})`, res.status);
    if (res.status === 429 || (res.status === 403 && res.headers.get('x-ratelimit-remaining') === '0')) {
      return new GitHubApiError('RATE_LIMITED', `${what} failed: GitHub rate limit exceeded${suffix}`, res.status);
    }
    if (res.status === 401)
      return new GitHubApiError('TOKEN_REJECTED', `${what} failed: GitHub rejected ${credential} (401${suffix})`, res.status);
    return new GitHubApiError('UNEXPECTED', `${what} failed with HTTP ${res.status}${suffix}`, res.status);
  }

  /** The commit `branch` points to in the repository, read with the installation's token. */
  async branchHead(installationId: number, repositoryUrl: string, branch: string): Promise<string> {
    checkInstallationId(installationId);
    const { owner, repo } = this.coordinates(repositoryUrl);
    if (!branch || branch.startsWith('-') || /[\s~^:?*[\\]|\.\.|@\{/.test(branch))
      throw new GitHubApiError('BRANCH_NOT_FOUND', `"${branch}" is not a valid branch name`);
    // `heads/<branch>` rules out a tag of the same name; segments are encoded one by one so that slashes in
    // branch names stay path separators (GitHub Enterprise does not always decode %2F in refs).
    const ref = ['heads', ...branch.split('/')].map(encodeURIComponent).join('/');
    try {
      const octokit = await this.app.getInstallationOctokit(installationId);
      const { data } = await octokit.request(`GET /repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/commits/${ref}`);
      const sha = (data as { sha?: unknown }).sha;
      if (typeof sha !== 'string' || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha))
        throw new GitHubApiError('UNEXPECTED', `GitHub answered for ${owner}/${repo}@${branch} without a commit SHA`);
      return sha;
    } catch (e) {
      if (e instanceof GitHubApiError) throw e;
      // The installation token is created lazily on the first request: its failures are about the installation.
      if (isAppJwtRequest(e))
        throw this.toError(e, `Creating an access token for GitHub App installation ${installationId}`, 'INSTALLATION_NOT_FOUND');
      const status = statusOf(e);
      if (status === 404) {
        throw new GitHubApiError(
          'REPOSITORY_NOT_FOUND',
          `Repository ${owner}/${repo} was not found, or GitHub App installation ${installationId} has no access to it`,
          404,
        );
      }
      if (status === 422 || status === 409) {
        // 422: no such ref; 409: the repository is empty.
        throw new GitHubApiError('BRANCH_NOT_FOUND', `Branch "${branch}" was not found in ${owner}/${repo}`, status);
      }
      throw this.toError(e, `Reading branch "${branch}" of ${owner}/${repo}`, 'INSTALLATION_NOT_FOUND');
    }
  }

  /** Owner and repository of a URL on this GitHub (a github.com URL is refused when the App lives on an Enterprise server). */
  private coordinates(repositoryUrl: string): { owner: string; repo: string } {
    const { origin, owner, repo } = parseRepositoryUrl(repositoryUrl);
    const expected = new URL(this.webUrl).origin.toLowerCase();
    if (origin !== expected)
      throw new GitHubApiError(
        'REPOSITORY_NOT_FOUND',
        `Repository URL ${repositoryUrl} is not on ${expected}, where the GitHub App is installed`,
      );
    return { owner, repo };
  }

  private toError(e: unknown, what: string, on404: GitHubApiErrorKind = 'UNEXPECTED'): GitHubApiError {
    if (e instanceof GitHubApiError) return e;
    const status = statusOf(e);
    const detail = githubMessage(e);
    const suffix = detail ? `: ${detail}` : '';
    // No HTTP status at all: the request was never made (an unreadable private key, say), so retrying won't help.
    if (status === undefined) return new GitHubApiError('UNEXPECTED', `${what} failed${suffix}`);
    if (status >= 500) return new GitHubApiError('UNAVAILABLE', `${what} failed, GitHub at ${this.apiUrl} is unavailable${suffix}`, status);
    if (status === 429 || (status === 403 && headerOf(e, 'x-ratelimit-remaining') === '0')) {
      return new GitHubApiError('RATE_LIMITED', `${what} failed: GitHub rate limit exceeded${suffix}`, status);
    }
    if (status === 401 && isAppJwtRequest(e)) {
      return new GitHubApiError(
        'APP_CREDENTIALS_REJECTED',
        `${what} failed: GitHub rejected the App's credentials (401${suffix}). Check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY, and the clock of this host.`,
        status,
      );
    }
    if (status === 401)
      return new GitHubApiError('TOKEN_REJECTED', `${what} failed: GitHub rejected the installation token (401${suffix})`, status);
    if (status === 403 && /suspended/i.test(detail))
      return new GitHubApiError('INSTALLATION_SUSPENDED', `${what} failed: the installation is suspended`, status);
    if (status === 404) return new GitHubApiError(on404, `${what} failed: not found${suffix}`, status);
    return new GitHubApiError('UNEXPECTED', `${what} failed with HTTP ${status}${suffix}`, status);
  }
}

/** The body as JSON, or undefined when it is not JSON (an HTML error page of a proxy, say). */
async function readJson(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => '');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function checkInstallationId(installationId: number): void {
  if (!Number.isSafeInteger(installationId) || installationId <= 0)
    throw new Error(`Invalid GitHub App installation id: ${installationId}`);
}

/** Octokit's RequestError carries `status`; fetch failures come as status 500 with the cause in the message. */
function statusOf(e: unknown): number | undefined {
  const status = (e as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

function githubMessage(e: unknown): string {
  const data = (e as { response?: { data?: unknown } } | undefined)?.response?.data;
  const message = (data as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string') return message;
  return e instanceof Error ? e.message : String(e);
}

function headerOf(e: unknown, name: string): string | undefined {
  const headers = (e as { response?: { headers?: Record<string, unknown> } } | undefined)?.response?.headers;
  const value = headers?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** Requests under /app/ are the ones made with the App JWT (the installation token is used everywhere else). */
function isAppJwtRequest(e: unknown): boolean {
  const url = (e as { request?: { url?: unknown } } | undefined)?.request?.url;
  return typeof url === 'string' && /\/app\/installations\//.test(url);
}
