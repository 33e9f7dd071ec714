import { createHash, createHmac, randomUUID } from 'node:crypto';

export interface SignedWebhookRequest {
  /** Lowercase header names, as Node's http server presents them. */
  headers: Record<string, string>;
  /** The exact bytes the signature covers. */
  body: string;
}

/**
 * A webhook delivery as GitHub sends it: JSON body, event and delivery headers, and both signatures.
 * Signed here with node:crypto directly, independently of the verification code under test.
 */
export function signedWebhookRequest(
  secret: string,
  event: string,
  payload: unknown,
  deliveryId: string = randomUUID(),
): SignedWebhookRequest {
  const body = JSON.stringify(payload);
  return {
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/7b1a2c3',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': '461224130',
      'x-github-hook-installation-target-type': 'integration',
      'x-github-hook-installation-target-id': '123456',
      'x-hub-signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`,
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
    body,
  };
}

export interface PushPayloadOptions {
  installationId: number;
  /** `owner/repo` */
  repo: string;
  /** Base of html_url and clone_url (the stub's webUrl). */
  webUrl: string;
  /** API base for the `url` fields (defaults to webUrl's GitHub Enterprise form, `${webUrl}/api/v3`). */
  apiUrl?: string;
  branch?: string;
  /** A tag push instead of a branch push. */
  tag?: string;
  after: string;
  before?: string;
  /** The branch was deleted: `after` becomes all zeros and there is no head commit. */
  deleted?: boolean;
}

const ZERO = '0000000000000000000000000000000000000000';

/** A push event payload shaped like GitHub's (the fields a consumer might read, with realistic values). */
export function pushPayload(opts: PushPayloadOptions): Record<string, unknown> {
  if ((opts.branch === undefined) === (opts.tag === undefined)) throw new Error('pushPayload needs exactly one of branch and tag');
  const [owner, name] = opts.repo.split('/');
  if (!owner || !name) throw new Error(`pushPayload repo must be "owner/repo", got "${opts.repo}"`);
  const web = opts.webUrl.replace(/\/+$/, '');
  const api = (opts.apiUrl ?? `${web}/api/v3`).replace(/\/+$/, '');
  const ref = opts.branch !== undefined ? `refs/heads/${opts.branch}` : `refs/tags/${opts.tag}`;
  const deleted = opts.deleted ?? false;
  const after = deleted ? ZERO : opts.after;
  const before = opts.before ?? (deleted ? opts.after : ZERO);
  const created = before === ZERO && !deleted;
  const now = new Date();
  const ownerId = numericId(owner);
  const repoId = numericId(opts.repo);
  const person = { name: 'Mona Lisa', email: 'mona@example.com', username: 'mona' };
  const headCommit = deleted
    ? null
    : {
        id: after,
        tree_id: createHash('sha1').update(`tree:${after}`).digest('hex'),
        distinct: true,
        message: 'Update app',
        timestamp: now.toISOString(),
        url: `${web}/${opts.repo}/commit/${after}`,
        author: person,
        committer: person,
        added: [],
        removed: [],
        modified: ['app.py'],
      };
  const user = {
    name: owner,
    email: null,
    login: owner,
    id: ownerId,
    node_id: `O_${Buffer.from(String(ownerId)).toString('base64')}`,
    avatar_url: `${web}/avatars/u/${ownerId}?v=4`,
    url: `${api}/users/${owner}`,
    html_url: `${web}/${owner}`,
    type: 'Organization',
    site_admin: false,
  };
  return {
    ref,
    before,
    after,
    repository: {
      id: repoId,
      node_id: `R_${Buffer.from(String(repoId)).toString('base64')}`,
      name,
      full_name: opts.repo,
      private: true,
      owner: user,
      html_url: `${web}/${opts.repo}`,
      description: null,
      fork: false,
      url: `${web}/${opts.repo}`,
      git_url: `git://${new URL(web).host}/${opts.repo}.git`,
      ssh_url: `git@${new URL(web).hostname}:${opts.repo}.git`,
      clone_url: `${web}/${opts.repo}.git`,
      svn_url: `${web}/${opts.repo}`,
      homepage: null,
      size: 1,
      default_branch: 'main',
      master_branch: 'main',
      organization: owner,
      visibility: 'private',
      pushed_at: Math.floor(now.getTime() / 1000),
      created_at: 1_700_000_000,
      updated_at: now.toISOString(),
    },
    pusher: { name: 'mona', email: 'mona@example.com' },
    organization: { login: owner, id: ownerId, url: `${api}/orgs/${owner}` },
    sender: { ...user, login: 'mona', type: 'User', html_url: `${web}/mona` },
    installation: { id: opts.installationId, node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${opts.installationId}` },
    created,
    deleted,
    forced: false,
    base_ref: null,
    compare: `${web}/${opts.repo}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits: headCommit ? [headCommit] : [],
    head_commit: headCommit,
  };
}

export interface InstallationPayloadOptions {
  action: 'created' | 'deleted' | 'suspend' | 'unsuspend' | 'new_permissions_accepted';
  installationId: number;
  account: string;
  webUrl: string;
  apiUrl?: string;
  appId?: number;
  repositories?: string[];
}

/** An `installation` event payload shaped like GitHub's. */
export function installationPayload(opts: InstallationPayloadOptions): Record<string, unknown> {
  const web = opts.webUrl.replace(/\/+$/, '');
  const api = (opts.apiUrl ?? `${web}/api/v3`).replace(/\/+$/, '');
  const accountId = numericId(opts.account);
  const account = {
    login: opts.account,
    id: accountId,
    node_id: `O_${Buffer.from(String(accountId)).toString('base64')}`,
    url: `${api}/users/${opts.account}`,
    html_url: `${web}/${opts.account}`,
    type: 'Organization',
    site_admin: false,
  };
  const suspended = opts.action === 'suspend';
  return {
    action: opts.action,
    installation: {
      id: opts.installationId,
      account,
      repository_selection: 'selected',
      access_tokens_url: `${api}/app/installations/${opts.installationId}/access_tokens`,
      repositories_url: `${api}/installation/repositories`,
      html_url: `${web}/organizations/${opts.account}/settings/installations/${opts.installationId}`,
      app_id: opts.appId ?? 123456,
      target_id: accountId,
      target_type: 'Organization',
      permissions: { contents: 'read', metadata: 'read' },
      events: ['push'],
      created_at: '2026-01-01T00:00:00Z',
      updated_at: new Date().toISOString(),
      single_file_name: null,
      suspended_by: suspended ? { login: 'mona', id: 1, type: 'User' } : null,
      suspended_at: suspended ? new Date().toISOString() : null,
    },
    ...(opts.action === 'created'
      ? {
          repositories: (opts.repositories ?? []).map((full) => ({
            id: numericId(full),
            name: full.split('/')[1],
            full_name: full,
            private: true,
          })),
        }
      : {}),
    sender: { login: 'mona', id: 1, type: 'User' },
  };
}

/** A stable positive id from a name, so payloads repeat across runs. */
function numericId(name: string): number {
  return createHash('sha256').update(name).digest().readUInt32BE(0) + 1;
}
