import {
  AssociateCustomDomainCommand,
  CreateAutoScalingConfigurationCommand,
  CreateConnectionCommand,
  CreateObservabilityConfigurationCommand,
  CreateServiceCommand,
  CreateVpcConnectorCommand,
  CreateVpcIngressConnectionCommand,
  DeleteAutoScalingConfigurationCommand,
  DescribeCustomDomainsCommand,
  ListAutoScalingConfigurationsCommand,
  ListObservabilityConfigurationsCommand,
  ListTagsForResourceCommand,
  PauseServiceCommand,
  TagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUOTA_DEFAULTS, FIXED_LIMITS } from '@apprunner/tenancy';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';

const image = { ImageRepository: { ImageIdentifier: 'public.ecr.aws/nginx/nginx:latest', ImageRepositoryType: 'ECR_PUBLIC' as const } };

/** What a burst of concurrent calls came to: how many succeeded, and every refusal's error name and message. */
interface Burst {
  ok: number;
  errors: { name: string; message: string }[];
}

/** Held before a burst starts, released (with the calls in flight) by the function it returns. */
type Gate = () => Promise<(calls: Promise<unknown>) => Promise<void>>;

async function burst(n: number, call: (i: number) => Promise<unknown>, gate?: Gate): Promise<Burst> {
  const release = await gate?.();
  const calls = Promise.allSettled(Array.from({ length: n }, (_, i) => call(i)));
  await release?.(calls);
  const results = await calls;
  return {
    ok: results.filter((r) => r.status === 'fulfilled').length,
    errors: results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => ({ name: String(r.reason?.name), message: String(r.reason?.message) })),
  };
}

/** Exactly `ok` calls won; every other one got App Runner's error for this limit (name, and the message it says). */
function expectLimit(result: Burst, ok: number, error: string, message: RegExp | string): void {
  expect(result.ok, JSON.stringify(result.errors.slice(0, 3))).toBe(ok);
  for (const e of result.errors) {
    expect(e.name).toBe(error);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  }
}

const figures: string[] = [];
function report(limit: string, n: number, result: Burst): void {
  figures.push(
    `${limit}: ${n} concurrent → ${result.ok} created, ${result.errors.length} refused (${[...new Set(result.errors.map((e) => e.name))].join(', ') || 'none'})`,
  );
}

/**
 * Every quota and limit the platform enforces, under concurrency: N creates at once never get past the limit, and the
 * rest get App Runner's error for it (the error each action models: ServiceQuotaExceededException for the Create*
 * quotas, InvalidRequestException for names, custom domains and tags, InvalidStateException for a second operation).
 * Each burst starts from an empty tenant, so exactly `limit` calls must succeed.
 */
describe('quotas and limits under concurrency', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    // enough connections for every call of a burst to be inside its transaction at once
    platform = await startTestPlatform({ worker: false, env: { DATABASE_POOL_SIZE: '24' } });
  });

  /**
   * Holds the tenant's row lock in a transaction of its own (as a slow create would) until every call of the burst
   * has started its transaction and waits behind it, then lets them all go at once: whatever a create reads before
   * taking the lock, all of them read the same.
   */
  const tenantLockedUntilQueued =
    (t: TestTenant, queued: number): Gate =>
    async () => {
      const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
      // pg_stat_activity is a snapshot per transaction: the lock holder can't watch the queue itself
      const pg = new Client({ connectionString: url });
      const watcher = new Client({ connectionString: url });
      await Promise.all([pg.connect(), watcher.connect()]);
      await pg.query('BEGIN');
      await pg.query(`SELECT 1 FROM "${platform.config.DATABASE_SCHEMA}"."Tenant" WHERE "accountId" = $1 FOR UPDATE`, [t.accountId]);
      return async (calls) => {
        try {
          // well within Prisma's 5 s transaction timeout: the queued transactions must not expire while they wait
          const deadline = Date.now() + 3_000;
          let waiting = 0;
          while (Date.now() < deadline && waiting < queued) {
            const r = await watcher.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE "' || $1 || '"."Tenant"%'`,
              [platform.config.DATABASE_SCHEMA],
            );
            waiting = r.rows[0].n;
            await Promise.race([calls, new Promise((r) => setTimeout(r, 20))]);
          }
          expect(waiting).toBe(queued);
        } finally {
          await pg.query('COMMIT');
          await Promise.all([pg.end(), watcher.end()]);
        }
      };
    };

  afterAll(async () => {
    if (figures.length > 0) process.stdout.write(`[quota-race]\n  ${figures.join('\n  ')}\n`);
    await platform?.close();
  });

  /** A service the worker (absent here) would have made RUNNING: associations need one. */
  const runningService = async (t: TestTenant, name: string): Promise<string> => {
    const arn = (await t.client.send(new CreateServiceCommand({ ServiceName: name, SourceConfiguration: image }))).Service!.ServiceArn!;
    await platform.prisma.service.update({ where: { arn }, data: { status: 'RUNNING' } });
    return arn;
  };
  const count = {
    services: (t: TestTenant) => platform.prisma.service.count({ where: { tenant: { accountId: t.accountId } } }),
    connections: (t: TestTenant) => platform.prisma.connection.count({ where: { tenant: { accountId: t.accountId } } }),
    connectors: (t: TestTenant) => platform.prisma.vpcConnector.count({ where: { tenant: { accountId: t.accountId } } }),
  };

  it('services: the default quota (30) and an adjusted one (3)', async () => {
    const t = await platform.newTenant('race-services');
    const defaults = await burst(QUOTA_DEFAULTS.Services + 6, (i) =>
      t.client.send(new CreateServiceCommand({ ServiceName: `svc-${i}`, SourceConfiguration: image })),
    );
    report('Services (default 30)', QUOTA_DEFAULTS.Services + 6, defaults);
    expectLimit(defaults, 30, 'ServiceQuotaExceededException', 'You have reached the maximum number of services (30) for this account.');
    expect(await count.services(t)).toBe(30);

    const small = await platform.newTenant('race-services-3', { Services: 3 });
    const adjusted = await burst(
      12,
      (i) => small.client.send(new CreateServiceCommand({ ServiceName: `svc-${i}`, SourceConfiguration: image })),
      tenantLockedUntilQueued(small, 12),
    );
    report('Services (adjusted to 3)', 12, adjusted);
    expectLimit(adjusted, 3, 'ServiceQuotaExceededException', 'You have reached the maximum number of services (3) for this account.');
    expect(await count.services(small)).toBe(3);
    // every accepted create recorded its operation, and nothing else was written
    expect(await platform.prisma.operation.count({ where: { tenant: { accountId: small.accountId } } })).toBe(3);
  });

  it('service names: one service per name', async () => {
    const t = await platform.newTenant('race-service-name');
    const result = await burst(8, () => t.client.send(new CreateServiceCommand({ ServiceName: 'same-name', SourceConfiguration: image })));
    report('Service name', 8, result);
    expectLimit(result, 1, 'InvalidRequestException', 'Service with the provided name already exists: same-name');
    expect(await count.services(t)).toBe(1);
  });

  it('connections: the default quota (10) and one per name', async () => {
    const t = await platform.newTenant('race-connections');
    const result = await burst(
      QUOTA_DEFAULTS.Connections + 4,
      (i) => t.client.send(new CreateConnectionCommand({ ConnectionName: `conn-${i}`, ProviderType: 'GITHUB' })),
      tenantLockedUntilQueued(t, QUOTA_DEFAULTS.Connections + 4),
    );
    report('Connections (default 10)', QUOTA_DEFAULTS.Connections + 4, result);
    expectLimit(result, 10, 'ServiceQuotaExceededException', 'You have reached the maximum number of connections (10) for this account.');
    expect(await count.connections(t)).toBe(10);

    const named = await platform.newTenant('race-connection-name');
    const same = await burst(
      6,
      () => named.client.send(new CreateConnectionCommand({ ConnectionName: 'only', ProviderType: 'GITHUB' })),
      tenantLockedUntilQueued(named, 6),
    );
    report('Connection name', 6, same);
    expectLimit(same, 1, 'InvalidRequestException', 'Connection with the provided name already exists: only');
    expect(await count.connections(named)).toBe(1);
  });

  it('auto scaling configurations: 20 creates of one new name make exactly 5 revisions, 1 to 5', async () => {
    const t = await platform.newTenant('race-asc-revisions');
    const result = await burst(20, () =>
      t.client.send(new CreateAutoScalingConfigurationCommand({ AutoScalingConfigurationName: 'burst' })),
    );
    report('Auto scaling configuration revisions per name (5)', 20, result);
    expectLimit(
      result,
      FIXED_LIMITS.AutoScalingConfigurationRevisionsPerName,
      'ServiceQuotaExceededException',
      'You have reached the maximum number of revisions (5) for auto scaling configuration burst.',
    );
    const listed = await t.client.send(
      new ListAutoScalingConfigurationsCommand({ AutoScalingConfigurationName: 'burst', LatestOnly: false, MaxResults: 100 }),
    );
    expect(listed.AutoScalingConfigurationSummaryList!.map((s) => s.AutoScalingConfigurationRevision).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await platform.prisma.autoScalingConfiguration.count({ where: { tenant: { accountId: t.accountId }, name: 'burst' } })).toBe(5);
  });

  it('auto scaling configurations: the name quota (10) under concurrent creates of new names', async () => {
    const t = await platform.newTenant('race-asc-names');
    const result = await burst(
      QUOTA_DEFAULTS.AutoScalingConfigurationNames + 4,
      (i) => t.client.send(new CreateAutoScalingConfigurationCommand({ AutoScalingConfigurationName: `name-${i}` })),
      tenantLockedUntilQueued(t, QUOTA_DEFAULTS.AutoScalingConfigurationNames + 4),
    );
    report('Auto scaling configuration names (default 10)', QUOTA_DEFAULTS.AutoScalingConfigurationNames + 4, result);
    expectLimit(
      result,
      10,
      'ServiceQuotaExceededException',
      'You have reached the maximum number of auto scaling configuration names (10) for this account.',
    );
    const names = await platform.prisma.autoScalingConfiguration.groupBy({
      by: ['name'],
      where: { tenant: { accountId: t.accountId }, name: { not: 'DefaultConfiguration' } },
    });
    expect(names).toHaveLength(10);
  });

  it('observability configurations: 20 creates of one new name make exactly 10 revisions; the name quota (10)', async () => {
    const t = await platform.newTenant('race-obs-revisions');
    const result = await burst(
      20,
      () => t.client.send(new CreateObservabilityConfigurationCommand({ ObservabilityConfigurationName: 'burst' })),
      tenantLockedUntilQueued(t, 20),
    );
    report('Observability configuration revisions per name (10)', 20, result);
    expectLimit(
      result,
      FIXED_LIMITS.ObservabilityConfigurationRevisionsPerName,
      'ServiceQuotaExceededException',
      'You have reached the maximum number of revisions (10) for observability configuration burst.',
    );
    const stored = await platform.prisma.observabilityConfiguration.findMany({
      where: { tenant: { accountId: t.accountId }, name: 'burst' },
      select: { revision: true },
      orderBy: { revision: 'asc' },
    });
    expect(stored.map((s) => s.revision)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const names = await platform.newTenant('race-obs-names');
    const distinct = await burst(
      QUOTA_DEFAULTS.ObservabilityConfigurationNames + 4,
      (i) => names.client.send(new CreateObservabilityConfigurationCommand({ ObservabilityConfigurationName: `name-${i}` })),
      tenantLockedUntilQueued(names, QUOTA_DEFAULTS.ObservabilityConfigurationNames + 4),
    );
    report('Observability configuration names (default 10)', QUOTA_DEFAULTS.ObservabilityConfigurationNames + 4, distinct);
    expectLimit(
      distinct,
      10,
      'ServiceQuotaExceededException',
      'You have reached the maximum number of observability configuration names (10) for this account.',
    );
    const listed = await names.client.send(new ListObservabilityConfigurationsCommand({ MaxResults: 100 }));
    expect(new Set(listed.ObservabilityConfigurationSummaryList!.map((s) => s.ObservabilityConfigurationName)).size).toBe(10);
  });

  it('VPC connectors: the default quota (10) and one revision per name', async () => {
    const t = await platform.newTenant('race-connectors');
    const result = await burst(
      QUOTA_DEFAULTS.VpcConnectors + 4,
      (i) => t.client.send(new CreateVpcConnectorCommand({ VpcConnectorName: `vpc-${i}`, Subnets: ['subnet-1'] })),
      tenantLockedUntilQueued(t, QUOTA_DEFAULTS.VpcConnectors + 4),
    );
    report('VPC connectors (default 10)', QUOTA_DEFAULTS.VpcConnectors + 4, result);
    expectLimit(
      result,
      10,
      'ServiceQuotaExceededException',
      'You have reached the maximum number of VPC connectors (10) for this account.',
    );
    expect(await count.connectors(t)).toBe(10);

    const named = await platform.newTenant('race-connector-name');
    const same = await burst(
      6,
      () => named.client.send(new CreateVpcConnectorCommand({ VpcConnectorName: 'only', Subnets: ['subnet-1'] })),
      tenantLockedUntilQueued(named, 6),
    );
    report('VPC connector name', 6, same);
    expectLimit(same, 1, 'InvalidRequestException', /^A VPC connector named only already exists/);
    expect(await count.connectors(named)).toBe(1);
  });

  it('VPC ingress connections: one per service, and one per name', async () => {
    const t = await platform.newTenant('race-vic');
    const arn = await runningService(t, 'private-one');
    const vpc = { VpcId: 'vpc-1', VpcEndpointId: 'vpce-1' };
    const result = await burst(
      8,
      (i) =>
        t.client.send(
          new CreateVpcIngressConnectionCommand({ ServiceArn: arn, VpcIngressConnectionName: `vic-${i}`, IngressVpcConfiguration: vpc }),
        ),
      tenantLockedUntilQueued(t, 8),
    );
    report('VPC ingress connections per service (1)', 8, result);
    expectLimit(result, 1, 'ServiceQuotaExceededException', 'A service can have at most 1 VPC ingress connection(s).');
    expect(await platform.prisma.vpcIngressConnection.count({ where: { service: { arn } } })).toBe(1);

    const others = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => runningService(t, `private-${i + 2}`)));
    const same = await burst(others.length, (i) =>
      t.client.send(
        new CreateVpcIngressConnectionCommand({
          ServiceArn: others[i],
          VpcIngressConnectionName: 'same-name',
          IngressVpcConfiguration: vpc,
        }),
      ),
    );
    report('VPC ingress connection name', others.length, same);
    expectLimit(same, 1, 'InvalidRequestException', /same-name/);
    expect(await platform.prisma.vpcIngressConnection.count({ where: { tenant: { accountId: t.accountId }, name: 'same-name' } })).toBe(1);
  });

  it('custom domains: five per service; one service per domain across tenants', async () => {
    const t = await platform.newTenant('race-domains');
    const arn = await runningService(t, 'website');
    const result = await burst(
      12,
      (i) =>
        t.client.send(new AssociateCustomDomainCommand({ ServiceArn: arn, DomainName: `d${i}.example.com`, EnableWWWSubdomain: false })),
      tenantLockedUntilQueued(t, 12),
    );
    report('Custom domains per service (5)', 12, result);
    // AssociateCustomDomain models no ServiceQuotaExceededException: the limit is an InvalidRequestException
    expectLimit(result, FIXED_LIMITS.CustomDomainsPerService, 'InvalidRequestException', 'A service can have at most 5 custom domains.');
    expect((await t.client.send(new DescribeCustomDomainsCommand({ ServiceArn: arn }))).CustomDomains).toHaveLength(5);

    const tenants = await Promise.all([0, 1, 2, 3].map((i) => platform.newTenant(`race-domain-${i}`)));
    const services = await Promise.all(tenants.map((x, i) => runningService(x, `website-${i}`)));
    const same = await burst(tenants.length, (i) =>
      tenants[i].client.send(new AssociateCustomDomainCommand({ ServiceArn: services[i], DomainName: 'shared.example.com' })),
    );
    report('Custom domain across services', tenants.length, same);
    expectLimit(same, 1, 'InvalidRequestException', 'Domain shared.example.com is already associated with another service.');
    expect(await platform.prisma.customDomain.count({ where: { domainName: 'shared.example.com' } })).toBe(1);
  });

  it('tags: at most 50 on a resource, however TagResource calls interleave', async () => {
    const t = await platform.newTenant('race-tags');
    const arn = (await t.client.send(new CreateConnectionCommand({ ConnectionName: 'tagged', ProviderType: 'GITHUB' }))).Connection!
      .ConnectionArn!;
    // four calls of 20 distinct keys each: any two fit (40), a third never does
    const result = await burst(4, (i) =>
      t.client.send(
        new TagResourceCommand({ ResourceArn: arn, Tags: Array.from({ length: 20 }, (_, k) => ({ Key: `k${i}-${k}`, Value: 'v' })) }),
      ),
    );
    report('Tags per resource (50)', 4, result);
    expectLimit(result, 2, 'InvalidRequestException', 'A resource can have at most 50 tags.');
    expect((await t.client.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags).toHaveLength(40);
  });

  it('one operation at a time per service', async () => {
    const t = await platform.newTenant('race-operations');
    const arn = await runningService(t, 'busy');
    const result = await burst(10, (i) =>
      i % 2 === 0
        ? t.client.send(new UpdateServiceCommand({ ServiceArn: arn, InstanceConfiguration: { Cpu: '1 vCPU', Memory: '2 GB' } }))
        : t.client.send(new PauseServiceCommand({ ServiceArn: arn })),
    );
    report('Operations in progress per service (1)', 10, result);
    expectLimit(
      result,
      1,
      'InvalidStateException',
      /^You can't perform (UPDATE_SERVICE|PAUSE_SERVICE) on a service in the OPERATION_IN_PROGRESS state\.$/,
    );
    expect(await platform.prisma.operation.count({ where: { service: { arn } } })).toBe(2); // its create, and the one winner
  });

  it('a configuration deleted while an update takes it: never both', async () => {
    const t = await platform.newTenant('race-reference');
    const arn = await runningService(t, 'referrer');
    const asc = (await t.client.send(new CreateAutoScalingConfigurationCommand({ AutoScalingConfigurationName: 'contested' })))
      .AutoScalingConfiguration!.AutoScalingConfigurationArn!;
    // The service's row is held (as by a concurrent write) so that the update, once it has read the configuration,
    // waits to commit; the deletion runs meanwhile.
    const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
    const holder = new Client({ connectionString: url });
    await holder.connect();
    let update: Promise<unknown>;
    let deletion: Promise<unknown>;
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${platform.config.DATABASE_SCHEMA}"."Service" WHERE arn = $1 FOR UPDATE`, [arn]);
      update = t.client.send(new UpdateServiceCommand({ ServiceArn: arn, AutoScalingConfigurationArn: asc }));
      await new Promise((r) => setTimeout(r, 500));
      deletion = t.client.send(new DeleteAutoScalingConfigurationCommand({ AutoScalingConfigurationArn: asc }));
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }
    const [updated, deleted] = await Promise.allSettled([update!, deletion!]);
    const service = await platform.prisma.service.findUniqueOrThrow({ where: { arn }, include: { autoScalingConfiguration: true } });
    // whichever won, the service never ends up on a deleted configuration
    if (updated.status === 'fulfilled') {
      expect(deleted.status).toBe('rejected');
      expect((deleted as PromiseRejectedResult).reason.name).toBe('InvalidRequestException');
      expect(service.autoScalingConfiguration.status).toBe('ACTIVE');
    } else {
      expect(deleted.status).toBe('fulfilled');
      expect(service.autoScalingConfiguration.arn).not.toBe(asc);
    }
    report('Configuration deleted while an update takes it', 2, {
      ok: [updated, deleted].filter((r) => r.status === 'fulfilled').length,
      errors: [updated, deleted]
        .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
        .map((r) => ({ name: r.reason.name, message: r.reason.message })),
    });
  });
});
