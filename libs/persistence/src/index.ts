export { PrismaService, createPrismaClient } from './prisma.service';
export { Prisma, type PrismaClient } from './generated/client';
export type {
  AuditRecord,
  AutoScalingConfiguration,
  Connection,
  Credential,
  CustomDomain,
  ObservabilityConfiguration,
  Operation,
  Service,
  Tag,
  Tenant,
  VpcConnector,
  VpcIngressConnection,
} from './generated/client';
