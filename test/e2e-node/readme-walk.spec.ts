import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKube } from '../support/cluster';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { onRealNode, testRealNode } from '../support/real-node';
import { runReadmeWalk } from '../support/readme-walk';

const ROOT = join(__dirname, '../..');
const node = testRealNode();
const say = (line: string) => process.stderr.write(`[real node readme] ${line}\n`);

/**
 * The README's walk as `npm run platform` runs it where the machine can run a real node: the walk's app built by
 * scripts/image/sample-app.sh into the node's registry and named in `.tmp/platform.env` with the gateway, the platform
 * configured from `npm run cluster -- env`'s variables (Traefik's Ingress class, the local CA's issuer). The walk ends
 * with the app's page, fetched through Traefik by the service's URL.
 */
describe.skipIf(!node)(onRealNode('the README walk on the real node'), () => {
  let platform: TestPlatform;
  let image: string;

  beforeAll(async () => {
    const begun = Date.now();
    const built = await promisify(execFile)('bash', [join(ROOT, 'scripts/image/sample-app.sh'), node!.node.registry], { cwd: ROOT });
    image = built.stdout.trim().split('\n').pop()!;
    say(`sample app ${image} built and pushed in ${((Date.now() - begun) / 1000).toFixed(1)} s`);
    platform = await startTestPlatform({
      cluster: { info: node! },
      pollMs: 200,
      env: {
        KUBE_INGRESS_CLASS: node!.gateway.ingressClass,
        KUBE_INGRESS_NAMESPACE: node!.gateway.gateway.namespace,
        KUBE_CERT_ISSUER: node!.issuers.ca,
      },
    });
  }, 300_000);
  afterAll(async () => {
    const tenants = await platform?.prisma.tenant.findMany({ select: { accountId: true } });
    await platform?.close();
    const kube = await adminKube(node!);
    for (const t of tenants ?? [])
      await kube.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `apprunner-${t.accountId}` } }).catch(() => undefined);
  });

  it('takes a tenant to a RUNNING service whose URL answers with the app through Traefik', async () => {
    const begun = Date.now();
    const { code, stdout, stderr } = await runReadmeWalk({
      api: platform.url,
      adminToken: platform.config.ADMIN_TOKEN,
      platformEnv: { SAMPLE_IMAGE: image, GATEWAY: `http://${node!.gateway.http}` },
      timeoutSeconds: 180,
    });
    say(`walk ${code === 0 ? 'done' : 'failed'} in ${((Date.now() - begun) / 1000).toFixed(1)} s`);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^hello\tRUNNING\t[a-z0-9]+\.us-east-1\.apprunner\.test\n/);
    expect(stdout.endsWith('Hello from App Runner on Kubernetes\n')).toBe(true);
    const services = JSON.parse(stdout.slice(stdout.indexOf('{'), stdout.lastIndexOf('}') + 1));
    expect(services.ServiceSummaryList).toEqual([expect.objectContaining({ ServiceName: 'hello', Status: 'RUNNING' })]);
  }, 240_000);
});
