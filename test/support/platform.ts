import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppRunnerClient } from '@aws-sdk/client-apprunner';
import { Client } from 'pg';
import { loadConfig, nestLogLevels, type PlatformConfig } from '@apprunner/core';
import { KubeClient, ReconcilerSettings, type KubeSource } from '@apprunner/kubernetes';
import { RECONCILERS } from '@apprunner/operation';
import type { FakeKube } from '../doubles/kube-fake';
import { createPrismaClient, type PrismaClient } from '../../libs/persistence/src/prisma.service';
import { deleteQueueKeys } from '@apprunner/queue';
import { deployMigrations } from '../../libs/persistence/src/migrate/migrator';
import { createApiApp } from '../../apps/api/src/bootstrap';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { ScriptedReconcilers } from './reconcilers';
import { type TestClusterInfo, workerEnv, workerSource } from './cluster';

export interface TestTenant {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  apiKey: string;
  client: AppRunnerClient;
}

export interface TestPlatform {
  url: string;
  /** The API application (its providers, for tests that drive them directly). */
  api: NestExpressApplication;
  config: PlatformConfig;
  prisma: PrismaClient;
  reconcilers: ScriptedReconcilers;
  /** The running worker (Kubernetes or scripted reconcilers), if any. */
  worker(): INestApplicationContext | undefined;
  /** Stops the worker abruptly-but-cleanly, or starts a fresh one (a restart after a crash). */
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  rest(apiKey: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  newTenant(name?: string, quotaOverrides?: Record<string, number>): Promise<TestTenant>;
  /** Another API replica on the same database and Redis (closed with the platform). */
  apiReplica(): Promise<{ url: string; close(): Promise<void> }>;
  close(): Promise<void>;
}

const SHARED_DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/**
 * A whole control plane for one test file: its own PostgreSQL schema (migrated), its own Redis key
 * prefix, the API on a loopback port and, unless disabled, a worker driven by scripted reconcilers.
 */
export async function startTestPlatform(
  options: {
    worker?: boolean;
    kube?: FakeKube;
    kubeSource?: KubeSource;
    /** The real test cluster: the worker authorizes as the chart's ServiceAccount, through `via` (a proxy) if given. */
    cluster?: { info: TestClusterInfo; via?: string };
    pollMs?: number;
    env?: Record<string, string>;
    /** A PostgreSQL of the suite's own (test/support/own-services.ts) instead of the shared one. */
    databaseUrl?: string;
  } = {},
): Promise<TestPlatform> {
  const DATABASE_URL = options.databaseUrl ?? SHARED_DATABASE_URL;
  const suffix = randomBytes(6).toString('hex');
  const schema = `t_${suffix}`;
  await deployMigrations({
    connectionString: DATABASE_URL,
    schema,
    migrationsDir: join(__dirname, '../../prisma/migrations'),
    quiet: true,
  });
  const config = loadConfig({
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    DATABASE_POOL_SIZE: '5',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `test-${suffix}`,
    KUBE_NAMESPACE_PREFIX: 'apprunner-',
    RESYNC_SECONDS: '0',
    ...(options.cluster ? workerEnv(options.cluster.info) : {}),
    OUTBOX_SWEEP_SECONDS: '1',
    ...options.env,
    MASTER_KEY: randomBytes(32).toString('base64'),
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    APPRUNNER_REGION: 'us-east-1',
    PLATFORM_DOMAIN: 'apprunner.test',
    // TEST_LOG_LEVEL=debug shows the API's and the worker's logs while debugging a suite
    LOG_LEVEL: (process.env.TEST_LOG_LEVEL as PlatformConfig['LOG_LEVEL'] | undefined) ?? 'silent',
  });
  const logger = config.LOG_LEVEL === 'silent' ? false : nestLogLevels(config.LOG_LEVEL);
  const app: NestExpressApplication = await createApiApp(config, { logger: process.env.TEST_LOG_LEVEL ? undefined : false });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const replicas: NestExpressApplication[] = [];
  const reconcilers = new ScriptedReconcilers();
  let worker: INestApplicationContext | undefined;
  const startWorker = async (): Promise<INestApplicationContext> => {
    const source: KubeSource | undefined =
      options.kubeSource ??
      (options.cluster ? workerSource(options.cluster.info, options.cluster.via) : undefined) ??
      (options.kube ? { options: options.kube.kubeConfigOptions() } : undefined);
    const module = source
      ? WorkerModule.forKubernetes(config, await KubeClient.connect(source, config.KUBE_FIELD_MANAGER))
      : WorkerModule.forRoot(config, { provide: RECONCILERS, useValue: reconcilers });
    const ctx = await NestFactory.createApplicationContext(module, { logger });
    if (source) ctx.get(ReconcilerSettings).pollMs = options.pollMs ?? 50;
    await ctx.init();
    return ctx;
  };
  if (options.worker !== false) worker = await startWorker();
  const prisma = createPrismaClient(config);

  const call = async (auth: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${auth}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  const platform: TestPlatform = {
    url,
    api: app,
    config,
    prisma,
    reconcilers,
    worker: () => worker,
    async stopWorker() {
      await worker?.close();
      worker = undefined;
    },
    async startWorker() {
      worker = await startWorker();
    },
    admin: (method, path, body) => call(config.ADMIN_TOKEN, method, path, body),
    rest: (apiKey, method, path, body) => call(apiKey, method, path, body),
    async newTenant(name = `tenant-${randomBytes(4).toString('hex')}`, quotaOverrides) {
      const created = await platform.admin('POST', '/admin/tenants', {
        Name: name,
        ...(quotaOverrides ? { QuotaOverrides: quotaOverrides } : {}),
      });
      if (created.status !== 201) throw new Error(`tenant create failed: ${JSON.stringify(created.body)}`);
      const accountId = created.body.Tenant.AccountId as string;
      const key = await platform.admin('POST', `/admin/tenants/${accountId}/access-keys`, { Description: 'test' });
      const api = await platform.admin('POST', `/admin/tenants/${accountId}/api-keys`, { Description: 'test' });
      const { KeyId: accessKeyId, SecretAccessKey: secretAccessKey } = key.body.Credential;
      return {
        accountId,
        accessKeyId,
        secretAccessKey,
        apiKey: api.body.Credential.Token,
        client: new AppRunnerClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 }),
      };
    },
    async apiReplica() {
      const replica = await createApiApp(config, { logger: process.env.TEST_LOG_LEVEL ? undefined : false });
      await replica.listen(0, '127.0.0.1');
      replicas.push(replica);
      return {
        url: `http://127.0.0.1:${(replica.getHttpServer().address() as AddressInfo).port}`,
        close: async () => {
          replicas.splice(replicas.indexOf(replica), 1);
          await replica.close();
        },
      };
    },
    async close() {
      await worker?.close();
      for (const replica of replicas.splice(0)) await replica.close();
      await app.close();
      await prisma.$disconnect();
      const pg = new Client({ connectionString: DATABASE_URL });
      await pg.connect();
      await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pg.end();
      await deleteQueueKeys(config.REDIS_URL, config.REDIS_PREFIX);
    },
  };
  return platform;
}
