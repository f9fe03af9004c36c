import { randomUUID } from 'node:crypto';
import { waitFor } from '@reseolio/test-utils';
import pg from 'pg';
import type { NewJob, ScheduleUpsert } from 'reseolio/storage';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { claimSql } from '../src/queries/fire-schedule.ts';
import { schemaNames } from '../src/schema-names.ts';
import { adminQuery, databaseUrl, dropSchema, schemaFor, storageOn } from './helpers.ts';

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

async function freshSchema(testName: string): Promise<string> {
  const schema = schemaFor('schedules.test', testName);
  await dropSchema(schema);
  onTestFinished(() => dropSchema(schema));
  return schema;
}

function urlWithApplicationName(name: string): string {
  const url = new URL(databaseUrl());
  url.searchParams.set('application_name', name);
  return url.toString();
}

/** Backends of `applicationName` waiting on a lock (a row lock, here). */
async function lockWaiters(applicationName: string): Promise<number[]> {
  const { rows } = await adminQuery(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
    [applicationName],
  );
  return rows.map((row) => row.pid as number);
}

function declaration(overrides: Partial<ScheduleUpsert> = {}): ScheduleUpsert {
  return {
    id: `s:${randomUUID().slice(0, 8)}`,
    name: `schedules-test:${randomUUID().slice(0, 8)}`,
    cron: '* * * * *',
    timezone: 'UTC',
    args: '[]',
    catchUp: 'latest',
    overlap: 'allow',
    catchUpWindowMs: 86_400_000,
    nextRunAt: T0,
    now: T0,
    ...overrides,
  };
}

/** The job of one tick, keyed on (schedule, tick) as the engine keys it. */
function tickJob(schedule: { id: string; name: string }, tick: number): NewJob {
  return {
    id: randomUUID(),
    name: schedule.name,
    args: '[]',
    policy: '{}',
    maxAttempts: 3,
    idempotencyKey: `schedule:${schedule.id}:${tick}`,
    parentId: null,
    scheduleId: schedule.id,
    priority: 0,
    concurrencyKey: null,
    rateLimitKey: null,
    traceContext: null,
    createdAt: tick,
    runAt: tick,
  };
}

describe('fireSchedule transactions', () => {
  it('a tick whose client dies after the compare-and-set, before COMMIT, stays unclaimed: the next fire makes exactly one job', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const names = schemaNames(schema);
    const applicationName = `tick-${randomUUID().slice(0, 8)}`;
    const storage = storageOn(schema, {
      poolSize: 2,
      connectionString: urlWithApplicationName(applicationName),
    });
    closers.push(() => storage.close());
    await storage.init();
    const { schedule } = await storage.upsertSchedule(declaration());

    // A node that claimed the tick and inserted its job, then died before COMMIT: the same
    // statements the adapter runs, on a client of our own.
    const victim = new pg.Client({ connectionString: databaseUrl() });
    victim.on('error', () => {}); // its backend is about to be terminated
    await victim.connect();
    const doomed = tickJob(schedule, T0);
    await victim.query('BEGIN');
    const claimed = await victim.query(claimSql(names, true), [
      schedule.id,
      T0,
      T0 + MINUTE,
      doomed.runAt,
      doomed.id,
    ]);
    expect(claimed.rows).toHaveLength(1);
    await victim.query(
      `INSERT INTO "${schema}".jobs (id, name, status, args, policy, attempt, max_attempts,
         idempotency_key, schedule_id, created_at, run_at)
       VALUES ($1, $2, 'pending', $3, $4, 0, $5, $6, $7, $8, $9)`,
      [
        doomed.id,
        doomed.name,
        doomed.args,
        doomed.policy,
        doomed.maxAttempts,
        doomed.idempotencyKey,
        doomed.scheduleId,
        doomed.createdAt,
        doomed.runAt,
      ],
    );

    // Meanwhile another node fires the same tick: it waits on the victim's row lock.
    const survivor = tickJob(schedule, T0);
    const firing = storage.fireSchedule({
      id: schedule.id,
      claim: { expectedNextRunAt: T0, nextRunAt: T0 + MINUTE },
      jobs: [survivor],
      now: T0,
    });
    await waitFor(async () => (await lockWaiters(applicationName)).length === 1, {
      what: 'the second fire to wait on the schedule row',
    });
    const { rows } = await victim.query('SELECT pg_backend_pid() AS pid');
    await adminQuery('SELECT pg_terminate_backend($1)', [rows[0].pid]);

    // The victim's claim and job died with its session; the waiting fire claims the tick.
    const fired = await firing;
    expect(fired?.jobs).toEqual([
      { job: expect.objectContaining({ id: survivor.id }), deduplicated: false },
    ]);
    expect(fired?.schedule).toMatchObject({ nextRunAt: T0 + MINUTE, lastJobId: survivor.id });
    const runs = await storage.listJobs({ scheduleId: schedule.id });
    expect(runs.map((job) => job.id)).toEqual([survivor.id]);
    expect(await storage.getJob(doomed.id)).toBeUndefined();
    // And the tick cannot be claimed again.
    expect(
      await storage.fireSchedule({
        id: schedule.id,
        claim: { expectedNextRunAt: T0, nextRunAt: T0 + MINUTE },
        jobs: [tickJob(schedule, T0)],
        now: T0,
      }),
    ).toBeUndefined();
  });

  it('with no one waiting, a dead tick transaction leaves next_run_at as it was', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const names = schemaNames(schema);
    const storage = storageOn(schema);
    closers.push(() => storage.close());
    await storage.init();
    const { schedule } = await storage.upsertSchedule(declaration());
    const victim = new pg.Client({ connectionString: databaseUrl() });
    victim.on('error', () => {});
    await victim.connect();
    await victim.query('BEGIN');
    await victim.query(claimSql(names, false), [schedule.id, T0, T0 + MINUTE]);
    // The socket goes away under the open transaction (a crashed node): the server rolls back.
    const ended = new Promise((resolve) => victim.once('end', resolve));
    (
      victim as unknown as { connection: { stream: { destroy(): void } } }
    ).connection.stream.destroy();
    await ended;
    await waitFor(
      async () =>
        (
          await adminQuery(
            `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
              WHERE c.relname = 'schedules' AND c.relnamespace = $1::regnamespace`,
            [schema],
          )
        ).rows.length === 0,
      { what: 'the dead transaction to end' },
    );
    expect((await storage.getSchedule(schedule.id))?.nextRunAt).toBe(T0);
    const job = tickJob(schedule, T0);
    const fired = await storage.fireSchedule({
      id: schedule.id,
      claim: { expectedNextRunAt: T0, nextRunAt: T0 + MINUTE },
      jobs: [job],
      now: T0,
    });
    expect(fired?.schedule.nextRunAt).toBe(T0 + MINUTE);
    expect((await storage.listJobs({ scheduleId: schedule.id })).map((j) => j.id)).toEqual([
      job.id,
    ]);
  });

  it('a fire whose connection is terminated mid-transaction is re-sent and makes one job', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const applicationName = `refire-${randomUUID().slice(0, 8)}`;
    const storage = storageOn(schema, {
      poolSize: 1,
      connectionString: urlWithApplicationName(applicationName),
    });
    closers.push(() => storage.close());
    await storage.init();
    const { schedule } = await storage.upsertSchedule(declaration());
    // Hold the schedule row so the fire's compare-and-set waits, then kill the fire's backend.
    const blocker = new pg.Client({ connectionString: databaseUrl() });
    await blocker.connect();
    closers.push(() => blocker.end());
    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM "${schema}".schedules WHERE id = $1 FOR UPDATE`, [
      schedule.id,
    ]);
    const job = tickJob(schedule, T0);
    const firing = storage.fireSchedule({
      id: schedule.id,
      claim: { expectedNextRunAt: T0, nextRunAt: T0 + MINUTE },
      jobs: [job],
      now: T0,
    });
    let waiting: number[] = [];
    await waitFor(
      async () => {
        waiting = await lockWaiters(applicationName);
        return waiting.length === 1;
      },
      { what: 'the fire to wait on the schedule row' },
    );
    await adminQuery('SELECT pg_terminate_backend($1)', [waiting[0]]);
    await blocker.query('ROLLBACK');
    const fired = await firing;
    expect(fired?.jobs.map((r) => r.job.id)).toEqual([job.id]);
    expect(fired?.schedule).toMatchObject({ nextRunAt: T0 + MINUTE, lastJobId: job.id });
    expect(await storage.listJobs({ scheduleId: schedule.id })).toHaveLength(1);
  });
});
