import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Format version of a sealed secret: 0x01 = AES-256-GCM, 12-byte IV, 16-byte tag. */
const VERSION = 0x01;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;
const DECRYPT_FAILED = 'secret could not be decrypted (wrong MASTER_KEY?)';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^(?:[A-Za-z0-9+/]{43}|[A-Za-z0-9_-]{43})=?$/;

/**
 * Parses MASTER_KEY: 32 bytes given as 64 hex characters or as base64 (standard, 44 characters with
 * padding, or base64url). The error never contains the value.
 */
export function parseMasterKey(value: string | undefined): Buffer {
  const text = value?.trim() ?? '';
  if (text === '') throw new Error('MASTER_KEY is not set: it must be 32 bytes, as 64 hex characters or base64 (44 characters)');
  let key: Buffer | undefined;
  if (HEX_KEY.test(text)) key = Buffer.from(text, 'hex');
  else if (BASE64_KEY.test(text)) key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  if (key?.length !== KEY_BYTES) {
    throw new Error('MASTER_KEY is malformed: it must be 32 bytes, as 64 hex characters or base64 (44 characters)');
  }
  return key;
}

function assertKey(masterKey: Buffer): void {
  if (masterKey.length !== KEY_BYTES) throw new Error('master key must be 32 bytes');
}

/** Encrypts with AES-256-GCM: version byte 0x01 || iv (12) || tag (16) || ciphertext. */
export function sealSecret(masterKey: Buffer, plaintext: string): Buffer {
  assertKey(masterKey);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ciphertext]);
}

/** Inverse of sealSecret; throws when the data was tampered with, the key is wrong or the version is unknown. */
export function openSecret(masterKey: Buffer, sealed: Buffer): string {
  assertKey(masterKey);
  if (sealed.length < HEADER_BYTES || sealed[0] !== VERSION) throw new Error(DECRYPT_FAILED);
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, HEADER_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(DECRYPT_FAILED);
  }
}
