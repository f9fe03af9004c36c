import { defineConfig } from 'drizzle-kit';

// Development only: `pnpm db:generate` writes SQL migrations to ./drizzle, which ship in the
// package and are applied by `init()` (see src/migrate.ts), never by drizzle-kit itself.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/schema.ts',
  out: './drizzle',
});
