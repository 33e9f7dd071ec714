/**
 * OCI image references, parsed and normalized the way Docker and Kubernetes do (distribution/reference):
 * `nginx` → docker.io/library/nginx:latest, spoken to at registry-1.docker.io.
 */

export interface ImageReference {
  /** Host (and port) to speak the registry API to, lowercase: `registry-1.docker.io` for Docker Hub. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/nginx`. */
  repository: string;
  /** Tag; `latest` when the reference names neither a tag nor a digest. */
  tag?: string;
  /** `algorithm:hex` when the reference pins a digest. */
  digest?: string;
  /** Fully qualified form, `docker.io/library/nginx:latest`, as kubelet and `docker pull` name it. */
  canonical: string;
}

/** Docker Hub's name in references. */
export const DOCKER_HUB = 'docker.io';
/** Docker Hub's registry API endpoint. */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, DOCKER_HUB_REGISTRY, 'index.docker.io', 'registry.hub.docker.com']);

/** Whether `host` is one of the names Docker Hub goes by (case-insensitive). */
export function isDockerHub(host: string): boolean {
  return DOCKER_HUB_ALIASES.has(host.toLowerCase());
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]{1,5})?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
/** go-digest: the algorithms registries accept, with their encoded lengths (lowercase hex). */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
/** distribution/reference: the name including its domain is at most 255 characters. */
const NAME_MAX = 255;

/** `sha256:<64 lowercase hex>` (or sha384/sha512), as go-digest validates it. */
export function isValidDigest(digest: string): boolean {
  const colon = digest.indexOf(':');
  if (colon < 0) return false;
  const length = DIGEST_HEX_LENGTH[digest.slice(0, colon)];
  const hex = digest.slice(colon + 1);
  return length !== undefined && hex.length === length && /^[a-f0-9]+$/.test(hex);
}

/** Whether `path` is a valid repository path (`team/app`): lowercase components joined by `/`. */
export function isValidRepository(path: string): boolean {
  return path.length > 0 && path.length <= NAME_MAX && path.split('/').every((c) => PATH_COMPONENT.test(c));
}

/** ImageIdentifier (any OCI reference) → parts; docker.io defaults (library/, registry-1.docker.io), ports, digests. */
export function parseImageReference(ref: string): ImageReference | { error: string } {
  if (ref.length === 0) return { error: 'image reference is empty' };
  if (/\s/.test(ref)) return { error: 'image reference must not contain whitespace' };
  if (/^[a-f0-9]{64}$/.test(ref)) return { error: 'a 64-character hexadecimal string is an image ID, not a repository name' };

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isValidDigest(digest)) {
      return { error: `invalid digest "${digest}": expected sha256:<64 lowercase hex characters> (or sha384, sha512)` };
    }
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  // A colon before the last slash belongs to a registry port, not a tag.
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      return { error: `invalid tag "${tag}": up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'` };
    }
  }

  if (rest.length === 0) return { error: 'image reference names no repository' };

  // The first component is a registry only when it looks like a host: has a dot or port, or is localhost.
  // An uppercase first component cannot be a repository path, so it is a host too (distribution does the same).
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  const hasDomain = slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  let domain = hasDomain ? first.toLowerCase() : DOCKER_HUB;
  let repository = hasDomain ? rest.slice(slash + 1) : rest;
  if (hasDomain && !DOMAIN.test(first)) return { error: `invalid registry host "${first}"` };
  if (hasDomain && isDockerHub(domain)) domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;

  if (repository.length === 0) return { error: `image reference names no repository after "${first}/"` };
  if (repository !== repository.toLowerCase()) return { error: `repository name "${repository}" must be lowercase` };
  const bad = repository.split('/').find((c) => !PATH_COMPONENT.test(c));
  if (bad !== undefined) {
    return {
      error: `invalid repository path component "${bad}": lowercase letters and digits, separated by '.', '_', '__' or '-'`,
    };
  }
  if (domain.length + 1 + repository.length > NAME_MAX) {
    return { error: `repository name must not be longer than ${NAME_MAX} characters` };
  }

  if (tag === undefined && digest === undefined) tag = 'latest';
  const canonical = `${domain}/${repository}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  const registry = domain === DOCKER_HUB ? DOCKER_HUB_REGISTRY : domain;
  return { registry, repository, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }), canonical };
}
