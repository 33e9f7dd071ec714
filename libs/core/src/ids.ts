import { randomBytes, randomUUID } from 'node:crypto';

/** The one id generator: App Runner resource ids are 32 lower-case hex characters. */
export function newResourceId(): string {
  return randomBytes(16).toString('hex');
}

/** Operation ids and request ids are UUIDs (36 characters). */
export function newUuid(): string {
  return randomUUID();
}

/** A 12-digit account id for a new tenant; never starts with 0 so it stays 12 digits as a number. */
export function newAccountId(): string {
  const n = randomBytes(8).readBigUInt64BE() % 900_000_000_000n;
  return (100_000_000_000n + n).toString();
}
