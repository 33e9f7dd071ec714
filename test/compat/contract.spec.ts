import {
  AssociateCustomDomainCommand,
  CreateAutoScalingConfigurationCommand,
  CreateObservabilityConfigurationCommand,
  CreateServiceCommand,
  CreateVpcConnectorCommand,
  DeleteVpcConnectorCommand,
  DescribeServiceCommand,
  DescribeVpcConnectorCommand,
  InvalidRequestException,
  ListAutoScalingConfigurationsCommand,
  ListObservabilityConfigurationsCommand,
  ListServicesCommand,
  type AppRunnerClient,
} from '@aws-sdk/client-apprunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

const SOURCE = { ImageRepository: { ImageIdentifier: 'public.ecr.aws/nginx/nginx:1.27', ImageRepositoryType: 'ECR_PUBLIC' as const } };

/** App Runner contract details a migrating user's scripts rely on, as the service model's documentation states them. */
describe('App Runner contract details (service model documentation)', () => {
  let platform: TestPlatform;
  let tenant: TestTenant;
  let client: AppRunnerClient;
  const refused = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected InvalidRequestException');
      },
      (e: unknown) => e,
    );

  beforeAll(async () => {
    platform = await startTestPlatform();
    tenant = await platform.newTenant('contract', { Services: 30 });
    client = tenant.client;
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('ListAutoScalingConfigurations and ListObservabilityConfigurations list only latest revisions unless LatestOnly is false ("Default: true")', async () => {
    for (let i = 0; i < 3; i++) {
      await client.send(new CreateAutoScalingConfigurationCommand({ AutoScalingConfigurationName: 'revised', MaxSize: 5 + i }));
      await client.send(new CreateObservabilityConfigurationCommand({ ObservabilityConfigurationName: 'traced' }));
    }
    const asc = await client.send(new ListAutoScalingConfigurationsCommand({}));
    expect(
      asc.AutoScalingConfigurationSummaryList?.map((s) => [s.AutoScalingConfigurationName, s.AutoScalingConfigurationRevision]),
    ).toEqual([
      ['DefaultConfiguration', 1],
      ['revised', 3],
    ]);
    const allAsc = await client.send(new ListAutoScalingConfigurationsCommand({ LatestOnly: false }));
    expect(allAsc.AutoScalingConfigurationSummaryList).toHaveLength(4);
    const obs = await client.send(new ListObservabilityConfigurationsCommand({}));
    expect(obs.ObservabilityConfigurationSummaryList?.map((s) => s.ObservabilityConfigurationRevision)).toEqual([3]);
    const allObs = await client.send(new ListObservabilityConfigurationsCommand({ LatestOnly: false }));
    expect(allObs.ObservabilityConfigurationSummaryList).toHaveLength(3);
  });

  it('List actions without MaxResults return every result in one response; MaxResults still pages within its bounds', async () => {
    for (let i = 0; i < 23; i++) {
      await client.send(new CreateServiceCommand({ ServiceName: `listed-${String(i).padStart(2, '0')}`, SourceConfiguration: SOURCE }));
    }
    const all = await client.send(new ListServicesCommand({}));
    expect(all.ServiceSummaryList).toHaveLength(23);
    expect(all.NextToken).toBeUndefined();
    const first = await client.send(new ListServicesCommand({ MaxResults: 10 }));
    expect(first.ServiceSummaryList).toHaveLength(10);
    expect(first.NextToken).toBeTruthy();
    expect(await refused(client.send(new ListServicesCommand({ MaxResults: 21 })))).toBeInstanceOf(InvalidRequestException);
  });

  it('CreateAutoScalingConfiguration accepts the name DefaultConfiguration: a new revision of it', async () => {
    const created = await client.send(
      new CreateAutoScalingConfigurationCommand({ AutoScalingConfigurationName: 'DefaultConfiguration', MaxSize: 3 }),
    );
    expect(created.AutoScalingConfiguration).toMatchObject({
      AutoScalingConfigurationName: 'DefaultConfiguration',
      AutoScalingConfigurationRevision: 2,
      Latest: true,
      IsDefault: false,
      MaxSize: 3,
    });
    // The original revision 1, provided by App Runner, stays the account's default.
    const all = await client.send(
      new ListAutoScalingConfigurationsCommand({ LatestOnly: false, AutoScalingConfigurationName: 'DefaultConfiguration' }),
    );
    expect(all.AutoScalingConfigurationSummaryList?.map((s) => [s.AutoScalingConfigurationRevision, s.IsDefault])).toEqual([
      [1, true],
      [2, false],
    ]);
    // Observability configurations keep it reserved: their model documentation still says so.
    const obs = await refused(
      client.send(new CreateObservabilityConfigurationCommand({ ObservabilityConfigurationName: 'DefaultConfiguration' })),
    );
    expect(obs).toBeInstanceOf(InvalidRequestException);
  });

  it('refuses the wildcard custom domains the guide lists as not valid', async () => {
    const { Service } = await client.send(new CreateServiceCommand({ ServiceName: 'with-domains', SourceConfiguration: SOURCE }));
    const ServiceArn = Service!.ServiceArn!;
    await waitFor(async () => (await client.send(new DescribeServiceCommand({ ServiceArn }))).Service?.Status === 'RUNNING', 'RUNNING');
    for (const DomainName of ['*.login.example.com', 'login*.example.com', '*.co.uk']) {
      const e = await refused(client.send(new AssociateCustomDomainCommand({ ServiceArn, DomainName })));
      expect(e, DomainName).toBeInstanceOf(InvalidRequestException);
      expect((e as Error).message).toMatch(/wildcard/);
    }
    const ok = await client.send(new AssociateCustomDomainCommand({ ServiceArn, DomainName: '*.example.com' }));
    expect(ok.CustomDomain?.DomainName).toBe('*.example.com');
  });

  it('DescribeVpcConnector and DeleteVpcConnector take only a full VPC connector ARN', async () => {
    const { VpcConnector } = await client.send(new CreateVpcConnectorCommand({ VpcConnectorName: 'egress', Subnets: ['subnet-1'] }));
    const full = VpcConnector!.VpcConnectorArn!;
    const [prefix] = full.match(/^.*:vpcconnector\/egress/)!;
    for (const partial of [prefix, `${prefix}/1`]) {
      for (const command of [
        new DescribeVpcConnectorCommand({ VpcConnectorArn: partial }),
        new DeleteVpcConnectorCommand({ VpcConnectorArn: partial }),
      ]) {
        const e = await refused(client.send(command as never));
        expect(e, partial).toBeInstanceOf(InvalidRequestException);
        expect((e as Error).message).toMatch(/full VPC connector ARN/);
      }
    }
    expect((await client.send(new DescribeVpcConnectorCommand({ VpcConnectorArn: full }))).VpcConnector?.Status).toBe('ACTIVE');
    expect((await client.send(new DeleteVpcConnectorCommand({ VpcConnectorArn: full }))).VpcConnector?.Status).toBe('INACTIVE');
  });
});
