import type { Database, Statement } from 'better-sqlite3';
import type {
  AttemptRecord,
  CompletionRow,
  FlowCandidate,
  JobRecord,
  JobState,
  JobStatus,
  StatusGroup,
  StepRecord,
} from 'reseolio/storage';
import { prepareScheduleStatements, type ScheduleStatements } from './schedule-statements.ts';

/** Columns aliased to `JobRecord` fields, so rows need no mapping. */
const JOB = `id, name, status, args, result, error, policy, attempt,
  max_attempts AS maxAttempts, idempotency_key AS idempotencyKey, parent_id AS parentId,
  schedule_id AS scheduleId, owner_id AS ownerId, lease_token AS leaseToken, lease_expires_at AS leaseExpiresAt, created_at AS createdAt,
  run_at AS runAt, started_at AS startedAt, completed_at AS completedAt, waiting_for AS waitingFor,
  priority, concurrency_key AS concurrencyKey, rate_limit_key AS rateLimitKey,
  trace_context AS traceContext, progress`;

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

/**
 * A LIMIT of `@limit` (every statement of the adapter limits so). Not the bare parameter: SQLite re-prepares a statement whose LIMIT is a
 * bare parameter every time it is bound (its planner reads the value), which cost a claim of
 * 10 jobs about 40 % of its time (raw-SQL drain, 29.6 against 17.4 µs per claimed job). An
 * expression of the parameter is only evaluated.
 */
const LIMIT = 'LIMIT @limit + 0';

/** The rows of the claim indexes (all partial on this condition). */
const CLAIMABLE = `status IN ('pending', 'waiting')`;

/** The plain claim's index, pinned (see `nextLevel`). */
const CLAIM_INDEX = 'reseolio_jobs INDEXED BY reseolio_jobs_claim_idx';

/**
 * The rows at priority `@level`, or, when `@level` is null, at the highest priority among the
 * rows of `jobs` matching `where`: an equality with a constant, so still one index range, and
 * a claim whose highest level fills it needs no statement to find the level first.
 */
function atLevel(jobs: string, where: string): string {
  return `priority = coalesce(@level, ${highestLevel(jobs, where)})`;
}

/**
 * The rows below priority `@below`, or, when `@below` is null, below the highest priority among
 * the rows of `jobs` matching `where`: after a read of the highest level, the next level is one
 * statement.
 */
function belowLevel(jobs: string, where: string): string {
  return `priority < coalesce(@below, ${highestLevel(jobs, where)})`;
}

function highestLevel(jobs: string, where: string): string {
  return `(SELECT priority FROM ${jobs} WHERE ${where} ORDER BY priority DESC LIMIT 1)`;
}

/**
 * What every claim writes to a job it takes, the plain claim and the flow claim alike: running
 * under the claim's owner and fresh lease token, started now, on its next attempt.
 */
const LEASE = `SET status = 'running', owner_id = @ownerId, lease_token = @leaseToken,
  lease_expires_at = @leaseExpiresAt, started_at = @now, attempt = attempt + 1, ${NOT_WAITING}`;

/** What a claim returns of each job it took ({@link ClaimedRow}, in that order). */
const CLAIMED = `id, name, args, error, policy, attempt, max_attempts, idempotency_key,
  parent_id, schedule_id, created_at, run_at, priority, concurrency_key, rate_limit_key,
  trace_context, progress`;

/** What a flow claim reads of a due job to plan ({@link CandidateRow}). */
const CANDIDATE = `id, name, priority, run_at AS runAt, created_at AS createdAt,
  concurrency_key AS concurrencyKey, rate_limit_key AS rateLimitKey`;

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
  /**
   * The highest priority below `@below` (null: below the highest) that has a pending or waiting
   * job (of any name, due or not): the claims' next level. Seeks on the claim index.
   */
  nextLevel: Statement<object, number>;
  /**
   * Leases up to `@limit` due jobs of `@names` at priority `@level`, or at the highest priority
   * that has pending or waiting jobs when `@level` is null, in claim order.
   */
  claimLevel: Statement<object, ClaimedRow>;
  /** The same jobs as `claimLevel`, read without leasing them (a flow claim's plain names). */
  dueAtLevel: Statement<object, CandidateRow>;
  /** Leases the jobs of `@ids` (a JSON array) that are still pending or waiting. */
  leaseIds: Statement<object, ClaimedRow>;
  /** Per (name, concurrency key) of `@names`: the running jobs whose lease holds at `@now`. */
  runningGroups: Statement<object, RunningGroupRow>;
  /**
   * A rate group's starts stamped after `@since` (now - periodMs), oldest first: also those
   * stamped after now, by a process whose clock estimate runs a few ms ahead.
   */
  rateStarts: Statement<object, number>;
  insertStart: Statement<object>;
  /** Forgets a rate group's starts at or before `@before` (out of every later window). */
  forgetStarts: Statement<object>;
  /** The pairs of keys of a ruled name and their due jobs (flow claims). */
  pairs: PairStatements;
  heartbeat: Statement<object, { id: string }>;
  /** Stores a running attempt's progress (fenced); the job's name when it did. */
  setProgress: Statement<object, { name: string }>;
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
  purgeAttempts: Statement<[string]>;
  /**
   * Records the attempt an ack ends (`@outcome`, `@error`), from the job row before the ack's
   * write, under the ack's own fence: run first in the ack's transaction, it inserts nothing
   * when the ack will change nothing.
   */
  recordAttempt: Statement<object>;
  /** Records a running job's attempt as `cancelled` (before the cancel's write). */
  recordCancelledAttempt: Statement<object>;
  listAttempts: Statement<[string], AttemptRecord>;
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
  /** The jobs per (name, status), with each group's oldest due `run_at` (`StorageAdapter.stats`). */
  jobStats: Statement<object, StatusGroup>;
  /** Final jobs per name and completion bucket (`StorageAdapter.completions`). */
  completions: Statement<object, CompletionRow>;
}

/** A due job as a flow claim plans it: the columns `planFlowClaim` reads. */
export type CandidateRow = FlowCandidate;

/** The live running jobs of one concurrency group. */
export interface RunningGroupRow {
  name: string;
  key: string | null;
  running: number;
  earliestLeaseExpiresAt: number;
}

/**
 * Reads of a ruled name's jobs by (concurrency key, rate-limit key) pair, on the flow index.
 * Parameters: `@name`, `@concurrencyKey`, `@rateLimitKey` (null for the null keys).
 * @internal
 */
export interface PairStatements {
  /**
   * The concurrency keys of `@name`'s pending or waiting jobs, null first when some have none:
   * a skip scan, one seek per key, never reading the jobs of a key.
   */
  concurrencyKeys: Statement<object, string | null>;
  /** The same for the rate-limit keys of the jobs of `@name` and `@concurrencyKey`. */
  rateLimitKeys: Statement<object, string | null>;
  /**
   * The smallest rate-limit key of the jobs of `@name` and `@concurrencyKey`; none when all
   * have a null one, as is usual (one seek, without `rateLimitKeys`' recursion).
   */
  firstRateLimitKey: Statement<object, string>;
  /** The highest priority below `@below` (null: below the pair's highest) in the pair. */
  nextLevel: Statement<object, number>;
  /** Up to `@limit` due jobs of the pair at `@level` (null: its highest), in claim order. */
  dueAtLevel: Statement<object, CandidateRow>;
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
  priority: number,
  concurrencyKey: string | null,
  rateLimitKey: string | null,
  traceContext: string | null,
  progress: string | null,
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
    priority,
    concurrencyKey,
    rateLimitKey,
    traceContext,
    progress,
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
    priority,
    concurrencyKey,
    rateLimitKey,
    ownerId: claim.ownerId,
    leaseToken: claim.leaseToken,
    leaseExpiresAt: claim.leaseExpiresAt,
    createdAt,
    runAt,
    startedAt: claim.now,
    completedAt: null,
    waitingFor: null,
    traceContext,
    progress,
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
        idempotency_key, parent_id, schedule_id, priority, concurrency_key, rate_limit_key,
        trace_context, created_at, run_at)
      VALUES (@id, @name, 'pending', @args, @policy, 0, @maxAttempts, @idempotencyKey,
        @parentId, @scheduleId, @priority, @concurrencyKey, @rateLimitKey, @traceContext,
        @createdAt, @runAt)
      ON CONFLICT (name, idempotency_key) DO NOTHING
      RETURNING ${JOB}`),
    // The same insert, already leased to the engine that will run it (`EnqueueOptions.lease`):
    // as if claimed at `createdAt`.
    insertLeased: db.prepare(`
      INSERT INTO reseolio_jobs (id, name, status, args, policy, attempt, max_attempts,
        idempotency_key, parent_id, schedule_id, priority, concurrency_key, rate_limit_key,
        trace_context, owner_id, lease_token, lease_expires_at, created_at, run_at, started_at)
      VALUES (@id, @name, 'running', @args, @policy, 1, @maxAttempts, @idempotencyKey,
        @parentId, @scheduleId, @priority, @concurrencyKey, @rateLimitKey, @traceContext,
        @ownerId, @leaseToken, @leaseExpiresAt, @createdAt, @runAt, @createdAt)
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

    // A claim reads the claim index one priority level at a time, highest first:
    // `claimLevel` leases the due jobs of the highest level (a seek for the level, then one
    // range, `priority = ? AND run_at <= now`, already in run_at order), and while the claim's
    // limit is not reached, `nextLevel` finds the next lower level and `claimLevel` takes from
    // it. An index range `run_at <= now` per level never reaches jobs that are not
    // due, whatever their priority; a single scan in (priority DESC, run_at) order would read
    // every job not yet due of every level above the first due one, on every claim, idle ones
    // included. With all jobs at one priority, a claim that fills its limit is one statement,
    // as on the (run_at, created_at) index before; one that does not, two.
    // INDEXED BY pins the partial claim index: without statistics (nobody runs ANALYZE on an
    // embedded database) the planner prefers the (name, key) index, reading every job of that
    // name, finished ones included, and sorting them.
    nextLevel: db
      .prepare<object, number>(`
      SELECT priority FROM ${CLAIM_INDEX}
      WHERE ${CLAIMABLE} AND ${belowLevel(CLAIM_INDEX, CLAIMABLE)}
      ORDER BY priority DESC LIMIT 1`)
      .pluck(),
    // One statement selects and leases the level's batch. It runs inside BEGIN IMMEDIATE, so
    // the write lock is held from the first read on: no other process can lease the same rows
    // in between, and nobody waits on a read-to-write lock upgrade (SQLITE_BUSY_SNAPSHOT).
    // `names` is a JSON array expanded by json_each, so one prepared statement fits any list.
    claimLevel: db
      .prepare<object, ClaimedRow>(`
      UPDATE reseolio_jobs ${LEASE}
      WHERE id IN (
        SELECT id FROM ${CLAIM_INDEX}
        WHERE ${CLAIMABLE} AND ${atLevel(CLAIM_INDEX, CLAIMABLE)} AND run_at <= @now
          AND name IN (SELECT value FROM json_each(@names))
        ORDER BY run_at, created_at
        ${LIMIT})
      RETURNING ${CLAIMED}`)
      .raw(),
    dueAtLevel: db.prepare(`
      SELECT ${CANDIDATE} FROM ${CLAIM_INDEX}
      WHERE ${CLAIMABLE} AND ${atLevel(CLAIM_INDEX, CLAIMABLE)} AND run_at <= @now
        AND name IN (SELECT value FROM json_each(@names))
      ORDER BY run_at, created_at
      ${LIMIT}`),
    // The flow claim leases what it planned with the plain claim's update. The status check is
    // a guard only: the plan was read in the same write transaction.
    leaseIds: db
      .prepare<object, ClaimedRow>(`
      UPDATE reseolio_jobs ${LEASE}
      WHERE id IN (SELECT value FROM json_each(@ids)) AND ${CLAIMABLE}
      RETURNING ${CLAIMED}`)
      .raw(),
    // Live leases of the ruled names, counted per group in one read of the running-lease index
    // (`lease_expires_at >= now`): a range over the jobs running now in every process, which
    // worker slots bound, rather than an index of its own that every claim and ack of every
    // job, ruled or not, would have to maintain.
    runningGroups: db.prepare(`
      SELECT name, concurrency_key AS key, count(*) AS running,
        min(lease_expires_at) AS earliestLeaseExpiresAt
      FROM reseolio_jobs INDEXED BY reseolio_jobs_running_lease_idx
      WHERE status = 'running' AND lease_expires_at >= @now
        AND name IN (SELECT value FROM json_each(@names))
      GROUP BY name, concurrency_key`),
    rateStarts: db
      .prepare<object, number>(`
      SELECT started_at FROM reseolio_rate_limit_starts
      WHERE name = @name AND key = @key AND started_at > @since
      ORDER BY started_at`)
      .pluck(),
    insertStart: db.prepare(
      'INSERT INTO reseolio_rate_limit_starts (name, key, started_at) VALUES (@name, @key, @now)',
    ),
    forgetStarts: db.prepare(`
      DELETE FROM reseolio_rate_limit_starts
      WHERE name = @name AND key = @key AND started_at <= @before`),
    pairs: pairStatements(db),
    heartbeat: db.prepare(`
      UPDATE reseolio_jobs SET lease_expires_at = @leaseExpiresAt WHERE ${FENCE} RETURNING id`),
    setProgress: db.prepare(`
      UPDATE reseolio_jobs SET progress = @progress WHERE ${FENCE} RETURNING name`),

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
      ${LIMIT}`),

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
        ${LIMIT})
      RETURNING id`)
      .pluck(),
    purgeSteps: deleteOfJobs(db, 'reseolio_steps'),
    purgeSignals: deleteOfJobs(db, 'reseolio_signals'),
    purgeAttempts: deleteOfJobs(db, 'reseolio_attempts'),
    recordAttempt: db.prepare(`
      INSERT INTO reseolio_attempts
        (job_id, lease_token, attempt, worker_id, started_at, ended_at, outcome, error)
      SELECT id, lease_token, attempt, owner_id, coalesce(started_at, @now), @now, @outcome, @error
      FROM reseolio_jobs WHERE ${ACK_FENCE}
      ON CONFLICT DO NOTHING`),
    recordCancelledAttempt: db.prepare(`
      INSERT INTO reseolio_attempts
        (job_id, lease_token, attempt, worker_id, started_at, ended_at, outcome, error)
      SELECT id, lease_token, attempt, owner_id, coalesce(started_at, @now), @now, 'cancelled', NULL
      FROM reseolio_jobs WHERE id = @id AND status = 'running' AND lease_token IS NOT NULL
      ON CONFLICT DO NOTHING`),
    listAttempts: db.prepare(`
      SELECT job_id AS jobId, lease_token AS leaseToken, attempt, worker_id AS workerId,
        started_at AS startedAt, ended_at AS endedAt, outcome, error
      FROM reseolio_attempts WHERE job_id = ?
      ORDER BY started_at, ended_at, lease_token`),

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
    jobStats: db.prepare(JOB_STATS_SQL),
    // Through reseolio_jobs_completed_idx: only the window's rows are read. Integer division
    // floors (times are never negative); the width is cast because better-sqlite3 binds a JS
    // number as a REAL, which would make the division exact.
    completions: db.prepare(`
      SELECT name,
        (completed_at / CAST(@bucketMs AS INTEGER)) * CAST(@bucketMs AS INTEGER) AS bucketStart,
        sum(status = 'success') AS success, sum(status = 'dead') AS dead,
        sum(status = 'cancelled') AS cancelled
      FROM reseolio_jobs
      WHERE completed_at >= @since AND completed_at < @until AND status IN ${FINAL}
      GROUP BY 1, 2
      ORDER BY 2, 1`),
  };
}

/**
 * @internal The jobs per (name, status), with each group's oldest due `run_at`; the stats
 * worker (stats-worker.ts) runs the same text on its own connection.
 *
 * Every row is read: the final statuses, most of the table, are in no index with their
 * name. NOT INDEXED: left alone, the planner walks the (name, idempotency_key) index for
 * its name order and looks every row up in the table, about three times slower at
 * 1,000,000 jobs than this scan and a sort (scripts/stats-scale.ts). A covering index of
 * (name, status, run_at) would make the read about ten times faster again, but every
 * status change would move its entry: it cost a claim and ack about 75 % more CPU per job,
 * for a read made once per metrics collection.
 */
export const JOB_STATS_SQL = `
  SELECT name, status, count(*) AS count,
    min(run_at) FILTER (WHERE status IN ('pending', 'waiting') AND run_at <= @now)
      AS oldestDueRunAt
  FROM reseolio_jobs NOT INDEXED
  GROUP BY name, status`;

/** The reads of the flow index (name, concurrency_key, rate_limit_key, priority DESC, …). */
function pairStatements(db: Database): PairStatements {
  const jobs = 'reseolio_jobs INDEXED BY reseolio_jobs_flow_idx';
  const pair = `name = @name AND concurrency_key IS @concurrencyKey
    AND rate_limit_key IS @rateLimitKey AND ${CLAIMABLE}`;
  return {
    concurrencyKeys: skipScan(db, jobs, `name = @name AND ${CLAIMABLE}`, 'concurrency_key'),
    rateLimitKeys: skipScan(
      db,
      jobs,
      `name = @name AND concurrency_key IS @concurrencyKey AND ${CLAIMABLE}`,
      'rate_limit_key',
    ),
    firstRateLimitKey: db
      .prepare<object, string>(`
      SELECT rate_limit_key FROM ${jobs}
      WHERE name = @name AND concurrency_key IS @concurrencyKey AND ${CLAIMABLE}
        AND rate_limit_key IS NOT NULL
      ORDER BY rate_limit_key LIMIT 1`)
      .pluck(),
    nextLevel: db
      .prepare<object, number>(`
      SELECT priority FROM ${jobs} WHERE ${pair} AND ${belowLevel(jobs, pair)}
      ORDER BY priority DESC LIMIT 1`)
      .pluck(),
    dueAtLevel: db.prepare(`
      SELECT ${CANDIDATE} FROM ${jobs}
      WHERE ${pair} AND ${atLevel(jobs, pair)} AND run_at <= @now
      ORDER BY run_at, created_at
      ${LIMIT}`),
  };
}

/**
 * The distinct values of `column` among the rows of `jobs` matching `prefix` (an equality on
 * the index columns before it), null first when there is one. A skip scan written out, because
 * SQLite plans its own only with statistics: each step seeks the smallest value above the last
 * one. Null is asked for apart, as `column > NULL` matches nothing.
 */
function skipScan(
  db: Database,
  jobs: string,
  prefix: string,
  column: string,
): Statement<object, string | null> {
  return db
    .prepare<object, string | null>(`
      WITH RECURSIVE next_key(key) AS (
        SELECT (SELECT ${column} FROM ${jobs}
          WHERE ${prefix} AND ${column} IS NOT NULL ORDER BY ${column} LIMIT 1)
        UNION ALL
        SELECT (SELECT ${column} FROM ${jobs}
          WHERE ${prefix} AND ${column} > next_key.key ORDER BY ${column} LIMIT 1)
        FROM next_key WHERE next_key.key IS NOT NULL)
      SELECT NULL WHERE EXISTS (SELECT 1 FROM ${jobs} WHERE ${prefix} AND ${column} IS NULL)
      UNION ALL
      SELECT key FROM next_key WHERE key IS NOT NULL`)
    .pluck();
}

/** Deletes the rows of `table` that belong to the jobs of a JSON array of ids. */
function deleteOfJobs(db: Database, table: string): Statement<[string]> {
  return db.prepare(`DELETE FROM ${table} WHERE job_id IN (SELECT value FROM json_each(?))`);
}
