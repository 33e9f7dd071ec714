import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { request as httpRequest } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { AppRunnerClient, ListServicesCommand } from '@aws-sdk/client-apprunner';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { getCanonicalQuery, SignatureV4 } from '@smithy/signature-v4';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { AuthenticationError } from '@apprunner/core';
import {
  apiKeyMatches,
  canonicalPath,
  canonicalQuery,
  hashApiKeySecret,
  newAccessKey,
  newApiKey,
  openSecret,
  parseApiKey,
  parseMasterKey,
  sealSecret,
  type SigV4Options,
  type SigV4Request,
  verifySigV4,
} from './index';

describe('secret box', () => {
  const key = randomBytes(32);

  it('round-trips secrets in the documented format', () => {
    for (const plaintext of ['', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'ünïcødé ✓'.repeat(50)]) {
      const sealed = sealSecret(key, plaintext);
      expect(sealed[0]).toBe(0x01);
      expect(sealed.length).toBe(1 + 12 + 16 + Buffer.byteLength(plaintext));
      expect(openSecret(key, sealed)).toBe(plaintext);
    }
  });

  it('uses a fresh IV every time', () => {
    const a = sealSecret(key, 'same');
    const b = sealSecret(key, 'same');
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it('detects tampering, a wrong key, an unknown version and truncation', () => {
    const sealed = sealSecret(key, 'top secret value');
    const failure = 'secret could not be decrypted (wrong MASTER_KEY?)';
    for (const index of [0, 1, 13, 29, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[index] ^= 0x01;
      expect(() => openSecret(key, tampered)).toThrow(failure);
    }
    expect(() => openSecret(randomBytes(32), sealed)).toThrow(failure);
    expect(() => openSecret(key, sealed.subarray(0, 20))).toThrow(failure);
    expect(() => openSecret(key, Buffer.alloc(0))).toThrow(failure);
  });

  it('parses MASTER_KEY as hex, base64 and base64url', () => {
    const raw = Buffer.from('fb'.repeat(16) + 'ff'.repeat(16), 'hex');
    expect(parseMasterKey(raw.toString('hex')).equals(raw)).toBe(true);
    expect(parseMasterKey(raw.toString('hex').toUpperCase()).equals(raw)).toBe(true);
    expect(raw.toString('base64')).toMatch(/[+/]/);
    expect(parseMasterKey(raw.toString('base64')).equals(raw)).toBe(true);
    expect(parseMasterKey(`${raw.toString('base64')}\n`).equals(raw)).toBe(true);
    expect(raw.toString('base64url')).toMatch(/[-_]/);
    expect(parseMasterKey(raw.toString('base64url')).equals(raw)).toBe(true);
  });

  it('rejects a missing or malformed MASTER_KEY without echoing it', () => {
    const bad = [
      undefined,
      '',
      '   ',
      'ab'.repeat(31),
      'ab'.repeat(33),
      'zz'.repeat(32),
      randomBytes(16).toString('base64'),
      randomBytes(48).toString('base64'),
      `${randomBytes(32).toString('base64').slice(0, 43)}!`,
      'correct horse battery staple correct horse b',
    ];
    for (const value of bad) {
      let error: unknown;
      try {
        parseMasterKey(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/MASTER_KEY/);
      if (value?.trim()) expect((error as Error).message).not.toContain(value.trim());
    }
  });
});

describe('keys', () => {
  it('issues AWS-shaped, unique access keys', () => {
    const ids = new Set<string>();
    const secrets = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { accessKeyId, secretAccessKey } = newAccessKey();
      expect(accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
      expect(secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
      ids.add(accessKeyId);
      secrets.add(secretAccessKey);
    }
    expect(ids.size).toBe(200);
    expect(secrets.size).toBe(200);
  });

  it('issues unique API keys whose secret follows `ark_<keyId>_`', () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { keyId, token } = newApiKey();
      expect(keyId).toMatch(/^k[a-z0-9]{19}$/);
      expect(token).toMatch(/^ark_k[a-z0-9]{19}_[A-Za-z0-9_-]{43}$/);
      const secret = token.slice(`ark_${keyId}_`.length);
      expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
      expect(parseApiKey(token)).toEqual({ keyId, secret });
      tokens.add(token);
    }
    expect(tokens.size).toBe(200);
  });

  it('parses only well-formed API keys', () => {
    const { token } = newApiKey();
    const bad = [
      '',
      token.slice(0, -1),
      `${token}x`,
      token.replace('ark_', 'ark-'),
      token.replace('ark_', 'ARK_'),
      `Bearer ${token}`,
      ` ${token}`,
      `ark_K${'a'.repeat(19)}_${'b'.repeat(43)}`,
      `ark_k${'a'.repeat(18)}_${'b'.repeat(43)}`,
      `ark_k${'a'.repeat(19)}_${'b'.repeat(42)}=`,
      `ark_k${'a'.repeat(19)}_${'b'.repeat(42)}+`,
      `ark_k${'a'.repeat(19)}${'b'.repeat(44)}`,
    ];
    for (const value of bad) expect(parseApiKey(value)).toBeUndefined();
    expect(parseApiKey(`ark_k${'a'.repeat(19)}_${'_'.repeat(43)}`)).toEqual({ keyId: `k${'a'.repeat(19)}`, secret: '_'.repeat(43) });
  });

  it('matches API key secrets against their stored hash', () => {
    const { keyId, token } = newApiKey();
    const secret = token.slice(`ark_${keyId}_`.length);
    const stored = hashApiKeySecret(secret);
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKeySecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(apiKeyMatches(stored, secret)).toBe(true);
    expect(apiKeyMatches(stored, `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    expect(apiKeyMatches(stored, '')).toBe(false);
    expect(apiKeyMatches(stored.slice(0, 63), secret)).toBe(false);
    expect(apiKeyMatches('', secret)).toBe(false);
  });
});

const REGION = 'us-east-1';
const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = new Date('2025-03-04T05:06:07Z');
const BODY = JSON.stringify({ MaxResults: 10 });
const JSON_HEADERS = { host: '127.0.0.1:1234', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AppRunner.ListServices' };

/** URI encoding as the AWS SDK puts query strings on the wire. */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function wireQuery(query: Record<string, string | string[]>): string {
  return Object.entries(query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${escapeUri(k)}=${escapeUri(x)}`))
    .join('&');
}

interface SignInput {
  method?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
}

interface SignCreds {
  region?: string;
  service?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  date?: Date;
  applyChecksum?: boolean;
}

function signer(creds: SignCreds = {}): SignatureV4 {
  return new SignatureV4({
    service: creds.service ?? 'apprunner',
    region: creds.region ?? REGION,
    credentials: { accessKeyId: creds.accessKeyId ?? ACCESS_KEY_ID, secretAccessKey: creds.secretAccessKey ?? SECRET },
    sha256: Sha256,
    applyChecksum: creds.applyChecksum,
  });
}

function httpRequestOf(input: SignInput): HttpRequest {
  return new HttpRequest({
    method: input.method ?? 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 1234,
    path: input.path ?? '/',
    query: input.query ?? {},
    headers: { ...(input.headers ?? JSON_HEADERS) },
    body: input.body ?? BODY,
  });
}

/** What the server sees of a signed request: Node's lower-cased headers and express's parsed query. */
function received(
  signed: { method: string; path: string; query?: unknown; headers: Record<string, string> },
  body: string | undefined,
): SigV4Request {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
  const query = parseQueryString(wireQuery(signed.query as Record<string, string | string[]>));
  return { method: signed.method, path: signed.path, query, headers, body: Buffer.from(body ?? '') };
}

async function sign(input: SignInput = {}, creds: SignCreds = {}): Promise<SigV4Request> {
  const signed = await signer(creds).sign(httpRequestOf(input), { signingDate: creds.date ?? NOW });
  return received(signed, input.body ?? BODY);
}

function options(overrides: Partial<SigV4Options> = {}): SigV4Options {
  return {
    region: REGION,
    service: 'apprunner',
    now: NOW,
    lookupSecret: async (id) => (id === ACCESS_KEY_ID ? SECRET : undefined),
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<AuthenticationError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthenticationError);
    const e = error as AuthenticationError;
    expect(e.message).not.toContain(SECRET);
    return e;
  }
  throw new Error('expected the verification to fail');
}

function signatureOf(req: SigV4Request): string {
  return /Signature=([0-9a-f]{64})/.exec(String(req.headers.authorization))?.[1] ?? '';
}

describe('verifySigV4', () => {
  it('reads a lazy body only once the headers authenticate, and checks the signature over it', async () => {
    const req = await sign();
    let reads = 0;
    const lazy = { ...req, body: async () => (reads++, req.body as Buffer) };
    expect((await rejection(verifySigV4(lazy, options({ lookupSecret: async () => undefined })))).code).toBe('UnrecognizedClientException');
    expect((await rejection(verifySigV4(lazy, options({ now: new Date(NOW.getTime() + 60 * 60_000) })))).code).toBe(
      'InvalidSignatureException',
    );
    expect(reads).toBe(0);
    await expect(verifySigV4(lazy, options())).resolves.toMatchObject({ accessKeyId: ACCESS_KEY_ID });
    expect(reads).toBe(1);
    const tampered = { ...req, body: async () => Buffer.from('{"other":1}') };
    expect((await rejection(verifySigV4(tampered, options()))).code).toBe('InvalidSignatureException');
  });

  it('accepts an App Runner JSON request signed by the AWS signer', async () => {
    const req = await sign();
    expect(req.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/20250304\/us-east-1\/apprunner\/aws4_request, /,
    );
    const looked: string[] = [];
    const result = await verifySigV4(
      req,
      options({ lookupSecret: async (id) => (looked.push(id), id === ACCESS_KEY_ID ? SECRET : undefined) }),
    );
    expect(result.accessKeyId).toBe(ACCESS_KEY_ID);
    expect(result.signedHeaders).toEqual(['content-type', 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-target']);
    expect(looked).toEqual([ACCESS_KEY_ID]);
  });

  it('accepts requests within the allowed clock skew', async () => {
    const req = await sign();
    await expect(verifySigV4(req, options({ now: new Date(NOW.getTime() + 14 * 60_000) }))).resolves.toBeDefined();
    await expect(verifySigV4(req, options({ now: new Date(NOW.getTime() - 14 * 60_000) }))).resolves.toBeDefined();
  });

  it('accepts paths with special characters and repeated, special query parameters', async () => {
    const input: SignInput = {
      method: 'GET',
      path: "/v1/./services/../services//my%20service/a%2Bb%2Fc/caf%C3%A9/it's(1)!*~/%E2%9C%93/",
      query: {
        'a b': ['x y', 'x&z=1', 'é', ''],
        'plus+': '1+1=2',
        empty: '',
        'tilde~': "~!*'()",
        Z: 'upper',
        'slash/': '/a/b?c#d',
      },
      headers: { host: '127.0.0.1:1234', 'x-custom': '  spaced    out\tvalue  ' },
      body: '',
    };
    const req = await sign(input);
    expect(req.query['a b']).toEqual(['x y', 'x&z=1', 'é', '']);
    await expect(verifySigV4(req, options())).resolves.toMatchObject({ accessKeyId: ACCESS_KEY_ID });

    const moved = { ...req, query: { ...req.query, 'plus+': '1 1=2' } };
    expect((await rejection(verifySigV4(moved, options()))).code).toBe('InvalidSignatureException');
    const otherPath = { ...req, path: req.path.replace('my%20service', 'my%2520service') };
    expect((await rejection(verifySigV4(otherPath, options()))).code).toBe('InvalidSignatureException');
  });

  it('canonicalises paths and queries exactly like @smithy/signature-v4', () => {
    const smithy = signer() as unknown as { getCanonicalPath(request: { path: string }): string };
    const paths = ['/', '', '//', '/a/b/', '/a/./b/../c', '/../..', '/a%20b/%2F/c%2Fd', "/!*'()~;:@&=+$,", '/é/✓', '/a//b///', '/%25/%'];
    for (const path of paths) {
      expect(canonicalPath(path), path).toBe(smithy.getCanonicalPath({ path }) || '/');
    }
    const query = { b: ['2', '10', '1'], a: 'x y', 'é~': "!'()*", 'X-Amz-Signature': 'dropped', c: '' };
    expect(canonicalQuery(query)).toBe(getCanonicalQuery({ query } as unknown as HttpRequest));
    expect(canonicalQuery(query)).toBe('%C3%A9~=%21%27%28%29%2A&a=x%20y&b=1&b=10&b=2&c=');
  });

  it('accepts a request sent through express by the real App Runner SDK client', async () => {
    const verified: string[] = [];
    const app = express();
    app.use(express.raw({ type: () => true }));
    app.use((req, res) => {
      verifySigV4(
        {
          method: req.method,
          path: req.originalUrl.split('?')[0],
          query: req.query as Record<string, string | string[] | undefined>,
          headers: req.headers,
          body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        },
        options({ now: new Date() }),
      ).then(
        ({ accessKeyId }) => {
          verified.push(accessKeyId);
          res.status(200).type('application/x-amz-json-1.0').send('{"ServiceSummaryList":[]}');
        },
        (error: AuthenticationError) => {
          res
            .status(error.httpStatus)
            .type('application/x-amz-json-1.0')
            .send(JSON.stringify({ __type: error.code, message: error.message }));
        },
      );
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const client = (secretAccessKey: string) =>
      new AppRunnerClient({
        region: REGION,
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey },
        maxAttempts: 1,
      });
    try {
      await expect(client(SECRET).send(new ListServicesCommand({ MaxResults: 5 }))).resolves.toMatchObject({ ServiceSummaryList: [] });
      expect(verified).toEqual([ACCESS_KEY_ID]);
      await expect(client(`${SECRET}x`).send(new ListServicesCommand({}))).rejects.toMatchObject({ name: 'InvalidSignatureException' });

      // A signed GET with an awkward path and query, over the wire, parsed by express.
      const path = "/v1/services/my%20service/a%2Bb/caf%C3%A9/it's(1)!*~/";
      const query = { 'a b': ['x y', 'x&z=1'], 'plus+': '1+1=2', empty: '' };
      const signed = await signer().sign(
        new HttpRequest({
          method: 'GET',
          protocol: 'http:',
          hostname: '127.0.0.1',
          port,
          path,
          query,
          headers: { host: `127.0.0.1:${port}` },
        }),
        { signingDate: new Date() },
      );
      const status = await new Promise<number>((resolve, reject) => {
        const r = httpRequest(
          { host: '127.0.0.1', port, method: 'GET', path: `${path}?${wireQuery(query)}`, headers: signed.headers },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        r.on('error', reject);
        r.end();
      });
      expect(status).toBe(200);
      expect(verified).toEqual([ACCESS_KEY_ID, ACCESS_KEY_ID]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('accepts presigned requests until they expire', async () => {
    const presigned = await signer().presign(
      new HttpRequest({
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 1234,
        path: '/a%20b',
        query: { x: ['1', '2'] },
        headers: { host: '127.0.0.1:1234' },
      }),
      { signingDate: NOW, expiresIn: 300 },
    );
    const req = received(presigned, '');
    expect(req.headers.authorization).toBeUndefined();
    await expect(verifySigV4(req, options({ now: new Date(NOW.getTime() + 299_000) }))).resolves.toMatchObject({
      accessKeyId: ACCESS_KEY_ID,
      signedHeaders: ['host'],
    });
    const expired = await rejection(verifySigV4(req, options({ now: new Date(NOW.getTime() + 301_000) })));
    expect(expired.code).toBe('InvalidSignatureException');
    expect(expired.message).toMatch(/^Signature expired/);
    const tampered = await rejection(verifySigV4({ ...req, query: { ...req.query, x: ['1', '3'] } }, options()));
    expect(tampered.code).toBe('InvalidSignatureException');
  });

  it('rejects a tampered body', async () => {
    const req = await sign();
    const error = await rejection(verifySigV4({ ...req, body: Buffer.from(JSON.stringify({ MaxResults: 11 })) }, options()));
    expect(error.code).toBe('InvalidSignatureException');
    expect(error.httpStatus).toBe(400);

    // Without x-amz-content-sha256 the body hash goes into the canonical request.
    const bare = await sign({}, { applyChecksum: false });
    expect(bare.headers['x-amz-content-sha256']).toBeUndefined();
    await expect(verifySigV4(bare, options())).resolves.toBeDefined();
    const bareError = await rejection(verifySigV4({ ...bare, body: Buffer.from(`${BODY} `) }, options()));
    expect(bareError.code).toBe('InvalidSignatureException');
    expect(bareError.message).toMatch(/^The request signature we calculated does not match/);

    // An unsigned payload is not accepted in place of the body hash.
    const unsigned = await sign({ headers: { ...JSON_HEADERS, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect((await rejection(verifySigV4(unsigned, options()))).code).toBe('InvalidSignatureException');
  });

  it('rejects tampered headers, method and signature', async () => {
    const req = await sign();
    const cases: SigV4Request[] = [
      { ...req, headers: { ...req.headers, 'x-amz-target': 'AppRunner.DeleteService' } },
      { ...req, headers: { ...req.headers, host: 'evil.example:1234' } },
      { ...req, method: 'PUT' },
      { ...req, path: '/x' },
      { ...req, query: { a: '1' } },
      {
        ...req,
        headers: { ...req.headers, authorization: String(req.headers.authorization).replace(/.$/, (c) => (c === '0' ? '1' : '0')) },
      },
      {
        ...req,
        headers: { ...req.headers, authorization: String(req.headers.authorization).replace(/Signature=[0-9a-f]+/, 'Signature=abc') },
      },
      {
        ...req,
        headers: { ...req.headers, authorization: String(req.headers.authorization).replace('x-amz-target', 'x-amz-target;user-agent') },
      },
    ];
    for (const tampered of cases) {
      const error = await rejection(verifySigV4(tampered, options()));
      expect(error.code).toBe('InvalidSignatureException');
      expect(error.message).not.toContain(signatureOf(req));
    }
  });

  it('rejects a wrong secret', async () => {
    const req = await sign({}, { secretAccessKey: `${SECRET.slice(0, -1)}Z` });
    const error = await rejection(verifySigV4(req, options()));
    expect(error.code).toBe('InvalidSignatureException');
    expect(error.message).toBe(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
    expect(error.message).not.toContain(signatureOf(req));
  });

  it('rejects an unknown access key', async () => {
    const req = await sign({}, { accessKeyId: 'AKIAUNKNOWNKEY000000' });
    const error = await rejection(verifySigV4(req, options()));
    expect(error.code).toBe('UnrecognizedClientException');
    expect(error.message).toBe('The security token included in the request is invalid.');
  });

  it('rejects a request without authentication', async () => {
    const req = await sign();
    const { authorization: _authorization, ...headers } = req.headers;
    for (const h of [headers, { ...headers, authorization: '' }]) {
      const error = await rejection(verifySigV4({ ...req, headers: h }, options()));
      expect(error.code).toBe('MissingAuthenticationTokenException');
      expect(error.message).toBe('Missing Authentication Token');
      expect(error.httpStatus).toBe(403);
    }
  });

  it('rejects expired and future-dated signatures', async () => {
    const req = await sign({}, { date: new Date(NOW.getTime() - 16 * 60_000) });
    const expired = await rejection(verifySigV4(req, options()));
    expect(expired.code).toBe('InvalidSignatureException');
    expect(expired.message).toBe('Signature expired: 20250304T045007Z is now earlier than 20250304T045107Z (20250304T050607Z - 15 min.)');

    const future = await rejection(verifySigV4(await sign({}, { date: new Date(NOW.getTime() + 16 * 60_000) }), options()));
    expect(future.code).toBe('InvalidSignatureException');
    expect(future.message).toMatch(/^Signature not yet current: 20250304T052207Z is still later than 20250304T052107Z/);

    const tight = await rejection(verifySigV4(await sign(), options({ now: new Date(NOW.getTime() + 61_000), maxSkewMs: 60_000 })));
    expect(tight.message).toMatch(/^Signature expired: .* \(20250304T050708Z - 1 min\.\)$/);
  });

  it('rejects a credential scoped to another region, service or date', async () => {
    const region = await rejection(verifySigV4(await sign({}, { region: 'eu-west-1' }), options()));
    expect(region.code).toBe('InvalidSignatureException');
    expect(region.message).toBe('Credential should be scoped to a valid region.');

    const service = await rejection(verifySigV4(await sign({}, { service: 'iam' }), options()));
    expect(service.code).toBe('InvalidSignatureException');
    expect(service.message).toBe("Credential should be scoped to correct service: 'apprunner'.");

    const req = await sign();
    const otherDay = String(req.headers.authorization).replace('/20250304/', '/20250303/');
    const date = await rejection(verifySigV4({ ...req, headers: { ...req.headers, authorization: otherDay } }, options()));
    expect(date.code).toBe('InvalidSignatureException');
    expect(date.message).toMatch(/^Date in Credential scope does not match/);

    const terminator = String(req.headers.authorization).replace('/aws4_request', '/aws4_other');
    expect((await rejection(verifySigV4({ ...req, headers: { ...req.headers, authorization: terminator } }, options()))).code).toBe(
      'InvalidSignatureException',
    );
  });

  it('requires host and x-amz-date to be signed', async () => {
    const req = await sign();
    const auth = String(req.headers.authorization);
    for (const [from, to, pattern] of [
      ['content-type;host;', 'content-type;', /'Host'/],
      [';x-amz-date;', ';', /'X-Amz-Date'/],
    ] as const) {
      const error = await rejection(verifySigV4({ ...req, headers: { ...req.headers, authorization: auth.replace(from, to) } }, options()));
      expect(error.code).toBe('InvalidSignatureException');
      expect(error.message).toMatch(pattern);
    }
  });

  it('rejects malformed Authorization headers and dates', async () => {
    const req = await sign();
    const auth = String(req.headers.authorization);
    const signature = signatureOf(req);
    const malformed = [
      auth.replace('AWS4-HMAC-SHA256 ', 'AWS4-HMAC-SHA512 '),
      auth.replace(/Credential=[^,]+, /, ''),
      auth.replace(/SignedHeaders=[^,]+, /, ''),
      auth.replace(/, Signature=.*$/, ''),
      auth.replace('Credential=', 'Credential=x/'),
      auth.replace('/aws4_request', ''),
      `Bearer ark_k${'a'.repeat(19)}_${'b'.repeat(43)}`,
      'AWS4-HMAC-SHA256',
      `${auth}, Signature=${signature}`,
    ];
    for (const authorization of malformed) {
      const error = await rejection(verifySigV4({ ...req, headers: { ...req.headers, authorization } }, options()));
      expect(error.code, authorization).toBe('IncompleteSignatureException');
      expect(error.httpStatus).toBe(400);
      expect(error.message).not.toContain(signature);
      expect(error.message).not.toContain('b'.repeat(43));
    }
    const missing = await rejection(
      verifySigV4({ ...req, headers: { ...req.headers, authorization: auth.replace(/Credential=[^,]+, /, '') } }, options()),
    );
    expect(missing.message).toMatch(/Authorization header requires 'Credential' parameter\./);

    const { 'x-amz-date': _date, ...noDate } = req.headers;
    const dateless = await rejection(verifySigV4({ ...req, headers: noDate }, options()));
    expect(dateless.code).toBe('IncompleteSignatureException');
    expect(dateless.message).toMatch(/'X-Amz-Date' or a 'Date' header/);

    for (const badDate of ['2025-03-04T05:06:07Z', '20250304T050607', '20251304T050607Z', '20250230T050607Z']) {
      const error = await rejection(verifySigV4({ ...req, headers: { ...req.headers, 'x-amz-date': badDate } }, options()));
      expect(error.code).toBe('IncompleteSignatureException');
    }
  });

  it('never passes garbage access key ids to the lookup', async () => {
    const req = await sign({}, { accessKeyId: "AKIA';DROP--" });
    const looked: string[] = [];
    const error = await rejection(verifySigV4(req, options({ lookupSecret: async (id) => (looked.push(id), undefined) })));
    expect(error.code).toBe('UnrecognizedClientException');
    expect(looked).toEqual([]);
  });
});
