import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateServiceCommand, DescribeServiceCommand } from '@aws-sdk/client-apprunner';
import { type BareRepo, createBareRepo, pushPayload, signedWebhookRequest } from '../doubles/github';
import { type CodeStack, startCodeStack } from '../support/code-stack';
import type { TestTenant } from '../support/platform';
import { gatewayGet, onRealNode, testRealNode } from '../support/real-node';
import { waitFor } from '../support/wait';

const INSTALLATION = 4343;
const node = testRealNode();
const say = (line: string) => process.stderr.write(`[real node code] ${line}\n`);

const appYaml = `version: 1.0
runtime: nodejs18
build:
  commands:
    build:
      - echo "built from $(cat /app/version.txt)" > /app/index.html
run:
  command: httpd -f -p 8080 -h /app
  network:
    port: 8080
`;

/**
 * A code-based service on the real node: the local GitHub stand-in serves the repository, the platform builds it with
 * buildah (in the worker process), pushes it to a loopback registry, and the real node pulls and runs it; a signed
 * push of a new commit builds and deploys it, and the service URL answers with the new body through Traefik.
 */
describe.skipIf(!node)(onRealNode('a code-based service on the real node: git push → build → pod → Traefik'), { timeout: 300_000 }, () => {
  let stack: CodeStack;
  let repo: BareRepo;
  let tenant: TestTenant;
  let serviceArn: string;
  let url: string;

  beforeAll(async () => {
    stack = await startCodeStack({
      installations: [{ id: INSTALLATION, account: 'acme', repositories: ['acme/site'] }],
      seed: async (reposDir) => {
        repo = await createBareRepo(reposDir, 'acme/site', { 'apprunner.yaml': appYaml, 'version.txt': 'commit one\n' });
      },
      env: {
        KUBE_INGRESS_CLASS: node!.gateway.ingressClass,
        KUBE_INGRESS_NAMESPACE: node!.gateway.gateway.namespace,
        KUBE_PROGRESS_DEADLINE_SECONDS: '60',
      },
      cluster: node!,
    });
    tenant = await stack.platform.newTenant('real-node-code');
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
  }, 120_000);

  const status = async () => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: serviceArn }))).Service!.Status;
  const answers = (body: string) =>
    waitFor(
      async () => {
        const r = await gatewayGet(node!.gateway.http, url);
        return r.status === 200 && r.body.trim() === body ? r : undefined;
      },
      `${url} to answer "${body}"`,
      240_000,
    );

  it('builds the repository, runs it on the node and serves it; a push deploys the new commit', async () => {
    const begun = Date.now();
    const connectionArn = await stack.connect(tenant, 'acme-github', INSTALLATION);
    const created = await tenant.client.send(
      new CreateServiceCommand({
        ServiceName: 'site',
        SourceConfiguration: {
          CodeRepository: {
            RepositoryUrl: `${stack.github.webUrl}/acme/site`,
            SourceCodeVersion: { Type: 'BRANCH', Value: 'main' },
            CodeConfiguration: { ConfigurationSource: 'REPOSITORY' },
          },
          AutoDeploymentsEnabled: true,
          AuthenticationConfiguration: { ConnectionArn: connectionArn },
        },
        // the node has 2 CPUs
        InstanceConfiguration: { Cpu: '0.25 vCPU', Memory: '0.5 GB' },
      }),
    );
    serviceArn = created.Service!.ServiceArn!;
    url = created.Service!.ServiceUrl!;
    await waitFor(async () => (await status()) === 'RUNNING', 'RUNNING', 240_000);
    await answers('built from commit one');
    say(`first build deployed and served after ${((Date.now() - begun) / 1000).toFixed(1)} s`);

    const pushed = Date.now();
    const commit = await repo.commitFiles({ 'version.txt': 'commit two\n' }, 'two');
    const payload = pushPayload({
      installationId: INSTALLATION,
      repo: 'acme/site',
      webUrl: stack.github.webUrl,
      branch: 'main',
      after: commit,
      before: repo.commit,
    });
    const signed = signedWebhookRequest(stack.webhookSecret, 'push', payload, 'node-push-two');
    const res = await fetch(`${stack.platform.url}/github/webhook`, { method: 'POST', headers: signed.headers, body: signed.body });
    expect(res.status).toBe(202);
    await answers('built from commit two');
    say(`push → new body served in ${((Date.now() - pushed) / 1000).toFixed(1)} s`);
    await waitFor(async () => (await status()) === 'RUNNING', 'RUNNING after the push', 60_000);
  });
});
