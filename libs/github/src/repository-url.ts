import { InvalidRequestException } from '@apprunner/core';

export interface RepositoryCoordinates {
  /** scheme://host[:port] of the GitHub (or GitHub Enterprise) web UI, lowercase. */
  origin: string;
  owner: string;
  repo: string;
}

// GitHub owner and repository names: letters, digits, '-', '_' and '.' (owners: no '_' or '.', but GHE is laxer).
const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Splits an https repository URL (`https://HOST/OWNER/REPO`, optional `.git` and trailing slash) into its parts.
 * Owner and repository keep the case they were written in; see normalizeRepositoryUrl for the comparable form.
 */
export function parseRepositoryUrl(url: string): RepositoryCoordinates {
  const invalid = (why: string) =>
    new InvalidRequestException(`Invalid repository URL "${url}": ${why}. Expected https://HOST/OWNER/REPOSITORY.`);
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw invalid('not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw invalid(`scheme ${parsed.protocol} is not supported`);
  // Credentials in the URL would end up in logs and records; connections carry authentication instead.
  if (parsed.username || parsed.password) throw invalid('credentials are not allowed in the URL');
  if (parsed.search || parsed.hash) throw invalid('query strings and fragments are not allowed');
  const segments = parsed.pathname.replace(/\/+$/, '').split('/').filter(Boolean);
  if (segments.length !== 2) throw invalid('the path must be exactly /OWNER/REPOSITORY');
  const owner = segments[0];
  const repo = segments[1].replace(/\.git$/i, '');
  if (!NAME.test(owner) || !NAME.test(repo) || repo === '.' || repo === '..')
    throw invalid('owner or repository name has characters GitHub does not allow');
  return { origin: parsed.origin.toLowerCase(), owner, repo };
}

/**
 * The comparable form of a repository URL: `https://github.com/Owner/Repo.git/` → `https://github.com/owner/repo`.
 * Lowercase throughout because GitHub resolves owner and repository names case-insensitively, and push events
 * carry the canonical case while users type whatever they like: both must meet on one key.
 *
 * A comparison key, so it never throws: anything that is not a repository URL comes back trimmed and lowercased,
 * which matches no real repository. Validate input with parseRepositoryUrl.
 */
export function normalizeRepositoryUrl(url: string): string {
  try {
    const { origin, owner, repo } = parseRepositoryUrl(url);
    return `${origin}/${owner.toLowerCase()}/${repo.toLowerCase()}`;
  } catch {
    return String(url ?? '')
      .trim()
      .toLowerCase();
  }
}

/** `https://HOST/` and `https://HOST` name the same site; URLs built from settings must not get `//`. */
export function trimTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}
