import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateServiceCommand } from '@aws-sdk/client-apprunner';
import { createBareRepo } from '../doubles/github';
import { type CodeStack, startCodeStack } from '../support/code-stack';
import { onRealCluster, testCluster } from '../support/real-cluster';
import type { TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

/** A slow build step, so that the worker can be stopped while it runs. */
const slowYaml = `version: 1.0
runtime: nodejs18
build:
  commands:
    build:
      - echo "started-$((40+2))" && sleep 3 && echo "done-$((40+2))" > /app/done.txt
run:
  command: httpd -f -p 8080 -h /app
`;

/**
 * Builds survive worker rollouts: a worker that shuts down mid-build puts the build back in the queue (it is not the
 * tenant's failure), and the next worker builds it and deploys; the log tells the story.
 */
const cluster = testCluster();
describe.skipIf(!cluster)(onRealCluster('builds across a worker shutdown'), () => {
  let stack: CodeStack;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await startCodeStack({
      cluster: cluster!,
      installations: [{ id: 91, account: 'acme', repositories: ['acme/slow'] }],
      seed: async (reposDir) => {
        await createBareRepo(reposDir, 'acme/slow', { 'apprunner.yaml': slowYaml, 'index.html': 'slow\n' });
      },
    });
    tenant = await stack.platform.newTenant('handover');
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('re-queues the build on shutdown and finishes it on the next worker', async () => {
    const { platform } = stack;
    const connectionArn = await stack.connect(tenant, 'acme-slow', 91);
    const created = await tenant.client.send(
      new CreateServiceCommand({
        ServiceName: 'slow-build',
        SourceConfiguration: {
          CodeRepository: {
            RepositoryUrl: `${stack.github.webUrl}/acme/slow`,
            SourceCodeVersion: { Type: 'BRANCH', Value: 'main' },
            CodeConfiguration: { ConfigurationSource: 'REPOSITORY' },
          },
          AuthenticationConfiguration: { ConnectionArn: connectionArn },
        },
      }),
    );
    const operationId = created.OperationId!;
    const logs = async () =>
      (await fetch(`${platform.url}/v1/operations/${operationId}/logs`, { headers: { authorization: `Bearer ${tenant.apiKey}` } })).text();
    await waitFor(async () => (await logs()).includes('started-42'), 'the slow step to start', 60_000);

    await platform.stopWorker();
    const build = await platform.prisma.build.findUniqueOrThrow({ where: { operationId } });
    expect(build.status).toBe('QUEUED');
    expect(await logs()).toContain('This worker is shutting down');

    await platform.startWorker();
    const op = await waitFor(
      async () => {
        const found = await platform.prisma.operation.findUnique({ where: { id: operationId } });
        return found && found.endedAt ? found : undefined;
      },
      'the operation to end',
      90_000,
    );
    expect(op.status, op.errorMessage ?? '').toBe('SUCCEEDED');
    const text = await logs();
    // The step ran twice: cut short on the first worker, whole on the second.
    expect(text.match(/started-42/g)).toHaveLength(2);
  }, 180_000);
});
