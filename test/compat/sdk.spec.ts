import {
  AppRunnerServiceException,
  AssociateCustomDomainCommand,
  CreateAutoScalingConfigurationCommand,
  CreateConnectionCommand,
  CreateObservabilityConfigurationCommand,
  CreateServiceCommand,
  CreateVpcConnectorCommand,
  CreateVpcIngressConnectionCommand,
  DeleteAutoScalingConfigurationCommand,
  DeleteConnectionCommand,
  DeleteObservabilityConfigurationCommand,
  DeleteServiceCommand,
  DeleteVpcConnectorCommand,
  DeleteVpcIngressConnectionCommand,
  DescribeAutoScalingConfigurationCommand,
  DescribeCustomDomainsCommand,
  DescribeObservabilityConfigurationCommand,
  DescribeServiceCommand,
  DescribeVpcConnectorCommand,
  DescribeVpcIngressConnectionCommand,
  DisassociateCustomDomainCommand,
  InvalidRequestException,
  InvalidStateException,
  ListAutoScalingConfigurationsCommand,
  ListConnectionsCommand,
  ListObservabilityConfigurationsCommand,
  ListOperationsCommand,
  ListServicesCommand,
  ListServicesForAutoScalingConfigurationCommand,
  ListTagsForResourceCommand,
  ListVpcConnectorsCommand,
  ListVpcIngressConnectionsCommand,
  PauseServiceCommand,
  ResourceNotFoundException,
  ResumeServiceCommand,
  ServiceQuotaExceededException,
  StartDeploymentCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateDefaultAutoScalingConfigurationCommand,
  UpdateServiceCommand,
  UpdateVpcIngressConnectionCommand,
  AppRunnerClient,
  type AppRunnerClient as Client,
} from '@aws-sdk/client-apprunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '@apprunner/api-model';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

const IMAGE = 'public.ecr.aws/nginx/nginx:latest';

/** Every App Runner action, driven through the real @aws-sdk/client-apprunner against the running API. */
describe('AWS SDK compatibility (all 37 actions)', () => {
  let platform: TestPlatform;
  let tenant: TestTenant;
  let client: Client;
  const seen = new Set<string>();

  const send = async <T>(command: { constructor: { name: string } } & object): Promise<T> => {
    seen.add(command.constructor.name.replace(/Command$/, ''));
    return client.send(command as never) as Promise<T>;
  };
  const status = async (ServiceArn: string) => (await client.send(new DescribeServiceCommand({ ServiceArn }))).Service?.Status as string;
  const settled = (arn: string, want: string) => waitFor(async () => (await status(arn)) === want, `service ${want}`);

  beforeAll(async () => {
    platform = await startTestPlatform();
    tenant = await platform.newTenant('sdk-compat');
    client = tenant.client;
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('runs a whole service lifecycle with every action', async () => {
    // Auto scaling configurations: the account's DefaultConfiguration exists from the start.
    const initial: any = await send(new ListAutoScalingConfigurationsCommand({}));
    expect(initial.AutoScalingConfigurationSummaryList).toEqual([
      expect.objectContaining({
        AutoScalingConfigurationName: 'DefaultConfiguration',
        AutoScalingConfigurationRevision: 1,
        IsDefault: true,
        Status: 'ACTIVE',
      }),
    ]);
    expect(initial.AutoScalingConfigurationSummaryList[0].AutoScalingConfigurationArn).toBe(
      `arn:aws:apprunner:us-east-1:${tenant.accountId}:autoscalingconfiguration/DefaultConfiguration/1/00000000000000000000000000000001`,
    );
    const asc1: any = await send(
      new CreateAutoScalingConfigurationCommand({ AutoScalingConfigurationName: 'high-conc', MaxConcurrency: 50, MinSize: 2, MaxSize: 10 }),
    );
    expect(asc1.AutoScalingConfiguration).toMatchObject({
      AutoScalingConfigurationRevision: 1,
      Latest: true,
      MaxConcurrency: 50,
      MinSize: 2,
      MaxSize: 10,
      IsDefault: false,
    });
    expect(asc1.AutoScalingConfiguration.CreatedAt).toBeInstanceOf(Date);
    const asc2: any = await send(
      new CreateAutoScalingConfigurationCommand({ AutoScalingConfigurationName: 'high-conc', Tags: [{ Key: 'team', Value: 'web' }] }),
    );
    expect(asc2.AutoScalingConfiguration).toMatchObject({
      AutoScalingConfigurationRevision: 2,
      Latest: true,
      MaxConcurrency: 100,
      MinSize: 1,
      MaxSize: 25,
    });
    const partial = `arn:aws:apprunner:us-east-1:${tenant.accountId}:autoscalingconfiguration/high-conc`;
    const described: any = await send(new DescribeAutoScalingConfigurationCommand({ AutoScalingConfigurationArn: partial }));
    expect(described.AutoScalingConfiguration.AutoScalingConfigurationRevision).toBe(2);
    const rev1: any = await client.send(
      new DescribeAutoScalingConfigurationCommand({
        AutoScalingConfigurationArn: asc1.AutoScalingConfiguration.AutoScalingConfigurationArn,
      }),
    );
    expect(rev1.AutoScalingConfiguration.Latest).toBe(false);

    const obs: any = await send(
      new CreateObservabilityConfigurationCommand({ ObservabilityConfigurationName: 'tracing', TraceConfiguration: { Vendor: 'AWSXRAY' } }),
    );
    expect(obs.ObservabilityConfiguration).toMatchObject({
      ObservabilityConfigurationRevision: 1,
      Latest: true,
      Status: 'ACTIVE',
      TraceConfiguration: { Vendor: 'AWSXRAY' },
    });
    const obsArn = obs.ObservabilityConfiguration.ObservabilityConfigurationArn as string;
    expect(
      (await send<any>(new DescribeObservabilityConfigurationCommand({ ObservabilityConfigurationArn: obsArn }))).ObservabilityConfiguration
        .ObservabilityConfigurationName,
    ).toBe('tracing');
    expect(
      (await send<any>(new ListObservabilityConfigurationsCommand({ LatestOnly: true }))).ObservabilityConfigurationSummaryList,
    ).toHaveLength(1);

    const vpc: any = await send(
      new CreateVpcConnectorCommand({ VpcConnectorName: 'egress-a', Subnets: ['subnet-1', 'subnet-2'], SecurityGroups: ['sg-1'] }),
    );
    const vpcArn = vpc.VpcConnector.VpcConnectorArn as string;
    expect(vpc.VpcConnector).toMatchObject({ VpcConnectorRevision: 1, Status: 'ACTIVE', Subnets: ['subnet-1', 'subnet-2'] });
    expect((await send<any>(new DescribeVpcConnectorCommand({ VpcConnectorArn: vpcArn }))).VpcConnector.VpcConnectorName).toBe('egress-a');
    expect((await send<any>(new ListVpcConnectorsCommand({}))).VpcConnectors).toHaveLength(1);

    const conn: any = await send(new CreateConnectionCommand({ ConnectionName: 'github-main', ProviderType: 'GITHUB' }));
    expect(conn.Connection).toMatchObject({ Status: 'PENDING_HANDSHAKE', ProviderType: 'GITHUB' });
    expect((await send<any>(new ListConnectionsCommand({ ConnectionName: 'github-main' }))).ConnectionSummaryList).toHaveLength(1);

    // Services.
    const created: any = await send(
      new CreateServiceCommand({
        ServiceName: 'web-frontend',
        SourceConfiguration: {
          ImageRepository: {
            ImageIdentifier: IMAGE,
            ImageRepositoryType: 'ECR_PUBLIC',
            ImageConfiguration: { RuntimeEnvironmentVariables: { MODE: 'prod' } },
          },
        },
        InstanceConfiguration: { Cpu: '1 vCPU', Memory: '3 GB' },
        AutoScalingConfigurationArn: partial,
        NetworkConfiguration: { EgressConfiguration: { EgressType: 'VPC', VpcConnectorArn: vpcArn } },
        ObservabilityConfiguration: { ObservabilityEnabled: true, ObservabilityConfigurationArn: obsArn },
        Tags: [{ Key: 'env', Value: 'prod' }],
      }),
    );
    const svc = created.Service;
    expect(created.OperationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(svc.Status).toBe('OPERATION_IN_PROGRESS');
    expect(svc.ServiceId).toMatch(/^[0-9a-f]{32}$/);
    expect(svc.ServiceArn).toBe(`arn:aws:apprunner:us-east-1:${tenant.accountId}:service/web-frontend/${svc.ServiceId}`);
    expect(svc.ServiceUrl).toMatch(/^[a-z0-9]{10}\.us-east-1\.apprunner\.test$/);
    expect(svc.InstanceConfiguration).toEqual({ Cpu: '1024', Memory: '3072' });
    expect(svc.HealthCheckConfiguration).toEqual({
      Protocol: 'TCP',
      Path: '/',
      Interval: 5,
      Timeout: 2,
      HealthyThreshold: 1,
      UnhealthyThreshold: 5,
    });
    expect(svc.SourceConfiguration.AutoDeploymentsEnabled).toBe(false);
    expect(svc.SourceConfiguration.ImageRepository.ImageConfiguration.Port).toBe('8080');
    expect(svc.AutoScalingConfigurationSummary).toMatchObject({
      AutoScalingConfigurationName: 'high-conc',
      AutoScalingConfigurationRevision: 2,
    });
    await settled(svc.ServiceArn, 'RUNNING');

    const code: any = await client.send(
      new CreateServiceCommand({
        ServiceName: 'code-api',
        SourceConfiguration: {
          CodeRepository: {
            RepositoryUrl: 'https://github.com/example/app',
            SourceCodeVersion: { Type: 'BRANCH', Value: 'main' },
            CodeConfiguration: {
              ConfigurationSource: 'API',
              CodeConfigurationValues: { Runtime: 'NODEJS_18', BuildCommand: 'npm ci', StartCommand: 'node server.js' },
            },
          },
          AuthenticationConfiguration: { ConnectionArn: conn.Connection.ConnectionArn },
        },
      }),
    );
    expect(code.Service.SourceConfiguration.AutoDeploymentsEnabled).toBe(true);
    expect(code.Service.AutoScalingConfigurationSummary.AutoScalingConfigurationName).toBe('DefaultConfiguration');
    await settled(code.Service.ServiceArn, 'RUNNING');

    const page1: any = await send(new ListServicesCommand({ MaxResults: 1 }));
    expect(page1.ServiceSummaryList).toHaveLength(1);
    expect(page1.NextToken).toBeTruthy();
    const page2: any = await client.send(new ListServicesCommand({ MaxResults: 1, NextToken: page1.NextToken }));
    expect(page2.ServiceSummaryList).toHaveLength(1);
    expect(page2.ServiceSummaryList[0].ServiceArn).not.toBe(page1.ServiceSummaryList[0].ServiceArn);
    expect(page2.NextToken).toBeUndefined();

    const updated: any = await send(
      new UpdateServiceCommand({ ServiceArn: svc.ServiceArn, InstanceConfiguration: { Cpu: '2 vCPU', Memory: '4 GB' } }),
    );
    expect(updated.Service.Status).toBe('OPERATION_IN_PROGRESS');
    await settled(svc.ServiceArn, 'RUNNING');
    const afterUpdate: any = await send(new DescribeServiceCommand({ ServiceArn: svc.ServiceArn }));
    expect(afterUpdate.Service.InstanceConfiguration).toEqual({ Cpu: '2048', Memory: '4096' });
    expect(afterUpdate.Service.SourceConfiguration.ImageRepository.ImageConfiguration.RuntimeEnvironmentVariables).toEqual({
      MODE: 'prod',
    });

    const deployment: any = await send(new StartDeploymentCommand({ ServiceArn: svc.ServiceArn }));
    await settled(svc.ServiceArn, 'RUNNING');
    await waitFor(async () => {
      const ops: any = await client.send(new ListOperationsCommand({ ServiceArn: svc.ServiceArn }));
      return ops.OperationSummaryList[0].Status === 'SUCCEEDED';
    }, 'deployment to finish');
    const ops: any = await send(new ListOperationsCommand({ ServiceArn: svc.ServiceArn }));
    expect(ops.OperationSummaryList.map((o: any) => [o.Type, o.Status])).toEqual([
      ['START_DEPLOYMENT', 'SUCCEEDED'],
      ['UPDATE_SERVICE', 'SUCCEEDED'],
      ['CREATE_SERVICE', 'SUCCEEDED'],
    ]);
    expect(ops.OperationSummaryList[0].Id).toBe(deployment.OperationId);
    expect(ops.OperationSummaryList[0].TargetArn).toBe(svc.ServiceArn);

    const users: any = await send(new ListServicesForAutoScalingConfigurationCommand({ AutoScalingConfigurationArn: partial }));
    expect(users.ServiceArnList).toEqual([svc.ServiceArn]);

    const newDefault: any = await send(
      new UpdateDefaultAutoScalingConfigurationCommand({
        AutoScalingConfigurationArn: asc1.AutoScalingConfiguration.AutoScalingConfigurationArn,
      }),
    );
    expect(newDefault.AutoScalingConfiguration).toMatchObject({ IsDefault: true, AutoScalingConfigurationRevision: 1 });
    await expect(
      client.send(
        new DeleteAutoScalingConfigurationCommand({
          AutoScalingConfigurationArn: asc1.AutoScalingConfiguration.AutoScalingConfigurationArn,
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidRequestException);
    await expect(client.send(new DeleteAutoScalingConfigurationCommand({ AutoScalingConfigurationArn: partial }))).rejects.toThrow(
      /used by one or more services/,
    );

    // Custom domains.
    const assoc: any = await send(new AssociateCustomDomainCommand({ ServiceArn: svc.ServiceArn, DomainName: 'shop.example.com' }));
    expect(assoc.DNSTarget).toBe(svc.ServiceUrl);
    expect(assoc.CustomDomain).toMatchObject({ DomainName: 'shop.example.com', EnableWWWSubdomain: true, Status: 'CREATING' });
    expect(assoc.CustomDomain.CertificateValidationRecords).toHaveLength(2);
    expect(assoc.CustomDomain.CertificateValidationRecords[0]).toMatchObject({ Type: 'CNAME', Status: 'PENDING_VALIDATION' });
    await waitFor(async () => {
      const d: any = await client.send(new DescribeCustomDomainsCommand({ ServiceArn: svc.ServiceArn }));
      return d.CustomDomains[0]?.Status === 'ACTIVE';
    }, 'domain ACTIVE');
    expect((await send<any>(new DescribeCustomDomainsCommand({ ServiceArn: svc.ServiceArn }))).CustomDomains).toHaveLength(1);
    const dis: any = await send(new DisassociateCustomDomainCommand({ ServiceArn: svc.ServiceArn, DomainName: 'shop.example.com' }));
    expect(dis.CustomDomain.Status).toBe('DELETING');
    await waitFor(
      async () => ((await client.send(new DescribeCustomDomainsCommand({ ServiceArn: svc.ServiceArn }))).CustomDomains ?? []).length === 0,
      'domain removed',
    );

    // VPC ingress connections.
    const vic: any = await send(
      new CreateVpcIngressConnectionCommand({
        ServiceArn: svc.ServiceArn,
        VpcIngressConnectionName: 'private-in',
        IngressVpcConfiguration: { VpcId: 'vpc-1', VpcEndpointId: 'vpce-1' },
      }),
    );
    expect(vic.VpcIngressConnection).toMatchObject({ Status: 'PENDING_CREATION', AccountId: tenant.accountId, ServiceArn: svc.ServiceArn });
    const vicArn = vic.VpcIngressConnection.VpcIngressConnectionArn as string;
    const vicStatus = async () =>
      (await client.send(new DescribeVpcIngressConnectionCommand({ VpcIngressConnectionArn: vicArn }))).VpcIngressConnection
        ?.Status as string;
    await waitFor(async () => (await vicStatus()) === 'AVAILABLE', 'VIC AVAILABLE');
    await expect(
      client.send(
        new CreateVpcIngressConnectionCommand({
          ServiceArn: svc.ServiceArn,
          VpcIngressConnectionName: 'second-in',
          IngressVpcConfiguration: { VpcId: 'vpc-1', VpcEndpointId: 'vpce-2' },
        }),
      ),
    ).rejects.toBeInstanceOf(ServiceQuotaExceededException);
    expect(
      (await send<any>(new ListVpcIngressConnectionsCommand({ Filter: { ServiceArn: svc.ServiceArn } }))).VpcIngressConnectionSummaryList,
    ).toEqual([{ VpcIngressConnectionArn: vicArn, ServiceArn: svc.ServiceArn }]);
    const vicUpdated: any = await send(
      new UpdateVpcIngressConnectionCommand({ VpcIngressConnectionArn: vicArn, IngressVpcConfiguration: { VpcEndpointId: 'vpce-9' } }),
    );
    expect(vicUpdated.VpcIngressConnection).toMatchObject({
      Status: 'PENDING_UPDATE',
      IngressVpcConfiguration: { VpcId: 'vpc-1', VpcEndpointId: 'vpce-9' },
    });
    await waitFor(async () => (await vicStatus()) === 'AVAILABLE', 'VIC updated');
    expect(
      (await send<any>(new DescribeVpcIngressConnectionCommand({ VpcIngressConnectionArn: vicArn }))).VpcIngressConnection
        .IngressVpcConfiguration.VpcEndpointId,
    ).toBe('vpce-9');
    await expect(client.send(new DeleteServiceCommand({ ServiceArn: svc.ServiceArn }))).rejects.toBeInstanceOf(InvalidStateException);
    const vicDeleted: any = await send(new DeleteVpcIngressConnectionCommand({ VpcIngressConnectionArn: vicArn }));
    expect(vicDeleted.VpcIngressConnection.Status).toBe('PENDING_DELETION');
    await waitFor(async () => (await vicStatus()) === 'DELETED', 'VIC DELETED');

    // Tags.
    await send(
      new TagResourceCommand({
        ResourceArn: svc.ServiceArn,
        Tags: [
          { Key: 'owner', Value: 'alice' },
          { Key: 'env', Value: 'staging' },
        ],
      }),
    );
    expect((await send<any>(new ListTagsForResourceCommand({ ResourceArn: svc.ServiceArn }))).Tags).toEqual([
      { Key: 'env', Value: 'staging' },
      { Key: 'owner', Value: 'alice' },
    ]);
    await send(new UntagResourceCommand({ ResourceArn: svc.ServiceArn, TagKeys: ['owner'] }));
    expect((await client.send(new ListTagsForResourceCommand({ ResourceArn: svc.ServiceArn }))).Tags).toEqual([
      { Key: 'env', Value: 'staging' },
    ]);
    await expect(
      client.send(new TagResourceCommand({ ResourceArn: svc.ServiceArn, Tags: [{ Key: 'aws:reserved', Value: 'x' }] })),
    ).rejects.toBeInstanceOf(InvalidRequestException);

    // Pause / resume, and what a paused service refuses.
    expect((await send<any>(new PauseServiceCommand({ ServiceArn: svc.ServiceArn }))).Service.Status).toBe('OPERATION_IN_PROGRESS');
    await settled(svc.ServiceArn, 'PAUSED');
    await expect(
      client.send(new UpdateServiceCommand({ ServiceArn: svc.ServiceArn, InstanceConfiguration: { Cpu: '1024', Memory: '2048' } })),
    ).rejects.toBeInstanceOf(InvalidStateException);
    await expect(client.send(new StartDeploymentCommand({ ServiceArn: svc.ServiceArn }))).rejects.toBeInstanceOf(InvalidStateException);
    await expect(client.send(new PauseServiceCommand({ ServiceArn: svc.ServiceArn }))).rejects.toBeInstanceOf(InvalidStateException);
    await send(new ResumeServiceCommand({ ServiceArn: svc.ServiceArn }));
    await settled(svc.ServiceArn, 'RUNNING');

    // Delete everything, in the order App Runner requires.
    const del: any = await send(new DeleteServiceCommand({ ServiceArn: svc.ServiceArn }));
    expect(del.Service.Status).toBe('OPERATION_IN_PROGRESS');
    await settled(svc.ServiceArn, 'DELETED');
    const gone: any = await client.send(new DescribeServiceCommand({ ServiceArn: svc.ServiceArn }));
    expect(gone.Service.DeletedAt).toBeInstanceOf(Date);
    await expect(client.send(new DeleteConnectionCommand({ ConnectionArn: conn.Connection.ConnectionArn }))).rejects.toThrow(
      /used by one or more services/,
    );
    await client.send(new DeleteServiceCommand({ ServiceArn: code.Service.ServiceArn }));
    await settled(code.Service.ServiceArn, 'DELETED');
    expect((await client.send(new ListServicesCommand({}))).ServiceSummaryList).toEqual([]);

    await client.send(
      new UpdateDefaultAutoScalingConfigurationCommand({
        AutoScalingConfigurationArn: initial.AutoScalingConfigurationSummaryList[0].AutoScalingConfigurationArn,
      }),
    );
    const ascDeleted: any = await send(
      new DeleteAutoScalingConfigurationCommand({ AutoScalingConfigurationArn: partial, DeleteAllRevisions: true }),
    );
    expect(ascDeleted.AutoScalingConfiguration.Status).toBe('INACTIVE');
    expect(
      (await client.send(new ListAutoScalingConfigurationsCommand({}))).AutoScalingConfigurationSummaryList?.map(
        (a) => a.AutoScalingConfigurationName,
      ),
    ).toEqual(['DefaultConfiguration']);
    expect(
      (await send<any>(new DeleteObservabilityConfigurationCommand({ ObservabilityConfigurationArn: obsArn }))).ObservabilityConfiguration
        .Status,
    ).toBe('INACTIVE');
    expect((await send<any>(new DeleteVpcConnectorCommand({ VpcConnectorArn: vpcArn }))).VpcConnector.Status).toBe('INACTIVE');
    expect((await send<any>(new DeleteConnectionCommand({ ConnectionArn: conn.Connection.ConnectionArn }))).Connection.Status).toBe(
      'DELETED',
    );

    expect([...seen].sort()).toEqual([...ACTION_NAMES].sort());
  });

  it('reports App Runner errors with the modeled exception classes', async () => {
    const bad = client.send(
      new CreateServiceCommand({
        ServiceName: 'ab',
        SourceConfiguration: { ImageRepository: { ImageIdentifier: IMAGE, ImageRepositoryType: 'ECR_PUBLIC' } },
      }),
    );
    await expect(bad).rejects.toBeInstanceOf(InvalidRequestException);
    await expect(bad).rejects.toThrow(
      "1 validation error detected: Value 'ab' at 'serviceName' failed to satisfy constraint: Member must have length greater than or equal to 4",
    );
    await expect(
      client.send(
        new CreateServiceCommand({
          ServiceName: 'bad-size',
          SourceConfiguration: { ImageRepository: { ImageIdentifier: IMAGE, ImageRepositoryType: 'ECR_PUBLIC' } },
          InstanceConfiguration: { Cpu: '0.25 vCPU', Memory: '4 GB' },
        }),
      ),
    ).rejects.toThrow(/combination of Cpu 0.25 vCPU and Memory 4 GB is not supported/);
    await expect(
      client.send(new CreateAutoScalingConfigurationCommand({ AutoScalingConfigurationName: 'too-big', MaxConcurrency: 201 })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
    await expect(
      client.send(new CreateAutoScalingConfigurationCommand({ AutoScalingConfigurationName: 'inverted', MinSize: 5, MaxSize: 2 })),
    ).rejects.toThrow(/MinSize must be less than or equal to MaxSize/);
    const missing = `arn:aws:apprunner:us-east-1:${tenant.accountId}:service/nope/0123456789abcdef0123456789abcdef`;
    const notFound = client.send(new DescribeServiceCommand({ ServiceArn: missing }));
    await expect(notFound).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(notFound).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 }, $fault: 'client' });
    await expect(client.send(new DescribeServiceCommand({ ServiceArn: 'not-an-arn' }))).rejects.toBeInstanceOf(InvalidRequestException);
    await expect(client.send(new ListServicesCommand({ NextToken: 'garbage!' }))).rejects.toThrow(/NextToken/);
  });

  it('keeps a busy service from a second mutation (InvalidStateException)', async () => {
    platform.reconcilers.script('busy-svc', { status: 'IN_PROGRESS', retryAfterMs: 60_000 });
    const created: any = await client.send(
      new CreateServiceCommand({
        ServiceName: 'busy-svc',
        SourceConfiguration: { ImageRepository: { ImageIdentifier: IMAGE, ImageRepositoryType: 'ECR_PUBLIC' } },
      }),
    );
    const arn = created.Service.ServiceArn;
    await waitFor(async () => platform.reconcilers.calls.some((c) => c.id === created.OperationId), 'reconciler called');
    for (const command of [
      new UpdateServiceCommand({ ServiceArn: arn, InstanceConfiguration: { Cpu: '256', Memory: '512' } }),
      new PauseServiceCommand({ ServiceArn: arn }),
      new DeleteServiceCommand({ ServiceArn: arn }),
      new StartDeploymentCommand({ ServiceArn: arn }),
    ]) {
      await expect(client.send(command as never)).rejects.toBeInstanceOf(InvalidStateException);
    }
    const ops: any = await client.send(new ListOperationsCommand({ ServiceArn: arn }));
    expect(ops.OperationSummaryList).toEqual([expect.objectContaining({ Type: 'CREATE_SERVICE', Status: 'IN_PROGRESS' })]);
  });

  it('maps failures onto App Runner states: CREATE_FAILED, rebuild, rollback', async () => {
    platform.reconcilers.script(
      'flaky-svc',
      { status: 'FAILED', reason: 'image pull failed' },
      { status: 'SUCCEEDED' },
      { status: 'FAILED', reason: 'health check failed' },
    );
    const created: any = await client.send(
      new CreateServiceCommand({
        ServiceName: 'flaky-svc',
        SourceConfiguration: { ImageRepository: { ImageIdentifier: IMAGE, ImageRepositoryType: 'ECR_PUBLIC' } },
      }),
    );
    const arn = created.Service.ServiceArn;
    await settled(arn, 'CREATE_FAILED');
    await expect(client.send(new StartDeploymentCommand({ ServiceArn: arn }))).rejects.toBeInstanceOf(InvalidStateException);
    await client.send(new UpdateServiceCommand({ ServiceArn: arn })); // rebuild with no changes
    await settled(arn, 'RUNNING');
    await client.send(new UpdateServiceCommand({ ServiceArn: arn, InstanceConfiguration: { Cpu: '4 vCPU', Memory: '8 GB' } }));
    await waitFor(
      async () =>
        ((await client.send(new ListOperationsCommand({ ServiceArn: arn }))).OperationSummaryList ?? [])[0]?.Status ===
        'ROLLBACK_SUCCEEDED',
      'rollback',
    );
    const after: any = await client.send(new DescribeServiceCommand({ ServiceArn: arn }));
    expect(after.Service.Status).toBe('RUNNING');
    expect(after.Service.InstanceConfiguration).toEqual({ Cpu: '1024', Memory: '2048' });
    const ops: any = await client.send(new ListOperationsCommand({ ServiceArn: arn }));
    expect(ops.OperationSummaryList.map((o: any) => `${o.Type}:${o.Status}`)).toEqual([
      'UPDATE_SERVICE:ROLLBACK_SUCCEEDED',
      'UPDATE_SERVICE:SUCCEEDED',
      'CREATE_SERVICE:FAILED',
    ]);
  });

  it('enforces the service quota and rejects duplicate names', async () => {
    const small = await platform.newTenant('small-quota', { Services: 1 });
    const input = (name: string) =>
      new CreateServiceCommand({
        ServiceName: name,
        SourceConfiguration: { ImageRepository: { ImageIdentifier: IMAGE, ImageRepositoryType: 'ECR_PUBLIC' } },
      });
    await small.client.send(input('only-one'));
    await expect(small.client.send(input('only-one'))).rejects.toBeInstanceOf(ServiceQuotaExceededException);
    await platform.admin('PUT', `/admin/tenants/${small.accountId}/quotas`, { Services: 5 });
    await expect(small.client.send(input('only-one'))).rejects.toThrow(/already exists/);
    await small.client.send(input('second-one'));
  });

  it('rejects bad signatures and unknown keys', async () => {
    const wrongSecret = new AppRunnerClient({
      endpoint: platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: tenant.accessKeyId, secretAccessKey: 'x'.repeat(40) },
      maxAttempts: 1,
    });
    await expect(wrongSecret.send(new ListServicesCommand({}))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    const unknown = new AppRunnerClient({
      endpoint: platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x'.repeat(40) },
      maxAttempts: 1,
    });
    await expect(unknown.send(new ListServicesCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    const otherRegion = new AppRunnerClient({
      endpoint: platform.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: tenant.accessKeyId, secretAccessKey: tenant.secretAccessKey },
      maxAttempts: 1,
    });
    await expect(otherRegion.send(new ListServicesCommand({}))).rejects.toBeInstanceOf(AppRunnerServiceException);
    const keys: any = await platform.admin('GET', `/admin/tenants/${tenant.accountId}/credentials`);
    expect(JSON.stringify(keys.body)).not.toContain(tenant.secretAccessKey);
    const revoked = await platform.newTenant('revoked');
    await platform.admin('DELETE', `/admin/tenants/${revoked.accountId}/credentials/${revoked.accessKeyId}`);
    await expect(revoked.client.send(new ListServicesCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });
});
