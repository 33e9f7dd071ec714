import { CreateConnectionCommand, CreateServiceCommand, CreateVpcConnectorCommand, ListServicesCommand } from '@aws-sdk/client-apprunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform';

const image = { ImageRepository: { ImageIdentifier: 'public.ecr.aws/nginx/nginx:latest', ImageRepositoryType: 'ECR_PUBLIC' as const } };

/** Concurrent creates at the limit: exactly as many win as the quota allows, the rest get ServiceQuotaExceededException. */
describe('quota enforcement under concurrency', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({ worker: false });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('two concurrent creates at the limit: exactly one wins', async () => {
    const t = await platform.newTenant('race-two', { Services: 1 });
    const results = await Promise.allSettled(
      ['race-one', 'race-two'].map((name) => t.client.send(new CreateServiceCommand({ ServiceName: name, SourceConfiguration: image }))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.map((r) => r.reason.name)).toEqual(['ServiceQuotaExceededException']);
    expect((await t.client.send(new ListServicesCommand({}))).ServiceSummaryList).toHaveLength(1);
  });

  it('twelve concurrent creates against a quota of 3 leave exactly 3', async () => {
    const t = await platform.newTenant('race-many', { Services: 3, Connections: 2, VpcConnectors: 2 });
    const services = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        t.client.send(new CreateServiceCommand({ ServiceName: `svc-${i}`, SourceConfiguration: image })),
      ),
    );
    expect(services.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(
      services
        .filter((r) => r.status === 'rejected')
        .every((r) => (r as PromiseRejectedResult).reason.name === 'ServiceQuotaExceededException'),
    ).toBe(true);
    expect(await platform.prisma.service.count({ where: { tenant: { accountId: t.accountId } } })).toBe(3);

    const connections = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        t.client.send(new CreateConnectionCommand({ ConnectionName: `conn-${i}`, ProviderType: 'GITHUB' })),
      ),
    );
    expect(connections.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const connectors = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => t.client.send(new CreateVpcConnectorCommand({ VpcConnectorName: `vpc-${i}`, Subnets: ['s'] }))),
    );
    expect(connectors.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
  });

  it('concurrent creates of one name: exactly one service', async () => {
    const t = await platform.newTenant('race-name');
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => t.client.send(new CreateServiceCommand({ ServiceName: 'same-name', SourceConfiguration: image }))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.name)).toEqual(
      Array(4).fill('InvalidRequestException'),
    );
  });
});
