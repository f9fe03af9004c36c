import type { Database, Statement } from 'better-sqlite3';
import type { JobRecord, JobState } from 'reseolio/storage';
import { prepareScheduleStatements, type ScheduleStatements } from './schedule-statements.ts';

/** Columns aliased to `JobRecord` fields, so rows need no mapping. */
const JOB = `id, name, status, args, result, error, policy, attempt,
  max_attempts AS maxAttempts, idempotency_key AS idempotencyKey, parent_id AS parentId,
  schedule_id AS scheduleId, owner_id AS ownerId, lease_token AS leaseToken, lease_expires_at AS leaseExpiresAt, created_at AS createdAt,
  run_at AS runAt, started_at AS startedAt, completed_at AS completedAt`;

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
  listExpiredLeases: Statement<object, JobRecord>;
  cancel: Statement<object, { id: string }>;
  retry: Statement<object, { name: string }>;
  purge: Statement<object>;
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
  };
}

/** What a finishing ack returns: enough to announce the job with its outcome. */
interface FinishedRow {
  name: string;
  result: string | null;
  error: string | null;
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
    // INDEXED BY pins the partial pending index: without statistics (nobody runs ANALYZE on
    // an embedded database) the planner prefers the (name, key) index, reading every job of
    // that name, finished ones included, and sorting them.
    claim: db
      .prepare<object, ClaimedRow>(`
      UPDATE reseolio_jobs
      SET status = 'running', owner_id = @ownerId, lease_token = @leaseToken,
        lease_expires_at = @leaseExpiresAt, started_at = @now, attempt = attempt + 1
      WHERE id IN (
        SELECT id FROM reseolio_jobs INDEXED BY reseolio_jobs_pending_idx
        WHERE status = 'pending' AND run_at <= @now
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
      WHERE ${ACK_FENCE} RETURNING name, result, error`),
    ackRetry: db.prepare(`
      UPDATE reseolio_jobs
      SET status = 'pending', error = @error, run_at = @runAt,
        owner_id = NULL, lease_expires_at = NULL
      WHERE ${ACK_FENCE} RETURNING name`),
    ackDead: db.prepare(`
      UPDATE reseolio_jobs
      SET status = 'dead', error = @error, completed_at = @now,
        owner_id = NULL, lease_expires_at = NULL
      WHERE ${ACK_FENCE} RETURNING name, result, error`),
    // Handing back on shutdown: claimable at once, with the attempt count the engine gives
    // (it gives back the attempt the claim counted).
    ackRelease: db.prepare(`
      UPDATE reseolio_jobs
      SET status = 'pending', attempt = @attempt, run_at = @now,
        owner_id = NULL, lease_expires_at = NULL
      WHERE ${ACK_FENCE} RETURNING name`),

    // Running jobs whose lease expired strictly before `now`: the engine ends each lost attempt
    // with a fenced ack (ACK_FENCE). A read; the partial running-lease index serves it.
    listExpiredLeases: db.prepare(`
      SELECT ${JOB} FROM reseolio_jobs INDEXED BY reseolio_jobs_running_lease_idx
      WHERE status = 'running' AND lease_expires_at < @now
      ORDER BY lease_expires_at
      LIMIT @limit`),

    cancel: db.prepare(`
      UPDATE reseolio_jobs
      SET status = 'cancelled', completed_at = @now, owner_id = NULL, lease_expires_at = NULL
      WHERE id = @id AND status IN ('pending', 'running')
      RETURNING id`),
    retry: db.prepare(`
      UPDATE reseolio_jobs
      SET status = 'pending', attempt = 0, run_at = @now, completed_at = NULL,
        owner_id = NULL, lease_expires_at = NULL
      WHERE id = @id AND status IN ('dead', 'cancelled')
      RETURNING name`),
    // Bounded by LIMIT so a large backlog is deleted in short transactions.
    purge: db.prepare(`
      DELETE FROM reseolio_jobs WHERE id IN (
        SELECT id FROM reseolio_jobs
        WHERE status IN ('success', 'dead', 'cancelled') AND completed_at < @completedBefore
        LIMIT @limit)`),
  };
}
