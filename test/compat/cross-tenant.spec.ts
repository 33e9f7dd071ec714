import * as sdk from '@aws-sdk/client-apprunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '@apprunner/api-model';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

const IMAGE = 'public.ecr.aws/nginx/nginx:latest';
const send = (client: sdk.AppRunnerClient, action: string, input: object): Promise<any> => {
  const Command = (sdk as unknown as Record<string, new (i: object) => object>)[`${action}Command`];
  return client.send(new Command(input) as never);
};

/**
 * Tenant B holds every one of tenant A's ARNs and tries all 37 actions with them: each is
 * answered exactly like a missing resource, lists show nothing of A's, and A's records are untouched.
 */
describe('tenant isolation across every action', () => {
  let platform: TestPlatform;
  let a: TestTenant;
  let b: TestTenant;
  const arns: Record<string, string> = {};

  beforeAll(async () => {
    platform = await startTestPlatform();
    a = await platform.newTenant('tenant-a');
    b = await platform.newTenant('tenant-b');
    arns.asc = (
      await send(a.client, 'CreateAutoScalingConfiguration', { AutoScalingConfigurationName: 'a-scaling' })
    ).AutoScalingConfiguration.AutoScalingConfigurationArn;
    arns.obs = (
      await send(a.client, 'CreateObservabilityConfiguration', { ObservabilityConfigurationName: 'a-obs' })
    ).ObservabilityConfiguration.ObservabilityConfigurationArn;
    arns.vpc = (
      await send(a.client, 'CreateVpcConnector', { VpcConnectorName: 'a-vpc', Subnets: ['subnet-a'] })
    ).VpcConnector.VpcConnectorArn;
    arns.connection = (
      await send(a.client, 'CreateConnection', { ConnectionName: 'a-conn', ProviderType: 'GITHUB' })
    ).Connection.ConnectionArn;
    const svc = await send(a.client, 'CreateService', {
      ServiceName: 'a-service',
      SourceConfiguration: { ImageRepository: { ImageIdentifier: IMAGE, ImageRepositoryType: 'ECR_PUBLIC' } },
      Tags: [{ Key: 'owner', Value: 'a' }],
    });
    arns.service = svc.Service.ServiceArn;
    await waitFor(
      async () => (await send(a.client, 'DescribeService', { ServiceArn: arns.service })).Service.Status === 'RUNNING',
      'A running',
    );
    arns.vic = (
      await send(a.client, 'CreateVpcIngressConnection', {
        ServiceArn: arns.service,
        VpcIngressConnectionName: 'a-vic',
        IngressVpcConfiguration: { VpcId: 'vpc-a', VpcEndpointId: 'vpce-a' },
      })
    ).VpcIngressConnection.VpcIngressConnectionArn;
    await send(a.client, 'AssociateCustomDomain', { ServiceArn: arns.service, DomainName: 'a.example.com' });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it("answers every action on another tenant's resource as not found", async () => {
    const image = { ImageRepository: { ImageIdentifier: IMAGE, ImageRepositoryType: 'ECR_PUBLIC' } };
    const attempts: [string, object][] = [
      ['CreateService', { ServiceName: 'b-uses-a-asc', SourceConfiguration: image, AutoScalingConfigurationArn: arns.asc }],
      ['UpdateService', { ServiceArn: arns.service }],
      ['DeleteService', { ServiceArn: arns.service }],
      ['DescribeService', { ServiceArn: arns.service }],
      ['PauseService', { ServiceArn: arns.service }],
      ['ResumeService', { ServiceArn: arns.service }],
      ['StartDeployment', { ServiceArn: arns.service }],
      ['ListOperations', { ServiceArn: arns.service }],
      ['DescribeAutoScalingConfiguration', { AutoScalingConfigurationArn: arns.asc }],
      ['DeleteAutoScalingConfiguration', { AutoScalingConfigurationArn: arns.asc }],
      ['UpdateDefaultAutoScalingConfiguration', { AutoScalingConfigurationArn: arns.asc }],
      ['ListServicesForAutoScalingConfiguration', { AutoScalingConfigurationArn: arns.asc }],
      ['AssociateCustomDomain', { ServiceArn: arns.service, DomainName: 'b.example.com' }],
      ['DisassociateCustomDomain', { ServiceArn: arns.service, DomainName: 'a.example.com' }],
      ['DescribeCustomDomains', { ServiceArn: arns.service }],
      ['CreateVpcConnector', null as never],
      ['DescribeVpcConnector', { VpcConnectorArn: arns.vpc }],
      ['DeleteVpcConnector', { VpcConnectorArn: arns.vpc }],
      [
        'CreateVpcIngressConnection',
        { ServiceArn: arns.service, VpcIngressConnectionName: 'b-vic', IngressVpcConfiguration: { VpcId: 'v', VpcEndpointId: 'e' } },
      ],
      ['DescribeVpcIngressConnection', { VpcIngressConnectionArn: arns.vic }],
      ['UpdateVpcIngressConnection', { VpcIngressConnectionArn: arns.vic, IngressVpcConfiguration: { VpcEndpointId: 'e2' } }],
      ['DeleteVpcIngressConnection', { VpcIngressConnectionArn: arns.vic }],
      ['DeleteConnection', { ConnectionArn: arns.connection }],
      ['CreateConnection', null as never],
      ['CreateObservabilityConfiguration', null as never],
      ['CreateAutoScalingConfiguration', null as never],
      ['DescribeObservabilityConfiguration', { ObservabilityConfigurationArn: arns.obs }],
      ['DeleteObservabilityConfiguration', { ObservabilityConfigurationArn: arns.obs }],
      ['TagResource', { ResourceArn: arns.service, Tags: [{ Key: 'owner', Value: 'b' }] }],
      ['UntagResource', { ResourceArn: arns.service, TagKeys: ['owner'] }],
      ['ListTagsForResource', { ResourceArn: arns.service }],
    ];
    // Creates that name A's resources inside B's request (CreateVpcConnector/Connection/... take no ARN: see the list test).
    const referencing: [string, object][] = [
      [
        'CreateService',
        {
          ServiceName: 'b-uses-a-obs',
          SourceConfiguration: image,
          ObservabilityConfiguration: { ObservabilityEnabled: true, ObservabilityConfigurationArn: arns.obs },
        },
      ],
      [
        'CreateService',
        {
          ServiceName: 'b-uses-a-vpc',
          SourceConfiguration: image,
          NetworkConfiguration: { EgressConfiguration: { EgressType: 'VPC', VpcConnectorArn: arns.vpc } },
        },
      ],
      [
        'CreateService',
        {
          ServiceName: 'b-uses-a-conn',
          SourceConfiguration: {
            CodeRepository: {
              RepositoryUrl: 'https://github.com/a/b',
              SourceCodeVersion: { Type: 'BRANCH', Value: 'main' },
              CodeConfiguration: { ConfigurationSource: 'REPOSITORY' },
            },
            AuthenticationConfiguration: { ConnectionArn: arns.connection },
          },
        },
      ],
    ];
    for (const [action, input] of [...attempts.filter(([, i]) => i !== null), ...referencing]) {
      const error = await send(b.client, action, input).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.name, `${action} ${JSON.stringify(input)}`).toBe('ResourceNotFoundException');
    }
    // Every action is either covered above or is a list/create without ARNs, covered below.
    const covered = new Set([
      ...attempts.map(([x]) => x),
      'ListServices',
      'ListAutoScalingConfigurations',
      'ListObservabilityConfigurations',
      'ListVpcConnectors',
      'ListVpcIngressConnections',
      'ListConnections',
    ]);
    expect([...covered].sort()).toEqual([...ACTION_NAMES].sort());
  });

  it("never lists another tenant's resources, and names are per tenant", async () => {
    expect((await send(b.client, 'ListServices', {})).ServiceSummaryList).toEqual([]);
    expect(
      (await send(b.client, 'ListAutoScalingConfigurations', {})).AutoScalingConfigurationSummaryList.map(
        (s: any) => s.AutoScalingConfigurationName,
      ),
    ).toEqual(['DefaultConfiguration']);
    expect((await send(b.client, 'ListObservabilityConfigurations', {})).ObservabilityConfigurationSummaryList).toEqual([]);
    expect((await send(b.client, 'ListVpcConnectors', {})).VpcConnectors).toEqual([]);
    expect((await send(b.client, 'ListVpcIngressConnections', {})).VpcIngressConnectionSummaryList).toEqual([]);
    expect(
      (await send(b.client, 'ListVpcIngressConnections', { Filter: { ServiceArn: arns.service } })).VpcIngressConnectionSummaryList,
    ).toEqual([]);
    expect((await send(b.client, 'ListConnections', {})).ConnectionSummaryList).toEqual([]);
    // B may use the same names as A; they are different resources.
    await send(b.client, 'CreateConnection', { ConnectionName: 'a-conn', ProviderType: 'GITHUB' });
    await send(b.client, 'CreateVpcConnector', { VpcConnectorName: 'a-vpc', Subnets: ['subnet-b'] });
    await send(b.client, 'CreateObservabilityConfiguration', { ObservabilityConfigurationName: 'a-obs' });
    const bAsc = await send(b.client, 'CreateAutoScalingConfiguration', { AutoScalingConfigurationName: 'a-scaling' });
    expect(bAsc.AutoScalingConfiguration.AutoScalingConfigurationArn).toContain(`:${b.accountId}:`);
    // The REST door isolates too.
    const rest = await platform.rest(b.apiKey, 'GET', `/v1/services/${encodeURIComponent(arns.service)}`);
    expect(rest.status).toBe(404);
    expect(rest.body.code).toBe('ResourceNotFoundException');
  });

  it("left tenant A's resources untouched", async () => {
    const svc = await send(a.client, 'DescribeService', { ServiceArn: arns.service });
    expect(svc.Service.Status).toBe('RUNNING');
    expect((await send(a.client, 'ListTagsForResource', { ResourceArn: arns.service })).Tags).toEqual([{ Key: 'owner', Value: 'a' }]);
    expect((await send(a.client, 'ListOperations', { ServiceArn: arns.service })).OperationSummaryList).toHaveLength(1);
    expect(
      (await send(a.client, 'DescribeAutoScalingConfiguration', { AutoScalingConfigurationArn: arns.asc })).AutoScalingConfiguration,
    ).toMatchObject({ Status: 'ACTIVE', IsDefault: false });
    expect((await send(a.client, 'DescribeCustomDomains', { ServiceArn: arns.service })).CustomDomains).toHaveLength(1);
  });
});
