/**
 * Pull credentials: the tenant stores a `kubernetes.io/dockerconfigjson` Secret and names it with
 * AuthenticationConfiguration.AccessRoleArn (`arn:aws:iam::<account>:role/<Secret name>`).
 */
import { RegistryError } from './errors';
import { isDockerHub } from './reference';

export interface RegistryCredential {
  username: string;
  password: string;
}

/** The auths key Docker, kubelet and containers/image all find for Docker Hub. */
const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

interface AuthsKey {
  /** Lowercase host[:port], `docker.io` for every Docker Hub alias; may hold `*` labels (kubelet globs). */
  host: string;
  /** Repository prefix the entry is scoped to (kubelet), '' for the whole registry. */
  path: string;
}

/** `https://host/v1/`, `host`, `host/team` → host and path, as kubelet's keyring reads auths keys. */
function parseAuthsKey(key: string): AuthsKey {
  const schemeless = key.replace(/^https?:\/\//i, '');
  const slash = schemeless.indexOf('/');
  let host = (slash < 0 ? schemeless : schemeless.slice(0, slash)).toLowerCase();
  let path = slash < 0 ? '' : schemeless.slice(slash);
  // Docker's legacy keys carry the API version: `/v1/` and `/v2/` mean the whole registry.
  if (/^\/v[12](\/|$)/.test(path)) path = path.slice(3);
  path = path.replace(/^\/+|\/+$/g, '');
  if (isDockerHub(host)) host = 'docker.io';
  return { host, path };
}

/** kubelet's glob: `*` matches exactly one DNS label; the port must be equal. */
function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.includes('*')) return false;
  const [patternName, patternPort = ''] = splitPort(pattern);
  const [hostName, hostPort = ''] = splitPort(host);
  if (patternPort !== hostPort) return false;
  const patternLabels = patternName.split('.');
  const hostLabels = hostName.split('.');
  if (patternLabels.length !== hostLabels.length) return false;
  return patternLabels.every((label, i) => {
    const re = new RegExp(`^${label.split('*').map(escapeRegExp).join('[^.]*')}$`);
    return re.test(hostLabels[i]);
  });
}

function splitPort(host: string): [string, string?] {
  const m = /^(.*?)(?::(\d+))?$/.exec(host);
  return m ? [m[1], m[2]] : [host];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function entryCredential(key: string, entry: unknown): RegistryCredential {
  if (typeof entry !== 'object' || entry === null) {
    throw new RegistryError(`dockerconfigjson: the auths entry "${key}" is not an object`);
  }
  const e = entry as Record<string, unknown>;
  if (typeof e.auth === 'string' && e.auth.length > 0) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) {
      throw new RegistryError(`dockerconfigjson: the "auth" of "${key}" is not base64 of "username:password"`);
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof e.username === 'string' && e.username.length > 0 && typeof e.password === 'string') {
    return { username: e.username, password: e.password };
  }
  if (typeof e.identitytoken === 'string' || typeof e.registrytoken === 'string') {
    throw new RegistryError(
      `dockerconfigjson: the entry "${key}" holds only a token (identitytoken/registrytoken), which is not supported; store a username and password`,
    );
  }
  throw new RegistryError(`dockerconfigjson: the entry "${key}" has neither "auth" nor "username" and "password"`);
}

/**
 * From a dockerconfigjson Secret's `.dockerconfigjson` (base64-decoded JSON): the entry for `registry`.
 * Keys match as Docker and kubelet match them: `host`, `https://host`, `https://host/v1/`, Docker Hub aliases,
 * `*.example.com` globs, and (kubelet) repository-scoped keys like `host/team` when `repository` is given.
 * The most specific key wins: an exact host over a glob, a longer repository prefix over a shorter one.
 * Throws RegistryError when the document is not a dockerconfigjson or the matching entry is unusable.
 */
export function credentialFor(dockerConfigJson: string, registry: string, repository?: string): RegistryCredential | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(dockerConfigJson);
  } catch (e) {
    throw new RegistryError(`dockerconfigjson is not valid JSON: ${(e as Error).message}`);
  }
  const auths = (doc as { auths?: unknown } | null)?.auths;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    throw new RegistryError('dockerconfigjson has no "auths" object (is this a kubernetes.io/dockerconfigjson Secret?)');
  }

  const target = parseAuthsKey(registry);
  let best: { key: string; score: number } | undefined;
  for (const key of Object.keys(auths).sort()) {
    const k = parseAuthsKey(key);
    if (!hostMatches(k.host, target.host)) continue;
    if (k.path !== '' && !(repository !== undefined && (repository === k.path || repository.startsWith(`${k.path}/`)))) continue;
    const score = (k.host === target.host ? 1_000 : 0) + k.path.length;
    if (best === undefined || score > best.score) best = { key, score };
  }
  return best === undefined ? undefined : entryCredential(best.key, (auths as Record<string, unknown>)[best.key]);
}

/** A dockerconfigjson document holding `credential` for `registry` (pull Secrets, the build driver's auth file). */
export function dockerConfigJson(registry: string, credential: RegistryCredential): string {
  const key = isDockerHub(registry) ? DOCKER_HUB_AUTH_KEY : registry.toLowerCase();
  const auth = Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64');
  return JSON.stringify({ auths: { [key]: { username: credential.username, password: credential.password, auth } } });
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(.+)$/;
const IAM_ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** Kubernetes Secret names are DNS-1123 subdomains. */
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * AccessRoleArn `arn:aws:iam::<account>:role[/path]/<name>` of the tenant's own account → the name of the
 * dockerconfigjson Secret holding the pull credential (the role name; an IAM path is allowed and ignored, as
 * role names are unique in an account). Another account's role, or a name Kubernetes cannot use, is an error.
 */
export function pullSecretNameFromRoleArn(arn: string, accountId: string): { secretName: string } | { error: string } {
  const r = objectNameFromRoleArn(arn, accountId, 'AccessRoleArn', 'Secret');
  return 'error' in r ? r : { secretName: r.name };
}

/**
 * An IAM role ARN of the tenant's own account (AccessRoleArn, InstanceRoleArn) → the name of the Kubernetes object
 * that stands for the role in the tenant's namespace (a pull Secret, a ServiceAccount): the role name, IAM path ignored.
 */
export function objectNameFromRoleArn(arn: string, accountId: string, field: string, kind: string): { name: string } | { error: string } {
  const m = ROLE_ARN.exec(arn);
  if (!m) return { error: `${field} "${arn}" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)` };
  const [, account, rolePath] = m;
  if (account !== accountId) {
    return { error: `${field} "${arn}" belongs to account ${account}; only roles of account ${accountId} can be used` };
  }
  const name = rolePath.slice(rolePath.lastIndexOf('/') + 1);
  if (!IAM_ROLE_NAME.test(name)) return { error: `${field} "${arn}" has an invalid role name "${name}"` };
  if (!SECRET_NAME.test(name)) {
    return {
      error: `${field} role name "${name}" cannot name a Kubernetes ${kind}: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`,
    };
  }
  return { name };
}
