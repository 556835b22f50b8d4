import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    // describe/it/expect/beforeAll… as globals, so a spec reads the same under any runner.
    globals: true,
    include: ['lib/**/*.spec.ts', 'test/**/*.spec.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The database suites share one PostgreSQL database, one MariaDB database and one Redis db per
    // checkout: files run one at a time so that they never clean up each other's rows.
    fileParallelism: false,
  },
});
