/**
 * BuildahDriver against the real tools: Debian's buildah (vfs storage, chroot isolation) and a throwaway
 * docker-registry on loopback. No test is skipped when the tools are missing: `requireBuildTools` fails the file.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildahDriver, BuildFailedError, type BuildRequest, buildJobOutcome, registryAuthFile } from '@apprunner/build-driver';
import { buildJobManifest } from '@apprunner/kubernetes';
import {
  buildBaseImage,
  registryDigest,
  requireBuildTools,
  startLocalRegistry,
  type LocalRegistry,
} from '../doubles/registry/local-registry';

const run = promisify(execFile);

describe('BuildahDriver (real buildah and registry)', () => {
  let dir: string;
  let storage: { root: string; runroot: string };
  let registry: LocalRegistry;
  let base: string;
  let builder: BuildahDriver;

  beforeAll(async () => {
    requireBuildTools();
    dir = await mkdtemp(join(tmpdir(), 'apprunner-buildah-spec-'));
    storage = { root: join(dir, 'storage', 'root'), runroot: join(dir, 'storage', 'run') };
    registry = await startLocalRegistry();
    base = await buildBaseImage(registry.host, storage);
    builder = new BuildahDriver({ ...storage, tlsVerify: false });
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A fresh build context with the given files. */
  async function context(files: Record<string, string>): Promise<string> {
    const ctx = await mkdtemp(join(dir, 'ctx-'));
    for (const [name, text] of Object.entries(files)) await writeFile(join(ctx, name), text);
    return ctx;
  }

  function request(contextDir: string, containerfile: string, extra: Partial<BuildRequest> = {}): BuildRequest & { logs: string[] } {
    const logs: string[] = [];
    return {
      buildId: `op-${randomBytes(4).toString('hex')}`,
      contextDir,
      containerfile,
      repository: `${registry.host}/t-123456789012/svc-abc`,
      tag: 'v1',
      onLog: (chunk) => logs.push(chunk),
      logs,
      ...extra,
    };
  }

  async function workingContainers(): Promise<string[]> {
    const { stdout } = await run('buildah', [
      '--root',
      storage.root,
      '--runroot',
      storage.runroot,
      '--storage-driver',
      'vfs',
      'containers',
      '-q',
    ]);
    return stdout.split('\n').filter(Boolean);
  }

  async function failureOf(p: Promise<unknown>): Promise<BuildFailedError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BuildFailedError);
    return err as BuildFailedError;
  }

  it('builds RUN steps with build args on the busybox base, pushes, and returns the digest the registry serves', async () => {
    const ctx = await context({ 'app.txt': 'application\n' });
    const req = request(
      ctx,
      [`FROM ${base}`, 'ARG GREETING', 'COPY app.txt /app/app.txt', 'RUN echo "$GREETING" > /app/greeting && cat /app/greeting', ''].join(
        '\n',
      ),
      { buildArgs: { GREETING: 'hello from a build arg' }, tag: 'abc1234' },
    );
    const result = await builder.build(req);

    expect(result.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(result.image).toBe(`${req.repository}@${result.digest}`);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(await registryDigest(`${req.repository}:abc1234`)).toBe(result.digest);
    const log = req.logs.join('');
    expect(log).toContain('STEP 4/4: RUN echo "$GREETING"');
    expect(log).toContain('hello from a build arg');
    expect(log).toContain('Writing manifest to image destination');

    // What was pushed is what the service will run: build on it by digest and check the file RUN wrote.
    const check = request(
      ctx,
      [`FROM ${result.image}`, 'RUN test "$(cat /app/greeting)" = "hello from a build arg" && test -f /app/app.txt', ''].join('\n'),
      {
        repository: `${registry.host}/t-123456789012/check`,
      },
    );
    await expect(builder.build(check)).resolves.toMatchObject({ digest: expect.stringMatching(/^sha256:/) });
  });

  it('fails a RUN step with BuildFailedError naming the step and exit code, streams the output, and leaves no container', async () => {
    const ctx = await context({ 'a.txt': 'a' });
    const req = request(
      ctx,
      [`FROM ${base}`, 'COPY a.txt /a.txt', 'RUN echo "about to fail" && echo boom-on-stderr >&2 && exit 3', ''].join('\n'),
    );
    const err = await failureOf(builder.build(req));

    expect(err.kind).toBe('build');
    expect(err.reason).toBe('RUN step 3/3 "echo \\"about to fail\\" && echo boom-on-stderr >&2 && exit 3" exited with code 3');
    expect(err.message).toBe(`Image build failed: ${err.reason}`);
    expect(err.logTail).toContain('boom-on-stderr');
    expect(err.logTail.split('\n').length).toBeLessThanOrEqual(51);
    expect(req.logs.join('')).toContain('about to fail');
    expect(await workingContainers()).toEqual([]);
    await expect(registryDigest(`${req.repository}:${req.tag}`)).rejects.toThrow();
  });

  it('reuses the layer cache: an unchanged rebuild is fast, and a source change keeps the dependency layer', async () => {
    const ctx = await context({ 'deps.txt': 'left-pad@1\n', 'src.txt': 'v1\n' });
    const containerfile = [
      `FROM ${base}`,
      'COPY deps.txt /app/deps.txt',
      // Stands in for `npm ci`: slow, and only depends on the dependency manifest.
      'RUN sleep 2 && cp /app/deps.txt /app/installed.txt',
      'COPY src.txt /app/src.txt',
      '',
    ].join('\n');

    const first = request(ctx, containerfile, { tag: 'first' });
    const cold = await builder.build(first);
    expect(first.logs.join('')).not.toContain('Using cache');
    expect(cold.durationMs).toBeGreaterThan(2_000);

    const second = request(ctx, containerfile, { tag: 'second' });
    const warm = await builder.build(second);
    expect(second.logs.join('').match(/Using cache/g)).toHaveLength(3);
    expect(warm.durationMs).toBeLessThan(cold.durationMs - 1_500);
    expect(warm.digest).toBe(cold.digest);

    await writeFile(join(ctx, 'src.txt'), 'v2\n');
    const third = request(ctx, containerfile, { tag: 'third' });
    const changed = await builder.build(third);
    const log = third.logs.join('');
    expect(log).toMatch(/STEP 3\/4: RUN sleep 2[^\n]*\n--> Using cache/);
    expect(log).not.toMatch(/STEP 4\/4: COPY src.txt[^\n]*\n--> Using cache/);
    expect(changed.durationMs).toBeLessThan(cold.durationMs - 1_500);
    expect(changed.digest).not.toBe(cold.digest);
    expect(await registryDigest(`${third.repository}:third`)).toBe(changed.digest);
  });

  it('runs builds in parallel independently (same repository, different tags)', async () => {
    const [a, b] = await Promise.all([context({ 'n.txt': 'a' }), context({ 'n.txt': 'b' })]);
    const file = [`FROM ${base}`, 'COPY n.txt /n.txt', 'RUN sleep 1 && cat /n.txt', ''].join('\n');
    const [ra, rb] = await Promise.all([
      builder.build(request(a, file, { tag: 'par-a' })),
      builder.build(request(b, file, { tag: 'par-b' })),
    ]);
    expect(ra.digest).not.toBe(rb.digest);
    expect(await registryDigest(`${registry.host}/t-123456789012/svc-abc:par-a`)).toBe(ra.digest);
    expect(await registryDigest(`${registry.host}/t-123456789012/svc-abc:par-b`)).toBe(rb.digest);
  });

  it('cancels on abort: kills the RUN step process and cleans up', async () => {
    const marker = `cancel-${randomBytes(4).toString('hex')}`;
    const ctx = await context({});
    const controller = new AbortController();
    const req = request(ctx, [`FROM ${base}`, `RUN echo ${marker} && sleep 30`, ''].join('\n'), { signal: controller.signal });
    const started = Date.now();
    const building = failureOf(builder.build(req));
    await until(() => req.logs.join('').includes(`${marker}\n`));
    controller.abort();
    const err = await building;

    expect(err.kind).toBe('cancelled');
    expect(err.reason).toBe('build cancelled');
    expect(Date.now() - started).toBeLessThan(10_000);
    const { stdout } = await run('ps', ['-eo', 'args']);
    expect(stdout).not.toContain(marker);
    expect(await workingContainers()).toEqual([]);
  });

  it('stops a build that exceeds timeoutMs', async () => {
    const ctx = await context({});
    const err = await failureOf(builder.build(request(ctx, [`FROM ${base}`, 'RUN sleep 30', ''].join('\n'), { timeoutMs: 1_500 })));
    expect(err.kind).toBe('timeout');
    expect(err.reason).toBe('build timed out after 1.5 s');
  });

  it('rejects a missing context and a malformed target before running anything', async () => {
    const missing = await failureOf(builder.build(request(join(dir, 'no-such-dir'), `FROM ${base}\n`)));
    expect(missing.reason).toMatch(/source directory .*no-such-dir does not exist/);
    const ctx = await context({});
    await expect(builder.build(request(ctx, `FROM ${base}\n`, { repository: 'library/app' }))).rejects.toThrow(
      /must start with a registry host/,
    );
    await expect(builder.build(request(ctx, `FROM ${base}\n`, { tag: 'bad tag' }))).rejects.toThrow(/tag "bad tag"/);
    await expect(builder.build(request(ctx, `FROM ${base}\n`, { buildArgs: { 'A=B': 'x' } }))).rejects.toThrow(/Build argument name/);
  });

  it('pushes to a registry with htpasswd auth only with the auth file', async () => {
    const secured = await startLocalRegistry({ htpasswd: { user: 'builder', password: 'p@ss:word' } });
    try {
      const ctx = await context({ 'x.txt': 'x' });
      const file = [`FROM ${base}`, 'COPY x.txt /x.txt', ''].join('\n');
      const repository = `${secured.host}/t-123456789012/private`;

      const anonymous = await failureOf(builder.build(request(ctx, file, { repository })));
      expect(anonymous.kind).toBe('push');
      expect(anonymous.reason).toMatch(
        new RegExp(`^push to ${secured.host}/t-123456789012/private:v1 failed: .*(authentication required|unauthorized)`),
      );

      const authFile = join(dir, 'auth.json');
      await writeFile(authFile, registryAuthFile({ [secured.host]: { username: 'builder', password: 'p@ss:word' } }));
      const authed = new BuildahDriver({ ...storage, tlsVerify: false, authFile });
      const result = await authed.build(request(ctx, file, { repository }));
      expect(await registryDigest(`${repository}:v1`, { authFile })).toBe(result.digest);
      await expect(registryDigest(`${repository}:v1`)).rejects.toThrow(/unauthorized|authentication required/i);
    } finally {
      await secured.stop();
    }
  });

  it('starts a registry that sends push notifications to the configured endpoint', async () => {
    const events: {
      headers: IncomingHttpHeaders;
      body: { events?: { action: string; target: { repository: string; digest: string; tag?: string; mediaType: string } }[] };
    }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        events.push({ headers: req.headers, body: JSON.parse(body) });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const notifying = await startLocalRegistry({
      notifications: { url: `http://127.0.0.1:${port}/hooks/registry`, headers: { Authorization: 'Bearer test-token' } },
    });
    try {
      const ctx = await context({ 'y.txt': 'y' });
      const repository = `${notifying.host}/t-123456789012/notified`;
      const result = await builder.build(request(ctx, [`FROM ${base}`, 'COPY y.txt /y.txt', ''].join('\n'), { repository, tag: 'sha-1' }));
      const manifestPush = (): { action: string; target: { repository: string; digest: string; tag?: string } } | undefined =>
        events.flatMap((e) => e.body.events ?? []).find((e) => e.action === 'push' && e.target.tag === 'sha-1');
      await until(() => manifestPush() !== undefined);
      expect(manifestPush()?.target).toMatchObject({ repository: 't-123456789012/notified', digest: result.digest, tag: 'sha-1' });
      expect(events[0].headers.authorization).toBe('Bearer test-token');
    } finally {
      await notifying.stop();
      await new Promise((r) => server.close(r));
    }
  });

  it("the build Job's script builds with its build args and writes the pushed digest as termination message", async () => {
    const ctx = await context({ 'app.txt': 'from the job\n' });
    const repository = `${registry.host}/t-123456789012/job-built`;
    const { configMap, job } = buildJobManifest({
      namespace: 'apprunner-builds',
      buildId: 'job-script',
      image: 'quay.io/buildah/stable:v1.37',
      cloneImage: 'docker.io/alpine/git:2.47.2',
      sourceSecretName: 'source',
      gitCloneUrl: 'https://github.com/example/web.git',
      commit: '0123456789abcdef0123456789abcdef01234567',
      containerfileConfigMap: 'containerfile',
      containerfile: [
        `FROM ${base}`,
        'ARG MESSAGE',
        'COPY app.txt /app.txt',
        'RUN printf "message=[%s]\\n" "$MESSAGE" && cat /app.txt',
        '',
      ].join('\n'),
      repository,
      tag: 'job',
      tlsVerify: false,
      buildArgs: { MESSAGE: "it's $(quoted)" },
      activeDeadlineSeconds: 600,
      labels: {},
    });
    const container = (job as any).spec.template.spec.containers[0];
    const jobDir = await mkdtemp(join(dir, 'job-'));
    const containerfile = join(jobDir, 'Containerfile');
    await writeFile(containerfile, (configMap as any).data.Containerfile);
    // The pod's mounts, replaced by local paths; everything else is the container's own command and env.
    const env = {
      PATH: process.env.PATH,
      ...Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value])),
      CONTEXT_DIR: ctx,
      CONTAINERFILE: containerfile,
      STORAGE_DIR: join(jobDir, 'storage'),
      TERMINATION_LOG: join(jobDir, 'termination-log'),
    };
    const { stdout } = await run(container.command[0], container.command.slice(1), { env });
    expect(stdout).toContain('from the job');
    expect(stdout).toContain("message=[it's $(quoted)]");

    const message = await readFile(env.TERMINATION_LOG, 'utf8');
    const pod = { status: { containerStatuses: [{ name: 'build', state: { terminated: { exitCode: 0, message } } }] } };
    const outcome = buildJobOutcome(repository, { status: {} }, pod);
    expect(outcome).toEqual({
      state: 'succeeded',
      digest: await registryDigest(`${repository}:job`),
      image: expect.stringContaining(`${repository}@sha256:`),
    });
  });

  it('pruneCache drops the layer cache but keeps the named base image', async () => {
    const ctx = await context({ 'z.txt': 'z' });
    const file = [`FROM ${base}`, 'COPY z.txt /z.txt', 'RUN cat /z.txt', ''].join('\n');
    await builder.build(request(ctx, file, { tag: 'prune-1' }));
    const cached = request(ctx, file, { tag: 'prune-2' });
    await builder.build(cached);
    expect(cached.logs.join('')).toContain('Using cache');

    await builder.pruneCache();
    const after = request(ctx, file, { tag: 'prune-3' });
    await builder.build(after);
    expect(after.logs.join('')).not.toContain('Using cache');
  });
});

describe('startLocalRegistry', () => {
  it('removes its storage on stop and answers no more', async () => {
    requireBuildTools();
    const registry = await startLocalRegistry();
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await fetch(`http://${registry.host}/v2/`)).status).toBe(200);
    await mkdir(join(registry.dataDir, 'probe'));
    await registry.stop();
    await expect(fetch(`http://${registry.host}/v2/`)).rejects.toThrow();
    await expect(mkdir(join(registry.dataDir, 'probe'))).rejects.toThrow(/ENOENT/);
  });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
