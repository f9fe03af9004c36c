import type { JobStatus } from './storage/records.ts';
import type { StorageAdapter } from './storage/storage.ts';
import type { StorageProvider } from './storage/storage-provider.ts';
import type { TelemetryOptions } from './telemetry/telemetry-options.ts';
import type { WaitingFor } from './workflow/waiting-for.ts';

/** How the delay between attempts grows. */
export type BackoffKind = 'exponential' | 'linear' | 'fixed';

/** Retry and timeout policy of a durable function; every field has a default. */
export interface RetryOptions {
  /** Total attempts, the first included: an integer from 1 to 10000. @default 3 */
  maxAttempts?: number | undefined;
  /**
   * Delay growth after the n-th failed attempt: `fixed` waits `initialDelayMs`, `linear`
   * `initialDelayMs * n`, `exponential` `initialDelayMs * 2^(n-1)`. @default 'exponential'
   */
  backoff?: BackoffKind | undefined;
  /**
   * Base delay before the second attempt, in milliseconds: an integer from 0 to 2147483647
   * (about 24.8 days). @default 1000
   */
  initialDelayMs?: number | undefined;
  /**
   * Upper bound of any delay between attempts, in milliseconds: an integer from 0 to
   * 31536000000 (365 days). @default 60000
   */
  maxDelayMs?: number | undefined;
  /**
   * Random spread of each delay as a fraction: 0.1 means ±10 %. 0 disables jitter.
   * @default 0.1
   */
  jitter?: number | undefined;
  /**
   * Time allowed for one attempt, in milliseconds: an integer from 1 to 2147483647 (about
   * 24.8 days, the longest a Node.js timer waits). On expiry the job's `signal` aborts and the
   * attempt counts as failed (and is retried if attempts remain). @default 30000
   */
  timeoutMs?: number | undefined;
}

/** Options given when a durable function is registered. */
export interface DurableOptions<A extends unknown[] = unknown[]> extends RetryOptions {
  /**
   * Claims take jobs of higher priority first, across functions; equal priorities run oldest
   * first. An integer from -2147483648 to 2147483647; a call's `priority` overrides it.
   * @default 0
   */
  priority?: number | undefined;
  /**
   * At most this many jobs of the function running at once across all nodes, or per key with
   * `{ limit, key }`: `key(...args)` returns the job's group (a customer id, an API key), and a
   * call's `concurrencyKey` overrides it. A full group never holds back other groups, and
   * groups with work take turns. A node that dies frees its slots when its lease expires; a
   * `waiting` job holds none. `limit`: an integer from 1 to 1000000. @default unlimited
   */
  concurrency?: number | ConcurrencyOptions<A> | undefined;
  /**
   * At most `limit` starts in any `periodMs` window across all nodes (per key with `key`).
   * Jobs over the limit wait and start as soon as the window allows; none is dropped. Retries
   * are starts too. @default unlimited
   */
  rateLimit?: RateLimitOptions<A> | undefined;
}

/** `DurableOptions.concurrency` in its object form. */
export interface ConcurrencyOptions<A extends unknown[] = unknown[]> {
  /** Running jobs per group: an integer from 1 to 1000000. */
  limit: number;
  /**
   * The job's group from its arguments, run when the job is enqueued: a non-empty string of
   * at most 512 characters. Without it the whole function is one group.
   */
  // Method syntax, so that where the arguments are not inferred (a Nest `@Durable` method's
  // options) a key function may still declare its parameters' types.
  key?(...args: A): string;
}

/** `DurableOptions.rateLimit`. */
export interface RateLimitOptions<A extends unknown[] = unknown[]> {
  /** Starts per window: an integer from 1 to 1000000. */
  limit: number;
  /** The window, in milliseconds: an integer from 1 to 2147483647. */
  periodMs: number;
  /**
   * The job's group from its arguments, run when the job is enqueued (a non-empty string of
   * at most 512 characters); a call's `rateLimitKey` overrides it. Without it the whole
   * function shares one window.
   */
  key?(...args: A): string;
}

/** The policy a job runs with once defaults and per-call options are merged. */
export interface ResolvedRetryPolicy {
  maxAttempts: number;
  backoff: BackoffKind;
  initialDelayMs: number;
  maxDelayMs: number;
  jitter: number;
  timeoutMs: number;
}

/**
 * Options for one call, passed as a trailing argument (`fn(a, b, { idempotencyKey })`) or to
 * `fn.enqueue(args, options)`. Retry options given here override the registration's.
 */
export interface CallOptions extends RetryOptions {
  /**
   * Calls with the same key and function name return the same job, whatever its status.
   * Inside a running job, calls without a key get a deterministic one (parent id, child name,
   * call order) so a retried orchestrator re-attaches to the children it already started.
   * 1 to 512 characters, without NUL (`\u0000`) or unpaired surrogates, which not every
   * database stores as given. `undefined` is the same as leaving it out.
   */
  idempotencyKey?: string | undefined;
  /**
   * Do not run before this many milliseconds from now: an integer >= 0, with now + `delayMs`
   * at most 9999-12-31T23:59:59.999Z. @default 0
   */
  delayMs?: number | undefined;
  /**
   * Do not run before this time: a valid `Date`, or an integer of epoch milliseconds from 0
   * (1970-01-01T00:00:00.000Z) to 253402300799999 (9999-12-31T23:59:59.999Z); fractions are
   * refused. A time in the past runs now. Give `delayMs` or `runAt`, not both.
   */
  runAt?: Date | number | undefined;
  /**
   * A transaction of the caller's to enqueue in (adapter-specific: a `pg` client or a drizzle
   * transaction on PostgreSQL), so the job commits or rolls back with the caller's writes.
   */
  transaction?: unknown;
  /**
   * This job's priority (higher first), overriding the registration's: an integer from
   * -2147483648 to 2147483647. @default the registration's, else 0
   */
  priority?: number | undefined;
  /**
   * This job's concurrency group, overriding the registration's `concurrency.key`: 1 to 512
   * characters, without NUL or unpaired surrogates. A web process that enqueues by name
   * without registering the function passes it here.
   */
  concurrencyKey?: string | undefined;
  /** This job's rate-limit group, overriding the registration's `rateLimit.key` (as `concurrencyKey`). */
  rateLimitKey?: string | undefined;
}

/** @internal The retry options' keys: registration options, and per-call keys that override them. */
export const RETRY_OPTION_KEYS: readonly (keyof RetryOptions)[] = Object.freeze([
  'maxAttempts',
  'backoff',
  'initialDelayMs',
  'maxDelayMs',
  'jitter',
  'timeoutMs',
]);

/** The keys that mark a trailing plain object as per-call options. */
export const CALL_OPTION_KEYS: readonly (keyof CallOptions)[] = Object.freeze([
  'idempotencyKey',
  'delayMs',
  'runAt',
  'transaction',
  'priority',
  'concurrencyKey',
  'rateLimitKey',
  ...RETRY_OPTION_KEYS,
]);

/** @internal Registration keys beyond the retry options. */
export const FLOW_OPTION_KEYS: readonly (keyof DurableOptions)[] = Object.freeze([
  'priority',
  'concurrency',
  'rateLimit',
]);

/**
 * Where the engine logs (`ReseolioOptions.logger`). `console`, a pino logger (Fastify's
 * `app.log` too) and Nest's `Logger` or `ConsoleLogger` fit as they are. `warn` and `error`
 * are required; `info` (or Nest's `log`) and `debug` are optional, and a level the logger
 * lacks is not written.
 *
 * Every line about a job names it in the text, `job <id> (<name>) attempt <n>: …`, and, where
 * the logger takes structured fields, as `jobId`, `jobName` and `attempt` (an error under
 * `err`). How the engine calls it depends on what it is:
 * - pino (recognised by its `bindings()` method): `logger.warn({ jobId, jobName, attempt,
 *   err }, text)`, so the fields are merged into the JSON line;
 * - Nest (a `log` method and no `info`): `logger.warn(text)`, one string, since Nest prints
 *   every further argument on its own line and reads a trailing string as the context; an
 *   error's stack goes as `logger.error(text, stack)`;
 * - anything else (console, winston…): `logger.warn(text, { jobId, jobName, attempt }, error)`.
 */
export interface Logger {
  error(message: string, ...meta: unknown[]): void;
  warn(message: string, ...meta: unknown[]): void;
  info?(message: string, ...meta: unknown[]): void;
  /** Nest's name for `info`, used when there is no `info`. */
  log?(message: string, ...meta: unknown[]): void;
  debug?(message: string, ...meta: unknown[]): void;
}

/** Options of `new Reseolio(options)`. */
export interface ReseolioOptions {
  /**
   * Where jobs live: `'postgres://…'`/`'postgresql://…'` (needs `@reseolio/storage-postgres`),
   * `'sqlite:./file.db'`, `'sqlite://./file.db'`, `'sqlite::memory:'` (need
   * `@reseolio/storage-sqlite`), `'memory:'` (in-process, for tests), or an adapter instance.
   * An adapter made from a URL is owned and closed by `stop()`; an instance passed in is
   * borrowed and left open. URL schemes are case-insensitive.
   *
   * Leave the option out for the default. Passing it as `undefined`, `null` or `''` (say,
   * `process.env.DATABASE_URL` while the variable is unset) throws `StorageConfigError`
   * rather than falling back to a local file.
   * @default 'sqlite:./reseolio.db'
   */
  storage?: string | StorageAdapter;
  /**
   * Adapters for more URL schemes, for a `storage` URL: a third-party adapter package
   * exports a `StorageProvider` (`{ schemes: ['mysql'], fromUrl }`), and
   * `storage: process.env.DATABASE_URL` can then name it. Checked before the built-in schemes
   * (`postgres:`, `postgresql:`, `sqlite:`), so a provider may also replace one; `memory:` is
   * always core's. @default []
   */
  storageProviders?: readonly StorageProvider[] | undefined;
  /** Jobs this process runs at once (0 to 10000); 0 makes an enqueue-only node. @default 10 */
  workerConcurrency?: number | undefined;
  /**
   * How long a claimed job stays this process's without a heartbeat, in milliseconds. After
   * that any node may take it again, and the lost attempt counts as failed. An integer from
   * 100 to 2147483647. @default 30000
   */
  leaseMs?: number | undefined;
  /**
   * Time between lease heartbeats, in milliseconds: an integer from 1 to `leaseMs - 1`.
   * @default leaseMs / 3
   */
  heartbeatIntervalMs?: number | undefined;
  /**
   * Fallback polling for new jobs and for results, in milliseconds. Wake-ups are pushed by
   * storage; polling only catches what a push cannot reach (other processes on SQLite).
   * An integer from 10 to 2147483647. @default 1000
   */
  pollIntervalMs?: number | undefined;
  /**
   * A handler's wait longer than this suspends its job instead of holding a slot and a lease
   * (`sleep`, `waitForSignal` without a signal at hand, children's `result()` still pending
   * after this long): the job becomes `waiting` and runs its handler again when it wakes, its
   * recorded steps replaying. In milliseconds, an integer from 0 to 2147483647. @default 5000
   */
  suspendAfterMs?: number | undefined;
  /**
   * Serialized arguments (and results) larger than this are refused, in bytes (1 to 2^30).
   * @default 1048576
   */
  maxPayloadBytes?: number | undefined;
  /**
   * Finished jobs (success, dead, cancelled) are deleted this long after they finish, in
   * milliseconds: an integer from 0 to `Number.MAX_SAFE_INTEGER`. 0 keeps them forever.
   * @default 604800000 (7 days)
   */
  retentionMs?: number | undefined;
  /** Retry policy for every function unless its registration or a call says otherwise. */
  defaults?: RetryOptions | undefined;
  /**
   * A stable id for this process in leases (1 to 200 characters, without NUL or unpaired
   * surrogates); defaults to host, pid and a random suffix.
   */
  workerId?: string | undefined;
  /** Where the engine logs. @default warnings and errors to `console` */
  logger?: Logger | undefined;
  /**
   * Stop gracefully on SIGTERM and SIGINT. Off by default: embedders (Fastify, Nest, Express
   * helpers) handle signals themselves. @default false
   */
  handleSignals?: boolean | undefined;
  /**
   * OpenTelemetry providers for the engine's spans (`send <name>`, `process <name>`) and its
   * meter `reseolio`. @default the global providers: without an SDK registered, telemetry
   * is a no-op.
   */
  telemetry?: TelemetryOptions | undefined;
}

/** The last failed attempt's error as stored. */
export interface StoredError {
  name: string;
  message: string;
  code?: string | undefined;
  stack?: string | undefined;
  cause?: StoredError | undefined;
}

/** The job a `job:progress` event is about. */
export interface ProgressJob {
  id: string;
  /** The durable function's name. */
  name: string;
}

/** Everything known about a job, with real numbers and `Date`s. */
export interface JobDetails<R = unknown> {
  id: string;
  name: string;
  status: JobStatus;
  args: unknown[];
  /** The return value once `success`, else `undefined`. */
  result: R | undefined;
  /** The last failed attempt's error, or `null`. */
  error: StoredError | null;
  /** Attempts started so far (a lost attempt counts). */
  attempt: number;
  maxAttempts: number;
  idempotencyKey: string | null;
  parentId: string | null;
  /** The schedule whose tick (or trigger) made this job; null for a direct call. */
  scheduleId: string | null;
  /** Higher runs first. */
  priority: number;
  /** The job's concurrency group (see `DurableOptions.concurrency`), or null. */
  concurrencyKey: string | null;
  /** The job's rate-limit group (see `DurableOptions.rateLimit`), or null. */
  rateLimitKey: string | null;
  /** While `waiting`: what for (a sleep, a signal, children); null otherwise. */
  waitingFor: WaitingFor | null;
  /**
   * The last value its handler reported with `reportProgress` (a number or JSON data, as
   * reported); `null` before the first report (and after a report of `null`). Kept when the
   * job ends and across retries, until the next report.
   */
  progress: unknown;
  createdAt: Date;
  runAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  /**
   * Every attempt, oldest first, the running one last: filled by single-job reads
   * (`handle.details()`); `listJobs()` rows leave it `undefined`.
   */
  attempts?: AttemptInfo[] | undefined;
  /**
   * A workflow's journal, in the order it was recorded: each `step()` that ran, each `sleep()`
   * and each signal received by `waitForSignal()`. Filled by single-job reads
   * (`handle.details()`), empty for a job that used none; `listJobs()` rows leave it
   * `undefined`.
   */
  steps?: StepInfo[] | undefined;
}

/** One recorded entry of a workflow's journal (`JobDetails.steps`). */
export interface StepInfo {
  /**
   * `step`: a `step(name, fn)` that ran, `value` its result; `sleep`: a `sleep()`, `value` its
   * wake time (a `Date`); `signal`: a `waitForSignal(topic)` that ended, `value` the payload
   * received, or `null` when it timed out.
   */
  kind: 'step' | 'sleep' | 'signal';
  /** The step's name or the signal's topic; `null` for a sleep. */
  name: string | null;
  /** Which occurrence of this name in the run: 0 for the first, 1 for the second… */
  occurrence: number;
  value: unknown;
  /** When the entry was recorded (the step finished, the sleep began, the signal was taken). */
  recordedAt: Date;
}

/**
 * How an attempt ended, or `running`:
 * - `success`; `failed`: its handler threw (or timed out);
 * - `lost`: its lease expired (the process died or stalled) and a sweep on some node ended it;
 * - `suspended`: the handler waited (a sleep, a signal, children) and gave its slot back: the
 *   run that resumes the job has the same attempt number;
 * - `released`: handed back unrun by `stop()` (the attempt is not consumed);
 * - `cancelled`: the job was cancelled while it ran.
 */
export type AttemptInfoOutcome =
  | 'running'
  | 'success'
  | 'failed'
  | 'suspended'
  | 'released'
  | 'cancelled'
  | 'lost';

/** One attempt of a job (`JobDetails.attempts`). */
export interface AttemptInfo {
  /** The job's attempt count during it, 1-based (see `AttemptInfoOutcome` for repeats). */
  attempt: number;
  startedAt: Date;
  /** `null` while running. */
  endedAt: Date | null;
  outcome: AttemptInfoOutcome;
  /** For `failed` and `lost`: the error (a lost lease's says so); `null` otherwise. */
  error: StoredError | null;
  /** The `Reseolio.workerId` of the process that ran it. */
  workerId: string | null;
}

/** Options of `reseolio.completions()`. */
export interface CompletionsOptions {
  /**
   * How far back, in milliseconds: jobs that reached a final status in `(now - sinceMs, now]`.
   * An integer from 1 to 31536000000 (365 days). @default 3600000 (one hour)
   */
  sinceMs?: number | undefined;
  /**
   * Bucket width in milliseconds: an integer from 1000 to 86400000 (one day), with at most
   * 10000 buckets in `sinceMs`. Buckets start at multiples of it since the epoch.
   * @default 60000 (one minute)
   */
  bucketMs?: number | undefined;
}

/** The jobs of one function that reached a final status in one bucket (`completions()`). */
export interface CompletionBucket {
  /** The durable function's name. */
  name: string;
  /** The bucket's start; it ends `bucketMs` later. */
  bucketStart: Date;
  success: number;
  dead: number;
  cancelled: number;
}

/** Options of `reseolio.retryJobs()` and `cancelJobs()`. */
export interface BulkChangeOptions {
  /**
   * Change at most this many jobs (an integer from 1 to `Number.MAX_SAFE_INTEGER`).
   * @default every matching job
   */
  limit?: number | undefined;
}

/** What `retryJobs()` or `cancelJobs()` did. */
export interface BulkChangeResult {
  /** Jobs that matched the filter in a status the action applies to, when visited. */
  matched: number;
  /** Jobs changed: fewer than `matched` when some changed status meanwhile. */
  changed: number;
}

/** A reference to one job, from any process. */
export interface JobHandle<R = unknown> {
  readonly jobId: string;
  /**
   * Resolves the job's return value once it succeeds. Rejects with `JobFailedError` when it
   * ends dead, `JobCancelledError` when cancelled, or `ResultTimeoutError` after `timeoutMs`
   * milliseconds (the job keeps running): an integer from 0 to 2147483647 (about 24.8 days,
   * the longest a Node.js timer waits; larger values are refused, not shortened). Without
   * `timeoutMs` it waits as long as it takes.
   * Inside a running job, the waiting job gives up its concurrency slot while it waits.
   */
  result(timeoutMs?: number): Promise<R>;
  status(): Promise<JobStatus>;
  details(): Promise<JobDetails<R>>;
  /** Cancels a pending or running job; false when it had already finished. */
  cancel(): Promise<boolean>;
}

/** A registered durable function: calling it persists a job and resolves its handle. */
export interface DurableFunction<A extends unknown[], R> {
  (...args: A): Promise<JobHandle<R>>;
  (...args: [...A, CallOptions]): Promise<JobHandle<R>>;
  /** The unambiguous form: arguments as an array, options apart. */
  enqueue(args: A, options?: CallOptions): Promise<JobHandle<R>>;
  /**
   * Persists one job per argument list in a single storage round trip, and resolves their
   * handles in the same order. Every item is validated and serialized before anything is
   * stored: one bad item rejects the call and stores nothing. `options` apply to every job;
   * `idempotencyKey` and `transaction` are not accepted here (call `fn.enqueue` per job).
   * Inside a running job, each item gets its deterministic child key, as single calls do.
   */
  enqueueMany(argsList: A[], options?: CallOptions): Promise<JobHandle<R>[]>;
  /** The registered name. */
  readonly functionName: string;
  /** The registration's policy with defaults applied. */
  readonly options: Readonly<ResolvedRetryPolicy>;
}

/** What `currentJob()` returns inside a running handler. */
export interface JobContext {
  jobId: string;
  name: string;
  /** 1 for the first attempt. */
  attempt: number;
  parentId: string | null;
  /** Aborts on attempt timeout, cancellation, lost lease and shutdown; `reason` says which. */
  signal: AbortSignal;
}

/** The job an event is about. */
export interface JobInfo {
  id: string;
  name: string;
  attempt: number;
  maxAttempts: number;
  parentId: string | null;
  idempotencyKey: string | null;
}

/** Typed events of a `Reseolio` instance. */
export interface ReseolioEvents {
  /** An attempt started in this process. */
  'job:start': [job: JobInfo];
  /** A job of this process succeeded. */
  'job:success': [job: JobInfo, result: unknown];
  /** An attempt failed (every failed attempt, retried or not). */
  'job:error': [job: JobInfo, error: Error];
  /** A failed attempt will be retried at `runAt`. */
  'job:retry': [job: JobInfo, error: Error, runAt: Date];
  /** A job used its last attempt, or threw a non-retryable error. */
  'job:dead': [job: JobInfo, error: Error];
  /** A job of this process suspended: it is `waiting` (`details().waitingFor` says for what). */
  'job:waiting': [job: JobInfo];
  /**
   * A running job reported progress (`reportProgress`), in this process or another one on the
   * same storage (PostgreSQL with `listen`, a SQLite file; memory storage: this process). `job`
   * names it (read the rest with `getJob(job.id)`); `progress` is the value as reported.
   * Reports are coalesced, so a listener sees the latest value, not necessarily every one.
   */
  'job:progress': [job: ProgressJob, progress: unknown];
  /** A job was cancelled through this instance. */
  'job:cancelled': [jobId: string];
  /** A call returned an existing job because of its idempotency key. */
  deduplicated: [job: JobInfo];
  /** Storage is ready and, after `start()`, workers are claiming. */
  ready: [];
  /** `stop()` finished. */
  stopped: [];
  /** A background failure (storage unreachable, an ack failed…); the engine keeps going. */
  error: [error: Error];
}
