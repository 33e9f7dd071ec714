import { parseArn, type ParsedArn, ResourceNotFoundException, InvalidRequestException, type ResourceType } from '@apprunner/core';
import type { TenantScope } from './context';

/**
 * Parses an ARN the caller sent and makes sure it names a resource of `type` in the caller's own
 * account, partition and region. Another tenant's ARN is reported exactly like a missing resource
 * (404-shaped), so callers cannot probe for other tenants' resources.
 */
export function ownArn(tenant: TenantScope, arn: string, type: ResourceType, noun: string): ParsedArn {
  const parsed = parseArn(arn);
  if (!parsed || parsed.resourceType !== type) {
    throw new InvalidRequestException(`Invalid ${noun} ARN: ${arn}`);
  }
  if (parsed.accountId !== tenant.accountId || parsed.region !== tenant.region || parsed.partition !== tenant.partition) {
    throw new ResourceNotFoundException(`${capitalize(noun)} not found: ${arn}`);
  }
  return parsed;
}

export function notFound(noun: string, arn: string): ResourceNotFoundException {
  return new ResourceNotFoundException(`${capitalize(noun)} not found: ${arn}`);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `name`, `name/revision` or `name/revision/id` of a revisioned configuration ARN (full or partial). */
export function revisionedPath(parsed: ParsedArn, arn: string, noun: string): { name: string; revision?: number; id?: string } {
  const [name, rev, id, ...rest] = parsed.path;
  if (rest.length > 0 || (rev !== undefined && !/^[1-9]\d{0,8}$/.test(rev))) {
    throw new InvalidRequestException(`Invalid ${noun} ARN: ${arn}`);
  }
  return { name, revision: rev === undefined ? undefined : Number(rev), id };
}
