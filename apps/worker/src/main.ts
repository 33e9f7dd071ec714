import 'reflect-metadata';
import { loadConfig } from '@apprunner/core';

/**
 * The worker needs a reconciler that talks to Kubernetes. That reconciler is the subject of the next
 * issue (#3, "worker/reconciler"); until it lands, starting the worker fails loudly instead of
 * pretending to deploy anything.
 */
async function main(): Promise<void> {
  loadConfig();
  throw new Error('No Kubernetes reconciler is available in this build yet (issue #3); the worker cannot start.');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
