import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKube, onRealCluster, testCluster } from '../support/real-cluster';
import { startTestPlatform, type TestPlatform } from '../support/platform';

const ROOT = join(__dirname, '../..');
const cluster = testCluster();

/** The first ```sh block of the README's "Using it" section: the copy-paste walk from a tenant to a RUNNING service. */
function readmeWalk(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using it'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md has no ```sh block under "## Using it"');
  return block[1];
}

/** The README's walk, run by bash as it stands, against a platform (API + worker) on the real test cluster. */
describe.skipIf(!cluster)(onRealCluster('the README walk'), () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform({ cluster: { info: cluster! }, pollMs: 200 });
  });
  afterAll(async () => {
    const tenants = await platform?.prisma.tenant.findMany({ select: { accountId: true } });
    await platform?.close();
    const kube = await adminKube(cluster!);
    for (const t of tenants ?? [])
      await kube.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `apprunner-${t.accountId}` } }).catch(() => undefined);
  });

  it('takes a tenant to a RUNNING service with curl and the AWS CLI', async () => {
    const script = `set -euo pipefail\n${readmeWalk()}`;
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      // bounded: the walk's wait loop ends when the service is RUNNING, or this kills it
      const child = spawn('timeout', ['120', 'bash', '-c', script], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          API: platform.url,
          ADMIN_TOKEN: platform.config.ADMIN_TOKEN,
        },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^hello\tRUNNING\t[a-z0-9]+\.us-east-1\.apprunner\.test\n/);
    const services = JSON.parse(stdout.slice(stdout.indexOf('{')));
    expect(services.ServiceSummaryList).toEqual([expect.objectContaining({ ServiceName: 'hello', Status: 'RUNNING' })]);
  }, 150_000);
});
