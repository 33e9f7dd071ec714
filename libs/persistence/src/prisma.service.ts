import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { PrismaClient } from './generated/client';

export type { PrismaClient };

export function createPrismaClient(
  config: Pick<PlatformConfig, 'DATABASE_URL' | 'DATABASE_SCHEMA' | 'DATABASE_POOL_SIZE'> &
    Partial<Pick<PlatformConfig, 'DATABASE_TRANSACTION_WAIT_MS' | 'DATABASE_TRANSACTION_TIMEOUT_MS'>>,
): PrismaClient {
  const adapter = new PrismaPg(
    { connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE },
    { schema: config.DATABASE_SCHEMA },
  );
  return new PrismaClient({
    adapter,
    transactionOptions: {
      maxWait: config.DATABASE_TRANSACTION_WAIT_MS ?? 10_000,
      timeout: config.DATABASE_TRANSACTION_TIMEOUT_MS ?? 30_000,
    },
  });
}

/** The Prisma client as a Nest provider: one pool per process, sized by configuration. */
@Injectable()
export class PrismaService implements OnApplicationShutdown {
  readonly client: PrismaClient;

  constructor(@Inject(PLATFORM_CONFIG) config: PlatformConfig) {
    this.client = createPrismaClient(config);
  }

  /** Last of the shutdown hooks: whatever stops in onModuleDestroy (builds going back to the queue) can still write. */
  async onApplicationShutdown(): Promise<void> {
    await this.client.$disconnect();
  }
}
