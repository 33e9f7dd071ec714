import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '@apprunner/api-model';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

const run = promisify(execFile);
const kebab = (action: string) => action.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

/** Every App Runner action through the real AWS CLI (`aws apprunner ... --endpoint-url`). */
describe('AWS CLI compatibility (all 37 actions)', () => {
  let platform: TestPlatform;
  let tenant: TestTenant;
  const seen = new Set<string>();
  const dir = mkdtempSync(join(tmpdir(), 'awscli-'));
  // iso8601: the CLI parses the wire timestamps (epoch seconds) and prints them as dates, proving it understood them.
  writeFileSync(join(dir, 'config'), '[default]\ncli_timestamp_format = iso8601\n');

  async function cli(action: string, input: object = {}, secret?: string): Promise<any> {
    seen.add(action);
    const file = join(dir, `${action}.json`);
    writeFileSync(file, JSON.stringify(input));
    const { stdout } = await run(
      'aws',
      [
        'apprunner',
        kebab(action),
        '--endpoint-url',
        platform.url,
        '--region',
        'us-east-1',
        '--output',
        'json',
        '--cli-input-json',
        `file://${file}`,
      ],
      {
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          AWS_ACCESS_KEY_ID: tenant.accessKeyId,
          AWS_SECRET_ACCESS_KEY: secret ?? tenant.secretAccessKey,
          AWS_CONFIG_FILE: join(dir, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
          AWS_MAX_ATTEMPTS: '1',
          AWS_EC2_METADATA_DISABLED: 'true',
          PYENV_VERSION: process.env.PYENV_VERSION,
          PYENV_ROOT: process.env.PYENV_ROOT,
        } as NodeJS.ProcessEnv,
        timeout: 60_000,
      },
    );
    return stdout.trim() ? JSON.parse(stdout) : {};
  }
  const cliError = (action: string, input: object, secret?: string) =>
    cli(action, input, secret).then(
      () => '',
      (e: { stderr: string }) => e.stderr,
    );
  const status = async (arn: string) => (await cli('DescribeService', { ServiceArn: arn })).Service.Status;

  beforeAll(async () => {
    platform = await startTestPlatform();
    tenant = await platform.newTenant('cli-compat');
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('drives every action', async () => {
    const asc = (
      await cli('CreateAutoScalingConfiguration', {
        AutoScalingConfigurationName: 'cli-scale',
        MaxConcurrency: 80,
        Tags: [{ Key: 'k', Value: 'v' }],
      })
    ).AutoScalingConfiguration;
    expect(asc).toMatchObject({ AutoScalingConfigurationRevision: 1, MaxConcurrency: 80, Latest: true });
    expect(typeof asc.CreatedAt).toBe('string'); // the CLI parsed our epoch seconds and prints ISO-8601
    const ascArn = asc.AutoScalingConfigurationArn;
    expect(
      (await cli('DescribeAutoScalingConfiguration', { AutoScalingConfigurationArn: ascArn })).AutoScalingConfiguration.MaxConcurrency,
    ).toBe(80);
    expect((await cli('ListAutoScalingConfigurations', { LatestOnly: true })).AutoScalingConfigurationSummaryList).toHaveLength(2);
    const obsArn = (
      await cli('CreateObservabilityConfiguration', {
        ObservabilityConfigurationName: 'cli-obs',
        TraceConfiguration: { Vendor: 'AWSXRAY' },
      })
    ).ObservabilityConfiguration.ObservabilityConfigurationArn;
    expect(
      (await cli('DescribeObservabilityConfiguration', { ObservabilityConfigurationArn: obsArn })).ObservabilityConfiguration.Latest,
    ).toBe(true);
    expect((await cli('ListObservabilityConfigurations')).ObservabilityConfigurationSummaryList).toHaveLength(1);
    const vpcArn = (await cli('CreateVpcConnector', { VpcConnectorName: 'cli-vpc', Subnets: ['subnet-1'] })).VpcConnector.VpcConnectorArn;
    expect((await cli('DescribeVpcConnector', { VpcConnectorArn: vpcArn })).VpcConnector.Subnets).toEqual(['subnet-1']);
    expect((await cli('ListVpcConnectors')).VpcConnectors).toHaveLength(1);
    const connArn = (await cli('CreateConnection', { ConnectionName: 'cli-conn', ProviderType: 'GITHUB' })).Connection.ConnectionArn;
    expect((await cli('ListConnections')).ConnectionSummaryList).toHaveLength(1);

    const created = await cli('CreateService', {
      ServiceName: 'cli-service',
      SourceConfiguration: { ImageRepository: { ImageIdentifier: 'public.ecr.aws/nginx/nginx:1.27', ImageRepositoryType: 'ECR_PUBLIC' } },
      InstanceConfiguration: { Cpu: '0.5 vCPU', Memory: '1 GB' },
      AutoScalingConfigurationArn: ascArn,
      HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/healthz' },
    });
    const arn = created.Service.ServiceArn;
    expect(created.Service.InstanceConfiguration).toEqual({ Cpu: '512', Memory: '1024' });
    expect(created.Service.HealthCheckConfiguration).toEqual({
      Protocol: 'HTTP',
      Path: '/healthz',
      Interval: 5,
      Timeout: 2,
      HealthyThreshold: 1,
      UnhealthyThreshold: 5,
    });
    await waitFor(async () => (await status(arn)) === 'RUNNING', 'RUNNING');
    expect((await cli('ListServices')).ServiceSummaryList.map((s: any) => s.ServiceName)).toEqual(['cli-service']);
    await cli('UpdateService', {
      ServiceArn: arn,
      NetworkConfiguration: { EgressConfiguration: { EgressType: 'VPC', VpcConnectorArn: vpcArn } },
    });
    await waitFor(async () => (await status(arn)) === 'RUNNING', 'updated');
    expect((await cli('StartDeployment', { ServiceArn: arn })).OperationId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(async () => (await status(arn)) === 'RUNNING', 'deployed');
    expect((await cli('ListOperations', { ServiceArn: arn })).OperationSummaryList.map((o: any) => o.Type)).toEqual([
      'START_DEPLOYMENT',
      'UPDATE_SERVICE',
      'CREATE_SERVICE',
    ]);
    expect((await cli('ListServicesForAutoScalingConfiguration', { AutoScalingConfigurationArn: ascArn })).ServiceArnList).toEqual([arn]);
    expect(
      (await cli('UpdateDefaultAutoScalingConfiguration', { AutoScalingConfigurationArn: ascArn })).AutoScalingConfiguration.IsDefault,
    ).toBe(true);

    expect(
      (await cli('AssociateCustomDomain', { ServiceArn: arn, DomainName: 'cli.example.org', EnableWWWSubdomain: false })).CustomDomain
        .Status,
    ).toBe('CREATING');
    expect((await cli('DescribeCustomDomains', { ServiceArn: arn })).CustomDomains[0].DomainName).toBe('cli.example.org');
    expect((await cli('DisassociateCustomDomain', { ServiceArn: arn, DomainName: 'cli.example.org' })).CustomDomain.Status).toBe(
      'DELETING',
    );

    const vicArn = (
      await cli('CreateVpcIngressConnection', {
        ServiceArn: arn,
        VpcIngressConnectionName: 'cli-vic',
        IngressVpcConfiguration: { VpcId: 'vpc-1', VpcEndpointId: 'vpce-1' },
      })
    ).VpcIngressConnection.VpcIngressConnectionArn;
    await waitFor(
      async () =>
        (await cli('DescribeVpcIngressConnection', { VpcIngressConnectionArn: vicArn })).VpcIngressConnection.Status === 'AVAILABLE',
      'VIC',
    );
    expect((await cli('ListVpcIngressConnections')).VpcIngressConnectionSummaryList).toHaveLength(1);
    expect(
      (await cli('UpdateVpcIngressConnection', { VpcIngressConnectionArn: vicArn, IngressVpcConfiguration: { VpcEndpointId: 'vpce-2' } }))
        .VpcIngressConnection.Status,
    ).toBe('PENDING_UPDATE');
    await waitFor(
      async () =>
        (await cli('DescribeVpcIngressConnection', { VpcIngressConnectionArn: vicArn })).VpcIngressConnection.Status === 'AVAILABLE',
      'VIC updated',
    );
    expect((await cli('DeleteVpcIngressConnection', { VpcIngressConnectionArn: vicArn })).VpcIngressConnection.Status).toBe(
      'PENDING_DELETION',
    );

    await cli('TagResource', { ResourceArn: arn, Tags: [{ Key: 'team', Value: 'cli' }] });
    expect((await cli('ListTagsForResource', { ResourceArn: arn })).Tags).toEqual([{ Key: 'team', Value: 'cli' }]);
    await cli('UntagResource', { ResourceArn: arn, TagKeys: ['team'] });
    expect((await cli('ListTagsForResource', { ResourceArn: arn })).Tags).toEqual([]);

    await cli('PauseService', { ServiceArn: arn });
    await waitFor(async () => (await status(arn)) === 'PAUSED', 'PAUSED');
    await cli('ResumeService', { ServiceArn: arn });
    await waitFor(async () => (await status(arn)) === 'RUNNING', 'resumed');
    await waitFor(
      async () =>
        (await cli('DescribeVpcIngressConnection', { VpcIngressConnectionArn: vicArn })).VpcIngressConnection.Status === 'DELETED',
      'VIC deleted',
    );
    await cli('DeleteService', { ServiceArn: arn });
    await waitFor(async () => (await status(arn)) === 'DELETED', 'DELETED');

    const defaultArn = `arn:aws:apprunner:us-east-1:${tenant.accountId}:autoscalingconfiguration/DefaultConfiguration/1/00000000000000000000000000000001`;
    await cli('UpdateDefaultAutoScalingConfiguration', { AutoScalingConfigurationArn: defaultArn });
    expect((await cli('DeleteAutoScalingConfiguration', { AutoScalingConfigurationArn: ascArn })).AutoScalingConfiguration.Status).toBe(
      'INACTIVE',
    );
    expect(
      (await cli('DeleteObservabilityConfiguration', { ObservabilityConfigurationArn: obsArn })).ObservabilityConfiguration.Status,
    ).toBe('INACTIVE');
    expect((await cli('DeleteVpcConnector', { VpcConnectorArn: vpcArn })).VpcConnector.Status).toBe('INACTIVE');
    expect((await cli('DeleteConnection', { ConnectionArn: connArn })).Connection.Status).toBe('DELETED');

    expect([...seen].sort()).toEqual([...ACTION_NAMES].sort());
  }, 240_000);

  it('shows App Runner errors the way the CLI prints them', async () => {
    expect(
      await cliError('CreateService', {
        ServiceName: 'x!yz',
        SourceConfiguration: { ImageRepository: { ImageIdentifier: 'i', ImageRepositoryType: 'ECR_PUBLIC' } },
      }),
    ).toMatch(/An error occurred \(InvalidRequestException\) when calling the CreateService operation: .*Member must/);
    const missing = `arn:aws:apprunner:us-east-1:${tenant.accountId}:service/none/0123456789abcdef0123456789abcdef`;
    expect(await cliError('DescribeService', { ServiceArn: missing })).toMatch(
      /\(ResourceNotFoundException\) when calling the DescribeService operation/,
    );
    expect(
      await cliError('ResumeService', {
        ServiceArn: (
          await cli('CreateService', {
            ServiceName: 'running-one',
            SourceConfiguration: { ImageRepository: { ImageIdentifier: 'i', ImageRepositoryType: 'ECR_PUBLIC' } },
          })
        ).Service.ServiceArn,
      }),
    ).toMatch(/\(InvalidStateException\)/);
    const small = await platform.newTenant('cli-small', { Connections: 0 });
    const saved = tenant;
    tenant = small;
    try {
      expect(await cliError('CreateConnection', { ConnectionName: 'nope', ProviderType: 'GITHUB' })).toMatch(
        /\(ServiceQuotaExceededException\)/,
      );
    } finally {
      tenant = saved;
    }
    expect(await cliError('ListServices', {}, 'W'.repeat(40))).toMatch(/\(InvalidSignatureException\)/);
  }, 120_000);
});
