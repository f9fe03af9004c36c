import { existsSync } from 'node:fs';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import {
  and,
  asc,
  count,
  desc,
  eq,
  getTableColumns,
  gte,
  inArray,
  lt,
  type SQL,
} from 'drizzle-orm';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import {
  type AckInput,
  type AttemptRecord,
  type ClaimInput,
  type CompletionRow,
  type CompletionsInput,
  type ConsumeSignalInput,
  type ConsumeSignalResult,
  claimOrder,
  type DueSchedulesInput,
  describeValue,
  type EnqueueOptions,
  type EnqueueResult,
  type FireScheduleInput,
  type FireScheduleResult,
  type FlowRule,
  type HeartbeatInput,
  type JobCountFilter,
  type JobFilter,
  type JobRecord,
  type JobState,
  type ListExpiredLeasesInput,
  type MigrationStatus,
  type NameStats,
  type NewJob,
  type ProgressInput,
  type PurgeInput,
  type RecordStepInput,
  type RecordStepResult,
  ReseolioStateError,
  type ScheduleFilter,
  type ScheduleRecord,
  type ScheduleUpdate,
  type ScheduleUpsert,
  type ScheduleUpsertResult,
  type SignalInput,
  type SignalResult,
  type StatsInput,
  type StepRecord,
  type StorageAdapter,
  type StorageCapabilities,
  StorageConfigError,
  type StorageEvent,
  statsFromGroups,
} from 'reseolio/storage';
import { CrossProcessFeed } from './cross-process-feed.ts';
import { type SqliteErrorContext, sqliteFailure } from './errors.ts';
import { LockQueue } from './lock-queue.ts';
import { migrate, migrationStatus } from './migrate.ts';
import {
  announce,
  databasePath,
  deliver,
  type Listener,
  listen,
  notificationKey,
} from './notifier.ts';
import {
  type ResolvedSqliteStorageOptions,
  resolveOptions,
  type SqliteStorageOptions,
} from './options.ts';
import { type Outbox, prepareOutbox } from './outbox.ts';
import { applyPragmas, setBusyTimeout, withoutLockWaits } from './pragmas.ts';
import { jobs, schedules } from './schema.ts';
import { claimedRecord, JOB_STATS_SQL, prepareStatements, type Statements } from './statements.ts';
import { StatsWorker } from './stats-worker.ts';
import { type Committed, prepareTransactions, type Transactions } from './transactions.ts';

/** The columns of a `JobRecord`: every column but the adapter's private wake columns. */
const { wakeTopic: _wakeTopic, wakeChildren: _wakeChildren, ...JOB_RECORD } = getTableColumns(jobs);

/** What `init()` sets up; absent before `init()` and after `close()`. */
interface Connection {
  db: Database;
  orm: BetterSQLite3Database;
  statements: Statements;
  transactions: Transactions;
  /** Where this process's announcements for the database go (notifier.ts). */
  key: string;
  /** The file's real path; undefined for an in-memory database. */
  path: string | undefined;
  /** Where the write transactions put events for other processes. */
  outbox: Outbox;
  /** Runs one attempt of the adapter's with SQLite's busy wait off (pragmas.ts). */
  noWait: <T>(fn: () => T) => T;
}

/**
 * Reseolio storage on one SQLite file (or an in-memory database), the embedded default.
 * Several processes may share a file: every write runs in a BEGIN IMMEDIATE transaction, so
 * they serialize on SQLite's write lock and claims never overlap.
 *
 * No statement waits for a lock inside the synchronous driver: a write that meets another
 * connection's lock is retried whole from a timer, so the event loop keeps running while
 * another process holds the lock (lock-queue.ts). Events reach this process's listeners at
 * once, and other processes on the file through an outbox table they watch
 * (cross-process-feed.ts).
 *
 * No driver error escapes: every call that reaches better-sqlite3 throws a
 * `SqliteStorageError` (a `StorageError`) with the `SqliteError` as its cause, or, for a
 * database that `init()` cannot use as configured, a `StorageConfigError`.
 */
export class SqliteStorage implements StorageAdapter {
  readonly kind = 'sqlite';
  readonly capabilities: StorageCapabilities;

  readonly #options: ResolvedSqliteStorageOptions;
  readonly #errorContext: SqliteErrorContext;
  readonly #queue: LockQueue;
  #connection: Connection | undefined;
  /** The first `init()` while it opens and migrates; concurrent calls share it. */
  #connecting: Promise<void> | undefined;
  #closed = false;
  readonly #unsubscribers = new Set<() => void>();
  /** This adapter's listeners, for the events of other processes. */
  readonly #listeners = new Set<Listener>();
  /** Runs while someone listens to a file database. */
  #feed: CrossProcessFeed | undefined;
  /** Reads `stats()` of a file database off the event loop; started by the first call. */
  #statsWorker: StatsWorker | undefined;

  constructor(options: SqliteStorageOptions) {
    this.#options = resolveOptions(options);
    this.#errorContext = {
      filename: this.#options.filename,
      busyTimeoutMs: this.#options.busyTimeoutMs,
    };
    this.#queue = new LockQueue(this.#options.busyTimeoutMs, (operation, error) =>
      sqliteFailure(operation, error, this.#errorContext),
    );
    const memory = this.#options.database?.memory ?? this.#options.filename === ':memory:';
    // An in-memory database lives in one connection of one process.
    this.capabilities = Object.freeze({
      crossProcessNotify: !memory,
      multiProcess: !memory,
      leasedEnqueue: true,
      flowControl: true,
    });
  }

  async init(): Promise<void> {
    this.#assertOpen();
    const connection = this.#connection;
    if (connection !== undefined) {
      // Idempotent: a second init re-checks migrations (a no-op when all are applied).
      await this.#write('init', connection, () => migrate(connection.db));
      return;
    }
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /**
   * The database against the shipped migrations: how many are applied, and the ones `init()`
   * would apply with their SQL exactly as it would run it (for `reseolio migrate --dry-run`).
   * Reads only, and needs no `init()`: before it, the file is opened read-only, and a file
   * that does not exist is not created (everything is pending).
   */
  async migrationStatus(): Promise<MigrationStatus> {
    this.#assertOpen();
    const open = this.#connection?.db ?? this.#options.database;
    try {
      if (open !== undefined) return migrationStatus(open);
      const { filename, busyTimeoutMs } = this.#options;
      if (filename === ':memory:' || !existsSync(filename)) return migrationStatus(undefined);
      const db = new BetterSqlite3(filename, {
        readonly: true,
        fileMustExist: true,
        timeout: busyTimeoutMs,
      });
      try {
        return migrationStatus(db);
      } finally {
        db.close();
      }
    } catch (error) {
      throw sqliteFailure('migrationStatus', error, this.#errorContext);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribers) unsubscribe();
    this.#unsubscribers.clear();
    this.#feed?.close();
    this.#feed = undefined;
    // A stats read under way rejects; the worker thread is gone when close() resolves.
    await this.#statsWorker?.close();
    this.#statsWorker = undefined;
    // An init under way sees `#closed` and closes what it opened.
    await this.#connecting?.catch(() => {});
    // Writes already waiting for the lock end (committed, or failed at their deadline) first.
    await this.#queue.idle();
    const connection = this.#connection;
    this.#connection = undefined;
    // Close only what we opened: a borrowed database belongs to the caller.
    if (connection !== undefined && this.#options.database === undefined) {
      try {
        connection.db.close();
      } catch (error) {
        throw sqliteFailure('close', error, this.#errorContext);
      }
    }
  }

  async enqueue(job: NewJob, options?: EnqueueOptions): Promise<EnqueueResult> {
    this.#ready();
    if (options?.transaction !== undefined) {
      throw new StorageConfigError(
        'The SQLite storage cannot join a caller transaction; enqueue without `transaction`.',
      );
    }
    const lease = options?.lease;
    return this.#commit('enqueue', (t) => t.insertOrFind.immediate(job, lease));
  }

  async enqueueMany(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    return this.#commit('enqueueMany', (t) => t.insertMany.immediate(jobs));
  }

  async claim(input: ClaimInput): Promise<JobRecord[]> {
    const connection = this.#ready();
    if (input.names.length === 0 || input.limit <= 0) return [];
    const rules = flowRules(input);
    if (rules.size > 0) {
      const committed = await this.#write('claim', connection, () =>
        connection.transactions.flowClaim.immediate(input, rules),
      );
      // `ready` for jobs a rule left behind goes to this process's subscribers only: another
      // process learns it from its own claims.
      announce(connection.key, committed.events);
      return committed.value.map((row) => claimedRecord(row, input));
    }
    const params = {
      ownerId: input.ownerId,
      leaseToken: input.leaseToken,
      leaseExpiresAt: input.leaseExpiresAt,
      now: input.now,
      names: JSON.stringify(input.names),
      limit: input.limit,
    };
    const rows = await this.#write('claim', connection, () =>
      connection.transactions.claim.immediate(params),
    );
    // RETURNING order is unspecified in SQLite; hand jobs back in claim order.
    return rows.map((row) => claimedRecord(row, input)).sort(claimOrder);
  }

  async heartbeat(input: HeartbeatInput): Promise<string[]> {
    const connection = this.#ready();
    if (input.jobs.length === 0) return [];
    return this.#write('heartbeat', connection, () =>
      connection.transactions.heartbeat.immediate(input),
    );
  }

  async ack(input: AckInput): Promise<boolean> {
    return this.#commit('ack', (t) => t.ack.immediate(input));
  }

  async ackMany(inputs: readonly AckInput[]): Promise<boolean[]> {
    this.#ready();
    if (inputs.length === 0) return [];
    return this.#commit('ackMany', (t) => t.ackMany.immediate(inputs));
  }

  async listExpiredLeases(input: ListExpiredLeasesInput): Promise<JobRecord[]> {
    const connection = this.#ready();
    return this.#read('listExpiredLeases', connection, () =>
      connection.statements.listExpiredLeases.all(input),
    );
  }

  async cancel(jobId: string, now: number): Promise<boolean> {
    return this.#commit('cancel', (t) => t.cancel.immediate(jobId, now));
  }

  async retry(jobId: string, now: number): Promise<boolean> {
    return this.#commit('retry', (t) => t.retry.immediate(jobId, now));
  }

  async purge(input: PurgeInput): Promise<number> {
    const connection = this.#ready();
    if (input.limit <= 0) return 0;
    return this.#write('purge', connection, () => connection.transactions.purge.immediate(input));
  }

  async getJob(jobId: string): Promise<JobRecord | undefined> {
    const connection = this.#ready();
    return this.#read('getJob', connection, () => connection.statements.getJob.get(jobId));
  }

  async getJobStates(jobIds: readonly string[]): Promise<JobState[]> {
    if (jobIds.length === 0) return [];
    const connection = this.#ready();
    const ids = JSON.stringify(jobIds);
    return this.#read('getJobStates', connection, () =>
      connection.statements.getJobStates.all(ids),
    );
  }

  async listJobs(filter: JobFilter): Promise<JobRecord[]> {
    const connection = this.#ready();
    const conditions = jobConditions(filter);
    if (conditions === undefined) return [];
    // Keyset: the primary key's index, read backwards from `before`.
    if (filter.before !== undefined) conditions.push(lt(jobs.id, filter.before));
    return this.#read('listJobs', connection, () =>
      connection.orm
        .select(JOB_RECORD)
        .from(jobs)
        .where(and(...conditions))
        .orderBy(desc(jobs.id))
        .limit(filter.limit ?? 100)
        .offset(filter.offset ?? 0)
        .all(),
    );
  }

  async countJobs(filter: JobCountFilter): Promise<number> {
    const connection = this.#ready();
    const conditions = jobConditions(filter);
    if (conditions === undefined) return 0;
    const row = await this.#read('countJobs', connection, () =>
      connection.orm
        .select({ n: count() })
        .from(jobs)
        .where(and(...conditions))
        .get(),
    );
    return row?.n ?? 0;
  }

  async completions(input: CompletionsInput): Promise<CompletionRow[]> {
    const connection = this.#ready();
    return this.#read('completions', connection, () =>
      connection.statements.completions.all(input),
    );
  }

  async listAttempts(jobId: string): Promise<AttemptRecord[]> {
    const connection = this.#ready();
    return this.#read('listAttempts', connection, () =>
      connection.statements.listAttempts.all(jobId),
    );
  }

  async setProgress(input: ProgressInput): Promise<boolean> {
    return this.#commit('setProgress', (t) => t.setProgress.immediate(input));
  }

  async stats(input: StatsInput): Promise<NameStats[]> {
    const connection = this.#ready();
    // The read scans the whole table (seconds at a million jobs): for a file, in a worker
    // thread (stats-worker.ts). A worker cannot see an in-memory database: read it here.
    const groups =
      connection.path === undefined || connection.db.name === ''
        ? await this.#read('stats', connection, () => connection.statements.jobStats.all(input))
        : await this.#startStatsWorker(connection.path).read({ now: input.now });
    return statsFromGroups(groups);
  }

  async listSteps(jobId: string): Promise<StepRecord[]> {
    const connection = this.#ready();
    return this.#read('listSteps', connection, () => connection.statements.listSteps.all(jobId));
  }

  async recordStep(input: RecordStepInput): Promise<RecordStepResult> {
    const connection = this.#ready();
    return this.#write('recordStep', connection, () =>
      connection.transactions.recordStep.immediate(input),
    );
  }

  async signal(input: SignalInput): Promise<SignalResult> {
    return this.#commit('signal', (t) => t.signal.immediate(input));
  }

  async consumeSignal(input: ConsumeSignalInput): Promise<ConsumeSignalResult> {
    const connection = this.#ready();
    return this.#write('consumeSignal', connection, () =>
      connection.transactions.consumeSignal.immediate(input),
    );
  }

  async upsertSchedule(input: ScheduleUpsert): Promise<ScheduleUpsertResult> {
    const connection = this.#ready();
    return this.#write('upsertSchedule', connection, () =>
      connection.transactions.upsertSchedule.immediate(input),
    );
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    const connection = this.#ready();
    return this.#read('getSchedule', connection, () => connection.statements.getSchedule.get(id));
  }

  async listSchedules(filter: ScheduleFilter): Promise<ScheduleRecord[]> {
    const connection = this.#ready();
    const conditions: SQL[] = [];
    if (filter.status !== undefined) conditions.push(eq(schedules.status, filter.status));
    if (filter.name !== undefined) conditions.push(eq(schedules.name, filter.name));
    return this.#read('listSchedules', connection, () =>
      connection.orm
        .select()
        .from(schedules)
        .where(and(...conditions))
        .orderBy(asc(schedules.id))
        .limit(filter.limit ?? 100)
        .offset(filter.offset ?? 0)
        .all(),
    );
  }

  async updateSchedule(input: ScheduleUpdate): Promise<ScheduleRecord | undefined> {
    const connection = this.#ready();
    return this.#write('updateSchedule', connection, () =>
      connection.transactions.updateSchedule.immediate(input),
    );
  }

  async deleteSchedule(id: string): Promise<boolean> {
    const connection = this.#ready();
    return this.#write('deleteSchedule', connection, () =>
      connection.transactions.deleteSchedule.immediate(id),
    );
  }

  async listDueSchedules(input: DueSchedulesInput): Promise<ScheduleRecord[]> {
    const connection = this.#ready();
    if (input.names.length === 0 || input.limit <= 0) return [];
    const params = { now: input.now, names: JSON.stringify(input.names), limit: input.limit };
    return this.#read('listDueSchedules', connection, () =>
      connection.statements.listDueSchedules.all(params),
    );
  }

  async nextScheduleRunAt(names: readonly string[]): Promise<number | undefined> {
    const connection = this.#ready();
    if (names.length === 0) return undefined;
    const json = JSON.stringify(names);
    const earliest = await this.#read('nextScheduleRunAt', connection, () =>
      connection.statements.nextScheduleRunAt.get(json),
    );
    return earliest ?? undefined;
  }

  async fireSchedule(input: FireScheduleInput): Promise<FireScheduleResult | undefined> {
    return this.#commit('fireSchedule', (t) => t.fireSchedule.immediate(input));
  }

  async subscribe(listener: (event: StorageEvent) => void): Promise<() => Promise<void>> {
    const connection = this.#ready();
    // One function per subscription, so the same listener subscribed twice is two listeners.
    const own: Listener = (event) => listener(event);
    const remove = listen(connection.key, own);
    this.#listeners.add(own);
    const unsubscribe = () => {
      remove();
      this.#listeners.delete(own);
      this.#unsubscribers.delete(unsubscribe);
      if (this.#listeners.size === 0) {
        this.#feed?.close();
        this.#feed = undefined;
      }
    };
    this.#unsubscribers.add(unsubscribe);
    if (connection.path !== undefined) {
      this.#feed ??= this.#startFeed(connection, connection.path);
      try {
        await this.#feed.started;
      } catch (error) {
        unsubscribe();
        throw error;
      }
    }
    return async () => unsubscribe();
  }

  async #connect(): Promise<void> {
    const borrowed = this.#options.database !== undefined;
    const db = this.#options.database ?? this.#open();
    try {
      const { busyTimeoutMs } = this.#options;
      setBusyTimeout(db, busyTimeoutMs, borrowed);
      const noWait = withoutLockWaits(db, busyTimeoutMs, borrowed);
      // Switching to WAL and migrating take the write lock: retried whole, off the event loop.
      await this.#queue.write('init', () =>
        noWait(() => {
          applyPragmas(db);
          migrate(db);
        }),
      );
      if (this.#closed) {
        throw new ReseolioStateError('The SQLite storage was closed while init() ran.');
      }
      const statements = prepareStatements(db);
      const outbox = prepareOutbox(db);
      this.#connection = {
        db,
        orm: drizzle({ client: db }),
        statements,
        transactions: prepareTransactions(db, statements, outbox),
        outbox,
        key: notificationKey(db),
        path: databasePath(db),
        noWait,
      };
    } catch (error) {
      if (!borrowed && db.open) db.close();
      throw sqliteFailure('init', error, this.#errorContext);
    }
  }

  #startFeed(connection: Connection, path: string): CrossProcessFeed {
    return new CrossProcessFeed({
      db: connection.db,
      path,
      read: (attempt) => this.#read('subscribe', connection, attempt),
      write: (attempt) => this.#write('subscribe', connection, attempt),
      deliver: (events) => deliver(this.#listeners, events),
      fallbackMs: this.#options.crossProcessPollMs,
      outbox: connection.outbox,
    });
  }

  #startStatsWorker(path: string): StatsWorker {
    this.#statsWorker ??= new StatsWorker({
      filename: path,
      busyTimeoutMs: this.#options.busyTimeoutMs,
      sql: JOB_STATS_SQL,
      failure: (cause) => sqliteFailure('stats', cause, this.#errorContext),
    });
    return this.#statsWorker;
  }

  #open(): Database {
    try {
      return new BetterSqlite3(this.#options.filename);
    } catch (error) {
      // better-sqlite3 checks the folder itself (a TypeError); SQLite reports the rest.
      if ((error as { code?: unknown }).code !== undefined) {
        throw sqliteFailure('init', error, this.#errorContext);
      }
      throw new StorageConfigError(
        `Cannot open the SQLite database ${describeValue(this.#options.filename)}: check that ` +
          'its folder exists and is writable.',
        { cause: error },
      );
    }
  }

  /**
   * Runs the write transaction `attempt` of `operation` through the lock queue: at once, or
   * after the lock frees, or it fails with a storage error (see {@link sqliteFailure}).
   */
  #write<T>(operation: string, connection: Connection, attempt: () => T): T | Promise<T> {
    return this.#queue.write(operation, () => connection.noWait(attempt));
  }

  /** Runs the read `attempt` of `operation`, retried after `SQLITE_BUSY`; never queued. */
  #read<T>(operation: string, connection: Connection, attempt: () => T): T | Promise<T> {
    return this.#queue.read(operation, () => connection.noWait(attempt));
  }

  /**
   * Runs the announcing write transaction `run` of `operation` (see {@link #write}), then
   * announces its events in this process (other processes read them from the outbox the
   * transaction wrote) and returns its value.
   */
  async #commit<T>(operation: string, run: (t: Transactions) => Committed<T>): Promise<T> {
    const connection = this.#ready();
    const committed = await this.#write(operation, connection, () => run(connection.transactions));
    announce(connection.key, committed.events);
    return committed.value;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new ReseolioStateError(
        'This SQLite storage was closed; create a new one with createSqliteStorage().',
      );
    }
  }

  #ready(): Connection {
    this.#assertOpen();
    if (this.#connection === undefined) {
      throw new ReseolioStateError('The SQLite storage is not initialized: call init() first.');
    }
    return this.#connection;
  }
}

/**
 * The rules of `input.flow` that limit one of the claim's names (the last rule of a name wins;
 * core sends at most one). An empty map: a plain claim.
 */
function flowRules(input: ClaimInput): Map<string, FlowRule> {
  const rules = new Map<string, FlowRule>();
  if (input.flow === undefined || input.flow.length === 0) return rules;
  const names = new Set(input.names);
  for (const rule of input.flow) {
    if (!names.has(rule.name)) continue;
    if (rule.concurrency === undefined && rule.rateLimit === undefined) continue;
    rules.set(rule.name, rule);
  }
  return rules;
}

/** Creates the SQLite storage; call `init()` (the engine's `start()` does) before use. */
export function createSqliteStorage(options: SqliteStorageOptions): SqliteStorage {
  return new SqliteStorage(options);
}

/**
 * The conditions of a job filter (`before` apart), or undefined when it matches nothing.
 * `createdAfter` is also an id bound, which the primary key serves: a job's UUIDv7 is made at
 * its createdAt and its timestamp is never earlier (see `NewJob.id`), so a recent range with
 * fewer rows than a page does not read the whole table backwards.
 */
function jobConditions(filter: JobCountFilter): SQL[] | undefined {
  const conditions: SQL[] = [];
  if (filter.status !== undefined) {
    const statuses = typeof filter.status === 'string' ? [filter.status] : [...filter.status];
    // An empty status list matches nothing, as an empty `names` list claims nothing.
    if (statuses.length === 0) return undefined;
    conditions.push(inArray(jobs.status, statuses));
  }
  if (filter.name !== undefined) conditions.push(eq(jobs.name, filter.name));
  if (filter.parentId !== undefined) conditions.push(eq(jobs.parentId, filter.parentId));
  if (filter.scheduleId !== undefined) conditions.push(eq(jobs.scheduleId, filter.scheduleId));
  if (filter.idempotencyKey !== undefined) {
    conditions.push(eq(jobs.idempotencyKey, filter.idempotencyKey));
  }
  if (filter.createdAfter !== undefined) {
    conditions.push(gte(jobs.id, minUuidOf(filter.createdAfter)));
    conditions.push(gte(jobs.createdAt, filter.createdAfter));
  }
  if (filter.createdBefore !== undefined) conditions.push(lt(jobs.createdAt, filter.createdBefore));
  return conditions;
}

/** The smallest (lower-case) UUID whose UUIDv7 timestamp is `ms`. */
function minUuidOf(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}
