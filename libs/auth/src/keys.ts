import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters drawn uniformly (no modulo bias) from `alphabet` with a CSPRNG. */
function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** A SigV4 access key pair shaped like AWS's: AKIA + 16 base32 characters, and a 40-character secret. */
export function newAccessKey(): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: `AKIA${randomString(BASE32, 16)}`, secretAccessKey: randomString(BASE64, 40) };
}

const API_KEY = /^ark_(k[a-z0-9]{19})_([A-Za-z0-9_-]{43})$/;

/**
 * A bearer API key: keyId is 'k' + 19 of [a-z0-9] (20 characters, no '_'); the token is
 * `ark_<keyId>_<secret>` with a 43-character base64url secret of 32 random bytes.
 */
export function newApiKey(): { keyId: string; token: string } {
  const keyId = `k${randomString(LOWER_ALNUM, 19)}`;
  const secret = randomBytes(32).toString('base64url');
  return { keyId, token: `ark_${keyId}_${secret}` };
}

/** Splits a bearer API key into its key id and secret; undefined unless it has exactly the issued format. */
export function parseApiKey(token: string): { keyId: string; secret: string } | undefined {
  if (typeof token !== 'string') return undefined;
  const m = API_KEY.exec(token);
  return m ? { keyId: m[1], secret: m[2] } : undefined;
}

/** Hex SHA-256 of an API key secret (the secret has 256 bits of entropy, so no salt is needed). */
export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time check of a secret against its stored hash. */
export function apiKeyMatches(storedHash: string, secret: string): boolean {
  const expected = Buffer.from(storedHash, 'utf8');
  const actual = Buffer.from(hashApiKeySecret(secret), 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
