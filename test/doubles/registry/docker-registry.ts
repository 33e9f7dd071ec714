/**
 * Test support: the real CNCF distribution registry (Debian's /usr/bin/docker-registry) on a loopback port,
 * hand-made OCI image layouts, and skopeo to push and inspect them.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);

export interface RegistryOptions {
  /** Temp directory owned by the test: storage, config and auth files go here. */
  dir: string;
  /** `auth.htpasswd`: user → password, hashed with bcrypt. */
  htpasswd?: Record<string, string>;
  /** `auth.token`: the token service the registry sends clients to. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** `notifications.endpoints[0]`. */
  notify?: { url: string; bearer: string };
}

export interface RunningRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  logs(): string;
  stop(): Promise<void>;
}

/** bcrypt via htpasswd (apache2-utils) when installed, else via libxcrypt's crypt(3) through perl (always on Debian). */
async function bcrypt(password: string): Promise<string> {
  if (existsSync('/usr/bin/htpasswd')) {
    const { stdout } = await run('/usr/bin/htpasswd', ['-nbB', 'u', password]);
    return stdout.trim().slice('u:'.length);
  }
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const salt = Array.from(randomBytes(22), (b) => alphabet[b % 64]).join('');
  const { stdout } = await run('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, `$2b$05$${salt}`]);
  if (!stdout.startsWith('$2b$')) throw new Error(`crypt(3) does not support bcrypt here: ${stdout}`);
  return stdout;
}

export async function startRegistry(opts: RegistryOptions): Promise<RunningRegistry> {
  const storage = join(opts.dir, 'storage');
  mkdirSync(storage, { recursive: true });
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    'http:',
    '  addr: 127.0.0.1:0',
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];
  if (opts.htpasswd) {
    const file = join(opts.dir, 'htpasswd');
    const entries = await Promise.all(Object.entries(opts.htpasswd).map(async ([user, pw]) => `${user}:${await bcrypt(pw)}`));
    writeFileSync(file, `${entries.join('\n')}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: test-registry', `    path: ${file}`);
  }
  if (opts.token) {
    const t = opts.token;
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${t.realm}`,
      `    service: ${t.service}`,
      `    issuer: ${t.issuer}`,
      `    rootcertbundle: ${t.rootCertBundle}`,
    );
  }
  if (opts.notify) {
    lines.push(
      'notifications:',
      '  endpoints:',
      '    - name: test',
      `      url: ${opts.notify.url}`,
      '      headers:',
      `        Authorization: [Bearer ${opts.notify.bearer}]`,
      '      timeout: 2s',
      '      threshold: 3',
      '      backoff: 200ms',
    );
  }
  const config = join(opts.dir, 'config.yml');
  writeFileSync(config, `${lines.join('\n')}\n`);

  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const host = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`docker-registry did not start:\n${output}`))), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`docker-registry exited with ${code}:\n${output}`))));
  });
  return {
    host,
    logs: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 3_000);
        child.once('exit', () => (clearTimeout(force), resolve()));
        child.kill('SIGTERM');
      }),
  };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A ustar archive with one regular file. */
function tar(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148); // checksum is computed with its own field as spaces
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  const sum = header.reduce((a, b) => a + b, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

/**
 * Writes an OCI image layout with one single-layer image (a file holding `marker`) tagged `tag`; with `index`,
 * the tag names an image index wrapping it, as multi-platform images do. Returns the digest the tag points at.
 */
export function writeOciLayout(dir: string, marker: string, opts: { tag?: string; index?: boolean } = {}): string {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (data: Buffer): { digest: string; size: number } => {
    const hex = sha256(data);
    writeFileSync(join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const layerTar = tar('marker.txt', Buffer.from(marker));
  const layer = put(gzipSync(layerTar));
  const config = put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layerTar)}`] },
      }),
    ),
  );
  const manifestType = 'application/vnd.oci.image.manifest.v1+json';
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: manifestType,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    ),
  );
  let top = { mediaType: manifestType, ...manifest };
  if (opts.index) {
    const indexType = 'application/vnd.oci.image.index.v1+json';
    const index = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: indexType,
          manifests: [{ mediaType: manifestType, ...manifest, platform: { architecture: 'amd64', os: 'linux' } }],
        }),
      ),
    );
    top = { mediaType: indexType, ...index };
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': opts.tag ?? 'latest' } }],
    }),
  );
  return top.digest;
}

/** `skopeo copy oci:<layout>:<tag> docker://<dest>` over plain http. */
export async function skopeoPush(
  layout: string,
  dest: string,
  opts: { tag?: string; creds?: string; format?: 'oci' | 'v2s2'; all?: boolean } = {},
): Promise<void> {
  const args = ['copy', '--quiet', '--dest-tls-verify=false'];
  if (opts.creds) args.push('--dest-creds', opts.creds);
  if (opts.format) args.push('--format', opts.format);
  if (opts.all) args.push('--all');
  await run('skopeo', [...args, `oci:${layout}:${opts.tag ?? 'latest'}`, `docker://${dest}`]);
}

/** The Digest `skopeo inspect` reports for `ref`: that of the manifest or index the tag points at. */
export async function skopeoDigest(ref: string, creds?: string): Promise<string> {
  // The platform overrides let skopeo pick the test image's one platform out of an index on any host.
  const args = ['inspect', '--tls-verify=false', '--override-os', 'linux', '--override-arch', 'amd64'];
  if (creds) args.push('--creds', creds);
  const { stdout } = await run('skopeo', [...args, `docker://${ref}`]);
  return (JSON.parse(stdout) as { Digest: string }).Digest;
}
