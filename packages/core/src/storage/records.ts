import type { EnqueueLease } from './storage.ts';
import type { WakeCondition } from './workflow-records.ts';

/**
 * Plain data that crosses the storage seam. Every time is an epoch-millisecond number chosen
 * by the engine: storage never reads the clock, so the contract suite can drive time.
 * Payloads (`args`, `result`, `error`, `policy`) cross as strings the engine serialized.
 */

/**
 * The lifecycle of a job. `success`, `dead` and `cancelled` are final until `retry()`.
 * `waiting`: suspended by its handler (a sleep, a signal wait, children it awaits): no lease, no
 * owner; claimable again at `runAt`, or earlier when what it waits for happens.
 */
export type JobStatus = 'pending' | 'running' | 'waiting' | 'success' | 'dead' | 'cancelled';

/** Every status, in lifecycle order. */
export const JOB_STATUSES: readonly JobStatus[] = Object.freeze([
  'pending',
  'running',
  'waiting',
  'success',
  'dead',
  'cancelled',
]);

/** The statuses after which a job does not run again unless retried. */
export const FINAL_STATUSES: readonly JobStatus[] = Object.freeze(['success', 'dead', 'cancelled']);

/** One job as storage keeps it. */
export interface JobRecord {
  id: string;
  name: string;
  status: JobStatus;
  /** Serialized argument list. */
  args: string;
  /** Serialized return value, set on success. */
  result: string | null;
  /** Serialized error of the last failed attempt (JSON of `StoredError`). */
  error: string | null;
  /** Serialized retry policy (backoff, delays, jitter, timeout) fixed when the job was made. */
  policy: string;
  /** Attempts started so far; the claim that starts an attempt increments it. */
  attempt: number;
  maxAttempts: number;
  idempotencyKey: string | null;
  parentId: string | null;
  /** The schedule whose tick (or trigger) made this job; null for a direct call. */
  scheduleId: string | null;
  /** Claims take higher priorities first (an int4: -2147483648 to 2147483647). */
  priority: number;
  /** The job's concurrency group within its name (see `FlowRule.concurrency`); null is a group too. */
  concurrencyKey: string | null;
  /** The job's rate-limit group within its name (see `FlowRule.rateLimit`); null is a group too. */
  rateLimitKey: string | null;
  /** The worker holding the lease while `running`; null in every other status. */
  ownerId: string | null;
  /**
   * The fence of the last claim: a fresh random token written by every claim (and leased
   * enqueue), never derived from `attempt` or `ownerId`, so a claim undone by a database crash,
   * a hand-back or a cancel followed by `retry` can never hand the same fence out twice. Kept
   * after the attempt ends (it names the claim whose outcome the row holds); null before the
   * first claim.
   */
  leaseToken: string | null;
  /** The lease holds while `now <= leaseExpiresAt`; null unless `running`. */
  leaseExpiresAt: number | null;
  createdAt: number;
  /** Not claimable before this time. */
  runAt: number;
  /** When the current (or last) attempt started; kept across requeue, release and retry. */
  startedAt: number | null;
  /** When the job reached a final status. */
  completedAt: number | null;
  /**
   * While `waiting`: what for, as the engine serialized it (shown by `details().waitingFor`);
   * null in every other status.
   */
  waitingFor: string | null;
  /**
   * The W3C trace context of the span that enqueued the job, as the engine serialized it
   * (JSON of `{ traceparent, tracestate? }`, at most 1024 characters), so every attempt's span
   * joins the enqueuer's trace on any process; null when no trace was active.
   */
  traceContext: string | null;
  /**
   * The last progress its handler reported (`reportProgress`), serialized by the engine; kept
   * when the job ends and across retries; null before the first report.
   */
  progress: string | null;
}

/** What the engine asks storage to create. */
export interface NewJob {
  /**
   * A UUIDv7 made at `createdAt`: ids sort in creation order, which claims (ties on `runAt`)
   * and `listJobs` rely on. Its timestamp is never earlier than `createdAt` (it may be later,
   * when a process makes over 4096 ids in one millisecond), so adapters may turn
   * `createdAfter` into an id bound that their primary key serves.
   */
  id: string;
  name: string;
  args: string;
  policy: string;
  maxAttempts: number;
  idempotencyKey: string | null;
  parentId: string | null;
  /** The schedule that made this job; null for a direct call. */
  scheduleId: string | null;
  /** Higher first; 0 unless the registration or the call set it. */
  priority: number;
  /** Set by the registration's `concurrency.key` or the call's `concurrencyKey`; else null. */
  concurrencyKey: string | null;
  /** Set by the registration's `rateLimit.key` or the call's `rateLimitKey`; else null. */
  rateLimitKey: string | null;
  /** See `JobRecord.traceContext`. */
  traceContext: string | null;
  createdAt: number;
  runAt: number;
}

/**
 * The record storage holds right after inserting `job`: `pending`, or with a `lease` already
 * running at attempt 1 as if claimed at `createdAt` (see `EnqueueOptions.lease`). Adapters
 * may build the reply to `enqueue` from it instead of reading the row back.
 */
export function insertedRecord(job: NewJob, lease?: EnqueueLease): JobRecord {
  return {
    ...job,
    status: lease ? 'running' : 'pending',
    result: null,
    error: null,
    attempt: lease ? 1 : 0,
    ownerId: lease?.ownerId ?? null,
    leaseToken: lease?.leaseToken ?? null,
    leaseExpiresAt: lease?.leaseExpiresAt ?? null,
    startedAt: lease ? job.createdAt : null,
    completedAt: null,
    waitingFor: null,
    progress: null,
  };
}

export interface EnqueueResult {
  job: JobRecord;
  /** True when a job with the same (name, idempotencyKey) already existed and was returned. */
  deduplicated: boolean;
}

export interface ClaimInput {
  /** Only jobs with one of these names are claimed; an empty list claims nothing. */
  names: readonly string[];
  ownerId: string;
  /**
   * Written as `leaseToken` on every job this claim takes. The engine makes a fresh random
   * token for each claim call, so (job id, token) is unique per claim of a job.
   */
  leaseToken: string;
  /** At most this many jobs. */
  limit: number;
  now: number;
  leaseExpiresAt: number;
  /**
   * The limits of some of `names` (at most one rule per name; names without one are claimed
   * without limits). Only adapters with `capabilities.flowControl` receive it.
   */
  flow?: readonly FlowRule[] | undefined;
}

/**
 * How many jobs of one name may start, as a claim must enforce it (see `StorageAdapter.claim`).
 * Every rule is counted across all processes on the database, in groups: the jobs of `name`
 * with the same key (`concurrencyKey` for `concurrency`, `rateLimitKey` for `rateLimit`; a null
 * key is one group of its own).
 */
export interface FlowRule {
  name: string;
  /**
   * At most this many jobs of a group running at once (1 or more). Counted: jobs `running`
   * with a lease that holds (`leaseExpiresAt >= now`), so the slots of a process that died
   * free when its lease expires; `waiting` jobs hold none.
   */
  concurrency?: number | undefined;
  /**
   * At most `limit` starts of a group in any `periodMs` window: a claim at `now` counts the
   * starts (claims, retries included) stamped after `now - periodMs`, including any stamped
   * later than `now` (by a process whose clock reads a few milliseconds ahead: nodes stamp
   * with their estimate of the database's clock, so a claim must not miss the starts another
   * node just made). Claims of a name with this rule record their starts; the adapter may
   * forget a start once it is `periodMs` old.
   */
  rateLimit?: { limit: number; periodMs: number } | undefined;
}

export interface HeartbeatInput {
  /** The attempts to extend, each by its fence. */
  jobs: readonly AttemptFence[];
  leaseExpiresAt: number;
}

/**
 * Identifies one claim of one job: every write on behalf of an attempt (heartbeat, ack,
 * hand-back) matches only a row with this id, this `leaseToken` and status `running`.
 */
export interface AttemptFence {
  id: string;
  leaseToken: string;
}

/**
 * How an attempt ends. Fenced on (id, leaseToken, status `running`): an ack from an attempt
 * that lost its lease matches no row and changes nothing. The token stays on the row. Every
 * decision is the engine's (which kind, the next `runAt`, the attempt count a hand-back
 * stores): storage writes what it is told, under the fence.
 * - `success`: final, stores `result`.
 * - `retry`: back to `pending` at `runAt`, stores `error`.
 * - `dead`: final, stores `error`.
 * - `release`: handed back (shutdown): `pending` at `now`, `attempt` stored as given (the
 *   engine gives the claim's attempt back: the claim's count minus one). `error` is kept.
 */
export type AckInput = AttemptFence & {
  /**
   * An extra fence, in epoch ms: when set, the ack applies only if the job's lease expired
   * strictly before this time (`leaseExpiresAt < leaseExpiredBefore`). The engine sets it
   * when it ends an attempt whose lease it found expired ({@link ListExpiredLeasesInput}): a
   * heartbeat from the attempt's owner that lands between the listing and the ack extends
   * the lease, and then the heartbeat wins and the ack changes nothing. Unset: no lease
   * condition. A `retry` or `dead` ack with it records the attempt as `lost`, not `failed`.
   */
  leaseExpiredBefore?: number | undefined;
} & (
    | { kind: 'success'; result: string; now: number }
    | { kind: 'retry'; error: string; runAt: number; now: number }
    | { kind: 'dead'; error: string; now: number }
    | {
        kind: 'release';
        /** The attempt count to store: 0 to the job's current `attempt`. */
        attempt: number;
        now: number;
      }
    | {
        /**
         * The handler waits (a sleep, a signal, children): `waiting` until `runAt`, or until
         * `wake` holds, with no owner and no lease, `waitingFor` stored, `attempt` stored as
         * given (a suspension is not a failed attempt: the engine gives the claim's attempt
         * back). In the same transaction, after locking the row, `wake` is checked once: when
         * it holds already, the job is stored `pending` and due at `now` instead, with
         * `waitingFor` null, so nothing that happened meanwhile is missed. `ready` is
         * announced for the job's `runAt` (or `now` when it woke at once). `error` is kept.
         */
        kind: 'suspend';
        attempt: number;
        /** Epoch ms: when the job is due again at the latest (a sleep's wake time, a wait's timeout). */
        runAt: number;
        waitingFor: string;
        wake: WakeCondition;
        now: number;
      }
  );

/** What `listExpiredLeases` looks for. */
export interface ListExpiredLeasesInput {
  /** Epoch ms: jobs whose lease expired strictly before this (`leaseExpiresAt < now`). */
  now: number;
  /** At most this many jobs (1 or more), so one sweep step stays short. */
  limit: number;
}

/**
 * Which jobs `countJobs` counts (and, with paging, `listJobs` lists). Every condition given
 * must hold.
 */
export interface JobCountFilter {
  /** One status, or any of several (an empty array matches nothing). */
  status?: JobStatus | readonly JobStatus[] | undefined;
  /** The durable function's name, exactly. */
  name?: string | undefined;
  /** Children of this job. */
  parentId?: string | undefined;
  /** Runs of this schedule. */
  scheduleId?: string | undefined;
  /** The call's idempotency key, exactly (jobs of every name with that key). */
  idempotencyKey?: string | undefined;
  /** Created at or after this time: epoch milliseconds, inclusive. */
  createdAfter?: number | undefined;
  /** Created before this time: epoch milliseconds, exclusive. */
  createdBefore?: number | undefined;
}

/** Which jobs `listJobs` lists, newest first (`id` descending), and which page. */
export interface JobFilter extends JobCountFilter {
  /**
   * Keyset cursor: only jobs whose id sorts below this job id (ids are UUIDv7, so: created
   * before it). Pass the last id of a page to get the next one; unlike `offset`, a page then
   * costs the same however deep it is, and rows inserted or changed meanwhile never shift it
   * (no job is skipped or listed twice). The job need not exist any more.
   */
  before?: string | undefined;
  /** 1 to 1000. @default 100 */
  limit?: number | undefined;
  /** Rows skipped (after `before`): 0 to `Number.MAX_SAFE_INTEGER`. @default 0 */
  offset?: number | undefined;
}

/**
 * How an attempt ended (`AttemptRecord.outcome`):
 * - `success`, `failed` (a failure the handler threw, or its timeout): the ack said so;
 * - `lost`: its lease expired (its process died or stalled) and a sweep, on any node, ended it;
 * - `suspended`: the handler waited (a sleep, a signal, children) and gave its slot back;
 * - `released`: handed back unrun at shutdown (`stop()`), attempt not consumed;
 * - `cancelled`: the job was cancelled while this attempt ran.
 */
export type AttemptOutcome = 'success' | 'failed' | 'lost' | 'suspended' | 'released' | 'cancelled';

/**
 * One ended attempt as storage keeps it, written by the write that ends it (an ack, a cancel)
 * in the same statement or transaction. The attempt a `running` job holds has no record: it
 * is the job row itself (`startedAt`, `ownerId`, `attempt`), so claims write nothing more.
 */
export interface AttemptRecord {
  jobId: string;
  /** The claim's `leaseToken`: (jobId, leaseToken) identifies the attempt. */
  leaseToken: string;
  /**
   * The job's attempt count during this attempt (1-based). A suspension or a hand-back gives
   * its attempt back, so the run that resumes it has the same number; `retry()` starts again
   * from 1.
   */
  attempt: number;
  /** The lease owner (`ownerId`) that ran it. */
  workerId: string | null;
  /** Epoch ms: the job's `startedAt` while it ran. */
  startedAt: number;
  /** Epoch ms: the `now` of the write that ended it. */
  endedAt: number;
  outcome: AttemptOutcome;
  /** Serialized `StoredError` for `failed` and `lost`; null otherwise. */
  error: string | null;
}

/** How the attempt an ack ends is recorded (see `StorageAdapter.listAttempts`). */
export function attemptOutcomeOf(input: AckInput): AttemptOutcome {
  switch (input.kind) {
    case 'success':
      return 'success';
    case 'retry':
    case 'dead':
      return input.leaseExpiredBefore === undefined ? 'failed' : 'lost';
    case 'release':
      return 'released';
    case 'suspend':
      return 'suspended';
  }
}

/** What `completions` reads (`StorageAdapter.completions`). */
export interface CompletionsInput {
  /** Epoch ms, inclusive: jobs whose `completedAt >= since`. */
  since: number;
  /** Epoch ms, exclusive: jobs whose `completedAt < until`. */
  until: number;
  /**
   * Bucket width in ms (1 or more): a job falls in the bucket starting at
   * `floor(completedAt / bucketMs) * bucketMs` (buckets align to the epoch, not to `since`).
   */
  bucketMs: number;
}

/** Final jobs of one name in one bucket (`StorageAdapter.completions`); never all zero. */
export interface CompletionRow {
  name: string;
  /** Epoch ms: a multiple of `bucketMs`. */
  bucketStart: number;
  success: number;
  dead: number;
  cancelled: number;
}

export interface PurgeInput {
  /** Jobs that reached a final status before this time are deleted. */
  completedBefore: number;
  /** At most this many rows per call, so a purge never holds long locks. */
  limit: number;
}

/** What a finished job left: its serialized `result` (success) or `error` (dead). */
export interface JobOutcome {
  result: string | null;
  error: string | null;
}

/** A job's status and outcome columns: what a `result()` waiter needs to know. */
export interface JobState extends JobOutcome {
  id: string;
  status: JobStatus;
}

/**
 * A push from storage: new work may be claimable (`ready`), a job reached a final status
 * (`finished`), or events may have been missed, for instance while a notification connection
 * was down, so listeners should re-check everything once (`resync`).
 */
export type StorageEvent =
  | { type: 'ready'; name: string; runAt: number }
  | {
      type: 'finished';
      jobId: string;
      status: JobStatus;
      /**
       * The job's final `result` and `error`, when the adapter sends them along (PostgreSQL
       * does for acks whose notification stays under its 8000-byte payload limit). A waiter
       * then resolves without reading the job; without it, it reads the job.
       */
      outcome?: JobOutcome | undefined;
    }
  | {
      /**
       * A running attempt stored a progress report (`setProgress`). Sent to other processes
       * when the serialized progress fits the adapter's notification limit (PostgreSQL's
       * 8000-byte payload); a listener that gets no `progress` reads the job.
       */
      type: 'progress';
      jobId: string;
      name: string;
      progress?: string | undefined;
    }
  | { type: 'resync' };

/** A running attempt's progress report (`StorageAdapter.setProgress`). */
export type ProgressInput = AttemptFence & {
  /** The serialized progress (at most 8192 bytes; the engine enforces it). */
  progress: string;
  now: number;
};

/** What `stats` counts (`StorageAdapter.stats`). */
export interface StatsInput {
  /** Epoch ms: a job is due when `runAt <= now`. */
  now: number;
}

/** The stored jobs of one name, counted by status (`StorageAdapter.stats`). */
export interface NameStats {
  name: string;
  /** Jobs per status; every status is present, 0 when none. */
  counts: Record<JobStatus, number>;
  /**
   * The `runAt` of the oldest due job that is not running: `pending`, or `waiting` whose
   * `runAt <= now`. Null when there is none.
   */
  oldestDueRunAt: number | null;
}
