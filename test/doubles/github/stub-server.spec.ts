import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateAppKeyPair } from './keys';
import { verifyAppJwt } from './stub-server';

/** The stub must refuse what GitHub refuses, or client tests against it prove nothing. */
describe('the stub checks App JWTs as GitHub does', () => {
  const now = 1_800_000_000;
  let privateKey: ReturnType<typeof createPrivateKey>;
  let publicKey: ReturnType<typeof createPublicKey>;

  const jwt = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' }) => {
    const body = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${body}.${sign('sha256', Buffer.from(body), privateKey).toString('base64url')}`;
  };

  beforeAll(async () => {
    const keys = await generateAppKeyPair();
    privateKey = createPrivateKey(keys.privateKeyPem);
    publicKey = createPublicKey(keys.publicKeyPem);
  });

  it('accepts a well-formed token, with iss as number or string', () => {
    expect(verifyAppJwt(jwt({ iss: 99, iat: now - 30, exp: now + 570 }), '99', publicKey, now)).toBeUndefined();
    expect(verifyAppJwt(jwt({ iss: '99', iat: now - 30, exp: now + 570 }), '99', publicKey, now)).toBeUndefined();
  });

  it('refuses another App, expired or too long-lived tokens, future iat, and unsigned or altered tokens', () => {
    expect(verifyAppJwt(jwt({ iss: 98, iat: now - 30, exp: now + 570 }), '99', publicKey, now)).toBe('Integration not found');
    expect(verifyAppJwt(jwt({ iss: 99, iat: now - 700, exp: now - 100 }), '99', publicKey, now)).toMatch(
      /'Expiration time' claim \('exp'\) must be/,
    );
    expect(verifyAppJwt(jwt({ iss: 99, iat: now, exp: now + 3600 }), '99', publicKey, now)).toMatch(/too far in the future/);
    expect(verifyAppJwt(jwt({ iss: 99, iat: now + 600, exp: now + 660 }), '99', publicKey, now)).toMatch(/'Issued at' claim/);
    expect(verifyAppJwt(jwt({ iss: 99, iat: now - 30, exp: now + 570 }, { alg: 'none' }), '99', publicKey, now)).toBe(
      'A JSON web token could not be decoded',
    );
    const token = jwt({ iss: 99, iat: now - 30, exp: now + 570 });
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ iss: 99, iat: now - 30, exp: now + 590 })).toString('base64url')}.${s}`;
    expect(verifyAppJwt(forged, '99', publicKey, now)).toBe('A JSON web token could not be decoded');
    expect(verifyAppJwt('garbage', '99', publicKey, now)).toBe('A JSON web token could not be decoded');
  });
});
