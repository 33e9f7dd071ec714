import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GitRunResult, isolatedGitEnv, runGit } from './git';

export type SourceCheckoutErrorKind =
  | 'COMMIT_NOT_FOUND'
  /** The token was refused (expired, revoked, installation suspended) or none was given for a private repository. */
  | 'AUTH_FAILED'
  | 'REPOSITORY_NOT_FOUND'
  | 'TIMEOUT'
  /** Network trouble or a 5xx from the git host: worth retrying. */
  | 'UNAVAILABLE'
  | 'FAILED';

export class SourceCheckoutError extends Error {
  override readonly name = 'SourceCheckoutError';
  constructor(
    readonly kind: SourceCheckoutErrorKind,
    message: string,
  ) {
    super(message);
  }

  get transient(): boolean {
    return this.kind === 'TIMEOUT' || this.kind === 'UNAVAILABLE';
  }
}

export interface CheckoutOptions {
  /** https URL of the repository, without credentials. */
  cloneUrl: string;
  /** Installation access token; sent as an HTTP header, never put in argv, URLs or logs. */
  token?: string;
  /** Full commit SHA: builds are of exact commits, never of whatever a branch points to by then. */
  commit: string;
  /** Created when missing; must be empty. */
  dir: string;
  /** git's progress and our steps, one line at a time, with the token scrubbed. */
  onLog?: (line: string) => void;
  /** For the whole checkout (default 10 minutes). */
  timeoutMs?: number;
  gitPath?: string;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** Shallow checkout of exactly `commit` into `dir`: git init; fetch --depth 1 origin <commit>; checkout FETCH_HEAD. */
export async function checkoutCommit(opts: CheckoutOptions): Promise<void> {
  const commit = opts.commit.trim().toLowerCase();
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) {
    throw new SourceCheckoutError('COMMIT_NOT_FOUND', `"${opts.commit}" is not a full commit SHA; a checkout needs the exact commit`);
  }
  const origin = cloneOrigin(opts.cloneUrl);
  const scrub = scrubber(opts.token);
  const log = (line: string) => opts.onLog?.(scrub(line));
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);

  await prepareEmptyDir(opts.dir);
  const home = await mkdtemp(join(tmpdir(), 'apprunner-git-home-'));
  try {
    const config: Array<[string, string]> = [
      ['init.defaultBranch', 'main'],
      ['gc.auto', '0'],
      ['maintenance.auto', 'false'],
      // Only http(s): no file:// or ext:: through redirects or a hostile .gitmodules.
      ['protocol.allow', 'never'],
      ['protocol.https.allow', 'always'],
      ['protocol.http.allow', 'always'],
    ];
    if (opts.token) {
      // Scoped to the clone URL's origin so a redirect elsewhere does not carry the token along.
      const basic = Buffer.from(`x-access-token:${opts.token}`, 'utf8').toString('base64');
      config.push([`http.${origin}/.extraHeader`, `Authorization: Basic ${basic}`]);
    }
    const env = isolatedGitEnv(home, config);
    const git = async (step: string, args: string[], streamLog = false): Promise<GitRunResult> => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new SourceCheckoutError('TIMEOUT', `Checkout of ${commit} from ${opts.cloneUrl} timed out before ${step}`);
      let result: GitRunResult;
      try {
        result = await runGit(['-C', opts.dir, ...args], {
          gitPath: opts.gitPath,
          env,
          timeoutMs: remaining,
          onStderrLine: streamLog ? log : undefined,
        });
      } catch (e) {
        throw new SourceCheckoutError('FAILED', `git could not be started (${opts.gitPath ?? 'git'}): ${(e as Error).message}`);
      }
      if (result.timedOut) throw new SourceCheckoutError('TIMEOUT', `Checkout of ${commit} from ${opts.cloneUrl} timed out during ${step}`);
      return result;
    };

    let result = await git('git init', ['init', '-q']);
    if (result.code === 0) result = await git('git remote add', ['remote', 'add', 'origin', opts.cloneUrl]);
    if (result.code !== 0)
      throw new SourceCheckoutError('FAILED', `Preparing ${opts.dir} for the checkout failed: ${tail(scrub(result.stderr))}`);

    log(`Fetching commit ${commit} from ${opts.cloneUrl}`);
    result = await git('git fetch', ['fetch', '--depth', '1', '--no-tags', '--no-recurse-submodules', 'origin', commit], true);
    if (result.code !== 0) throw classifyFetchFailure(opts.cloneUrl, commit, result.stderr, scrub);

    result = await git('git checkout', ['checkout', '-q', '--detach', 'FETCH_HEAD']);
    if (result.code !== 0) throw new SourceCheckoutError('FAILED', `Checking out ${commit} failed: ${tail(scrub(result.stderr))}`);
    result = await git('git rev-parse', ['rev-parse', 'HEAD']);
    const head = result.stdout.trim();
    if (head !== commit) throw new SourceCheckoutError('FAILED', `Checked out ${head || 'nothing'} instead of ${commit}`);
    log(`Checked out ${commit}`);
  } catch (e) {
    // Leave the directory as we found it (empty), so a retry can use it again.
    await emptyDir(opts.dir).catch(() => undefined);
    throw e;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Classified on git's own words; only the scrubbed text goes into the message. */
function classifyFetchFailure(cloneUrl: string, commit: string, stderr: string, scrub: (text: string) => string): SourceCheckoutError {
  const detail = tail(scrub(stderr));
  const from = `from ${cloneUrl}`;
  if (/not our ref|couldn't find remote ref|unadvertised object|no such remote ref|did not send all necessary objects/i.test(stderr)) {
    return new SourceCheckoutError('COMMIT_NOT_FOUND', `Commit ${commit} was not found in the repository ${from} (git: ${detail})`);
  }
  if (
    /authentication failed|could not read (username|password)|terminal prompts disabled|returned error: 40[13]|permission to .* denied|invalid username or password/i.test(
      stderr,
    )
  ) {
    return new SourceCheckoutError(
      'AUTH_FAILED',
      `The git host refused our credentials when fetching ${commit} ${from}; the connection may need a new handshake (git: ${detail})`,
    );
  }
  if (/repository '.*' not found|repository not found|returned error: 404/i.test(stderr)) {
    return new SourceCheckoutError(
      'REPOSITORY_NOT_FOUND',
      `Repository ${cloneUrl} was not found, or the connection has no access to it (git: ${detail})`,
    );
  }
  if (
    /could not resolve host|failed to connect|connection refused|connection reset|timed out|returned error: 5\d\d|rpc failed|early eof|ssl|tls/i.test(
      stderr,
    )
  ) {
    return new SourceCheckoutError('UNAVAILABLE', `The git host could not be reached fetching ${commit} ${from} (git: ${detail})`);
  }
  return new SourceCheckoutError('FAILED', `Fetching ${commit} ${from} failed (git: ${detail})`);
}

function cloneOrigin(cloneUrl: string): string {
  let url: URL;
  try {
    url = new URL(cloneUrl);
  } catch {
    throw new SourceCheckoutError('REPOSITORY_NOT_FOUND', `Clone URL "${cloneUrl}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new SourceCheckoutError('REPOSITORY_NOT_FOUND', `Clone URL ${cloneUrl} must be http(s)`);
  // Credentials in the URL would show up in argv (ps) and in git's messages.
  if (url.username || url.password)
    throw new SourceCheckoutError('FAILED', 'Clone URL must not carry credentials; pass the token separately');
  return url.origin;
}

/** Removes the token, and the Basic credential made from it, from anything we show. */
function scrubber(token: string | undefined): (text: string) => string {
  const secrets = token ? [token, Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64')] : [];
  return (text) => {
    let out = text.replace(/(authorization:\s*(basic|bearer|token)\s+)\S+/gi, '$1***');
    for (const secret of secrets) out = out.split(secret).join('***');
    return out;
  };
}

/** The last few meaningful lines of git's stderr: the cause is at the end. */
function tail(stderr: string): string {
  const lines = stderr
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.slice(-3).join(' / ').slice(0, 400) || 'no output';
}

async function prepareEmptyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  if (entries.length > 0) throw new SourceCheckoutError('FAILED', `Checkout directory ${dir} is not empty`);
}

async function emptyDir(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true });
}
