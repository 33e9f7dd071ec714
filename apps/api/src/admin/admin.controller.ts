import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Req,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  Injectable,
} from '@nestjs/common';
import type { Request } from 'express';
import { timingSafeEqual, createHash } from 'node:crypto';
import { AuthenticationError, InvalidRequestException, PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { TenantService } from '@apprunner/tenancy';
import { NetworkRegistryService } from '@apprunner/vpc-connector';
import { readJsonBody } from '../common/body';
import { toRestJson } from '../common/wire';

/** The platform administrator's bearer token (ADMIN_TOKEN), compared in constant time. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(PLATFORM_CONFIG) config: PlatformConfig) {
    this.expected = createHash('sha256').update(config.ADMIN_TOKEN).digest();
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    if (!header?.startsWith('Bearer '))
      throw new AuthenticationError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    const given = createHash('sha256').update(header.slice('Bearer '.length).trim()).digest();
    if (!timingSafeEqual(given, this.expected)) throw new AuthenticationError('AccessDeniedException', 'The admin token is not valid.');
    return true;
  }
}

/** Admin API: tenants, their credentials and quota overrides. */
@Controller('admin/tenants')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(private readonly tenants: TenantService) {}

  @Get()
  async list() {
    return toRestJson({ Tenants: await this.tenants.listTenants() });
  }

  @Post()
  async create(@Req() req: Request) {
    return toRestJson({ Tenant: await this.tenants.createTenant(await adminBody(req)) });
  }

  @Get(':accountId')
  async get(@Param('accountId') accountId: string) {
    return toRestJson({ Tenant: await this.tenants.getTenant(accountId) });
  }

  @Delete(':accountId')
  @HttpCode(204)
  async remove(@Param('accountId') accountId: string): Promise<void> {
    await this.tenants.deleteTenant(accountId);
  }

  @Put(':accountId/quotas')
  async setQuotas(@Param('accountId') accountId: string, @Req() req: Request) {
    return toRestJson({ Tenant: await this.tenants.setQuotaOverrides(accountId, await adminBody(req)) });
  }

  @Post(':accountId/access-keys')
  async issueAccessKey(@Param('accountId') accountId: string, @Req() req: Request) {
    return toRestJson({ Credential: await this.tenants.issueAccessKey(accountId, description(await adminBody(req))) });
  }

  @Post(':accountId/api-keys')
  async issueApiKey(@Param('accountId') accountId: string, @Req() req: Request) {
    return toRestJson({ Credential: await this.tenants.issueApiKey(accountId, description(await adminBody(req))) });
  }

  @Get(':accountId/credentials')
  async credentials(@Param('accountId') accountId: string) {
    return toRestJson({ Credentials: await this.tenants.listCredentials(accountId) });
  }

  @Delete(':accountId/credentials/:keyId')
  async revoke(@Param('accountId') accountId: string, @Param('keyId') keyId: string) {
    return toRestJson({ Credential: await this.tenants.revokeCredential(accountId, keyId) });
  }
}

/** Admin API: the networks and security groups VPC connectors may name (see docs/networking.md). */
@Controller('admin')
@UseGuards(AdminGuard)
export class NetworksAdminController {
  constructor(private readonly networks: NetworkRegistryService) {}

  @Get('subnets')
  async subnets() {
    return { Subnets: await this.networks.listSubnets() };
  }

  @Put('subnets/:subnetId')
  async putSubnet(@Param('subnetId') subnetId: string, @Req() req: Request) {
    return { Subnet: await this.networks.putSubnet(subnetId, await adminBody(req)) };
  }

  @Delete('subnets/:subnetId')
  @HttpCode(204)
  async deleteSubnet(@Param('subnetId') subnetId: string): Promise<void> {
    await this.networks.deleteSubnet(subnetId);
  }

  @Get('vpcs')
  async vpcs() {
    return { Vpcs: await this.networks.listVpcs() };
  }

  @Put('vpcs/:vpcId')
  async putVpc(@Param('vpcId') vpcId: string, @Req() req: Request) {
    return { Vpc: await this.networks.putVpc(vpcId, await adminBody(req)) };
  }

  @Delete('vpcs/:vpcId')
  @HttpCode(204)
  async deleteVpc(@Param('vpcId') vpcId: string): Promise<void> {
    await this.networks.deleteVpc(vpcId);
  }

  @Get('security-groups')
  async securityGroups() {
    return { SecurityGroups: await this.networks.listSecurityGroups() };
  }

  @Put('security-groups/:groupId')
  async putSecurityGroup(@Param('groupId') groupId: string, @Req() req: Request) {
    return { SecurityGroup: await this.networks.putSecurityGroup(groupId, await adminBody(req)) };
  }

  @Delete('security-groups/:groupId')
  @HttpCode(204)
  async deleteSecurityGroup(@Param('groupId') groupId: string): Promise<void> {
    await this.networks.deleteSecurityGroup(groupId);
  }
}

/** The admin door's JSON body, read after AdminGuard accepted the token: an object, or {} when empty. */
async function adminBody(req: Request): Promise<Record<string, unknown>> {
  const body = await readJsonBody(req, 'admin');
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InvalidRequestException('The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

function description(body: Record<string, unknown>): string {
  const value = body.Description ?? '';
  if (typeof value !== 'string' || value.length > 256)
    throw new InvalidRequestException('Description must be a string of at most 256 characters.');
  return value;
}
