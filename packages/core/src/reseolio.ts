import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from './clock.ts';
import { attemptStorage } from './context.ts';
import { CLOCK_SYNC_INTERVAL_MS, DatabaseClock } from './database-clock.ts';
import { createDurableFunction } from './durable.ts';
import {
  DuplicateFunctionError,
  JobNotFoundError,
  PayloadTooLargeError,
  ReseolioError,
  ReseolioStateError,
  ReseolioValidationError,
} from './errors.ts';
import { uuidv7 } from './ids.ts';
import { DurableJobHandle, type HandleHost, toDetails } from './job-handle.ts';
import { infoOf } from './job-info.ts';
import {
  hasRetryOption,
  type ResolvedOptions,
  resolveEngineOptions,
  resolveListFilter,
  resolveRetryPolicy,
  resolveStopTimeout,
  runAtOf,
  validateCallOptions,
  validateDurableOptions,
  validateFunctionName,
  validateNamespacePart,
  validateResultTimeout,
} from './options.ts';
import { type FinalState, type InsertMark, ResultWaiters } from './result-waiters.ts';
import { serialize } from './serialization.ts';
import { encodePolicy } from './storage/policy-text.ts';
import type {
  EnqueueResult,
  JobFilter,
  JobRecord,
  NewJob,
  StorageEvent,
} from './storage/records.ts';
import { resolveStorage } from './storage/resolve-storage.ts';
import type { StorageAdapter } from './storage/storage.ts';
import type {
  CallOptions,
  DurableFunction,
  DurableOptions,
  JobDetails,
  JobHandle,
  ReseolioEvents,
  ReseolioOptions,
  ResolvedRetryPolicy,
} from './types.ts';
import { type Registration, WorkerPool } from './worker/pool.ts';
import { installSignalHandlers } from './worker/signals.ts';

/** Where an instance is in its life. */
export type ReseolioState = 'created' | 'initialized' | 'started' | 'stopping' | 'stopped';

interface Runtime {
  storage: StorageAdapter;
  ownsStorage: boolean;
  waiters: ResultWaiters;
  unsubscribe: () => Promise<void>;
  /** Re-measures the offset to the database's clock now and then; cleared by stop(). */
  clockSync: NodeJS.Timeout;
}

/**
 * The engine: registers durable functions, persists their calls as jobs, runs claimed jobs
 * with retries under a lease, and resolves results for any process. One instance per process
 * is typical; it owns no global state, so several can coexist (in tests, say).
 */
export class Reseolio extends EventEmitter<ReseolioEvents> {
  readonly #options: ResolvedOptions;
  readonly #clock: DatabaseClock;
  readonly #registry = new Map<string, Registration>();
  readonly #policyTexts = new WeakMap<object, string>();
  #state: ReseolioState = 'created';
  #runtime: Promise<Runtime> | undefined;
  #pool: WorkerPool | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #removeSignalHandlers: (() => void) | undefined;
  readonly #host: HandleHost = {
    getRecord: (jobId) => this.#getRecord(jobId),
    waitFinal: (jobId, timeoutMs, inserted) => this.#waitFinal(jobId, timeoutMs, inserted),
    cancel: (jobId) => this.#cancel(jobId),
  };

  constructor(options: ReseolioOptions = {}, /** @internal */ clock: Clock = systemClock) {
    super();
    this.#options = resolveEngineOptions(options);
    // Every time the engine stamps (leases, sweeps, due times, ids) is on the database's clock.
    this.#clock = new DatabaseClock(clock, this.#options.logger);
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
        this.#pool = new WorkerPool({
          storage: runtime.storage,
          options: this.#options,
          registry: this.#registry,
          clock: this.#clock,
          waiters: runtime.waiters,
          engine: this,
          emit: (event, ...args) => this.#emit(event, ...args),
        });
        this.#pool.start();
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
      await this.#pool?.stop(timeoutMs);
      const runtime = await this.#runtime?.catch(() => undefined);
      if (runtime) {
        clearInterval(runtime.clockSync);
        runtime.waiters.rejectAll(
          new ReseolioStateError('The engine stopped while this result() was waiting.'),
        );
        await runtime.unsubscribe().catch(() => {});
        if (runtime.ownsStorage) await runtime.storage.close();
      }
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
    options?: DurableOptions,
  ): DurableFunction<A, Awaited<R>> {
    validateFunctionName(name);
    if (typeof handler !== 'function') {
      throw new ReseolioValidationError(`durable("${name}", handler) needs a function as handler.`);
    }
    const policy = resolveRetryPolicy(
      this.#options.defaults,
      validateDurableOptions(options),
      'durable() options',
    );
    if (this.#registry.has(name)) throw new DuplicateFunctionError(name);
    this.#registry.set(name, { name, handler: handler as (...args: unknown[]) => unknown });
    this.#pool?.wake();
    return createDurableFunction<A, Awaited<R>>(
      name,
      policy,
      (n, args, callOptions, base) => this.#enqueue(n, args, callOptions, base),
      (n, argsList, callOptions, base) => this.#enqueueMany(n, argsList, callOptions, base),
    );
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
   * Jobs, newest first. `limit` defaults to 100 (1 to 1000), `offset` to 0 (at most
   * `Number.MAX_SAFE_INTEGER`).
   */
  async listJobs(filter?: JobFilter): Promise<JobDetails[]> {
    const resolved = resolveListFilter(filter);
    const { storage } = await this.#ready();
    return (await storage.listJobs(resolved)).map((record) => toDetails(record));
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

  async #enqueue(
    name: string,
    args: unknown[],
    callOptions: CallOptions | undefined,
    basePolicy: Readonly<ResolvedRetryPolicy>,
  ): Promise<JobHandle<unknown>> {
    // Everything is validated and serialized before storage is touched: bad input stores nothing.
    const options = callOptions === undefined ? EMPTY_OPTIONS : validateCallOptions(callOptions);
    const job = this.#newJob(name, args, options, basePolicy);
    const { storage, waiters } = await this.#ready();
    if (options.transaction !== undefined) {
      // Announced by storage once the caller commits; running it before would run a job
      // that may yet be rolled back.
      const { job: stored, deduplicated } = await storage.enqueue(job, {
        transaction: options.transaction,
      });
      if (deduplicated) this.#emit('deduplicated', infoOf(stored));
      return new DurableJobHandle(this.#host, stored.id);
    }
    // Due now and a slot free here: insert it already leased to this process and run it at
    // once, without a claim round trip (see WorkerPool.reserveLocalRun).
    const pool = this.#pool;
    const lease = job.runAt <= job.createdAt ? pool?.reserveLocalRun(name) : undefined;
    let enqueued: EnqueueResult;
    try {
      enqueued = await storage.enqueue(job, lease && { lease });
    } catch (error) {
      if (lease) pool!.cancelLocalRun();
      throw error;
    }
    const { job: stored, deduplicated } = enqueued;
    if (lease) {
      // Checked rather than assumed: a duplicate comes back as the existing job, untouched.
      const leasedToUs =
        !deduplicated && stored.status === 'running' && stored.ownerId === lease.ownerId;
      if (leasedToUs) pool!.runLocal(stored);
      else pool!.cancelLocalRun();
    }
    if (deduplicated) {
      this.#emit('deduplicated', infoOf(stored));
      return new DurableJobHandle(this.#host, stored.id);
    }
    if (stored.status === 'pending') this.#pool?.onReady(name, job.runAt);
    return new DurableJobHandle(this.#host, stored.id, waiters.markInserted());
  }

  async #enqueueMany(
    name: string,
    argsList: unknown[][],
    callOptions: CallOptions | undefined,
    basePolicy: Readonly<ResolvedRetryPolicy>,
  ): Promise<JobHandle<unknown>[]> {
    const options = callOptions === undefined ? EMPTY_OPTIONS : validateCallOptions(callOptions);
    if (options.idempotencyKey !== undefined || options.transaction !== undefined) {
      throw new ReseolioValidationError(
        `${name}.enqueueMany() takes no idempotencyKey or transaction (one key cannot name ` +
          'several jobs); call enqueue() per job for those.',
        'RESEOLIO_INVALID_OPTION',
      );
    }
    // Every item is validated and serialized first: one bad item stores nothing.
    const jobs = argsList.map((args) => this.#newJob(name, args, options, basePolicy));
    if (jobs.length === 0) return [];
    const { storage, waiters } = await this.#ready();
    const results = await storage.enqueueMany(jobs);
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

  /** Validates, serializes and keys one call: the job storage is asked to insert. */
  #newJob(
    name: string,
    args: unknown[],
    options: CallOptions,
    basePolicy: Readonly<ResolvedRetryPolicy>,
  ): NewJob {
    const policy =
      options === EMPTY_OPTIONS || !hasRetryOption(options)
        ? basePolicy
        : resolveRetryPolicy(basePolicy, options, 'call options');
    const argsText = serialize(args, 'argument list');
    // Cheap check first: a string's UTF-8 size is at most 3 bytes per UTF-16 unit.
    if (argsText.length * 3 > this.#options.maxPayloadBytes) {
      const size = Buffer.byteLength(argsText);
      if (size > this.#options.maxPayloadBytes) {
        throw new PayloadTooLargeError(
          `The arguments of ${name}`,
          size,
          this.#options.maxPayloadBytes,
        );
      }
    }
    const parent = attemptStorage.getStore();
    const inJob = parent !== undefined && parent.engine === this;
    let idempotencyKey = options.idempotencyKey ?? null;
    if (idempotencyKey === null && inJob) {
      // Deterministic key from (parent, child name, call order): a retried orchestrator
      // replays the same calls in the same order and so re-attaches to the same children.
      const order = parent.childCalls.get(name) ?? 0;
      parent.childCalls.set(name, order + 1);
      idempotencyKey = `child:${parent.jobId}:${order}`;
    }
    const now = this.#clock.now();
    const runAt = runAtOf(options, now);
    return {
      id: uuidv7(now),
      name,
      args: argsText,
      policy: policy === basePolicy ? this.#policyText(basePolicy) : encodePolicy(policy),
      maxAttempts: policy.maxAttempts,
      idempotencyKey,
      parentId: inJob ? parent.jobId : null,
      createdAt: now,
      runAt,
    };
  }

  /** The registration's policy serialized once, not on every call. */
  #policyText(policy: Readonly<ResolvedRetryPolicy>): string {
    let text = this.#policyTexts.get(policy);
    if (text === undefined) {
      text = encodePolicy(policy);
      this.#policyTexts.set(policy, text);
    }
    return text;
  }

  async #waitFinal(jobId: string, timeoutMs?: number, inserted?: InsertMark): Promise<FinalState> {
    validateResultTimeout(timeoutMs);
    const { waiters } = await this.#ready();
    const parent = attemptStorage.getStore();
    const suspend = parent !== undefined && parent.engine === this ? this.#pool : undefined;
    suspend?.suspend(parent!.attemptKey);
    try {
      return await waiters.wait(jobId, timeoutMs, inserted);
    } finally {
      suspend?.resume(parent!.attemptKey);
    }
  }

  async #getRecord(jobId: string): Promise<JobRecord> {
    const { storage } = await this.#ready();
    const record = await storage.getJob(jobId);
    if (!record) throw new JobNotFoundError(jobId);
    return record;
  }

  async #cancel(jobId: string): Promise<boolean> {
    const { storage } = await this.#ready();
    const cancelled = await storage.cancel(jobId, this.#clock.now());
    if (cancelled) {
      this.#pool?.onFinished(jobId, 'cancelled');
      this.#emit('job:cancelled', jobId);
    } else if (!(await storage.getJob(jobId))) {
      throw new JobNotFoundError(jobId);
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
    const runtime = (async (): Promise<Runtime> => {
      const { adapter, owned } = await resolveStorage(this.#options.storage);
      const waiters = new ResultWaiters(
        adapter,
        this.#options.pollIntervalMs,
        this.#options.logger,
      );
      let unsubscribe: () => Promise<void>;
      try {
        await adapter.init();
        // Before anything is stamped: leases and due times must be on the database's clock.
        await this.#clock.sync(adapter);
        unsubscribe = await adapter.subscribe((event) => this.#onStorageEvent(event, waiters));
      } catch (error) {
        // The adapter may have opened a pool or file before failing: nobody else can close it.
        if (owned) await adapter.close().catch(() => {});
        throw error;
      }
      const clockSync = setInterval(() => {
        this.#clock.sync(adapter).catch((error: unknown) => {
          this.#emit(
            'error',
            new ReseolioError(
              'RESEOLIO_BACKGROUND_ERROR',
              `measuring the database's clock failed; keeping the last offset (${this.#clock.offsetMs} ms)`,
              { cause: error },
            ),
          );
        });
      }, CLOCK_SYNC_INTERVAL_MS);
      clockSync.unref();
      if (this.#state === 'created') this.#state = 'initialized';
      return { storage: adapter, ownsStorage: owned, waiters, unsubscribe, clockSync };
    })();
    this.#runtime = runtime;
    runtime.catch(() => {
      // Not kept: the next call initializes again.
      if (this.#runtime === runtime) this.#runtime = undefined;
    });
    return runtime;
  }

  #onStorageEvent(event: StorageEvent, waiters: ResultWaiters): void {
    switch (event.type) {
      case 'ready':
        this.#pool?.onReady(event.name, event.runAt);
        break;
      case 'finished':
        waiters.finished(event.jobId, event.status, event.outcome);
        this.#pool?.onFinished(event.jobId, event.status);
        break;
      case 'resync':
        waiters.resync();
        this.#pool?.wake();
        break;
    }
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
      this.#options.logger.error(`a "${event}" listener threw`, error);
    }
  }
}

const EMPTY_OPTIONS: CallOptions = Object.freeze({});
