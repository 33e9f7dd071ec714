import { describe, expect, it } from 'vitest';
import { credentialFor, dockerConfigJson, pullSecretNameFromRoleArn } from './credentials';
import { RegistryError } from './errors';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const config = (auths: Record<string, unknown>): string => JSON.stringify({ auths });

describe('credentialFor', () => {
  it.each([
    ['registry.example.com'],
    ['https://registry.example.com'],
    ['http://registry.example.com'],
    ['https://registry.example.com/v1/'],
    ['https://registry.example.com/v2/'],
    ['REGISTRY.example.com'],
  ])('finds host entries written as %s', (key) => {
    const doc = config({ [key]: { username: 'u', password: 'p' } });
    expect(credentialFor(doc, 'registry.example.com')).toEqual({ username: 'u', password: 'p' });
  });

  it.each([['https://index.docker.io/v1/'], ['docker.io'], ['index.docker.io'], ['registry-1.docker.io']])(
    'treats %s as Docker Hub',
    (key) => {
      const doc = config({ [key]: { auth: b64('hubuser:hubpass') } });
      expect(credentialFor(doc, 'registry-1.docker.io')).toEqual({ username: 'hubuser', password: 'hubpass' });
      expect(credentialFor(doc, 'docker.io')).toEqual({ username: 'hubuser', password: 'hubpass' });
    },
  );

  it('requires the port to match', () => {
    const doc = config({ 'registry.example.com:5000': { username: 'u', password: 'p' } });
    expect(credentialFor(doc, 'registry.example.com:5000')).toEqual({ username: 'u', password: 'p' });
    expect(credentialFor(doc, 'registry.example.com')).toBeUndefined();
    expect(credentialFor(doc, 'registry.example.com:5001')).toBeUndefined();
  });

  it('does not match other hosts, sub-domains or Docker Hub by accident', () => {
    const doc = config({ 'example.com': { username: 'u', password: 'p' } });
    expect(credentialFor(doc, 'registry.example.com')).toBeUndefined();
    expect(credentialFor(doc, 'example.com.evil.io')).toBeUndefined();
    expect(credentialFor(doc, 'registry-1.docker.io')).toBeUndefined();
  });

  it('matches kubelet globs, one label per *, and prefers an exact host', () => {
    const doc = config({
      '*.example.com': { username: 'glob', password: 'g' },
      'special.example.com': { username: 'exact', password: 'e' },
    });
    expect(credentialFor(doc, 'any.example.com')?.username).toBe('glob');
    expect(credentialFor(doc, 'special.example.com')?.username).toBe('exact');
    expect(credentialFor(doc, 'a.b.example.com')).toBeUndefined();
  });

  it('uses repository-scoped keys only for that repository, the longest prefix first', () => {
    const doc = config({
      'registry.example.com': { username: 'whole', password: 'w' },
      'registry.example.com/team': { username: 'team', password: 't' },
      'registry.example.com/team/app': { username: 'app', password: 'a' },
    });
    expect(credentialFor(doc, 'registry.example.com')?.username).toBe('whole');
    expect(credentialFor(doc, 'registry.example.com', 'team/other')?.username).toBe('team');
    expect(credentialFor(doc, 'registry.example.com', 'team/app')?.username).toBe('app');
    expect(credentialFor(doc, 'registry.example.com', 'teammate/app')?.username).toBe('whole');
  });

  it('decodes "auth" (a password may contain colons) in preference to username/password', () => {
    const doc = config({ 'r.io': { username: 'ignored', password: 'ignored', auth: b64('robot$ci:pa:ss') } });
    expect(credentialFor(doc, 'r.io')).toEqual({ username: 'robot$ci', password: 'pa:ss' });
  });

  it('returns undefined when nothing matches, and throws RegistryError on documents it cannot use', () => {
    expect(credentialFor(config({}), 'r.io')).toBeUndefined();
    expect(() => credentialFor('{', 'r.io')).toThrow(/not valid JSON/);
    expect(() => credentialFor(JSON.stringify({ 'r.io': { auth: b64('u:p') } }), 'r.io')).toThrow(/no "auths" object/);
    expect(() => credentialFor(config({ 'r.io': { auth: b64('no-colon') } }), 'r.io')).toThrow(RegistryError);
    expect(() => credentialFor(config({ 'r.io': { identitytoken: 'tok' } }), 'r.io')).toThrow(/identitytoken.*not supported/);
    expect(() => credentialFor(config({ 'r.io': { email: 'x@y' } }), 'r.io')).toThrow(/neither "auth" nor/);
    // A broken entry for another registry does not matter.
    expect(credentialFor(config({ 'other.io': 'junk', 'r.io': { username: 'u', password: 'p' } }), 'r.io')).toEqual({
      username: 'u',
      password: 'p',
    });
  });
});

describe('dockerConfigJson', () => {
  it('writes a document credentialFor reads back, with the auth field Docker and kubelet read', () => {
    const doc = dockerConfigJson('127.0.0.1:5000', { username: 'alice', password: 's3:cret' });
    expect(JSON.parse(doc)).toEqual({
      auths: { '127.0.0.1:5000': { username: 'alice', password: 's3:cret', auth: b64('alice:s3:cret') } },
    });
    expect(credentialFor(doc, '127.0.0.1:5000')).toEqual({ username: 'alice', password: 's3:cret' });
  });

  it("keys Docker Hub by Docker's legacy index URL", () => {
    const doc = dockerConfigJson('registry-1.docker.io', { username: 'u', password: 'p' });
    expect(Object.keys(JSON.parse(doc).auths)).toEqual(['https://index.docker.io/v1/']);
    expect(credentialFor(doc, 'docker.io')).toEqual({ username: 'u', password: 'p' });
  });
});

describe('pullSecretNameFromRoleArn', () => {
  const ACCOUNT = '123456789012';

  it('maps a role of the tenant account to the Secret of the same name, IAM path or not', () => {
    expect(pullSecretNameFromRoleArn(`arn:aws:iam::${ACCOUNT}:role/ghcr-pull`, ACCOUNT)).toEqual({ secretName: 'ghcr-pull' });
    expect(pullSecretNameFromRoleArn(`arn:aws:iam::${ACCOUNT}:role/service-role/team.registry`, ACCOUNT)).toEqual({
      secretName: 'team.registry',
    });
    expect(pullSecretNameFromRoleArn(`arn:aws-cn:iam::${ACCOUNT}:role/pull`, ACCOUNT)).toEqual({ secretName: 'pull' });
  });

  it.each([
    ['arn:aws:iam::999999999999:role/pull', /belongs to account 999999999999; only roles of account 123456789012/],
    ['arn:aws:iam::123456789012:user/pull', /is not an IAM role ARN/],
    ['arn:aws:apprunner:us-east-1:123456789012:service/x/y', /is not an IAM role ARN/],
    ['arn:aws:iam::12345:role/pull', /is not an IAM role ARN/],
    ['pull', /is not an IAM role ARN/],
    ['arn:aws:iam::123456789012:role/path/', /invalid role name ""/],
    ['arn:aws:iam::123456789012:role/AppRunnerECRAccessRole', /cannot name a Kubernetes Secret/],
    ['arn:aws:iam::123456789012:role/pull_secret', /cannot name a Kubernetes Secret/],
    ['arn:aws:iam::123456789012:role/-pull', /cannot name a Kubernetes Secret/],
    [`arn:aws:iam::123456789012:role/${'a'.repeat(65)}`, /invalid role name/],
  ])('rejects %s', (arn, message) => {
    const result = pullSecretNameFromRoleArn(arn, ACCOUNT);
    expect(result).toHaveProperty('error');
    expect((result as { error: string }).error).toMatch(message);
  });
});
