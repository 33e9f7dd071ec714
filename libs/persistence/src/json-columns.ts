import { z } from 'zod';
import type { Prisma } from './generated/client';

/**
 * The JSON columns of the platform's own shapes (App Runner's are in @apprunner/api-model), as zod schemas, and the
 * two crossings of the boundary: a column is parsed with its schema when a repository reads it, and a value is
 * checked to be JSON when one writes it. What a repository returns is typed by these checks, never by a cast.
 */

/** Per-tenant quota overrides (`Tenant.quotaOverrides`): quota name → value; absent names use the defaults. */
export const quotaOverridesSchema = z.record(z.string(), z.number());
export type QuotaOverrides = z.infer<typeof quotaOverridesSchema>;

/** What an automatic deployment deploys (`Service.pendingDeployment`): a commit of the tracked branch, or an image by digest. */
export const automaticDeploymentSchema = z.object({
  trigger: z.enum(['github-push', 'registry-push', 'image-poll']),
  commit: z.string().optional(),
  image: z.string().optional(),
});
export type AutomaticDeployment = z.infer<typeof automaticDeploymentSchema>;

/** An egress rule of a security group the platform admin registered (`PlatformSecurityGroup.egress`). */
export const securityGroupRuleSchema = z.object({
  Protocol: z.enum(['tcp', 'udp', '-1']),
  FromPort: z.number().optional(),
  ToPort: z.number().optional(),
  Cidrs: z.array(z.string()),
});
export type SecurityGroupRuleView = z.infer<typeof securityGroupRuleSchema>;

/** A column's value, parsed with its schema; a value that does not fit is a fault of the platform, named here. */
export function parseColumn<T>(schema: z.ZodType<T>, value: unknown, column: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${column} does not hold what it should: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

const jsonValue: z.ZodType<Prisma.InputJsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.array(jsonValue.nullable()), z.record(z.string(), jsonValue.nullable())]),
);

/** A value as a JSON column stores it: what JSON.stringify keeps of it (as Prisma sends it), checked to be JSON. */
export function toJsonColumn(value: unknown): Prisma.InputJsonValue {
  return jsonValue.parse(JSON.parse(JSON.stringify(value)));
}
