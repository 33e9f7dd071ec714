import { Injectable } from '@nestjs/common';
import { Repository } from '../database';
import { type SecurityGroupRuleView, toJsonColumn } from '../json-columns';
import { type PlatformSecurityGroupRecord, type PlatformSubnetRecord, type PlatformVpcRecord, toSecurityGroupRecord } from '../records';

/** The networks the platform admin registered: subnets and security groups VPC connectors name, private VPCs. */
@Injectable()
export class NetworkRegistryRepository extends Repository {
  async putSubnet(id: string, cidrs: string[]): Promise<void> {
    await this.db().platformSubnet.upsert({ where: { id }, create: { id, cidrs }, update: { cidrs } });
  }

  async listSubnets(): Promise<PlatformSubnetRecord[]> {
    return this.db().platformSubnet.findMany({ orderBy: { id: 'asc' } });
  }

  async findSubnets(ids: string[]): Promise<PlatformSubnetRecord[]> {
    return this.db().platformSubnet.findMany({ where: { id: { in: ids } } });
  }

  /** false when it was not registered. */
  async deleteSubnet(id: string): Promise<boolean> {
    return (await this.db().platformSubnet.deleteMany({ where: { id } })).count > 0;
  }

  async putSecurityGroup(id: string, egress: SecurityGroupRuleView[]): Promise<void> {
    const json = toJsonColumn(egress);
    await this.db().platformSecurityGroup.upsert({ where: { id }, create: { id, egress: json }, update: { egress: json } });
  }

  async listSecurityGroups(): Promise<PlatformSecurityGroupRecord[]> {
    return (await this.db().platformSecurityGroup.findMany({ orderBy: { id: 'asc' } })).map(toSecurityGroupRecord);
  }

  async findSecurityGroups(ids: string[]): Promise<PlatformSecurityGroupRecord[]> {
    return (await this.db().platformSecurityGroup.findMany({ where: { id: { in: ids } } })).map(toSecurityGroupRecord);
  }

  /** false when it was not registered. */
  async deleteSecurityGroup(id: string): Promise<boolean> {
    return (await this.db().platformSecurityGroup.deleteMany({ where: { id } })).count > 0;
  }

  async putVpc(id: string, ingressClassName: string): Promise<void> {
    await this.db().platformVpc.upsert({ where: { id }, create: { id, ingressClassName }, update: { ingressClassName } });
  }

  async listVpcs(): Promise<PlatformVpcRecord[]> {
    return this.db().platformVpc.findMany({ orderBy: { id: 'asc' } });
  }

  async findVpc(id: string): Promise<PlatformVpcRecord | undefined> {
    return (await this.db().platformVpc.findUnique({ where: { id } })) ?? undefined;
  }

  /** false when it was not registered. */
  async deleteVpc(id: string): Promise<boolean> {
    return (await this.db().platformVpc.deleteMany({ where: { id } })).count > 0;
  }
}
