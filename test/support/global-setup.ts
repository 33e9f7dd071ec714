import { createConnection } from 'node:net';

/** Fails the run at once, with a clear message, when PostgreSQL or Redis is not reachable. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 2_000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

export default async function setup(): Promise<void> {
  const pg = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test');
  const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const missing: string[] = [];
  if (!(await reachable(pg.hostname, Number(pg.port || 5432)))) missing.push(`PostgreSQL at ${pg.host}`);
  if (!(await reachable(redis.hostname, Number(redis.port || 6379)))) missing.push(`Redis at ${redis.host}`);
  if (missing.length > 0) throw new Error(`Test services are not reachable: ${missing.join(', ')} (see README, "Running the tests").`);
}
