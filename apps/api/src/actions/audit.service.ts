import { Injectable } from '@nestjs/common';
import { Clock } from '@apprunner/core';
import { Prisma as Prisma, PrismaService } from '@apprunner/persistence';
import type { CallContext } from '@apprunner/tenancy';

/** Members whose values never reach the audit log (App Runner marks them sensitive; CloudTrail hides them too). */
const REDACTED_VALUES = new Set(['BuildCommand', 'StartCommand']);
const REDACTED_MAPS = new Set(['RuntimeEnvironmentVariables', 'RuntimeEnvironmentSecrets']);

export function redact(value: unknown, key = ''): unknown {
  if (REDACTED_VALUES.has(key) && value !== undefined) return '***';
  if (REDACTED_MAPS.has(key) && value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).map((k) => [k, '***']));
  }
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
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
  constructor(
    private readonly prisma: PrismaService,
    private readonly clock: Clock,
  ) {}

  async record(ctx: CallContext, action: string, input: unknown, output: unknown, outcome: string): Promise<void> {
    const data = {
      tenantId: ctx.tenant.id,
      principal: ctx.principal,
      action,
      resourceArn: resourceArnOf(input, output) ?? null,
      request: redact(input) as Prisma.InputJsonValue,
      outcome,
      requestId: ctx.requestId,
      sourceIp: ctx.sourceIp ?? null,
      createdAt: this.clock.now(),
    };
    try {
      await this.prisma.client.auditRecord.create({ data });
    } catch (e) {
      // The tenant was deleted while the call ran: its record is kept without it, as its older ones were (SetNull).
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2003') {
        await this.prisma.client.auditRecord.create({ data: { ...data, tenantId: null } });
        return;
      }
      throw e;
    }
  }
}
