// Lint rules for the library, its tests, benchmarks and sample app. Formatting belongs to Prettier
// (`.prettierrc.json`); eslint-config-prettier turns off every rule that would argue with it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'bench/results/**', '.ci/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Promises are awaited or handled: a dropped rejection is a crash or a silent loss in a server.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `import x = require('x')` is how a CommonJS package without ES exports is typed; a bare `require()`
      // stays an error except where an optional peer is loaded lazily (marked where it happens).
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // TypeORM types entity and migration classes as `Function`; our code passes them through as such.
      '@typescript-eslint/no-unsafe-function-type': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests read untyped JSON bodies and child-process results.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  prettier,
);
