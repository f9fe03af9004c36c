import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from 'better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { MigrationStatus } from 'reseolio/storage';

/** Our own bookkeeping table: never the host application's `__drizzle_migrations`. */
export const MIGRATIONS_TABLE = '__reseolio_migrations';

/** The drizzle-kit output shipped in the package (`files: ["drizzle"]`), beside `dist/`. */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../drizzle', import.meta.url));

/**
 * Applies the shipped migrations that this database has not seen yet.
 *
 * drizzle's own migrator is not used because it reads the last applied migration *before*
 * its (deferred) BEGIN: two processes starting together both see an empty database and the
 * second fails on `CREATE TABLE`. Here the check and the writes share one BEGIN IMMEDIATE
 * transaction, which takes the write lock up front: a concurrent `init()` meets the lock, tries
 * again a moment later (lock-queue.ts), and then re-checks, finding everything applied. The table keeps drizzle's columns (hash,
 * created_at = the migration's folder timestamp) so drizzle tooling can still read it.
 */
export function migrate(db: Database): void {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  db.transaction(() => {
    db.exec(
      `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (
        id INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        created_at NUMERIC
      )`,
    );
    const applied = new Set(
      db
        .prepare(`SELECT created_at FROM "${MIGRATIONS_TABLE}"`)
        .pluck()
        .all()
        .map((createdAt) => Number(createdAt)),
    );
    const record = db.prepare(`INSERT INTO "${MIGRATIONS_TABLE}" (hash, created_at) VALUES (?, ?)`);
    for (const migration of migrations) {
      if (applied.has(migration.folderMillis)) continue;
      for (const statement of migration.sql) {
        if (statement.trim() !== '') db.exec(statement);
      }
      record.run(migration.hash, migration.folderMillis);
    }
  }).immediate();
}

/**
 * What `migrate(db)` would apply to `db` (undefined: a database that does not exist yet, so
 * nothing is applied). Reads only.
 */
export function migrationStatus(db: Database | undefined): MigrationStatus {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  const applied = db === undefined ? [] : appliedFolderMillis(db);
  const tags = journalTags();
  return {
    shipped: migrations.length,
    applied: applied.length,
    pending: migrations
      .filter((migration) => !applied.includes(migration.folderMillis))
      .map((migration) => ({
        tag: tags.get(migration.folderMillis) ?? String(migration.folderMillis),
        sql: migration.sql
          .map((statement) => statement.trim())
          .filter((statement) => statement !== '')
          .map((statement) => (statement.endsWith(';') ? statement : `${statement};`))
          .join('\n\n'),
      })),
  };
}

/** The `created_at` (migration folder time) of every applied migration; none without the table. */
function appliedFolderMillis(db: Database): number[] {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
    .get(MIGRATIONS_TABLE);
  if (table === undefined) return [];
  return db
    .prepare(`SELECT created_at FROM "${MIGRATIONS_TABLE}"`)
    .pluck()
    .all()
    .map((createdAt) => Number(createdAt));
}

/** drizzle-kit's journal: tags by migration time (`readMigrationFiles` drops the tags). */
function journalTags(): Map<number, string> {
  const journal = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as {
    entries: { when: number; tag: string }[];
  };
  return new Map(journal.entries.map((entry) => [entry.when, entry.tag]));
}
