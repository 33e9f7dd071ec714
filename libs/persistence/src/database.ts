import { Inject, Injectable } from '@nestjs/common';
import { ThrottlingException } from '@apprunner/core';
import { prismaErrorCode } from './errors';
import type { Prisma, PrismaClient } from './generated/client';
import { PrismaService } from './prisma.service';

const clients = new WeakMap<Transaction, Prisma.TransactionClient>();

/**
 * A transaction in progress. A service only hands it on to repository methods, whose statements then run in it and
 * under the row locks it holds; what it wraps stays inside persistence.
 */
export class Transaction {
  /** Makes the type nominal: only what Database.transaction opens is a Transaction. */
  private readonly kind = 'transaction';
}

/** The client a repository statement runs on: the transaction's when it is given one, the pool's otherwise. */
export function clientOf(tx: Transaction | undefined, pool: PrismaClient): Prisma.TransactionClient {
  if (!tx) return pool;
  const client = clients.get(tx);
  if (!client) throw new Error('Not a transaction of this database (opened by Database.transaction).');
  return client;
}

/** The database as services see it: transactions (the one way to make several writes atomic) and a ping. */
@Injectable()
export class Database {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Runs `work` in one transaction (READ COMMITTED): committed when it resolves, rolled back when it throws.
   * ThrottlingException when it could not start or finish in time (DATABASE_TRANSACTION_WAIT_MS / _TIMEOUT_MS).
   */
  async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    try {
      return await this.prisma.client.$transaction((client) => {
        const tx = new Transaction();
        clients.set(tx, client);
        return work(tx);
      });
    } catch (e) {
      // P2028: no connection within DATABASE_TRANSACTION_WAIT_MS, or the transaction outlived
      // DATABASE_TRANSACTION_TIMEOUT_MS (rolled back); P2024: the pool itself timed out
      const code = prismaErrorCode(e);
      if (code === 'P2028' || code === 'P2024')
        throw new ThrottlingException('Rate exceeded: the platform is too busy to take this request now. Retry it with backoff.');
      throw e;
    }
  }

  /** Resolves once PostgreSQL answers (readiness). */
  async ping(): Promise<void> {
    await this.prisma.client.$queryRawUnsafe('SELECT 1');
  }
}

/** What every repository has: the pool, and the client of a statement (in a transaction or not). */
@Injectable()
export abstract class Repository {
  // Injected by token: the repositories declare no constructor of their own, so Nest reads this one's.
  constructor(@Inject(PrismaService) protected readonly prisma: PrismaService) {}

  protected db(tx?: Transaction): Prisma.TransactionClient {
    return clientOf(tx, this.prisma.client);
  }
}
