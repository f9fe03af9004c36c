import type { Pool } from 'pg';
import pg from 'pg';
import {
  type AckInput,
  type AttemptRecord,
  type ClaimInput,
  type CompletionRow,
  type CompletionsInput,
  type ConsumeSignalInput,
  type ConsumeSignalResult,
  type DueSchedulesInput,
  type EnqueueOptions,
  type EnqueueResult,
  type FireScheduleInput,
  type FireScheduleResult,
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
} from 'reseolio/storage';
import { retryOnConnectionError } from './connection-errors.ts';
import { PostgresStorageError } from './errors.ts';
import { migrate, migrationStatus, tablesExist } from './migrate.ts';
import { eventFor, Notifier } from './notify.ts';
import {
  type PostgresStorageOptions,
  type ResolvedPostgresStorageOptions,
  resolveOptions,
} from './options.ts';
import { ackJob, ackSuccesses, ackWasApplied } from './queries/ack-job.ts';
import { cancelJob } from './queries/cancel-job.ts';
import { claimJobs } from './queries/claim-jobs.ts';
import { deleteSchedule } from './queries/delete-schedule.ts';
import { enqueueJob } from './queries/enqueue-job.ts';
import { enqueueJobs } from './queries/enqueue-jobs.ts';
import { fireSchedule, readFired } from './queries/fire-schedule.ts';
import { getJob, getJobStates } from './queries/get-job.ts';
import { getSchedule } from './queries/get-schedule.ts';
import { heartbeatJobs } from './queries/heartbeat-jobs.ts';
import { jobStats } from './queries/job-stats.ts';
import { listAttempts } from './queries/list-attempts.ts';
import { listDueSchedules } from './queries/list-due-schedules.ts';
import { listExpiredLeases } from './queries/list-expired-leases.ts';
import { completions, countJobs, listJobs } from './queries/list-jobs.ts';
import { listSchedules } from './queries/list-schedules.ts';
import { nextScheduleRunAt } from './queries/next-schedule-run-at.ts';
import { purgeJobs } from './queries/purge-jobs.ts';
import { retryJob } from './queries/retry-job.ts';
import { setProgress } from './queries/set-progress.ts';
import { signalJob, signalWasStored } from './queries/signal-job.ts';
import { consumeSignal, listSteps, recordStep, stepWasRecorded } from './queries/steps.ts';
import { suspendJob } from './queries/suspend-job.ts';
import { updateSchedule } from './queries/update-schedule.ts';
import { upsertSchedule } from './queries/upsert-schedule.ts';

import { type SchemaNames, schemaNames } from './schema-names.ts';
import { poolExecutor, type SqlExecutor, transactionExecutor } from './sql-executor.ts';
import { inTransaction } from './transaction.ts';

type Listener = (event: StorageEvent) => void;

/**
 * The production `StorageAdapter`: jobs in one PostgreSQL table shared by every process,
 * `SKIP LOCKED` claims, fenced acks and LISTEN/NOTIFY wake-ups.
 */
export class PostgresStorage implements StorageAdapter {
  readonly kind = 'postgres';
  readonly capabilities: StorageCapabilities;

  readonly #options: ResolvedPostgresStorageOptions;
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #names: SchemaNames;
  readonly #exec: SqlExecutor;
  readonly #listeners = new Set<Listener>();
  #notifier: Notifier | undefined;
  #notifierStart: Promise<void> | undefined;
  #init: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  // An idle pooled client whose backend is terminated emits 'error' on the pool; with no
  // listener that would crash the process. The pool drops the client by itself, and the next
  // query opens a new connection, so there is nothing else to do here.
  readonly #onPoolError = (): void => {};

  constructor(options: PostgresStorageOptions) {
    this.#options = resolveOptions(options);
    this.#names = schemaNames(this.#options.schema);
    if (this.#options.pool) {
      this.#pool = this.#options.pool;
      this.#ownsPool = false;
    } else {
      this.#pool = new pg.Pool({
        connectionString: this.#options.connectionString,
        max: this.#options.poolSize,
        keepAlive: true,
      });
      this.#ownsPool = true;
    }
    // Also on a borrowed pool: our own queries can leave idle clients in it.
    this.#pool.on('error', this.#onPoolError);
    this.#exec = poolExecutor(this.#pool, this.#options.preparedStatements);
    this.capabilities = Object.freeze({
      crossProcessNotify: this.#options.listen,
      multiProcess: true,
      leasedEnqueue: true,
      flowControl: true,
    });
  }

  /** The configured schema. */
  get schema(): string {
    return this.#options.schema;
  }

  init(): Promise<void> {
    this.#init ??= this.#initialize().catch((err: unknown) => {
      this.#init = undefined; // let a later call try again
      throw err;
    });
    return this.#init;
  }

  async #initialize(): Promise<void> {
    if (this.#options.migrate) {
      try {
        await migrate(this.#pool, this.#names);
      } catch (err) {
        throw new PostgresStorageError(`migrating schema "${this.#names.schema}"`, err);
      }
      return;
    }
    if (!(await this.#run('init', () => tablesExist(this.#pool, this.#names)))) {
      throw new StorageConfigError(
        `Reseolio's tables do not exist in schema "${this.#names.schema}" and \`migrate\` is ` +
          'false. Run once with `migrate: true` (or apply the SQL in drizzle/) first.',
      );
    }
  }

  /**
   * The schema against the shipped migrations: how many are applied, and the ones `init()`
   * would apply with their SQL exactly as it would run it (for `reseolio migrate --dry-run`).
   * Reads only, and needs no `init()`: it creates nothing, not even the schema.
   */
  migrationStatus(): Promise<MigrationStatus> {
    return this.#run('migrationStatus', () => migrationStatus(this.#pool, this.#names));
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#notifier?.close();
      this.#listeners.clear();
      // Close only what we opened (a borrowed pool belongs to its owner).
      if (this.#ownsPool) await this.#pool.end();
      this.#pool.off('error', this.#onPoolError);
    })();
    return this.#closed;
  }

  async enqueue(job: NewJob, options?: EnqueueOptions): Promise<EnqueueResult> {
    let enqueue: () => Promise<EnqueueResult & { events: StorageEvent[] }>;
    if (options?.transaction !== undefined) {
      if (options.lease !== undefined) {
        // A job leased inside a transaction that may roll back would run before it exists.
        throw new StorageConfigError('enqueue takes `transaction` or `lease`, not both.');
      }
      const joined = transactionExecutor(options.transaction);
      if (!joined) {
        throw new StorageConfigError(
          '`transaction` must be a pg client (PoolClient or Client) inside BEGIN, or a drizzle ' +
            'node-postgres transaction (the `tx` of db.transaction()).',
        );
      }
      // Not re-sent: after a connection error the caller's transaction is gone anyway.
      enqueue = () => this.#run('enqueue', () => enqueueJob(joined, this.#names, job));
    } else {
      // Re-sent after connection errors (a pooled connection the server closed while idle,
      // a restart). Safe because the job id is the engine's: if an earlier send committed
      // and only its reply was lost, the row with this id is there and is ours.
      enqueue = () =>
        this.#runRetrying('enqueue', async (retrying) => {
          const sent = retrying ? await getJob(this.#exec, this.#names, job.id) : undefined;
          if (sent) {
            return {
              job: sent,
              deduplicated: false,
              events: options?.lease ? [] : [eventFor(sent)],
            };
          }
          return enqueueJob(this.#exec, this.#names, job, options?.lease);
        });
    }
    const { events, ...result } = await enqueue();
    // In a caller's transaction with LISTEN off, this runs before the commit: the engine may
    // find nothing yet and falls back to its poll.
    this.#emitLocally(events);
    return result;
  }

  async enqueueMany(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    const { results, events } = await this.#run('enqueueMany', () =>
      enqueueJobs(this.#exec, this.#names, jobs),
    );
    this.#emitLocally(events);
    return results;
  }

  /**
   * Not re-sent after a connection error, unlike acks: a claim carries the `now` and
   * `leaseExpiresAt` the engine computed before sending it, and re-sending them after an
   * outage committed leases that had already expired (then another node took the job while
   * it ran here). The engine claims again at its next wake-up, with fresh times.
   */
  async claim(input: ClaimInput): Promise<JobRecord[]> {
    const { jobs, events } = await this.#run('claim', () =>
      claimJobs(this.#exec, this.#names, input),
    );
    // Ready times of jobs a flow rule held back: for this process's listeners only, with or
    // without LISTEN (nothing was sent over NOTIFY), after the claim's commit.
    for (const event of events) this.#deliver(event);
    return jobs;
  }

  /** Not re-sent after a connection error, for the same reason as `claim`: its lease is stale. */
  heartbeat(input: HeartbeatInput): Promise<string[]> {
    return this.#run('heartbeat', () => heartbeatJobs(this.#exec, this.#names, input));
  }

  /** PostgreSQL's `clock_timestamp()` in epoch ms: the clock every node of this database shares. */
  async currentTime(): Promise<number> {
    const [row] = await this.#run('currentTime', () =>
      this.#exec('SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now', []),
    );
    return Number(row!.now);
  }

  async ack(input: AckInput): Promise<boolean> {
    const { acked, events } = await this.#runRetrying('ack', async (retrying) => {
      const outcome =
        input.kind === 'suspend'
          ? await inTransaction(this.#pool, this.#options.preparedStatements, (tx) =>
              suspendJob(tx, this.#names, input),
            )
          : await ackJob(this.#exec, this.#names, input);
      // A re-sent ack that fails the fence may be failing on its own earlier, committed
      // write whose reply was lost with the connection: check for that before saying no.
      if (!outcome.acked && retrying && (await ackWasApplied(this.#exec, this.#names, input))) {
        return { acked: true, events: [] };
      }
      return outcome;
    });
    this.#emitLocally(events);
    return acked;
  }

  /**
   * Successes, the hot path, go in one statement; the rarer retry, dead, release and suspend
   * outcomes one by one (a suspension is a transaction of two statements of its own: see
   * `suspend-job.ts`; folding it into the batch statement would need that second statement for
   * the whole batch). After a connection error the batch is re-sent (fenced, so safe), and an item
   * that then fails its fence is checked for its own earlier write, as in `ack`.
   */
  async ackMany(inputs: readonly AckInput[]): Promise<boolean[]> {
    // Only plain successes (no lease-expiry fence) share the batch statement.
    const batched = (input: AckInput): input is Extract<AckInput, { kind: 'success' }> =>
      input.kind === 'success' && input.leaseExpiredBefore === undefined;
    const successes = inputs.filter(batched);
    const acked = new Set<string>();
    if (successes.length === 1) {
      // A lone outcome (a sequential workload) takes the plain single-row UPDATE, a fraction
      // of a millisecond cheaper than the batch statement's unnest, locking and numbering.
      if (await this.ack(successes[0]!)) acked.add(successes[0]!.id);
    } else if (successes.length > 1) {
      const matched = await this.#runRetrying('ackMany', async (retrying) => {
        const { ids, events } = await ackSuccesses(this.#exec, this.#names, successes);
        this.#emitLocally(events);
        if (retrying) {
          for (const input of successes) {
            if (!ids.has(input.id) && (await ackWasApplied(this.#exec, this.#names, input))) {
              ids.add(input.id);
            }
          }
        }
        return ids;
      });
      for (const id of matched) acked.add(id);
      if (!this.#options.listen) {
        this.#emitLocally(
          successes
            .filter((input) => matched.has(input.id))
            .map((input) => ({ type: 'finished', jobId: input.id, status: 'success' })),
        );
      }
    }
    for (const input of inputs) {
      if (!batched(input) && (await this.ack(input))) acked.add(input.id);
    }
    return inputs.map((input) => acked.has(input.id));
  }

  listExpiredLeases(input: ListExpiredLeasesInput): Promise<JobRecord[]> {
    return this.#runRetrying('listExpiredLeases', () =>
      listExpiredLeases(this.#exec, this.#names, input),
    );
  }

  async cancel(jobId: string, now: number): Promise<boolean> {
    const { cancelled, events } = await this.#run('cancel', () =>
      cancelJob(this.#exec, this.#names, jobId, now),
    );
    this.#emitLocally(events);
    return cancelled;
  }

  async retry(jobId: string, now: number): Promise<boolean> {
    const { retried, events } = await this.#run('retry', () =>
      retryJob(this.#exec, this.#names, jobId, now),
    );
    this.#emitLocally(events);
    return retried;
  }

  purge(input: PurgeInput): Promise<number> {
    return this.#run('purge', () => purgeJobs(this.#exec, this.#names, input));
  }

  getJob(jobId: string): Promise<JobRecord | undefined> {
    return this.#run('getJob', () => getJob(this.#exec, this.#names, jobId));
  }

  getJobStates(jobIds: readonly string[]): Promise<JobState[]> {
    return this.#run('getJobStates', () => getJobStates(this.#exec, this.#names, jobIds));
  }

  listJobs(filter: JobFilter): Promise<JobRecord[]> {
    return this.#run('listJobs', () => listJobs(this.#exec, this.#names, filter));
  }

  countJobs(filter: JobCountFilter): Promise<number> {
    return this.#run('countJobs', () => countJobs(this.#exec, this.#names, filter));
  }

  completions(input: CompletionsInput): Promise<CompletionRow[]> {
    return this.#run('completions', () => completions(this.#exec, this.#names, input));
  }

  listAttempts(jobId: string): Promise<AttemptRecord[]> {
    return this.#run('listAttempts', () => listAttempts(this.#exec, this.#names, jobId));
  }

  /**
   * Re-sent after connection errors: writing the same progress twice under the same fence
   * changes nothing more than writing it once.
   */
  async setProgress(input: ProgressInput): Promise<boolean> {
    const event = await this.#runRetrying('setProgress', () =>
      setProgress(this.#exec, this.#names, input),
    );
    if (event === undefined) return false;
    this.#emitLocally([event]);
    return true;
  }

  stats(input: StatsInput): Promise<NameStats[]> {
    return this.#run('stats', () => jobStats(this.#exec, this.#names, input));
  }

  listSteps(jobId: string): Promise<StepRecord[]> {
    return this.#run('listSteps', () => listSteps(this.#exec, this.#names, jobId));
  }

  /**
   * Re-sent after connection errors, like acks: fenced, and a key keeps its first value. A
   * re-send that finds the key with this call's value and time answers `recorded`: that was
   * the earlier send, committed with its reply lost.
   */
  recordStep(input: RecordStepInput): Promise<RecordStepResult> {
    return this.#runRetrying('recordStep', async (retrying) => {
      const result = await recordStep(this.#exec, this.#names, input);
      if (result === 'exists' && retrying) {
        const step = await stepWasRecorded(this.#exec, this.#names, input);
        if (step?.value === input.value) return 'recorded';
      }
      return result;
    });
  }

  /**
   * Re-sent after connection errors: an earlier send that committed is recognised by the
   * signal's id (the engine's) and answered `stored` (`woke` false: whether it woke the job
   * is not recorded), instead of storing it twice.
   */
  async signal(input: SignalInput): Promise<SignalResult> {
    const { result, events } = await this.#runRetrying('signal', async (retrying) => {
      if (retrying && (await signalWasStored(this.#exec, this.#names, input))) {
        return { result: { status: 'stored', woke: false } as const, events: [] };
      }
      return signalJob(this.#exec, this.#names, input);
    });
    this.#emitLocally(events);
    return result;
  }

  /**
   * Re-sent after connection errors: an earlier send that committed recorded its payload as
   * the step `key`, which a re-send reads back instead of consuming a second signal.
   */
  consumeSignal(input: ConsumeSignalInput): Promise<ConsumeSignalResult> {
    return this.#runRetrying('consumeSignal', async (retrying) => {
      const sent = retrying ? await stepWasRecorded(this.#exec, this.#names, input) : undefined;
      if (sent) return { status: 'consumed', payload: sent.value };
      return consumeSignal(this.#exec, this.#names, input);
    });
  }

  upsertSchedule(input: ScheduleUpsert): Promise<ScheduleUpsertResult> {
    return this.#run('upsertSchedule', () => upsertSchedule(this.#exec, this.#names, input));
  }

  getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.#run('getSchedule', () => getSchedule(this.#exec, this.#names, id));
  }

  listSchedules(filter: ScheduleFilter): Promise<ScheduleRecord[]> {
    return this.#run('listSchedules', () => listSchedules(this.#exec, this.#names, filter));
  }

  updateSchedule(input: ScheduleUpdate): Promise<ScheduleRecord | undefined> {
    return this.#run('updateSchedule', () => updateSchedule(this.#exec, this.#names, input));
  }

  deleteSchedule(id: string): Promise<boolean> {
    return this.#run('deleteSchedule', () => deleteSchedule(this.#exec, this.#names, id));
  }

  listDueSchedules(input: DueSchedulesInput): Promise<ScheduleRecord[]> {
    return this.#run('listDueSchedules', () => listDueSchedules(this.#exec, this.#names, input));
  }

  nextScheduleRunAt(names: readonly string[]): Promise<number | undefined> {
    return this.#run('nextScheduleRunAt', () => nextScheduleRunAt(this.#exec, this.#names, names));
  }

  /**
   * Re-sent after connection errors, like `enqueue` and acks: a re-send is idempotent. A tick
   * is a compare-and-set on `next_run_at`, so it cannot be claimed twice, and its jobs carry
   * idempotency keys derived from the schedule and the tick, so they cannot be made twice. An
   * earlier send whose commit went through and whose reply was lost is recognised by its job
   * ids (see `readFired`) and answered from the database, instead of "not fired" (the
   * compare-and-set would fail on its own write) or, for a trigger's unkeyed jobs, twice. Its
   * times do not go stale the way a lease does: they are what it records.
   */
  async fireSchedule(input: FireScheduleInput): Promise<FireScheduleResult | undefined> {
    const fired = await this.#runRetrying('fireSchedule', async (retrying) => {
      const sent =
        retrying && input.jobs.length > 0
          ? await readFired(this.#exec, this.#names, input)
          : undefined;
      return (
        sent ??
        fireSchedule(this.#pool, this.#exec, this.#options.preparedStatements, this.#names, input)
      );
    });
    if (!fired) return undefined;
    const { events, ...result } = fired;
    this.#emitLocally(events);
    return result;
  }

  async subscribe(listener: Listener): Promise<() => Promise<void>> {
    // After close() a new LISTEN connection would leak: nothing would ever close it.
    if (this.#closed) throw new ReseolioStateError('subscribe() on a closed PostgreSQL storage.');
    this.#listeners.add(listener);
    if (this.#options.listen) {
      try {
        await this.#startNotifier();
      } catch (err) {
        this.#listeners.delete(listener);
        throw new PostgresStorageError('subscribe (LISTEN)', err);
      }
    }
    return async () => {
      this.#listeners.delete(listener);
    };
  }

  /** One LISTEN connection per adapter, opened on the first subscribe and kept until close. */
  #startNotifier(): Promise<void> {
    this.#notifierStart ??= (async () => {
      const notifier = new Notifier({
        // A borrowed pool's options are the only connection settings we have.
        clientConfig: this.#pool.options,
        channel: this.#names.channel,
        onEvent: (event) => this.#deliver(event),
      });
      await notifier.start();
      this.#notifier = notifier;
    })().catch((err: unknown) => {
      this.#notifierStart = undefined;
      throw err;
    });
    return this.#notifierStart;
  }

  /**
   * With LISTEN on, our own writes come back through the LISTEN connection like everyone
   * else's (delivered only once committed); emitting them here too would double them. With
   * LISTEN off, this is how listeners in this process hear about this process's writes.
   */
  #emitLocally(events: readonly StorageEvent[]): void {
    if (this.#options.listen) return;
    for (const event of events) this.#deliver(event);
  }

  #deliver(event: StorageEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A throwing listener must not stop the others or the notification connection.
      }
    }
  }

  /** Runs an operation once, wrapping driver errors. */
  async #run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#wrap(operation, err);
    }
  }

  /**
   * Runs a worker-path operation, re-sending it after connection errors for up to
   * `connectionRetryMs`, so a dropped connection or a restarting server does not lose a
   * completion. Safe because every one of these is fenced or repeatable, and none carries a
   * time that goes stale: an ack's times are what it records, and a listing's `now` only
   * finds fewer expired leases when late.
   */
  async #runRetrying<T>(operation: string, fn: (retrying: boolean) => Promise<T>): Promise<T> {
    try {
      return await retryOnConnectionError(fn, this.#options.connectionRetryMs);
    } catch (err) {
      throw this.#wrap(operation, err);
    }
  }

  #wrap(operation: string, err: unknown): Error {
    if (err instanceof StorageConfigError || err instanceof PostgresStorageError) return err;
    return new PostgresStorageError(operation, err);
  }
}

/**
 * Creates the PostgreSQL storage. Core calls this for `postgres://` and `postgresql://` URLs
 * as `createPostgresStorage({ connectionString })`.
 */
export function createPostgresStorage(options: PostgresStorageOptions): PostgresStorage {
  return new PostgresStorage(options);
}
