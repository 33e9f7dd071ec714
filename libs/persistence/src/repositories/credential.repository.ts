import { Injectable } from '@nestjs/common';
import { Repository } from '../database';
import { type CredentialRecord, type TenantRecord, toTenantRecord } from '../records';

/** A tenant's credentials: SigV4 access keys (secret sealed) and REST API keys (hash only). */
@Injectable()
export class CredentialRepository extends Repository {
  async create(data: {
    tenantId: string;
    kind: CredentialRecord['kind'];
    keyId: string;
    secretCiphertext?: NonNullable<CredentialRecord['secretCiphertext']>;
    secretHash?: string;
    description: string;
  }): Promise<CredentialRecord> {
    return this.db().credential.create({ data });
  }

  async listByTenant(tenantId: string): Promise<CredentialRecord[]> {
    return this.db().credential.findMany({ where: { tenantId }, orderBy: { createdAt: 'asc' } });
  }

  async findByKeyId(tenantId: string, keyId: string): Promise<CredentialRecord | undefined> {
    return (await this.db().credential.findFirst({ where: { tenantId, keyId } })) ?? undefined;
  }

  async revoke(id: string, revokedAt: Date): Promise<CredentialRecord> {
    return this.db().credential.update({ where: { id }, data: { revokedAt } });
  }

  /** A credential by its key id, with its tenant: how a request is authenticated. */
  async findWithTenant(keyId: string): Promise<(CredentialRecord & { tenant: TenantRecord }) | undefined> {
    const row = await this.db().credential.findUnique({ where: { keyId }, include: { tenant: true } });
    return row ? { ...row, tenant: toTenantRecord(row.tenant) } : undefined;
  }
}
