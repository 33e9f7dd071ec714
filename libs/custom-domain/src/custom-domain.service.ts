import { getDomain } from 'tldts';
import { Inject, Injectable } from '@nestjs/common';
import type {
  AssociateCustomDomainRequest,
  AssociateCustomDomainResponse,
  CustomDomain as SdkCustomDomain,
  DescribeCustomDomainsRequest,
  DescribeCustomDomainsResponse,
  DisassociateCustomDomainResponse,
  VpcDNSTarget,
} from '@aws-sdk/client-apprunner';
import {
  Clock,
  decodeNextToken,
  InvalidRequestException,
  InvalidStateException,
  page,
  PLATFORM_CONFIG,
  type PlatformConfig,
  ResourceNotFoundException,
  pageTake,
} from '@apprunner/core';
import { OperationService } from '@apprunner/operation';
import {
  Database,
  type CustomDomainRecord,
  CustomDomainRepository,
  type ServiceRecord,
  type Transaction,
  UniqueConstraintError,
  VpcIngressConnectionRepository,
} from '@apprunner/persistence';
import { ServiceActions } from '@apprunner/service';
import { type CallContext, FIXED_LIMITS, TenantLock } from '@apprunner/tenancy';
import { delegationRecords } from './validation-records';

/**
 * Custom domains. App Runner validates certificates with CNAME records in ACM; here cert-manager issues the
 * certificate. The records start as CNAMEs delegating `_acme-challenge.<domain>` to a name the platform answers
 * for (App Runner's shape); while an ACME DNS-01 challenge is in flight the worker adds its TXT record
 * (`_acme-challenge.<name>` = the challenge key) and keeps every record's Status (see docs/networking.md).
 */
@Injectable()
export class CustomDomainService {
  constructor(
    private readonly database: Database,
    private readonly domains: CustomDomainRepository,
    private readonly vpcIngressConnections: VpcIngressConnectionRepository,
    private readonly lock: TenantLock,
    private readonly services: ServiceActions,
    private readonly operations: OperationService,
    private readonly clock: Clock,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async associate(ctx: CallContext, input: AssociateCustomDomainRequest): Promise<AssociateCustomDomainResponse> {
    const domainName = (input.DomainName as string).toLowerCase().replace(/\.$/, '');
    const wildcard = domainName.startsWith('*.');
    checkWildcard(domainName, input.DomainName as string);
    if (wildcard && input.EnableWWWSubdomain === true) throw new InvalidRequestException('A wildcard domain cannot have a www subdomain.');
    const enableWWW = wildcard ? false : (input.EnableWWWSubdomain ?? true);
    const { service, row } = await this.lock
      .run(ctx.tenant.id, async (tx) => {
        const service = await this.liveService(ctx, input.ServiceArn as string, tx);
        if (service.status !== 'RUNNING') {
          throw new InvalidStateException(`You can associate a custom domain only with a RUNNING service; this one is ${service.status}.`);
        }
        const domains = await this.domains.namesOfService(service.id, tx);
        if (domains.includes(domainName)) {
          throw new InvalidRequestException(`Domain ${domainName} is already associated with this service.`);
        }
        if (domains.length >= FIXED_LIMITS.CustomDomainsPerService) {
          throw new InvalidRequestException(`A service can have at most ${FIXED_LIMITS.CustomDomainsPerService} custom domains.`);
        }
        // Routing is by Host: one domain can point at one service on the whole platform.
        if (await this.domains.taken(domainName, tx)) {
          throw new InvalidRequestException(`Domain ${domainName} is already associated with another service.`);
        }
        const row = await this.domains.create(
          {
            tenantId: ctx.tenant.id,
            serviceId: service.id,
            domainName,
            enableWWWSubdomain: enableWWW,
            status: 'CREATING',
            certificateValidationRecords: delegationRecords(domainName, enableWWW, this.config.PLATFORM_DOMAIN),
            createdAt: this.clock.now(),
          },
          tx,
        );
        return { service, row };
      })
      .catch((e: unknown) => {
        // Two tenants racing for the same domain: the unique index decides.
        if (e instanceof UniqueConstraintError) {
          throw new InvalidRequestException(`Domain ${domainName} is already associated with another service.`);
        }
        throw e;
      });
    await this.operations.dispatch('custom-domain', row.id, row.updatedAt.getTime());
    return { DNSTarget: service.urlHost, ServiceArn: service.arn, CustomDomain: toSdk(row), VpcDNSTargets: await this.vpcTargets(service) };
  }

  async disassociate(ctx: CallContext, serviceArn: string, domainName: string): Promise<DisassociateCustomDomainResponse> {
    const name = domainName.toLowerCase().replace(/\.$/, '');
    const { service, row } = await this.database.transaction(async (tx) => {
      const service = await this.liveService(ctx, serviceArn, tx);
      const found = await this.domains.findOfService(service.id, name, tx);
      if (!found) throw new ResourceNotFoundException(`Custom domain ${domainName} is not associated with service ${serviceArn}.`);
      if (service.status === 'PAUSED') throw new InvalidStateException("You can't disassociate a custom domain from a paused service.");
      if (found.status === 'DELETING') throw new InvalidStateException(`Custom domain ${domainName} is already being disassociated.`);
      const row = await this.domains.markDeleting(found.id, tx);
      return { service, row };
    });
    await this.operations.dispatch('custom-domain', row.id, row.updatedAt.getTime());
    return { DNSTarget: service.urlHost, ServiceArn: service.arn, CustomDomain: toSdk(row), VpcDNSTargets: await this.vpcTargets(service) };
  }

  async describe(ctx: CallContext, input: DescribeCustomDomainsRequest): Promise<DescribeCustomDomainsResponse> {
    const service = await this.liveService(ctx, input.ServiceArn as string);
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['string']);
    const rows = await this.domains.pageOfService(service.id, { ...(after ? { after: String(after[0]) } : {}), take: pageTake(max) });
    const { items, nextToken } = page(rows, max, (r) => [r.domainName]);
    return {
      DNSTarget: service.urlHost,
      ServiceArn: service.arn,
      CustomDomains: items.map(toSdk),
      VpcDNSTargets: await this.vpcTargets(service),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  private async liveService(ctx: CallContext, arn: string, tx?: Transaction): Promise<ServiceRecord> {
    const service = await this.services.findOwn(ctx, arn, tx);
    if (service.status === 'DELETED') throw new ResourceNotFoundException(`Service not found: ${arn}`);
    return service;
  }

  private async vpcTargets(service: ServiceRecord): Promise<VpcDNSTarget[]> {
    const vics = await this.vpcIngressConnections.liveOfService(service.id);
    return vics.map((v) => ({ VpcIngressConnectionArn: v.arn, VpcId: v.vpcId, DomainName: v.domainName }));
  }
}

function toSdk(row: CustomDomainRecord): SdkCustomDomain {
  return {
    DomainName: row.domainName,
    EnableWWWSubdomain: row.enableWWWSubdomain,
    CertificateValidationRecords: row.certificateValidationRecords,
    Status: row.status as SdkCustomDomain['Status'],
  };
}

/**
 * App Runner's guide (custom domains): a wildcard is only `*.<root domain>`, directly under the root and on its own;
 * `login*.example.com` and `*.login.example.com` are not valid. The root domain is the registrable domain of the
 * Public Suffix List's ICANN section (so `*.example.co.uk` is a wildcard under a root, `*.co.uk` is not).
 */
export function checkWildcard(domainName: string, given: string): void {
  if (!domainName.includes('*')) return;
  const root = domainName.slice(2);
  if (!domainName.startsWith('*.') || root.includes('*')) {
    throw new InvalidRequestException(`Invalid domain name ${given}: a wildcard can only be a whole first label, as in *.example.com.`);
  }
  if (getDomain(root, { allowPrivateDomains: false }) !== root) {
    throw new InvalidRequestException(
      `Invalid domain name ${given}: a wildcard must be directly under a root domain (*.example.com), not under a subdomain or a public suffix.`,
    );
  }
}
