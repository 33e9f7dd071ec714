import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KubeProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of an API server (kube-fake) for tests that need a misbehaving network: `intercept` sees
 * every request and either answers it itself, delays it (calling `forward` later), or forwards it at once.
 */
export async function startKubeProxy(target: string, intercept: (req: IncomingMessage, res: ServerResponse, forward: () => void) => void): Promise<KubeProxy> {
  const upstreamUrl = new URL(target);
  const server = createServer((req, res) => {
    const forward = () => {
      const upstream = request({ host: upstreamUrl.hostname, port: upstreamUrl.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.socket?.destroy());
      req.pipe(upstream);
    };
    intercept(req, res, forward);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
