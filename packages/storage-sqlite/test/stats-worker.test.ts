import { Worker } from 'node:worker_threads';
import { newJob, T0 } from '@reseolio/storage-contract';
import Database from 'better-sqlite3';
import { StorageError } from 'reseolio/storage';
import { describe, expect, it, vi } from 'vitest';
import { createSqliteStorage, type SqliteStorage, SqliteStorageError } from '../src/index.ts';
import { useCleanups } from './cleanups.ts';

const { cleanups, tempFile } = useCleanups();

const BULK = 200_000;

/** A file database holding `1 + count` jobs of one name: copies of one enqueued job. */
async function bulkStorage(count: number): Promise<{ storage: SqliteStorage; filename: string }> {
  const filename = tempFile();
  const storage = createSqliteStorage({ filename });
  cleanups.push(() => storage.close());
  await storage.init();
  await storage.enqueue(newJob({ id: 'seed', name: 'bulk', runAt: T0 }));
  const db = new Database(filename);
  try {
    const columns = (db.pragma('table_info(reseolio_jobs)') as { name: string }[]).map(
      (column) => column.name,
    );
    const values = columns.map((column) => (column === 'id' ? "'bulk-' || n.i" : column));
    db.prepare(`
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
      INSERT INTO reseolio_jobs (${columns.join(', ')})
      SELECT ${values.join(', ')} FROM reseolio_jobs, n WHERE id = 'seed'`).run();
  } finally {
    db.close();
  }
  return { storage, filename };
}

/** How many times a zero-delay timer fires before `promise` settles. */
async function turnsDuring(promise: Promise<unknown>): Promise<number> {
  let turns = 0;
  const timer = setInterval(() => {
    turns += 1;
  }, 0);
  try {
    await promise.catch(() => {});
  } finally {
    clearInterval(timer);
  }
  return turns;
}

describe('stats() of a file database', () => {
  it('leaves the event loop running while it scans the jobs', async () => {
    const { storage } = await bulkStorage(BULK);
    const reading = storage.stats({ now: T0 });
    const turns = await turnsDuring(reading);
    expect(turns).toBeGreaterThan(0);
    const [stats] = await reading;
    expect(stats?.name).toBe('bulk');
    expect(stats?.counts.pending).toBe(BULK + 1);
    expect(stats?.oldestDueRunAt).toBe(T0);
  });

  it('shares one read between concurrent calls and starts a new one after', async () => {
    const { storage } = await bulkStorage(10);
    const first = storage.stats({ now: T0 });
    const second = storage.stats({ now: T0 });
    expect(await second).toEqual(await first);
    await storage.enqueue(newJob({ id: 'later', name: 'bulk', runAt: T0 }));
    const [after] = await storage.stats({ now: T0 });
    expect(after?.counts.pending).toBe(12);
  });

  it('close() during a read rejects it with a SqliteStorageError, and later calls throw', async () => {
    const { storage } = await bulkStorage(BULK);
    const posted = vi.spyOn(Worker.prototype, 'postMessage');
    cleanups.push(() => posted.mockRestore());
    const reading = storage.stats({ now: T0 });
    const [worker] = posted.mock.contexts as Worker[];
    expect(worker?.threadId).toBeGreaterThan(0);
    const failure = reading.then(
      () => undefined,
      (error: unknown) => error,
    );
    await storage.close();
    const error = await failure;
    expect(error).toBeInstanceOf(SqliteStorageError);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/stats failed.*closed while stats\(\) ran/);
    await expect(storage.stats({ now: T0 })).rejects.toThrow(/closed/);
    // The thread has stopped: Node sets threadId to -1.
    expect(worker?.threadId).toBe(-1);
  });

  it('a read the worker cannot make rejects with a SqliteStorageError and its cause', async () => {
    const { storage, filename } = await bulkStorage(1);
    const db = new Database(filename);
    db.exec('ALTER TABLE reseolio_jobs RENAME COLUMN run_at TO run_at_moved');
    db.close();
    const error = await storage.stats({ now: T0 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SqliteStorageError);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/stats failed/);
  });
});
