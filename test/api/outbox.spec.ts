import {
  AssociateCustomDomainCommand,
  CreateServiceCommand,
  CreateVpcIngressConnectionCommand,
  type Service,
} from '@aws-sdk/client-apprunner';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock } from '@apprunner/core';
import { OperationRunner, OperationService, ReconcileSnapshots } from '@apprunner/operation';
import {
  AutoScalingConfigurationRepository,
  CustomDomainRepository,
  Database,
  ObservabilityConfigurationRepository,
  OperationRepository,
  NetworkRegistryRepository,
  ServiceRepository,
  TagRepository,
  VpcConnectorRepository,
  VpcIngressConnectionRepository,
} from '@apprunner/persistence';
import { RECONCILE_QUEUE, redisConnection } from '@apprunner/queue';
import { operationLedger, type OperationLedger } from '../support/operation-ledger';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { ScriptedReconcilers } from '../support/reconcilers';
import { waitFor } from '../support/wait';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const image = { ImageRepository: { ImageIdentifier: 'public.ecr.aws/nginx/nginx:latest', ImageRepositoryType: 'ECR_PUBLIC' as const } };

/**
 * The outbox (OperationService.sweep, every OUTBOX_SWEEP_SECONDS — 1 s here — in every API replica) with no worker
 * running: a job that is in the queue is left alone; a job the queue lost, or finished without its record settling, is
 * enqueued again, once. And an operation ends once, however many passes end it at the same moment.
 */
describe('the outbox and the end of an operation', () => {
  let platform: TestPlatform;
  let queue: Queue;
  let redis: Redis;
  let tenant: TestTenant;
  let ledger: OperationLedger;

  beforeAll(async () => {
    platform = await startTestPlatform({ worker: false });
    queue = new Queue(RECONCILE_QUEUE, { connection: redisConnection(platform.config, 'producer'), prefix: platform.config.REDIS_PREFIX });
    redis = new Redis(platform.config.REDIS_URL);
    tenant = await platform.newTenant('outbox');
    ledger = await operationLedger(DATABASE_URL, platform.config.DATABASE_SCHEMA);
  });
  afterAll(async () => {
    await queue?.close();
    await redis?.quit();
    await ledger?.close();
    await platform?.close();
  });

  const sweeps = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** The queue's own record of adds that found the job already there (BullMQ's "duplicated" event). */
  const duplicatedAdds = async (jobId: string) => {
    const events = await redis.xrange(`${platform.config.REDIS_PREFIX}:${RECONCILE_QUEUE}:events`, '-', '+');
    return events.filter(([, fields]) => fields.includes('duplicated') && fields.includes(jobId)).length;
  };
  const createService = async (name: string): Promise<{ service: Service; operationId: string }> => {
    const r = await tenant.client.send(new CreateServiceCommand({ ServiceName: name, SourceConfiguration: image }));
    return { service: r.Service!, operationId: r.OperationId! };
  };

  it('leaves a job that is already queued alone, sweep after sweep', async () => {
    const { operationId } = await createService('queued-once');
    const jobId = `service-operation.${operationId}`;
    expect(await queue.getJobState(jobId)).toBe('waiting');
    const enqueuedAt = (await platform.prisma.operation.findUniqueOrThrow({ where: { id: operationId } })).enqueuedAt;
    await sweeps(3_500);
    expect(await platform.api.get(OperationService).sweep()).toBe(0);
    expect(await duplicatedAdds(jobId)).toBe(0);
    expect((await platform.prisma.operation.findUniqueOrThrow({ where: { id: operationId } })).enqueuedAt).toEqual(enqueuedAt);
    expect(await queue.getJobState(jobId)).toBe('waiting');
  });

  it('enqueues again the job of a pending operation that the queue lost', async () => {
    const { operationId } = await createService('lost-pending');
    const jobId = `service-operation.${operationId}`;
    await queue.remove(jobId);
    await waitFor(async () => (await queue.getJobState(jobId)) === 'waiting', 'the job back in the queue', 10_000);
    await sweeps(2_500);
    expect(await duplicatedAdds(jobId)).toBe(0);
  });

  it('enqueues again the job of an operation in progress that the queue lost (Redis restarted empty)', async () => {
    const { operationId } = await createService('lost-running');
    const jobId = `service-operation.${operationId}`;
    // a worker had started it, then the queue lost the job
    await platform.prisma.operation.update({ where: { id: operationId }, data: { status: 'IN_PROGRESS', startedAt: new Date() } });
    await queue.remove(jobId);
    await waitFor(async () => (await queue.getJobState(jobId)) === 'waiting', 'the job back in the queue', 10_000);
  });

  it('enqueues again a job that failed for good while its operation did not end; never the job of an ended operation', async () => {
    const failing = await createService('failed-job');
    const ended = await createService('ended-op');
    await platform.prisma.operation.update({ where: { id: ended.operationId }, data: { status: 'FAILED', endedAt: new Date() } });
    // a worker of its own fails both jobs for good (for the first, as after a giveUp that could not be written)
    const worker = new Worker(
      RECONCILE_QUEUE,
      async () => {
        throw new UnrecoverableError('the pass failed');
      },
      { connection: redisConnection(platform.config, 'worker'), prefix: platform.config.REDIS_PREFIX },
    );
    const failedJob = `service-operation.${failing.operationId}`;
    const endedJob = `service-operation.${ended.operationId}`;
    try {
      await waitFor(
        async () => (await queue.getJobState(failedJob)) === 'failed' && (await queue.getJobState(endedJob)) === 'failed',
        'both jobs failed',
      );
    } finally {
      await worker.close();
    }
    await waitFor(async () => (await queue.getJobState(failedJob)) === 'waiting', 'the failed job enqueued again', 10_000);
    await sweeps(2_500);
    expect(await queue.getJobState(endedJob)).toBe('failed');
  });

  it('VPC ingress connections and custom domains: queued jobs are left alone, lost ones enqueued again', async () => {
    const { service } = await createService('private-web');
    await platform.prisma.service.update({ where: { arn: service.ServiceArn }, data: { status: 'RUNNING' } });
    const vic = (
      await tenant.client.send(
        new CreateVpcIngressConnectionCommand({
          ServiceArn: service.ServiceArn,
          VpcIngressConnectionName: 'private-in',
          IngressVpcConfiguration: { VpcId: 'vpc-1', VpcEndpointId: 'vpce-1' },
        }),
      )
    ).VpcIngressConnection!;
    await tenant.client.send(new AssociateCustomDomainCommand({ ServiceArn: service.ServiceArn, DomainName: 'www.outbox.example.com' }));
    const vicRow = await platform.prisma.vpcIngressConnection.findUniqueOrThrow({ where: { arn: vic.VpcIngressConnectionArn } });
    const domainRow = await platform.prisma.customDomain.findFirstOrThrow({ where: { domainName: 'www.outbox.example.com' } });
    const vicJob = `vpc-ingress-connection.${vicRow.id}.${vicRow.updatedAt.getTime()}`;
    const domainJob = `custom-domain.${domainRow.id}.${domainRow.updatedAt.getTime()}`;
    expect([await queue.getJobState(vicJob), await queue.getJobState(domainJob)]).toEqual(['waiting', 'waiting']);
    await sweeps(3_000);
    expect([await duplicatedAdds(vicJob), await duplicatedAdds(domainJob)]).toEqual([0, 0]);

    await queue.remove(vicJob);
    await queue.remove(domainJob);
    await waitFor(
      async () => (await queue.getJobState(vicJob)) === 'waiting' && (await queue.getJobState(domainJob)) === 'waiting',
      'both jobs back in the queue',
      10_000,
    );
  });

  it('an operation ended by two passes at once ends once', async () => {
    const { operationId } = await createService('ended-twice');
    await platform.prisma.operation.update({ where: { id: operationId }, data: { status: 'IN_PROGRESS', startedAt: new Date() } });
    const get = <T>(type: new (...args: any[]) => T): T => platform.api.get(type);
    const snapshots = new ReconcileSnapshots(
      get(AutoScalingConfigurationRepository),
      get(ObservabilityConfigurationRepository),
      get(VpcConnectorRepository),
      get(NetworkRegistryRepository),
      get(CustomDomainRepository),
      get(VpcIngressConnectionRepository),
    );
    const runner = new OperationRunner(
      get(Database),
      get(OperationRepository),
      get(ServiceRepository),
      get(VpcIngressConnectionRepository),
      get(CustomDomainRepository),
      get(TagRepository),
      platform.api.get(Clock),
      snapshots,
      new ScriptedReconcilers(),
      null,
    );
    // The operation's row is held (as by a third writer) until both passes are in their transactions and wait on it;
    // released, they go at once: a pass that read the operation before writing would end it again.
    const holder = new Client({ connectionString: DATABASE_URL });
    const watcher = new Client({ connectionString: DATABASE_URL });
    await Promise.all([holder.connect(), watcher.connect()]);
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${platform.config.DATABASE_SCHEMA}"."Operation" WHERE id = $1 FOR UPDATE`, [operationId]);
      const passes = Promise.all([
        runner.run('service-operation', operationId),
        runner.giveUp('service-operation', operationId, 'the other pass gave up'),
      ]);
      await waitFor(async () => {
        const r = await watcher.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE "' || $1 || '"."Operation"%'`,
          [platform.config.DATABASE_SCHEMA],
        );
        return r.rows[0].n === 2;
      }, 'both passes waiting on the operation');
      await holder.query('COMMIT');
      await passes;
    } finally {
      await Promise.all([holder.end(), watcher.end()]);
    }
    expect((await ledger.ends()).get(operationId)).toBe(1);
    const op = await platform.prisma.operation.findUniqueOrThrow({ where: { id: operationId } });
    expect(['SUCCEEDED', 'FAILED']).toContain(op.status);
  });
});
