/**
 * RegistryClient and parseRegistryNotification against the real CNCF distribution registry: anonymous,
 * htpasswd (Basic) and token (Bearer) auth, images pushed with skopeo, notifications POSTed to a local server.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NOTIFICATION_MEDIA_TYPE,
  parseRegistryNotification,
  RegistryClient,
  RegistryError,
  type RegistryPushEvent,
} from '@apprunner/registry';
import { type RunningRegistry, skopeoDigest, skopeoPush, startRegistry, writeOciLayout } from '../doubles/registry/docker-registry';
import { startTokenService, type TokenService } from '../doubles/registry/token-service';

const HOOK_TOKEN = 'notify-token-0123456789';
const ALICE = { username: 'alice', password: 's3cret:with:colons' };
const ALICE_CREDS = `${ALICE.username}:${ALICE.password}`;

let tmp: string;
let hookServer: Server;
const deliveries: { headers: IncomingHttpHeaders; body: string }[] = [];
let open: RunningRegistry;
let basicAuth: RunningRegistry;
let tokenAuth: RunningRegistry;
let tokens: TokenService;
let layouts = 0;

/** A fresh OCI layout holding one image whose content is `marker`. */
function layout(marker: string, opts: { tag?: string; index?: boolean } = {}): { dir: string; digest: string } {
  const dir = join(tmp, `layout-${++layouts}`);
  return { dir, digest: writeOciLayout(dir, marker, opts) };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'registry-spec-'));
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => (deliveries.push({ headers: req.headers, body }), res.writeHead(200).end()));
  });
  await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/registry/notifications`;

  for (const d of ['open', 'basic', 'token']) mkdirSync(join(tmp, d));
  tokens = await startTokenService(join(tmp, 'token'), { [ALICE.username]: ALICE.password });
  [open, basicAuth, tokenAuth] = await Promise.all([
    startRegistry({ dir: join(tmp, 'open'), notify: { url: hookUrl, bearer: HOOK_TOKEN } }),
    startRegistry({ dir: join(tmp, 'basic'), htpasswd: { [ALICE.username]: ALICE.password } }),
    startRegistry({ dir: join(tmp, 'token'), token: tokens }),
  ]);
});

afterAll(async () => {
  await Promise.all([open?.stop(), basicAuth?.stop(), tokenAuth?.stop(), tokens?.stop()]);
  await new Promise<void>((resolve) => (hookServer ? hookServer.close(() => resolve()) : resolve()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const client = (): RegistryClient => new RegistryClient({ insecureRegistries: ['127.0.0.1'], timeoutMs: 5_000 });

describe('anonymous registry', () => {
  it('resolves a tag to the digest skopeo reports, follows a new push to the same tag, and misses unknown tags', async () => {
    const ref = `${open.host}/team/app:v1`;
    const first = layout('first build');
    await skopeoPush(first.dir, ref);
    const registry = client();

    const digest = await registry.resolveDigest(ref);
    expect(digest).toBe(await skopeoDigest(ref));
    expect(digest).toBe(first.digest);

    // Pushed as Docker schema 2: a different manifest media type, and different content.
    const second = layout('second build');
    await skopeoPush(second.dir, ref, { format: 'v2s2' });
    const moved = await registry.resolveDigest(ref);
    expect(moved).toBe(await skopeoDigest(ref));
    expect(moved).not.toBe(digest);

    expect(await registry.resolveDigest(`${open.host}/team/app:no-such-tag`)).toBeUndefined();
    expect(await registry.resolveDigest(`${open.host}/no/such-repo:v1`)).toBeUndefined();
    // A digest reference is checked, not trusted: the first manifest is still stored, a made-up one is not.
    expect(await registry.resolveDigest(`${open.host}/team/app@${first.digest}`)).toBe(first.digest);
    expect(await registry.resolveDigest(`${open.host}/team/app@sha256:${'0'.repeat(64)}`)).toBeUndefined();
  });

  it('resolves a multi-platform tag to the digest of its image index', async () => {
    const ref = `${open.host}/team/multi:latest`;
    const image = layout('multi-platform', { index: true });
    await skopeoPush(image.dir, ref, { all: true });
    const digest = await client().resolveDigest(ref);
    expect(digest).toBe(image.digest);
    expect(digest).toBe(await skopeoDigest(ref));
  });

  it('speaks https unless the host is listed insecure, and says so when it cannot connect', async () => {
    const error = await new RegistryClient({ timeoutMs: 5_000 }).resolveDigest(`${open.host}/team/app:v1`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).transient).toBe(true);
    expect((error as RegistryError).message).toContain(`https://${open.host}/v2/team/app/manifests/v1`);
  });

  it('notifies the push of a tag, which parseRegistryNotification turns into exactly one push event', async () => {
    const ref = `${open.host}/notify/app:v7`;
    const image = layout('notified');
    const seen = deliveries.length;
    await skopeoPush(image.dir, ref);

    const pushes = await until('the manifest push notification', () => {
      const events = deliveries.slice(seen).flatMap((d) => parseRegistryNotification(d.body));
      const ours = events.filter((e) => e.repository === 'notify/app');
      return ours.length > 0 ? ours : undefined;
    });
    expect(pushes).toEqual<RegistryPushEvent[]>([
      {
        id: expect.any(String),
        registryHost: open.host,
        repository: 'notify/app',
        tag: 'v7',
        digest: image.digest,
        timestamp: expect.any(String),
      },
    ]);
    expect(Number.isNaN(Date.parse(pushes[0].timestamp))).toBe(false);
    // The blob pushes of the same copy were notified too, and left out.
    const raw = deliveries.slice(seen).flatMap((d) => (JSON.parse(d.body) as { events: { target: { repository: string } }[] }).events);
    expect(raw.filter((e) => e.target.repository === 'notify/app').length).toBeGreaterThan(1);
    const delivery = deliveries.slice(seen)[0];
    expect(delivery.headers['content-type']).toBe(NOTIFICATION_MEDIA_TYPE);
    expect(delivery.headers.authorization).toBe(`Bearer ${HOOK_TOKEN}`);
  });
});

describe('registry with htpasswd (Basic) auth', () => {
  it('refuses anonymous resolution with 401 and resolves with the credential', async () => {
    const ref = `${basicAuth.host}/private/app:v1`;
    const image = layout('private');
    await skopeoPush(image.dir, ref, { creds: ALICE_CREDS });
    const registry = client();

    const anonymous = await registry.resolveDigest(ref).catch((e: unknown) => e);
    expect(anonymous).toBeInstanceOf(RegistryError);
    expect(anonymous).toMatchObject({ status: 401, transient: false });
    expect((anonymous as Error).message).toMatch(/requires authentication.*no pull credential/);

    expect(await registry.resolveDigest(ref, ALICE)).toBe(await skopeoDigest(ref, ALICE_CREDS));
    expect(await registry.resolveDigest(ref, ALICE)).toBe(image.digest);
    expect(await registry.resolveDigest(`${basicAuth.host}/private/app:v2`, ALICE)).toBeUndefined();

    const wrong = await registry.resolveDigest(ref, { username: 'alice', password: 'wrong' }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ status: 401, transient: false });
    expect((wrong as Error).message).toContain('refused the pull credential of user "alice"');
  });
});

describe('registry with token (Bearer) auth', () => {
  it('fetches a token with the credential for the pull scope, and refuses anonymous access with 401', async () => {
    const ref = `${tokenAuth.host}/private/app:v1`;
    const image = layout('token-protected');
    await skopeoPush(image.dir, ref, { creds: ALICE_CREDS });
    const registry = client();

    tokens.requests.length = 0;
    expect(await registry.resolveDigest(ref, ALICE)).toBe(image.digest);
    expect(tokens.requests).toEqual([{ service: tokens.service, scope: 'repository:private/app:pull', user: 'alice' }]);
    // The token is reused until it expires: no second trip to the token service.
    expect(await registry.resolveDigest(ref, ALICE)).toBe(image.digest);
    expect(tokens.requests).toHaveLength(1);

    const anonymous = await registry.resolveDigest(ref).catch((e: unknown) => e);
    expect(anonymous).toBeInstanceOf(RegistryError);
    expect(anonymous).toMatchObject({ status: 401, transient: false });
    expect((anonymous as Error).message).toContain('refused anonymous access');
    expect(tokens.requests.at(-1)).toEqual({ service: tokens.service, scope: 'repository:private/app:pull' });

    const wrong = await registry.resolveDigest(ref, { username: 'alice', password: 'nope' }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ status: 401, transient: false });
    expect((wrong as Error).message).toContain('token service');
  });
});
