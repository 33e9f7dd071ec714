/**
 * RegistryClient's edge cases against a scripted HTTP registry: what the real docker-registry
 * (test/build-tools/docker-registry.spec.ts) never does — HEAD without a digest, 405, rate limits, hangs, expiring tokens.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Clock } from '@apprunner/core';
import { MANIFEST_MEDIA_TYPES, parseWwwAuthenticate, RegistryClient } from './client';
import { RegistryError } from './errors';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] });

class FakeClock extends Clock {
  constructor(public time = Date.parse('2026-01-01T00:00:00Z')) {
    super();
  }
  now(): Date {
    return new Date(this.time);
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler;
const seen: { method: string; url: string; authorization?: string; accept?: string }[] = [];
let server: Server;
let host: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, accept: req.headers.accept });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
});

const client = (opts: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient =>
  new RegistryClient({ insecureRegistries: ['127.0.0.1'], timeoutMs: 2_000, ...opts });

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

describe('RegistryClient.resolveDigest', () => {
  it('asks for every manifest and index type, and takes Docker-Content-Digest from the HEAD answer', async () => {
    handler = (_req, res) => res.writeHead(200, { 'docker-content-digest': DIGEST }).end();
    expect(await client().resolveDigest(`${host}/team/app:v1`)).toBe(DIGEST);
    expect(seen).toEqual([{ method: 'HEAD', url: '/v2/team/app/manifests/v1', accept: MANIFEST_MEDIA_TYPES.join(', ') }]);
  });

  it('falls back to GET and hashes the body when the registry leaves the digest header off', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(MANIFEST);
    const expected = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
    expect(await client().resolveDigest(`${host}/team/app`)).toBe(expected);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['HEAD /v2/team/app/manifests/latest', 'GET /v2/team/app/manifests/latest']);
  });

  it('falls back to GET when HEAD is not allowed', async () => {
    handler = (req, res) =>
      req.method === 'HEAD' ? res.writeHead(405).end() : res.writeHead(200, { 'docker-content-digest': DIGEST }).end(MANIFEST);
    expect(await client().resolveDigest(`${host}/team/app:v1`)).toBe(DIGEST);
  });

  it('answers undefined for 404 and errors with the registry code for other refusals', async () => {
    handler = (_req, res) => res.writeHead(404).end();
    expect(await client().resolveDigest(`${host}/team/app:gone`)).toBeUndefined();

    handler = (req, res) =>
      req.method === 'HEAD'
        ? res.writeHead(405).end()
        : res
            .writeHead(403, { 'content-type': 'application/json' })
            .end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'no pull for you' }] }));
    const denied = await failure(client().resolveDigest(`${host}/team/app:v1`));
    expect(denied).toMatchObject({ status: 403, code: 'DENIED', transient: false });
    expect(denied.message).toBe(`${host} denied access to ${host}/team/app:v1: DENIED: no pull for you`);
  });

  it('marks rate limits, server errors, timeouts and unreachable registries transient', async () => {
    handler = (_req, res) => res.writeHead(429).end();
    expect(await failure(client().resolveDigest(`${host}/team/app:v1`))).toMatchObject({ status: 429, transient: true });

    handler = (_req, res) => res.writeHead(503).end();
    expect(await failure(client().resolveDigest(`${host}/team/app:v1`))).toMatchObject({ status: 503, transient: true });

    handler = () => undefined; // never answers
    const hung = await failure(client({ timeoutMs: 200 }).resolveDigest(`${host}/team/app:v1`));
    expect(hung).toMatchObject({ transient: true });
    expect(hung.message).toBe(`HEAD http://${host}/v2/team/app/manifests/v1 timed out after 200 ms`);

    const closed = await failure(client().resolveDigest('127.0.0.1:1/team/app:v1'));
    expect(closed).toMatchObject({ transient: true, status: undefined });
    expect(closed.message).toContain('cannot reach registry 127.0.0.1:1');
  });

  it('rejects invalid references and invalid digests without guessing', async () => {
    expect((await failure(client().resolveDigest('Team/App'))).message).toMatch(/^invalid image reference "Team\/App": /);
    handler = (_req, res) => res.writeHead(200, { 'docker-content-digest': 'md5:abc' }).end();
    expect((await failure(client().resolveDigest(`${host}/team/app:v1`))).message).toContain('invalid Docker-Content-Digest "md5:abc"');
  });

  it('speaks https to hosts not listed insecure, and http to a listed host:port', async () => {
    const urls: string[] = [];
    const recording: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response(null, { status: 200, headers: { 'docker-content-digest': DIGEST } });
    };
    const registry = new RegistryClient({ fetch: recording, insecureRegistries: ['http://Local.Test:5000'] });
    await registry.resolveDigest('nginx');
    await registry.resolveDigest('local.test:5000/app:v1');
    await registry.resolveDigest('local.test:5001/app:v1');
    await registry.resolveDigest(`ghcr.io/org/app@${DIGEST}`);
    expect(urls).toEqual([
      'https://registry-1.docker.io/v2/library/nginx/manifests/latest',
      'http://local.test:5000/v2/app/manifests/v1',
      'https://local.test:5001/v2/app/manifests/v1',
      `https://ghcr.io/v2/org/app/manifests/${DIGEST}`,
    ]);
  });
});

describe('RegistryClient token flow', () => {
  const CREDENTIAL = { username: 'robot', password: 'pw' };
  let issued = 0;

  /** A registry that wants `Bearer token-<n>` for the latest n, and a token service at /token. */
  function tokenRegistry(tokenBody: (n: number) => object = (n) => ({ token: `token-${n}`, expires_in: 60 })): void {
    issued = 0;
    handler = (req, res) => {
      if (req.url!.startsWith('/token')) {
        issued++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tokenBody(issued)));
      } else if (req.headers.authorization === `Bearer token-${issued}`) {
        res.writeHead(200, { 'docker-content-digest': DIGEST }).end();
      } else {
        res
          .writeHead(401, {
            'www-authenticate': `Bearer realm="http://${host}/token",service="fake registry",scope="repository:team/app:pull"`,
          })
          .end();
      }
    };
  }

  it('gets a token with Basic credentials for the challenged scope, reuses it, and renews it when it expires', async () => {
    tokenRegistry();
    const clock = new FakeClock();
    const registry = client({ clock });
    expect(await registry.resolveDigest(`${host}/team/app:v1`, CREDENTIAL)).toBe(DIGEST);
    const tokenRequest = seen.find((r) => r.url.startsWith('/token'))!;
    expect(new URL(tokenRequest.url, 'http://x').searchParams.toString()).toBe(
      'service=fake+registry&scope=repository%3Ateam%2Fapp%3Apull',
    );
    expect(tokenRequest.authorization).toBe(`Basic ${Buffer.from('robot:pw').toString('base64')}`);

    seen.length = 0;
    clock.time += 50_000;
    expect(await registry.resolveDigest(`${host}/team/app:v1`, CREDENTIAL)).toBe(DIGEST);
    expect(seen.map((r) => r.authorization)).toEqual(['Bearer token-1']);

    seen.length = 0;
    clock.time += 10_000; // past expires_in, less the renewal margin
    expect(await registry.resolveDigest(`${host}/team/app:v1`, CREDENTIAL)).toBe(DIGEST);
    expect(seen.map((r) => `${r.method} ${r.url.replace(/\?.*/, '')} ${r.authorization ?? '-'}`)).toEqual([
      'HEAD /v2/team/app/manifests/v1 -',
      `GET /token Basic ${Buffer.from('robot:pw').toString('base64')}`,
      'HEAD /v2/team/app/manifests/v1 Bearer token-2',
    ]);
  });

  it('fetches a new token when the registry stops accepting a cached one', async () => {
    tokenRegistry();
    const registry = client();
    await registry.resolveDigest(`${host}/team/app:v1`);
    issued++; // the registry now wants a newer token than the cached one
    expect(await registry.resolveDigest(`${host}/team/app:v1`)).toBe(DIGEST);
    expect(seen.filter((r) => r.url.startsWith('/token'))).toHaveLength(2);
  });

  it('does not share tokens between credentials', async () => {
    tokenRegistry();
    const registry = client();
    await registry.resolveDigest(`${host}/team/app:v1`, CREDENTIAL);
    await registry.resolveDigest(`${host}/team/app:v1`, { username: 'robot', password: 'other' });
    expect(seen.filter((r) => r.url.startsWith('/token')).map((r) => r.authorization)).toEqual([
      `Basic ${Buffer.from('robot:pw').toString('base64')}`,
      `Basic ${Buffer.from('robot:other').toString('base64')}`,
    ]);
  });

  it('accepts OAuth2-style access_token answers and anonymous tokens', async () => {
    tokenRegistry((n) => ({ access_token: `token-${n}` }));
    expect(await client().resolveDigest(`${host}/team/app:v1`)).toBe(DIGEST);
    expect(seen.find((r) => r.url.startsWith('/token'))!.authorization).toBeUndefined();
  });

  it('says which service refused, and fails on token answers without a token', async () => {
    handler = (req, res) =>
      req.url!.startsWith('/token')
        ? res.writeHead(401).end()
        : res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="s"` }).end();
    const refused = await failure(client().resolveDigest(`${host}/team/app:v1`, CREDENTIAL));
    expect(refused).toMatchObject({ status: 401, transient: false });
    expect(refused.message).toBe(`the token service of ${host} (http://${host}/token) refused the pull credential of user "robot"`);

    tokenRegistry(() => ({ expires_in: 60 }));
    expect((await failure(client().resolveDigest(`${host}/team/app:v1`))).message).toContain('answered without a token');

    handler = (_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer service="s"' }).end();
    expect((await failure(client().resolveDigest(`${host}/team/app:v1`))).message).toContain('without a valid realm URL');

    handler = (_req, res) => res.writeHead(401).end();
    expect((await failure(client().resolveDigest(`${host}/team/app:v1`))).message).toContain('without a Basic or Bearer challenge');
  });
});

describe('parseWwwAuthenticate', () => {
  it('reads Bearer and Basic challenges, quoted commas and escapes included', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push",error="insufficient_scope"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/nginx:pull,push',
          error: 'insufficient_scope',
        },
      },
    ]);
    expect(parseWwwAuthenticate('Basic realm="say \\"hi\\""')).toEqual([{ scheme: 'basic', params: { realm: 'say "hi"' } }]);
    expect(parseWwwAuthenticate('Basic realm=plain, Bearer realm="https://t/token", service=reg')).toEqual([
      { scheme: 'basic', params: { realm: 'plain' } },
      { scheme: 'bearer', params: { realm: 'https://t/token', service: 'reg' } },
    ]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });
});
