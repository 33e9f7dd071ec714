import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, newAccountId, newResourceId } from '@apprunner/core';
import {
  AutoScalingConfigurationRepository,
  Database,
  ServiceRepository,
  TenantRepository,
  type TenantRecord,
  Transaction,
  UniqueConstraintError,
} from '@apprunner/persistence';
import { deployMigrations } from '../../libs/persistence/src/migrate/migrator';
import { PrismaService } from '../../libs/persistence/src/prisma.service';

const config = loadConfig({
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test',
  DATABASE_SCHEMA: `repo_spec_${randomBytes(4).toString('hex')}`,
  DATABASE_POOL_SIZE: '4',
  MASTER_KEY: 'k'.repeat(44),
  ADMIN_TOKEN: 'a'.repeat(32),
});

const SPEC = {
  SourceConfiguration: {
    ImageRepository: {
      ImageIdentifier: 'public.ecr.aws/nginx/nginx:1.27',
      ImageRepositoryType: 'ECR_PUBLIC' as const,
      ImageConfiguration: { Port: '80' },
    },
    AutoDeploymentsEnabled: false,
  },
  InstanceConfiguration: { Cpu: '1024', Memory: '2048' },
  HealthCheckConfiguration: { Protocol: 'TCP' as const, Path: '/', Interval: 5, Timeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 5 },
  NetworkConfiguration: { EgressConfiguration: { EgressType: 'DEFAULT' as const }, IngressConfiguration: { IsPubliclyAccessible: true } },
  ObservabilityConfiguration: { ObservabilityEnabled: false },
};

/** The repositories against a real PostgreSQL: what they return, what they refuse, and what the tenant lock holds. */
describe('repositories (PostgreSQL)', () => {
  const prisma = new PrismaService(config);
  const database = new Database(prisma);
  const tenants = new TenantRepository(prisma);
  const services = new ServiceRepository(prisma);
  const configurations = new AutoScalingConfigurationRepository(prisma);
  let tenant: TenantRecord;

  beforeAll(async () => {
    await deployMigrations({ connectionString: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, quiet: true });
    tenant = await tenants.create({ name: 'repo-spec', accountId: newAccountId(), quotaOverrides: { Services: 3 }, createdAt: new Date() });
  });
  afterAll(async () => {
    await prisma.client.$executeRawUnsafe(`DROP SCHEMA IF EXISTS "${config.DATABASE_SCHEMA}" CASCADE`);
    await prisma.onApplicationShutdown();
  });

  const newService = async (name: string, tx: Transaction) => {
    const asc =
      (await configurations.findDefault(tenant.id, tx)) ??
      (await configurations.create(
        {
          tenantId: tenant.id,
          name: 'DefaultConfiguration',
          revision: 1,
          arn: `arn:aws:apprunner:us-east-1:${tenant.accountId}:autoscalingconfiguration/DefaultConfiguration/1/${newResourceId()}`,
          maxConcurrency: 100,
          minSize: 1,
          maxSize: 25,
          isDefault: true,
          createdAt: new Date(),
        },
        tx,
      ));
    const serviceId = newResourceId();
    return services.create(
      {
        tenantId: tenant.id,
        serviceId,
        serviceName: name,
        arn: `arn:aws:apprunner:us-east-1:${tenant.accountId}:service/${name}/${serviceId}`,
        status: 'OPERATION_IN_PROGRESS',
        urlHost: `${name}.example.test`,
        spec: SPEC,
        autoScalingConfigurationId: asc.id,
        observabilityConfigurationId: null,
        vpcConnectorId: null,
        connectionId: null,
        createdAt: new Date(),
        updatedAt: new Date(),
      },
      tx,
    );
  };

  it('return records with their JSON columns typed, and refuse a column that does not hold its shape, naming it', async () => {
    const created = await database.transaction((tx) => newService('typed', tx));
    const read = await services.get(created.id);
    expect(read.spec).toEqual(SPEC);
    expect((await tenants.findByAccountId(tenant.accountId))?.quotaOverrides).toEqual({ Services: 3 });
    await prisma.client.service.update({ where: { id: created.id }, data: { spec: { SourceConfiguration: 42 } } });
    await expect(services.get(created.id)).rejects.toThrow(`Service ${created.id}: spec does not hold what it should`);
  });

  it('turn a lost race on a unique key into UniqueConstraintError, and roll a failed transaction back whole', async () => {
    await database.transaction((tx) => newService('unique', tx));
    const again = await database.transaction((tx) => newService('unique', tx)).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(UniqueConstraintError);
    const before = await services.countLive(tenant.id);
    await expect(
      database.transaction(async (tx) => {
        await newService('rolled-back', tx);
        throw new Error('refused after the write');
      }),
    ).rejects.toThrow('refused after the write');
    expect(await services.countLive(tenant.id)).toBe(before);
    // A handle that Database.transaction did not open runs nothing.
    await expect(services.countLive(tenant.id, new Transaction())).rejects.toThrow('Not a transaction of this database');
  });

  it('hold the tenant lock until the transaction that took it ends; a deleted tenant has none to take', async () => {
    const order: string[] = [];
    let locked!: () => void;
    const taken = new Promise<void>((r) => (locked = r));
    const first = database.transaction(async (tx) => {
      await tenants.lock(tenant.id, tx);
      locked();
      await new Promise((r) => setTimeout(r, 300));
      order.push('first commits');
    });
    await taken;
    const second = database.transaction(async (tx) => {
      const quotas = await tenants.lock(tenant.id, tx);
      order.push('second has the lock');
      return quotas;
    });
    const [, quotas] = await Promise.all([first, second]);
    expect(order).toEqual(['first commits', 'second has the lock']);
    expect(quotas).toEqual({ quotaOverrides: { Services: 3 } });
    expect(await database.transaction((tx) => tenants.lock('00000000-0000-4000-8000-000000000000', tx))).toBeUndefined();
  });

  it('refuse a transaction that gets no connection in time, or outlives its timeout, with ThrottlingException (rolled back)', async () => {
    const small = new PrismaService({
      ...config,
      DATABASE_POOL_SIZE: 1,
      DATABASE_TRANSACTION_WAIT_MS: 200,
      DATABASE_TRANSACTION_TIMEOUT_MS: 1_000,
    });
    const db = new Database(small);
    const smallTenants = new TenantRepository(small);
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let started!: () => void;
      const begun = new Promise<void>((r) => (started = r));
      // the pool's one connection, held by a transaction that waits
      const holder = db.transaction(async (tx) => {
        await smallTenants.lock(tenant.id, tx);
        started();
        await held;
      });
      await begun;
      await expect(db.transaction((tx) => smallTenants.lock(tenant.id, tx))).rejects.toMatchObject({
        code: 'ThrottlingException',
        message: expect.stringMatching(/^Rate exceeded/),
      });
      release();
      await holder;
      // a transaction past its timeout is rolled back: its write is gone
      const name = `throttled-${randomBytes(3).toString('hex')}`;
      await expect(
        db.transaction(async (tx) => {
          await smallTenants.create({ name, accountId: newAccountId(), quotaOverrides: {}, createdAt: new Date() }, tx);
          await new Promise((r) => setTimeout(r, 1_500));
        }),
      ).rejects.toMatchObject({ code: 'ThrottlingException' });
      expect(await small.client.tenant.count({ where: { name } })).toBe(0);
    } finally {
      await small.onApplicationShutdown();
    }
  });
});
