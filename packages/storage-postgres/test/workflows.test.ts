import { enqueueRunning, fenceOf, newJob, T0, timeOrderedId } from '@reseolio/storage-contract';
import pg from 'pg';
import type { AckInput, JobRecord, WakeCondition } from 'reseolio/storage';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { loadMigrations, migrate } from '../src/migrate.ts';
import type { PostgresStorage } from '../src/postgres-storage.ts';
import { schemaNames } from '../src/schema-names.ts';
import { claimPlan } from './claim-plan.ts';
import { adminQuery, databaseUrl, dropSchema, schemaFor, storageOn } from './helpers.ts';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

async function freshSchema(testName: string): Promise<string> {
  const schema = schemaFor('workflows.test', testName);
  await dropSchema(schema);
  onTestFinished(() => dropSchema(schema));
  return schema;
}

async function open(schema: string): Promise<PostgresStorage> {
  const storage = storageOn(schema, { listen: false });
  closers.push(() => storage.close());
  await storage.init();
  return storage;
}

function suspend(job: JobRecord, wake: WakeCondition, runAt = T0 + 60_000): AckInput {
  return {
    ...fenceOf(job),
    kind: 'suspend',
    attempt: job.attempt - 1,
    runAt,
    waitingFor: '{"kind":"test"}',
    wake,
    now: T0 + 1,
  };
}

function claimAt(storage: PostgresStorage, name: string, now: number) {
  return storage.claim({
    names: [name],
    ownerId: 'w',
    leaseToken: `token-${Math.random()}`,
    limit: 10,
    now,
    leaseExpiresAt: now + 30_000,
  });
}

describe('workflows on PostgreSQL', () => {
  it('a schema at 0004 upgrades: its pending job is claimed, and a job can wait and be woken', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
    closers.push(() => pool.end());
    const shipped = await loadMigrations();
    const previous = shipped.filter((m) => m.idx < 5);
    expect(previous.map((m) => m.tag).at(-1)).toBe('0004_schedules');
    await migrate(pool, schemaNames(schema), previous);
    // A job written by the previous version, with its column list.
    const old = newJob();
    await pool.query(
      `INSERT INTO "${schema}".jobs (id, name, status, args, policy, attempt, max_attempts,
         schedule_id, created_at, run_at) VALUES ($1, $2, 'pending', $3, $4, 0, $5, NULL, $6, $7)`,
      [old.id, old.name, old.args, old.policy, old.maxAttempts, old.createdAt, old.runAt],
    );
    const storage = await open(schema);
    const applied = await adminQuery(
      `SELECT tag FROM "${schema}".__reseolio_migrations ORDER BY idx`,
    );
    expect(applied.rows.map((row) => row.tag)).toEqual(shipped.map((m) => m.tag));
    const indexes = await adminQuery(
      `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'jobs'`,
      [schema],
    );
    const indexNames = indexes.rows.map((row) => row.indexname);
    // 0005's claim index, replaced in 0006 by one in priority order.
    expect(indexNames).toContain('jobs_due_priority_idx');
    expect(indexNames).not.toContain('jobs_due_run_at_idx');
    expect(indexNames).not.toContain('jobs_pending_run_at_idx');
    expect(await storage.getJob(old.id)).toMatchObject({ status: 'pending', waitingFor: null });

    const [claimed] = await claimAt(storage, old.name, T0);
    expect(claimed).toMatchObject({ id: old.id, attempt: 1, waitingFor: null });
    expect(await storage.ack(suspend(claimed!, { kind: 'signal', topic: 'go' }))).toBe(true);
    expect(await storage.getJob(old.id)).toMatchObject({
      status: 'waiting',
      waitingFor: '{"kind":"test"}',
      runAt: T0 + 60_000,
    });
    expect(await claimAt(storage, old.name, T0 + 2)).toEqual([]);
    expect(
      await storage.signal({
        id: timeOrderedId(T0 + 3),
        jobId: old.id,
        topic: 'go',
        payload: '1',
        idempotencyKey: null,
        now: T0 + 3,
      }),
    ).toEqual({ status: 'stored', woke: true });
    const [resumed] = await claimAt(storage, old.name, T0 + 3);
    expect(resumed).toMatchObject({ id: old.id, attempt: 1, waitingFor: null });
  });

  it('the claim reads its index in claim order and stops, for pending and waiting jobs alike', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const storage = await open(schema);
    // Mostly finished jobs, a few due: the statistics then say almost nothing is claimable.
    await adminQuery(
      `INSERT INTO "${schema}".jobs (id, name, status, args, policy, max_attempts, created_at,
         run_at, completed_at)
       SELECT gen_random_uuid(), 'n', 'success', '[]', '{}', 1, $1, $1, $1
       FROM generate_series(1, 20000)`,
      [T0],
    );
    for (let i = 0; i < 5; i++) await storage.enqueue(newJob({ name: 'n' }));
    await adminQuery(`ANALYZE "${schema}".jobs`);
    // A waiting job due now is claimed like a pending one.
    await adminQuery(
      `INSERT INTO "${schema}".jobs (id, name, status, args, policy, max_attempts, created_at,
         run_at, waiting_for) VALUES (gen_random_uuid(), 'n', 'waiting', '[]', '{}', 1, $1, $1, '{}')`,
      [T0],
    );
    const plan = await claimPlan(schema, { now: T0, names: ['n'], limit: 10 });
    expect(plan.text).toMatch(/Index Scan using jobs_due_priority_idx/);
    expect(plan.text).not.toMatch(/Sort|Bitmap|Seq Scan/);
    // It read its index in claim order and stopped: the five due pending jobs and the waiting
    // one were taken, and the finished jobs (most of the table's pages) were not read.
    expect(plan.updated).toBe(6);
    const [{ pages }] = (
      await adminQuery(`SELECT relpages AS pages FROM pg_class WHERE oid = $1::regclass`, [
        `"${schema}".jobs`,
      ])
    ).rows;
    expect(plan.buffers).toBeLessThan(pages / 2);
  });

  it('a signal and a suspension waiting for it, at once: the job never stays waiting', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const [a, b] = [await open(schema), await open(schema)];
    for (let i = 0; i < 40; i++) {
      const job = await enqueueRunning(a);
      const [suspended, signalled] = await Promise.all([
        a.ack(suspend(job, { kind: 'signal', topic: 't' })),
        b.signal({
          id: timeOrderedId(T0 + 2),
          jobId: job.id,
          topic: 't',
          payload: String(i),
          idempotencyKey: null,
          now: T0 + 2,
        }),
      ]);
      expect(suspended).toBe(true);
      expect(signalled.status).toBe('stored');
      // Woken either way: by the signal, or at once by the suspension that saw it.
      expect((await a.getJob(job.id))?.status).toBe('pending');
    }
  });

  it("a child's end and its parent's suspension waiting for it, at once: the parent never stays waiting", async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const [a, b] = [await open(schema), await open(schema)];
    for (let i = 0; i < 40; i++) {
      const parent = await enqueueRunning(a);
      const child = await enqueueRunning(a, { parentId: parent.id });
      const end: AckInput =
        i % 3 === 0
          ? { ...fenceOf(child), kind: 'dead', error: '{}', now: T0 + 2 }
          : { ...fenceOf(child), kind: 'success', result: '1', now: T0 + 2 };
      const [suspended, ended] = await Promise.all([
        a.ack(suspend(parent, { kind: 'children', jobIds: [child.id] })),
        // ackMany of several successes takes the batch statement.
        i % 3 === 2 ? b.ackMany([end, { ...end, id: (await enqueueRunning(a)).id }]) : b.ack(end),
      ]);
      expect(suspended).toBe(true);
      expect(ended === true || (Array.isArray(ended) && ended[0] === true)).toBe(true);
      expect((await a.getJob(parent.id))?.status).toBe('pending');
    }
  });
});
