import { createSqliteStorage } from '@reseolio/storage-sqlite';
import Database from 'better-sqlite3';
import type { SQL } from 'drizzle-orm';
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import type { Query, SqlDriver, Work } from './driver.ts';
import type { ShopDatabase } from './repository.ts';
import { addedColumns, schemaDdl } from './schema.ts';
import { SqlShopRepository } from './sql-repository.ts';

/** Opens (creating if needed) the SQLite file for the shop and for Reseolio's jobs. */
export async function openSqlite(filename: string): Promise<ShopDatabase> {
  const sqlite = new Database(filename);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.exec(schemaDdl('INTEGER'));
  addMissingColumns(sqlite);
  // One connection for both: the storage borrows it, so it never closes it; we do.
  const storage = createSqliteStorage({ database: sqlite });
  return {
    repo: new SqlShopRepository(sqliteDriver(sqlite)),
    storage,
    description: `SQLite file ${filename}`,
    close: async () => {
      await storage.close();
      sqlite.close();
    },
  };
}

/** Upgrades a file made by an older demo: adds the columns its tables lack, in one transaction. */
function addMissingColumns(sqlite: Database.Database): void {
  sqlite
    .transaction(() => {
      for (const { table, column, type } of addedColumns('INTEGER')) {
        const existing = sqlite.pragma(`table_info(${table})`) as { name: string }[];
        if (!existing.some((c) => c.name === column)) {
          sqlite.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
        }
      }
    })
    .immediate();
}

const dialect = new SQLiteSyncDialect();

/**
 * better-sqlite3 is synchronous: a statement has finished when its call returns, and a
 * transaction runs start to end in one call, so nothing else on the connection (Reseolio's
 * statements included) can interleave with it. `?` placeholders; INTEGER comes back a number.
 */
function sqliteDriver(sqlite: Database.Database): SqlDriver {
  const run = (statement: SQL): unknown[] => {
    const { sql: text, params } = dialect.sqlToQuery(statement);
    const prepared = sqlite.prepare(text);
    if (prepared.reader) return prepared.all(...params);
    prepared.run(...params);
    return [];
  };
  const query: Query = async <R>(statement: SQL) => run(statement) as R[];

  return {
    dialect: 'sqlite',
    query,
    async transaction<T>(mode: 'write' | 'read', work: () => Work<T>) {
      const body = sqlite.transaction(() => {
        const steps = work();
        let step = steps.next();
        while (!step.done) step = steps.next(run(step.value));
        return step.value;
      });
      // IMMEDIATE takes the write lock at BEGIN: a deferred write transaction that has read
      // could fail with SQLITE_BUSY instead of waiting for another process's commit.
      return mode === 'write' ? body.immediate() : body.deferred();
    },
    lendTransaction: (fn) => fn(query, undefined),
  };
}
