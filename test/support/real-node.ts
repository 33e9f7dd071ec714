import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { inject } from 'vitest';
import type { RealNodeTestInfo } from './real-node-cluster';

export * from './real-node-cluster';

declare module 'vitest' {
  export interface ProvidedContext {
    realNode: RealNodeTestInfo | null;
    realNodeUnavailable: string;
  }
}

/** The real-node cluster of this run, or undefined (the reason in the title: `onRealNode`). */
export function testRealNode(): RealNodeTestInfo | undefined {
  return inject('realNode') ?? undefined;
}
export function onRealNode(title: string): string {
  const reason = inject('realNodeUnavailable');
  return reason ? `${title} [skipped: ${reason}]` : title;
}

export interface HostResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A request to the gateway (`127.0.0.1:<port>`) for `host`: over HTTP with a Host header (fetch cannot set one), or
 * over HTTPS with SNI and Host both `host` (curl's --resolve), trusting `ca`.
 */
export function gatewayGet(
  address: string,
  host: string,
  path = '/',
  opts: { tls?: { ca: string }; timeoutMs?: number } = {},
): Promise<HostResponse> {
  const [hostname, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const common = { hostname, port: Number(port), path, headers: { host }, timeout: opts.timeoutMs ?? 5_000, agent: false as const };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    };
    const req = opts.tls ? httpsRequest({ ...common, servername: host, ca: opts.tls.ca }, onResponse) : httpRequest(common, onResponse);
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${path} via ${address}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}
