import { describe, expect, it } from 'vitest';
import { isValidDigest, parseImageReference } from './reference';

const SHA = `sha256:${'a1'.repeat(32)}`;

describe('parseImageReference', () => {
  it.each([
    [
      'nginx',
      { registry: 'registry-1.docker.io', repository: 'library/nginx', tag: 'latest', canonical: 'docker.io/library/nginx:latest' },
    ],
    [
      'nginx:1.27-alpine',
      {
        registry: 'registry-1.docker.io',
        repository: 'library/nginx',
        tag: '1.27-alpine',
        canonical: 'docker.io/library/nginx:1.27-alpine',
      },
    ],
    [
      'bitnami/redis',
      { registry: 'registry-1.docker.io', repository: 'bitnami/redis', tag: 'latest', canonical: 'docker.io/bitnami/redis:latest' },
    ],
    [
      'docker.io/nginx',
      { registry: 'registry-1.docker.io', repository: 'library/nginx', tag: 'latest', canonical: 'docker.io/library/nginx:latest' },
    ],
    [
      'index.docker.io/library/nginx:1',
      { registry: 'registry-1.docker.io', repository: 'library/nginx', tag: '1', canonical: 'docker.io/library/nginx:1' },
    ],
    [
      'public.ecr.aws/aws-containers/hello-app-runner:latest',
      {
        registry: 'public.ecr.aws',
        repository: 'aws-containers/hello-app-runner',
        tag: 'latest',
        canonical: 'public.ecr.aws/aws-containers/hello-app-runner:latest',
      },
    ],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1',
      {
        registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        repository: 'team/app',
        tag: 'v1',
        canonical: '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1',
      },
    ],
    ['localhost:5000/app', { registry: 'localhost:5000', repository: 'app', tag: 'latest', canonical: 'localhost:5000/app:latest' }],
    ['localhost/app:v2', { registry: 'localhost', repository: 'app', tag: 'v2', canonical: 'localhost/app:v2' }],
    [
      '127.0.0.1:32000/a/b/c:x_y.z',
      { registry: '127.0.0.1:32000', repository: 'a/b/c', tag: 'x_y.z', canonical: '127.0.0.1:32000/a/b/c:x_y.z' },
    ],
    ['[::1]:5000/app:v1', { registry: '[::1]:5000', repository: 'app', tag: 'v1', canonical: '[::1]:5000/app:v1' }],
    [
      'Registry.Example.COM/app',
      { registry: 'registry.example.com', repository: 'app', tag: 'latest', canonical: 'registry.example.com/app:latest' },
    ],
    [
      'ghcr.io/org/my_app__x--y.z',
      { registry: 'ghcr.io', repository: 'org/my_app__x--y.z', tag: 'latest', canonical: 'ghcr.io/org/my_app__x--y.z:latest' },
    ],
    [
      `nginx@${SHA}`,
      { registry: 'registry-1.docker.io', repository: 'library/nginx', digest: SHA, canonical: `docker.io/library/nginx@${SHA}` },
    ],
    [
      `registry.example.com:8443/team/app:v1@${SHA}`,
      {
        registry: 'registry.example.com:8443',
        repository: 'team/app',
        tag: 'v1',
        digest: SHA,
        canonical: `registry.example.com:8443/team/app:v1@${SHA}`,
      },
    ],
  ])('%s', (ref, expected) => {
    expect(parseImageReference(ref)).toEqual(expected);
  });

  it('leaves tag undefined for a digest-only reference', () => {
    const parsed = parseImageReference(`ghcr.io/org/app@${SHA}`);
    expect(parsed).not.toHaveProperty('tag');
  });

  it.each([
    ['', /empty/],
    ['nginx latest', /whitespace/],
    ['Nginx', /must be lowercase/],
    ['docker.io/Library/nginx', /must be lowercase/],
    ['nginx:', /invalid tag ""/],
    ['nginx:-bad', /invalid tag "-bad"/],
    [`nginx:${'x'.repeat(129)}`, /invalid tag/],
    ['nginx@sha256:abc', /invalid digest/],
    [`nginx@sha256:${'A1'.repeat(32)}`, /invalid digest/],
    [`nginx@md5:${'a'.repeat(32)}`, /invalid digest/],
    [`@${SHA}`, /names no repository/],
    ['registry.example.com/', /names no repository/],
    ['team//app', /invalid repository path component ""/],
    ['team/-app', /invalid repository path component "-app"/],
    ['team/app.', /invalid repository path component "app\."/],
    ['-bad.host/app', /invalid registry host "-bad\.host"/],
    ['a'.repeat(64).replace(/a/g, 'f'), /image ID/],
    [`r.io/${'a'.repeat(260)}`, /longer than 255/],
  ])('rejects %j', (ref, message) => {
    const parsed = parseImageReference(ref);
    expect(parsed).toHaveProperty('error');
    expect((parsed as { error: string }).error).toMatch(message);
  });
});

describe('isValidDigest', () => {
  it('accepts the algorithms registries use, with lowercase hex of the right length', () => {
    expect(isValidDigest(SHA)).toBe(true);
    expect(isValidDigest(`sha512:${'0'.repeat(128)}`)).toBe(true);
    expect(isValidDigest(`sha256:${'0'.repeat(63)}`)).toBe(false);
    expect(isValidDigest(`sha512:${'0'.repeat(64)}`)).toBe(false);
    expect(isValidDigest('0'.repeat(64))).toBe(false);
  });
});
