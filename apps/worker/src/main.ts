import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfig, nestLogLevels } from '@apprunner/core';
import { KubeClient, kubeSourceFromEnv } from '@apprunner/kubernetes';
import { boundShutdown } from '@apprunner/platform';
import { WorkerModule } from './worker.module';

/** The worker process: KUBECONFIG when set, otherwise the pod's in-cluster service account. */
async function main(): Promise<void> {
  const config = loadConfig();
  const kube = await KubeClient.connect(kubeSourceFromEnv(config), config.KUBE_FIELD_MANAGER);
  const app = await NestFactory.createApplicationContext(WorkerModule.forKubernetes(config, kube), {
    logger: nestLogLevels(config.LOG_LEVEL),
  });
  app.enableShutdownHooks();
  boundShutdown(config);
  await app.init();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
