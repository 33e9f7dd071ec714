import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A request the proxy forwarded, with what the API server answered. */
export interface ProxiedCall {
  method: string;
  path: string;
  contentType?: string;
  status: number;
  /** Parsed from the path: `apps/deployments` style resource, and the object name when there is one. */
  resource?: string;
  name?: string;
  namespace?: string;
  subresource?: string;
}

export interface KubeProxy {
  url: string;
  /** Every forwarded request that addressed a resource (discovery, /version and health checks left out). */
  calls: ProxiedCall[];
  close(): Promise<void>;
}

const RESOURCE_PATH = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/;

/** `/apis/apps/v1/namespaces/ns/deployments/web` → resource `apps/deployments`, namespace, name. */
export function parseResourcePath(path: string): Pick<ProxiedCall, 'resource' | 'name' | 'namespace' | 'subresource'> | undefined {
  const m = RESOURCE_PATH.exec(path.split('?')[0]);
  if (!m) return undefined;
  const [, group, namespace, resource, name, subresource] = m;
  // /api/v1/namespaces/<name> is the Namespace itself
  if (resource === undefined) return undefined;
  return {
    resource: `${group ?? ''}/${resource}`,
    ...(name ? { name } : {}),
    ...(namespace ? { namespace } : {}),
    ...(subresource ? { subresource } : {}),
  };
}

/**
 * An HTTP proxy in front of an API server for tests that count the worker's calls or need a misbehaving network:
 * `intercept` sees every request and either answers it itself, delays it (calling `forward` later), or forwards it at
 * once. An `https:` target is reached with `caFile` as its CA; the client's own credentials (a bearer token) pass
 * through, so the API server authorizes the worker, not the proxy. With `serve` it speaks TLS itself (client-go sends
 * no token over plain HTTP).
 */
export async function startKubeProxy(
  target: string,
  intercept: (req: IncomingMessage, res: ServerResponse, forward: () => void) => void = (_req, _res, forward) => forward(),
  options: { caFile?: string; serve?: { cert: string; key: string } } = {},
): Promise<KubeProxy> {
  const upstreamUrl = new URL(target);
  const tls = upstreamUrl.protocol === 'https:';
  const ca = options.caFile ? readFileSync(options.caFile) : undefined;
  const calls: ProxiedCall[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const forward = () => {
      const send = tls ? httpsRequest : request;
      const headers = { ...req.headers, host: upstreamUrl.host };
      const upstream = send(
        { host: upstreamUrl.hostname, port: upstreamUrl.port, method: req.method, path: req.url, headers, ...(tls ? { ca } : {}) },
        (up) => {
          const parsed = parseResourcePath(req.url ?? '');
          if (parsed)
            calls.push({
              method: req.method ?? 'GET',
              path: req.url ?? '',
              contentType: req.headers['content-type'],
              status: up.statusCode ?? 0,
              ...parsed,
            });
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.socket?.destroy());
      req.pipe(upstream);
    };
    intercept(req, res, forward);
  };
  const server = options.serve
    ? createTlsServer({ cert: readFileSync(options.serve.cert), key: readFileSync(options.serve.key) }, handler)
    : createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `${options.serve ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
