import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { CredentialRepository } from '@apprunner/persistence';
import { redisConnection } from '@apprunner/queue';
import { apiKeyMatches, openSecret, parseApiKey, parseMasterKey } from '@apprunner/auth';
import type { TenantScope } from './context';

interface ResolvedCredential {
  tenant: TenantScope;
  kind: 'ACCESS_KEY' | 'API_KEY';
  /** Decrypted SigV4 secret (ACCESS_KEY) — kept only in memory, never logged. */
  secret?: string;
  secretHash?: string;
}

/** Longest an entry is trusted even with an unchanged epoch: the bound if an epoch bump was lost (Redis unreachable then). */
const TTL_MS = 5_000;
/** A Redis that does not answer within this long counts as unreachable: the request reads PostgreSQL instead. */
const EPOCH_TIMEOUT_MS = 500;

/**
 * Resolves a credential key id to its tenant on every request. Resolved credentials are cached per process to keep
 * PostgreSQL and the AES work off the hot path, under a version check that every API replica shares: the credential
 * epoch, a Redis key that every revocation (a key revoked, a tenant deleted) sets to a fresh value after its commit.
 * A request reads the epoch first and uses a cached entry only if it was read under the same epoch, so once a
 * revocation has answered its caller no replica accepts the credential again. Without an answer from Redis nothing is
 * cached or used from the cache: every request reads PostgreSQL.
 */
@Injectable()
export class CredentialResolver implements OnModuleDestroy {
  private readonly logger = new Logger(CredentialResolver.name);
  private readonly masterKey: Buffer;
  private readonly cache = new Map<string, { expires: number; epoch: string; value: ResolvedCredential | null }>();
  private readonly epochKey: string;
  private redis?: Redis;
  private connecting?: Promise<void>;

  constructor(
    private readonly credentials: CredentialRepository,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {
    this.masterKey = parseMasterKey(config.MASTER_KEY);
    this.epochKey = `${config.REDIS_PREFIX}:credentials:epoch`;
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

  /**
   * Called after a revocation committed: this process forgets at once, every other one at its next request (a new
   * epoch). Resolves once the new epoch is in Redis, or after the attempts failed (logged: other replicas then keep
   * their entries for at most TTL_MS, unless they cannot reach Redis either, in which case they don't use them).
   */
  async invalidate(): Promise<void> {
    this.cache.clear();
    const epoch = randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        await (await this.client()).set(this.epochKey, epoch);
        return;
      } catch (e) {
        if (attempt >= 3) {
          this.logger.error(
            `could not publish a credential revocation to the other replicas (${(e as Error).message}); they may accept the revoked credentials for up to ${TTL_MS / 1000} s`,
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis?.quit().catch(() => undefined);
  }

  private async resolve(keyId: string): Promise<ResolvedCredential | null> {
    // Read before PostgreSQL: a revocation that commits after this read also changes the epoch after it, so an entry
    // stored under this epoch is never used once that revocation has been published.
    const epoch = await this.epoch();
    const now = Date.now();
    const hit = this.cache.get(keyId);
    if (epoch !== undefined && hit && hit.epoch === epoch && hit.expires > now) return hit.value;
    const value = await this.read(keyId);
    if (epoch !== undefined) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(keyId, { expires: now + TTL_MS, epoch, value });
    }
    return value;
  }

  private async read(keyId: string): Promise<ResolvedCredential | null> {
    const row = await this.credentials.findWithTenant(keyId);
    if (!row || row.revokedAt) return null;
    return {
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

  /** The current epoch ('' before the first revocation), or undefined when Redis does not answer. */
  private async epoch(): Promise<string | undefined> {
    try {
      return (await (await this.client()).get(this.epochKey)) ?? '';
    } catch {
      return undefined;
    }
  }

  private async client(): Promise<Redis> {
    if (!this.redis || this.redis.status === 'end') {
      this.redis = new Redis({
        ...(redisConnection(this.config, 'producer') as RedisOptions),
        lazyConnect: true,
        commandTimeout: EPOCH_TIMEOUT_MS,
      });
      // Unreachable Redis shows as a failed command (the cache is bypassed); the client reconnects by itself.
      this.redis.on('error', () => undefined);
    }
    if (this.redis.status === 'wait') this.connecting ??= this.redis.connect().finally(() => (this.connecting = undefined));
    await this.connecting;
    return this.redis;
  }
}
