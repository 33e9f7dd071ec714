import { Webhooks } from '@octokit/webhooks';
import { normalizeRepositoryUrl, parseRepositoryUrl } from './repository-url';

/**
 * Checks X-Hub-Signature-256 (`sha256=<hex HMAC of the raw body>`) in constant time. The body must be the bytes
 * GitHub sent, before any JSON parsing: re-serialized JSON does not hash the same.
 */
export async function verifyWebhookSignature(
  secret: string,
  rawBody: Buffer | string,
  signatureHeader: string | undefined,
): Promise<boolean> {
  if (!secret) throw new Error('The webhook secret is not configured');
  if (!signatureHeader || !signatureHeader.startsWith('sha256=')) return false;
  const payload = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  if (payload.length === 0) return false;
  return new Webhooks({ secret }).verify(payload, signatureHeader.trim());
}

export type InstallationAction = 'created' | 'deleted' | 'suspend' | 'unsuspend' | 'new_permissions_accepted';

/** The events we act on; anything else is `ignored` with the reason (for the delivery log). */
export type GitHubEvent =
  | {
      kind: 'push';
      installationId: number;
      /** html_url in normalizeRepositoryUrl form. */
      repositoryUrl: string;
      cloneUrl: string;
      branch: string;
      /** The `after` commit (all zeros when the branch was deleted). */
      commit: string;
      deleted: boolean;
    }
  | { kind: 'installation'; action: InstallationAction; installationId: number; account: string }
  | { kind: 'ignored'; reason: string };

const INSTALLATION_ACTIONS: readonly string[] = [
  'created',
  'deleted',
  'suspend',
  'unsuspend',
  'new_permissions_accepted',
] satisfies InstallationAction[];

/** Parses the X-GitHub-Event name and the (already verified) JSON payload. Never throws. */
export function parseGitHubEvent(eventName: string, payload: unknown): GitHubEvent {
  if (!isObject(payload)) return ignored(`${eventName} delivery without a JSON object payload`);
  switch (eventName) {
    case 'push':
      return parsePush(payload);
    case 'installation':
      return parseInstallation(payload);
    case 'ping':
      return ignored('ping (the webhook was set up)');
    default:
      return ignored(`event ${JSON.stringify(eventName)} is not one we act on`);
  }
}

function parsePush(payload: Record<string, unknown>): GitHubEvent {
  const ref = payload.ref;
  if (typeof ref !== 'string') return ignored('push without a ref');
  if (!ref.startsWith('refs/heads/')) return ignored(`push to ${ref}, not to a branch`);
  const installationId = installationIdOf(payload);
  if (installationId === undefined) return ignored('push without an installation (not delivered by a GitHub App)');
  const repository = payload.repository;
  if (!isObject(repository) || typeof repository.html_url !== 'string' || typeof repository.clone_url !== 'string') {
    return ignored('push without repository.html_url and repository.clone_url');
  }
  const commit = payload.after;
  if (typeof commit !== 'string' || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) return ignored('push without a valid "after" commit');
  try {
    parseRepositoryUrl(repository.html_url);
  } catch (e) {
    return ignored(`push with an unusable repository URL: ${(e as Error).message}`);
  }
  const repositoryUrl = normalizeRepositoryUrl(repository.html_url);
  return {
    kind: 'push',
    installationId,
    repositoryUrl,
    cloneUrl: repository.clone_url,
    branch: ref.slice('refs/heads/'.length),
    commit,
    deleted: payload.deleted === true,
  };
}

function parseInstallation(payload: Record<string, unknown>): GitHubEvent {
  const action = payload.action;
  if (typeof action !== 'string' || !INSTALLATION_ACTIONS.includes(action))
    return ignored(`installation action ${JSON.stringify(action)} is not one we act on`);
  const installationId = installationIdOf(payload);
  const installation = payload.installation;
  const account = isObject(installation) && isObject(installation.account) ? installation.account.login : undefined;
  if (installationId === undefined || typeof account !== 'string')
    return ignored('installation event without installation.id and installation.account.login');
  return { kind: 'installation', action: action as InstallationAction, installationId, account };
}

function installationIdOf(payload: Record<string, unknown>): number | undefined {
  const installation = payload.installation;
  if (!isObject(installation)) return undefined;
  const id = installation.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function ignored(reason: string): GitHubEvent {
  return { kind: 'ignored', reason };
}
