import { Inject, Injectable } from '@nestjs/common';
import {
  Clock,
  InvalidRequestException,
  InvalidStateException,
  newAccountId,
  PLATFORM_CONFIG,
  type PlatformConfig,
  ResourceNotFoundException,
} from '@apprunner/core';
import {
  type CredentialRecord,
  CredentialRepository,
  Database,
  ServiceRepository,
  type TenantRecord,
  TenantRepository,
  type Transaction,
  UniqueConstraintError,
} from '@apprunner/persistence';
import { newAccessKey, newApiKey, sealSecret, parseMasterKey, hashApiKeySecret } from '@apprunner/auth';
import { QUOTA_DEFAULTS, QUOTA_NAMES, type QuotaOverrides, effectiveQuota, TenantLock } from './quotas';
import type { TenantScope } from './context';
import { CredentialResolver } from './credential.resolver';

export interface TenantView {
  AccountId: string;
  Name: string;
  CreatedAt: Date;
  Quotas: Record<string, { Value: number; Default: number; Overridden: boolean }>;
}

export interface CredentialView {
  KeyId: string;
  Kind: 'ACCESS_KEY' | 'API_KEY';
  Description: string;
  CreatedAt: Date;
  RevokedAt?: Date;
}

/** Hook for the nouns that create per-tenant records with the tenant (the DefaultConfiguration ASC), in its transaction. */
export const TENANT_BOOTSTRAP = Symbol('TENANT_BOOTSTRAP');
export interface TenantBootstrap {
  onTenantCreated(tx: Transaction, tenant: TenantScope): Promise<void>;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The admin side of tenancy: tenants, their credentials and quota overrides. */
@Injectable()
export class TenantService {
  private readonly masterKey: Buffer;

  constructor(
    private readonly database: Database,
    private readonly tenants: TenantRepository,
    private readonly credentials: CredentialRepository,
    private readonly services: ServiceRepository,
    private readonly lock: TenantLock,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    private readonly clock: Clock,
    @Inject(TENANT_BOOTSTRAP) private readonly bootstrap: TenantBootstrap,
    private readonly resolver: CredentialResolver,
  ) {
    this.masterKey = parseMasterKey(config.MASTER_KEY);
  }

  scopeOf(tenant: Pick<TenantRecord, 'id' | 'accountId' | 'name'>): TenantScope {
    return {
      id: tenant.id,
      name: tenant.name,
      accountId: tenant.accountId,
      partition: this.config.APPRUNNER_PARTITION,
      region: this.config.APPRUNNER_REGION,
    };
  }

  async createTenant(input: { Name?: unknown; AccountId?: unknown; QuotaOverrides?: unknown }): Promise<TenantView> {
    if (typeof input.Name !== 'string' || !NAME.test(input.Name)) {
      throw new InvalidRequestException(
        'Name must be 1-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit.',
      );
    }
    if (input.AccountId !== undefined && (typeof input.AccountId !== 'string' || !/^\d{12}$/.test(input.AccountId))) {
      throw new InvalidRequestException('AccountId must be exactly 12 digits.');
    }
    const quotaOverrides = parseQuotaOverrides(input.QuotaOverrides ?? {});
    const name = input.Name;
    const accountId = (input.AccountId as string | undefined) ?? newAccountId();
    try {
      const tenant = await this.database.transaction(async (tx) => {
        const created = await this.tenants.create({ name, accountId, quotaOverrides, createdAt: this.clock.now() }, tx);
        await this.bootstrap.onTenantCreated(tx, this.scopeOf(created));
        return created;
      });
      return view(tenant);
    } catch (e) {
      if (e instanceof UniqueConstraintError) {
        throw new InvalidRequestException(`A tenant with this name or account id already exists.`);
      }
      throw e;
    }
  }

  async listTenants(): Promise<TenantView[]> {
    return (await this.tenants.list()).map(view);
  }

  async getTenant(accountId: string): Promise<TenantView> {
    return view(await this.find(accountId));
  }

  async setQuotaOverrides(accountId: string, overrides: unknown): Promise<TenantView> {
    const tenant = await this.find(accountId);
    const merged: QuotaOverrides = { ...tenant.quotaOverrides };
    for (const [key, value] of Object.entries(parseQuotaOverrides(overrides, true)) as [keyof QuotaOverrides, number | null][]) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    return view(await this.tenants.setQuotaOverrides(tenant.id, merged));
  }

  /**
   * Removes a tenant and all its records; refused while it has services that are not deleted. A tombstone tells the
   * worker to remove the tenant's namespace, and whatever the tenant kept there (Secrets), from the cluster.
   */
  async deleteTenant(accountId: string): Promise<void> {
    const tenant = await this.find(accountId);
    // Under the tenant lock: a create racing with the deletion either commits first (and is counted here) or finds
    // the tenant gone.
    await this.lock.run(tenant.id, async (tx) => {
      const live = await this.services.countLive(tenant.id, tx);
      if (live > 0) throw new InvalidStateException(`Tenant ${accountId} still has ${live} service(s); delete them first.`);
      await this.tenants.deleteLeavingTombstone(tenant, tx);
    });
    // Its credentials went with it (cascade): every replica must stop accepting them now.
    await this.resolver.invalidate();
  }

  /** Issues a SigV4 key pair; the secret is returned once and stored only encrypted. */
  async issueAccessKey(accountId: string, description = ''): Promise<CredentialView & { SecretAccessKey: string }> {
    const tenant = await this.find(accountId);
    const { accessKeyId, secretAccessKey } = newAccessKey();
    const row = await this.credentials.create({
      tenantId: tenant.id,
      kind: 'ACCESS_KEY',
      keyId: accessKeyId,
      secretCiphertext: new Uint8Array(sealSecret(this.masterKey, secretAccessKey)),
      description: String(description).slice(0, 256),
    });
    return { ...credentialView(row), SecretAccessKey: secretAccessKey };
  }

  /** Issues a bearer API key for the REST API; only its hash is stored. */
  async issueApiKey(accountId: string, description = ''): Promise<CredentialView & { Token: string }> {
    const tenant = await this.find(accountId);
    const { keyId, token, secret } = newApiKeyParts();
    const row = await this.credentials.create({
      tenantId: tenant.id,
      kind: 'API_KEY',
      keyId,
      secretHash: hashApiKeySecret(secret),
      description: String(description).slice(0, 256),
    });
    return { ...credentialView(row), Token: token };
  }

  async listCredentials(accountId: string): Promise<CredentialView[]> {
    const tenant = await this.find(accountId);
    return (await this.credentials.listByTenant(tenant.id)).map(credentialView);
  }

  async revokeCredential(accountId: string, keyId: string): Promise<CredentialView> {
    const tenant = await this.find(accountId);
    const row = await this.credentials.findByKeyId(tenant.id, keyId);
    if (!row) throw new ResourceNotFoundException(`Credential ${keyId} not found for tenant ${accountId}.`);
    const updated = row.revokedAt ? row : await this.credentials.revoke(row.id, this.clock.now());
    await this.resolver.invalidate();
    return credentialView(updated);
  }

  private async find(accountId: string): Promise<TenantRecord> {
    const tenant = /^\d{12}$/.test(accountId) ? await this.tenants.findByAccountId(accountId) : undefined;
    if (!tenant) throw new ResourceNotFoundException(`Tenant ${accountId} not found.`);
    return tenant;
  }
}

function newApiKeyParts(): { keyId: string; token: string; secret: string } {
  const { keyId, token } = newApiKey();
  const secret = token.slice(`ark_${keyId}_`.length);
  return { keyId, token, secret };
}

/** Quota overrides as given: name → integer, and null to remove an override where `allowNull`. */
function parseQuotaOverrides(value: unknown): Record<string, number>;
function parseQuotaOverrides(value: unknown, allowNull: true): Record<string, number | null>;
function parseQuotaOverrides(value: unknown, allowNull = false): Record<string, number | null> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidRequestException('QuotaOverrides must be an object of quota name to integer.');
  }
  const out: Record<string, number | null> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!(QUOTA_NAMES as string[]).includes(key)) {
      throw new InvalidRequestException(`Unknown quota ${key}; adjustable quotas are ${QUOTA_NAMES.join(', ')}.`);
    }
    if (v === null && allowNull) {
      out[key] = null;
      continue;
    }
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 100_000) {
      throw new InvalidRequestException(`Quota ${key} must be an integer between 0 and 100000.`);
    }
    out[key] = v as number;
  }
  return out;
}

function view(t: TenantRecord): TenantView {
  const quotas: TenantView['Quotas'] = {};
  for (const name of QUOTA_NAMES) {
    const value = effectiveQuota(t.quotaOverrides, name);
    quotas[name] = { Value: value, Default: QUOTA_DEFAULTS[name], Overridden: value !== QUOTA_DEFAULTS[name] };
  }
  return { AccountId: t.accountId, Name: t.name, CreatedAt: t.createdAt, Quotas: quotas };
}

function credentialView(c: CredentialRecord): CredentialView {
  return {
    KeyId: c.keyId,
    Kind: c.kind,
    Description: c.description,
    CreatedAt: c.createdAt,
    ...(c.revokedAt ? { RevokedAt: c.revokedAt } : {}),
  };
}
