import { createHash } from 'node:crypto';
import type { ValidationRecord } from '@apprunner/operation';

/**
 * The records a custom domain starts with: per validated name (the domain without `*.`, and `www.` + it) a CNAME
 * that delegates `_acme-challenge.<name>` to a name under the platform's domain, so a DNS-01 solver there can
 * answer for it now and at every renewal. The worker adds the TXT records of the ACME challenges in flight and
 * keeps every record's status (libs/kubernetes `certificateValidationRecords`).
 */
export function delegationRecords(domainName: string, enableWWWSubdomain: boolean, platformDomain: string): ValidationRecord[] {
  const names = [domainName.replace(/^\*\./, ''), ...(enableWWWSubdomain ? [`www.${domainName}`] : [])];
  return names.map((name) => ({
    Name: `_acme-challenge.${name}.`,
    Type: 'CNAME',
    Value: `${createHash('sha256').update(name).digest('hex').slice(0, 32)}.acme.${platformDomain}.`,
    Status: 'PENDING_VALIDATION',
  }));
}
