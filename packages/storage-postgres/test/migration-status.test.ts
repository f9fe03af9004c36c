import pg from 'pg';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { loadMigrations, migrate } from '../src/migrate.ts';
import { schemaNames } from '../src/schema-names.ts';
import { adminQuery, databaseUrl, dropSchema, schemaFor, storageOn } from './helpers.ts';

async function freshSchema(testName: string): Promise<string> {
  const schema = schemaFor('migration-status.test', testName);
  await dropSchema(schema);
  onTestFinished(() => dropSchema(schema));
  return schema;
}

async function schemaExists(schema: string): Promise<boolean> {
  const { rows } = await adminQuery('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rows.length > 0;
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

describe('migrationStatus', () => {
  it('lists every shipped migration on an empty schema with its SQL renamed, creating nothing', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const storage = storageOn(schema);
    closers.push(() => storage.close());
    const shipped = await loadMigrations();

    const status = await storage.migrationStatus();

    expect(status.shipped).toBe(shipped.length);
    expect(status.applied).toBe(0);
    expect(status.pending.map((m) => m.tag)).toEqual(shipped.map((m) => m.tag));
    const allSql = status.pending.map((m) => m.sql).join('\n');
    expect(allSql).toContain(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    expect(allSql).toContain(`"${schema}"."jobs"`);
    expect(allSql).not.toContain('"reseolio".');
    expect(await schemaExists(schema)).toBe(false);
  });

  it('the printed SQL, run by hand in order, builds the same tables as init()', async ({
    task,
  }) => {
    const byHand = await freshSchema(`${task.name} by hand`);
    const byInit = await freshSchema(`${task.name} by init`);
    const storage = storageOn(byHand);
    closers.push(() => storage.close());
    for (const migration of (await storage.migrationStatus()).pending) {
      await adminQuery(migration.sql);
    }
    const initialised = storageOn(byInit);
    closers.push(() => initialised.close());
    await initialised.init();

    const columns = async (schema: string) =>
      (
        await adminQuery(
          `SELECT table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema = $1 AND table_name <> '__reseolio_migrations'
           ORDER BY table_name, column_name`,
          [schema],
        )
      ).rows;
    expect(await columns(byHand)).toEqual(await columns(byInit));
    expect((await columns(byHand)).length).toBeGreaterThan(0);
  });

  it('lists only what is left after a partial migration, and nothing once init() ran', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const shipped = await loadMigrations();
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
    closers.push(() => pool.end());
    await migrate(pool, schemaNames(schema), shipped.slice(0, 3));
    const storage = storageOn(schema);
    closers.push(() => storage.close());

    const partial = await storage.migrationStatus();
    expect(partial.applied).toBe(3);
    expect(partial.pending.map((m) => m.tag)).toEqual(shipped.slice(3).map((m) => m.tag));

    await storage.init();
    expect(await storage.migrationStatus()).toEqual({
      shipped: shipped.length,
      applied: shipped.length,
      pending: [],
    });
  });
});
