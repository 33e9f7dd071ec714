import 'reflect-metadata';
import { loadConfig } from '@apprunner/core';
import { boundShutdown } from '@apprunner/platform';
import { createApiApp } from './bootstrap';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApiApp(config);
  boundShutdown(config);
  await app.listen(config.PORT, config.HOST);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
