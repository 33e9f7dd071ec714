/**
 * Import rules of the product code (apps/, libs/), checked by `npm run lint` (dependency-cruiser, pinned in package.json).
 * Type-only imports count (tsPreCompilationDeps): a cycle of types is still a cycle a newcomer has to untangle.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-lib-cycle',
      comment: 'Libraries depend on each other one way: no library reaches itself through others (types included).',
      severity: 'error',
      scope: 'folder',
      from: { path: '^(apps|libs)/[^/]+/src/?$' },
      to: { circular: true },
    },
    {
      name: 'no-test-code-in-product',
      comment:
        'Test doubles and support (test/) and fixtures stay out of the product: they are not compiled into dist/ nor copied into the image.',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: '/__fixtures__/' },
      to: { path: '^(test|bench)/|/__fixtures__/' },
    },
    {
      name: 'prisma-only-in-persistence',
      comment:
        'Prisma (its client, the generated models, @prisma/*) stays inside libs/persistence: its repositories are the one way to the tables, and what leaves the library (through its index only) is records, repositories and transactions.',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: '^libs/persistence/' },
      to: { path: ['^libs/persistence/src/(?!index\\.ts$)', '(^|/)node_modules/(@prisma/|\\.prisma/|prisma/)'] },
    },
    {
      name: 'no-circular',
      comment: 'No module reaches itself through its imports.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // The generated Prisma client is not ours: reached (so that the rules above see who imports it), not followed.
    doNotFollow: { path: ['node_modules', '^libs/persistence/src/generated/'] },
    // Specs may import across libraries and from test/ freely.
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
