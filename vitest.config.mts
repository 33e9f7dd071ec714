import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

const libs = fileURLToPath(new URL('./libs/', import.meta.url));

/**
 * Two projects (README, "Tests"): `unit` (specs beside the code in apps/ and libs/, and the test doubles' own specs)
 * needs nothing and runs alone with `npm run test:unit`; `platform` (test/) gets PostgreSQL, Redis and the local
 * cluster from the global setup. `npm test` runs both.
 */
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: [{ find: /^@apprunner\/([^/]+)$/, replacement: `${libs}$1/src` }],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['apps/**/*.spec.ts', 'libs/**/*.spec.ts', 'test/doubles/**/*.spec.ts', 'test/support/unit-tier.spec.ts'],
          setupFiles: ['test/support/unit-tier.ts'],
          // Spec files share a worker's modules (imported once, not once per file): a unit spec leaves no state behind.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'platform',
          include: ['test/**/*.spec.ts'],
          exclude: [...configDefaults.exclude, 'test/doubles/**', 'test/support/unit-tier.spec.ts'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
