import BetterSqlite3, { type Database, type Transaction } from 'better-sqlite3';
import { and, desc, eq, inArray, type SQL } from 'drizzle-orm';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import {
  type AckInput,
  type ClaimInput,
  describeValue,
  type EnqueueLease,
  type EnqueueOptions,
  type EnqueueResult,
  type HeartbeatInput,
  type JobFilter,
  type JobRecord,
  type JobState,
  type ListExpiredLeasesInput,
  type NewJob,
  type PurgeInput,
  ReseolioStateError,
  type StorageAdapter,
  type StorageCapabilities,
  StorageConfigError,
  type StorageEvent,
} from 'reseolio/storage';
import { type SqliteErrorContext, sqliteFailure } from './errors.ts';
import { migrate } from './migrate.ts';
import { announce, listen, notificationKey } from './notifier.ts';
import {
  type ResolvedSqliteStorageOptions,
  resolveOptions,
  type SqliteStorageOptions,
} from './options.ts';
import { applyPragmas } from './pragmas.ts';
import { jobs } from './schema.ts';
import {
  type ClaimedRow,
  claimedRecord,
  prepareStatements,
  type Statements,
} from './statements.ts';

/** What `init()` sets up; absent before `init()` and after `close()`. */
interface Connection {
  db: Database;
  orm: BetterSQLite3Database;
  statements: Statements;
  transactions: HotTransactions;
  key: string;
}

/**
 * The hot paths' transactions, wrapped once per connection: `db.transaction(fn)` builds a
 * new wrapper (five closures) on every call, about 5 µs, as much as a small claim's SQL.
 * Each runs with `.immediate()` (BEGIN IMMEDIATE): see the class comment.
 */
interface HotTransactions {
  insertOrFind: Transaction<(job: NewJob, lease?: EnqueueLease) => EnqueueResult>;
  insertMany: Transaction<(jobs: readonly NewJob[]) => EnqueueResult[]>;
  claim: Transaction<(params: object) => ClaimedRow[]>;
  ack: Transaction<(input: AckInput) => StorageEvent | undefined>;
  ackMany: Transaction<(inputs: readonly AckInput[]) => (StorageEvent | undefined)[]>;
  heartbeat: Transaction<(input: HeartbeatInput) => string[]>;
}

function prepareTransactions(db: Database, statements: Statements): HotTransactions {
  return {
    insertOrFind: db.transaction((job: NewJob, lease?: EnqueueLease) =>
      insertOrFind(statements, job, lease),
    ),
    // One transaction for a batch: all rows or none, one commit, and a later item with the
    // key of an earlier one finds it through the unique index like any duplicate.
    insertMany: db.transaction((jobs: readonly NewJob[]) =>
      jobs.map((job) => insertOrFind(statements, job)),
    ),
    claim: db.transaction((params: object) => statements.claim.all(params)),
    ack: db.transaction((input: AckInput) => ackOne(statements, input)),
    // One transaction (one commit) for the batch; every item keeps its own fence.
    ackMany: db.transaction((inputs: readonly AckInput[]) =>
      inputs.map((input) => ackOne(statements, input)),
    ),
    heartbeat: db.transaction((input: HeartbeatInput) =>
      input.jobs.flatMap(({ id, leaseToken }) => {
        const row = statements.heartbeat.get({
          id,
          leaseToken,
          leaseExpiresAt: input.leaseExpiresAt,
        });
        return row === undefined ? [] : [row.id];
      }),
    ),
  };
}

/**
 * Reseolio storage on one SQLite file (or an in-memory database), the embedded default.
 * Several processes may share a file: every write runs in a BEGIN IMMEDIATE transaction, so
 * they serialize on SQLite's write lock and claims never overlap.
 *
 * No driver error escapes: every call that reaches better-sqlite3 runs through `#run`, which
 * throws a `SqliteStorageError` (a `StorageError`) with the `SqliteError` as its cause, or,
 * for a database that `init()` cannot use as configured, a `StorageConfigError`.
 */
export class SqliteStorage implements StorageAdapter {
  readonly kind = 'sqlite';
  readonly capabilities: StorageCapabilities;

  readonly #options: ResolvedSqliteStorageOptions;
  #connection: Connection | undefined;
  #closed = false;
  readonly #unsubscribers = new Set<() => void>();
  readonly #errorContext: SqliteErrorContext;

  constructor(options: SqliteStorageOptions) {
    this.#options = resolveOptions(options);
    this.#errorContext = {
      filename: this.#options.filename,
      busyTimeoutMs: this.#options.busyTimeoutMs,
    };
    const memory = this.#options.database?.memory ?? this.#options.filename === ':memory:';
    // An in-memory database lives in one connection of one process.
    this.capabilities = Object.freeze({
      crossProcessNotify: false,
      multiProcess: !memory,
      leasedEnqueue: true,
    });
  }

  async init(): Promise<void> {
    this.#assertOpen();
    if (this.#connection === undefined) {
      const db = this.#options.database ?? this.#open();
      try {
        applyPragmas(db, this.#options.busyTimeoutMs);
        migrate(db);
        const statements = prepareStatements(db);
        this.#connection = {
          db,
          orm: drizzle({ client: db }),
          statements,
          transactions: prepareTransactions(db, statements),
          key: notificationKey(db),
        };
      } catch (error) {
        if (this.#options.database === undefined) db.close();
        throw sqliteFailure('init', error, this.#errorContext);
      }
    } else {
      // Idempotent: a second init re-checks migrations (a no-op when all are applied).
      const { db } = this.#connection;
      this.#run('init', () => migrate(db));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribers) unsubscribe();
    this.#unsubscribers.clear();
    const connection = this.#connection;
    this.#connection = undefined;
    // Close only what we opened: a borrowed database belongs to the caller.
    if (connection !== undefined && this.#options.database === undefined) {
      this.#run('close', () => connection.db.close());
    }
  }

  async enqueue(job: NewJob, options?: EnqueueOptions): Promise<EnqueueResult> {
    const { transactions, key } = this.#ready();
    if (options?.transaction !== undefined) {
      throw new StorageConfigError(
        'The SQLite storage cannot join a caller transaction; enqueue without `transaction`.',
      );
    }
    const lease = options?.lease;
    const result = this.#run('enqueue', () => transactions.insertOrFind.immediate(job, lease));
    if (!result.deduplicated && lease === undefined) {
      announce(key, [{ type: 'ready', name: job.name, runAt: job.runAt }]);
    }
    return result;
  }

  async enqueueMany(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    const { transactions, key } = this.#ready();
    const results = this.#run('enqueueMany', () => transactions.insertMany.immediate(jobs));
    announce(key, readyEvents(results));
    return results;
  }

  async claim(input: ClaimInput): Promise<JobRecord[]> {
    const { transactions } = this.#ready();
    if (input.names.length === 0 || input.limit <= 0) return [];
    const rows = this.#run('claim', () =>
      transactions.claim.immediate({
        ownerId: input.ownerId,
        leaseToken: input.leaseToken,
        leaseExpiresAt: input.leaseExpiresAt,
        now: input.now,
        names: JSON.stringify(input.names),
        limit: input.limit,
      }),
    );
    const claimed = rows.map((row) => claimedRecord(row, input));
    // RETURNING order is unspecified in SQLite; hand jobs back in the order they were due.
    return claimed.sort((a, b) => a.runAt - b.runAt || a.createdAt - b.createdAt);
  }

  async heartbeat(input: HeartbeatInput): Promise<string[]> {
    const { transactions } = this.#ready();
    if (input.jobs.length === 0) return [];
    return this.#run('heartbeat', () => transactions.heartbeat.immediate(input));
  }

  async ack(input: AckInput): Promise<boolean> {
    const { transactions, key } = this.#ready();
    const event = this.#run('ack', () => transactions.ack.immediate(input));
    if (event === undefined) return false;
    announce(key, [event]);
    return true;
  }

  async ackMany(inputs: readonly AckInput[]): Promise<boolean[]> {
    const { transactions, key } = this.#ready();
    if (inputs.length === 0) return [];
    const events = this.#run('ackMany', () => transactions.ackMany.immediate(inputs));
    announce(
      key,
      events.filter((event): event is StorageEvent => event !== undefined),
    );
    return events.map((event) => event !== undefined);
  }

  async listExpiredLeases(input: ListExpiredLeasesInput): Promise<JobRecord[]> {
    const { statements } = this.#ready();
    return this.#run('listExpiredLeases', () => statements.listExpiredLeases.all(input));
  }

  async cancel(jobId: string, now: number): Promise<boolean> {
    const { db, statements, key } = this.#ready();
    const row = this.#run('cancel', () =>
      db.transaction(() => statements.cancel.get({ id: jobId, now })).immediate(),
    );
    if (row === undefined) return false;
    announce(key, [{ type: 'finished', jobId, status: 'cancelled' }]);
    return true;
  }

  async retry(jobId: string, now: number): Promise<boolean> {
    const { db, statements, key } = this.#ready();
    const row = this.#run('retry', () =>
      db.transaction(() => statements.retry.get({ id: jobId, now })).immediate(),
    );
    if (row === undefined) return false;
    announce(key, [{ type: 'ready', name: row.name, runAt: now }]);
    return true;
  }

  async purge(input: PurgeInput): Promise<number> {
    const { db, statements } = this.#ready();
    if (input.limit <= 0) return 0;
    return this.#run('purge', () =>
      db.transaction(() => statements.purge.run(input).changes).immediate(),
    );
  }

  async getJob(jobId: string): Promise<JobRecord | undefined> {
    const { statements } = this.#ready();
    return this.#run('getJob', () => statements.getJob.get(jobId));
  }

  async getJobStates(jobIds: readonly string[]): Promise<JobState[]> {
    if (jobIds.length === 0) return [];
    const { statements } = this.#ready();
    return this.#run('getJobStates', () => statements.getJobStates.all(JSON.stringify(jobIds)));
  }

  async listJobs(filter: JobFilter): Promise<JobRecord[]> {
    const { orm } = this.#ready();
    const conditions: SQL[] = [];
    if (filter.status !== undefined) {
      const statuses = typeof filter.status === 'string' ? [filter.status] : [...filter.status];
      // An empty status list matches nothing, as an empty `names` list claims nothing.
      if (statuses.length === 0) return [];
      conditions.push(inArray(jobs.status, statuses));
    }
    if (filter.name !== undefined) conditions.push(eq(jobs.name, filter.name));
    if (filter.parentId !== undefined) conditions.push(eq(jobs.parentId, filter.parentId));
    return this.#run('listJobs', () =>
      orm
        .select()
        .from(jobs)
        .where(and(...conditions))
        .orderBy(desc(jobs.id))
        .limit(filter.limit ?? 100)
        .offset(filter.offset ?? 0)
        .all(),
    );
  }

  async subscribe(listener: (event: StorageEvent) => void): Promise<() => Promise<void>> {
    const { key } = this.#ready();
    const remove = listen(key, listener);
    const unsubscribe = () => {
      remove();
      this.#unsubscribers.delete(unsubscribe);
    };
    this.#unsubscribers.add(unsubscribe);
    return async () => unsubscribe();
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
   * Runs the driver calls of `operation`, turning whatever they throw into a storage error
   * (see {@link sqliteFailure}). Everything that reaches better-sqlite3 goes through here.
   */
  #run<T>(operation: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw sqliteFailure(operation, error, this.#errorContext);
    }
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
 * Applies one ack inside the caller's transaction; the event to announce once it commits, or
 * undefined when the fence (id, lease token, running) matched no row.
 */
function ackOne(statements: Statements, input: AckInput): StorageEvent | undefined {
  const fence = {
    id: input.id,
    leaseToken: input.leaseToken,
    now: input.now,
    leaseExpiredBefore: input.leaseExpiredBefore ?? null,
  };
  switch (input.kind) {
    case 'success': {
      const row = statements.ackSuccess.get({ ...fence, result: input.result });
      return row && finishedEvent(input.id, 'success', row);
    }
    case 'retry': {
      const row = statements.ackRetry.get({ ...fence, error: input.error, runAt: input.runAt });
      return row && { type: 'ready', name: row.name, runAt: input.runAt };
    }
    case 'dead': {
      const row = statements.ackDead.get({ ...fence, error: input.error });
      return row && finishedEvent(input.id, 'dead', row);
    }
    case 'release': {
      const row = statements.ackRelease.get({ ...fence, attempt: input.attempt });
      return row && { type: 'ready', name: row.name, runAt: input.now };
    }
  }
}

/** A finished job's announcement, with its outcome (so waiters need not read the job). */
function finishedEvent(
  jobId: string,
  status: 'success' | 'dead',
  row: { result: string | null; error: string | null },
): StorageEvent {
  return { type: 'finished', jobId, status, outcome: { result: row.result, error: row.error } };
}

/** One `ready` per function name, at its earliest runAt, for the jobs a batch inserted. */
function readyEvents(results: readonly EnqueueResult[]): StorageEvent[] {
  const earliest = new Map<string, number>();
  for (const { job, deduplicated } of results) {
    if (deduplicated) continue;
    const at = earliest.get(job.name);
    if (at === undefined || job.runAt < at) earliest.set(job.name, job.runAt);
  }
  return [...earliest].map(([name, runAt]) => ({ type: 'ready', name, runAt }));
}

/** Creates the SQLite storage; call `init()` (the engine's `start()` does) before use. */
export function createSqliteStorage(options: SqliteStorageOptions): SqliteStorage {
  return new SqliteStorage(options);
}

/**
 * Inserts `job` (leased to `lease.ownerId` when given), or returns the job that already holds
 * its (name, idempotency_key), whatever its status. Call inside a transaction, so the holder cannot vanish in between.
 */
function insertOrFind(statements: Statements, job: NewJob, lease?: EnqueueLease): EnqueueResult {
  const inserted = lease
    ? statements.insertLeased.get({ ...job, ...lease })
    : statements.insert.get(job);
  if (inserted !== undefined) return { job: inserted, deduplicated: false };
  const existing = statements.findByKey.get(job);
  if (existing === undefined) {
    throw new ReseolioStateError(`Job ${job.id} was neither inserted nor found.`);
  }
  return { job: existing, deduplicated: true };
}
