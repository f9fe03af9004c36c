import { sql } from 'drizzle-orm';
import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';

/**
 * The tables Reseolio keeps in SQLite, jobs first. Names are prefixed `reseolio_` so they sit
 * beside the host application's tables; times are integer epoch milliseconds chosen by the
 * engine. Changing this file means running `pnpm db:generate` and committing the new migration.
 */
export const jobs = sqliteTable(
  'reseolio_jobs',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    status: text('status', {
      enum: ['pending', 'running', 'waiting', 'success', 'dead', 'cancelled'],
    }).notNull(),
    args: text('args').notNull(),
    result: text('result'),
    error: text('error'),
    policy: text('policy').notNull(),
    attempt: integer('attempt').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    idempotencyKey: text('idempotency_key'),
    parentId: text('parent_id'),
    /** The schedule whose tick (or trigger) made the job; null for a direct call. */
    scheduleId: text('schedule_id'),
    ownerId: text('owner_id'),
    leaseToken: text('lease_token'),
    leaseExpiresAt: integer('lease_expires_at'),
    createdAt: integer('created_at').notNull(),
    runAt: integer('run_at').notNull(),
    startedAt: integer('started_at'),
    completedAt: integer('completed_at'),
    /** While `waiting`: what for, as the engine serialized it (`JobRecord.waitingFor`). */
    waitingFor: text('waiting_for'),
    /** The enqueuing span's W3C trace context, as the engine serialized it (`JobRecord.traceContext`). */
    traceContext: text('trace_context'),
    /** The last progress the handler reported, serialized (`JobRecord.progress`). */
    progress: text('progress'),
    /**
     * While `waiting`, what wakes the job besides its `run_at` (the suspension's
     * `WakeCondition`): a signal of `wake_topic`, or, when `wake_children` is 1, a child
     * reaching a final status. Both null for a sleep and in every other status. Adapter-private:
     * not part of `JobRecord`.
     */
    wakeTopic: text('wake_topic'),
    wakeChildren: integer('wake_children'),
    /** Claims take higher priorities first (`JobRecord.priority`, an int4). */
    priority: integer('priority').notNull().default(0),
    /** The job's concurrency group within its name (`FlowRule.concurrency`); null is a group. */
    concurrencyKey: text('concurrency_key'),
    /** The job's rate-limit group within its name (`FlowRule.rateLimit`); null is a group. */
    rateLimitKey: text('rate_limit_key'),
  },
  (t) => [
    // Dedup: SQLite treats NULLs as distinct here, so jobs without a key never collide.
    uniqueIndex('reseolio_jobs_name_idempotency_key_uq').on(t.name, t.idempotencyKey),
    // The other indexes are partial: each holds only the rows its query looks at, so a job
    // enters and leaves each index at most once in its life instead of moving inside every
    // index on every status change. Against full indexes led by `status` (quick bench pass,
    // same run): drain at concurrency 10 +13-20 %, bulk insert about 4x.
    // Claim: `status IN ('pending', 'waiting') AND run_at <= now ORDER BY priority DESC,
    // run_at, created_at`, read one priority level at a time (`priority = ? AND run_at <= now`,
    // then the next lower level that has rows), so that jobs not yet due (far-future run_at,
    // waits with a long timeout) are never scanned, whatever their priority. A waiting job is
    // claimable at its `run_at` (a sleep's end, a wait's timeout) like a pending one, and a
    // wake only moves its `run_at` to now.
    index('reseolio_jobs_claim_idx')
      .on(t.priority, t.runAt, t.createdAt)
      .where(sql`${t.status} IN ('pending', 'waiting')`),
    // Claims with flow rules (`ClaimInput.flow`): the jobs of a ruled name by (concurrency key,
    // rate-limit key) pair, found by a skip scan, and each pair's due jobs in claim order, read
    // level by level like the plain claim. A group of either key is a set of pairs, so one
    // index serves both kinds of rule: every job sits in two claim indexes, not three. (Two
    // indexes, one per key, cost a drain of unkeyed jobs about a third more per job, enqueue
    // and claim, in a raw-SQL measurement; one costs about a tenth.)
    index('reseolio_jobs_flow_idx')
      .on(t.name, t.concurrencyKey, t.rateLimitKey, sql`${t.priority} DESC`, t.runAt, t.createdAt)
      .where(sql`${t.status} IN ('pending', 'waiting')`),
    // Sweep: `status = 'running' AND lease_expires_at < now`.
    index('reseolio_jobs_running_lease_idx')
      .on(t.leaseExpiresAt)
      .where(sql`${t.status} = 'running'`),
    // listJobs pages newest first by id, on the primary key's index (UUIDv7 ids are
    // time-ordered). Children by parent; purge scans final jobs by completion time.
    index('reseolio_jobs_parent_idx').on(t.parentId).where(sql`${t.parentId} IS NOT NULL`),
    // A schedule's runs, newest first: `schedule_id = ? ORDER BY id DESC` walks it backwards.
    index('reseolio_jobs_schedule_idx')
      .on(t.scheduleId, t.id)
      .where(sql`${t.scheduleId} IS NOT NULL`),
    index('reseolio_jobs_completed_idx').on(t.completedAt).where(sql`${t.completedAt} IS NOT NULL`),
  ],
);

/**
 * The ended attempts of jobs (`AttemptRecord`), one row each, inserted in the transaction that
 * ends the attempt (an ack, a cancel) from the job row as it was: a claim writes nothing here,
 * since a running attempt is the job row itself. (job_id, lease_token) names an attempt:
 * every claim writes a fresh token. Deleted with their job by `purge`.
 */
export const attempts = sqliteTable(
  'reseolio_attempts',
  {
    jobId: text('job_id').notNull(),
    leaseToken: text('lease_token').notNull(),
    attempt: integer('attempt').notNull(),
    workerId: text('worker_id'),
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at').notNull(),
    outcome: text('outcome', {
      enum: ['success', 'failed', 'lost', 'suspended', 'released', 'cancelled'],
    }).notNull(),
    error: text('error'),
  },
  // Leads with job_id: listAttempts and purge find a job's attempts on it.
  (t) => [primaryKey({ columns: [t.jobId, t.leaseToken] })],
);

/**
 * Schedules (`ScheduleRecord`): the definition an application declares, its status, and the
 * next tick to fire, which `fireSchedule` claims by compare-and-set together with its jobs.
 */
export const schedules = sqliteTable(
  'reseolio_schedules',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    cron: text('cron').notNull(),
    timezone: text('timezone').notNull(),
    args: text('args').notNull(),
    status: text('status', { enum: ['active', 'paused'] }).notNull(),
    catchUp: text('catch_up', { enum: ['skip', 'latest', 'all'] }).notNull(),
    overlap: text('overlap', { enum: ['allow', 'skip'] }).notNull(),
    catchUpWindowMs: integer('catch_up_window_ms').notNull(),
    nextRunAt: integer('next_run_at'),
    lastRunAt: integer('last_run_at'),
    lastJobId: text('last_job_id'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    // Due lookups are per function name, of active schedules only: `listDueSchedules`
    // (`next_run_at <= now`, soonest first) and `nextScheduleRunAt` (the smallest) each read
    // a range of this index per name. Paused schedules and those that never fire again stay
    // out of it.
    index('reseolio_schedules_due_idx')
      .on(t.name, t.nextRunAt)
      .where(sql`${t.status} = 'active' AND ${t.nextRunAt} IS NOT NULL`),
  ],
);

/**
 * The outbox of storage events (`ready`, `finished`) for other processes on the file: each
 * write transaction that announces events adds one row in the same transaction, so a row
 * exists exactly when its change committed. Readers follow `seq`, SQLite's rowid: write
 * transactions are serialized by the write lock, so rows commit in `seq` order and a reader
 * that has seen `seq` n never finds a later commit below n. No AUTOINCREMENT: pruning never
 * deletes the newest row, so the next rowid stays above every one handed out before.
 * See src/cross-process-feed.ts.
 */
export const events = sqliteTable('reseolio_events', {
  seq: integer('seq').primaryKey(),
  /** The writing module instance (see `ORIGIN` in src/outbox.ts): it skips its own rows. */
  origin: integer('origin').notNull(),
  /** JSON array of the transaction's `StorageEvent`s, without `finished` outcomes. */
  events: text('events').notNull(),
});

/**
 * Who reads the outbox: one row per listening adapter (a running `CrossProcessFeed`), renewed
 * while it runs and deleted when it stops. Writers add outbox rows only while a listener of
 * another origin is registered and unexpired, so a process alone on its file pays nothing for
 * them. `expires_at` is epoch ms on the machine's clock, which every process on one SQLite file
 * shares; a listener that renews late knows rows may have been skipped and resyncs.
 */
export const listeners = sqliteTable('reseolio_listeners', {
  /** Random per feed: two adapters of one process register, and leave, separately. */
  id: integer('id').primaryKey(),
  origin: integer('origin').notNull(),
  expiresAt: integer('expires_at').notNull(),
});

/**
 * Recorded steps of a job's handler (`StepRecord`): the first value of a key wins. Deleted
 * with their job by `purge`; kept by `retry`, so a workflow resumes where it stopped.
 */
export const steps = sqliteTable(
  'reseolio_steps',
  {
    jobId: text('job_id').notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.key] })],
);

/**
 * Signals sent to jobs (`SignalInput`), kept until a wait on their topic consumes them
 * (`consumed_at` set). Ids are UUIDv7: a topic's signals are consumed in id order. Deleted
 * with their job by `purge`.
 */
export const signals = sqliteTable(
  'reseolio_signals',
  {
    id: text('id').primaryKey(),
    jobId: text('job_id').notNull(),
    topic: text('topic').notNull(),
    payload: text('payload').notNull(),
    idempotencyKey: text('idempotency_key'),
    createdAt: integer('created_at').notNull(),
    consumedAt: integer('consumed_at'),
  },
  (t) => [
    // A second signal with the same key to the same job is a duplicate; NULL keys never
    // collide. Leads with job_id, so purge finds a job's signals on it too.
    uniqueIndex('reseolio_signals_job_idempotency_key_uq').on(t.jobId, t.idempotencyKey),
    // The oldest unconsumed signal of a topic (consumeSignal, a suspension's wake check).
    index('reseolio_signals_unconsumed_idx')
      .on(t.jobId, t.topic, t.id)
      .where(sql`${t.consumedAt} IS NULL`),
  ],
);

/**
 * The starts of rate-limited groups (`FlowRule.rateLimit`): one row per job a claim started of
 * a name whose rule has a rate limit, so every process on the file counts the same window.
 * `key` is the job's `rate_limit_key`, '' for the null group (core refuses empty keys). A claim
 * deletes a group's rows older than the window when it adds to it.
 */
export const rateLimitStarts = sqliteTable(
  'reseolio_rate_limit_starts',
  {
    name: text('name').notNull(),
    key: text('key').notNull(),
    startedAt: integer('started_at').notNull(),
  },
  // The window of one group: `name = ? AND key = ? AND started_at > now - period`.
  (t) => [index('reseolio_rate_limit_starts_idx').on(t.name, t.key, t.startedAt)],
);
