/**
 * Test support for end-to-end tests and benchmarks: a local GitHub (App API + git smart HTTP), App keys,
 * bare repositories and signed webhook deliveries. Not exported from the library's index: production code
 * never loads it. Import it by path (`libs/github/src/testing`).
 */
export * from './testing/bare-repo';
export * from './testing/keys';
export * from './testing/stub-server';
export * from './testing/webhook-fixtures';
