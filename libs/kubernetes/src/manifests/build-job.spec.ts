import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGolden as expectGoldenFile } from '../../../../test/support/golden';
import { CASES, fullOptions, minimalOptions } from './__fixtures__/build-job-options';
import { BUILD_CONTAINER, CLONE_CONTAINER, buildJobManifest, buildJobName, type BuildJobOptions } from './build-job';
import type { KubeObject } from './types';
import { toYaml } from './yaml';

const run = promisify(execFile);
const GOLDEN_DIR = join(__dirname, '__golden__');

function objects(opts: BuildJobOptions): KubeObject[] {
  const { configMap, job } = buildJobManifest(opts);
  return [configMap, job];
}

function expectGolden(name: string, actual: string): void {
  expectGoldenFile(GOLDEN_DIR, `${name}.yaml`, actual);
}

// Loosely typed views of the built Job, for assertions.
function podSpec(opts: BuildJobOptions): any {
  return (buildJobManifest(opts).job as any).spec.template.spec;
}

describe('buildJobManifest golden files', () => {
  for (const [name, options] of Object.entries(CASES)) {
    it(`${name} matches __golden__/${name}.yaml`, () => {
      expectGolden(name, toYaml(objects(options())));
    });
  }

  it('is deterministic', () => {
    for (const options of Object.values(CASES)) expect(toYaml(objects(options()))).toBe(toYaml(objects(options())));
  });
});

describe('buildJobManifest contents', () => {
  it('clones with the token from the Secret only: no container argument or plain env value carries it', () => {
    const spec = podSpec(fullOptions());
    const clone = spec.initContainers[0];
    expect(clone.name).toBe(CLONE_CONTAINER);
    expect(clone.env.find((e: any) => e.name === 'GIT_TOKEN')).toEqual({
      name: 'GIT_TOKEN',
      valueFrom: { secretKeyRef: { name: 'build-6f1c1a52-source', key: 'installation-token' } },
    });
    expect(clone.env.find((e: any) => e.name === 'GIT_URL').value).toBe('https://github.com/example/web.git');
    expect(clone.command.join(' ')).toContain('git fetch -q --depth 1 origin "$GIT_COMMIT"');
    for (const container of [...spec.initContainers, ...spec.containers]) {
      expect(JSON.stringify(container.command)).not.toMatch(/secretKeyRef|installation-token/);
    }
  });

  it('runs rootless buildah on vfs with chroot isolation, the registry layer cache and the build args as arguments', () => {
    const spec = podSpec(fullOptions());
    const build = spec.containers[0];
    expect(build.name).toBe(BUILD_CONTAINER);
    const [shell, flag, script, argv0, ...args] = build.command;
    expect([shell, flag, argv0]).toEqual(['/bin/sh', '-c', 'build']);
    expect(script).toContain('--storage-driver vfs build --isolation chroot --layers');
    expect(script).toContain('--cache-from "$CACHE_REPOSITORY" --cache-to "$CACHE_REPOSITORY"');
    expect(script).toContain('--tls-verify=false');
    expect(script).toContain('cat "$STORAGE_DIR/digest" > "$TERMINATION_LOG"');
    expect(build.env).toContainEqual({ name: 'TERMINATION_LOG', value: '/dev/termination-log' });
    expect(build.terminationMessagePath).toBe('/dev/termination-log');
    // Sorted, passed as "$@": the shell never parses their values.
    expect(args).toEqual(['--build-arg', 'APP_VERSION=1.2.3 "quoted" $(not-expanded)', '--build-arg', 'NODE_ENV=production']);
    expect(build.env).toEqual(
      expect.arrayContaining([
        { name: 'IMAGE', value: `${fullOptions().repository}:0123456` },
        { name: 'CONTEXT_DIR', value: '/workspace/source/services/api' },
        { name: 'REGISTRY_AUTH_FILE', value: '/workspace/registry-auth/.dockerconfigjson' },
      ]),
    );
    expect(build.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      capabilities: { drop: ['ALL'], add: ['SETUID', 'SETGID'] },
    });
    expect(build.securityContext.privileged).toBeUndefined();
    expect(build.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    expect(spec.volumes.find((v: any) => v.name === 'registry-auth').secret.secretName).toBe('registry-push');
  });

  it('leaves out cache, auth and TLS flags when not asked for', () => {
    const build = podSpec(minimalOptions()).containers[0];
    expect(build.command[2]).not.toContain('--cache-from');
    expect(build.command[2]).toContain('--tls-verify=true');
    expect(build.command.slice(4)).toEqual([]);
    expect(build.env.map((e: any) => e.name)).not.toContain('REGISTRY_AUTH_FILE');
  });

  it('labels every object with the build id and never retries a failed build', () => {
    const { configMap, job } = buildJobManifest(minimalOptions());
    for (const labels of [configMap.metadata.labels, job.metadata.labels, (job as any).spec.template.metadata.labels]) {
      expect(labels).toMatchObject({
        'apprunner.k8s/build-id': '6f1c1a52-6d0e-4f3b-9a51-2b1d1c0e9f00',
        'apprunner.k8s/account-id': '123456789012',
      });
    }
    expect(job.metadata.name).toBe('build-6f1c1a52-6d0e-4f3b-9a51-2b1d1c0e9f00');
    expect((job as any).spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 1800, ttlSecondsAfterFinished: 3600 });
  });

  it('derives a valid Job name from any build id', () => {
    expect(buildJobName('Op_ABC.1')).toBe('build-op-abc-1');
    expect(buildJobName('x'.repeat(100))).toHaveLength(63);
    expect(() => buildJobName('___')).toThrow(/no valid Job name/);
  });

  it('rejects inputs that would build the wrong thing or leak the token', () => {
    const bad =
      (patch: Partial<BuildJobOptions>): (() => unknown) =>
      () =>
        buildJobManifest({ ...minimalOptions(), ...patch });
    expect(bad({ commit: '0123456' })).toThrow(/full lowercase hex sha/);
    expect(bad({ sourceDirectory: 'api/../../etc' })).toThrow(/inside the repository/);
    expect(bad({ gitCloneUrl: 'https://x-access-token:ghs_abc@github.com/example/web.git' })).toThrow(/must not carry credentials/);
    expect(bad({ gitCloneUrl: 'git@github.com:example/web.git' })).toThrow(/not a URL|http\(s\)/);
    expect(bad({ repository: 'Registry.example.com/UPPER' })).toThrow(/lowercase/);
    expect(bad({ cacheRepository: 'cache' })).toThrow(/Invalid cacheRepository/);
    expect(bad({ buildArgs: { 'BAD-NAME': 'x' } })).toThrow(/Build argument name/);
    expect(bad({ activeDeadlineSeconds: 0 })).toThrow(/activeDeadlineSeconds/);
  });
});

/** Environment of a container (plain values only) with overrides, for running its script on this machine. */
function containerEnv(container: { env: { name: string; value?: string }[] }, overrides: Record<string, string>): NodeJS.ProcessEnv {
  const values = Object.fromEntries(container.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
  return { PATH: process.env.PATH, ...values, ...overrides };
}

describe("the clone init container script (run with this machine's git)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'apprunner-clone-spec-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const git = (cwd: string, ...args: string[]) => run('git', ['-c', 'user.email=dev@example.com', '-c', 'user.name=dev', ...args], { cwd });

  it('shallow-fetches exactly the requested commit, even when it is not the branch tip', async () => {
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    await git(repo, 'init', '-q');
    writeFileSync(join(repo, 'version.txt'), 'one\n');
    await git(repo, 'add', 'version.txt');
    await git(repo, 'commit', '-q', '-m', 'one');
    const wanted = (await git(repo, 'rev-parse', 'HEAD')).stdout.trim();
    writeFileSync(join(repo, 'version.txt'), 'two\n');
    await git(repo, 'commit', '-q', '-am', 'two');

    const clone = podSpec({ ...minimalOptions(), commit: wanted }).initContainers[0];
    const source = join(dir, 'source');
    const env = containerEnv(clone, { GIT_URL: `file://${repo}`, SOURCE_DIR: source, HOME: dir });
    const { stdout } = await run(clone.command[0], clone.command.slice(1), { env });
    expect(stdout).toBe(`checked out ${wanted}\n`);
    expect(readFileSync(join(source, 'version.txt'), 'utf8')).toBe('one\n');
    expect((await git(source, 'rev-list', '--count', 'HEAD')).stdout.trim()).toBe('1');

    // A commit that does not exist fails the container (and so the build) instead of building something else.
    const missing = containerEnv(clone, {
      GIT_URL: `file://${repo}`,
      SOURCE_DIR: join(dir, 'other'),
      HOME: dir,
      GIT_COMMIT: 'f'.repeat(40),
    });
    await expect(run(clone.command[0], clone.command.slice(1), { env: missing })).rejects.toThrow();
  });

  it('gives git the token from the environment through the credential helper', async () => {
    const clone = podSpec(minimalOptions()).initContainers[0];
    const env = containerEnv(clone, { GIT_TOKEN: 'ghs_secret-token', HOME: dir });
    const child = run('git', ['credential', 'fill'], { env });
    child.child.stdin?.end('protocol=https\nhost=github.com\npath=example/web.git\n\n');
    const { stdout } = await child;
    expect(stdout).toContain('username=x-access-token\n');
    expect(stdout).toContain('password=ghs_secret-token\n');
  });
});
