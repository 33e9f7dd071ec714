import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

export interface AppKeyPair {
  /** PKCS#1 (`BEGIN RSA PRIVATE KEY`), the format GitHub hands out for App private keys. */
  privateKeyPem: string;
  /** SPKI (`BEGIN PUBLIC KEY`), what the stub verifies App JWTs with. */
  publicKeyPem: string;
}

/** A fresh RSA 2048 key pair for a test GitHub App. */
export async function generateAppKeyPair(): Promise<AppKeyPair> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
