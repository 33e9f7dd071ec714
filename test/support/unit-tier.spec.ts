import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';

/** The unit tier's guard (unit-tier.ts, a setup file of the `unit` project) refuses what the tier promises not to use. */
describe('the unit tier', () => {
  it('refuses connections off this machine, and to PostgreSQL and Redis', async () => {
    await expect(fetch('http://192.0.2.1/')).rejects.toMatchObject({ cause: { message: expect.stringMatching(/has no network/) } });
    await expect(fetch('http://127.0.0.1:5432/')).rejects.toMatchObject({ cause: { message: expect.stringMatching(/has no PostgreSQL/) } });
    await expect(fetch('http://localhost:6379/')).rejects.toMatchObject({ cause: { message: expect.stringMatching(/has no Redis/) } });
  });

  it('lets a spec reach a loopback server of its own', async () => {
    const server = createServer((socket) => socket.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(204);
    } finally {
      server.close();
    }
  });
});
