import type { Database, Statement } from 'better-sqlite3';
import type { JobRecord, JobState, JobStatus, StepRecord } from 'reseolio/storage';
import { prepareScheduleStatements, type ScheduleStatements } from './schedule-statements.ts';

/** Columns aliased to `JobRecord` fields, so rows need no mapping. */
const JOB = `id, name, status, args, result, error, policy, attempt,
  max_attempts AS maxAttempts, idempotency_key AS idempotencyKey, parent_id AS parentId,
  schedule_id AS scheduleId, owner_id AS ownerId, lease_token AS leaseToken, lease_expires_at AS leaseExpiresAt, created_at AS createdAt,
  run_at AS runAt, started_at AS startedAt, completed_at AS completedAt, waiting_for AS waitingFor`;

/** Leaving `waiting`: what it waited for, and what would have woken it, cleared. */
const NOT_WAITING = 'waiting_for = NULL, wake_topic = NULL, wake_children = NULL';

/**
 * A wake: a waiting job becomes claimable now (a signal of its topic, a child's end). Used with
 * a WHERE that checks the job is still waiting for that.
 */
const WAKE = `SET status = 'pending', run_at = @now, ${NOT_WAITING}`;

/** The statuses after which a job does not run again unless retried. */
const FINAL = `('success', 'dead', 'cancelled')`;

/**
 * The fence every write on behalf of an attempt carries: the row must still hold the lease
 * token its claim wrote, and still be running. Every claim writes a fresh token, so a worker
 * whose lease was swept, whose job was cancelled (and maybe retried and claimed again), that
 * handed it back, or which acks twice matches no row: its late write changes nothing.
 */
const FENCE = `id = @id AND lease_token = @leaseToken AND status = 'running'`;

/**
 * An ack's fence: the attempt's, and, when the engine ends an attempt whose lease it found
 * expired (`@leaseExpiredBefore` set), the lease still expired. A heartbeat committed since
 * the listing extended it, and then the heartbeat wins.
 */
const ACK_FENCE = `${FENCE} AND (@leaseExpiredBefore IS NULL OR lease_expires_at < @leaseExpiredBefore)`;

/** A job's unconsumed signals of a topic (the partial unconsumed index). */
const UNCONSUMED = 'job_id = @id AND topic = @topic AND consumed_at IS NULL';

/** What a finishing write returns ({@link FinishedRow}). */
const FINISHED = 'name, result, error, parent_id AS parentId';

/**
 * Prepared statements for the hot paths (enqueue, claim, ack, heartbeat, sweep), compiled
 * once per connection. Parameters are named (`@now`) to keep the SQL readable.
 * @internal
 */
export interface Statements extends ScheduleStatements {
  insert: Statement<object, JobRecord>;
  insertLeased: Statement<object, JobRecord>;
  findByKey: Statement<object, JobRecord>;
  getJob: Statement<[string], JobRecord>;
  getJobStates: Statement<[string], JobState>;
  claim: Statement<object, ClaimedRow>;
  heartbeat: Statement<object, { id: string }>;
  ackSuccess: Statement<object, FinishedRow>;
  ackRetry: Statement<object, { name: string }>;
  ackDead: Statement<object, FinishedRow>;
  ackRelease: Statement<object, { name: string }>;
  ackSuspend: Statement<object, { name: string }>;
  listExpiredLeases: Statement<object, JobRecord>;
  cancel: Statement<object, { name: string; parentId: string | null }>;
  retry: Statement<object, { name: string }>;
  purge: Statement<object, string>;
  purgeSteps: Statement<[string]>;
  purgeSignals: Statement<[string]>;
  /** The parent of a job that reached a final status, when it waits for children. */
  wakeParent: Statement<object, { name: string }>;
  /** The job, when it waits for a signal of `@topic`. */
  wakeForSignal: Statement<object, { name: string }>;
  /** 1 when one of the jobs (a JSON array of ids) has a final status. */
  anyFinal: Statement<[string], 1>;
  /** 1 when the job has an unconsumed signal of the topic. */
  hasSignal: Statement<object, 1>;
  /** 1 when the attempt's fence holds. */
  holds: Statement<object, 1>;
  signalTarget: Statement<[string], { status: JobStatus }>;
  insertSignal: Statement<object, 1>;
  consumeSignal: Statement<object, string>;
  insertStep: Statement<object, 1>;
  listSteps: Statement<[string], StepRecord>;
}

/**
 * A claimed job's columns that the claim does not already know (status, owner, lease and
 * start are what it just set; result and completed_at are null on every claimable job), as
 * an array: `.raw()` rows skip building a 19-property object per job in the driver, which
 * cost a claim of 10 jobs about a fifth of its time. {@link claimedRecord} makes the record.
 */
export type ClaimedRow = [
  id: string,
  name: string,
  args: string,
  error: string | null,
  policy: string,
  attempt: number,
  maxAttempts: number,
  idempotencyKey: string | null,
  parentId: string | null,
  scheduleId: string | null,
  createdAt: number,
  runAt: number,
];

/** The claimed job's record, from its {@link ClaimedRow} and what the claim set. */
export function claimedRecord(
  row: ClaimedRow,
  claim: { ownerId: string; leaseToken: string; leaseExpiresAt: number; now: number },
): JobRecord {
  const [
    id,
    name,
    args,
    error,
    policy,
    attempt,
    maxAttempts,
    idempotencyKey,
    parentId,
    scheduleId,
    createdAt,
    runAt,
  ] = row;
  return {
    id,
    name,
    status: 'running',
    args,
    result: null,
    error,
    policy,
    attempt,
    maxAttempts,
    idempotencyKey,
    parentId,
    scheduleId,
    ownerId: claim.ownerId,
    leaseToken: claim.leaseToken,
    leaseExpiresAt: claim.leaseExpiresAt,
    createdAt,
    runAt,
    startedAt: claim.now,
    completedAt: null,
    waitingFor: null,
  };
}

/**
 * What a finishing ack returns: enough to announce the job with its outcome, and its parent,
 * to wake when it waits for children.
 */
interface FinishedRow {
  name: string;
  result: string | null;
  error: string | null;
  parentId: string | null;
}

/** @internal */
export function prepareStatements(db: Database): Statements {
  return {
    ...prepareScheduleStatements(db),
    // Dedup without errors: a concurrent duplicate hits the unique (name, idempotency_key)
    // index, inserts nothing, and the caller then reads the existing row in the same
    // transaction. The conflict target is only that index, so a reused job id still fails.
    insert: db.prepare(`
      INSERT INTO reseolio_jobs (id, name, status, args, policy, attempt, max_attempts,
        idempotency_key, parent_id, schedule_id, created_at, run_at)
      VALUES (@id, @name, 'pending', @args, @policy, 0, @maxAttempts, @idempotencyKey,
        @parentId, @scheduleId, @createdAt, @runAt)
      ON CONFLICT (name, idempotency_key) DO NOTHING
      RETURNING ${JOB}`),
    // The same insert, already leased to the engine that will run it (`EnqueueOptions.lease`):
    // as if claimed at `createdAt`.
    insertLeased: db.prepare(`
      INSERT INTO reseolio_jobs (id, name, status, args, policy, attempt, max_attempts,
        idempotency_key, parent_id, schedule_id, owner_id, lease_token, lease_expires_at,
        created_at, run_at, started_at)
      VALUES (@id, @name, 'running', @args, @policy, 1, @maxAttempts, @idempotencyKey,
        @parentId, @scheduleId, @ownerId, @leaseToken, @leaseExpiresAt, @createdAt, @runAt, @createdAt)
      ON CONFLICT (name, idempotency_key) DO NOTHING
      RETURNING ${JOB}`),
    findByKey: db.prepare(
      `SELECT ${JOB} FROM reseolio_jobs WHERE name = @name AND idempotency_key = @idempotencyKey`,
    ),
    getJob: db.prepare(`SELECT ${JOB} FROM reseolio_jobs WHERE id = ?`),
    // The ids arrive as one JSON array, so one prepared statement serves any batch size.
    getJobStates: db.prepare(
      `SELECT id, status, result, error FROM reseolio_jobs
       WHERE id IN (SELECT value FROM json_each(?))`,
    ),

    // One statement selects and leases the batch. It runs inside BEGIN IMMEDIATE, so the
    // write lock is held from the SELECT on: no other process can lease the same rows in
    // between, and nobody waits on a read-to-write lock upgrade (SQLITE_BUSY_SNAPSHOT).
    // `names` is a JSON array expanded by json_each, so one prepared statement fits any list.
    // INDEXED BY pins the partial claimable index (pending and waiting jobs): without statistics (nobody runs ANALYZE on
    // an embedded database) the planner prefers the (name, key) index, reading every job of
    // that name, finished ones included, and sorting them.
    claim: db
      .prepare<object, ClaimedRow>(`
      UPDATE reseolio_jobs
      SET status = 'running', owner_id = @ownerId, lease_token = @leaseToken,
        lease_expires_at = @leaseExpiresAt, started_at = @now, attempt = attempt + 1,
        ${NOT_WAITING}
      WHERE id IN (
        SELECT id FROM reseolio_jobs INDEXED BY reseolio_jobs_claimable_idx
        WHERE status IN ('pending', 'waiting') AND run_at <= @now
          AND name IN (SELECT value FROM json_each(@names))
        ORDER BY run_at, created_at
        LIMIT @limit)
      RETURNING id, name, args, error, policy, attempt, max_attempts, idempotency_key,
        parent_id, schedule_id, created_at, run_at`)
      .raw(),
    heartbeat: db.prepare(`
      UPDATE reseolio_jobs SET lease_expires_at = @leaseExpiresAt WHERE ${FENCE} RETURNING id`),

    ackSuccess: db.prepare(`
      UPDATE reseolio_jobs
      SET status = 'success', result = @result, completed_at = @now,
        owner_id = NULL, lease_expires_at = NULL
      WHERE ${ACK_FENCE} RETURNING ${FINISHED}`),
    ackRetry: db.prepare(`
      UPDATE reseolio_jobs
      SET status = 'pending', error = @error, run_at = @runAt,
        owner_id = NULL, lease_expires_at = NULL
      WHERE ${ACK_FENCE} RETURNING name`),
    ackDead: db.prepare(`
      UPDATE reseolio_jobs
      SET status = 'dead', error = @error, completed_at = @now,
        owner_id = NULL, lease_expires_at = NULL
      WHERE ${ACK_FENCE} RETURNING ${FINISHED}`),
    // Handing back on shutdown: claimable at once, with the attempt count the engine gives
    // (it gives back the attempt the claim counted).
    ackRelease: db.prepare(`
      UPDATE reseolio_jobs
      SET status = 'pending', attempt = @attempt, run_at = @now,
        owner_id = NULL, lease_expires_at = NULL
      WHERE ${ACK_FENCE} RETURNING name`),
    // A suspension: the caller checked the wake condition in the same transaction and passes
    // the status (`waiting`, or `pending` due now when it held) and the wait's columns.
    ackSuspend: db.prepare(`
      UPDATE reseolio_jobs
      SET status = @status, attempt = @attempt, run_at = @runAt, waiting_for = @waitingFor,
        wake_topic = @wakeTopic, wake_children = @wakeChildren,
        owner_id = NULL, lease_expires_at = NULL
      WHERE ${ACK_FENCE} RETURNING name`),
    wakeParent: db.prepare(`
      UPDATE reseolio_jobs ${WAKE}
      WHERE id = @parentId AND status = 'waiting' AND wake_children = 1
      RETURNING name`),
    wakeForSignal: db.prepare(`
      UPDATE reseolio_jobs ${WAKE}
      WHERE id = @jobId AND status = 'waiting' AND wake_topic = @topic
      RETURNING name`),
    anyFinal: db
      .prepare<[string], 1>(`
      SELECT 1 FROM reseolio_jobs
      WHERE id IN (SELECT value FROM json_each(?)) AND status IN ${FINAL} LIMIT 1`)
      .pluck(),
    hasSignal: db
      .prepare<object, 1>(`
      SELECT 1 FROM reseolio_signals
      WHERE ${UNCONSUMED} LIMIT 1`)
      .pluck(),

    // Running jobs whose lease expired strictly before `now`: the engine ends each lost attempt
    // with a fenced ack (ACK_FENCE). A read; the partial running-lease index serves it.
    listExpiredLeases: db.prepare(`
      SELECT ${JOB} FROM reseolio_jobs INDEXED BY reseolio_jobs_running_lease_idx
      WHERE status = 'running' AND lease_expires_at < @now
      ORDER BY lease_expires_at
      LIMIT @limit`),

    cancel: db.prepare(`
      UPDATE reseolio_jobs
      SET status = 'cancelled', completed_at = @now, owner_id = NULL, lease_expires_at = NULL,
        ${NOT_WAITING}
      WHERE id = @id AND status IN ('pending', 'running', 'waiting')
      RETURNING name, parent_id AS parentId`),
    retry: db.prepare(`
      UPDATE reseolio_jobs
      SET status = 'pending', attempt = 0, run_at = @now, completed_at = NULL,
        owner_id = NULL, lease_expires_at = NULL
      WHERE id = @id AND status IN ('dead', 'cancelled')
      RETURNING name`),
    // Bounded by LIMIT so a large backlog is deleted in short transactions. Returns the ids,
    // whose steps and signals the same transaction deletes (JSON arrays, as claims' names).
    purge: db
      .prepare<object, string>(`
      DELETE FROM reseolio_jobs WHERE id IN (
        SELECT id FROM reseolio_jobs
        WHERE status IN ${FINAL} AND completed_at < @completedBefore
        LIMIT @limit)
      RETURNING id`)
      .pluck(),
    purgeSteps: deleteOfJobs(db, 'reseolio_steps'),
    purgeSignals: deleteOfJobs(db, 'reseolio_signals'),

    holds: db.prepare<object, 1>(`SELECT 1 FROM reseolio_jobs WHERE ${FENCE}`).pluck(),
    signalTarget: db.prepare('SELECT status FROM reseolio_jobs WHERE id = ?'),
    // A duplicate key for the job inserts nothing and returns no row. The conflict target is
    // only that index, so a reused signal id still fails.
    insertSignal: db
      .prepare<object, 1>(`
      INSERT INTO reseolio_signals (id, job_id, topic, payload, idempotency_key, created_at)
      VALUES (@id, @jobId, @topic, @payload, @idempotencyKey, @now)
      ON CONFLICT (job_id, idempotency_key) DO NOTHING
      RETURNING 1`)
      .pluck(),
    // The oldest unconsumed signal of the topic, marked consumed; returns its payload.
    consumeSignal: db
      .prepare<object, string>(`
      UPDATE reseolio_signals SET consumed_at = @now
      WHERE id = (SELECT id FROM reseolio_signals WHERE ${UNCONSUMED} ORDER BY id LIMIT 1)
      RETURNING payload`)
      .pluck(),
    // The first value of a key wins: a second insert returns no row.
    insertStep: db
      .prepare<object, 1>(`
      INSERT INTO reseolio_steps (job_id, key, value, created_at)
      VALUES (@id, @key, @value, @now)
      ON CONFLICT (job_id, key) DO NOTHING
      RETURNING 1`)
      .pluck(),
    listSteps: db.prepare(
      'SELECT key, value, created_at AS createdAt FROM reseolio_steps WHERE job_id = ?',
    ),
  };
}

/** Deletes the rows of `table` that belong to the jobs of a JSON array of ids. */
function deleteOfJobs(db: Database, table: string): Statement<[string]> {
  return db.prepare(`DELETE FROM ${table} WHERE job_id IN (SELECT value FROM json_each(?))`);
}
