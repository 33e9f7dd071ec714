import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `state` carried through GitHub's installation page back to our setup callback. It binds the callback to
 * the connection whose handshake started it, and expires, so a leaked or replayed URL cannot attach an
 * installation to someone else's connection later.
 *
 * Format: `v1.<base64url(connectionId)>.<expiry, unix seconds>.<base64url(HMAC-SHA256)>`, URL-safe as is.
 */
const VERSION = 'v1';
export const DEFAULT_HANDSHAKE_TTL_SECONDS = 3_600;
const MIN_KEY_BYTES = 16;

export function signHandshakeState(key: Buffer, connectionId: string, now: Date, ttlSeconds = DEFAULT_HANDSHAKE_TTL_SECONDS): string {
  checkKey(key);
  if (!connectionId) throw new Error('Handshake state needs a connection id');
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)
    throw new Error(`Handshake state TTL must be a positive whole number of seconds, got ${ttlSeconds}`);
  const expires = Math.floor(now.getTime() / 1000) + ttlSeconds;
  const body = `${VERSION}.${Buffer.from(connectionId, 'utf8').toString('base64url')}.${expires}`;
  return `${body}.${mac(key, body).toString('base64url')}`;
}

export function verifyHandshakeState(key: Buffer, state: string, now: Date): { connectionId: string } | { error: string } {
  checkKey(key);
  const parts = typeof state === 'string' ? state.split('.') : [];
  if (parts.length !== 4 || parts[0] !== VERSION || !/^\d{1,12}$/.test(parts[2])) return { error: 'The handshake state is malformed.' };
  const body = parts.slice(0, 3).join('.');
  const given = Buffer.from(parts[3], 'base64url');
  const expected = mac(key, body);
  // Length first: timingSafeEqual throws on unequal lengths, and the length of a MAC is no secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { error: 'The handshake state signature is not valid.' };
  if (Number(parts[2]) * 1000 <= now.getTime()) return { error: 'The handshake state has expired; start the handshake again.' };
  const connectionId = Buffer.from(parts[1], 'base64url').toString('utf8');
  if (!connectionId) return { error: 'The handshake state is malformed.' };
  return { connectionId };
}

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(body, 'utf8').digest();
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length < MIN_KEY_BYTES)
    throw new Error(`The handshake signing key must be at least ${MIN_KEY_BYTES} bytes`);
}
