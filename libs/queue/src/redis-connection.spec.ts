import { describe, expect, it } from 'vitest';
import { loadConfig } from '@apprunner/core';
import { redisConnection } from './queue';

const base = { MASTER_KEY: 'k'.repeat(44), ADMIN_TOKEN: 'a'.repeat(32) };

describe('redisConnection', () => {
  it('reads host, port, credentials and database from redis:// URLs; workers wait, producers fail fast', () => {
    expect(redisConnection({ REDIS_URL: 'redis://user:p%40ss@redis.example.com:6380/2' }, 'worker')).toEqual({
      host: 'redis.example.com',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      maxRetriesPerRequest: null,
    });
    expect(redisConnection({ REDIS_URL: 'redis://127.0.0.1' }, 'producer')).toMatchObject({
      port: 6379,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
  });

  it('speaks TLS for rediss:// (managed Redis), checking the server name', () => {
    expect(redisConnection({ REDIS_URL: 'rediss://:secret@cache.example.com:6380' }, 'worker')).toMatchObject({
      host: 'cache.example.com',
      tls: { servername: 'cache.example.com' },
    });
    expect(redisConnection({ REDIS_URL: 'redis://cache.example.com' }, 'worker')).not.toHaveProperty('tls');
  });

  it('refuses other schemes at start-up', () => {
    expect(() => loadConfig({ ...base, REDIS_URL: 'http://cache.example.com' })).toThrow(
      /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/,
    );
  });
});
