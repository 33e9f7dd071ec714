import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform';

/** Terminus probes of the API: liveness ignores dependencies, readiness reports PostgreSQL and Redis. */
describe('API health endpoints', () => {
  let healthy: TestPlatform;
  let noRedis: TestPlatform;

  beforeAll(async () => {
    healthy = await startTestPlatform({ worker: false });
    noRedis = await startTestPlatform({ worker: false, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  afterAll(async () => {
    await healthy?.close();
    // Its Redis never existed: nothing to clean there.
    await noRedis?.close().catch(() => undefined);
  });

  it('is ready when PostgreSQL and Redis answer', async () => {
    const res = await fetch(`${healthy.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } });
    expect((await fetch(`${healthy.url}/healthz`)).status).toBe(200);
  });

  it('is not ready, but alive, when Redis is unreachable', async () => {
    const res = await fetch(`${noRedis.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'error', info: { database: { status: 'up' } }, error: { redis: { status: 'down' } } });
    expect((await fetch(`${noRedis.url}/healthz`)).status).toBe(200);
  });
});
