/**
 * A worker in a process of its own, for tests that kill it (test/kubernetes/worker-kill.spec.ts): the platform's
 * configuration comes from the environment, the cluster from TEST_KUBE_OPTIONS (KubeConfig options as JSON).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfig, nestLogLevels } from '@apprunner/core';
import { KubeClient, ReconcilerSettings } from '@apprunner/kubernetes';
import { WorkerModule } from '../../apps/worker/src/worker.module';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const kube = await KubeClient.connect({ options: JSON.parse(process.env.TEST_KUBE_OPTIONS ?? '{}') }, config.KUBE_FIELD_MANAGER);
  const app = await NestFactory.createApplicationContext(WorkerModule.forKubernetes(config, kube), {
    logger: nestLogLevels(config.LOG_LEVEL),
  });
  app.get(ReconcilerSettings).pollMs = Number(process.env.TEST_POLL_MS ?? 50);
  await app.init();
  process.stdout.write('worker ready\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
