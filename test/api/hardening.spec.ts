import { createHmac, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { ListServicesCommand, DescribeServiceCommand } from '@aws-sdk/client-apprunner';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTION_NAMES } from '@apprunner/api-model';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { awsCall, rawRequest, signAws } from '../support/raw-http';

const REGISTRY_TOKEN = 'registry-token-0123456789';
const GITHUB_SECRET = 'github-webhook-secret-0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `{"a":{"a":…"x"…}}`, `levels` deep, as text. */
const nestedText = (levels: number) => '{"a":'.repeat(levels) + '"x"' + '}'.repeat(levels);

/** Input-robustness fixes of issue 13: every door answers bad input with an App Runner error, a request id, and 4xx. */
describe('hostile input on every door', () => {
  let platform: TestPlatform;
  let tenant: TestTenant;
  let creds: { accessKeyId: string; secretAccessKey: string };
  const aws = (action: string, body: string | Buffer = '{}', headers: Record<string, string> = {}) =>
    awsCall(platform.url, creds, action, body, headers);
  const schema = () => platform.config.DATABASE_SCHEMA;

  beforeAll(async () => {
    platform = await startTestPlatform({
      worker: false,
      env: { REGISTRY_WEBHOOK_TOKEN: REGISTRY_TOKEN, GITHUB_WEBHOOK_SECRET: GITHUB_SECRET },
    });
    tenant = await platform.newTenant('hostile');
    creds = { accessKeyId: tenant.accessKeyId, secretAccessKey: tenant.secretAccessKey };
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('answers a deeply nested modeled member with 400 InvalidRequestException on all 37 actions', async () => {
    for (const action of ACTION_NAMES) {
      const res = await aws(action, `{"ServiceArn":${nestedText(5_000)},"ResourceArn":${nestedText(3_000)}}`);
      expect(res.status, action).toBe(400);
      expect(res.json.__type, action).toBe('InvalidRequestException');
      expect(res.headers['x-amzn-requestid'], action).toMatch(UUID);
    }
  });

  it('creates once, and answers success, when a create carries a deep unmodeled member', async () => {
    const res = await aws('CreateAutoScalingConfiguration', `{"AutoScalingConfigurationName":"deep-extra","Extra":${nestedText(15)}}`);
    expect(res.status).toBe(200);
    expect(res.json.AutoScalingConfiguration.AutoScalingConfigurationRevision).toBe(1);
    expect(await platform.prisma.autoScalingConfiguration.count({ where: { name: 'deep-extra' } })).toBe(1);
    const audit = await platform.prisma.auditRecord.findFirst({ where: { action: 'CreateAutoScalingConfiguration', outcome: 'Success' } });
    expect(audit?.request).toEqual({ AutoScalingConfigurationName: 'deep-extra' }); // unmodeled members never stored
  });

  it('answers a committed create with success even when its audit record cannot be written', async () => {
    const errors = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    await platform.prisma.$executeRawUnsafe(`ALTER TABLE "${schema()}"."AuditRecord" RENAME TO "AuditRecordGone"`);
    try {
      const res = await aws('CreateAutoScalingConfiguration', '{"AutoScalingConfigurationName":"no-audit"}');
      expect(res.status).toBe(200);
      expect(await platform.prisma.autoScalingConfiguration.count({ where: { name: 'no-audit' } })).toBe(1);
      const requestId = res.headers['x-amzn-requestid'] as string;
      expect(errors.mock.calls.map((c) => String(c[0])).join('\n')).toContain(
        `request ${requestId}: the audit record of CreateAutoScalingConfiguration`,
      );
    } finally {
      await platform.prisma.$executeRawUnsafe(`ALTER TABLE "${schema()}"."AuditRecordGone" RENAME TO "AuditRecord"`);
      errors.mockRestore();
    }
  });

  it('puts x-amzn-RequestId on every AWS-door answer, so the SDK reports $metadata.requestId, and logs 500s with it', async () => {
    const ok = await tenant.client.send(new ListServicesCommand({}));
    expect(ok.$metadata.requestId).toMatch(UUID);
    const failed = await tenant.client
      .send(new DescribeServiceCommand({ ServiceArn: 'arn:aws:apprunner:us-east-1:000000000000:service/x/y' }))
      .catch((e) => e);
    expect(failed.$metadata.requestId).toMatch(UUID);

    const errors = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    await platform.prisma.$executeRawUnsafe(`ALTER TABLE "${schema()}"."Service" RENAME TO "ServiceGone"`);
    try {
      const broken = await aws('ListServices');
      expect(broken.status).toBe(500);
      expect(broken.json.__type).toBe('InternalServiceErrorException');
      const requestId = broken.headers['x-amzn-requestid'] as string;
      expect(requestId).toMatch(UUID);
      expect(errors.mock.calls.map((c) => String(c[0])).join('\n')).toContain(`request ${requestId} failed`);
    } finally {
      await platform.prisma.$executeRawUnsafe(`ALTER TABLE "${schema()}"."ServiceGone" RENAME TO "Service"`);
      errors.mockRestore();
    }
    for (const res of [
      await rawRequest(platform.url, { method: 'GET', path: '/', headers: { 'x-amz-target': 'AppRunner.ListServices' } }),
      await rawRequest(platform.url, { path: '/nowhere', headers: { 'x-amz-target': 'AppRunner.ListServices' } }),
      await rawRequest(platform.url, { path: '/', body: '{}', headers: { 'x-amz-target': 'AppRunner.ListServices' } }),
    ]) {
      expect(res.headers['x-amzn-requestid']).toMatch(UUID);
      expect(res.headers['x-amzn-errortype']).toBeTruthy();
    }
  });

  it('puts a request id on the REST, admin and webhook doors too', async () => {
    const answers = [
      await rawRequest(platform.url, { method: 'GET', path: '/v1/services', headers: { authorization: `Bearer ${tenant.apiKey}` } }),
      await rawRequest(platform.url, { method: 'GET', path: '/v1/services' }),
      await rawRequest(platform.url, {
        method: 'GET',
        path: '/admin/tenants',
        headers: { authorization: `Bearer ${platform.config.ADMIN_TOKEN}` },
      }),
      await rawRequest(platform.url, { path: '/github/webhook', body: '{}' }),
      await rawRequest(platform.url, { path: '/registry/notifications', body: '{}' }),
      await rawRequest(platform.url, { method: 'GET', path: '/healthz' }),
    ];
    for (const res of answers) {
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.headers['x-amzn-requestid']).toBe(res.headers['x-request-id']);
      if (res.status >= 400) expect(res.json.requestId).toBe(res.headers['x-request-id']);
    }
  });

  it('refuses invalid UTF-8, form-encoded and other non-JSON bodies on every action', async () => {
    const invalidUtf8 = Buffer.concat([Buffer.from('{"ServiceArn":"'), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from('"}')]);
    for (const action of ACTION_NAMES) {
      for (const [body, headers, status] of [
        [invalidUtf8, {}, 400],
        ['MaxResults=5', { 'content-type': 'application/x-www-form-urlencoded' }, 415],
        ['{}', { 'content-type': 'text/plain' }, 415],
      ] as const) {
        const res = await aws(action, body, headers);
        expect(res.status, `${action} ${JSON.stringify(headers)}`).toBe(status);
        expect(res.json.__type).toBe('InvalidRequestException');
        expect(res.headers['x-amzn-errortype']).toBe('InvalidRequestException');
      }
    }
  });

  it('serves the AWS door at / only: POST // names no operation', async () => {
    const res = await rawRequest(
      platform.url,
      await signAws(platform.url, creds, {
        path: '//',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AppRunner.CreateAutoScalingConfiguration' },
        body: '{"AutoScalingConfigurationName":"via-double-slash"}',
      }),
    );
    expect(res.status).toBe(400);
    expect(res.json.__type).toBe('UnknownOperationException');
    expect(await platform.prisma.autoScalingConfiguration.count({ where: { name: 'via-double-slash' } })).toBe(0);
    const rest = await rawRequest(platform.url, {
      method: 'GET',
      path: '/v1//services',
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    expect(rest.status).toBe(404);
    expect(rest.json.code).toBe('UnknownOperationException');
    // An absolute-form target names its path, not a double slash.
    const absolute = await rawRequest(platform.url, { method: 'GET', path: `${platform.url}/healthz` });
    expect(absolute.status).toBe(200);
  });

  it('answers oversized bodies with 413 and an App Runner error body', async () => {
    const big = JSON.stringify({ ServiceArn: 'x'.repeat(1024 * 1024) });
    const res = await aws('DescribeService', big);
    expect(res.status).toBe(413);
    expect(res.json).toEqual({
      __type: 'InvalidRequestException',
      Message: expect.stringMatching(/larger than 1048576 bytes/),
      message: expect.any(String),
    });
    expect(res.headers['x-amzn-requestid']).toMatch(UUID);
    const rest = await rawRequest(platform.url, {
      path: '/v1/services',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
      body: big,
    });
    expect(rest.status).toBe(413);
    expect(rest.json.code).toBe('InvalidRequestException');
  });

  it('answers over-long headers with 431, an error type and a request id', async () => {
    const res = await rawRequest(platform.url, {
      path: '/',
      headers: { 'x-amz-target': 'AppRunner.ListServices', 'x-padding': 'p'.repeat(20_000) },
    });
    expect(res.status).toBe(431);
    expect(res.headers['x-amzn-errortype']).toBe('InvalidRequestException');
    expect(res.headers['x-amzn-requestid']).toMatch(UUID);
    expect(res.json).toMatchObject({ __type: 'InvalidRequestException', code: 'InvalidRequestException', Message: expect.any(String) });
  });

  it('does not announce Express', async () => {
    const res = await rawRequest(platform.url, { method: 'GET', path: '/healthz' });
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('authenticates before reading or parsing a body, on every door', async () => {
    const deep = nestedText(100_000);
    const cases: [string, Parameters<typeof rawRequest>[1], number, string][] = [
      [
        'aws',
        { path: '/', headers: { 'x-amz-target': 'AppRunner.ListServices', 'content-type': 'application/x-amz-json-1.0' }, body: deep },
        403,
        'MissingAuthenticationTokenException',
      ],
      [
        'rest',
        { path: '/v1/services', headers: { authorization: 'Bearer ark_nope', 'content-type': 'application/json' }, body: deep },
        401,
        'UnrecognizedClientException',
      ],
      [
        'admin',
        { path: '/admin/tenants', headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' }, body: '{"Name": ' },
        403,
        'AccessDeniedException',
      ],
      [
        'registry',
        {
          path: '/registry/notifications',
          headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
          body: '{"events":',
        },
        401,
        'UnrecognizedClientException',
      ],
      [
        'github',
        { path: '/github/webhook', headers: { 'content-type': 'application/json' }, body: deep },
        401,
        'InvalidSignatureException',
      ],
      // A declared length past the door's limit from an unauthenticated caller is refused on its headers alone.
      [
        'aws-length',
        { path: '/', headers: { 'x-amz-target': 'AppRunner.ListServices', 'content-length': String(50 * 1024 * 1024) }, body: '{}' },
        403,
        'MissingAuthenticationTokenException',
      ],
    ];
    for (const [door, req, status, code] of cases) {
      const res = await rawRequest(platform.url, req).catch((e: Error) => ({ status: -1, json: { error: e.message }, headers: {} }));
      expect(res.status, door).toBe(status);
      expect(res.json.__type ?? res.json.code, door).toBe(code);
    }
  });

  describe('GitHub webhook', () => {
    const deliver = (body: string, contentType: string, event = 'ping', secret = GITHUB_SECRET) =>
      rawRequest(platform.url, {
        path: '/github/webhook',
        headers: {
          'content-type': contentType,
          'x-github-event': event,
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
        },
        body,
      });

    it('handles a signed application/x-www-form-urlencoded delivery as the document in its payload field', async () => {
      const document = { zen: 'Keep it logically awesome.', hook_id: 1, hook: { type: 'App' } };
      const form = new URLSearchParams({ payload: JSON.stringify(document) }).toString();
      const res = await deliver(form, 'application/x-www-form-urlencoded');
      expect(res.status).toBe(202);
      expect(res.json.handled).toBe('ignored: ping (the webhook was set up)');
      const push = await deliver(
        new URLSearchParams({ payload: JSON.stringify({ ref: 'refs/tags/v1' }) }).toString(),
        'application/x-www-form-urlencoded',
        'push',
      );
      expect(push.json.handled).toBe('ignored: push to refs/tags/v1, not to a branch');
    });

    it('refuses malformed signed deliveries with 4xx App Runner errors, recording nothing', async () => {
      const before = await platform.prisma.webhookDelivery.count();
      for (const [body, type, status] of [
        ['payload=%7Bnot-json', 'application/x-www-form-urlencoded', 400],
        ['other=1', 'application/x-www-form-urlencoded', 400],
        ['{"zen": ', 'application/json', 400],
        [nestedText(1_000), 'application/json', 400],
        ['<xml/>', 'application/xml', 415],
      ] as const) {
        const res = await deliver(body, type);
        expect(res.status, body).toBe(status);
        expect(res.json.code).toBe('InvalidRequestException');
      }
      expect(await platform.prisma.webhookDelivery.count()).toBe(before);
      const forged = await deliver(
        new URLSearchParams({ payload: '{}' }).toString(),
        'application/x-www-form-urlencoded',
        'ping',
        'not-the-secret-0123456789',
      );
      expect(forged.json.code).toBe('InvalidSignatureException');
    });
  });

  describe('registry notifications', () => {
    const notify = (body: string) =>
      rawRequest(platform.url, {
        path: '/registry/notifications',
        headers: { authorization: `Bearer ${REGISTRY_TOKEN}`, 'content-type': 'application/vnd.docker.distribution.events.v1+json' },
        body,
      });

    it('answers malformed envelopes with 400', async () => {
      for (const body of ['{"events":"x"}', '{"events":{}}', '[]', '"x"', '{"events":', nestedText(100)]) {
        const res = await notify(body);
        expect(res.status, body).toBe(400);
        expect(res.json.code).toBe('InvalidRequestException');
      }
    });

    it('deploys a tracked tag from a batch once per digest, in the order of the events', async () => {
      const created = await aws(
        'CreateService',
        JSON.stringify({
          ServiceName: 'tracks-a-tag',
          SourceConfiguration: {
            AutoDeploymentsEnabled: true,
            ImageRepository: { ImageIdentifier: 'registry.internal/team/tracked:stable', ImageRepositoryType: 'ECR' },
          },
        }),
      );
      const serviceArn = created.json.Service.ServiceArn as string;
      const push = (digest: string, tag = 'stable', repository = 'team/tracked') => ({
        id: randomUUID(),
        action: 'push',
        target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${digest.repeat(64)}`, repository, tag },
        request: { host: 'registry.internal' },
      });
      const res = await notify(
        JSON.stringify({ events: [push('1'), push('1'), push('2', 'other'), push('3', 'stable', 'team/else'), push('4')] }),
      );
      expect(res.status).toBe(202);
      // Digest 1 then digest 4 of the tracked tag; the same digest twice, another tag and another repository deploy nothing.
      expect(res.json.deployments.map((d: { serviceArn: string }) => d.serviceArn)).toEqual([serviceArn, serviceArn]);
      const watch = await platform.prisma.imageWatch.findFirst({ where: { service: { arn: serviceArn } } });
      expect(watch?.digest).toBe(`sha256:${'4'.repeat(64)}`);
    });

    it('handles 1,000 events in one notification well under 2 s', async () => {
      const digest = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;
      const events = Array.from({ length: 1_000 }, (_, i) => ({
        id: randomUUID(),
        timestamp: new Date().toISOString(),
        action: 'push',
        target: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: digest(i),
          repository: `team/app-${i % 50}`,
          tag: `v${i}`,
          url: `https://registry.internal/v2/team/app-${i % 50}/manifests/${digest(i)}`,
        },
        request: { host: 'registry.internal' },
      }));
      const body = JSON.stringify({ events });
      const before = await platform.prisma.webhookDelivery.count({ where: { source: 'registry' } });
      await notify(JSON.stringify({ events: events.slice(0, 1) })); // warm the route
      const res = await notify(body);
      expect(res.status).toBe(202);
      expect(res.json.events).toBe(1_000);
      process.stderr.write(`1,000 registry events in one notification: ${Math.round(res.ms)} ms\n`);
      expect(res.ms).toBeLessThan(1_000);
      const again = await notify(body); // redelivered: every event already handled
      expect(again.status).toBe(202);
      expect(await platform.prisma.webhookDelivery.count({ where: { source: 'registry' } })).toBe(before + 1_000);
    });
  });
});
