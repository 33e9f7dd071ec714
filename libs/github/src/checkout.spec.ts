import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubAppClient } from './app-client';
import { checkoutCommit, SourceCheckoutError } from './checkout';
import { isolatedGitEnv, runGit } from './git';
import { type BareRepo, createBareRepo, generateAppKeyPair, type GitHubStub, startGitHubStub } from '../../../test/doubles/github';

const APP_ID = '77';

describe('checkoutCommit against the GitHub stub', () => {
  let dir: string;
  let repo: BareRepo;
  let stub: GitHubStub;
  let client: GitHubAppClient;
  let cloneUrl: string;
  let n = 0;
  const target = () => join(dir, 'work', `checkout-${++n}`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'github-checkout-spec-'));
    const keys = await generateAppKeyPair();
    repo = await createBareRepo(dir, 'acme/api', { 'app.py': 'print("v1")\n', 'src/lib/util.py': 'X = 1\n' });
    stub = await startGitHubStub({
      appId: APP_ID,
      publicKeyPem: keys.publicKeyPem,
      repositoriesDir: dir,
      installations: [{ id: 5, account: 'acme', repositories: ['acme/api'] }],
    });
    client = new GitHubAppClient({
      appId: APP_ID,
      privateKey: keys.privateKeyPem,
      webhookSecret: 'unused-webhook-secret',
      slug: 'test',
      apiUrl: stub.apiUrl,
      webUrl: stub.webUrl,
    });
    cloneUrl = `${stub.gitBaseUrl}/acme/api.git`;
  });

  afterAll(async () => {
    await stub?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const git = async (cwd: string, args: string[]) => (await runGit(args, { cwd, env: isolatedGitEnv(cwd) })).stdout.trim();

  it('checks out exactly the requested commit, shallow, even after the branch moved on', async () => {
    const first = repo.commit;
    const second = await repo.commitFiles({ 'app.py': 'print("v2")\n', 'new.txt': 'added\n' }, 'v2');
    expect(await client.branchHead(5, `${stub.webUrl}/acme/api`, 'main')).toBe(second);

    const out = target();
    const lines: string[] = [];
    const token = await client.installationToken(5);
    await checkoutCommit({ cloneUrl, token, commit: first, dir: out, onLog: (l) => lines.push(l) });

    expect(await readFile(join(out, 'app.py'), 'utf8')).toBe('print("v1")\n');
    expect(await readFile(join(out, 'src/lib/util.py'), 'utf8')).toBe('X = 1\n');
    expect((await readdir(out)).sort()).toEqual(['.git', 'app.py', 'src']);
    expect(await git(out, ['rev-parse', 'HEAD'])).toBe(first);
    expect(await git(out, ['rev-list', '--count', '--all'])).toBe('1');
    expect(await git(out, ['rev-parse', '--is-shallow-repository'])).toBe('true');
    expect(lines.join('\n')).toContain(`Fetching commit ${first}`);
    expect(lines.join('\n')).not.toContain(token);

    const latest = target();
    await checkoutCommit({ cloneUrl, token, commit: second, dir: latest });
    expect(await readFile(join(latest, 'app.py'), 'utf8')).toBe('print("v2")\n');
    expect(await git(latest, ['rev-list', '--count', 'HEAD'])).toBe('1');
  });

  it('fails with AUTH_FAILED and no token text for a wrong token, and leaves the directory empty', async () => {
    const token = `ghs_${'x'.repeat(36)}`;
    const out = target();
    const lines: string[] = [];
    const error = await checkoutCommit({ cloneUrl, token, commit: repo.commit, dir: out, onLog: (l) => lines.push(l) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SourceCheckoutError);
    expect(error).toMatchObject({ kind: 'AUTH_FAILED', transient: false });
    const text = `${(error as Error).message}\n${(error as Error).stack}\n${lines.join('\n')}`;
    expect(text).not.toContain(token);
    expect(text).not.toContain(Buffer.from(`x-access-token:${token}`).toString('base64'));
    expect((error as Error).message).toMatch(/refused our credentials/);
    expect(await readdir(out)).toEqual([]);
  });

  it('fails with AUTH_FAILED when no token is given for a private repository', async () => {
    await expect(checkoutCommit({ cloneUrl, commit: repo.commit, dir: target() })).rejects.toMatchObject({ kind: 'AUTH_FAILED' });
  });

  it('fails with COMMIT_NOT_FOUND for a commit the repository does not have', async () => {
    const token = await client.installationToken(5);
    const missing = 'ffffffffffffffffffffffffffffffffffffffff';
    const error = await checkoutCommit({ cloneUrl, token, commit: missing, dir: target() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'COMMIT_NOT_FOUND' });
    expect((error as Error).message).toMatch(
      new RegExp(`^Commit ${missing} was not found in the repository from ${cloneUrl.replace(/[.]/g, '\\.')}`),
    );
    expect((error as Error).message).not.toContain(token);
  });

  it('fails with REPOSITORY_NOT_FOUND for a repository the installation cannot see', async () => {
    const token = await client.installationToken(5);
    const error = await checkoutCommit({
      cloneUrl: `${stub.gitBaseUrl}/acme/missing.git`,
      token,
      commit: repo.commit,
      dir: target(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'REPOSITORY_NOT_FOUND' });
    expect((error as Error).message).toMatch(/acme\/missing\.git was not found/);
  });

  it('refuses branch names, short SHAs, credentials in the URL and non-empty directories before running git', async () => {
    await expect(checkoutCommit({ cloneUrl, commit: 'main', dir: target() })).rejects.toThrow(/not a full commit SHA/);
    await expect(checkoutCommit({ cloneUrl, commit: repo.commit.slice(0, 12), dir: target() })).rejects.toThrow(/not a full commit SHA/);
    await expect(
      checkoutCommit({ cloneUrl: cloneUrl.replace('http://', 'http://x-access-token:t@'), commit: repo.commit, dir: target() }),
    ).rejects.toThrow(/must not carry credentials/);
    const busy = target();
    await mkdir(busy, { recursive: true });
    await writeFile(join(busy, 'keep.txt'), 'mine');
    await expect(checkoutCommit({ cloneUrl, commit: repo.commit, dir: busy })).rejects.toThrow(/is not empty/);
    expect(await readFile(join(busy, 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('reports an unreachable host as transient', async () => {
    const error = await checkoutCommit({
      cloneUrl: 'http://127.0.0.1:9/acme/api.git',
      token: 't',
      commit: repo.commit,
      dir: target(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'UNAVAILABLE', transient: true });
  });

  it('times out with TIMEOUT', async () => {
    const token = await client.installationToken(5);
    const error = await checkoutCommit({ cloneUrl, token, commit: repo.commit, dir: target(), timeoutMs: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'TIMEOUT', transient: true });
  });

  it('serves gzip-compressed upload-pack requests (git compresses request bodies over 1 KiB)', async () => {
    const token = await client.installationToken(5);
    const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
    // Protocol v0 negotiation: one want, padded with haves of unknown objects so the body is the size git would gzip.
    const haves = Array.from({ length: 30 }, (_, i) => pkt(`have ${i.toString(16).padStart(40, 'a')}\n`)).join('');
    const request = `${pkt(`want ${repo.commit} no-progress\n`)}0000${haves}${pkt('done\n')}`;
    expect(request.length).toBeGreaterThan(1024);
    const res = await fetch(`${cloneUrl}/git-upload-pack`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
        'content-type': 'application/x-git-upload-pack-request',
        'content-encoding': 'gzip',
      },
      body: gzipSync(request),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-git-upload-pack-result');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.subarray(0, 8).toString()).toBe('0008NAK\n');
    expect(body.includes('PACK')).toBe(true);
  });
});
