import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createSqliteStorage } from '@reseolio/storage-sqlite';
import { STORAGE_UNAVAILABLE_MESSAGE } from 'reseolio/http';
import { describe, expect, it } from 'vitest';
import reseolio from '../src/index.ts';
import { fast, listen, makeApp, sqliteUrl } from './helpers.ts';

// The job routes' behaviour on every framework is test/conformance.test.ts (the shared
// suite); these are the SQLite adapter's failures as the routes answer them.

/** The SQLite adapter's own driver, for a second connection to the same file. */
const Database = createRequire(createRequire(import.meta.url).resolve('@reseolio/storage-sqlite'))(
  'better-sqlite3',
) as new (
  filename: string,
) => { exec(sql: string): void; close(): void };

describe('job routes on a SQLite file', () => {
  const unavailable = {
    status: 503,
    body: { error: { code: 'RESEOLIO_STORAGE', message: STORAGE_UNAVAILABLE_MESSAGE } },
  };

  it('SQLite: a write lock held past busyTimeoutMs answers 503, and the same request succeeds once it is free', async () => {
    const filename = join(mkdtempSync(join(tmpdir(), 'reseolio-fastify-busy-')), 'jobs.db');
    const storage = createSqliteStorage({ filename, busyTimeoutMs: 0 });
    const app = makeApp();
    await app.register(reseolio, { storage, ...fast, routes: { public: true } });
    app.addHook('onClose', async () => {
      await storage.close();
      rmSync(dirname(filename), { recursive: true, force: true });
    });
    const later = app.reseolio.durable('later', async () => 'done');
    const base = await listen(app);
    const handle = await later.enqueue([], { delayMs: 60_000 });

    const other = new Database(filename);
    try {
      other.exec('BEGIN IMMEDIATE');
      const busy = await fetch(`${base}/jobs/${handle.jobId}/cancel`, { method: 'POST' });
      expect({ status: busy.status, body: await busy.json() }).toEqual(unavailable);
      // Reads do not wait for the writer (WAL).
      expect((await fetch(`${base}/jobs/${handle.jobId}`)).status).toBe(200);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    const cancelled = await fetch(`${base}/jobs/${handle.jobId}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as any).job.status).toBe('cancelled');
  });

  it('SQLite: the OFFSET that once reached the driver as SQLITE_MISMATCH (a 500) is a 400', async () => {
    const app = makeApp();
    await app.register(reseolio, { storage: sqliteUrl(), ...fast, routes: { public: true } });
    const base = await listen(app);
    const response = await fetch(`${base}/jobs?offset=100000000000000000000`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error.code).toBe('RESEOLIO_INVALID_INPUT');
  });
});
