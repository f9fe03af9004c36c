import type {
  AckInput,
  AttemptRecord,
  ClaimInput,
  CompletionRow,
  CompletionsInput,
  EnqueueResult,
  HeartbeatInput,
  JobCountFilter,
  JobFilter,
  JobRecord,
  JobState,
  ListExpiredLeasesInput,
  NameStats,
  NewJob,
  ProgressInput,
  PurgeInput,
  StatsInput,
  StorageEvent,
} from './records.ts';
import type {
  DueSchedulesInput,
  FireScheduleInput,
  FireScheduleResult,
  ScheduleFilter,
  ScheduleRecord,
  ScheduleUpdate,
  ScheduleUpsert,
  ScheduleUpsertResult,
} from './schedule-records.ts';
import type {
  ConsumeSignalInput,
  ConsumeSignalResult,
  RecordStepInput,
  RecordStepResult,
  SignalInput,
  SignalResult,
  StepRecord,
} from './workflow-records.ts';

/** The most ids the engine passes to one `getJobStates` call. */
export const MAX_STATE_BATCH = 500;

/** What an adapter can do beyond the contract; core adapts to it instead of `instanceof`. */
export interface StorageCapabilities {
  /** `subscribe()` pushes events from other processes too. Otherwise core also polls. */
  readonly crossProcessNotify: boolean;
  /** Several processes may claim from the same database at once. */
  readonly multiProcess: boolean;
  /**
   * `enqueue(job, { lease })` inserts the job already leased to the caller. Without it the
   * engine never passes `lease`, and every job waits for a claim.
   */
  readonly leasedEnqueue: boolean;
  /**
   * `claim` enforces `ClaimInput.flow` (per-key concurrency and rate limits, fair across
   * keys). Without it the engine refuses to start with functions that declare limits.
   */
  readonly flowControl: boolean;
}

/** Per-call options for `enqueue`. */
export interface EnqueueOptions {
  /**
   * A caller's open transaction (a `pg` client, a drizzle transaction…) the insert joins, so
   * the job commits or rolls back with the caller's own writes. Adapter-specific; adapters
   * that cannot join a transaction throw when it is given.
   */
  transaction?: unknown;
  /**
   * Insert the job already claimed by `ownerId`, as if `claim` had taken it at
   * `job.createdAt`: `running`, `attempt` 1, the owner and `leaseExpiresAt` set,
   * `startedAt = job.createdAt`. It is not announced as `ready` (nobody else may take it) and
   * no claim returns it while the lease holds. A deduplicated enqueue returns the existing job
   * untouched, whatever its status. The engine passes it only with
   * `capabilities.leasedEnqueue`, never together with `transaction`, and only for a job due
   * now, when the calling process has a free slot to run it in: that saves the claim's round
   * trip and the wake-up before it.
   */
  lease?: EnqueueLease | undefined;
}

/** The lease a job is inserted with (`EnqueueOptions.lease`). */
export interface EnqueueLease {
  ownerId: string;
  /** The fence written as the job's `leaseToken` (see `ClaimInput.leaseToken`). */
  leaseToken: string;
  /** Epoch ms; the lease holds while `now <= leaseExpiresAt`. */
  leaseExpiresAt: number;
}

/**
 * The seam between the engine and a database. Implementations are dumb and deterministic:
 * no timers, no retry policy, no clock reads. Every write made on behalf of a running attempt
 * is fenced, and every method is safe to call from several engines and processes at once.
 *
 * Errors: a failure of the database driver is thrown as a `StorageError` (or a subclass) with
 * the driver's error as `cause`, never as the driver's own error; a configuration that cannot
 * work (bad options, a file that is not a database) as a `StorageConfigError`.
 */
export interface StorageAdapter {
  /** A short name for logs: `'sqlite'`, `'postgres'`, `'memory'`. */
  readonly kind: string;
  readonly capabilities: StorageCapabilities;

  /** Creates or migrates the schema. Idempotent, and safe when several processes run it at once. */
  init(): Promise<void>;
  /** Releases what the adapter owns (its pool or file handle); never what it borrowed. */
  close(): Promise<void>;

  /** Inserts a job, or returns the existing one for the same (name, idempotencyKey). */
  enqueue(job: NewJob, options?: EnqueueOptions): Promise<EnqueueResult>;
  /**
   * Inserts many jobs at once (one round trip where the database allows) and returns one
   * result per job, in input order, each what `enqueue` would have returned for it: a job
   * whose (name, idempotencyKey) already exists, or appears earlier in the same call, is
   * `deduplicated` to that job. All or nothing: when it throws, none of the jobs was stored.
   * `ready` is announced for the inserted jobs (adapters may send one event per name).
   */
  enqueueMany(jobs: readonly NewJob[]): Promise<EnqueueResult[]>;
  /**
   * Takes up to `limit` `pending` or `waiting` jobs whose `runAt <= now` and whose name is in
   * `names`, and leases them: `running`, `ownerId`, `leaseToken`, `leaseExpiresAt`,
   * `attempt + 1`, `startedAt = now`, `waitingFor` null. Two claimers never receive the same
   * job.
   *
   * Order: higher `priority` first, then oldest `runAt`, then creation order.
   *
   * With `flow` rules (adapters with `capabilities.flowControl`), a job of a ruled name is
   * taken only while its groups stay within the rule, counting the jobs this claim takes (see
   * {@link FlowRule}); the check and the lease are one atomic step, so concurrent claimers on
   * any number of processes never exceed a limit together. A group at its limit never holds
   * back other groups or names. Among the groups of a ruled name (its `concurrencyKey`
   * groups, or its `rateLimitKey` groups when it has only a rate limit) the claim is fair:
   * each job gets a round, its place among the jobs of its group the claim may take (1 for
   * the first), and the order is priority, then round, then `runAt`, then creation; jobs of
   * names without a rule are in round 1. When due jobs of a ruled name are left behind
   * because of a rule (not because of `limit`), the adapter announces `ready` for that name
   * to this process's subscribers at the earliest time one of them could start if nothing
   * else changed: the earliest `leaseExpiresAt + 1` of a full group's running jobs, the
   * oldest counted start `+ periodMs` of a full rate group (the later of the two when both
   * are full).
   */
  claim(input: ClaimInput): Promise<JobRecord[]>;
  /** Extends the leases whose fence still matches; returns the ids it extended. */
  heartbeat(input: HeartbeatInput): Promise<string[]>;
  /**
   * Ends an attempt; false when the fence (id, leaseToken, `running`) no longer matches
   * (nothing was changed). The owner and lease are cleared; `leaseToken` stays.
   */
  ack(input: AckInput): Promise<boolean>;
  /**
   * Several `ack`s in one round trip (the engine coalesces the outcomes of attempts that end
   * close together). Each item is fenced and applied exactly as `ack` would apply it, and its
   * answer is at the same index. Items are independent: one whose fence fails answers false
   * and does not stop the others. The engine never sends two items for the same job.
   */
  ackMany(inputs: readonly AckInput[]): Promise<boolean[]>;
  /**
   * Running jobs whose lease expired strictly before `now` (`leaseExpiresAt < now`), at most
   * `limit`, soonest-expired first (ties in any order), as they are. A read: nothing changes.
   * The engine decides what each lost attempt becomes (another attempt, or `dead` when it was
   * the last) and writes that with `ack`/`ackMany`, fenced on the listed lease token and on
   * the lease being still expired (`AckInput.leaseExpiredBefore`), so the rules of attempt
   * accounting live in core, not in each adapter's SQL.
   */
  listExpiredLeases(input: ListExpiredLeasesInput): Promise<JobRecord[]>;
  /**
   * Cancels a `pending`, `running` or `waiting` job; false when it was already final or
   * unknown. A cancelled child wakes its waiting parent (see the `suspend` ack).
   */
  cancel(jobId: string, now: number): Promise<boolean>;
  /**
   * The database's current time in epoch ms, when the database has a clock that every node
   * shares (PostgreSQL's `clock_timestamp()`). The engine measures its offset to it at start
   * and periodically and stamps every time it passes in with the corrected clock, so nodes
   * with skewed clocks agree on leases and due times. Absent when every user of the database
   * shares the engine's own clock (SQLite: one machine).
   */
  currentTime?(): Promise<number>;
  /**
   * Makes a `dead` or `cancelled` job `pending` again with `attempt = 0`, `runAt = now` and
   * `completedAt` cleared (the last `error`, its recorded steps and its signals are kept, so a
   * workflow resumes where it stopped); false for any other status or an unknown id.
   */
  retry(jobId: string, now: number): Promise<boolean>;

  /**
   * Deletes final jobs completed before `completedBefore`, with their steps, signals and
   * attempts; returns how many jobs were deleted.
   */
  purge(input: PurgeInput): Promise<number>;

  getJob(jobId: string): Promise<JobRecord | undefined>;
  /**
   * The status, result and error of many jobs in one round trip (no arguments: waiters read
   * this, and arguments can be large). Unknown ids, UUIDs or not, are left out; the order is
   * unspecified. The engine sends at most {@link MAX_STATE_BATCH} ids per call.
   */
  getJobStates(jobIds: readonly string[]): Promise<JobState[]>;
  /**
   * Newest first: `id` descending. Job ids are UUIDv7, time-ordered, so this is creation order
   * and the primary key can serve it (no index on `createdAt` needed). `limit` defaults to
   * 100. An empty `status` array matches nothing. `before` (a UUID; the engine validates it)
   * keeps only ids below it, so a page read through it costs the same however deep it is.
   */
  listJobs(filter: JobFilter): Promise<JobRecord[]>;
  /**
   * How many jobs match `filter` (the same conditions as `listJobs`), exactly. An empty
   * `status` array matches nothing.
   */
  countJobs(filter: JobCountFilter): Promise<number>;
  /**
   * Final jobs (`success`, `dead`, `cancelled`) whose `completedAt` is in `[since, until)`,
   * counted per name and bucket (see {@link CompletionsInput}), from the stored completion
   * times. Only non-empty buckets, ordered by `bucketStart`, then name.
   */
  completions(input: CompletionsInput): Promise<CompletionRow[]>;
  /**
   * The ended attempts of a job, oldest first (`startedAt`, then `endedAt`); empty for an
   * unknown job. Each is written by the write that ended it: an ack (`success`, `retry` →
   * `failed`, `dead` → `failed`, each `lost` instead when the ack carries
   * `leaseExpiredBefore`; `release` → `released`; `suspend` → `suspended`) with the row's
   * `ownerId`, `startedAt` and `attempt` as they were before the write, and a `cancel` of a
   * `running` job (→ `cancelled`). A running attempt is not listed: the engine reads it from
   * the job. Purged with their job.
   */
  listAttempts(jobId: string): Promise<AttemptRecord[]>;

  /**
   * Stores a running attempt's progress, fenced on (id, leaseToken, `running`); false, with
   * nothing changed, when the fence fails. Announces a `progress` event (to other processes
   * with `capabilities.crossProcessNotify`).
   */
  setProgress(input: ProgressInput): Promise<boolean>;
  /**
   * Every name with at least one stored job, its jobs counted by status, and its oldest due
   * job that is not running (see {@link NameStats}), in one aggregate read, ordered by name.
   */
  stats(input: StatsInput): Promise<NameStats[]>;

  /** Every recorded step of a job, in any order (empty for an unknown job). */
  listSteps(jobId: string): Promise<StepRecord[]>;
  /** Records one step's value, fenced on the attempt (see {@link RecordStepInput}). */
  recordStep(input: RecordStepInput): Promise<RecordStepResult>;
  /** Stores a signal and wakes its job when it waits for the topic (see {@link SignalInput}). */
  signal(input: SignalInput): Promise<SignalResult>;
  /** Consumes the oldest signal of a topic for a running attempt (see {@link ConsumeSignalInput}). */
  consumeSignal(input: ConsumeSignalInput): Promise<ConsumeSignalResult>;

  /** Declares a schedule: inserts it, or updates its definition (see {@link ScheduleUpsert}). */
  upsertSchedule(input: ScheduleUpsert): Promise<ScheduleUpsertResult>;
  getSchedule(id: string): Promise<ScheduleRecord | undefined>;
  /** By `id` ascending. `limit` defaults to 100. */
  listSchedules(filter: ScheduleFilter): Promise<ScheduleRecord[]>;
  /** Sets the patch's fields (see {@link ScheduleUpdate}); undefined when nothing matched. */
  updateSchedule(input: ScheduleUpdate): Promise<ScheduleRecord | undefined>;
  /** Deletes a schedule (its jobs stay); false when there was none. */
  deleteSchedule(id: string): Promise<boolean>;
  /**
   * Active schedules of the given names whose `nextRunAt <= now`, soonest first, at most
   * `limit`. A read: firing is `fireSchedule`'s compare-and-set.
   */
  listDueSchedules(input: DueSchedulesInput): Promise<ScheduleRecord[]>;
  /**
   * The earliest `nextRunAt` of the active schedules of the given names, or undefined when
   * none will run: the engine sets its timer to it.
   */
  nextScheduleRunAt(names: readonly string[]): Promise<number | undefined>;
  /**
   * Claims a tick and inserts its jobs in one transaction (see {@link FireScheduleInput});
   * undefined, with nothing written, when the claim's compare-and-set failed (another node
   * fired the tick, or the schedule was paused, moved or deleted) or the schedule is gone.
   * Announces `ready` for the inserted jobs.
   */
  fireSchedule(input: FireScheduleInput): Promise<FireScheduleResult | undefined>;

  /**
   * Delivers `ready` after an enqueue (not a deduplicated one), a retry ack, a release, a
   * suspension, a wake (a signal, a child's end) or `retry()` makes a job claimable (now or at
   * its `runAt`), and `finished` when a job reaches a final status (ack, cancel).
   * Events are sent only for committed writes. In-process at least; across processes when
   * `capabilities.crossProcessNotify`. Returns an unsubscribe function.
   */
  subscribe(listener: (event: StorageEvent) => void): Promise<() => Promise<void>>;
}
