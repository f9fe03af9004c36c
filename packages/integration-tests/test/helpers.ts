// Types inject('databaseUrl'), provided by the shared global setup.

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresStorage } from '@reseolio/storage-postgres';
import { createSqliteStorage } from '@reseolio/storage-sqlite';
import type {} from '@reseolio/test-utils/postgres-global-setup';
import pg from 'pg';
import { Reseolio, type ReseolioOptions, type StorageAdapter } from 'reseolio';
import { afterEach, inject } from 'vitest';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh directory for this test, removed afterwards. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'reseolio-it-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A `sqlite:` URL to a fresh database file. */
export function sqliteUrl(): string {
  return `sqlite:${join(tempDir(), 'jobs.db')}`;
}

/**
 * An engine on `storage` (a fresh SQLite file by default) with quick retries, stopped after
 * the test. The URL form goes through the lazy adapter import, as users' apps do.
 */
export function engineOn(
  storage: string | StorageAdapter = sqliteUrl(),
  options: ReseolioOptions = {},
): Reseolio {
  const engine = new Reseolio({
    storage,
    pollIntervalMs: 100,
    defaults: { initialDelayMs: 20, jitter: 0 },
    ...options,
  });
  cleanups.push(() => engine.stop({ timeoutMs: 500 }));
  return engine;
}

/** Registers a cleanup to run after the test. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/**
 * Opens a new connection (an adapter or a URL) to one isolated database. `listen: false` opens
 * a PostgreSQL adapter without LISTEN, so that, as on SQLite, no other process's writes are
 * pushed to it (ignored by SQLite, which never pushes across processes).
 */
export type OpenStorage = (options?: { listen?: boolean }) => string | StorageAdapter;

/** A fresh SQLite file; every engine given its URL opens its own connection to it. */
export function freshSqliteDatabase(): OpenStorage {
  const url = sqliteUrl();
  return () => url;
}

/**
 * A fresh schema on the PostgreSQL of DATABASE_URL (or the embedded one), dropped after the
 * test, with what a child process needs to reach it (the connection string and the schema's
 * name). Each `open()` is a new adapter with its own pool on that schema; engines borrow
 * them, and the cleanup closes them after the engines have stopped (cleanups run in reverse
 * order).
 */
export function freshPostgresSchema() {
  const connectionString = inject('databaseUrl');
  const schema = `it_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const adapters: StorageAdapter[] = [];
  cleanups.push(async () => {
    for (const adapter of adapters) await adapter.close();
    const admin = new pg.Client({ connectionString });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });
  return {
    connectionString,
    schema,
    open({ listen = true }: { listen?: boolean } = {}): StorageAdapter {
      const adapter = createPostgresStorage({ connectionString, schema, poolSize: 4, listen });
      adapters.push(adapter);
      return adapter;
    },
  };
}

/** {@link freshPostgresSchema} as an `OpenStorage`, for scenarios written for both databases. */
export function freshPostgresDatabase(): OpenStorage {
  const database = freshPostgresSchema();
  return (options) => database.open(options);
}

/** The real databases every engine scenario runs on; behaviour that differs is a bug. */
export const BACKENDS = [
  { backend: 'sqlite', freshDatabase: freshSqliteDatabase },
  { backend: 'postgres', freshDatabase: freshPostgresDatabase },
] as const;

/** One database per test, reachable from this process and from child processes. */
export const PROCESS_BACKENDS = [
  {
    backend: 'sqlite',
    fresh() {
      const file = join(tempDir(), 'jobs.db');
      return {
        storage: (): string => `sqlite:${file}`,
        /** An adapter of this test's own, to read what engines do not show (owners, leases). */
        async inspect(): Promise<StorageAdapter> {
          const adapter = createSqliteStorage({ filename: file });
          onCleanup(() => adapter.close());
          await adapter.init();
          return adapter;
        },
        fixtureArgs: ['sqlite', file, '-'],
      };
    },
  },
  {
    backend: 'postgres',
    fresh() {
      const database = freshPostgresSchema();
      return {
        storage: (): StorageAdapter => database.open(),
        async inspect(): Promise<StorageAdapter> {
          const adapter = database.open();
          await adapter.init();
          return adapter;
        },
        fixtureArgs: ['postgres', database.connectionString, database.schema],
      };
    },
  },
] as const;

export { waitFor } from '@reseolio/test-utils';
