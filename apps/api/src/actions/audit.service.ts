import { Injectable, Logger } from '@nestjs/common';
import { Clock, walkJson } from '@apprunner/core';
import { AuditRepository } from '@apprunner/persistence';
import type { CallContext } from '@apprunner/tenancy';

/** Members whose values never reach the audit log (App Runner marks them sensitive; CloudTrail hides them too). */
const REDACTED_VALUES = new Set(['BuildCommand', 'StartCommand']);
const REDACTED_MAPS = new Set(['RuntimeEnvironmentVariables', 'RuntimeEnvironmentSecrets']);

const AUDIT_MAX_CHARS = 64 * 1024;

/** The audit copy of a request: sensitive values masked, cut at the platform's JSON depth by its one bounded walk. */
export function redact(value: unknown): unknown {
  const copy = walkJson<unknown>(value, {
    replace: (v, key) => {
      if (key === undefined) return undefined;
      if (REDACTED_VALUES.has(key) && v !== undefined) return { value: '***' };
      if (REDACTED_MAPS.has(key) && v && typeof v === 'object') return { value: Object.fromEntries(Object.keys(v).map((k) => [k, '***'])) };
      return undefined;
    },
    scalar: (v) => (v instanceof Date ? v.toISOString() : v),
    array: (items) => items,
    object: (entries) => Object.fromEntries(entries.filter(([, v]) => v !== undefined)),
    tooDeep: () => '[nested too deeply]',
  });
  // A refused request is audited as sent, and may be large: past AUDIT_MAX_CHARS only its size is kept.
  const size = JSON.stringify(copy)?.length ?? 0;
  return size > AUDIT_MAX_CHARS ? { truncated: `request of ${size} characters not kept` } : copy;
}

/** The ARN a call acted on: from the request, or from the resource the response describes. */
function resourceArnOf(input: unknown, output: unknown): string | undefined {
  const find = (o: unknown, depth: number): string | undefined => {
    if (!o || typeof o !== 'object' || depth > 2) return undefined;
    for (const [k, v] of Object.entries(o)) if (k.endsWith('Arn') && typeof v === 'string' && v.startsWith('arn:')) return v;
    for (const v of Object.values(o)) {
      const hit = find(v, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  };
  return find(input, 0) ?? find(output, 0);
}

@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(
    private readonly records: AuditRepository,
    private readonly clock: Clock,
  ) {}

  async record(ctx: CallContext, action: string, input: unknown, output: unknown, outcome: string): Promise<void> {
    await this.records.record({
      tenantId: ctx.tenant.id,
      principal: ctx.principal,
      action,
      resourceArn: resourceArnOf(input, output) ?? null,
      request: redact(input),
      outcome,
      requestId: ctx.requestId,
      sourceIp: ctx.sourceIp ?? null,
      createdAt: this.clock.now(),
    });
  }

  /**
   * record(), for callers whose answer is already decided (the change committed, or the error is the caller's):
   * a failed audit write is logged with the request id, never thrown.
   */
  async recordSafely(ctx: CallContext, action: string, input: unknown, output: unknown, outcome: string): Promise<void> {
    try {
      await this.record(ctx, action, input, output, outcome);
    } catch (e) {
      this.logger.error(
        `request ${ctx.requestId}: the audit record of ${action} (${outcome}) could not be written: ${(e as Error).message}`,
      );
    }
  }
}
