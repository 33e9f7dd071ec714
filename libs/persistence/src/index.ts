export { PrismaService, createPrismaClient } from './prisma.service';
export { Prisma, type PrismaClient } from './generated/client';
export type {
  AuditRecord,
  AutoScalingConfiguration,
  Build,
  BuildLogChunk,
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
  WebhookDelivery,
  ImageWatch,
} from './generated/client';
