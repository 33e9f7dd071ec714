/**
 * Test support: a Docker token service (the `auth.token` realm of a registry), issuing RS256 JWTs the real
 * docker-registry verifies against a self-signed certificate made with openssl.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TokenRequest {
  service: string | null;
  scope: string | null;
  /** The user of the request's Basic credentials, undefined when anonymous. */
  user?: string;
}

export interface TokenService {
  realm: string;
  service: string;
  issuer: string;
  /** PEM file the registry trusts (its `rootcertbundle`). */
  rootCertBundle: string;
  requests: TokenRequest[];
  stop(): Promise<void>;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function basicUser(req: IncomingMessage, users: Record<string, string>): string | undefined | null {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Basic (.+)$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  return colon > 0 && users[user] === decoded.slice(colon + 1) ? user : null;
}

/**
 * Authenticated users get every action they ask for; anonymous requests get a token without access, so the
 * registry answers 401 insufficient_scope as private registries do. Wrong credentials get 401 from here.
 */
export async function startTokenService(dir: string, users: Record<string, string>): Promise<TokenService> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=test token issuer',
  ]);
  const key = createPrivateKey(readFileSync(keyFile));
  const certDer = new X509Certificate(readFileSync(certFile)).raw;
  const service = 'test-registry';
  const issuer = 'test-token-issuer';
  const requests: TokenRequest[] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const user = basicUser(req, users);
    requests.push({ service: url.searchParams.get('service'), scope: url.searchParams.get('scope'), ...(user ? { user } : {}) });
    if (user === null) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      return user ? [{ type, name, actions: actions.split(',') }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const token = `${signingInput}.${base64url(sign('sha256', Buffer.from(signingInput), key))}`;
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: certFile,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
