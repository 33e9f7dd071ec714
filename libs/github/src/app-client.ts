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
  /** The installation token was refused (revoked, expired, installation removed meanwhile). */
  | 'TOKEN_REJECTED'
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

  constructor(private readonly settings: GitHubAppSettings) {
    if (!/^\d+$/.test(settings.appId)) throw new Error(`GitHub App id must be numeric, got "${settings.appId}"`);
    if (!settings.privateKey.includes('PRIVATE KEY')) throw new Error('GitHub App private key must be a PEM private key');
    if (!/^[a-z0-9][a-z0-9-]*$/.test(settings.slug)) throw new Error(`GitHub App slug "${settings.slug}" is not a valid slug`);
    this.apiUrl = trimTrailingSlashes(settings.apiUrl || GITHUB_DEFAULT_API_URL);
    this.webUrl = trimTrailingSlashes(settings.webUrl || GITHUB_DEFAULT_WEB_URL);
    const timeoutMs = settings.requestTimeoutMs ?? 30_000;
    const fetchWithTimeout: typeof fetch = (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
    this.app = new App({
      appId: Number(settings.appId),
      privateKey: settings.privateKey,
      Octokit: Octokit.defaults({ baseUrl: this.apiUrl, userAgent: 'apprunner-k8s', request: { fetch: fetchWithTimeout } }),
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
      if (typeof auth.token !== 'string' || !auth.token) throw new GitHubApiError('UNEXPECTED', `GitHub returned no token for installation ${installationId}`);
      return auth.token;
    } catch (e) {
      throw this.toError(e, `Creating an access token for GitHub App installation ${installationId}`, 'INSTALLATION_NOT_FOUND');
    }
  }

  /** The commit `branch` points to in the repository, read with the installation's token. */
  async branchHead(installationId: number, repositoryUrl: string, branch: string): Promise<string> {
    checkInstallationId(installationId);
    const { owner, repo } = this.coordinates(repositoryUrl);
    if (!branch || branch.startsWith('-') || /[\s~^:?*[\\]|\.\.|@\{/.test(branch)) throw new GitHubApiError('BRANCH_NOT_FOUND', `"${branch}" is not a valid branch name`);
    // `heads/<branch>` rules out a tag of the same name; segments are encoded one by one so that slashes in
    // branch names stay path separators (GitHub Enterprise does not always decode %2F in refs).
    const ref = ['heads', ...branch.split('/')].map(encodeURIComponent).join('/');
    try {
      const octokit = await this.app.getInstallationOctokit(installationId);
      const { data } = await octokit.request(`GET /repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/commits/${ref}`);
      const sha = (data as { sha?: unknown }).sha;
      if (typeof sha !== 'string' || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) throw new GitHubApiError('UNEXPECTED', `GitHub answered for ${owner}/${repo}@${branch} without a commit SHA`);
      return sha;
    } catch (e) {
      if (e instanceof GitHubApiError) throw e;
      // The installation token is created lazily on the first request: its failures are about the installation.
      if (isAppJwtRequest(e)) throw this.toError(e, `Creating an access token for GitHub App installation ${installationId}`, 'INSTALLATION_NOT_FOUND');
      const status = statusOf(e);
      if (status === 404) {
        throw new GitHubApiError('REPOSITORY_NOT_FOUND', `Repository ${owner}/${repo} was not found, or GitHub App installation ${installationId} has no access to it`, 404);
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
    if (origin !== expected) throw new GitHubApiError('REPOSITORY_NOT_FOUND', `Repository URL ${repositoryUrl} is not on ${expected}, where the GitHub App is installed`);
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
    if (status === 401) return new GitHubApiError('TOKEN_REJECTED', `${what} failed: GitHub rejected the installation token (401${suffix})`, status);
    if (status === 403 && /suspended/i.test(detail)) return new GitHubApiError('INSTALLATION_SUSPENDED', `${what} failed: the installation is suspended`, status);
    if (status === 404) return new GitHubApiError(on404, `${what} failed: not found${suffix}`, status);
    return new GitHubApiError('UNEXPECTED', `${what} failed with HTTP ${status}${suffix}`, status);
  }
}

function checkInstallationId(installationId: number): void {
  if (!Number.isSafeInteger(installationId) || installationId <= 0) throw new Error(`Invalid GitHub App installation id: ${installationId}`);
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
