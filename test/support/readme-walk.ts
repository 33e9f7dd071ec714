import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/** The first ```sh block of the README's "Using it" section: the copy-paste walk from a tenant to a RUNNING service. */
export function readmeWalk(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using it'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md has no ```sh block under "## Using it"');
  return block[1];
}

/**
 * Runs the walk with bash as it stands, in a folder of its own (so a `.tmp/platform.env` left by someone's
 * `npm run platform` in the checkout plays no part): `platformEnv` is what `npm run platform` writes there with a
 * real node. Bounded: the walk's wait loop ends when the service is RUNNING, or `timeout` kills it.
 */
export async function runReadmeWalk(opts: {
  api: string;
  adminToken: string;
  platformEnv?: Record<string, string>;
  timeoutSeconds?: number;
}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'apprunner-readme-walk-'));
  try {
    if (opts.platformEnv) {
      mkdirSync(join(cwd, '.tmp'));
      writeFileSync(
        join(cwd, '.tmp', 'platform.env'),
        Object.entries(opts.platformEnv)
          .map(([k, v]) => `${k}=${v}\n`)
          .join(''),
      );
    }
    const script = `set -euo pipefail\n${readmeWalk()}`;
    return await new Promise((resolve, reject) => {
      const child = spawn('timeout', [String(opts.timeoutSeconds ?? 120), 'bash', '-c', script], {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', API: opts.api, ADMIN_TOKEN: opts.adminToken },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
