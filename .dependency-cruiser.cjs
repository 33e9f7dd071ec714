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
      name: 'no-circular',
      comment: 'No module reaches itself through its imports.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Specs may import across libraries and from test/ freely; the generated Prisma client is not ours.
    exclude: { path: '\\.spec\\.ts$|^libs/persistence/src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
