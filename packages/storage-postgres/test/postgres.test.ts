import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { claimExactly, fenceOf, LEASE_MS, pendingRecord } from '@reseolio/storage-contract';
import { waitFor } from '@reseolio/test-utils';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { StorageConfigError, StorageError } from 'reseolio';
import type { NewJob, StorageEvent } from 'reseolio/storage';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { PostgresStorageError } from '../src/index.ts';
import { loadMigrations, migrate, migrationLockName, rewriteSchema } from '../src/migrate.ts';
import { schemaNames } from '../src/schema-names.ts';
import { runNode } from './child-process.ts';
import {
  adminQuery,
  appliedTags,
  databaseUrl,
  dropSchema,
  schemaAt,
  schemaFor,
  storageOn,
} from './helpers.ts';

const T0 = 1_700_000_000_000;

function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return {
    id: randomUUID(),
    name: `pg-test:${randomUUID().slice(0, 8)}`,
    args: '[]',
    policy: '{}',
    maxAttempts: 3,
    idempotencyKey: null,
    parentId: null,
    scheduleId: null,
    priority: 0,
    concurrencyKey: null,
    rateLimitKey: null,
    traceContext: null,
    createdAt: T0,
    runAt: T0,
    ...overrides,
  };
}

/** A fresh schema for the current test, dropped when it finishes. */
async function freshSchema(testName: string): Promise<string> {
  const schema = schemaFor('postgres.test', testName);
  await dropSchema(schema);
  onTestFinished(() => dropSchema(schema));
  return schema;
}

/** Backends whose connection string carried this application_name. */
async function backendsOf(applicationName: string, where = 'true'): Promise<number[]> {
  const { rows } = await adminQuery(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND ${where}`,
    [applicationName],
  );
  return rows.map((row) => row.pid as number);
}

async function terminate(pids: number[]): Promise<void> {
  for (const pid of pids) await adminQuery('SELECT pg_terminate_backend($1)', [pid]);
}

function urlWithApplicationName(name: string): string {
  const url = new URL(databaseUrl());
  url.searchParams.set('application_name', name);
  return url.toString();
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

/** Advisory locks on the migration key of `schema`, granted or awaited, by any session. */
async function migrationLocks(schema: string, granted: boolean): Promise<number> {
  const { rows } = await adminQuery(
    `SELECT count(*)::int AS count FROM pg_locks
      WHERE locktype = 'advisory' AND granted = $2
        AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
    [migrationLockName(schemaNames(schema)), granted],
  );
  return rows[0].count as number;
}
const heldMigrationLocks = (schema: string) => migrationLocks(schema, true);
const waitingMigrationLocks = (schema: string) => migrationLocks(schema, false);

describe('migrations', () => {
  it('four processes calling init at once on an empty schema all succeed, migrating once', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const script = fileURLToPath(new URL('./fixtures/init-storage.mjs', import.meta.url));
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => runNode(script, [databaseUrl(), schema])),
    );
    for (const result of results) {
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('initialized\n');
    }
    const applied = await adminQuery(`SELECT tag FROM "${schema}".__reseolio_migrations`);
    const shipped = await loadMigrations();
    expect(applied.rows.map((row) => row.tag)).toEqual(shipped.map((m) => m.tag));
    const tables = await adminQuery(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [schema],
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual([
      '__reseolio_migrations',
      'attempts',
      'jobs',
      'rate_limit_starts',
      'schedules',
      'signals',
      'steps',
    ]);
  });

  it('the shipped SQL names the schema only as a qualifier, so it can be rewritten', async () => {
    for (const migration of await loadMigrations()) {
      for (const statement of migration.statements) {
        const rewritten = rewriteSchema(statement, 'other_schema');
        expect(rewritten).not.toContain('"reseolio"');
        expect(rewritten.replaceAll('"other_schema"', '"reseolio"')).toBe(
          statement.replace('CREATE SCHEMA "reseolio"', 'CREATE SCHEMA IF NOT EXISTS "reseolio"'),
        );
      }
    }
    expect(() => rewriteSchema(`SELECT 'x' AS "reseolio"`, 'other')).toThrow(/qualifier/);
  });

  it('the shipped SQL can all run in one transaction', async () => {
    // migrate() applies every pending migration in one transaction: nothing that refuses a
    // transaction block (CONCURRENTLY, VACUUM), and no enum value added (a later migration
    // in the same transaction could not use it).
    for (const migration of await loadMigrations()) {
      for (const statement of migration.statements) {
        const code = statement.replace(/--[^\n]*/g, '');
        expect(code, migration.tag).not.toMatch(/\b(CONCURRENTLY|VACUUM|ADD\s+VALUE)\b/i);
      }
    }
  });

  it('a failed migration rolls back the whole run, schema included, and leaves no lock', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const names = schemaNames(schema);
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
    closers.push(() => pool.end());
    const [first] = await loadMigrations();
    const broken = {
      idx: 1,
      tag: '0001_broken',
      when: 1,
      hash: 'x',
      statements: ['SELECT * FROM "reseolio"."no_such_table"'],
    };
    await expect(migrate(pool, names, [first!, broken])).rejects.toThrow(
      /Migration 0001_broken failed: relation ".*no_such_table" does not exist/,
    );
    expect(
      (await adminQuery('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rows,
    ).toHaveLength(0);
    expect(await heldMigrationLocks(schema)).toBe(0);
    // The pool is still usable, and a later run applies everything.
    await migrate(pool, names);
    const applied = await adminQuery(`SELECT tag FROM "${schema}".__reseolio_migrations`);
    expect(applied.rows.map((row) => row.tag)).toEqual((await loadMigrations()).map((m) => m.tag));
    expect(await heldMigrationLocks(schema)).toBe(0);
  });

  it('an up-to-date schema is initialised without taking the migration lock', async ({ task }) => {
    const schema = await freshSchema(task.name);
    const first = storageOn(schema);
    closers.push(() => first.close());
    await first.init();
    // A session lock on the key, as a migrator of an earlier version holds while it works.
    const holder = new pg.Client({ connectionString: databaseUrl() });
    await holder.connect();
    closers.push(() => holder.end());
    await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [
      migrationLockName(schemaNames(schema)),
    ]);
    // Nothing pending: init() does not touch the lock, so it completes while it is held.
    const second = storageOn(schema);
    closers.push(() => second.close());
    await second.init();
    expect(await waitingMigrationLocks(schema)).toBe(0);
  });

  it('a migrator that waited on the lock sees everything the holder committed meanwhile', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const warmUp = await freshSchema(`${task.name} warm-up`);
    const names = schemaNames(schema);
    // The holder: one connection, so its session lock and its migration share one session.
    const holder = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
    closers.push(() => holder.end());
    // The waiter: one connection that has already worked (a fresh backend loads its catalog
    // caches on first use, which would hide stale ones).
    const waiter = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
    closers.push(() => waiter.end());
    await migrate(waiter, schemaNames(warmUp));

    await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [
      migrationLockName(names),
    ]);
    // The waiter finds the schema missing, opens its transaction and waits on the lock.
    let outcome: unknown;
    const waiting = migrate(waiter, names).then(
      () => {
        outcome = 'ok';
      },
      (err: unknown) => {
        outcome = err;
      },
    );
    await waitFor(async () => (await waitingMigrationLocks(schema)) === 1, {
      what: 'a lock waiter',
    });
    expect(outcome).toBeUndefined();
    // Meanwhile the holder creates the schema and applies everything, then lets go.
    await migrate(holder, names);
    await holder.query('SELECT pg_advisory_unlock_all()');
    // The waiter must act on what is committed now, not on what its session saw before it
    // got the lock: no second CREATE SCHEMA (a unique violation on pg_namespace).
    await waiting;
    expect(outcome).toBe('ok');
    const applied = await adminQuery(`SELECT tag FROM "${schema}".__reseolio_migrations`);
    expect(applied.rows.map((row) => row.tag)).toEqual((await loadMigrations()).map((m) => m.tag));
    expect(await heldMigrationLocks(schema)).toBe(0);
  });

  it('a schema at the previous migration upgrades: its jobs gain a null schedule id, and schedules work', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    // The migrations before 0004_schedules; the later ones are applied with it.
    const { pool, shipped } = await schemaAt(schema, '0003_lease_token');
    closers.push(() => pool.end());
    // A job written by the previous version, with its column list.
    const old = newJob();
    await pool.query(
      `INSERT INTO "${schema}".jobs (id, name, status, args, policy, attempt, max_attempts,
         created_at, run_at) VALUES ($1, $2, 'pending', $3, $4, 0, $5, $6, $7)`,
      [old.id, old.name, old.args, old.policy, old.maxAttempts, old.createdAt, old.runAt],
    );
    const storage = storageOn(schema);
    closers.push(() => storage.close());
    await storage.init();
    expect(await appliedTags(schema)).toEqual(shipped.map((m) => m.tag));
    expect(await storage.getJob(old.id)).toMatchObject({ id: old.id, scheduleId: null });
    // The claim function returns the table's row type, which now has the new column.
    const [claimed] = await storage.claim({
      leaseToken: randomUUID(),
      names: [old.name],
      ownerId: 'w',
      limit: 1,
      now: T0,
      leaseExpiresAt: T0 + 1_000,
    });
    expect(claimed).toMatchObject({ id: old.id, scheduleId: null, attempt: 1 });
    const { schedule } = await storage.upsertSchedule({
      id: 'upgraded',
      name: old.name,
      cron: '* * * * *',
      timezone: 'UTC',
      args: '[]',
      catchUp: 'latest',
      overlap: 'allow',
      catchUpWindowMs: 0,
      nextRunAt: T0,
      now: T0,
    });
    const tick = newJob({ name: old.name, scheduleId: schedule.id, idempotencyKey: 'tick' });
    const fired = await storage.fireSchedule({
      id: schedule.id,
      claim: { expectedNextRunAt: T0, nextRunAt: T0 + 60_000 },
      jobs: [tick],
      now: T0,
    });
    expect(fired?.schedule.lastJobId).toBe(tick.id);
    expect((await storage.listJobs({ scheduleId: schedule.id })).map((j) => j.id)).toEqual([
      tick.id,
    ]);
  });

  it('a schema at 0006 upgrades: its jobs keep every field and read traceContext and progress null', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const { pool, shipped } = await schemaAt(schema, '0006_flow_control');
    closers.push(() => pool.end());
    // A job written by the previous version, with its column list.
    const old = newJob({ runAt: T0 - 10, priority: 2, concurrencyKey: 'c', rateLimitKey: 'r' });
    await pool.query(
      `INSERT INTO "${schema}".jobs (id, name, status, args, policy, attempt, max_attempts,
         priority, concurrency_key, rate_limit_key, created_at, run_at)
       VALUES ($1, $2, 'pending', $3, $4, 0, $5, $6, $7, $8, $9, $10)`,
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
    const storage = storageOn(schema);
    closers.push(() => storage.close());
    await storage.init();
    expect(await appliedTags(schema)).toEqual(shipped.map((m) => m.tag));
    expect(old.traceContext).toBeNull();
    expect(await storage.getJob(old.id)).toEqual(pendingRecord(old));
    // The claim functions return the table's row type, which now has the new columns.
    const claimed = await claimExactly(storage, old);
    expect(claimed).toMatchObject({ traceContext: null, progress: null });
    const fresh = newJob({ name: old.name, traceContext: '{"traceparent":"after-upgrade"}' });
    await storage.enqueue(fresh);
    expect(await storage.getJob(fresh.id)).toEqual(pendingRecord(fresh));
  });

  it('returns a stored progress from every read: getJob, listJobs, expired leases, the claim after a retry', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const storage = storageOn(schema);
    closers.push(() => storage.close());
    await storage.init();
    const job = newJob();
    await storage.enqueue(job);
    const running = await claimExactly(storage, job);
    // The column as setProgress writes it, from another connection.
    await adminQuery(`UPDATE "${schema}".jobs SET progress = $1 WHERE id = $2`, [
      '{"done":3}',
      job.id,
    ]);
    expect((await storage.getJob(job.id))?.progress).toBe('{"done":3}');
    expect((await storage.listJobs({ name: job.name })).map((j) => j.progress)).toEqual([
      '{"done":3}',
    ]);
    const expired = await storage.listExpiredLeases({ now: T0 + LEASE_MS + 1, limit: 10 });
    expect(expired.map((j) => [j.id, j.progress])).toEqual([[job.id, '{"done":3}']]);
    await storage.ack({ ...fenceOf(running), kind: 'retry', error: '{}', runAt: T0 + 1, now: T0 });
    expect((await claimExactly(storage, job, { now: T0 + 1 })).progress).toBe('{"done":3}');
  });

  it('init with migrate false on an empty schema says to run the migrations', async ({ task }) => {
    const schema = await freshSchema(task.name);
    const storage = storageOn(schema, { migrate: false });
    closers.push(() => storage.close());
    const error = await storage.init().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StorageConfigError);
    expect((error as Error).message).toMatch(/migrate: true/);
  });
});

describe('pool ownership', () => {
  it('a borrowed pool stays open after close, with its error listeners as they were', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
    closers.push(() => pool.end());
    const listenersBefore = pool.listenerCount('error');
    const storage = storageOn(schema, { pool });
    await storage.init();
    await storage.enqueue(newJob());
    await storage.close();
    expect(pool.listenerCount('error')).toBe(listenersBefore);
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('a claim commits without waiting for the WAL flush, and the setting stays in its transaction', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
    closers.push(() => pool.end());
    const storage = storageOn(schema, { pool });
    await storage.init();
    const job = newJob();
    await storage.enqueue(job);
    // One connection: whatever the claim sets, this session would see it.
    const client = await pool.connect();
    try {
      const before = (await client.query('SHOW synchronous_commit')).rows[0].synchronous_commit;
      await client.query('BEGIN');
      await client.query(`SELECT id FROM "${schema}".claim_jobs($1, $2, 1, 'w', 'token', $3)`, [
        T0,
        [job.name],
        T0 + 1000,
      ]);
      const inside = (await client.query('SHOW synchronous_commit')).rows[0].synchronous_commit;
      await client.query('COMMIT');
      const after = (await client.query('SHOW synchronous_commit')).rows[0].synchronous_commit;
      expect({ before, inside, after }).toEqual({ before: 'on', inside: 'off', after: 'on' });
    } finally {
      client.release();
    }
    // Through the adapter, as the engine claims: the host's session is left as it was.
    await storage.enqueue(newJob({ name: job.name }));
    expect(
      await storage.claim({
        leaseToken: randomUUID(),
        names: [job.name],
        ownerId: 'w',
        limit: 1,
        now: T0,
        leaseExpiresAt: T0 + 1000,
      }),
    ).toHaveLength(1);
    expect((await pool.query('SHOW synchronous_commit')).rows[0].synchronous_commit).toBe('on');
    await storage.close();
  });

  it('an owned pool is ended by close', async ({ task }) => {
    const schema = await freshSchema(task.name);
    const applicationName = `owned-${randomUUID().slice(0, 8)}`;
    const storage = storageOn(schema, {
      connectionString: urlWithApplicationName(applicationName),
    });
    await storage.init();
    expect((await backendsOf(applicationName)).length).toBeGreaterThan(0);
    await storage.close();
    const error = await storage.getJob(randomUUID()).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PostgresStorageError);
    await expect(storage.subscribe(() => {})).rejects.toThrow(/closed/);
    await waitFor(async () => (await backendsOf(applicationName)).length === 0, {
      what: 'disconnect',
    });
  });
});

describe('errors', () => {
  it('statement errors are wrapped with the driver error as cause; unknown ids are just unknown', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const storage = storageOn(schema);
    closers.push(() => storage.close());
    await storage.init();
    expect(await storage.getJob('nope')).toBeUndefined();
    expect(await storage.cancel('nope', T0)).toBe(false);
    const job = newJob();
    await storage.enqueue(job);
    // Same id, different name and no key: a primary-key violation, not a dedup.
    const error = await storage.enqueue({ ...job, name: 'other' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PostgresStorageError);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as PostgresStorageError).code).toBe('RESEOLIO_STORAGE');
    expect((error as PostgresStorageError).sqlState).toBe('23505');
    expect((error as PostgresStorageError).driverCode).toBe('23505');
    expect((error as PostgresStorageError).operation).toBe('enqueue');
    expect((error as Error).cause).toBeInstanceOf(pg.DatabaseError);
  });

  it('a query against a dropped schema is a StorageError, like every adapter’s', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const storage = storageOn(schema);
    closers.push(() => storage.close());
    await storage.init();
    await dropSchema(schema);
    const error = await storage.getJob(randomUUID()).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toBeInstanceOf(PostgresStorageError);
    const storageError = error as PostgresStorageError;
    expect(storageError.name).toBe('PostgresStorageError');
    expect(storageError.code).toBe('RESEOLIO_STORAGE');
    expect(storageError.operation).toBe('getJob');
    // 42P01 undefined_table
    expect(storageError.driverCode).toBe('42P01');
    expect(storageError.sqlState).toBe('42P01');
    expect(storageError.cause).toBeInstanceOf(pg.DatabaseError);
    expect((storageError.cause as pg.DatabaseError).code).toBe('42P01');
    expect(storageError.message).toMatch(
      /^PostgreSQL storage: getJob failed \(42P01\): relation "/,
    );
  });

  it('a failed migration keeps the SQLSTATE of the statement that failed', async ({ task }) => {
    const schema = await freshSchema(task.name);
    // A table in the way of the first migration's CREATE TABLE: 42P07 duplicate_table, raised
    // inside the migrator, which wraps it with the migration's tag.
    await adminQuery(`CREATE SCHEMA "${schema}"`);
    await adminQuery(`CREATE TABLE "${schema}".jobs (x int)`);
    const storage = storageOn(schema);
    closers.push(() => storage.close());
    const error = await storage.init().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PostgresStorageError);
    expect((error as PostgresStorageError).operation).toBe(`migrating schema "${schema}"`);
    expect((error as PostgresStorageError).sqlState).toBe('42P07');
    expect((error as Error).message).toMatch(
      /Migration 0000_\w+ failed: relation "jobs" already exists/,
    );
  });

  it('concurrent duplicates with one idempotency key make one job and never error', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const instances = [storageOn(schema), storageOn(schema), storageOn(schema)];
    closers.push(() => Promise.all(instances.map((s) => s.close())));
    await Promise.all(instances.map((s) => s.init()));
    const name = 'dedup:race';
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        instances[i % 3]!.enqueue(newJob({ name, idempotencyKey: 'same' })),
      ),
    );
    expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
    expect(results.filter((r) => !r.deduplicated)).toHaveLength(1);
    expect(await instances[0]!.listJobs({ name })).toHaveLength(1);
  });
});

describe('notifications', () => {
  /** Two adapters on one fresh schema: one to listen, one to write. */
  async function listenerAndWriter(testName: string) {
    const schema = await freshSchema(testName);
    const listener = storageOn(schema);
    const writer = storageOn(schema);
    closers.push(
      () => listener.close(),
      () => writer.close(),
    );
    await Promise.all([listener.init(), writer.init()]);
    return { listener, writer };
  }

  it('LISTEN delivers ready and finished events across two adapter instances within ms', async ({
    task,
  }) => {
    const { listener, writer } = await listenerAndWriter(task.name);
    const events: { event: StorageEvent; at: number }[] = [];
    await listener.subscribe((event) => events.push({ event, at: performance.now() }));

    const job = newJob();
    const sentAt = performance.now();
    await writer.enqueue(job);
    await waitFor(() => events.length >= 1, { what: 'ready' });
    expect(events[0]!.event).toEqual({ type: 'ready', name: job.name, runAt: T0 });
    expect(events[0]!.at - sentAt).toBeLessThan(250);

    const [claimed] = await writer.claim({
      leaseToken: randomUUID(),
      names: [job.name],
      ownerId: 'w',
      limit: 1,
      now: T0,
      leaseExpiresAt: T0 + 1_000,
    });
    await writer.ack({
      id: job.id,
      leaseToken: claimed!.leaseToken!,
      kind: 'success',
      result: '1',
      now: T0,
    });
    await waitFor(() => events.length >= 2, { what: 'finished' });
    expect(events[1]!.event).toEqual({
      type: 'finished',
      jobId: job.id,
      status: 'success',
      outcome: { result: '1', error: null },
    });
  });

  it('finished notifications carry the outcome while it fits in a NOTIFY payload', async ({
    task,
  }) => {
    // PostgreSQL refuses payloads of 8000 bytes or more, and the refusal would abort the ack:
    // a big result must still commit, announced without its outcome (waiters then read it).
    const { listener, writer } = await listenerAndWriter(task.name);
    const finished = new Map<string, StorageEvent>();
    await listener.subscribe((event) => {
      if (event.type === 'finished') finished.set(event.jobId, event);
    });
    const name = `outcome:${randomUUID().slice(0, 8)}`;
    const jobs = Array.from({ length: 5 }, () => newJob({ name }));
    await writer.enqueueMany(jobs);
    const claimed = await writer.claim({
      leaseToken: randomUUID(),
      names: [name],
      ownerId: 'w',
      limit: 5,
      now: T0,
      leaseExpiresAt: T0 + 60_000,
    });
    const fence = (id: string) => {
      const job = claimed.find((j) => j.id === id)!;
      return { id, leaseToken: job.leaseToken! };
    };
    // Quotes double in JSON: 5,000 of them are 10,000 bytes once escaped.
    const big = JSON.stringify('"'.repeat(5_000));
    const [small, large, batchA, batchB, bigBatch] = jobs.map((job) => job.id) as [
      string,
      string,
      string,
      string,
      string,
    ];
    expect(await writer.ack({ ...fence(small), kind: 'success', result: '"s"', now: T0 })).toBe(
      true,
    );
    expect(await writer.ack({ ...fence(large), kind: 'success', result: big, now: T0 })).toBe(true);
    expect(
      await writer.ackMany([
        { ...fence(batchA), kind: 'success', result: '"a"', now: T0 },
        { ...fence(batchB), kind: 'success', result: '"b"', now: T0 },
      ]),
    ).toEqual([true, true]);
    expect(
      await writer.ackMany([{ ...fence(bigBatch), kind: 'success', result: big, now: T0 }]),
    ).toEqual([true]);
    await waitFor(() => finished.size === 5, { what: 'five finished events' });
    const outcomeOf = (id: string) => (finished.get(id) as { outcome?: unknown }).outcome;
    expect(outcomeOf(small)).toEqual({ result: '"s"', error: null });
    expect(outcomeOf(large)).toBeUndefined();
    expect(outcomeOf(batchA)).toEqual({ result: '"a"', error: null });
    expect(outcomeOf(batchB)).toEqual({ result: '"b"', error: null });
    expect(outcomeOf(bigBatch)).toBeUndefined();
    expect((await writer.getJob(large))?.result).toBe(big);
  });

  it('with listen false nothing LISTENs, events stay in-process and crossProcessNotify is off', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const applicationName = `nolisten-${randomUUID().slice(0, 8)}`;
    const storage = storageOn(schema, {
      listen: false,
      connectionString: urlWithApplicationName(applicationName),
    });
    closers.push(() => storage.close());
    await storage.init();
    expect(storage.capabilities.crossProcessNotify).toBe(false);
    const events: StorageEvent[] = [];
    await storage.subscribe((event) => events.push(event));
    const job = newJob();
    await storage.enqueue(job);
    expect(events).toEqual([{ type: 'ready', name: job.name, runAt: T0 }]);
    expect(await backendsOf(applicationName, `query LIKE 'LISTEN%'`)).toEqual([]);
  });

  it('a terminated LISTEN connection reconnects, re-LISTENs and emits resync', async ({ task }) => {
    const schema = await freshSchema(task.name);
    const applicationName = `listen-${randomUUID().slice(0, 8)}`;
    const listener = storageOn(schema, {
      connectionString: urlWithApplicationName(applicationName),
    });
    const writer = storageOn(schema);
    closers.push(
      () => listener.close(),
      () => writer.close(),
    );
    await Promise.all([listener.init(), writer.init()]);
    const events: StorageEvent[] = [];
    await listener.subscribe((event) => events.push(event));

    const listening = await backendsOf(applicationName, `query LIKE 'LISTEN%'`);
    expect(listening).toHaveLength(1);
    await terminate(listening);
    await waitFor(() => events.some((e) => e.type === 'resync'), { what: 'resync' });
    // A new backend is LISTENing, and writes made after the resync are delivered again.
    const relistening = await backendsOf(applicationName, `query LIKE 'LISTEN%'`);
    expect(relistening).toHaveLength(1);
    expect(relistening[0]).not.toBe(listening[0]);
    const job = newJob();
    await writer.enqueue(job);
    await waitFor(() => events.some((e) => e.type === 'ready' && e.name === job.name), {
      what: 'ready after reconnect',
    });
  });
});

describe('transactional enqueue', () => {
  async function setupPair(testName: string) {
    const schema = await freshSchema(testName);
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 3 });
    const storage = storageOn(schema, { pool });
    const observer = storageOn(schema);
    closers.push(
      () => pool.end(),
      () => storage.close(),
      () => observer.close(),
    );
    await Promise.all([storage.init(), observer.init()]);
    const events: StorageEvent[] = [];
    await observer.subscribe((event) => events.push(event));
    return { pool, storage, observer, events };
  }

  const claimOne = (
    storage: { claim: typeof import('../src/index.ts').PostgresStorage.prototype.claim },
    name: string,
  ) =>
    storage.claim({
      names: [name],
      ownerId: 'w',
      leaseToken: randomUUID(),
      limit: 1,
      now: T0,
      leaseExpiresAt: T0 + 1,
    });

  it('with a pg client: rollback leaves no job and no event; commit makes it claimable and announced', async ({
    task,
  }) => {
    const { pool, storage, observer, events } = await setupPair(task.name);
    const client = await pool.connect();
    try {
      const rolledBack = newJob();
      await client.query('BEGIN');
      await storage.enqueue(rolledBack, { transaction: client });
      expect(await observer.getJob(rolledBack.id)).toBeUndefined(); // not visible before commit
      await client.query('ROLLBACK');
      expect(await observer.getJob(rolledBack.id)).toBeUndefined();

      const committed = newJob();
      await client.query('BEGIN');
      await storage.enqueue(committed, { transaction: client });
      expect(await claimOne(observer, committed.name)).toEqual([]);
      await client.query('COMMIT');
      await waitFor(() => events.length > 0, { what: 'ready after commit' });
      expect(events).toEqual([{ type: 'ready', name: committed.name, runAt: T0 }]);
      expect((await claimOne(observer, committed.name)).map((j) => j.id)).toEqual([committed.id]);
    } finally {
      client.release();
    }
  });

  it('with a drizzle transaction: rollback leaves no job; commit makes it claimable and announced', async ({
    task,
  }) => {
    const { pool, storage, observer, events } = await setupPair(task.name);
    const db = drizzle(pool);
    const rolledBack = newJob();
    const rollback = new Error('rollback on purpose');
    await expect(
      db.transaction(async (tx) => {
        await storage.enqueue(rolledBack, { transaction: tx });
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(await observer.getJob(rolledBack.id)).toBeUndefined();

    const committed = newJob({ idempotencyKey: 'k' });
    const result = await db.transaction(async (tx) => {
      const enqueued = await storage.enqueue(committed, { transaction: tx });
      expect(await observer.getJob(committed.id)).toBeUndefined();
      return enqueued;
    });
    expect(result.deduplicated).toBe(false);
    await waitFor(() => events.length > 0, { what: 'ready after commit' });
    expect(events).toEqual([{ type: 'ready', name: committed.name, runAt: T0 }]);
    expect((await claimOne(observer, committed.name)).map((j) => j.id)).toEqual([committed.id]);
  });

  it('rejects a transaction it cannot use, storing nothing', async ({ task }) => {
    const { storage, observer } = await setupPair(task.name);
    const job = newJob();
    await expect(storage.enqueue(job, { transaction: { begin() {} } })).rejects.toBeInstanceOf(
      StorageConfigError,
    );
    expect(await observer.getJob(job.id)).toBeUndefined();
  });

  it('refuses a lease inside a caller transaction, storing nothing', async ({ task }) => {
    // The engine never asks for both: a job leased in a transaction that rolls back would
    // already be running.
    const { storage, observer } = await setupPair(task.name);
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
    const client = await pool.connect();
    onTestFinished(async () => {
      client.release(true);
      await pool.end();
    });
    await client.query('BEGIN');
    const job = newJob();
    await expect(
      storage.enqueue(job, {
        transaction: client,
        lease: { ownerId: 'w', leaseToken: randomUUID(), leaseExpiresAt: T0 + 30_000 },
      }),
    ).rejects.toThrow(/`transaction` or `lease`, not both/);
    await client.query('COMMIT');
    expect(await observer.getJob(job.id)).toBeUndefined();
  });
});

describe('connection loss', () => {
  /**
   * A one-connection storage on a fresh schema, with a second client (`blocker`) that can hold
   * locks: a statement of the storage then waits, and `blockedBackend()` finds its backend so
   * the test can kill it mid-statement.
   */
  async function storageAndBlocker(testName: string) {
    const schema = await freshSchema(testName);
    const applicationName = `blocked-${randomUUID().slice(0, 8)}`;
    const storage = storageOn(schema, {
      poolSize: 1,
      connectionString: urlWithApplicationName(applicationName),
    });
    closers.push(() => storage.close());
    await storage.init();
    const blocker = new pg.Client({ connectionString: databaseUrl() });
    await blocker.connect();
    closers.push(() => blocker.end());
    const blockedBackend = async () => {
      let blocked: number[] = [];
      await waitFor(
        async () => {
          blocked = await backendsOf(applicationName, `wait_event_type = 'Lock'`);
          return blocked.length === 1;
        },
        { what: 'the statement to wait on the lock' },
      );
      return blocked;
    };
    return { schema, storage, blocker, blockedBackend };
  }

  it('an idle pooled connection terminated under the adapter does not crash it', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const applicationName = `idle-${randomUUID().slice(0, 8)}`;
    const storage = storageOn(schema, {
      poolSize: 1,
      connectionString: urlWithApplicationName(applicationName),
    });
    closers.push(() => storage.close());
    await storage.init();
    await terminate(await backendsOf(applicationName));
    const job = newJob();
    await storage.enqueue(job);
    expect((await storage.getJob(job.id))?.status).toBe('pending');
  });

  it('a claim or heartbeat whose connection is terminated mid-statement is not re-sent with its stale lease', async ({
    task,
  }) => {
    // Both carry a lease deadline computed before they were sent. Re-sent after an outage, a
    // claim committed a lease that had already expired (another node then ran the job while
    // it ran here). They fail instead, and the engine sends new ones with fresh times.
    const { schema, storage, blocker, blockedBackend } = await storageAndBlocker(task.name);
    const job = newJob();
    await storage.enqueue(job);
    const killWhenBlocked = async () => terminate(await blockedBackend());

    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE "${schema}".jobs IN ACCESS EXCLUSIVE MODE`);
    const claiming = storage.claim({
      leaseToken: randomUUID(),
      names: [job.name],
      ownerId: 'w',
      limit: 1,
      now: T0,
      leaseExpiresAt: T0 + 1_000,
    });
    const claimFailed = expect(claiming).rejects.toThrow(PostgresStorageError);
    await killWhenBlocked();
    await blocker.query('ROLLBACK');
    await claimFailed;
    expect(await storage.getJob(job.id)).toMatchObject({ status: 'pending', attempt: 0 });

    const [claimed] = await storage.claim({
      leaseToken: randomUUID(),
      names: [job.name],
      ownerId: 'w',
      limit: 1,
      now: T0,
      leaseExpiresAt: T0 + 1_000,
    });
    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE "${schema}".jobs IN ACCESS EXCLUSIVE MODE`);
    const heartbeating = storage.heartbeat({
      jobs: [{ id: job.id, leaseToken: claimed!.leaseToken! }],
      leaseExpiresAt: T0 + 2_000,
    });
    const heartbeatFailed = expect(heartbeating).rejects.toThrow(PostgresStorageError);
    await killWhenBlocked();
    await blocker.query('ROLLBACK');
    await heartbeatFailed;
    expect((await storage.getJob(job.id))?.leaseExpiresAt).toBe(T0 + 1_000);
  });

  it('an ack and an enqueue whose connection is terminated mid-statement are re-sent and succeed', async ({
    task,
  }) => {
    // Hold a lock that makes the worker's statement wait, kill its backend while it waits,
    // then let go: the statement never ran, so only a re-send can make it happen.
    const { schema, storage, blocker, blockedBackend } = await storageAndBlocker(task.name);
    const job = newJob();
    await storage.enqueue(job);

    const claimed = await storage.claim({
      leaseToken: randomUUID(),
      names: [job.name],
      ownerId: 'w',
      limit: 1,
      now: T0,
      leaseExpiresAt: T0 + 1_000,
    });
    expect(claimed.map((j) => j.id)).toEqual([job.id]);

    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM "${schema}".jobs WHERE id = $1 FOR UPDATE`, [job.id]);
    const acking = storage.ack({
      id: job.id,
      leaseToken: claimed[0]!.leaseToken!,
      kind: 'success',
      result: '"done"',
      now: T0 + 5,
    });
    await terminate(await blockedBackend());
    await blocker.query('ROLLBACK');
    expect(await acking).toBe(true);
    const done = await storage.getJob(job.id);
    expect(done).toMatchObject({ status: 'success', result: '"done"', completedAt: T0 + 5 });

    // The same for an enqueue: re-sent after its backend dies, stored once, under its own id.
    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE "${schema}".jobs IN ACCESS EXCLUSIVE MODE`);
    const second = newJob();
    const enqueuing = storage.enqueue(second);
    await terminate(await blockedBackend());
    await blocker.query('ROLLBACK');
    expect(await enqueuing).toMatchObject({ deduplicated: false, job: { id: second.id } });
    expect(await storage.listJobs({ name: second.name })).toHaveLength(1);
  });
});

/**
 * Statements that lock many rows must take their locks in one order (by id, or by key for
 * inserts), or two of them over the same rows in opposite orders deadlock and PostgreSQL
 * aborts one. A worker's heartbeat and its batched acks cover the same jobs at once, so an
 * aborted ack once left a finished job to run a second time.
 */
describe('lock order', () => {
  const ROUNDS = 15;
  const JOBS = 200;

  it('a heartbeat and an ackMany over the same jobs in opposite orders never deadlock', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const storage = storageOn(schema, { poolSize: 4 });
    closers.push(() => storage.close());
    await storage.init();
    const name = 'lock-order:ack';
    for (let round = 0; round < ROUNDS; round++) {
      await storage.enqueueMany(Array.from({ length: JOBS }, () => newJob({ name })));
      const now = T0 + round;
      const claimed = await storage.claim({
        leaseToken: randomUUID(),
        names: [name],
        ownerId: 'w',
        limit: JOBS,
        now,
        leaseExpiresAt: now + 60_000,
      });
      expect(claimed).toHaveLength(JOBS);
      const held = claimed.map((job) => ({ id: job.id, leaseToken: job.leaseToken! }));
      const [heartbeat, acked] = await Promise.all([
        storage.heartbeat({ jobs: held, leaseExpiresAt: now + 120_000 }),
        storage.ackMany(
          claimed.toReversed().map((job) => ({
            kind: 'success' as const,
            id: job.id,
            leaseToken: job.leaseToken!,
            result: '1',
            now,
          })),
        ),
      ]);
      expect(acked.every(Boolean)).toBe(true);
      expect(heartbeat.length).toBeLessThanOrEqual(JOBS);
    }
  }, 60_000);

  it('two enqueueMany calls with the same keys in opposite orders never deadlock', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const [a, b] = [storageOn(schema), storageOn(schema)];
    closers.push(() => Promise.all([a.close(), b.close()]));
    await Promise.all([a.init(), b.init()]);
    const name = 'lock-order:enqueue';
    for (let round = 0; round < ROUNDS; round++) {
      const keys = Array.from({ length: JOBS }, (_, i) => `r${round}:k${i}`);
      const batch = (list: string[]) =>
        list.map((idempotencyKey) => newJob({ name, idempotencyKey }));
      const [first, second] = await Promise.all([
        a.enqueueMany(batch(keys)),
        b.enqueueMany(batch(keys.toReversed())),
      ]);
      // One job per key, whichever call won it.
      const ids = new Map(first.map((r, i) => [keys[i], r.job.id]));
      second.forEach((r, i) => {
        expect(r.job.id).toBe(ids.get(keys[JOBS - 1 - i]));
      });
    }
    expect(await a.listJobs({ name, limit: 10_000 })).toHaveLength(ROUNDS * JOBS);
  }, 60_000);
});
