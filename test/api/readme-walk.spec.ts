import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKube, onRealCluster, testCluster } from '../support/real-cluster';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { runReadmeWalk } from '../support/readme-walk';

const cluster = testCluster();

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
    const { code, stdout, stderr } = await runReadmeWalk({ api: platform.url, adminToken: platform.config.ADMIN_TOKEN });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^hello\tRUNNING\t[a-z0-9]+\.us-east-1\.apprunner\.test\n/);
    const services = JSON.parse(stdout.slice(stdout.indexOf('{')));
    expect(services.ServiceSummaryList).toEqual([expect.objectContaining({ ServiceName: 'hello', Status: 'RUNNING' })]);
  }, 150_000);
});
