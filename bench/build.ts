/**
 * The code-based side of `npm run bench`, with real parts (as test/e2e-build): a local GitHub stand-in, signed push
 * webhooks, buildah builds from a busybox base pushed to a docker-registry on loopback, the real local cluster.
 * - webhook → build started: from sending a push to its Build row turning RUNNING (p50/p99 over N pushes),
 * - build durations (clone + build + push, from the Build rows): a cold build (empty layer cache), a rebuild of the
 *   same commit (StartDeployment; every layer cached), and a rebuild after a change to an application file only.
 */
import { CreateServiceCommand, StartDeploymentCommand } from '@aws-sdk/client-apprunner';
import { type BareRepo, createBareRepo, pushPayload, signedWebhookRequest } from '../test/doubles/github';
import type { TestClusterInfo } from '../test/support/cluster';
import { startCodeStack } from '../test/support/code-stack';
import { waitFor } from '../test/support/wait';

const PUSHES = Number(process.env.BENCH_BUILD_PUSHES ?? 5);
const quantile = (sorted: number[], p: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1));

/** A "dependency install" step worth caching (about a second of shell work), then the application step. */
const appYaml = `version: 1.0
runtime: nodejs18
build:
  commands:
    pre-build:
      - i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done; echo deps > /app/deps.txt
    build:
      - cat /app/index.html > /app/built.html
run:
  command: httpd -f -p 8080 -h /app
  network:
    port: 8080
`;

export async function buildBench(cluster: TestClusterInfo): Promise<Record<string, unknown>> {
  let repo!: BareRepo;
  const stack = await startCodeStack({
    cluster,
    installations: [{ id: 77, account: 'acme', repositories: ['acme/bench'] }],
    seed: async (reposDir) => {
      repo = await createBareRepo(reposDir, 'acme/bench', { 'apprunner.yaml': appYaml, 'index.html': '<h1>0</h1>\n' });
    },
  });
  const { platform, github } = stack;
  try {
    const tenant = await platform.newTenant('bench-builds');
    const connectionArn = await stack.connect(tenant, 'bench-github', 77);
    const created = await tenant.client.send(
      new CreateServiceCommand({
        ServiceName: 'bench-web',
        SourceConfiguration: {
          CodeRepository: {
            RepositoryUrl: `${github.webUrl}/acme/bench`,
            SourceCodeVersion: { Type: 'BRANCH', Value: 'main' },
            CodeConfiguration: { ConfigurationSource: 'REPOSITORY' },
          },
          AutoDeploymentsEnabled: true,
          AuthenticationConfiguration: { ConnectionArn: connectionArn },
        },
      }),
    );
    const serviceArn = created.Service!.ServiceArn!;
    const buildOf = async (operationId: string) => {
      const build = await waitFor(
        async () => {
          const b = await platform.prisma.build.findUnique({ where: { operationId } });
          return b && (b.status === 'SUCCEEDED' || b.status === 'FAILED') ? b : undefined;
        },
        `build of ${operationId}`,
        300_000,
      );
      if (build.status !== 'SUCCEEDED') throw new Error(`bench build failed: ${build.reason}`);
      await waitFor(
        async () => (await platform.prisma.operation.findUnique({ where: { id: operationId } }))?.endedAt ?? undefined,
        'operation end',
        60_000,
      );
      return (build.endedAt!.getTime() - build.startedAt!.getTime()) / 1_000;
    };
    const cold = await buildOf(created.OperationId!);
    const same = await buildOf((await tenant.client.send(new StartDeploymentCommand({ ServiceArn: serviceArn }))).OperationId!);

    const latencies: number[] = [];
    const appChange: number[] = [];
    for (let i = 1; i <= PUSHES; i++) {
      const commit = await repo.commitFiles({ 'index.html': `<h1>${i}</h1>\n` }, `change ${i}`);
      const signed = signedWebhookRequest(
        stack.webhookSecret,
        'push',
        pushPayload({ installationId: 77, repo: 'acme/bench', webUrl: github.webUrl, branch: 'main', after: commit }),
      );
      const sent = Date.now();
      const res = await fetch(`${platform.url}/github/webhook`, { method: 'POST', headers: signed.headers, body: signed.body });
      const operationId = ((await res.json()) as { deployments: { operationId?: string }[] }).deployments[0]?.operationId;
      if (!operationId) throw new Error('the push started no deployment');
      const started = await waitFor(
        async () => (await platform.prisma.build.findUnique({ where: { operationId } }))?.startedAt ?? undefined,
        'build start',
        30_000,
      );
      latencies.push(started.getTime() - sent);
      appChange.push(await buildOf(operationId));
    }
    latencies.sort((a, b) => a - b);
    appChange.sort((a, b) => a - b);
    return {
      pushes: PUSHES,
      webhookToBuildStartedMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1] },
      buildSeconds: {
        cold: Number(cold.toFixed(2)),
        sameCommitRebuild: Number(same.toFixed(2)),
        appFileChangeP50: quantile(appChange, 0.5),
      },
      note: 'clone + build + push, buildah vfs/chroot on this machine; the source is copied before the build steps (as App Runner builds), so a source change re-runs them',
    };
  } finally {
    await stack.close();
  }
}
