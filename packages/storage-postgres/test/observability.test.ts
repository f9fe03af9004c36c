import { claimExactly, newJob, pendingRecord, T0 } from '@reseolio/storage-contract';
import pg from 'pg';
import type { NewJob } from 'reseolio/storage';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { loadMigrations, migrate } from '../src/migrate.ts';
import type { PostgresStorage } from '../src/postgres-storage.ts';
import { schemaNames } from '../src/schema-names.ts';
import { adminQuery, databaseUrl, dropSchema, schemaFor, storageOn } from './helpers.ts';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

async function freshSchema(testName: string): Promise<string> {
  const schema = schemaFor('observability.test', testName);
  await dropSchema(schema);
  onTestFinished(() => dropSchema(schema));
  return schema;
}

async function open(schema: string): Promise<PostgresStorage> {
  const storage = storageOn(schema, { listen: false, poolSize: 2 });
  closers.push(() => storage.close());
  await storage.init();
  return storage;
}

function traced(overrides: Partial<NewJob>, span: string): NewJob {
  return newJob({ ...overrides, traceContext: JSON.stringify({ traceparent: span }) });
}

describe('trace context and progress on PostgreSQL', () => {
  it('a schema at 0006 upgrades: its jobs keep every field and read traceContext and progress null', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
    closers.push(() => pool.end());
    const shipped = await loadMigrations();
    const previous = shipped.filter((m) => m.idx < 7);
    expect(previous.map((m) => m.tag).at(-1)).toBe('0006_flow_control');
    await migrate(pool, schemaNames(schema), previous);
    // A job written by the previous version, with its column list.
    const old = newJob({ runAt: T0 - 10, priority: 2, concurrencyKey: 'c', rateLimitKey: 'r' });
    await pool.query(
      `INSERT INTO "${schema}".jobs (id, name, status, args, policy, attempt, max_attempts,
         idempotency_key, parent_id, schedule_id, priority, concurrency_key, rate_limit_key,
         created_at, run_at)
       VALUES ($1, $2, 'pending', $3, $4, 0, $5, NULL, NULL, NULL, $6, $7, $8, $9, $10)`,
      [
        old.id,
        old.name,
        old.args,
        old.policy,
        old.maxAttempts,
        old.priority,
        old.concurrencyKey,
        old.rateLimitKey,
        old.createdAt,
        old.runAt,
      ],
    );

    const storage = await open(schema);
    const applied = await adminQuery(
      `SELECT tag FROM "${schema}".__reseolio_migrations ORDER BY idx`,
    );
    expect(applied.rows.map((row) => row.tag)).toEqual(shipped.map((m) => m.tag));
    expect(old.traceContext).toBeNull();
    expect(await storage.getJob(old.id)).toEqual(pendingRecord(old));
    const claimed = await claimExactly(storage, old);
    expect(claimed).toMatchObject({ id: old.id, traceContext: null, progress: null });
    // New jobs on the upgraded schema store their context.
    const fresh = traced({ name: old.name }, 'after-upgrade');
    await storage.enqueue(fresh);
    expect(await storage.getJob(fresh.id)).toEqual(pendingRecord(fresh));
  });

  it('every enqueueMany path stores the trace context: uniform shared, uniform varying, JSON', async ({
    task,
  }) => {
    const storage = await open(await freshSchema(task.name));
    // One enqueuing span for the whole batch: one shared parameter.
    const shared = [1, 2].map(() => traced({ name: 'shared' }, 'one-span'));
    // A context per job, a null one among them: the array parameter.
    const varying = [traced({ name: 'varying' }, 'a'), newJob({ name: 'varying' })];
    // A keyed batch takes the JSON path.
    const keyed = [traced({ name: 'keyed', idempotencyKey: 'k' }, 'keyed-span')];
    for (const batch of [shared, varying, keyed]) {
      expect(await storage.enqueueMany(batch)).toEqual(
        batch.map((job) => ({ job: pendingRecord(job), deduplicated: false })),
      );
      for (const job of batch) expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
    }
  });
});
