import { inject } from 'vitest';
import type { TestClusterInfo } from './cluster';

export * from './cluster';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: TestClusterInfo | null;
    clusterUnavailable: string;
  }
}

/** The real cluster of this test run, or undefined (with the reason in `clusterSkipReason()`). */
export function testCluster(): TestClusterInfo | undefined {
  return inject('cluster') ?? undefined;
}
export function clusterSkipReason(): string {
  return inject('clusterUnavailable') ?? '';
}
/** A describe() title that says why the suite is skipped when there is no cluster. */
export function onRealCluster(title: string): string {
  const reason = clusterSkipReason();
  return reason ? `${title} [skipped: ${reason}]` : title;
}
