/**
 * Tag → digest over the OCI distribution API, with the auth flows registries use: anonymous, HTTP Basic, and
 * the Docker token flow (401 + `WWW-Authenticate: Bearer realm=…,service=…,scope=…` → token service → Bearer).
 */
import { createHash } from 'node:crypto';
import { Clock, SystemClock } from '@apprunner/core';
import type { RegistryCredential } from './credentials';
import { RegistryError } from './errors';
import { type ImageReference, isValidDigest, parseImageReference } from './reference';

/** Every manifest kind a tag can point at; without the list types a registry may answer with one platform's manifest. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

export interface RegistryClientOptions {
  /** Registry hosts spoken to over plain http: `host` (any port) or `host:port`. */
  insecureRegistries?: string[];
  fetch?: typeof fetch;
  /** Per HTTP request, token requests included. */
  timeoutMs?: number;
  /** For token expiry. */
  clock?: Clock;
  userAgent?: string;
}

export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** distribution refuses manifests over 4 MiB; a larger body is not a manifest. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Token services may omit expires_in; the Docker token spec says to assume 60 s. */
const DEFAULT_TOKEN_SECONDS = 60;
/** Renew tokens a little early so one does not expire between the check and the request. */
const TOKEN_EXPIRY_MARGIN_MS = 5_000;
const MAX_CACHED_AUTHORIZATIONS = 1_000;

/**
 * Parses a WWW-Authenticate header into its challenges (RFC 7235): `Bearer realm="…",service="…"`,
 * `Basic realm="…"`, or several of them separated by commas. Scheme names are lowercased.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  const token = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/y;
  let i = 0;
  while (i < header.length) {
    token.lastIndex = i;
    const m = token.exec(header);
    if (!m) {
      i++; // skip a stray comma or character
      continue;
    }
    i = token.lastIndex;
    if (header[i] === '=') {
      // name=value: a parameter of the current challenge.
      i++;
      let value: string;
      if (header[i] === '"') {
        let j = i + 1;
        value = '';
        while (j < header.length && header[j] !== '"') {
          if (header[j] === '\\' && j + 1 < header.length) j++;
          value += header[j++];
        }
        i = j + 1;
      } else {
        const end = header.indexOf(',', i);
        value = (end < 0 ? header.slice(i) : header.slice(i, end)).trim();
        i = end < 0 ? header.length : end;
      }
      const current = challenges.at(-1);
      if (current) current.params[m[1].toLowerCase()] = value;
    } else {
      challenges.push({ scheme: m[1].toLowerCase(), params: {} });
    }
    while (i < header.length && /[\s,]/.test(header[i])) i++;
  }
  return challenges;
}

function basic(credential: RegistryCredential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64')}`;
}

/** Hosts without scheme or path, lowercase. */
function normalizeHost(entry: string): string {
  return entry
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

/** `{"errors":[{"code":"DENIED","message":"…"}]}` → code and text, when the body is the distribution error shape. */
function distributionError(body: string): { code?: string; text?: string } {
  try {
    const first = (JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] }).errors?.[0];
    if (first && typeof first.code === 'string') {
      return { code: first.code, text: typeof first.message === 'string' ? `${first.code}: ${first.message}` : first.code };
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  const text = body.trim().slice(0, 200);
  return text ? { text } : {};
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

export class RegistryClient {
  private readonly insecure: Set<string>;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly userAgent: string;
  /** registry + scope + credential → Authorization header, so polls skip the 401 round trip and the token service. */
  private readonly authorizations = new Map<string, { header: string; expiresAt: number }>();

  constructor(opts: RegistryClientOptions = {}) {
    this.insecure = new Set((opts.insecureRegistries ?? []).map(normalizeHost).filter((h) => h.length > 0));
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.clock = opts.clock ?? new SystemClock();
    this.userAgent = opts.userAgent ?? 'apprunner-k8s';
  }

  /**
   * The digest `ref` points at now: HEAD (then GET fallback) /v2/<repo>/manifests/<tag> with the OCI and Docker
   * manifest and list Accept headers; Docker-Content-Digest, or the sha256 of the body when the registry omits it.
   * A digest reference is checked for existence and returned as given. Unknown repository or tag → undefined.
   * Throws RegistryError: invalid reference, authentication (401/403), rate limits, unreachable registry.
   */
  async resolveDigest(ref: string, credential?: RegistryCredential): Promise<string | undefined> {
    const image = parseImageReference(ref);
    if ('error' in image) throw new RegistryError(`invalid image reference "${ref}": ${image.error}`);
    const reference = image.digest ?? image.tag ?? 'latest';
    const url = `${this.baseUrl(image.registry)}/v2/${image.repository}/manifests/${reference}`;

    const head = await this.send('HEAD', url, image, credential);
    if (head.status === 404) return undefined;
    if (head.ok) {
      const digest = this.digestHeader(head, image);
      if (digest !== undefined) return image.digest ?? digest;
      // Some registries (and proxies) leave Docker-Content-Digest off HEAD answers: ask with GET.
    } else if (head.status !== 405 && head.status !== 501) {
      // Only "HEAD not supported" is worth a GET; any other refusal would be repeated.
      throw this.statusError(head, image, '');
    }

    const get = await this.send('GET', url, image, credential);
    if (get.status === 404) {
      await discard(get);
      return undefined;
    }
    if (!get.ok) throw this.statusError(get, image, await this.readText(get));
    const body = await this.readManifest(get, image);
    return image.digest ?? this.digestHeader(get, image) ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
  }

  private baseUrl(registry: string): string {
    const host = registry.replace(/:\d+$/, '');
    const insecure = this.insecure.has(registry) || this.insecure.has(host);
    return `${insecure ? 'http' : 'https'}://${registry}`;
  }

  private digestHeader(res: Response, image: ImageReference): string | undefined {
    const digest = res.headers.get('docker-content-digest')?.trim();
    if (!digest) return undefined;
    if (!isValidDigest(digest)) {
      throw new RegistryError(`${image.registry} answered an invalid Docker-Content-Digest "${digest}" for ${image.canonical}`);
    }
    return digest;
  }

  /** One registry request, authenticating on a 401 challenge and retrying once. */
  private async send(method: 'HEAD' | 'GET', url: string, image: ImageReference, credential?: RegistryCredential): Promise<Response> {
    const scope = `repository:${image.repository}:pull`;
    const cacheKey = `${image.registry}\n${scope}\n${credential ? createHash('sha256').update(`${credential.username}\0${credential.password}`).digest('hex') : ''}`;
    const cached = this.authorizations.get(cacheKey);
    const cachedHeader = cached && cached.expiresAt > this.clock.now().getTime() ? cached.header : undefined;

    const first = await this.request(method, url, image.registry, cachedHeader);
    if (first.status !== 401) return first;
    const firstBody = await this.readText(first);
    this.authorizations.delete(cacheKey);

    const challenges = parseWwwAuthenticate(first.headers.get('www-authenticate') ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basicChallenge = challenges.find((c) => c.scheme === 'basic');
    let authorization: { header: string; expiresAt: number };
    if (bearer) {
      authorization = await this.fetchToken(bearer, image, scope, credential);
    } else if (basicChallenge) {
      if (!credential) {
        throw this.statusError(
          first,
          image,
          firstBody,
          `${image.registry} requires authentication for ${image.canonical} and no pull credential was given`,
        );
      }
      authorization = { header: basic(credential), expiresAt: Number.POSITIVE_INFINITY };
    } else {
      throw this.statusError(
        first,
        image,
        firstBody,
        `${image.registry} answered 401 for ${image.canonical} without a Basic or Bearer challenge`,
      );
    }

    const second = await this.request(method, url, image.registry, authorization.header);
    if (second.status === 401) {
      const why = credential
        ? `${image.registry} refused the pull credential of user "${credential.username}" for ${image.canonical}`
        : bearer
          ? `${image.registry} refused anonymous access to ${image.canonical}: the repository is private (give a pull credential) or does not exist`
          : `${image.registry} requires authentication for ${image.canonical} and no pull credential was given`;
      throw this.statusError(second, image, await this.readText(second), why);
    }
    this.remember(cacheKey, authorization);
    return second;
  }

  private remember(key: string, authorization: { header: string; expiresAt: number }): void {
    if (this.authorizations.size >= MAX_CACHED_AUTHORIZATIONS) {
      const now = this.clock.now().getTime();
      for (const [k, v] of this.authorizations) if (v.expiresAt <= now) this.authorizations.delete(k);
      // Still full: drop the oldest entry (Map keeps insertion order).
      if (this.authorizations.size >= MAX_CACHED_AUTHORIZATIONS) this.authorizations.delete(this.authorizations.keys().next().value!);
    }
    this.authorizations.set(key, authorization);
  }

  /** The Docker token flow: GET realm?service=…&scope=…, with Basic credentials when we have them. */
  private async fetchToken(
    challenge: AuthChallenge,
    image: ImageReference,
    scope: string,
    credential?: RegistryCredential,
  ): Promise<{ header: string; expiresAt: number }> {
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? '');
      if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      throw new RegistryError(`${image.registry} sent a Bearer challenge without a valid realm URL ("${challenge.params.realm ?? ''}")`, {
        status: 401,
      });
    }
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    // The challenge's scope is what this request needs; ours is the same for a pull, but trust the registry.
    realm.searchParams.set('scope', challenge.params.scope ?? scope);
    const res = await this.request('GET', realm.toString(), image.registry, credential && basic(credential), 'application/json');
    const text = await this.readText(res);
    if (res.status === 401 || res.status === 403) {
      const who = credential ? `the pull credential of user "${credential.username}"` : 'anonymous access';
      throw new RegistryError(`the token service of ${image.registry} (${realm.origin}${realm.pathname}) refused ${who}`, {
        status: res.status,
        ...distributionError(text),
      });
    }
    if (!res.ok) {
      throw new RegistryError(`the token service of ${image.registry} answered HTTP ${res.status}: ${distributionError(text).text ?? ''}`, {
        status: res.status,
        transient: res.status === 429 || res.status >= 500,
      });
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new RegistryError(`the token service of ${image.registry} answered something that is not JSON`, { status: res.status });
    }
    const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
    if (typeof token !== 'string' || token.length === 0) {
      throw new RegistryError(`the token service of ${image.registry} answered without a token`, { status: res.status });
    }
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    return { header: `Bearer ${token}`, expiresAt: this.clock.now().getTime() + seconds * 1_000 - TOKEN_EXPIRY_MARGIN_MS };
  }

  private async request(method: string, url: string, registry: string, authorization?: string, accept?: string): Promise<Response> {
    const headers: Record<string, string> = {
      accept: accept ?? MANIFEST_MEDIA_TYPES.join(', '),
      'user-agent': this.userAgent,
    };
    if (authorization) headers.authorization = authorization;
    try {
      return await this.fetch(url, { method, headers, redirect: 'follow', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      if (err.name === 'TimeoutError' || err.name === 'AbortError') {
        throw new RegistryError(`${method} ${url} timed out after ${this.timeoutMs} ms`, { transient: true, cause: e });
      }
      const detail = err.cause?.code ?? err.cause?.message ?? err.message;
      throw new RegistryError(`cannot reach registry ${registry} (${method} ${url}): ${detail}`, { transient: true, cause: e });
    }
  }

  private async readText(res: Response): Promise<string> {
    try {
      return res.body ? await res.text() : '';
    } catch {
      return '';
    }
  }

  private async readManifest(res: Response, image: ImageReference): Promise<Buffer> {
    const length = Number(res.headers.get('content-length') ?? '0');
    if (length > MAX_MANIFEST_BYTES) {
      await discard(res);
      throw new RegistryError(`${image.registry} answered a ${length}-byte manifest for ${image.canonical}; manifests are at most 4 MiB`);
    }
    let body: Buffer;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      // The request's timeout also covers the body; a reset connection lands here too.
      throw new RegistryError(`reading the manifest of ${image.canonical} from ${image.registry} failed: ${(e as Error).message}`, {
        transient: true,
        cause: e,
      });
    }
    if (body.length > MAX_MANIFEST_BYTES) {
      throw new RegistryError(
        `${image.registry} answered a ${body.length}-byte manifest for ${image.canonical}; manifests are at most 4 MiB`,
      );
    }
    return body;
  }

  private statusError(res: Response, image: ImageReference, body: string, why?: string): RegistryError {
    const { code, text } = distributionError(body);
    const status = res.status;
    const what = image.canonical;
    const summary =
      why ??
      (status === 401
        ? `${image.registry} requires authentication for ${what}`
        : status === 403
          ? `${image.registry} denied access to ${what}`
          : status === 429
            ? `${image.registry} is rate limiting requests for ${what}`
            : `${image.registry} answered HTTP ${status} for ${what}`);
    return new RegistryError(text ? `${summary}: ${text}` : summary, { status, code, transient: status === 429 || status >= 500 });
  }
}
