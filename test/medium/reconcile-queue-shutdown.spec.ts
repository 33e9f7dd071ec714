import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@apprunner/core';
import { deleteQueueKeys, ReconcileQueue } from '@apprunner/queue';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-shutdown-${randomBytes(4).toString('hex')}`;

/** A TCP proxy in front of the shared Redis that can be cut, as when Redis's pod is deleted first. */
async function cuttableRedis(): Promise<{ url: string; cut: () => Promise<void> }> {
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 6379) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = new URL(REDIS_URL);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    cut: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('ReconcileQueue shutdown', () => {
  afterAll(async () => {
    await deleteQueueKeys(REDIS_URL, PREFIX);
  });

  // helm uninstall deletes Redis together with the API and the worker: their shutdown must not fail on it
  it('closes without throwing when Redis went away first', async () => {
    const redis = await cuttableRedis();
    const queue = new ReconcileQueue(
      loadConfig({ MASTER_KEY: 'k'.repeat(44), ADMIN_TOKEN: 'a'.repeat(32), REDIS_URL: redis.url, REDIS_PREFIX: PREFIX }),
    );
    expect(await queue.pending('service-operation', 'op-1')).toBe(false);
    await redis.cut();
    await new Promise((r) => setTimeout(r, 100));
    await expect(queue.onModuleDestroy()).resolves.toBeUndefined();
  });
});
