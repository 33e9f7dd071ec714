import { Injectable } from '@nestjs/common';
import { InvalidRequestException, ResourceNotFoundException } from '@apprunner/core';
import { NetworkRegistryRepository, type SecurityGroupRuleView } from '@apprunner/persistence';

const SUBNET_ID = /^subnet-[0-9a-zA-Z-]{1,64}$/;
const SG_ID = /^sg-[0-9a-zA-Z-]{1,64}$/;
const VPC_ID = /^vpc-[0-9a-zA-Z-]{1,64}$/;
const INGRESS_CLASS = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const CIDR_V4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/(3[0-2]|[12]?\d)$/;
const CIDR_V6 = /^[0-9a-fA-F:]{2,39}\/(12[0-8]|1[01]\d|[1-9]?\d)$/;

function cidrs(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 50)
    throw new InvalidRequestException(`${what} must be a list of 1 to 50 CIDR blocks.`);
  for (const c of value) {
    if (typeof c !== 'string' || !(CIDR_V4.test(c) || (c.includes(':') && CIDR_V6.test(c))))
      throw new InvalidRequestException(`${what}: ${JSON.stringify(c)} is not a CIDR block.`);
  }
  return [...new Set(value as string[])];
}

function port(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535)
    throw new InvalidRequestException(`${what} must be a port number (1-65535).`);
  return value as number;
}

function rules(value: unknown): SecurityGroupRuleView[] {
  if (!Array.isArray(value) || value.length > 60) throw new InvalidRequestException('Egress must be a list of at most 60 rules.');
  return value.map((r: Record<string, unknown>, i) => {
    const at = `Egress[${i}]`;
    if (typeof r !== 'object' || r === null) throw new InvalidRequestException(`${at} must be an object.`);
    if (!['tcp', 'udp', '-1'].includes(r.Protocol as string))
      throw new InvalidRequestException(`${at}.Protocol must be tcp, udp or -1 (all).`);
    const rule: SecurityGroupRuleView = { Protocol: r.Protocol as SecurityGroupRuleView['Protocol'], Cidrs: cidrs(r.Cidrs, `${at}.Cidrs`) };
    if (rule.Protocol !== '-1') {
      const from = port(r.FromPort, `${at}.FromPort`);
      const to = port(r.ToPort ?? r.FromPort, `${at}.ToPort`);
      if (from !== undefined) rule.FromPort = from;
      if (to !== undefined) rule.ToPort = to;
      if (from !== undefined && to !== undefined && to < from)
        throw new InvalidRequestException(`${at}.ToPort must not be below FromPort.`);
    } else if (r.FromPort !== undefined || r.ToPort !== undefined) {
      throw new InvalidRequestException(`${at}: Protocol -1 covers every port; leave FromPort/ToPort out.`);
    }
    return rule;
  });
}

/**
 * The networks VPC connectors may name, registered by the platform admin: a subnet id stands for CIDRs the cluster
 * can reach, a security group id for egress rules. A connector's service may reach exactly its subnets under its
 * groups' rules (libs/kubernetes builds the NetworkPolicy from them).
 */
@Injectable()
export class NetworkRegistryService {
  constructor(private readonly networks: NetworkRegistryRepository) {}

  async putSubnet(id: string, body: Record<string, unknown>): Promise<{ SubnetId: string; Cidrs: string[] }> {
    if (!SUBNET_ID.test(id)) throw new InvalidRequestException(`${id} is not a subnet id (subnet-...).`);
    const list = cidrs(body.Cidrs, 'Cidrs');
    await this.networks.putSubnet(id, list);
    return { SubnetId: id, Cidrs: list };
  }

  async putSecurityGroup(id: string, body: Record<string, unknown>): Promise<{ SecurityGroupId: string; Egress: SecurityGroupRuleView[] }> {
    if (!SG_ID.test(id)) throw new InvalidRequestException(`${id} is not a security group id (sg-...).`);
    const egress = rules(body.Egress);
    await this.networks.putSecurityGroup(id, egress);
    return { SecurityGroupId: id, Egress: egress };
  }

  async listSubnets(): Promise<{ SubnetId: string; Cidrs: string[] }[]> {
    return (await this.networks.listSubnets()).map((s) => ({ SubnetId: s.id, Cidrs: s.cidrs }));
  }

  async listSecurityGroups(): Promise<{ SecurityGroupId: string; Egress: SecurityGroupRuleView[] }[]> {
    return (await this.networks.listSecurityGroups()).map((g) => ({ SecurityGroupId: g.id, Egress: g.egress }));
  }

  /** A private network VPC ingress connections may name, and the IngressClass that serves it. */
  async putVpc(id: string, body: Record<string, unknown>): Promise<{ VpcId: string; IngressClassName: string }> {
    if (!VPC_ID.test(id)) throw new InvalidRequestException(`${id} is not a VPC id (vpc-...).`);
    const ingressClassName = body.IngressClassName;
    if (typeof ingressClassName !== 'string' || !INGRESS_CLASS.test(ingressClassName))
      throw new InvalidRequestException('IngressClassName must name an IngressClass.');
    await this.networks.putVpc(id, ingressClassName);
    return { VpcId: id, IngressClassName: ingressClassName };
  }

  async listVpcs(): Promise<{ VpcId: string; IngressClassName: string }[]> {
    return (await this.networks.listVpcs()).map((v) => ({
      VpcId: v.id,
      IngressClassName: v.ingressClassName,
    }));
  }

  async deleteVpc(id: string): Promise<void> {
    if (!(await this.networks.deleteVpc(id))) throw new ResourceNotFoundException(`VPC ${id} is not registered.`);
  }

  async deleteSubnet(id: string): Promise<void> {
    if (!(await this.networks.deleteSubnet(id))) throw new ResourceNotFoundException(`Subnet ${id} is not registered.`);
  }

  async deleteSecurityGroup(id: string): Promise<void> {
    if (!(await this.networks.deleteSecurityGroup(id))) throw new ResourceNotFoundException(`Security group ${id} is not registered.`);
  }
}
