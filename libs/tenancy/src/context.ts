import type { ArnScope } from '@apprunner/core';

/** The tenant a call acts for; everything a handler touches is filtered by `id`. */
export interface TenantScope extends ArnScope {
  id: string;
  name: string;
}

/** Who is calling, established by a front door before any handler runs. */
export interface CallContext {
  tenant: TenantScope;
  /** The credential key id (never a secret). */
  principal: string;
  requestId: string;
  sourceIp?: string;
}
