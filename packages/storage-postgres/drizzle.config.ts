import { defineConfig } from 'drizzle-kit';

// Dev-only: `pnpm db:generate` writes SQL migrations to drizzle/, which are committed and
// shipped. They are applied by src/migrate.ts, never by drizzle-kit or drizzle's migrator.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema.ts',
  out: './drizzle',
});
