import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { BuildOutput } from './output';
import { runProcess, type RunOutcome } from './process';
import { assertImageTarget, isDigest } from '@apprunner/registry';
import { BuildFailedError, type BuildRequest, type BuildResult, type BuildDriver } from './types';

export interface BuildahDriverOptions {
  /** containers-storage root. Keep it between builds: it holds the layer cache. */
  root: string;
  runroot: string;
  /** false for a plain-HTTP or self-signed registry (pulls of base images and the push). */
  tlsVerify: boolean;
  /** containers-auth.json for the registry (see `registryAuthFile`); used to pull base images and to push. */
  authFile?: string;
  /** Default `buildah` (from PATH). */
  buildahPath?: string;
  /** Default `chroot`: needs no OCI runtime and works inside an unprivileged container. */
  isolation?: 'chroot' | 'oci' | 'rootless';
  /** Default `vfs`: works everywhere (no overlay mounts), at the cost of disk space per layer. */
  storageDriver?: 'vfs' | 'overlay';
  /** Stages built in parallel (`buildah build --jobs`). */
  jobs?: number;
  /** Between SIGTERM and SIGKILL when a build is cancelled or times out (default 5 s). */
  killGraceMs?: number;
}

const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Builds with Debian's buildah and pushes to the platform registry.
 *
 * The image is built without a local name (`--iidfile`) and pushed by image id: parallel builds of the same
 * repository and tag cannot race on a local name and no names pile up in storage, while the built image and
 * its intermediate layers stay in the store as the layer cache (`--layers`). `pruneCache` drops that cache.
 */
export class BuildahDriver implements BuildDriver {
  private readonly buildah: string;

  constructor(private readonly opts: BuildahDriverOptions) {
    if (!isAbsolute(opts.root) || !isAbsolute(opts.runroot)) {
      throw new TypeError(
        `BuildahDriver: root and runroot must be absolute paths (got ${JSON.stringify(opts.root)}, ${JSON.stringify(opts.runroot)})`,
      );
    }
    if (opts.jobs !== undefined && !(Number.isInteger(opts.jobs) && opts.jobs >= 1)) {
      throw new TypeError(`BuildahDriver: jobs must be a positive integer (got ${opts.jobs})`);
    }
    this.buildah = opts.buildahPath ?? 'buildah';
  }

  async build(req: BuildRequest): Promise<BuildResult> {
    assertImageTarget(req.repository, req.tag);
    if (!isAbsolute(req.contextDir)) throw new TypeError(`contextDir must be an absolute path (got ${JSON.stringify(req.contextDir)})`);
    const buildArgs = Object.entries(req.buildArgs ?? {});
    const badArg = buildArgs.find(([name]) => !BUILD_ARG_NAME.test(name));
    if (badArg) throw new TypeError(`Build argument name ${JSON.stringify(badArg[0])} must match ${BUILD_ARG_NAME.source}`);

    const started = Date.now();
    const deadline = req.timeoutMs === undefined ? undefined : started + req.timeoutMs;
    const output = new BuildOutput();
    const log = (chunk: string): void => {
      output.push(chunk);
      try {
        req.onLog?.(chunk);
      } catch {
        // A failing log sink must not fail or hang the build.
      }
    };

    if (!(await isDirectory(req.contextDir))) {
      throw new BuildFailedError(`source directory ${req.contextDir} does not exist or is not a directory`, '', 'build');
    }

    const work = await mkdtemp(join(tmpdir(), `apprunner-build-${req.buildId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40)}-`));
    try {
      const containerfile = join(work, 'Containerfile');
      const iidFile = join(work, 'image-id');
      const digestFile = join(work, 'digest');
      await writeFile(containerfile, req.containerfile);

      const built = await this.run(
        [
          'build',
          '--isolation',
          this.opts.isolation ?? 'chroot',
          '--layers',
          // Failed builds would otherwise leave their working container (a full rootfs copy with vfs) behind.
          '--force-rm',
          `--tls-verify=${this.opts.tlsVerify}`,
          ...this.authArgs(),
          ...(this.opts.jobs ? ['--jobs', String(this.opts.jobs)] : []),
          ...buildArgs.flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
          '--iidfile',
          iidFile,
          '-f',
          containerfile,
          req.contextDir,
        ],
        log,
        req.signal,
        deadline,
      );
      this.throwIfStopped(built, req, output);
      if (built.exitCode !== 0) throw new BuildFailedError(output.buildFailureReason(built.exitCode), output.tail(), 'build');
      const imageId = (await readOptional(iidFile))?.trim();
      if (!imageId) throw new BuildFailedError('buildah build succeeded but wrote no image id', output.tail(), 'builder');

      const pushOutput = new BuildOutput();
      const target = `${req.repository}:${req.tag}`;
      const pushed = await this.run(
        ['push', `--tls-verify=${this.opts.tlsVerify}`, ...this.authArgs(), '--digestfile', digestFile, imageId, `docker://${target}`],
        (chunk) => {
          pushOutput.push(chunk);
          log(chunk);
        },
        req.signal,
        deadline,
      );
      this.throwIfStopped(pushed, req, output);
      if (pushed.exitCode !== 0) {
        const why = pushOutput.lastError() ?? `buildah push exited with code ${pushed.exitCode}`;
        throw new BuildFailedError(`push to ${target} failed: ${why}`, output.tail(), 'push');
      }
      const digest = (await readOptional(digestFile))?.trim() ?? '';
      if (!isDigest(digest))
        throw new BuildFailedError(`buildah push wrote no valid digest (got ${JSON.stringify(digest)})`, output.tail(), 'builder');
      return { digest, image: `${req.repository}@${digest}`, durationMs: Date.now() - started };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Removes every cached layer and built image that has no name (base images pulled by name stay).
   * Run it between builds, e.g. when the storage root grows past a limit: a running build holds layers it uses.
   */
  async pruneCache(): Promise<void> {
    const output = new BuildOutput();
    const outcome = await this.run(['rmi', '--prune'], (chunk) => output.push(chunk));
    if (outcome.exitCode !== 0)
      throw new Error(`buildah rmi --prune failed (exit code ${outcome.exitCode}): ${output.lastError() ?? output.tail()}`);
  }

  private authArgs(): string[] {
    return this.opts.authFile ? ['--authfile', this.opts.authFile] : [];
  }

  private async run(args: string[], onOutput: (chunk: string) => void, signal?: AbortSignal, deadline?: number): Promise<RunOutcome> {
    const global = ['--root', this.opts.root, '--runroot', this.opts.runroot, '--storage-driver', this.opts.storageDriver ?? 'vfs'];
    try {
      return await runProcess(this.buildah, [...global, ...args], { onOutput, signal, deadline, killGraceMs: this.opts.killGraceMs });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? `${this.buildah} not found (install Debian's buildah package)`
          : `cannot run ${this.buildah}: ${(err as Error).message}`;
      throw new BuildFailedError(why, '', 'builder');
    }
  }

  private throwIfStopped(outcome: RunOutcome, req: BuildRequest, output: BuildOutput): void {
    if (outcome.stopped === 'cancelled') throw new BuildFailedError('build cancelled', output.tail(), 'cancelled');
    if (outcome.stopped === 'timeout')
      throw new BuildFailedError(`build timed out after ${formatSeconds(req.timeoutMs ?? 0)}`, output.tail(), 'timeout');
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

function formatSeconds(ms: number): string {
  return `${ms < 10_000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)} s`;
}
