import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgSchema,
  primaryKey,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * The schema name drizzle-kit writes into the generated migrations. At runtime the migrator
 * rewrites it to the configured `schema` option (see `migrate.ts`), so nothing in `drizzle/`
 * may use this word for anything but the schema: no table, column or index is named `reseolio`.
 */
export const SOURCE_SCHEMA = 'reseolio';

export const reseolioSchema = pgSchema(SOURCE_SCHEMA);

/**
 * One row per job. Times are epoch milliseconds chosen by the engine (`bigint`, never
 * `timestamptz`/`now()`), so the contract suite drives time and no timezone maths exists.
 */
export const jobs = reseolioSchema.table(
  'jobs',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    status: text('status').notNull(),
    args: text('args').notNull(),
    result: text('result'),
    error: text('error'),
    policy: text('policy').notNull(),
    attempt: integer('attempt').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    idempotencyKey: text('idempotency_key'),
    parentId: uuid('parent_id'),
    // The schedule that made the job. No foreign key: deleting a schedule keeps its jobs, and
    // a job's insert must not lock the schedule row (a tick already holds it).
    scheduleId: text('schedule_id'),
    ownerId: text('owner_id'),
    leaseToken: text('lease_token'),
    leaseExpiresAt: bigint('lease_expires_at', { mode: 'number' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    runAt: bigint('run_at', { mode: 'number' }).notNull(),
    startedAt: bigint('started_at', { mode: 'number' }),
    completedAt: bigint('completed_at', { mode: 'number' }),
    // While `waiting`: what for, as the engine serialized it (JobRecord.waitingFor).
    waitingFor: text('waiting_for'),
    // Adapter-private, set only while `waiting`: what wakes the job besides its run_at. The
    // topic of the signal it waits for, and whether a child's end wakes it.
    wakeTopic: text('wake_topic'),
    wakeChildren: boolean('wake_children'),
  },
  (t) => [
    check(
      'jobs_status_check',
      sql`${t.status} in ('pending', 'running', 'waiting', 'success', 'dead', 'cancelled')`,
    ),
    // Claim scans only claimable rows (pending, and waiting ones whose run_at came) in claim
    // order: its cost stays flat however many finished jobs pile up, because they are not in
    // this index at all. Its columns are the claim's whole ORDER BY, so a claim reads about
    // `limit` entries and stops. Ties on run_at go by id: engine ids are UUIDv7, so that is
    // creation order (no created_at here: every byte of every index entry is paid on every
    // insert). Its predicate is the claim's status condition word for word, or the planner
    // could not use it.
    index('jobs_due_run_at_idx')
      .on(t.runAt, t.id)
      .where(sql`${t.status} in ('pending', 'waiting')`),
    // The lease sweeper looks only at running rows.
    index('jobs_running_lease_idx').on(t.leaseExpiresAt).where(sql`${t.status} = 'running'`),
    // Idempotency is scoped to (function name, key); enqueue's ON CONFLICT targets this index.
    uniqueIndex('jobs_name_idempotency_key_idx')
      .on(t.name, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index('jobs_parent_idx').on(t.parentId).where(sql`${t.parentId} is not null`),
    // Retention purge deletes final jobs by completion time.
    index('jobs_completed_idx')
      .on(t.completedAt)
      .where(sql`${t.status} in ('success', 'dead', 'cancelled')`),
    // listJobs({ scheduleId }) pages a schedule's runs newest first: a backward scan of this
    // index. Partial, so direct calls (most jobs) pay nothing for it on insert.
    index('jobs_schedule_idx').on(t.scheduleId, t.id).where(sql`${t.scheduleId} is not null`),
    // No other index for listJobs: it pages newest first by id, on the primary key (UUIDv7 ids
    // are time-ordered). A (created_at, id) index cost about a tenth of the bulk insert rate.
  ],
);

/**
 * One row per schedule. The id is the application's (`'reports:daily'`). Times are epoch ms
 * the engine chose, like the jobs'. `last_job_id` has no foreign key: a purge may delete the
 * job while the schedule still names it.
 */
export const schedules = reseolioSchema.table(
  'schedules',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    cron: text('cron').notNull(),
    timezone: text('timezone').notNull(),
    args: text('args').notNull(),
    status: text('status').notNull(),
    catchUp: text('catch_up').notNull(),
    overlap: text('overlap').notNull(),
    catchUpWindowMs: bigint('catch_up_window_ms', { mode: 'number' }).notNull(),
    nextRunAt: bigint('next_run_at', { mode: 'number' }),
    lastRunAt: bigint('last_run_at', { mode: 'number' }),
    lastJobId: uuid('last_job_id'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    check('schedules_status_check', sql`${t.status} in ('active', 'paused')`),
    check('schedules_catch_up_check', sql`${t.catchUp} in ('skip', 'latest', 'all')`),
    check('schedules_overlap_check', sql`${t.overlap} in ('allow', 'skip')`),
    // listDueSchedules and nextScheduleRunAt: active schedules with a next run, soonest first
    // (ties by id). Paused and finished (null next run) schedules are not in it.
    index('schedules_due_idx')
      .on(t.nextRunAt, t.id)
      .where(sql`${t.status} = 'active' and ${t.nextRunAt} is not null`),
  ],
);

/**
 * The recorded steps of a job's handler (a step's result, a sleep's wake time, a consumed
 * signal), one per key, the first value of a key kept. Deleted with their job.
 */
export const steps = reseolioSchema.table(
  'steps',
  {
    jobId: uuid('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.key] })],
);

/**
 * Signals sent to a job, kept until a wait on their topic consumes them (`consumed_at`). Ids
 * are the engine's UUIDv7: a topic's signals are consumed in id order. Deleted with their job.
 */
export const signals = reseolioSchema.table(
  'signals',
  {
    id: uuid('id').primaryKey(),
    jobId: uuid('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    topic: text('topic').notNull(),
    payload: text('payload').notNull(),
    idempotencyKey: text('idempotency_key'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    consumedAt: bigint('consumed_at', { mode: 'number' }),
  },
  (t) => [
    // A signal's duplicate (same job, same key) is not stored: signal's ON CONFLICT targets
    // this. NULL keys never conflict. Its leading job_id also serves the cascade delete.
    unique('signals_job_idempotency_key_unique').on(t.jobId, t.idempotencyKey),
    // consumeSignal and the suspension's wake check: a job's unconsumed signals of a topic,
    // oldest first.
    index('signals_unconsumed_idx').on(t.jobId, t.topic, t.id).where(sql`${t.consumedAt} is null`),
  ],
);
