import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { type Clock, nestLogLevels, type PlatformConfig } from '@apprunner/core';
import { ApiModule } from './app.module';

/** Builds the API application (used by main.ts, the tests and the benchmark). */
export async function createApiApp(
  config: PlatformConfig,
  options: { clock?: Clock; logger?: boolean } = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, options.clock), {
    rawBody: true,
    logger: options.logger === false ? false : nestLogLevels(config.LOG_LEVEL),
  });
  // SigV4 needs the exact bytes: AWS JSON 1.0 bodies are parsed as JSON with the raw body kept.
  // Webhooks (GitHub, the registry's notifications) are verified on the same raw bytes.
  app.useBodyParser('json', {
    type: [
      'application/json',
      'application/x-amz-json-1.0',
      'application/x-amz-json-1.1',
      'application/vnd.docker.distribution.events.v1+json',
    ],
    limit: '5mb',
  });
  app.set('trust proxy', 'loopback');
  app.enableShutdownHooks();
  return app;
}
