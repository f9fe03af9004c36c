/**
 * Prints what `result()` waiters cost on PostgreSQL, not asserted anywhere: WAITERS jobs are
 * enqueued by one engine (no worker) and awaited from a second one (so none is "inserted
 * here"), and the script counts the database reads the waiting engine makes over a window.
 *
 *   pnpm --filter @reseolio/storage-postgres waiters      (Node 20: builds first)
 *
 * Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) and a throw-away
 * schema.
 */
import { createPostgresStorage } from '@reseolio/storage-postgres';
import pg from 'pg';
import { Reseolio } from 'reseolio';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SCHEMA = 'reseolio_waiters';
const WAITERS = Number(process.env.WAITERS ?? 10_000);
const WINDOW_MS = Number(process.env.WINDOW_MS ?? 12_000);

const admin = new pg.Client({ connectionString: DATABASE_URL });
await admin.connect();
await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);

const producerStorage = createPostgresStorage({ connectionString: DATABASE_URL, schema: SCHEMA });
const producer = new Reseolio({ storage: producerStorage, workerConcurrency: 0 });
const fn = producer.durable('waiters:probe', async () => 'never runs here');
const handles = [];
for (let i = 0; i < WAITERS; i += 1000) {
  handles.push(
    ...(await fn.enqueueMany(Array.from({ length: Math.min(1000, WAITERS - i) }, () => []))),
  );
}

const storage = createPostgresStorage({ connectionString: DATABASE_URL, schema: SCHEMA });
const counts = { calls: 0, rows: 0 };
for (const method of ['getJob', 'getJobStates'] as const) {
  const original = (storage[method] as (...a: unknown[]) => Promise<unknown>).bind(storage);
  (storage as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    counts.calls += 1;
    counts.rows += Array.isArray(args[0]) ? args[0].length : 1;
    return original(...args);
  };
}
const waiter = new Reseolio({ storage, workerConcurrency: 0 });
await waiter.init();
const started = performance.now();
const pending = handles.map((h) =>
  waiter
    .getHandle(h.jobId)
    .result()
    .catch(() => undefined),
);
await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
const seconds = (performance.now() - started) / 1000;
console.log(
  `${WAITERS} waiters over ${seconds.toFixed(1)} s: ${counts.calls} read round trips ` +
    `(${(counts.calls / seconds).toFixed(1)}/s), ${counts.rows} job reads (${(counts.rows / seconds).toFixed(0)}/s)`,
);
await waiter.stop();
await Promise.all(pending);
await producer.stop();
// Adapters passed in are borrowed by the engines: closing them is ours to do.
await storage.close();
await producerStorage.close();
await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
await admin.end();
