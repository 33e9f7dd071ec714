/**
 * The unit tier's promise, kept rather than hoped for: no PostgreSQL, no Redis, no cluster, no network. A unit spec
 * that opens a connection to anything but a loopback server of its own (an in-process stub, kube-fake) fails here with
 * the reason, instead of passing on a machine that happens to run the services; such a spec belongs in test/ (see the
 * README's "Tests").
 */
import net from 'node:net';

const DATABASE_URL = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test');
const REDIS_URL = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const SERVICES = new Map([
  [Number(DATABASE_URL.port || 5432), `PostgreSQL (${DATABASE_URL.host})`],
  [Number(REDIS_URL.port || 6379), `Redis (${REDIS_URL.host})`],
]);

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host);
}

/** Where `socket.connect(...)` is going, from its overloads: (options), (port, host?), (path). */
function target(args: unknown[]): { host: string; port: number } | undefined {
  const [first, second] = args;
  if (Array.isArray(first)) return target(first);
  if (typeof first === 'object' && first !== null) {
    const o = first as { path?: string; host?: string; port?: number | string };
    return o.path !== undefined ? undefined : { host: o.host ?? 'localhost', port: Number(o.port) };
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first)))
    return { host: typeof second === 'string' ? second : 'localhost', port: Number(first) };
  return undefined; // an IPC path
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const to = target(args);
  if (to && !isLoopback(to.host))
    throw new Error(`The unit tier has no network: a connection to ${to.host}:${to.port} was attempted (move this spec to test/).`);
  const service = to ? SERVICES.get(to.port) : undefined;
  if (service)
    throw new Error(`The unit tier has no ${service}: a connection to port ${to!.port} was attempted (move this spec to test/).`);
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
