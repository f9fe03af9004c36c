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
    // Flow control (0006). Claims take higher priorities first. The keys name the job's
    // concurrency and rate-limit groups within its name; null is a group of its own. They
    // matter only to claims that carry a rule for the name (ClaimInput.flow).
    priority: integer('priority').notNull().default(0),
    concurrencyKey: text('concurrency_key'),
    rateLimitKey: text('rate_limit_key'),
    ownerId: text('owner_id'),
    leaseToken: text('lease_token'),
    leaseExpiresAt: bigint('lease_expires_at', { mode: 'number' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    runAt: bigint('run_at', { mode: 'number' }).notNull(),
    startedAt: bigint('started_at', { mode: 'number' }),
    completedAt: bigint('completed_at', { mode: 'number' }),
    // While `waiting`: what for, as the engine serialized it (JobRecord.waitingFor).
    waitingFor: text('waiting_for'),
    // The enqueuing span's W3C trace context, as the engine serialized it (JobRecord.traceContext).
    traceContext: text('trace_context'),
    // The last progress the handler reported, serialized (JobRecord.progress).
    progress: text('progress'),
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
    // this index at all. Its columns are the claim's whole ORDER BY (priority first), so a
    // claim reads one priority level's due range, run_at <= now, and stops after `limit`
    // entries; it steps from level to level by probing for the next lower priority (see
    // drizzle/0006_flow_control.sql), so jobs not due yet are never read. Ties on run_at go by
    // id: engine ids are UUIDv7, so that is creation order (no created_at here: every byte of
    // every index entry is paid on every insert). Its predicate is the claim's status
    // condition word for word, or the planner could not use it.
    index('jobs_due_priority_idx')
      .on(t.priority.desc().nullsFirst(), t.runAt, t.id)
      .where(sql`${t.status} in ('pending', 'waiting')`),
    // Flow claims (0006): the claimable jobs of one name by concurrency key, then rate-limit
    // key (null as '', which no key can be), then claim order. A claim walks the distinct
    // (key, key) cells with a due job by probing this index once per cell, and reads only the
    // first few jobs of a cell it takes from: a group's backlog is never read.
    index('jobs_due_flow_idx')
      .on(
        t.name,
        sql`coalesce(${t.concurrencyKey}, '')`,
        sql`coalesce(${t.rateLimitKey}, '')`,
        t.priority.desc().nullsFirst(),
        t.runAt,
        t.id,
      )
      .where(sql`${t.status} in ('pending', 'waiting')`),
    // The lease sweeper looks only at running rows.
    index('jobs_running_lease_idx').on(t.leaseExpiresAt).where(sql`${t.status} = 'running'`),
    // Flow claims count a concurrency group's running jobs whose lease holds (0006): one range
    // of this index per group, whatever else runs.
    index('jobs_running_group_idx')
      .on(t.name, sql`coalesce(${t.concurrencyKey}, '')`, t.leaseExpiresAt)
      .where(sql`${t.status} = 'running'`),
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
    // listJobs({ status: 'dead' }) and 'cancelled' (0009): the rows an operator looks for
    // are a small share of the table, which a backward scan of the primary key would read
    // nearly whole to fill a page. A job enters this index once, when it dies or is
    // cancelled, so the hot path (enqueue, claim, success) never writes it.
    index('jobs_failed_idx').on(t.status, t.id).where(sql`${t.status} in ('dead', 'cancelled')`),
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
 * The ended attempts of a job (0009), one row each, written by the statement that ends the
 * attempt (an ack, a cancel): a claim writes nothing here, since a running attempt is the job
 * row itself. (job_id, lease_token) names an attempt: every claim writes a fresh token.
 * `attempt`, `worker_id` and `started_at` are the job's as they were while it ran. Deleted
 * with their job.
 */
export const attempts = reseolioSchema.table(
  'attempts',
  {
    jobId: uuid('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    leaseToken: text('lease_token').notNull(),
    attempt: integer('attempt').notNull(),
    workerId: text('worker_id'),
    startedAt: bigint('started_at', { mode: 'number' }).notNull(),
    endedAt: bigint('ended_at', { mode: 'number' }).notNull(),
    outcome: text('outcome').notNull(),
    // Serialized StoredError for failed and lost attempts.
    error: text('error'),
  },
  (t) => [
    // Leads with job_id: serves listAttempts and the cascade delete of a purge.
    primaryKey({ columns: [t.jobId, t.leaseToken] }),
    check(
      'attempts_outcome_check',
      sql`${t.outcome} in ('success', 'failed', 'lost', 'suspended', 'released', 'cancelled')`,
    ),
  ],
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

/**
 * The starts of rate-limited groups (0006): one row per job a flow claim started for a name
 * whose rule has a rate limit, at the claim's `now`. `key` is the job's rate-limit key, '' for
 * the null group (keys are never empty). A claim counts a group's rows in `(now - periodMs,
 * now]` and deletes the group's older rows when it adds new ones; it also deletes a few of
 * the oldest rows of its rate-limited names that every window has left (0008), so the rows of
 * groups that start nothing more are deleted too. No primary key: one claim may start several
 * jobs of a group at one time.
 */
export const rateLimitStarts = reseolioSchema.table(
  'rate_limit_starts',
  {
    name: text('name').notNull(),
    key: text('key').notNull(),
    startedAt: bigint('started_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('rate_limit_starts_group_idx').on(t.name, t.key, t.startedAt),
    // A name's oldest starts, whatever their group (0008): the sweep of groups gone idle.
    index('rate_limit_starts_name_idx').on(t.name, t.startedAt),
  ],
);
