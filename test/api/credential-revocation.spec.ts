import {
  AppRunnerClient,
  CreateAutoScalingConfigurationCommand,
  CreateConnectionCommand,
  ListServicesCommand,
} from '@aws-sdk/client-apprunner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialRepository } from '@apprunner/persistence';
import { CredentialResolver } from '@apprunner/tenancy';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';

/** What a call came to: its HTTP status and App Runner error name (none on success), and when it was sent. */
interface Outcome {
  status: number;
  error?: string;
  sentAt: number;
}

function sigv4(url: string, t: Pick<TestTenant, 'accessKeyId' | 'secretAccessKey'>): AppRunnerClient {
  return new AppRunnerClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
    maxAttempts: 1,
  });
}

async function outcome(call: () => Promise<{ $metadata: { httpStatusCode?: number } }>): Promise<Outcome> {
  const sentAt = Date.now();
  try {
    const r = await call();
    return { status: r.$metadata.httpStatusCode ?? 0, sentAt };
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number } };
    return { status: err.$metadata?.httpStatusCode ?? 0, error: err.name, sentAt };
  }
}

async function rest(url: string, token: string, method: string, path: string, body?: unknown): Promise<Outcome> {
  const sentAt = Date.now();
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, error: text ? (JSON.parse(text) as { code?: string }).code : undefined, sentAt };
}

/**
 * Revocation across API replicas: two API processes share PostgreSQL and Redis (as the chart's replicas do); a key
 * revoked or a tenant deleted through one is refused by the other on its very next request, with either door's
 * credentials, and nothing in between answers 5xx. Every replica caches credentials (checked against the shared
 * credential epoch), so each is warmed up first.
 */
describe('credentials revoked on every replica at once', () => {
  let platform: TestPlatform;
  let other: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    platform = await startTestPlatform({ worker: false });
    other = await platform.apiReplica();
  });
  afterAll(async () => {
    await platform?.close();
  });

  const issue = async (t: TestTenant) => {
    const key = await platform.admin('POST', `/admin/tenants/${t.accountId}/access-keys`, { Description: 'second' });
    const api = await platform.admin('POST', `/admin/tenants/${t.accountId}/api-keys`, { Description: 'second' });
    return {
      accessKeyId: key.body.Credential.KeyId as string,
      secretAccessKey: key.body.Credential.SecretAccessKey as string,
      apiKeyId: api.body.Credential.KeyId as string,
      apiKey: api.body.Credential.Token as string,
    };
  };

  it('a revoked key: refused by the other replica at once, the tenant’s other keys keep working', async () => {
    const t = await platform.newTenant('revoke-one');
    const second = await issue(t);
    const onOther = sigv4(other.url, second);
    // both replicas have resolved (and cached) both credentials
    for (const url of [platform.url, other.url]) {
      expect(await outcome(() => sigv4(url, second).send(new ListServicesCommand({})))).toMatchObject({ status: 200 });
      expect(await rest(url, second.apiKey, 'GET', '/v1/services')).toMatchObject({ status: 200 });
    }

    expect((await platform.admin('DELETE', `/admin/tenants/${t.accountId}/credentials/${second.accessKeyId}`)).status).toBe(200);
    expect(await outcome(() => onOther.send(new ListServicesCommand({})))).toMatchObject({ error: 'UnrecognizedClientException' });
    expect((await platform.admin('DELETE', `/admin/tenants/${t.accountId}/credentials/${second.apiKeyId}`)).status).toBe(200);
    expect(await rest(other.url, second.apiKey, 'GET', '/v1/services')).toMatchObject({
      status: 401,
      error: 'UnrecognizedClientException',
    });

    // the first pair was not revoked
    expect(await outcome(() => sigv4(other.url, t).send(new ListServicesCommand({})))).toMatchObject({ status: 200 });
    expect(await rest(other.url, t.apiKey, 'GET', '/v1/services')).toMatchObject({ status: 200 });
  });

  it('a deleted tenant: refused by the other replica at once; creates racing with the deletion never get a 5xx', async () => {
    const t = await platform.newTenant('deleted-tenant');
    const doors = [platform.url, other.url];
    for (const url of doors) {
      expect(await outcome(() => sigv4(url, t).send(new ListServicesCommand({})))).toMatchObject({ status: 200 });
      expect(await rest(url, t.apiKey, 'GET', '/v1/services')).toMatchObject({ status: 200 });
    }

    // creates through both doors of both replicas, before, during and after the deletion
    const outcomes: Outcome[] = [];
    let stopAt = Number.POSITIVE_INFINITY;
    let n = 0;
    const load = async (url: string, door: 'sigv4' | 'rest') => {
      const client = sigv4(url, t);
      while (Date.now() < stopAt) {
        const i = n++;
        outcomes.push(
          await (door === 'sigv4'
            ? i % 2 === 0
              ? outcome(() => client.send(new CreateConnectionCommand({ ConnectionName: `conn-${i}`, ProviderType: 'GITHUB' })))
              : outcome(() => client.send(new CreateAutoScalingConfigurationCommand({ AutoScalingConfigurationName: 'window' })))
            : rest(url, t.apiKey, 'POST', '/v1/auto-scaling-configurations', { AutoScalingConfigurationName: `rest-${i % 3}` })),
        );
      }
    };
    const loads = doors.flatMap((url) => [load(url, 'sigv4'), load(url, 'sigv4'), load(url, 'rest')]);
    await new Promise((r) => setTimeout(r, 300));
    const deleted = await platform.admin('DELETE', `/admin/tenants/${t.accountId}`);
    const deletedAt = Date.now();
    expect(deleted.status).toBe(204);
    // the other replica's very next requests, through either door
    const next = [
      await outcome(() => sigv4(other.url, t).send(new ListServicesCommand({}))),
      await rest(other.url, t.apiKey, 'GET', '/v1/services'),
    ];
    stopAt = Date.now() + 1_500;
    await Promise.all(loads);
    process.stdout.write(
      `[revocation] ${outcomes.length} creates through both replicas around the deletion: ${outcomes.filter((o) => o.status < 300).length} succeeded, ${outcomes.filter((o) => o.error === 'UnrecognizedClientException').length} refused as unknown credentials, ${outcomes.filter((o) => o.status >= 300 && o.error !== 'UnrecognizedClientException').length} other refusals (quotas), ${outcomes.filter((o) => o.status >= 500 || o.status === 0).length} 5xx\n`,
    );

    expect(next).toMatchObject([{ error: 'UnrecognizedClientException' }, { status: 401, error: 'UnrecognizedClientException' }]);
    const before = outcomes.filter((o) => o.status < 300);
    const serverErrors = outcomes.filter((o) => o.status >= 500 || o.status === 0);
    expect(serverErrors, JSON.stringify(serverErrors.slice(0, 5))).toEqual([]);
    expect(before.length).toBeGreaterThan(0);
    // everything sent after the deletion answered was refused as an unknown credential
    const after = outcomes.filter((o) => o.sentAt > deletedAt);
    expect(after.length).toBeGreaterThan(0);
    expect(new Set(after.map((o) => o.error))).toEqual(new Set(['UnrecognizedClientException']));
    // and the tenant's records went with it
    expect(await platform.prisma.connection.count({ where: { tenant: { accountId: t.accountId } } })).toBe(0);
  });

  it('a replica that cannot reach Redis serves nothing from its cache', async () => {
    const t = await platform.newTenant('no-redis');
    const second = await issue(t);
    // a replica whose Redis is gone (nothing listens on port 1): no epoch, so every request reads PostgreSQL
    const cut = new CredentialResolver(platform.api.get(CredentialRepository), {
      ...platform.config,
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    try {
      expect((await cut.accessKeySecret(second.accessKeyId))?.tenant.accountId).toBe(t.accountId);
      expect((await cut.apiKey(second.apiKey))?.tenant.accountId).toBe(t.accountId);
      await platform.admin('DELETE', `/admin/tenants/${t.accountId}/credentials/${second.accessKeyId}`);
      await platform.admin('DELETE', `/admin/tenants/${t.accountId}/credentials/${second.apiKeyId}`);
      expect(await cut.accessKeySecret(second.accessKeyId)).toBeUndefined();
      expect(await cut.apiKey(second.apiKey)).toBeUndefined();
      expect((await cut.accessKeySecret(t.accessKeyId))?.tenant.accountId).toBe(t.accountId);
    } finally {
      await cut.onModuleDestroy();
    }
  });
});
