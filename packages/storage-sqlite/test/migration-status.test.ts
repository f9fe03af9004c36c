import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteStorage, MIGRATIONS_TABLE } from '../src/index.ts';
import { useCleanups } from './cleanups.ts';

const { cleanups, tempFile } = useCleanups();

const SHIPPED_TAGS = (
  JSON.parse(readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8')) as {
    entries: { tag: string }[];
  }
).entries.map((entry) => entry.tag);

function storageOn(filename: string) {
  const storage = createSqliteStorage({ filename });
  cleanups.push(() => storage.close());
  return storage;
}

/** The tables and columns of a database file, without the migrations bookkeeping. */
function columnsOf(filename: string): unknown[] {
  const db = new Database(filename, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT m.name AS tbl, p.name AS col, p.type FROM sqlite_master m, pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name <> ? ORDER BY m.name, p.cid`,
      )
      .all(MIGRATIONS_TABLE);
  } finally {
    db.close();
  }
}

describe('migrationStatus', () => {
  it('lists every shipped migration for a file that does not exist, without creating it', async () => {
    const filename = tempFile();
    const status = await storageOn(filename).migrationStatus();

    expect(status.shipped).toBe(SHIPPED_TAGS.length);
    expect(status.applied).toBe(0);
    expect(status.pending.map((m) => m.tag)).toEqual(SHIPPED_TAGS);
    expect(status.pending[0]!.sql).toMatch(/^CREATE TABLE `reseolio_jobs`/);
    expect(existsSync(filename)).toBe(false);
  });

  it('the printed SQL, run by hand in order, builds the same tables as init()', async () => {
    const byHand = tempFile();
    const byInit = tempFile();
    const db = new Database(byHand);
    for (const migration of (await storageOn(byHand).migrationStatus()).pending) {
      db.exec(migration.sql);
    }
    db.close();
    await storageOn(byInit).init();

    expect(columnsOf(byHand)).toEqual(columnsOf(byInit));
    expect(columnsOf(byHand).length).toBeGreaterThan(0);
  });

  it('lists only what is left when migrations are missing, and nothing once init() ran', async () => {
    const filename = tempFile();
    const storage = storageOn(filename);
    await storage.init();
    expect(await storage.migrationStatus()).toEqual({
      shipped: SHIPPED_TAGS.length,
      applied: SHIPPED_TAGS.length,
      pending: [],
    });
    // Forget the last two: an upgrade that has not run yet, as a fresh adapter sees it.
    const db = new Database(filename);
    db.exec(
      `DELETE FROM "${MIGRATIONS_TABLE}" WHERE id IN (SELECT id FROM "${MIGRATIONS_TABLE}" ORDER BY created_at DESC LIMIT 2)`,
    );
    db.close();

    const status = await storageOn(filename).migrationStatus();
    expect(status.applied).toBe(SHIPPED_TAGS.length - 2);
    expect(status.pending.map((m) => m.tag)).toEqual(SHIPPED_TAGS.slice(-2));
  });
});
