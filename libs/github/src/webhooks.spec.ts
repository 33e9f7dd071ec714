import { describe, expect, it } from 'vitest';
import { normalizeRepositoryUrl, parseRepositoryUrl } from './repository-url';
import { installationPayload, pushPayload, signedWebhookRequest } from '../../../test/doubles/github/webhook-fixtures';
import { parseGitHubEvent, verifyWebhookSignature } from './webhooks';

const secret = 'a-webhook-secret-of-some-length';
const sha = 'e5bd3914e2e596debea16f433f57875b5b90bcd6';
const web = 'https://github.com';

describe('verifyWebhookSignature', () => {
  const delivery = signedWebhookRequest(
    secret,
    'push',
    pushPayload({ installationId: 7, repo: 'Acme/App', webUrl: web, branch: 'main', after: sha }),
  );

  it('accepts the signature GitHub computes over the raw body (string or Buffer)', async () => {
    expect(delivery.headers['x-github-event']).toBe('push');
    expect(delivery.headers['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    await expect(verifyWebhookSignature(secret, delivery.body, delivery.headers['x-hub-signature-256'])).resolves.toBe(true);
    await expect(verifyWebhookSignature(secret, Buffer.from(delivery.body), delivery.headers['x-hub-signature-256'])).resolves.toBe(true);
  });

  it('rejects a tampered body, including a re-serialized one', async () => {
    const sig = delivery.headers['x-hub-signature-256'];
    await expect(verifyWebhookSignature(secret, delivery.body.replace('"main"', '"evil"'), sig)).resolves.toBe(false);
    await expect(verifyWebhookSignature(secret, JSON.stringify(JSON.parse(delivery.body), null, 1), sig)).resolves.toBe(false);
    await expect(verifyWebhookSignature(secret, `${delivery.body} `, sig)).resolves.toBe(false);
  });

  it('rejects a signature made with another secret', async () => {
    const forged = signedWebhookRequest('another-secret-entirely', 'push', JSON.parse(delivery.body));
    await expect(verifyWebhookSignature(secret, forged.body, forged.headers['x-hub-signature-256'])).resolves.toBe(false);
  });

  it('rejects missing, empty, SHA-1-only and malformed headers', async () => {
    await expect(verifyWebhookSignature(secret, delivery.body, undefined)).resolves.toBe(false);
    await expect(verifyWebhookSignature(secret, delivery.body, '')).resolves.toBe(false);
    await expect(verifyWebhookSignature(secret, delivery.body, delivery.headers['x-hub-signature'])).resolves.toBe(false);
    await expect(verifyWebhookSignature(secret, delivery.body, 'sha256=deadbeef')).resolves.toBe(false);
    await expect(verifyWebhookSignature(secret, '', delivery.headers['x-hub-signature-256'])).resolves.toBe(false);
  });

  it('refuses to verify without a secret', async () => {
    await expect(verifyWebhookSignature('', delivery.body, delivery.headers['x-hub-signature-256'])).rejects.toThrow(/secret/);
  });
});

describe('parseGitHubEvent', () => {
  it('parses a branch push', () => {
    const event = parseGitHubEvent(
      'push',
      pushPayload({ installationId: 42, repo: 'Acme/My-App', webUrl: web, branch: 'release/v2', after: sha }),
    );
    expect(event).toEqual({
      kind: 'push',
      installationId: 42,
      repositoryUrl: 'https://github.com/acme/my-app',
      cloneUrl: 'https://github.com/Acme/My-App.git',
      branch: 'release/v2',
      commit: sha,
      deleted: false,
    });
  });

  it('parses a GitHub Enterprise push with its own host', () => {
    const event = parseGitHubEvent(
      'push',
      pushPayload({ installationId: 3, repo: 'team/svc', webUrl: 'https://ghe.example.com', branch: 'main', after: sha }),
    );
    expect(event).toMatchObject({
      kind: 'push',
      repositoryUrl: 'https://ghe.example.com/team/svc',
      cloneUrl: 'https://ghe.example.com/team/svc.git',
    });
  });

  it('marks a deleted branch', () => {
    const event = parseGitHubEvent(
      'push',
      pushPayload({ installationId: 42, repo: 'acme/app', webUrl: web, branch: 'main', after: sha, deleted: true }),
    );
    expect(event).toMatchObject({ kind: 'push', branch: 'main', deleted: true, commit: '0'.repeat(40) });
  });

  it('ignores tag pushes, pushes without an installation and malformed pushes', () => {
    expect(parseGitHubEvent('push', pushPayload({ installationId: 42, repo: 'acme/app', webUrl: web, tag: 'v1.0.0', after: sha }))).toEqual(
      {
        kind: 'ignored',
        reason: 'push to refs/tags/v1.0.0, not to a branch',
      },
    );
    const noInstallation = {
      ...pushPayload({ installationId: 42, repo: 'acme/app', webUrl: web, branch: 'main', after: sha }),
      installation: undefined,
    };
    expect(parseGitHubEvent('push', noInstallation)).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/installation/) });
    expect(parseGitHubEvent('push', { ref: 'refs/heads/main', installation: { id: 1 } })).toMatchObject({ kind: 'ignored' });
    expect(
      parseGitHubEvent('push', {
        ...pushPayload({ installationId: 1, repo: 'a/b', webUrl: web, branch: 'main', after: sha }),
        after: 'HEAD',
      }),
    ).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/after/),
    });
    const badUrl = pushPayload({ installationId: 1, repo: 'a/b', webUrl: web, branch: 'main', after: sha });
    (badUrl.repository as any).html_url = 'not a url';
    expect(parseGitHubEvent('push', badUrl)).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/unusable repository URL/) });
    expect(parseGitHubEvent('push', 'not json')).toMatchObject({ kind: 'ignored' });
    expect(parseGitHubEvent('push', null)).toMatchObject({ kind: 'ignored' });
  });

  it('parses the installation actions we act on', () => {
    for (const action of ['created', 'deleted', 'suspend', 'unsuspend', 'new_permissions_accepted'] as const) {
      expect(parseGitHubEvent('installation', installationPayload({ action, installationId: 9, account: 'Acme', webUrl: web }))).toEqual({
        kind: 'installation',
        action,
        installationId: 9,
        account: 'Acme',
      });
    }
  });

  it('ignores other installation actions and unrelated events', () => {
    const payload = { ...installationPayload({ action: 'created', installationId: 9, account: 'acme', webUrl: web }), action: 'renamed' };
    expect(parseGitHubEvent('installation', payload)).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/renamed/) });
    expect(parseGitHubEvent('installation', { action: 'created' })).toMatchObject({ kind: 'ignored' });
    expect(parseGitHubEvent('ping', { zen: 'Keep it logically awesome.', hook_id: 1 })).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/ping/),
    });
    expect(parseGitHubEvent('pull_request', { action: 'opened' })).toEqual({
      kind: 'ignored',
      reason: 'event "pull_request" is not one we act on',
    });
    expect(parseGitHubEvent('installation_repositories', { action: 'added' })).toMatchObject({ kind: 'ignored' });
  });
});

describe('normalizeRepositoryUrl', () => {
  it('lowercases and strips .git and trailing slashes', () => {
    for (const url of [
      'https://github.com/Owner/Repo',
      'https://github.com/owner/repo.git',
      'https://GitHub.com/OWNER/Repo.git/',
      'https://github.com/owner/repo//',
      ' https://github.com/owner/repo ',
    ]) {
      expect(normalizeRepositoryUrl(url)).toBe('https://github.com/owner/repo');
    }
  });

  it('keeps the host and port of GitHub Enterprise', () => {
    expect(normalizeRepositoryUrl('https://GHE.example.com:8443/Team/Svc.git')).toBe('https://ghe.example.com:8443/team/svc');
    expect(normalizeRepositoryUrl('https://github.com:443/a/b')).toBe('https://github.com/a/b');
  });

  it('keeps dots and dashes inside names', () => {
    expect(normalizeRepositoryUrl('https://github.com/my-org/my.app.git')).toBe('https://github.com/my-org/my.app');
  });

  it('never throws: what is not a repository URL comes back trimmed and lowercased, matching nothing real', () => {
    expect(normalizeRepositoryUrl('')).toBe('');
    expect(normalizeRepositoryUrl(' git@GitHub.com:Owner/Repo.git ')).toBe('git@github.com:owner/repo.git');
    expect(normalizeRepositoryUrl('https://github.com/owner/repo/tree/main')).not.toBe('https://github.com/owner/repo');
  });

  it('parseRepositoryUrl rejects URLs that do not name exactly one repository', () => {
    for (const bad of [
      'github.com/owner/repo',
      'git@github.com:owner/repo.git',
      'ssh://github.com/owner/repo',
      'https://github.com/owner',
      'https://github.com/owner/repo/tree/main',
      'https://user:secret@github.com/owner/repo',
      'https://github.com/owner/repo?tab=readme',
      'https://github.com/own%20er/repo',
    ]) {
      expect(() => parseRepositoryUrl(bad), bad).toThrow(/Invalid repository URL/);
    }
  });

  it('parseRepositoryUrl keeps the original case for API calls', () => {
    expect(parseRepositoryUrl('https://github.com/Acme/My-App.git')).toEqual({
      origin: 'https://github.com',
      owner: 'Acme',
      repo: 'My-App',
    });
  });
});
