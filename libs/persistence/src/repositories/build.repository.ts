import { Injectable } from '@nestjs/common';
import type { ImageConfiguration } from '@aws-sdk/client-apprunner';
import { Repository } from '../database';
import { prismaErrorCode } from '../errors';
import { toJsonColumn } from '../json-columns';
import { type BuildRecord, toBuildRecord } from '../records';

/** Image builds of code-based services (one per deploying operation) and their output, stored as it arrives. */
@Injectable()
export class BuildRepository extends Repository {
  async findByOperation(operationId: string): Promise<BuildRecord | undefined> {
    const row = await this.db().build.findUnique({ where: { operationId } });
    return row ? toBuildRecord(row) : undefined;
  }

  /** The operation's build: the one recorded, or a new QUEUED one (of two passes creating it at once, one creates). */
  async findOrCreate(build: { operationId: string; tenantId: string; serviceId: string }): Promise<BuildRecord> {
    const found = await this.findByOperation(build.operationId);
    if (found) return found;
    try {
      return toBuildRecord(await this.db().build.create({ data: { ...build, status: 'QUEUED' } }));
    } catch (e) {
      if (prismaErrorCode(e) !== 'P2002') throw e;
      return toBuildRecord(await this.db().build.findUniqueOrThrow({ where: { operationId: build.operationId } }));
    }
  }

  /**
   * Claims a QUEUED build, or a RUNNING one its worker stopped touching, to run it here: a conditional update on the
   * row as it was read, so of two claimants one wins (true).
   */
  async claim(build: Pick<BuildRecord, 'id' | 'updatedAt'>, startedAt: Date): Promise<boolean> {
    const claimed = await this.db().build.updateMany({
      where: { id: build.id, updatedAt: build.updatedAt, status: { in: ['QUEUED', 'RUNNING'] } },
      data: { status: 'RUNNING', startedAt },
    });
    return claimed.count === 1;
  }

  async setCommit(id: string, commit: string): Promise<void> {
    await this.db().build.update({ where: { id }, data: { commit } });
  }

  async succeeded(id: string, result: { image: string; imageConfiguration: ImageConfiguration }, endedAt: Date): Promise<void> {
    await this.db().build.update({
      where: { id },
      data: { status: 'SUCCEEDED', image: result.image, imageConfiguration: toJsonColumn(result.imageConfiguration), endedAt },
    });
  }

  async failed(id: string, reason: string, endedAt: Date): Promise<void> {
    await this.db().build.update({ where: { id }, data: { status: 'FAILED', reason, endedAt } });
  }

  /** Back to the queue: the next reconcile pass, on any worker, starts it over. */
  async requeue(id: string): Promise<void> {
    await this.db().build.update({ where: { id }, data: { status: 'QUEUED' } });
  }

  /** The heartbeat of a running build: other workers tell it from one whose worker died by this. */
  async touch(id: string, at: Date): Promise<void> {
    await this.db().build.updateMany({ where: { id, status: 'RUNNING' }, data: { updatedAt: at } });
  }

  /** Appends output as the next chunks of the build's log, in one transaction (the sequence numbers stay dense). */
  async appendLog(buildId: string, parts: string[]): Promise<void> {
    await this.prisma.client.$transaction(async (tx) => {
      const build = await tx.build.update({
        where: { id: buildId },
        data: { logSeq: { increment: parts.length } },
        select: { logSeq: true },
      });
      const first = build.logSeq - parts.length;
      await tx.buildLogChunk.createMany({ data: parts.map((text, i) => ({ buildId, seq: first + i, text })) });
    });
  }

  /** Log chunks after `afterSeq`, in order, and where the build stands (undefined: no such build). */
  async readLog(
    buildId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ chunks: { seq: number; text: string }[]; build?: Pick<BuildRecord, 'status' | 'logSeq'> }> {
    const [chunks, build] = await Promise.all([
      this.db().buildLogChunk.findMany({
        where: { buildId, seq: { gt: afterSeq } },
        orderBy: { seq: 'asc' },
        take: limit,
        select: { seq: true, text: true },
      }),
      this.db().build.findUnique({ where: { id: buildId }, select: { status: true, logSeq: true } }),
    ]);
    return { chunks, ...(build ? { build } : {}) };
  }
}
