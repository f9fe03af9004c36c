import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The README example imports the package by name; point that at the sources, not dist.
  resolve: {
    alias: { '@reseolio/express': fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: { include: ['test/**/*.test.ts'], testTimeout: 20_000 },
});
