/**
 * Regenerates libs/registry/src/__fixtures__/notifications.docker-registry-<version>.json: the bodies the real docker-registry
 * POSTs to its notifications endpoint while skopeo pushes one image and one image index, then inspects.
 *   npx vite-node -c vitest.config.mts test/doubles/registry/capture-notifications.cli.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skopeoDigest, skopeoPush, startRegistry, writeOciLayout } from './docker-registry';

async function main(): Promise<void> {
  const version =
    /([\d.]+)\+?\S*\s*$/.exec(execFileSync('/usr/bin/docker-registry', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const tmp = mkdtempSync(join(tmpdir(), 'capture-notifications-'));
  const deliveries: unknown[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => (deliveries.push(JSON.parse(body)), res.end()));
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/registry/notifications`;
  const registry = await startRegistry({ dir: tmp, htpasswd: { alice: 's3cret' }, notify: { url, bearer: 'x'.repeat(20) } });
  try {
    const single = writeOciLayout(join(tmp, 'single'), 'fixture single');
    const index = writeOciLayout(join(tmp, 'index'), 'fixture multi', { index: true });
    await skopeoPush(join(tmp, 'single'), `${registry.host}/team/app:v1`, { creds: 'alice:s3cret' });
    await skopeoPush(join(tmp, 'index'), `${registry.host}/team/app:multi`, { creds: 'alice:s3cret', all: true });
    await skopeoDigest(`${registry.host}/team/app:v1`, 'alice:s3cret');
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // deliveries are asynchronous
    const file = join(__dirname, '../../../libs/registry/src/__fixtures__', `notifications.docker-registry-${version}.json`);
    writeFileSync(file, `${JSON.stringify({ single, index, host: registry.host, deliveries }, null, 2)}\n`);
    console.log(`${deliveries.length} deliveries → ${file}`);
  } finally {
    await registry.stop();
    hook.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

void main();
