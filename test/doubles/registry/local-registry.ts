/**
 * Test support for builds against real tools: a throwaway OCI registry (Debian's docker-registry) and a tiny
 * busybox base image, so RUN steps work without pulling anything from the internet. Used by this library's specs,
 * end-to-end tests and benchmarks.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, openSync, readSync, closeSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import YAML from 'yaml';
import { BuildahDriver, type BuildahDriverOptions } from '@apprunner/build-driver';

export const DOCKER_REGISTRY_PATH = '/usr/bin/docker-registry';
export const BUSYBOX_PATH = '/bin/busybox';
/** Debian packages providing every tool these helpers and the build specs run. */
export const BUILD_TOOL_PACKAGES = ['buildah', 'skopeo', 'docker-registry', 'busybox-static', 'apache2-utils'];

/**
 * Throws one clear error listing every missing tool and the apt packages to install. Specs call it in `beforeAll`
 * so that a machine without the tools fails loudly instead of skipping the build tests.
 */
export function requireBuildTools(): void {
  const missing: string[] = [];
  const need = (what: string, found: boolean, pkg: string): void => void (found || missing.push(`${what} (Debian package ${pkg})`));
  need('buildah', findOnPath('buildah') !== undefined, 'buildah');
  need('skopeo', findOnPath('skopeo') !== undefined, 'skopeo');
  need(DOCKER_REGISTRY_PATH, isExecutable(DOCKER_REGISTRY_PATH), 'docker-registry');
  need('htpasswd', findOnPath('htpasswd') !== undefined, 'apache2-utils');
  need(`a statically linked ${BUSYBOX_PATH}`, isExecutable(BUSYBOX_PATH) && isStaticElf(BUSYBOX_PATH), 'busybox-static');
  if (missing.length > 0) {
    throw new Error(
      `Image build tests need tools that are missing: ${missing.join(', ')}. Install them with: apt-get install -y ${BUILD_TOOL_PACKAGES.join(' ')}`,
    );
  }
}

export interface LocalRegistryOptions {
  /** Require basic auth with this user (bcrypt htpasswd entry generated with `htpasswd -B`). */
  htpasswd?: { user: string; password: string };
  /** The registry's `notifications.endpoints`: it POSTs push/pull events to this URL. */
  notifications?: { url: string; headers?: Record<string, string> };
}

export interface LocalRegistry {
  /** `127.0.0.1:<port>` (plain HTTP: use `tlsVerify: false`). */
  host: string;
  /** Filesystem storage root; removed by `stop`. */
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Runs `docker-registry serve` on a free loopback port (the registry binds `127.0.0.1:0` and logs the port it got,
 * so there is no race for a port) and waits until `GET /v2/` answers.
 */
export async function startLocalRegistry(opts: LocalRegistryOptions = {}): Promise<LocalRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'apprunner-registry-'));
  const dataDir = join(dir, 'data');
  try {
    await mkdir(dataDir);
    const config: Record<string, unknown> = {
      version: 0.1,
      log: { level: 'info', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: dataDir }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
      http: { addr: '127.0.0.1:0', secret: randomBytes(16).toString('hex') },
    };
    if (opts.htpasswd) {
      const path = join(dir, 'htpasswd');
      await writeFile(path, await htpasswdEntry(opts.htpasswd.user, opts.htpasswd.password));
      config.auth = { htpasswd: { realm: 'apprunner-local-registry', path } };
    }
    if (opts.notifications) {
      const headers = Object.fromEntries(Object.entries(opts.notifications.headers ?? {}).map(([k, v]) => [k, [v]]));
      config.notifications = {
        endpoints: [{ name: 'apprunner', url: opts.notifications.url, headers, timeout: '2s', threshold: 3, backoff: '1s' }],
      };
    }
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, YAML.stringify(config));

    // REGISTRY_* variables override the config file; none of the caller's may leak in.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
    const child = spawn(DOCKER_REGISTRY_PATH, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const killOnExit = (): void => void child.kill('SIGKILL');
    process.once('exit', killOnExit);
    let host: string;
    try {
      host = await listeningAddress(child);
      await waitForV2(host, child);
    } catch (err) {
      process.removeListener('exit', killOnExit);
      await stopChild(child);
      throw err;
    }
    return {
      host,
      dataDir,
      stop: async () => {
        process.removeListener('exit', killOnExit);
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Storage options of the builder that builds the base image (its layer cache makes rebuilds instant). */
export type BaseBuildDriverOptions = Pick<BuildahDriverOptions, 'root' | 'runroot' | 'storageDriver' | 'buildahPath' | 'authFile'> & {
  tlsVerify?: boolean;
};

export const BASE_IMAGE_PATH = 'platform/busybox';
const baseImages = new Map<string, Promise<string>>();

/**
 * Pushes `<registryHost>/platform/busybox:1`: `FROM scratch`, the host's static busybox and its applets linked
 * into /bin, so RUN steps have /bin/sh. Built once per storage root and registry in this process.
 */
export function buildBaseImage(registryHost: string, builder: BaseBuildDriverOptions): Promise<string> {
  const key = `${builder.root}\n${registryHost}`;
  let image = baseImages.get(key);
  if (!image) {
    image = pushBaseImage(registryHost, builder);
    baseImages.set(key, image);
    image.catch(() => baseImages.delete(key));
  }
  return image;
}

async function pushBaseImage(registryHost: string, opts: BaseBuildDriverOptions): Promise<string> {
  if (!isStaticElf(BUSYBOX_PATH)) throw new Error(`${BUSYBOX_PATH} is missing or not statically linked (install Debian's busybox-static)`);
  const context = await mkdtemp(join(tmpdir(), 'apprunner-busybox-'));
  try {
    await copyFile(BUSYBOX_PATH, join(context, 'busybox'));
    const builder = new BuildahDriver({ ...opts, tlsVerify: opts.tlsVerify ?? false });
    const repository = `${registryHost}/${BASE_IMAGE_PATH}`;
    await builder.build({
      buildId: 'base-busybox',
      contextDir: context,
      containerfile: ['FROM scratch', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]', ''].join('\n'),
      repository,
      tag: '1',
    });
    return `${repository}:1`;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

/** The manifest digest the registry serves for `reference` (`host/path:tag`), read with skopeo. */
export async function registryDigest(reference: string, opts: { tlsVerify?: boolean; authFile?: string } = {}): Promise<string> {
  const args = [
    'inspect',
    `--tls-verify=${opts.tlsVerify ?? false}`,
    ...(opts.authFile ? ['--authfile', opts.authFile] : []),
    `docker://${reference}`,
  ];
  const stdout = await execFileText('skopeo', args);
  const digest = (JSON.parse(stdout) as { Digest?: unknown }).Digest;
  if (typeof digest !== 'string') throw new Error(`skopeo inspect ${reference}: no Digest in its output`);
  return digest;
}

/** `user:<bcrypt>` line, as the registry's htpasswd auth requires bcrypt (cost 4: this is for tests). */
async function htpasswdEntry(user: string, password: string): Promise<string> {
  const htpasswd = findOnPath('htpasswd');
  if (!htpasswd) throw new Error("htpasswd not found: install Debian's apache2-utils to start a registry with basic auth");
  // -i: the password comes on stdin, never in the arguments.
  const line = await execFileText(htpasswd, ['-niBC', '4', user], password);
  return `${line.trim()}\n`;
}

function execFileText(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function listeningAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`docker-registry did not report its address within 10 s:\n${output.slice(-2000)}`)),
      10_000,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /listening on (127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        done();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null): void =>
      fail(new Error(`docker-registry exited with code ${code} before listening:\n${output.slice(-2000)}`));
    const done = (): void => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      // Keep draining its output so a chatty registry never blocks on a full pipe.
      child.stderr?.resume();
      child.stdout?.resume();
    };
    const fail = (err: Error): void => {
      done();
      reject(err);
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (err) =>
      fail(new Error(`cannot start ${DOCKER_REGISTRY_PATH}: ${err.message} (install Debian's docker-registry)`)),
    );
  });
}

async function waitForV2(host: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + 10_000;
  let last = '';
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with code ${child.exitCode}`);
    try {
      // 401 counts: with htpasswd auth the registry is up and asking for credentials.
      const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry at ${host} did not answer GET /v2/ within 10 s (${last})`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True for a 64-bit little-endian ELF with no PT_INTERP program header (no dynamic loader needed in `FROM scratch`). */
function isStaticElf(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(64);
    if (readSync(fd, header, 0, 64, 0) < 64 || header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return false;
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === PT_INTERP) return false;
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
