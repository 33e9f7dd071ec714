import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan, type BuildPlan, type EffectiveBuildConfig } from '@apprunner/build-plan';

/**
 * Builds the planned Containerfiles for real, with buildah on a busybox base made here, in a private
 * storage directory (vfs) that afterAll deletes. Needs root, buildah and busybox-static: skipped otherwise, saying why,
 * and failed with CI=true.
 */
const BUILDAH = '/usr/bin/buildah';
const BUSYBOX = '/bin/busybox';
const missing = [
  ...(existsSync(BUILDAH) ? [] : ['buildah (Debian package buildah)']),
  ...(existsSync(BUSYBOX) ? [] : ['/bin/busybox (Debian package busybox-static)']),
  ...(process.getuid?.() === 0 ? [] : ['root']),
];
// with CI=true a machine without them fails the suite (in beforeAll) instead of skipping it
const canBuild = missing.length === 0 || process.env.CI === 'true';
const BASE = 'localhost/build-plan-base:test';

describe.skipIf(!canBuild)(`buildah builds the planned Containerfiles${canBuild ? '' : ` (skipped: needs ${missing.join(', ')})`}`, () => {
  let dir: string;
  let checkout: string;

  function buildah(args: string[]): string {
    return execFileSync(BUILDAH, ['--root', join(dir, 'storage'), '--runroot', join(dir, 'runroot'), '--storage-driver', 'vfs', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
  }

  /** Builds the plan; returns the build log, the image config and a reader of files in the image. */
  function build(name: string, plan: BuildPlan) {
    const containerfile = join(dir, `${name}.Containerfile`);
    writeFileSync(containerfile, plan.containerfile);
    const log = buildah([
      'build',
      '--isolation',
      'chroot',
      '-f',
      containerfile,
      '-t',
      `localhost/build-plan-${name}:test`,
      join(checkout, plan.contextDirectory),
    ]);
    const inspect = JSON.parse(buildah(['inspect', '--type', 'image', `localhost/build-plan-${name}:test`]));
    const container = buildah(['from', `localhost/build-plan-${name}:test`]).trim();
    const rootfs = buildah(['mount', container]).trim();
    const read = (path: string) => (existsSync(join(rootfs, path)) ? readFileSync(join(rootfs, path), 'utf8') : undefined);
    return { log, config: inspect.OCIv1.config as { Env?: string[]; Cmd?: string[]; ExposedPorts?: Record<string, object> }, read };
  }

  const commands: Partial<EffectiveBuildConfig> = {
    buildEnv: { GREETING: 'say "hi" to $USER \\o/' },
    preBuild: ['printf %s "$GREETING" > /app/pre-build.txt', 'echo outside > /outside.txt'],
    build: ['cat app.txt > built.txt'],
    postBuild: ['echo POST-BUILD-RAN', 'touch /app/post-build.txt'],
    startCommand: 'cat /app/built.txt',
    port: 8000,
    portEnvName: 'APP_PORT',
    runtimeEnv: { RUNTIME_ONLY: 'not in the image' },
    runtimeSecrets: {},
  };

  beforeAll(() => {
    if (missing.length > 0) throw new Error(`buildah builds need ${missing.join(', ')} (scripts/setup/services.sh installs the packages)`);
    dir = mkdtempSync(join(tmpdir(), 'build-plan-buildah-'));
    const base = join(dir, 'base');
    mkdirSync(base);
    copyFileSync(BUSYBOX, join(base, 'busybox'));
    writeFileSync(
      join(base, 'Containerfile'),
      ['FROM scratch', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]', 'ENV PATH=/bin'].join('\n'),
    );
    buildah(['build', '--isolation', 'chroot', '-t', BASE, base]);
    checkout = join(dir, 'checkout');
    mkdirSync(join(checkout, 'services/web'), { recursive: true });
    mkdirSync(join(checkout, 'other'));
    writeFileSync(join(checkout, 'services/web/app.txt'), 'hello');
    writeFileSync(join(checkout, 'other/private.txt'), 'not part of the source directory');
  }, 120_000);

  afterAll(() => {
    if (!dir) return;
    try {
      buildah(['rm', '--all']);
      buildah(['rmi', '--all', '--force']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('revised build: only /app and pre-run reach the run image; post-build runs; build env stays out', () => {
    const plan = buildPlan(
      { runtime: 'NODEJS_22', ...commands, preRun: ['printf %s "$GREETING" > /pre-run.txt'] } as EffectiveBuildConfig,
      { baseImage: BASE, sourceDirectory: '/services/web' },
    );
    const { log, config, read } = build('revised', plan);
    expect(log).toContain('POST-BUILD-RAN');
    expect(read('/app/app.txt')).toBe('hello');
    expect(read('/app/built.txt')).toBe('hello');
    expect(read('/app/pre-build.txt')).toBe('say "hi" to $USER \\o/');
    expect(read('/pre-run.txt')).toBe('say "hi" to $USER \\o/');
    expect(read('/outside.txt')).toBeUndefined(); // written by pre-build outside /app: lost, as the guide says
    expect(read('/app/post-build.txt')).toBeUndefined(); // post-build results stay out of the run image
    expect(read('/app/private.txt')).toBeUndefined();
    expect(read('/app/other/private.txt')).toBeUndefined();
    expect(config.Env).toContain('APP_PORT=8000');
    expect(config.Env?.some((e) => e.startsWith('GREETING=') || e.startsWith('RUNTIME_ONLY='))).toBe(false);
    expect(config.Cmd).toEqual(['/bin/sh', '-c', 'cat /app/built.txt']);
    expect(Object.keys(config.ExposedPorts ?? {})).toEqual(['8000/tcp']);
  }, 120_000);

  it('original build: one stage, every phase leaves its results, build env stays out', () => {
    const plan = buildPlan({ runtime: 'CORRETTO_11', ...commands, preRun: [] } as EffectiveBuildConfig, {
      baseImage: BASE,
      sourceDirectory: 'services/web',
    });
    const { log, config, read } = build('original', plan);
    expect(log).toContain('POST-BUILD-RAN');
    expect(read('/app/built.txt')).toBe('hello');
    expect(read('/app/pre-build.txt')).toBe('say "hi" to $USER \\o/');
    expect(read('/outside.txt')).toBe('outside\n');
    expect(read('/app/post-build.txt')).toBe('');
    expect(config.Env?.some((e) => e.startsWith('GREETING='))).toBe(false);
    expect(config.Env).toContain('APP_PORT=8000');
  }, 120_000);
});
