import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../apps/api/src/rest/openapi';
import { REST_ROUTES } from '../../apps/api/src/rest/routes';
import { ACTION_NAMES } from '@apprunner/api-model';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

const image = { ImageRepository: { ImageIdentifier: 'registry.internal/team/app:1.0', ImageRepositoryType: 'ECR' } };

describe('REST API (/v1) and admin API', () => {
  let platform: TestPlatform;
  let tenant: TestTenant;
  beforeAll(async () => {
    platform = await startTestPlatform();
    tenant = await platform.newTenant('rest-user');
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('serves every action through a route', () => {
    expect([...new Set(REST_ROUTES.map((r) => r.action))].sort()).toEqual([...ACTION_NAMES].sort());
  });

  it('manages a service resource-style', async () => {
    const created = await platform.rest(tenant.apiKey, 'POST', '/v1/services', {
      ServiceName: 'rest-svc',
      SourceConfiguration: {
        ...image,
        ImageRepository: {
          ...image.ImageRepository,
          ImageConfiguration: { StartCommand: 'serve --secret-flag', RuntimeEnvironmentVariables: { DB_PASSWORD: 'hunter2' } },
        },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.OperationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.Service.CreatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const arn = encodeURIComponent(created.body.Service.ServiceArn);
    await waitFor(
      async () => (await platform.rest(tenant.apiKey, 'GET', `/v1/services/${arn}`)).body.Service.Status === 'RUNNING',
      'RUNNING',
    );
    const list = await platform.rest(tenant.apiKey, 'GET', '/v1/services?MaxResults=5');
    expect(list.body.ServiceSummaryList).toHaveLength(1);
    const patched = await platform.rest(tenant.apiKey, 'PATCH', `/v1/services/${arn}`, {
      InstanceConfiguration: { Cpu: '0.25 vCPU', Memory: '0.5 GB' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.Service.InstanceConfiguration).toEqual({ Cpu: '256', Memory: '512' });
    const busy = await platform.rest(tenant.apiKey, 'POST', `/v1/services/${arn}/pause`);
    // Either the update is still running (409) or it finished and the pause was accepted.
    expect([200, 409]).toContain(busy.status);
    await waitFor(
      async () => ['RUNNING', 'PAUSED'].includes((await platform.rest(tenant.apiKey, 'GET', `/v1/services/${arn}`)).body.Service.Status),
      'settled',
    );
    const ops = await platform.rest(tenant.apiKey, 'GET', `/v1/services/${arn}/operations?MaxResults=1`);
    expect(ops.body.OperationSummaryList).toHaveLength(1);
    expect(ops.body.NextToken).toBeTruthy();
    const tags = await platform.rest(tenant.apiKey, 'POST', `/v1/tags/${arn}`, {
      Tags: [
        { Key: 'a', Value: '1' },
        { Key: 'b', Value: '2' },
      ],
    });
    expect(tags.status).toBe(200);
    await platform.rest(tenant.apiKey, 'DELETE', `/v1/tags/${arn}?TagKeys=a&TagKeys=b`);
    expect((await platform.rest(tenant.apiKey, 'GET', `/v1/tags/${arn}`)).body.Tags).toEqual([]);
    const asc = await platform.rest(tenant.apiKey, 'GET', '/v1/auto-scaling-configurations?LatestOnly=true');
    expect(asc.body.AutoScalingConfigurationSummaryList[0].AutoScalingConfigurationName).toBe('DefaultConfiguration');

    // The audit log has every mutating call, with sensitive values redacted.
    const audit = await platform.prisma.auditRecord.findMany({
      where: { tenant: { accountId: tenant.accountId } },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(['CreateService', 'UpdateService', 'TagResource', 'UntagResource']));
    const text = JSON.stringify(audit.map((r) => r.request));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('--secret-flag');
    expect(audit.find((r) => r.action === 'CreateService')?.resourceArn).toBe(created.body.Service.ServiceArn);
    expect(audit.every((r) => r.principal.length > 0 && r.requestId.length === 36)).toBe(true);
  });

  it('maps errors onto REST status codes with the App Runner error name', async () => {
    const bad = await platform.rest(tenant.apiKey, 'POST', '/v1/services', { ServiceName: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('InvalidRequestException');
    expect(bad.body.message).toMatch(/2 validation errors detected/);
    const missing = await platform.rest(
      tenant.apiKey,
      'GET',
      `/v1/services/${encodeURIComponent(`arn:aws:apprunner:us-east-1:${tenant.accountId}:service/x/0123456789abcdef0123456789abcdef`)}`,
    );
    expect(missing.status).toBe(404);
    expect((await platform.rest(tenant.apiKey, 'GET', '/v1/nothing-here')).status).toBe(404);
    expect((await platform.rest(tenant.apiKey, 'PUT', '/v1/services')).status).toBe(404);
    expect((await platform.rest('ark_nope_nope', 'GET', '/v1/services')).status).toBe(401);
    const noAuth = await fetch(`${platform.url}/v1/services`);
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await platform.rest(tenant.apiKey, 'GET', '/v1/services?MaxResults=abc')).status).toBe(400);
    expect((await platform.rest(tenant.apiKey, 'GET', '/v1/services?MaxResults=21')).body.code).toBe('InvalidRequestException');
  });

  it('guards the admin API and manages tenants, quotas and credentials', async () => {
    expect((await platform.rest('not-the-admin-token', 'GET', '/admin/tenants')).status).toBe(403);
    expect((await platform.rest(tenant.apiKey, 'GET', '/admin/tenants')).status).toBe(403);
    const t = await platform.admin('POST', '/admin/tenants', { Name: 'acme', AccountId: '111122223333', QuotaOverrides: { Services: 50 } });
    expect(t.status).toBe(201);
    expect(t.body.Tenant.Quotas.Services).toEqual({ Value: 50, Default: 30, Overridden: true });
    expect((await platform.admin('POST', '/admin/tenants', { Name: 'acme' })).status).toBe(400);
    expect((await platform.admin('POST', '/admin/tenants', { Name: 'Bad Name' })).status).toBe(400);
    expect((await platform.admin('PUT', '/admin/tenants/111122223333/quotas', { Bogus: 1 })).status).toBe(400);
    const reset = await platform.admin('PUT', '/admin/tenants/111122223333/quotas', { Services: null, Connections: 20 });
    expect(reset.body.Tenant.Quotas.Services.Value).toBe(30);
    expect(reset.body.Tenant.Quotas.Connections.Value).toBe(20);
    const key = await platform.admin('POST', '/admin/tenants/111122223333/api-keys', {});
    expect(key.body.Credential.Token).toMatch(/^ark_/);
    expect((await platform.rest(key.body.Credential.Token, 'GET', '/v1/services')).status).toBe(200);
    await platform.admin('DELETE', `/admin/tenants/111122223333/credentials/${key.body.Credential.KeyId}`);
    expect((await platform.rest(key.body.Credential.Token, 'GET', '/v1/services')).status).toBe(401);
    const stored = await platform.prisma.credential.findMany({ where: { tenant: { accountId: '111122223333' } } });
    expect(stored.every((c) => c.secretHash !== key.body.Credential.Token && !JSON.stringify(c).includes(key.body.Credential.Token))).toBe(
      true,
    );
    expect((await platform.admin('GET', '/admin/tenants/999999999999')).status).toBe(404);
    expect((await platform.admin('DELETE', '/admin/tenants/111122223333')).status).toBe(204);
  });

  it('serves the checked-in OpenAPI document, and it is up to date', async () => {
    const served = await fetch(`${platform.url}/docs`).then((r) => r.json());
    expect(await fetch(`${platform.url}/docs/openapi.json`).then((r) => r.json())).toEqual(served);
    // a browser gets Swagger UI, with its assets served locally
    const page = await fetch(`${platform.url}/docs`, { headers: { accept: 'text/html' } }).then((r) => r.text());
    expect(page).toContain('SwaggerUIBundle');
    const bundle = await fetch(`${platform.url}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${platform.url}/docs/assets/package.json`)).status).toBe(404);
    const checkedIn = JSON.parse(readFileSync('docs/openapi.json', 'utf8'));
    expect(served).toEqual(checkedIn);
    expect(checkedIn).toEqual(JSON.parse(JSON.stringify(buildOpenApi())));
    expect(Object.keys(checkedIn.paths)).toContain('/v1/services/{ServiceArn}');
    expect(checkedIn.components.schemas.CreateServiceRequest.required).toEqual(
      expect.arrayContaining(['ServiceName', 'SourceConfiguration']),
    );
  });
});
