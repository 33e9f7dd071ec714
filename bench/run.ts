/**
 * npm run bench — (1) DescribeService and ListServices throughput and latency through the AWS JSON 1.0
 * front door (SigV4, real @aws-sdk/client-apprunner clients), with 10,000 services across 1,000
 * tenants in PostgreSQL; (2) the worker reconciling 1,000 services into Kubernetes (bench/reconcile.ts).
 * Prints one JSON document. Uses its own schemas and Redis prefixes, and drops them.
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { AppRunnerClient, DescribeServiceCommand, ListServicesCommand } from '@aws-sdk/client-apprunner';
import { Client } from 'pg';
import { newAccessKey, parseMasterKey, sealSecret } from '@apprunner/auth';
import { formatArn, loadConfig, newResourceId } from '@apprunner/core';
import { createPrismaClient } from '../libs/persistence/src/prisma.service';
import { deleteQueueKeys } from '@apprunner/queue';
import { deployMigrations } from '../libs/persistence/src/migrate/migrator';
import { createApiApp } from '../apps/api/src/bootstrap';
import { buildBench } from './build';
import { reconcileBench } from './reconcile';
import { clusterDown } from '../scripts/cluster/local-cluster';
import { startTestCluster } from '../test/support/cluster';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 1_000);
const SERVICES_PER_TENANT = Number(process.env.BENCH_SERVICES_PER_TENANT ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

interface Seeded {
  key: { accessKeyId: string; secretAccessKey: string };
  serviceArns: string[];
}

async function seed(config: ReturnType<typeof loadConfig>): Promise<Seeded[]> {
  const prisma = createPrismaClient(config);
  const masterKey = parseMasterKey(config.MASTER_KEY);
  const scope = { partition: 'aws', region: config.APPRUNNER_REGION };
  const tenants = Array.from({ length: TENANTS }, (_, i) => ({
    id: randomUUID(),
    accountId: String(100_000_000_000 + i),
    name: `bench-${i}`,
  }));
  const keys = tenants.map(() => newAccessKey());
  const ascs = tenants.map((t) => ({
    id: randomUUID(),
    tenantId: t.id,
    name: 'DefaultConfiguration',
    revision: 1,
    arn: formatArn(
      { ...scope, accountId: t.accountId },
      'autoscalingconfiguration',
      'DefaultConfiguration',
      1,
      '00000000000000000000000000000001',
    ),
    maxConcurrency: 100,
    minSize: 1,
    maxSize: 25,
    status: 'ACTIVE',
    isDefault: true,
  }));
  const spec = {
    SourceConfiguration: {
      ImageRepository: {
        ImageIdentifier: 'public.ecr.aws/nginx/nginx:latest',
        ImageRepositoryType: 'ECR_PUBLIC',
        ImageConfiguration: { Port: '8080' },
      },
      AutoDeploymentsEnabled: false,
    },
    InstanceConfiguration: { Cpu: '1024', Memory: '2048' },
    HealthCheckConfiguration: { Protocol: 'TCP', Path: '/', Interval: 5, Timeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 5 },
    NetworkConfiguration: {
      EgressConfiguration: { EgressType: 'DEFAULT' },
      IngressConfiguration: { IsPubliclyAccessible: true },
      IpAddressType: 'IPV4',
    },
    ObservabilityConfiguration: { ObservabilityEnabled: false },
  };
  const services = tenants.flatMap((t, ti) =>
    Array.from({ length: SERVICES_PER_TENANT }, (_, i) => {
      const serviceId = newResourceId();
      const name = `svc-${i}`;
      return {
        tenantId: t.id,
        serviceId,
        serviceName: name,
        activeName: name,
        arn: formatArn({ ...scope, accountId: t.accountId }, 'service', name, serviceId),
        status: 'RUNNING',
        urlHost: `${serviceId.slice(0, 10)}.${config.APPRUNNER_REGION}.${config.PLATFORM_DOMAIN}`,
        spec,
        autoScalingConfigurationId: ascs[ti].id,
      };
    }),
  );
  await prisma.tenant.createMany({ data: tenants });
  await prisma.autoScalingConfiguration.createMany({ data: ascs });
  await prisma.credential.createMany({
    data: tenants.map((t, i) => ({
      tenantId: t.id,
      kind: 'ACCESS_KEY' as const,
      keyId: keys[i].accessKeyId,
      secretCiphertext: new Uint8Array(sealSecret(masterKey, keys[i].secretAccessKey)),
    })),
  });
  for (let i = 0; i < services.length; i += 2_000) await prisma.service.createMany({ data: services.slice(i, i + 2_000) });
  await prisma.$disconnect();
  return tenants.map((t, i) => ({
    key: keys[i],
    serviceArns: services.slice(i * SERVICES_PER_TENANT, (i + 1) * SERVICES_PER_TENANT).map((s) => s.arn),
  }));
}

async function measure(name: string, call: (i: number) => Promise<unknown>): Promise<Record<string, number | string>> {
  const latencies: number[] = [];
  let errors = 0;
  const errorNames: Record<string, number> = {};
  let i = 0;
  const deadline = Date.now() + SECONDS * 1_000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) {
        const t0 = process.hrtime.bigint();
        try {
          await call(i++);
        } catch (e) {
          errors++;
          const name = (e as Error).name || 'Error';
          errorNames[name] = (errorNames[name] ?? 0) + 1;
        }
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1_000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2));
  return {
    action: name,
    requests: latencies.length,
    errors,
    seconds: Number(elapsed.toFixed(2)),
    requestsPerSecond: Number((latencies.length / elapsed).toFixed(1)),
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    ...(errors ? { errorNames: JSON.stringify(errorNames) } : {}),
  };
}

async function apiBench(): Promise<Record<string, unknown>> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    ...process.env,
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    DATABASE_POOL_SIZE: '10',
    REDIS_PREFIX: `bench-${schema}`,
    MASTER_KEY: randomBytes(32).toString('base64'),
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    LOG_LEVEL: 'silent',
  });
  await deployMigrations({ connectionString: DATABASE_URL, schema, migrationsDir: join(__dirname, '../prisma/migrations'), quiet: true });
  const app = await createApiApp(config, { logger: false });
  try {
    const seedStart = Date.now();
    const seeded = await seed(config);
    const seedSeconds = (Date.now() - seedStart) / 1_000;
    await app.listen(0, '127.0.0.1');
    const endpoint = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const clients = seeded.map(
      (s) => new AppRunnerClient({ endpoint, region: config.APPRUNNER_REGION, credentials: s.key, maxAttempts: 1 }),
    );
    // Warm-up: every credential once (fills the credential cache as steady-state traffic would).
    for (const c of clients) await c.send(new ListServicesCommand({ MaxResults: 1 }));
    const describe = await measure('DescribeService', (i) => {
      const t = i % seeded.length;
      return clients[t].send(
        new DescribeServiceCommand({ ServiceArn: seeded[t].serviceArns[Math.floor(i / seeded.length) % SERVICES_PER_TENANT] }),
      );
    });
    const list = await measure('ListServices', (i) => clients[i % clients.length].send(new ListServicesCommand({ MaxResults: 20 })));
    return {
      dataset: { tenants: TENANTS, services: TENANTS * SERVICES_PER_TENANT, seedSeconds: Number(seedSeconds.toFixed(1)) },
      load: { concurrency: CONCURRENCY, secondsPerAction: SECONDS, client: '@aws-sdk/client-apprunner over HTTP/1.1, SigV4' },
      results: [describe, list],
    };
  } finally {
    await app.close();
    const pg = new Client({ connectionString: DATABASE_URL });
    await pg.connect();
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
    await deleteQueueKeys(config.REDIS_URL, config.REDIS_PREFIX);
  }
}

/** BENCH_ONLY=api, reconcile or build runs one part; the last two start the local cluster (.tmp/bench-cluster). */
async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY;
  const out: Record<string, unknown> = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version } };
  if (only === undefined || only === 'api') out.api = await apiBench();
  if (only === 'api') return void console.log(JSON.stringify(out, null, 2));
  const dir = join(__dirname, '..', '.tmp', 'bench-cluster');
  const t0 = Date.now();
  const { info, reused } = await startTestCluster((line) => process.stderr.write(`[bench cluster] ${line}\n`), dir);
  out.cluster = { kubernetes: info.version, startSeconds: Number(((Date.now() - t0) / 1000).toFixed(1)), reused };
  try {
    if (only === undefined || only === 'reconcile') out.reconcile = await reconcileBench(info);
    if (only === undefined || only === 'build') out.build = await buildBench(info);
  } finally {
    if (!reused) await clusterDown(dir);
  }
  console.log(JSON.stringify(out, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
