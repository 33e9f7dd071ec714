import {
  Body,
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
import { AuthenticationError, PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { TenantService } from '@apprunner/tenancy';
import { NetworkRegistryService } from '@apprunner/vpc-connector';
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
  async create(@Body() body: Record<string, unknown> = {}) {
    return toRestJson({ Tenant: await this.tenants.createTenant(body ?? {}) });
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
  async setQuotas(@Param('accountId') accountId: string, @Body() body: Record<string, unknown>) {
    return toRestJson({ Tenant: await this.tenants.setQuotaOverrides(accountId, body ?? {}) });
  }

  @Post(':accountId/access-keys')
  async issueAccessKey(@Param('accountId') accountId: string, @Body() body: { Description?: string } = {}) {
    return toRestJson({ Credential: await this.tenants.issueAccessKey(accountId, body?.Description ?? '') });
  }

  @Post(':accountId/api-keys')
  async issueApiKey(@Param('accountId') accountId: string, @Body() body: { Description?: string } = {}) {
    return toRestJson({ Credential: await this.tenants.issueApiKey(accountId, body?.Description ?? '') });
  }

  @Get(':accountId/credentials')
  async credentials(@Param('accountId') accountId: string) {
    return toRestJson({ Credentials: await this.tenants.listCredentials(accountId) });
  }

  @Delete(':accountId/credentials/:keyId')
  async revoke(@Param('accountId') accountId: string, @Param('keyId') keyId: string, @Req() _req: Request) {
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
  async putSubnet(@Param('subnetId') subnetId: string, @Body() body: Record<string, unknown> = {}) {
    return { Subnet: await this.networks.putSubnet(subnetId, body ?? {}) };
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
  async putVpc(@Param('vpcId') vpcId: string, @Body() body: Record<string, unknown> = {}) {
    return { Vpc: await this.networks.putVpc(vpcId, body ?? {}) };
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
  async putSecurityGroup(@Param('groupId') groupId: string, @Body() body: Record<string, unknown> = {}) {
    return { SecurityGroup: await this.networks.putSecurityGroup(groupId, body ?? {}) };
  }

  @Delete('security-groups/:groupId')
  @HttpCode(204)
  async deleteSecurityGroup(@Param('groupId') groupId: string): Promise<void> {
    await this.networks.deleteSecurityGroup(groupId);
  }
}
