/**
 * Where builds push: image reference checks (the distribution reference grammar, restricted to what the platform pushes to):
 * a repository always names its registry host, so nothing is ever pushed to a default registry by accident.
 */
const HOST = /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::\d{1,5})?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Problems with a `host/path` repository (empty when valid). */
export function repositoryProblems(repository: string): string[] {
  const [host, ...path] = repository.split('/');
  const problems: string[] = [];
  if (path.length === 0) return [`repository ${JSON.stringify(repository)} must be <registry host>/<path>`];
  // Without a dot, a port or "localhost" the first component would be read as a Docker Hub namespace.
  if (!HOST.test(host) || !(host.includes('.') || host.includes(':') || host === 'localhost')) {
    problems.push(`repository ${JSON.stringify(repository)} must start with a registry host (with a dot or a port)`);
  }
  if (!path.every((c) => PATH_COMPONENT.test(c))) {
    problems.push(
      `repository path ${JSON.stringify(path.join('/'))} must be lowercase components of [a-z0-9] separated by '/', '.', '_' or '-'`,
    );
  }
  if (repository.length > 255) problems.push(`repository ${JSON.stringify(repository)} is longer than 255 characters`);
  return problems;
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

/** Throws a TypeError naming the problem: a malformed reference is a caller bug, not a build failure. */
export function assertImageTarget(repository: string, tag: string): void {
  const problems = repositoryProblems(repository);
  if (!isValidTag(tag)) problems.push(`tag ${JSON.stringify(tag)} must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  if (problems.length > 0) throw new TypeError(`Invalid image target: ${problems.join('; ')}`);
}
