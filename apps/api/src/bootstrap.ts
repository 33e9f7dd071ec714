import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { type Clock, nestLogLevels, type PlatformConfig } from '@apprunner/core';
import { ApiModule } from './app.module';
import { answerClientErrors, canonicalPathMiddleware, requestIdMiddleware } from './common/request-id';

/** Builds the API application (used by main.ts, the tests and the benchmark). */
export async function createApiApp(
  config: PlatformConfig,
  options: { clock?: Clock; logger?: boolean } = {},
): Promise<NestExpressApplication> {
  // No global body parser: each door reads its body itself, after authenticating, within its own limits (common/body.ts).
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, options.clock), {
    bodyParser: false,
    logger: options.logger === false ? false : nestLogLevels(config.LOG_LEVEL),
  });
  app.disable('x-powered-by');
  app.use(requestIdMiddleware, canonicalPathMiddleware);
  answerClientErrors(app.getHttpServer());
  app.set('trust proxy', 'loopback');
  app.enableShutdownHooks();
  return app;
}
