import { EventEmitter } from 'node:events';
import { changeByFilter } from './bulk-change.ts';
import { type Clock, systemClock } from './clock.ts';
import { attemptStorage } from './context.ts';
import { DatabaseClock } from './database-clock.ts';
import { createDurableFunction } from './durable.ts';
import {
  DuplicateFunctionError,
  JobNotFoundError,
  ReseolioError,
  ReseolioStateError,
  ReseolioValidationError,
} from './errors.ts';
import { uuidv7 } from './ids.ts';
import { JobFactory, NO_CALL_OPTIONS } from './job-factory.ts';
import { DurableJobHandle, type HandleHost, toDetails } from './job-handle.ts';
import { infoOf } from './job-info.ts';
import type { LoggedJob } from './logging/engine-logger.ts';
import {
  DEFAULT_FLOW,
  type FlowSettings,
  flowRuleOf,
  jobFlowFields,
  resolveFlowSettings,
} from './options/flow-options.ts';
import {
  type ResolvedOptions,
  resolveBulkOptions,
  resolveCompletionsOptions,
  resolveCountFilter,
  resolveEngineOptions,
  resolveListFilter,
  resolveRetryPolicy,
  resolveStopTimeout,
  validateCallOptions,
  validateDurableOptions,
  validateFunctionName,
  validateNamespacePart,
  validateResultTimeout,
} from './options.ts';
import type { FinalState, InsertMark } from './result-waiters.ts';
import { openRuntime, type Runtime } from './runtime.ts';
import { ScheduleApi } from './schedules/schedule-api.ts';
import { type ScheduledFunction, Scheduler } from './schedules/scheduler.ts';
import type {
  ScheduleInfo,
  ScheduleListFilter,
  ScheduleOptions,
  SchedulePatch,
} from './schedules/types.ts';
import { deserialize } from './serialization.ts';
import type { JobCountFilter, JobFilter, JobRecord, StorageEvent } from './storage/records.ts';
import type { EnqueueLease, StorageAdapter } from './storage/storage.ts';
import { MetricsFanout } from './telemetry/metrics-fanout.ts';
import { type MetricsSource, observeMetrics } from './telemetry/metrics-sink.ts';
import { OtelMetrics } from './telemetry/otel-metrics.ts';
import { Producer } from './telemetry/producer.ts';
import { toReseolioStats } from './telemetry/read-stats.ts';
import type { ReseolioStats } from './telemetry/stats.ts';
import { Tracing } from './telemetry/tracing.ts';
import type {
  BulkChangeOptions,
  BulkChangeResult,
  CallOptions,
  CompletionBucket,
  CompletionsOptions,
  DurableFunction,
  DurableOptions,
  JobDetails,
  JobHandle,
  JobInfo,
  ReseolioEvents,
  ReseolioOptions,
  ResolvedRetryPolicy,
} from './types.ts';
import { type Registration, WorkerPool } from './worker/pool.ts';
import { installSignalHandlers } from './worker/signals.ts';
import { resolveSignal } from './workflow/signal-input.ts';

/** Where an instance is in its life. */
export type ReseolioState = 'created' | 'initialized' | 'started' | 'stopping' | 'stopped';

/**
 * The engine: registers durable functions, persists their calls as jobs, runs claimed jobs
 * with retries under a lease, and resolves results for any process. One instance per process
 * is typical; it owns no global state, so several can coexist (in tests, say).
 */
export class Reseolio extends EventEmitter<ReseolioEvents> {
  readonly #options: ResolvedOptions;
  readonly #clock: DatabaseClock;
  readonly #registry = new Map<string, Registration>();
  readonly #jobs: JobFactory;
  /** Every metrics backend listens here (`[observeMetrics]`). */
  readonly #metrics: MetricsFanout;
  readonly #tracing: Tracing;
  readonly #producer: Producer;
  /** The meter `reseolio`, while the engine is initialized. */
  #otelMetrics: OtelMetrics | undefined;
  #state: ReseolioState = 'created';
  #runtime: Promise<Runtime> | undefined;
  #pool: WorkerPool | undefined;
  #scheduler: Scheduler | undefined;
  readonly #schedules: ScheduleApi;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #removeSignalHandlers: (() => void) | undefined;
  readonly #host: HandleHost = {
    getRecord: (jobId) => this.#getRecord(jobId),
    listAttempts: async (jobId) => (await this.#ready()).storage.listAttempts(jobId),
    listSteps: async (jobId) => (await this.#ready()).storage.listSteps(jobId),
    waitFinal: (jobId, timeoutMs, inserted) => this.#waitFinal(jobId, timeoutMs, inserted),
    cancel: (jobId) => this.#cancel(jobId),
  };

  constructor(options: ReseolioOptions = {}, /** @internal */ clock: Clock = systemClock) {
    super();
    this.#options = resolveEngineOptions(options);
    // Every time the engine stamps (leases, sweeps, due times, ids) is on the database's clock.
    this.#clock = new DatabaseClock(clock, this.#options.logger);
    this.#jobs = new JobFactory(this, this.#clock, this.#options.maxPayloadBytes);
    this.#metrics = new MetricsFanout(this.#options.logger);
    this.#tracing = new Tracing(this.#options.telemetry.tracer);
    this.#producer = new Producer(this.#metrics, this.#tracing);
    this.#schedules = new ScheduleApi({
      storage: async () => (await this.#ready()).storage,
      clock: this.#clock,
      maxPayloadBytes: this.#options.maxPayloadBytes,
      functionFor: (name) => this.#scheduledFunction(name),
      producer: this.#producer,
      changed: () => this.#scheduler?.wake(),
    });
  }

  get state(): ReseolioState {
    return this.#state;
  }

  /** The id this process writes into leases. */
  get workerId(): string {
    return this.#options.workerId;
  }

  /**
   * Connects to storage and applies migrations, without starting workers. Calls need it and
   * run it themselves; frameworks call it early so a bad database fails the boot.
   */
  async init(): Promise<void> {
    await this.#ready();
  }

  /**
   * Initializes storage, then starts claiming jobs (unless `workerConcurrency` is 0). When it
   * fails (the database is unreachable), the next call tries again. An instance does not
   * start again after `stop()`: that rejects with `ReseolioStateError` (create a new one).
   */
  start(): Promise<void> {
    if (this.#stopping !== undefined) {
      return Promise.reject(
        new ReseolioStateError(
          `Cannot start: this Reseolio instance is ${this.#state}; create a new instance to start again.`,
        ),
      );
    }
    this.#starting ??= (async () => {
      const runtime = await this.#ready();
      if (this.#state !== 'initialized')
        throw new ReseolioStateError(`Cannot start: the engine is ${this.#state}.`);
      if (this.#options.workerConcurrency > 0) {
        for (const registration of this.#registry.values()) {
          assertFlowSupported(runtime.storage, registration);
        }
        this.#pool = new WorkerPool({
          storage: runtime.storage,
          options: this.#options,
          registry: this.#registry,
          clock: this.#clock,
          waiters: runtime.waiters,
          engine: this,
          emit: (event, ...args) => this.#emit(event, ...args),
          metrics: this.#metrics,
          tracing: this.#tracing,
        });
        this.#pool.start();
        this.#scheduler = new Scheduler({
          storage: runtime.storage,
          clock: this.#clock,
          logger: this.#options.logger,
          functions: () => this.#scheduledFunctions(),
          producer: this.#producer,
          onError: (error) => this.#emit('error', error),
        });
        this.#scheduler.start();
      }
      if (this.#options.handleSignals) {
        this.#removeSignalHandlers = installSignalHandlers(() => this.stop(), this.#options.logger);
      }
      this.#state = 'started';
      this.#emit('ready');
    })().catch((error: unknown) => {
      this.#starting = undefined; // the next start() tries again
      throw error;
    });
    return this.#starting;
  }

  /**
   * Stops claiming, lets running jobs finish for up to `timeoutMs` milliseconds, then aborts
   * the rest and hands them back for another node (attempt not consumed). Closes storage if
   * the engine opened it. Pending `result()` calls in this process reject.
   * @param options.timeoutMs drain deadline in milliseconds, from 0 to 2147483647 (about
   *   24.8 days). @default 10000
   */
  stop(options?: { timeoutMs?: number | undefined }): Promise<void> {
    let timeoutMs: number;
    try {
      timeoutMs = resolveStopTimeout(options);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#stopping ??= (async () => {
      this.#state = 'stopping';
      this.#removeSignalHandlers?.();
      await this.#starting?.catch(() => {});
      // Both stop at once: the pool must stop claiming before this await yields.
      await Promise.all([this.#scheduler?.stop(), this.#pool?.stop(timeoutMs)]);
      const runtime = await this.#runtime?.catch(() => undefined);
      this.#otelMetrics?.close();
      this.#otelMetrics = undefined;
      await runtime?.close(
        new ReseolioStateError('The engine stopped while this result() was waiting.'),
      );
      this.#state = 'stopped';
      this.#emit('stopped');
    })();
    return this.#stopping;
  }

  /**
   * Registers `handler` under `name` and returns the function that runs it durably: each
   * call persists a job and resolves its handle once stored. Register the same names on
   * every node that should run them; a node claims only the names it registered.
   */
  durable<A extends unknown[], R>(
    name: string,
    handler: (...args: A) => R | Promise<R>,
    options?: DurableOptions<A>,
  ): DurableFunction<A, Awaited<R>> {
    validateFunctionName(name);
    if (typeof handler !== 'function') {
      throw new ReseolioValidationError(`durable("${name}", handler) needs a function as handler.`);
    }
    const validated = validateDurableOptions(options);
    const policy = resolveRetryPolicy(this.#options.defaults, validated, 'durable() options');
    const flow = resolveFlowSettings(validated);
    if (this.#registry.has(name)) throw new DuplicateFunctionError(name);
    const registration: Registration = {
      name,
      handler: handler as (...args: unknown[]) => unknown,
      policy,
      flow,
      rule: flowRuleOf(name, flow),
    };
    if (this.#pool) assertFlowSupported(this.#pool.storage, registration);
    this.#registry.set(name, registration);
    this.#pool?.wake();
    this.#scheduler?.wake();
    return createDurableFunction<A, Awaited<R>>(
      name,
      policy,
      (n, args, callOptions, base) => this.#enqueue(n, args, callOptions, base),
      (n, argsList, callOptions, base) => this.#enqueueMany(n, argsList, callOptions, base),
    );
  }

  /**
   * Starts a job of the function registered as `name`, by name: a web process that registers
   * no handlers (`workerConcurrency: 0`) starts jobs that worker processes run. The
   * registration's options apply when `name` is registered in this process; otherwise the
   * engine's `defaults` and the call's options (pass `concurrencyKey` or `rateLimitKey` here
   * when the function's limits are per key: key functions run where a job is made).
   * @throws ReseolioValidationError for a bad name, arguments that are not an array or bad
   *   options (nothing is stored).
   */
  async enqueue<R = unknown>(
    name: string,
    args: unknown[],
    options?: CallOptions,
  ): Promise<JobHandle<R>> {
    validateFunctionName(name);
    if (!Array.isArray(args)) {
      throw new ReseolioValidationError(
        `enqueue("${name}", args, options) takes the arguments as an array, e.g. ` +
          `reseolio.enqueue("${name}", [orderId]).`,
      );
    }
    const policy = this.#registry.get(name)?.policy ?? this.#options.defaults;
    return (await this.#enqueue(name, args, options, policy)) as JobHandle<R>;
  }

  /** True when this instance registered a durable function under `name`. */
  isRegistered(name: string): boolean {
    return this.#registry.has(name);
  }

  /** Joins name parts with `:` (`namespace('orders', 'charge')` → `'orders:charge'`). */
  namespace(...parts: string[]): string {
    if (parts.length === 0) {
      throw new ReseolioValidationError(
        'namespace() needs at least one part.',
        'RESEOLIO_INVALID_NAME',
      );
    }
    return parts.map(validateNamespacePart).join(':');
  }

  /** A handle for a job made by any process; the id is checked when the handle is used. */
  getHandle<R = unknown>(jobId: string): JobHandle<R> {
    if (typeof jobId !== 'string' || jobId.length === 0) {
      throw new ReseolioValidationError('getHandle(jobId) needs a job id string.');
    }
    return new DurableJobHandle<R>(this.#host, jobId);
  }

  /**
   * The stored jobs of every function, counted by status, with each function's oldest due job
   * not yet running, in one aggregate read on the database's clock (all processes' jobs).
   */
  async stats(): Promise<ReseolioStats> {
    const { storage } = await this.#ready();
    const now = this.#clock.now();
    return toReseolioStats(await storage.stats({ now }), now);
  }

  /**
   * What metrics backends read: every report of the engine (jobs stored, attempts, outcomes)
   * and this process's worker. The OpenTelemetry meter and the framework packages' Prometheus
   * registries use it; a symbol key keeps it out of the way of applications.
   */
  [observeMetrics](): MetricsSource {
    return {
      addSink: (sink) => this.#metrics.add(sink),
      worker: () => this.#pool?.snapshot() ?? { slots: 0, busy: 0, lastSeenAt: null },
    };
  }

  /**
   * Jobs, newest first (id descending), filtered by status, name, parent, schedule,
   * idempotency key and creation time. `limit` defaults to 100 (1 to 1000). For pages of a
   * large table pass the last id of a page as `before` to get the next one (keyset: a page
   * costs the same however deep, and nothing shifts as jobs are added); `offset` (default 0,
   * at most `Number.MAX_SAFE_INTEGER`) reads and skips rows. Rows carry no `attempts`
   * (`getHandle(id).details()` does).
   * @throws ReseolioValidationError for a bad filter (a `before` that is not a job id, say)
   */
  async listJobs(filter?: JobFilter): Promise<JobDetails[]> {
    const resolved = resolveListFilter(filter);
    const { storage } = await this.#ready();
    return (await storage.listJobs(resolved)).map((record) => toDetails(record));
  }

  /**
   * How many jobs match `filter` (the conditions of `listJobs()`, without paging), exactly,
   * across every process on the storage.
   * @throws ReseolioValidationError for a bad filter (`limit`, `offset`, `before` included)
   */
  async countJobs(filter?: JobCountFilter): Promise<number> {
    const resolved = resolveCountFilter(filter);
    const { storage } = await this.#ready();
    return storage.countJobs(resolved);
  }

  /**
   * Jobs that reached a final status (`success`, `dead`, `cancelled`) in the last `sinceMs`
   * milliseconds (`(now - sinceMs, now]` on the database's clock), per function and bucket of
   * `bucketMs`, read from the stored completion times: right after a restart too, and for
   * every process. Only non-empty buckets, by bucket start, then name. A job retried since
   * is not counted (its completion was cleared).
   * @throws ReseolioValidationError for bad options
   */
  async completions(options?: CompletionsOptions): Promise<CompletionBucket[]> {
    const { sinceMs, bucketMs } = resolveCompletionsOptions(options);
    const { storage } = await this.#ready();
    const now = this.#clock.now();
    // `now` included: a job that ended in this very millisecond counts.
    const rows = await storage.completions({ since: now - sinceMs + 1, until: now + 1, bucketMs });
    return rows.map((row) => ({ ...row, bucketStart: new Date(row.bucketStart) }));
  }

  /**
   * Runs again, from attempt 1, every `dead` or `cancelled` job that matches `filter` (as
   * `retryJob()` does one), newest first, a page at a time (never every row at once). Jobs
   * made after the call started are left alone.
   * @param options.limit retry at most this many. @default every matching job
   * @returns how many matched (in a retryable status when visited) and how many were retried
   * @throws ReseolioValidationError for a bad filter or options (nothing is changed)
   */
  async retryJobs(filter: JobCountFilter, options?: BulkChangeOptions): Promise<BulkChangeResult> {
    const resolved = resolveCountFilter(filter, 'retryJobs() filter');
    const { limit } = resolveBulkOptions(options, 'retryJobs() options');
    const { storage } = await this.#ready();
    return changeByFilter(storage, resolved, ['dead', 'cancelled'], limit, (jobId) =>
      storage.retry(jobId, this.#clock.now()),
    );
  }

  /**
   * Cancels every `pending`, `running` or `waiting` job that matches `filter` (as
   * `handle.cancel()` does one: a running handler is aborted, waiting parents wake), newest
   * first, a page at a time. Jobs made after the call started are left alone.
   * @param options.limit cancel at most this many. @default every matching job
   * @returns how many matched (in a cancellable status when visited) and how many were cancelled
   * @throws ReseolioValidationError for a bad filter or options (nothing is changed)
   */
  async cancelJobs(filter: JobCountFilter, options?: BulkChangeOptions): Promise<BulkChangeResult> {
    const resolved = resolveCountFilter(filter, 'cancelJobs() filter');
    const { limit } = resolveBulkOptions(options, 'cancelJobs() options');
    const { storage } = await this.#ready();
    return changeByFilter(storage, resolved, ['pending', 'running', 'waiting'], limit, (jobId) =>
      this.#cancelExisting(jobId),
    );
  }

  /** Runs a `dead` or `cancelled` job again from attempt 1; returns its handle. */
  async retryJob<R = unknown>(jobId: string): Promise<JobHandle<R>> {
    const { storage } = await this.#ready();
    if (!(await storage.retry(jobId, this.#clock.now()))) {
      const record = await this.#getRecord(jobId);
      throw new ReseolioStateError(
        `Job ${jobId} is ${record.status}: only dead or cancelled jobs can be retried.`,
      );
    }
    return this.getHandle<R>(jobId);
  }

  /**
   * Declares a schedule, stored in the database: every tick of `cron` in `timezone` makes one
   * job of `fn` with `args`, however many nodes run (each tick is claimed in the database).
   * Upserts by `id`, so calling it at every start is the normal way to declare schedules in
   * code: a changed cron or zone moves the next run, and a schedule paused at runtime stays
   * paused. Ticks are fired by started engines that registered `fn` (with
   * `workerConcurrency` above 0), on the database's clock.
   * @throws InvalidScheduleError for a bad cron or zone, ReseolioValidationError for other
   *   bad options, SerializationError for arguments that cannot be stored: nothing is stored.
   */
  schedule<A extends unknown[]>(
    id: string,
    fn: DurableFunction<A, unknown>,
    options: ScheduleOptions<A>,
  ): Promise<ScheduleInfo<A>>;
  schedule(id: string, name: string, options: ScheduleOptions): Promise<ScheduleInfo>;
  schedule(id: string, fn: unknown, options: ScheduleOptions): Promise<ScheduleInfo> {
    return this.#schedules.schedule(id, fn, options);
  }

  /** A schedule by id, or null. */
  getSchedule(id: string): Promise<ScheduleInfo | null> {
    return this.#schedules.get(id);
  }

  /** Schedules by id. `limit` defaults to 100 (1 to 1000), `offset` to 0. */
  listSchedules(filter?: ScheduleListFilter): Promise<ScheduleInfo[]> {
    return this.#schedules.list(filter);
  }

  /**
   * Changes the given fields of a schedule; a new cron or zone moves the next run to its
   * first tick from now. @throws ScheduleNotFoundError
   */
  updateSchedule(id: string, patch: SchedulePatch): Promise<ScheduleInfo> {
    return this.#schedules.update(id, patch);
  }

  /** No runs until resumed (`triggerSchedule` still runs it). @throws ScheduleNotFoundError */
  pauseSchedule(id: string): Promise<ScheduleInfo> {
    return this.#schedules.pause(id);
  }

  /**
   * Active again from the first tick after now; ticks that fell while it was paused are not
   * run. @throws ScheduleNotFoundError
   */
  resumeSchedule(id: string): Promise<ScheduleInfo> {
    return this.#schedules.resume(id);
  }

  /** Deletes a schedule (the jobs it made stay); false when there was none. */
  deleteSchedule(id: string): Promise<boolean> {
    return this.#schedules.delete(id);
  }

  /**
   * One run now, outside the cadence (a paused schedule too); the next tick stays.
   * @throws ScheduleNotFoundError
   */
  async triggerSchedule<R = unknown>(id: string): Promise<JobHandle<R>> {
    return this.getHandle<R>(await this.#schedules.trigger(id));
  }

  /** The functions this process fires schedules for: every registration. */
  #scheduledFunctions(): ReadonlyMap<string, ScheduledFunction> {
    const functions = new Map<string, ScheduledFunction>();
    for (const name of this.#registry.keys()) functions.set(name, this.#scheduledFunction(name));
    return functions;
  }

  /** A run's policy and flow fields: the registration's here, else the engine's defaults. */
  #scheduledFunction(name: string): ScheduledFunction {
    const policy = this.#registry.get(name)?.policy ?? this.#options.defaults;
    const flow = this.#flowOf(name);
    return {
      policyText: () => this.#jobs.policyText(policy),
      maxAttempts: () => policy.maxAttempts,
      flowFields: (args) => {
        try {
          return jobFlowFields(name, flow, deserialize(args) as unknown[], NO_CALL_OPTIONS);
        } catch (error) {
          // The tick still runs (a schedule's args are fixed, so a key function that fails on
          // them fails every time); its job is in the function's keyless group.
          this.#emit(
            'error',
            new ReseolioError(
              'RESEOLIO_BACKGROUND_ERROR',
              `a scheduled run of "${name}" has no flow key: ${(error as Error).message}`,
              { cause: error },
            ),
          );
          return { priority: flow.priority, concurrencyKey: null, rateLimitKey: null };
        }
      },
    };
  }

  /** Priority and limits of `name`: its registration's here, else none. */
  #flowOf(name: string): FlowSettings {
    return this.#registry.get(name)?.flow ?? DEFAULT_FLOW;
  }

  async #enqueue(
    name: string,
    args: unknown[],
    callOptions: CallOptions | undefined,
    basePolicy: Readonly<ResolvedRetryPolicy>,
  ): Promise<JobHandle<unknown>> {
    // Everything is validated and serialized before storage is touched: bad input stores nothing.
    const options = callOptions === undefined ? NO_CALL_OPTIONS : validateCallOptions(callOptions);
    const job = this.#jobs.make(name, args, options, basePolicy, this.#flowOf(name));
    const { storage, waiters } = await this.#ready();
    if (options.transaction !== undefined) {
      // Announced by storage once the caller commits; running it before would run a job
      // that may yet be rolled back.
      const { job: stored, deduplicated } = await this.#producer.send(
        [job],
        () => storage.enqueue(job, { transaction: options.transaction }),
        (result) => [result],
      );
      if (deduplicated) this.#emit('deduplicated', infoOf(stored));
      return new DurableJobHandle(this.#host, stored.id);
    }
    // The pool decides whether the job runs right here (inserted already leased to this
    // process) and wakes itself for it; without a pool it waits for another node's claim.
    const insert = (lease: EnqueueLease | undefined) => storage.enqueue(job, lease && { lease });
    const { job: stored, deduplicated } = await this.#producer.send(
      [job],
      () => (this.#pool ? this.#pool.enqueue(job, insert) : insert(undefined)),
      (result) => [result],
    );
    this.#adoptChild(stored);
    if (deduplicated) {
      this.#emit('deduplicated', infoOf(stored));
      return new DurableJobHandle(this.#host, stored.id);
    }
    return new DurableJobHandle(this.#host, stored.id, waiters.markInserted());
  }

  async #enqueueMany(
    name: string,
    argsList: unknown[][],
    callOptions: CallOptions | undefined,
    basePolicy: Readonly<ResolvedRetryPolicy>,
  ): Promise<JobHandle<unknown>[]> {
    const options = callOptions === undefined ? NO_CALL_OPTIONS : validateCallOptions(callOptions);
    if (options.idempotencyKey !== undefined || options.transaction !== undefined) {
      throw new ReseolioValidationError(
        `${name}.enqueueMany() takes no idempotencyKey or transaction (one key cannot name ` +
          'several jobs); call enqueue() per job for those.',
        'RESEOLIO_INVALID_OPTION',
      );
    }
    // Every item is validated and serialized first: one bad item stores nothing.
    const flow = this.#flowOf(name);
    const jobs = argsList.map((args) => this.#jobs.make(name, args, options, basePolicy, flow));
    if (jobs.length === 0) return [];
    const { storage, waiters } = await this.#ready();
    const results = await this.#producer.send(
      jobs,
      () => storage.enqueueMany(jobs),
      (stored) => stored,
    );
    for (const { job } of results) this.#adoptChild(job);
    const inserted = waiters.markInserted();
    let earliest: number | undefined;
    for (const { job, deduplicated } of results) {
      if (deduplicated) this.#emit('deduplicated', infoOf(job));
      else earliest = Math.min(earliest ?? job.runAt, job.runAt);
    }
    if (earliest !== undefined) this.#pool?.onReady(name, earliest);
    return results.map(
      ({ job, deduplicated }) =>
        new DurableJobHandle(this.#host, job.id, deduplicated ? undefined : inserted),
    );
  }

  async #waitFinal(jobId: string, timeoutMs?: number, inserted?: InsertMark): Promise<FinalState> {
    validateResultTimeout(timeoutMs);
    const { waiters } = await this.#ready();
    const parent = attemptStorage.getStore();
    const own = parent !== undefined && parent.engine === this ? parent : undefined;
    const lend = own ? this.#pool : undefined;
    lend?.suspend(own!.attemptKey);
    try {
      const waiting = waiters.wait(jobId, timeoutMs, inserted);
      // A child awaited without a timeout may suspend the parent after suspendAfterMs: its
      // end wakes the parent, which re-attaches and reads the outcome.
      return own?.workflow.isChild(jobId) && timeoutMs === undefined
        ? await own.workflow.awaitChild(jobId, waiting)
        : await waiting;
    } finally {
      lend?.resume(own!.attemptKey);
    }
  }

  /** A job made or re-attached inside one of this engine's attempts is that attempt's child. */
  #adoptChild(job: JobRecord): void {
    const context = attemptStorage.getStore();
    if (context?.engine === this && job.parentId === context.jobId) {
      context.workflow.addChild(job.id);
    }
  }

  /**
   * Sends a signal to a job: `waitForSignal(topic)` in its handler receives `payload`. A
   * signal sent before the wait is kept until a wait consumes it; each is consumed once,
   * oldest first. A job waiting for the topic wakes at once. With an `idempotencyKey`, a second
   * signal with the same key to the same job is a duplicate and stores nothing.
   * @returns `{ duplicate }`: true when the key had been used already
   * @throws JobNotFoundError for an unknown job, ReseolioStateError for a job that finished
   *   (nothing is stored), ReseolioValidationError or SerializationError for bad input
   */
  async signal(
    jobId: string,
    topic: string,
    payload?: unknown,
    options?: { idempotencyKey?: string | undefined },
  ): Promise<{ duplicate: boolean }> {
    const input = resolveSignal(jobId, topic, payload, options, this.#options.maxPayloadBytes);
    const { storage } = await this.#ready();
    const now = this.#clock.now();
    const result = await storage.signal({ ...input, id: uuidv7(now), now });
    switch (result.status) {
      case 'job-not-found':
        throw new JobNotFoundError(jobId);
      case 'job-finished':
        throw new ReseolioStateError(
          `Job ${jobId} is ${result.jobStatus}: signals go to jobs that have not finished, and this one ` +
            'will never wait again (retryJob() it first to resume it).',
        );
      case 'duplicate':
        return { duplicate: true };
      case 'stored':
        return { duplicate: false };
    }
  }

  async #getRecord(jobId: string): Promise<JobRecord> {
    const { storage } = await this.#ready();
    const record = await storage.getJob(jobId);
    if (!record) throw new JobNotFoundError(jobId);
    return record;
  }

  async #cancel(jobId: string): Promise<boolean> {
    const cancelled = await this.#cancelExisting(jobId);
    if (!cancelled && !(await (await this.#ready()).storage.getJob(jobId))) {
      throw new JobNotFoundError(jobId);
    }
    return cancelled;
  }

  /** Cancels a job with its events and metrics; false when it was final or unknown. */
  async #cancelExisting(jobId: string): Promise<boolean> {
    const { storage } = await this.#ready();
    const cancelled = await storage.cancel(jobId, this.#clock.now());
    if (cancelled) {
      if (this.#metrics.listening) {
        // The cancel answers only yes or no; its function's name costs a read, made only when
        // some metrics backend counts it (and never failing the cancel, which is committed).
        const job = await storage.getJob(jobId).catch(() => undefined);
        if (job) this.#metrics.completed(job.name, 'cancelled');
      }
      this.#pool?.onFinished(jobId, 'cancelled');
      this.#emit('job:cancelled', jobId);
    }
    return cancelled;
  }

  /**
   * Storage, initialized once and shared by every call. While `stop()` drains, calls still
   * work (storage stays open until the drain ends): a web server still finishing its requests
   * can enqueue, and those jobs wait for another node or the next start. A failed
   * initialization is not kept: the next call tries again, so an app whose database (or
   * SQLite folder) was missing at boot recovers once it is back.
   */
  #ready(): Promise<Runtime> {
    if (this.#state === 'stopped' || (this.#state === 'stopping' && this.#runtime === undefined)) {
      return Promise.reject(
        new ReseolioStateError('This Reseolio instance is stopped; create a new one.'),
      );
    }
    if (this.#runtime !== undefined) return this.#runtime;
    const runtime = openRuntime(this.#options, this.#clock, {
      onEvent: (event) => this.#onStorageEvent(event),
      onError: (error) => this.#emit('error', error),
    }).then((opened) => {
      if (this.#state === 'created') this.#state = 'initialized';
      this.#observeWithOtel();
      return opened;
    });
    this.#runtime = runtime;
    runtime.catch(() => {
      // Not kept: the next call initializes again.
      if (this.#runtime === runtime) this.#runtime = undefined;
    });
    return runtime;
  }

  /**
   * Starts the meter `reseolio` (from the provider known now: a global SDK must be registered
   * before the engine initializes). A provider that throws costs the metrics, not the engine.
   */
  #observeWithOtel(): void {
    if (this.#otelMetrics !== undefined || this.#stopping !== undefined) return;
    try {
      this.#otelMetrics = new OtelMetrics({
        meterProvider: this.#options.telemetry.meterProvider(),
        source: this[observeMetrics](),
        stats: () => this.stats(),
        logger: this.#options.logger,
      });
    } catch (error) {
      this.#options.logger.error('setting up the OpenTelemetry meter "reseolio" failed', error);
    }
  }

  /** Storage events, after the waiters have seen theirs (see `openRuntime`). */
  #onStorageEvent(event: StorageEvent): void {
    switch (event.type) {
      case 'ready':
        this.#pool?.onReady(event.name, event.runAt);
        break;
      case 'finished':
        this.#pool?.onFinished(event.jobId, event.status);
        break;
      case 'resync':
        this.#pool?.wake();
        break;
      case 'progress':
        this.#emitProgress(event).catch((error: unknown) => this.#emit('error', error as Error));
        break;
    }
  }

  /**
   * `job:progress` for a stored report, from this process or another. An event without the
   * value (too large for the adapter's notification) is completed by reading the job; nothing
   * is decoded or read while nobody listens.
   */
  async #emitProgress(event: Extract<StorageEvent, { type: 'progress' }>): Promise<void> {
    if (this.listenerCount('job:progress') === 0) return;
    let progress = event.progress;
    if (progress === undefined) {
      const { storage } = await this.#ready();
      progress = (await storage.getJob(event.jobId))?.progress ?? undefined;
      if (progress === undefined) return;
    }
    this.#emit('job:progress', { id: event.jobId, name: event.name }, deserialize(progress));
  }

  /** Emits without letting a throwing listener break the engine; `error` needs no listener. */
  #emit<K extends keyof ReseolioEvents>(event: K, ...args: ReseolioEvents[K]): void {
    if (event === 'error' && this.listenerCount('error') === 0) {
      this.#options.logger.error((args[0] as Error).message, (args[0] as Error).cause);
      return;
    }
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (error) {
      const job = jobOfEvent(args);
      if (job === undefined) this.#options.logger.error(`a "${event}" listener threw`, error);
      else this.#options.logger.job('error', job, `a "${event}" listener threw`, error);
    }
  }
}

/** The job an event is about, when its first argument names one (`JobInfo`, `ProgressJob`). */
function jobOfEvent(args: readonly unknown[]): LoggedJob | undefined {
  const job = args[0] as Partial<JobInfo> | null | undefined;
  if (typeof job?.id !== 'string' || typeof job.name !== 'string') return undefined;
  return { id: job.id, name: job.name, attempt: job.attempt };
}

/**
 * Limits are enforced by storage claims: an adapter without `capabilities.flowControl` would
 * run a limited function's jobs without them, so a worker refuses to start with one.
 */
function assertFlowSupported(storage: StorageAdapter, registration: Registration): void {
  if (registration.rule === undefined || storage.capabilities.flowControl) return;
  throw new ReseolioStateError(
    `"${registration.name}" declares concurrency or rateLimit, which the ${storage.kind} ` +
      'storage adapter cannot enforce (capabilities.flowControl is false). Use an adapter that ' +
      'supports flow control (memory, SQLite, PostgreSQL), or drop the limits.',
  );
}
