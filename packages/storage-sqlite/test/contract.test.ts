import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStorageContract, type StorageHarness } from '@reseolio/storage-contract';
import Database from 'better-sqlite3';
import { createSqliteStorage, type SqliteStorageOptions } from '../src/index.ts';

/** Every instance of one harness opens the same database; teardown closes them all. */
async function harness(options: () => SqliteStorageOptions, cleanup: () => void) {
  const opened: ReturnType<typeof createSqliteStorage>[] = [];
  const open = async () => {
    const storage = createSqliteStorage(options());
    opened.push(storage);
    await storage.init();
    return storage;
  };
  const teardown = async () => {
    for (const storage of opened) await storage.close();
    cleanup();
  };
  return { storage: await open(), openAnother: open, teardown } satisfies StorageHarness;
}

// A fresh temp file per test; each instance is a separate connection to it.
runStorageContract({
  name: 'sqlite (file)',
  setup: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reseolio-sqlite-'));
    const filename = join(dir, 'jobs.db');
    return harness(
      () => ({ filename }),
      () => rmSync(dir, { recursive: true, force: true }),
    );
  },
});

// `:memory:` cannot be opened twice, so every instance borrows one in-memory connection.
runStorageContract({
  name: 'sqlite (:memory:, borrowed connection)',
  setup: async () => {
    const database = new Database(':memory:');
    return harness(
      () => ({ database }),
      () => database.close(),
    );
  },
});
