/**
 * A local GitHub for tests and benchmarks (App API + git smart HTTP), App keys, bare repositories and signed webhook
 * deliveries. Test-only: product code may not import it (npm run lint).
 */
export * from './bare-repo';
export * from './keys';
export * from './stub-server';
export * from './webhook-fixtures';
