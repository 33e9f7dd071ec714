import { Inject, Injectable } from '@nestjs/common';
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

  /** Runs `work` in one transaction (READ COMMITTED): committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.prisma.client.$transaction((client) => {
      const tx = new Transaction();
      clients.set(tx, client);
      return work(tx);
    });
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
