import { describe, expect, it } from 'vitest';
import { parseSecretRef } from './secret-refs';

const ACCOUNT = '123456789012';

describe('parseSecretRef (RuntimeEnvironmentSecrets values → Secrets in the tenant namespace)', () => {
  it('maps Secrets Manager ARNs, with and without a JSON key', () => {
    expect(parseSecretRef(`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:db-creds`, ACCOUNT)).toEqual({
      secretName: 'db-creds',
      key: 'value',
    });
    expect(parseSecretRef(`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:db-creds:password::`, ACCOUNT)).toEqual({
      secretName: 'db-creds',
      key: 'password',
    });
    expect(parseSecretRef(`arn:aws-cn:secretsmanager:cn-north-1:${ACCOUNT}:secret:db-creds:password:AWSCURRENT:`, ACCOUNT)).toEqual({
      secretName: 'db-creds',
      key: 'password',
    });
  });
  it('maps SSM parameter ARNs, their path becoming dots', () => {
    expect(parseSecretRef(`arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/team/api-token`, ACCOUNT)).toEqual({
      secretName: 'team.api-token',
      key: 'value',
    });
  });
  it('takes plain <secret> and <secret>:<key>', () => {
    expect(parseSecretRef('api-token', ACCOUNT)).toEqual({ secretName: 'api-token', key: 'value' });
    expect(parseSecretRef('api-token:TOKEN_v2', ACCOUNT)).toEqual({ secretName: 'api-token', key: 'TOKEN_v2' });
  });
  it("refuses another account's secrets, other ARNs and names Kubernetes can't hold", () => {
    expect(parseSecretRef('arn:aws:secretsmanager:us-east-1:999999999999:secret:db', ACCOUNT)).toEqual({
      error: 'belongs to account 999999999999, not to this one',
    });
    expect(parseSecretRef(`arn:aws:s3:::bucket/key`, ACCOUNT)).toEqual({
      error: 'is neither a Secrets Manager secret ARN nor an SSM parameter ARN',
    });
    expect(parseSecretRef('Upper_Case', ACCOUNT)).toEqual({
      error: 'names Secret "Upper_Case", which is not a valid Kubernetes Secret name',
    });
    expect(parseSecretRef('ok:bad key', ACCOUNT)).toEqual({ error: 'names key "bad key", which is not a valid Secret key' });
    expect(parseSecretRef('a:b:c', ACCOUNT)).toEqual({ error: 'must be <secret> or <secret>:<key>' });
  });
});
