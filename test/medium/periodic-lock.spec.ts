import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '@apprunner/core';
import { deleteQueueKeys, PeriodicLock, PeriodicPass } from '@apprunner/queue';

const config = loadConfig({
  MASTER_KEY: 'k'.repeat(44),
  ADMIN_TOKEN: 'a'.repeat(32),
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: `test-lock-${randomBytes(4).toString('hex')}`,
});

describe('PeriodicLock (one pass per interval across worker replicas)', () => {
  const replicas = [new PeriodicLock(config), new PeriodicLock(config), new PeriodicLock(config)];
  afterAll(async () => {
    for (const r of replicas) await r.onModuleDestroy();
    await deleteQueueKeys(config.REDIS_URL, config.REDIS_PREFIX);
  });

  it('lets exactly one replica take a task for the window, and another one after it', async () => {
    const first = await Promise.all(replicas.map((r) => r.tryAcquire('resync', 300)));
    expect(first.filter(Boolean)).toHaveLength(1);
    // Tasks are independent.
    expect(await replicas[0].tryAcquire('image-poll', 300)).toBe(true);
    expect((await Promise.all(replicas.map((r) => r.tryAcquire('resync', 300)))).filter(Boolean)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 350));
    expect((await Promise.all(replicas.map((r) => r.tryAcquire('resync', 300)))).filter(Boolean)).toHaveLength(1);
  });

  it('says no, without throwing, when Redis is unreachable', async () => {
    const down = new PeriodicLock({ ...config, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await down.tryAcquire('resync', 1_000)).toBe(false);
    await down.onModuleDestroy();
  });

  it('runs a periodic pass once per interval across replicas, and not at all when turned off', async () => {
    const runs: number[] = [];
    let offRuns = 0;
    const passes = replicas.map(
      (lock) =>
        new PeriodicPass(
          lock,
          'fleet-pass',
          1,
          async () => void runs.push(Date.now()),
          () => undefined,
        ),
    );
    const off = new PeriodicPass(
      replicas[0],
      'off-pass',
      0,
      async () => void offRuns++,
      () => undefined,
    );
    for (const p of [...passes, off]) p.start();
    const deadline = Date.now() + 6_000;
    while (runs.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const p of [...passes, off]) await p.stop();
    // Three replicas ticking every second, yet one pass per window: consecutive passes at least the window apart.
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < runs.length; i++) expect(runs[i] - runs[i - 1]).toBeGreaterThanOrEqual(850);
    expect(offRuns).toBe(0);
  });
});
