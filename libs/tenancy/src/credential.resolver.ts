import { Inject, Injectable } from '@nestjs/common';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { PrismaService } from '@apprunner/persistence';
import { apiKeyMatches, openSecret, parseApiKey, parseMasterKey } from '@apprunner/auth';
import type { TenantScope } from './context';

interface ResolvedCredential {
  tenant: TenantScope;
  kind: 'ACCESS_KEY' | 'API_KEY';
  /** Decrypted SigV4 secret (ACCESS_KEY) — kept only in memory, never logged. */
  secret?: string;
  secretHash?: string;
}

/** How long a resolved credential is trusted before it is read again (bounds revocation delay across processes). */
const TTL_MS = 5_000;

/**
 * Resolves a credential key id to its tenant on every request. A short in-memory cache keeps the
 * database and AES work off the hot path; revocation in this process takes effect at once, and in
 * other processes within TTL_MS.
 */
@Injectable()
export class CredentialResolver {
  private readonly masterKey: Buffer;
  private readonly cache = new Map<string, { expires: number; value: ResolvedCredential | null }>();

  constructor(
    private readonly prisma: PrismaService,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {
    this.masterKey = parseMasterKey(config.MASTER_KEY);
  }

  async accessKeySecret(accessKeyId: string): Promise<{ secret: string; tenant: TenantScope } | undefined> {
    const c = await this.resolve(accessKeyId);
    return c?.kind === 'ACCESS_KEY' && c.secret !== undefined ? { secret: c.secret, tenant: c.tenant } : undefined;
  }

  async apiKey(token: string): Promise<{ keyId: string; tenant: TenantScope } | undefined> {
    const parsed = parseApiKey(token);
    if (!parsed) return undefined;
    const c = await this.resolve(parsed.keyId);
    if (c?.kind !== 'API_KEY' || !c.secretHash || !apiKeyMatches(c.secretHash, parsed.secret)) return undefined;
    return { keyId: parsed.keyId, tenant: c.tenant };
  }

  forget(keyId: string): void {
    this.cache.delete(keyId);
  }

  private async resolve(keyId: string): Promise<ResolvedCredential | null> {
    const now = Date.now();
    const hit = this.cache.get(keyId);
    if (hit && hit.expires > now) return hit.value;
    const row = await this.prisma.client.credential.findUnique({ where: { keyId }, include: { tenant: true } });
    let value: ResolvedCredential | null = null;
    if (row && !row.revokedAt) {
      value = {
        kind: row.kind,
        tenant: {
          id: row.tenant.id,
          name: row.tenant.name,
          accountId: row.tenant.accountId,
          partition: this.config.APPRUNNER_PARTITION,
          region: this.config.APPRUNNER_REGION,
        },
        secret: row.secretCiphertext ? openSecret(this.masterKey, Buffer.from(row.secretCiphertext)) : undefined,
        secretHash: row.secretHash ?? undefined,
      };
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(keyId, { expires: now + TTL_MS, value });
    return value;
  }
}
