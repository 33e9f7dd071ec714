import { Prisma } from './generated/client';

/**
 * A write refused because a row with the same unique key exists (a live name, a domain, an id): the loser of a race
 * that the checks before it could not see. Services turn it into App Runner's error for a duplicate.
 */
export class UniqueConstraintError extends Error {
  constructor(readonly model: string) {
    super(`A ${model} with the same unique key exists.`);
    this.name = 'UniqueConstraintError';
  }
}

/** Prisma's error code of a failed statement (P2002 unique, P2003 foreign key, P2025 no such row), if it is one. */
export function prismaErrorCode(e: unknown): string | undefined {
  return e instanceof Prisma.PrismaClientKnownRequestError ? e.code : undefined;
}

/** Runs a write, turning a unique violation into UniqueConstraintError. */
export async function unique<T>(model: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (prismaErrorCode(e) === 'P2002') throw new UniqueConstraintError(model);
    throw e;
  }
}
