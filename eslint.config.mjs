import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tmp/**', 'libs/persistence/src/generated/**', 'charts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  // Tests poke at loosely-typed wire responses (SDK outputs, raw JSON); `any` there is deliberate.
  { files: ['test/**', '**/*.spec.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  { files: ['scripts/**', 'bench/**', '**/*.cli.ts', '**/cli.ts'], rules: { 'no-console': 'off' } },
  // Layout is Prettier's (.prettierrc.json, checked by `npm run lint`); no ESLint rule argues with it.
  prettier,
);
