import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, randomBytes, randomUUID, verify as verifySignature, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isolatedGitEnv, runGit } from '../../../libs/github/src/git';

export interface GitHubStubInstallation {
  id: number;
  account: string;
  /** `owner/repo`, served from `<repositoriesDir>/owner/repo.git`. */
  repositories: string[];
}

/** A GitHub user who can authorize the App (the OAuth part of an installation) and sees `installations`. */
export interface GitHubStubUser {
  login: string;
  /** Ids of the App's installations the user can access (GET /user/installations); each must be among `installations`. */
  installations: number[];
}

export interface GitHubStubOptions {
  appId: string;
  /** The App's OAuth client credentials, checked by POST /login/oauth/access_token (unset: every exchange is refused). */
  clientId?: string;
  clientSecret?: string;
  users?: GitHubStubUser[];
  /** The App's public key: App JWTs must verify against it (RS256). */
  publicKeyPem: string;
  /** Root of the bare repositories (see createBareRepo). */
  repositoriesDir: string;
  installations: GitHubStubInstallation[];
  /** Serve the REST API under this path, as GitHub Enterprise Server does (`/api/v3`). */
  apiPathPrefix?: string;
  /** Lifetime of installation tokens (GitHub: one hour). */
  tokenTtlSeconds?: number;
  gitPath?: string;
}

export interface GitHubStub {
  apiUrl: string;
  webUrl: string;
  /** Clone URLs are `${gitBaseUrl}/owner/repo.git`. */
  gitBaseUrl: string;
  /** Every installation token issued so far, oldest first. */
  issuedTokens(): string[];
  /** Method and path of every request received, for asserting what a client did. */
  requests(): string[];
  /**
   * A one-time OAuth code for `login`, as GitHub's redirect after "Request user authorization during installation"
   * carries it (valid ten minutes, exchangeable once).
   */
  authorize(login: string): string;
  /** Suspends the installation: no new tokens, and the ones issued stop working, as on GitHub. */
  suspend(installationId: number): void;
  unsuspend(installationId: number): void;
  stop(): Promise<void>;
}

interface IssuedToken {
  installationId: number;
  /** Lowercase `owner/repo` the token may read. */
  repositories: Set<string>;
  expiresAt: number;
}

interface InstallationState extends GitHubStubInstallation {
  createdAt: string;
  suspendedAt: string | null;
}

interface UserGrant {
  login: string;
  expiresAt: number;
}

const API_VERSION = '2022-11-28';
/** GitHub: an OAuth code lives ten minutes, a user access token (with expiration on) eight hours. */
const CODE_TTL_MS = 10 * 60_000;
const USER_TOKEN_TTL_SECONDS = 8 * 3_600;
const OAUTH_ERRORS_DOCS = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';
const DOCS = 'https://docs.github.com/rest';
/** GitHub's limit on how far in the future an App JWT may expire. */
const MAX_JWT_LIFETIME_SECONDS = 600;
/** Tolerated clock drift between the App and us. */
const CLOCK_DRIFT_SECONDS = 60;

/**
 * A local stand-in for the parts of GitHub the platform uses: the App endpoints (installation lookup and
 * installation tokens, App JWT verified with RS256), user authorization (OAuth code exchange with the App's client
 * credentials, the user's installations), reading a commit, and git smart HTTP (upload-pack only) over bare
 * repositories through `git http-backend`, with installation tokens as Basic credentials.
 */
export async function startGitHubStub(opts: GitHubStubOptions): Promise<GitHubStub> {
  const publicKey = createPublicKey(opts.publicKeyPem);
  const repositoriesDir = resolve(opts.repositoriesDir);
  const apiPrefix = (opts.apiPathPrefix ?? '').replace(/\/+$/, '');
  if (apiPrefix && !apiPrefix.startsWith('/')) throw new Error(`apiPathPrefix must start with "/", got "${opts.apiPathPrefix}"`);
  const tokenTtlSeconds = opts.tokenTtlSeconds ?? 3_600;
  const installations = new Map<number, InstallationState>(
    opts.installations.map((i) => [i.id, { ...i, createdAt: githubTime(Date.now()), suspendedAt: null }]),
  );
  const users = new Map<string, GitHubStubUser>();
  for (const user of opts.users ?? []) {
    const unknown = user.installations.filter((id) => !installations.has(id));
    if (unknown.length)
      throw new Error(`Stub user ${user.login} lists installation(s) ${unknown.join(', ')}, which are not among the stub's installations`);
    users.set(user.login.toLowerCase(), user);
  }
  const codes = new Map<string, UserGrant>();
  const userTokens = new Map<string, UserGrant>();
  const tokens = new Map<string, IssuedToken>();
  const issued: string[] = [];
  const log: string[] = [];
  const children = new Set<ChildProcess>();
  // One isolated environment for every git process of the stub; exact-commit fetches need the SHA1InWant settings.
  const gitEnv = isolatedGitEnv(repositoriesDir, [
    ['uploadpack.allowAnySHA1InWant', 'true'],
    ['uploadpack.allowReachableSHA1InWant', 'true'],
    ['http.receivepack', 'false'],
    ['safe.directory', '*'],
  ]);

  let base = '';
  const urls = () => ({ api: `${base}${apiPrefix}`, web: base });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    log.push(`${req.method} ${url.pathname}`);
    handle(req, res, url).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: `Stub failure: ${(e as Error).message}` });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const git = /^\/([^/]+)\/([^/]+?)(?:\.git)?(\/(?:info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.*))$/.exec(url.pathname);
    if (git && !(apiPrefix === '' && git[1] === 'repos')) return serveGit(req, res, url, git[1], git[2], git[3]);
    // On the web host, not under the API: github.com/login/oauth/access_token, https://HOST/login/oauth/access_token.
    if (url.pathname === '/login/oauth/access_token' && req.method === 'POST') return exchangeCode(req, res);
    if (!url.pathname.startsWith(`${apiPrefix}/`)) return sendJson(res, 404, notFound());
    const path = url.pathname.slice(apiPrefix.length);

    if (path === '/user/installations' && req.method === 'GET') return listUserInstallations(req, res, url);

    let m = /^\/app\/installations\/(\d+)$/.exec(path);
    if (m && req.method === 'GET') return getInstallation(req, res, Number(m[1]));
    m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    if (m && req.method === 'POST') return createToken(req, res, Number(m[1]));
    m = /^\/repos\/([^/]+)\/([^/]+)\/commits\/(.+)$/.exec(path);
    if (m && req.method === 'GET')
      return getCommit(req, res, decodeURIComponent(m[1]), decodeURIComponent(m[2]), m[3].split('/').map(decodeURIComponent).join('/'));
    return sendJson(res, 404, notFound());
  }

  // GET /app/installations/{installation_id}
  async function getInstallation(req: IncomingMessage, res: ServerResponse, id: number): Promise<void> {
    const jwtError = checkAppJwt(req);
    if (jwtError) return sendJson(res, 401, { message: jwtError, documentation_url: DOCS, status: '401' });
    const installation = installations.get(id);
    if (!installation) return sendJson(res, 404, notFound('apps/apps#get-an-installation-for-the-authenticated-app'));
    return sendJson(res, 200, installationJson(installation));
  }

  // POST /app/installations/{installation_id}/access_tokens
  async function createToken(req: IncomingMessage, res: ServerResponse, id: number): Promise<void> {
    const body = await readBody(req);
    const jwtError = checkAppJwt(req);
    if (jwtError) return sendJson(res, 401, { message: jwtError, documentation_url: DOCS, status: '401' });
    const installation = installations.get(id);
    if (!installation) return sendJson(res, 404, notFound('apps/apps#create-an-installation-access-token-for-an-app'));
    if (installation.suspendedAt)
      return sendJson(res, 403, {
        message: 'This installation has been suspended',
        documentation_url: `${DOCS}/apps/apps#create-an-installation-access-token-for-an-app`,
        status: '403',
      });

    let requested: string[] | undefined;
    if (body.length > 0) {
      let parsed: { repositories?: unknown };
      try {
        parsed = JSON.parse(body.toString('utf8')) as { repositories?: unknown };
      } catch {
        return sendJson(res, 400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
      }
      if (Array.isArray(parsed.repositories)) requested = parsed.repositories.map(String);
    }
    const granted = installation.repositories;
    let scope = granted;
    if (requested) {
      scope = requested.map((name) => granted.find((full) => full.split('/')[1].toLowerCase() === name.toLowerCase()) ?? '');
      if (scope.includes('')) {
        return sendJson(res, 422, {
          message: 'There is at least one repository that does not exist or is not accessible to the parent installation.',
          documentation_url: DOCS,
          status: '422',
        });
      }
    }
    const token = `ghs_${randomToken(36)}`;
    const expiresAt = Date.now() + tokenTtlSeconds * 1000;
    tokens.set(token, { installationId: id, repositories: new Set(scope.map((r) => r.toLowerCase())), expiresAt });
    issued.push(token);
    return sendJson(res, 201, {
      token,
      expires_at: githubTime(expiresAt),
      permissions: { contents: 'read', metadata: 'read' },
      repository_selection: 'selected',
      ...(requested ? { repositories: scope.map((full) => repositoryJson(full)) } : {}),
    });
  }

  // POST /login/oauth/access_token: the web application flow's code exchange. Errors come with HTTP 200, as on GitHub.
  async function exchangeCode(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (await readBody(req)).toString('utf8');
    let params: Record<string, unknown>;
    if (/json/i.test(String(req.headers['content-type'] ?? ''))) {
      try {
        params = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return sendJson(res, 400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
      }
    } else {
      params = Object.fromEntries(new URLSearchParams(raw));
    }
    const answer = (body: Record<string, string | number>) => {
      // GitHub's default is form encoding; JSON only when asked for.
      if (/application\/json/i.test(String(req.headers.accept ?? ''))) return sendJson(res, 200, body);
      const form = new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)])).toString();
      res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'content-length': Buffer.byteLength(form) });
      res.end(form);
    };
    if (!opts.clientId || !opts.clientSecret || params.client_id !== opts.clientId || params.client_secret !== opts.clientSecret) {
      return answer({
        error: 'incorrect_client_credentials',
        error_description: 'The client_id and/or client_secret passed are incorrect.',
        error_uri: `${OAUTH_ERRORS_DOCS}#incorrect-client-credentials`,
      });
    }
    const code = typeof params.code === 'string' ? params.code : '';
    const grant = codes.get(code);
    codes.delete(code);
    if (!grant || grant.expiresAt <= Date.now()) {
      return answer({
        error: 'bad_verification_code',
        error_description: 'The code passed is incorrect or expired.',
        error_uri: `${OAUTH_ERRORS_DOCS}#bad-verification-code`,
      });
    }
    const token = `ghu_${randomToken(36)}`;
    userTokens.set(token, { login: grant.login, expiresAt: Date.now() + USER_TOKEN_TTL_SECONDS * 1000 });
    return answer({
      access_token: token,
      expires_in: USER_TOKEN_TTL_SECONDS,
      refresh_token: `ghr_${randomToken(76)}`,
      refresh_token_expires_in: 15_897_600,
      token_type: 'bearer',
      scope: '',
    });
  }

  // GET /user/installations: the App's installations the user can access, paginated (per_page at most 100).
  async function listUserInstallations(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const token = tokenFrom(req.headers.authorization, ['token', 'bearer']);
    if (token && liveToken(token)) {
      return sendJson(res, 403, {
        message: 'You must authenticate with an access token authorized to a GitHub App in order to list installations',
        documentation_url: `${DOCS}/apps/installations#list-app-installations-accessible-to-the-user-access-token`,
        status: '403',
      });
    }
    const grant = token ? userTokens.get(token) : undefined;
    if (!grant || grant.expiresAt <= Date.now())
      return sendJson(res, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    const visible = (users.get(grant.login.toLowerCase())?.installations ?? []).map((id) => installations.get(id)!);
    const perPage = Math.min(Math.max(Number.parseInt(url.searchParams.get('per_page') ?? '30', 10) || 30, 1), 100);
    const page = Math.max(Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1, 1);
    const last = Math.max(Math.ceil(visible.length / perPage), 1);
    const pageUrl = (n: number) => {
      const u = new URL(`${urls().api}/user/installations`);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(n));
      return `<${u.href}>`;
    };
    const links = [
      ...(page > 1 ? [`${pageUrl(page - 1)}; rel="prev"`] : []),
      ...(page < last ? [`${pageUrl(page + 1)}; rel="next"`, `${pageUrl(last)}; rel="last"`] : []),
      ...(page > 1 ? [`${pageUrl(1)}; rel="first"`] : []),
    ];
    const slice = visible.slice((page - 1) * perPage, page * perPage);
    return sendJson(
      res,
      200,
      { total_count: visible.length, installations: slice.map(installationJson) },
      links.length ? { link: links.join(', ') } : {},
    );
  }

  // GET /repos/{owner}/{repo}/commits/{ref}
  async function getCommit(req: IncomingMessage, res: ServerResponse, owner: string, repo: string, ref: string): Promise<void> {
    const token = tokenFrom(req.headers.authorization, ['token', 'bearer']);
    const grant = token ? liveToken(token) : undefined;
    if (!grant) return sendJson(res, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    const full = grantedRepository(grant, `${owner}/${repo}`);
    if (!full) return sendJson(res, 404, notFound('commits/commits#get-a-commit'));
    const gitDir = join(repositoriesDir, `${full}.git`);
    const sha = ref.startsWith('-') ? undefined : await resolveCommit(gitDir, ref);
    if (!sha)
      return sendJson(res, 422, {
        message: `No commit found for SHA: ${ref}`,
        documentation_url: `${DOCS}/commits/commits#get-a-commit`,
        status: '422',
      });
    return sendJson(res, 200, await commitJson(gitDir, full, sha));
  }

  async function resolveCommit(gitDir: string, ref: string): Promise<string | undefined> {
    const rev = ref.startsWith('heads/') || ref.startsWith('tags/') ? `refs/${ref}` : ref;
    const result = await runGit(['--git-dir', gitDir, 'rev-parse', '--verify', '--quiet', `${rev}^{commit}`], {
      gitPath: opts.gitPath,
      env: gitEnv,
    });
    return result.code === 0 ? result.stdout.trim() : undefined;
  }

  async function commitJson(gitDir: string, full: string, sha: string): Promise<Record<string, unknown>> {
    const format = ['%H', '%T', '%P', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'].join('%x00');
    const result = await runGit(['--git-dir', gitDir, 'show', '-s', `--format=${format}`, sha], { gitPath: opts.gitPath, env: gitEnv });
    if (result.code !== 0) throw new Error(`git show ${sha}: ${result.stderr.trim()}`);
    const [, tree, parents, an, ae, ad, cn, ce, cd, message] = result.stdout.split('\0');
    const { api, web } = urls();
    return {
      sha,
      node_id: `C_${Buffer.from(sha).toString('base64url').slice(0, 24)}`,
      url: `${api}/repos/${full}/commits/${sha}`,
      html_url: `${web}/${full}/commit/${sha}`,
      comments_url: `${api}/repos/${full}/commits/${sha}/comments`,
      commit: {
        url: `${api}/repos/${full}/git/commits/${sha}`,
        author: { name: an, email: ae, date: githubTime(Date.parse(ad)) },
        committer: { name: cn, email: ce, date: githubTime(Date.parse(cd)) },
        message: message.replace(/\n+$/, ''),
        tree: { sha: tree, url: `${api}/repos/${full}/git/trees/${tree}` },
        comment_count: 0,
        verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
      },
      author: null,
      committer: null,
      parents: parents
        .split(' ')
        .filter(Boolean)
        .map((p) => ({ sha: p, url: `${api}/repos/${full}/commits/${p}`, html_url: `${web}/${full}/commit/${p}` })),
    };
  }

  // Git smart HTTP, read-only, through git http-backend.
  async function serveGit(req: IncomingMessage, res: ServerResponse, url: URL, owner: string, repo: string, rest: string): Promise<void> {
    const service = rest === '/info/refs' ? url.searchParams.get('service') : rest.slice(1);
    if (service !== 'git-upload-pack' && service !== 'git-receive-pack') {
      // GitHub serves only the smart protocol.
      return sendText(
        res,
        403,
        'Please upgrade your git client.\nGitHub.com no longer supports git over dumb-http: https://github.com/blog/809-git-dumb-http-transport-to-be-turned-off-in-90-days\n',
      );
    }
    const token = basicPassword(req.headers.authorization);
    const grant = token ? liveToken(token) : undefined;
    if (!grant) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"', 'content-type': 'text/plain' });
      res.end('Invalid username or token. Password authentication is not supported for Git operations.\n');
      return;
    }
    const full = grantedRepository(grant, `${owner}/${repo}`);
    if (!full || !existsSync(join(repositoriesDir, `${full}.git`))) return sendText(res, 404, 'Repository not found.\n');
    if (service === 'git-receive-pack') return sendText(res, 403, `Write access to repository not granted.\n`);

    let body = await readBody(req);
    if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) body = gunzipSync(body);
    const env: NodeJS.ProcessEnv = {
      ...gitEnv,
      GIT_PROJECT_ROOT: repositoriesDir,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: `/${full}.git${rest}`,
      QUERY_STRING: url.search.replace(/^\?/, ''),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: String(req.headers['content-type'] ?? ''),
      CONTENT_LENGTH: String(body.length),
      REMOTE_USER: 'x-access-token',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      ...(req.headers['git-protocol'] ? { HTTP_GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    };
    await runCgi(res, env, body);
  }

  function runCgi(res: ServerResponse, env: NodeJS.ProcessEnv, body: Buffer): Promise<void> {
    return new Promise((resolvePromise) => {
      const child = spawn(opts.gitPath ?? 'git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      children.add(child);
      let head = Buffer.alloc(0);
      let headersDone = false;
      const stderr: Buffer[] = [];
      child.stderr.on('data', (c: Buffer) => stderr.push(c));
      child.stdout.on('data', (chunk: Buffer) => {
        if (headersDone) return void res.write(chunk);
        head = Buffer.concat([head, chunk]);
        const crlf = head.indexOf('\r\n\r\n');
        const lf = head.indexOf('\n\n');
        const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
        if (end < 0) return;
        headersDone = true;
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
          const colon = line.indexOf(':');
          if (colon <= 0) continue;
          const name = line.slice(0, colon).trim();
          const value = line.slice(colon + 1).trim();
          if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
          else headers[name] = value;
        }
        res.writeHead(status, headers);
        res.write(head.subarray(end));
      });
      child.once('error', (e) => {
        children.delete(child);
        if (!res.headersSent) sendText(res, 500, `git http-backend could not start: ${e.message}\n`);
        resolvePromise();
      });
      child.once('close', (code) => {
        children.delete(child);
        if (!headersDone) sendText(res, 500, `git http-backend failed (${code}): ${Buffer.concat(stderr).toString('utf8')}`);
        else res.end();
        resolvePromise();
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(body);
    });
  }

  function checkAppJwt(req: IncomingMessage): string | undefined {
    const jwt = tokenFrom(req.headers.authorization, ['bearer']);
    if (!jwt) return 'A JSON web token could not be decoded';
    return verifyAppJwt(jwt, opts.appId, publicKey, Math.floor(Date.now() / 1000));
  }

  function liveToken(token: string): IssuedToken | undefined {
    const grant = tokens.get(token);
    if (!grant || grant.expiresAt <= Date.now()) return undefined;
    const installation = installations.get(grant.installationId);
    return installation && !installation.suspendedAt ? grant : undefined;
  }

  /** The canonical `owner/repo` when the token may read it (GitHub matches names case-insensitively). */
  function grantedRepository(grant: IssuedToken, requested: string): string | undefined {
    const key = requested.toLowerCase();
    if (!grant.repositories.has(key)) return undefined;
    return installations.get(grant.installationId)?.repositories.find((r) => r.toLowerCase() === key);
  }

  function installationJson(i: InstallationState): Record<string, unknown> {
    const { api, web } = urls();
    const accountId = numericId(i.account);
    return {
      id: i.id,
      client_id: `Iv1.${numericId(opts.appId).toString(16)}`,
      account: {
        login: i.account,
        id: accountId,
        node_id: `O_${Buffer.from(String(accountId)).toString('base64')}`,
        avatar_url: `${web}/avatars/u/${accountId}?v=4`,
        url: `${api}/users/${i.account}`,
        html_url: `${web}/${i.account}`,
        type: 'Organization',
        site_admin: false,
      },
      repository_selection: 'selected',
      access_tokens_url: `${api}/app/installations/${i.id}/access_tokens`,
      repositories_url: `${api}/installation/repositories`,
      html_url: `${web}/organizations/${i.account}/settings/installations/${i.id}`,
      app_id: Number(opts.appId),
      app_slug: 'apprunner-k8s-test',
      target_id: accountId,
      target_type: 'Organization',
      permissions: { contents: 'read', metadata: 'read' },
      events: ['push'],
      created_at: i.createdAt,
      updated_at: i.suspendedAt ?? i.createdAt,
      single_file_name: null,
      has_multiple_single_files: false,
      single_file_paths: [],
      suspended_by: i.suspendedAt ? { login: 'mona', id: 1, type: 'User', site_admin: false } : null,
      suspended_at: i.suspendedAt,
    };
  }

  function repositoryJson(full: string): Record<string, unknown> {
    const { api, web } = urls();
    const [owner, name] = full.split('/');
    return {
      id: numericId(full),
      name,
      full_name: full,
      private: true,
      owner: { login: owner },
      html_url: `${web}/${full}`,
      url: `${api}/repos/${full}`,
    };
  }

  function notFound(doc?: string): Record<string, string> {
    return { message: 'Not Found', documentation_url: doc ? `${DOCS}/${doc}` : DOCS, status: '404' };
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: urls().api,
    webUrl: base,
    gitBaseUrl: base,
    issuedTokens: () => [...issued],
    requests: () => [...log],
    authorize(login) {
      const user = users.get(login.toLowerCase());
      if (!user) throw new Error(`No user ${login} in the stub`);
      const code = randomBytes(10).toString('hex');
      codes.set(code, { login: user.login, expiresAt: Date.now() + CODE_TTL_MS });
      return code;
    },
    suspend(id) {
      const installation = installations.get(id);
      if (!installation) throw new Error(`No installation ${id} in the stub`);
      installation.suspendedAt = githubTime(Date.now());
    },
    unsuspend(id) {
      const installation = installations.get(id);
      if (!installation) throw new Error(`No installation ${id} in the stub`);
      installation.suspendedAt = null;
    },
    async stop() {
      for (const child of children) child.kill('SIGKILL');
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
    },
  };
}

/** Checks an App JWT as GitHub does: RS256 over header.payload, `iss` the App id, `iat`/`exp` sane. Returns GitHub's message on failure. */
export function verifyAppJwt(jwt: string, appId: string, publicKey: KeyObject, nowSeconds: number): string | undefined {
  const undecodable = 'A JSON web token could not be decoded';
  const parts = jwt.split('.');
  if (parts.length !== 3) return undecodable;
  let header: { alg?: unknown };
  let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as typeof header;
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return undecodable;
  }
  if (header.alg !== 'RS256') return undecodable;
  const signed = verifySignature('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'));
  if (!signed) return undecodable;
  if (String(claims.iss) !== appId) return 'Integration not found';
  if (typeof claims.iat !== 'number' || !Number.isInteger(claims.iat) || claims.iat > nowSeconds + CLOCK_DRIFT_SECONDS) {
    return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.";
  }
  if (typeof claims.exp !== 'number' || !Number.isInteger(claims.exp) || claims.exp <= nowSeconds) {
    return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.";
  }
  if (
    claims.exp > nowSeconds + MAX_JWT_LIFETIME_SECONDS + CLOCK_DRIFT_SECONDS ||
    claims.exp - claims.iat > MAX_JWT_LIFETIME_SECONDS + CLOCK_DRIFT_SECONDS
  ) {
    return "'Expiration time' claim ('exp') is too far in the future";
  }
  return undefined;
}

function tokenFrom(header: string | undefined, schemes: string[]): string | undefined {
  const m = /^(\S+)\s+(\S+)$/.exec(header?.trim() ?? '');
  return m && schemes.includes(m[1].toLowerCase()) ? m[2] : undefined;
}

/** Git sends the token as the password of Basic auth (user `x-access-token`). */
function basicPassword(header: string | undefined): string | undefined {
  const encoded = tokenFrom(header, ['basic']);
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) : undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => ok(Buffer.concat(chunks)));
    req.once('error', fail);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...extraHeaders,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-github-media-type': 'github.v3; format=json',
    'x-github-api-version-selected': API_VERSION,
    'x-github-request-id': randomUUID().toUpperCase(),
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    'x-ratelimit-used': '1',
    'x-ratelimit-resource': 'core',
  });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** GitHub's timestamps: ISO 8601 without milliseconds. */
function githubTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomToken(length: number): string {
  return [...randomBytes(length)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
}

function numericId(name: string): number {
  let h = 0;
  for (const c of name) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return (h % 2_000_000_000) + 1;
}
