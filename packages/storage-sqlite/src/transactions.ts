import type { Database, Transaction } from 'better-sqlite3';
import {
  type AckInput,
  type EnqueueLease,
  type EnqueueResult,
  type FireScheduleInput,
  type FireScheduleResult,
  type HeartbeatInput,
  type NewJob,
  type PurgeInput,
  ReseolioStateError,
  type ScheduleRecord,
  type ScheduleUpdate,
  type ScheduleUpsert,
  type ScheduleUpsertResult,
  type StorageEvent,
} from 'reseolio/storage';
import type { Outbox } from './outbox.ts';
import type { ClaimedRow, Statements } from './statements.ts';

/** What a write transaction returned, and the events to announce in this process once it committed. */
export interface Committed<T> {
  value: T;
  events: StorageEvent[];
}

/**
 * Every write of the adapter, each one transaction, wrapped once per connection:
 * `db.transaction(fn)` builds a new wrapper (five closures) on every call, about as costly as
 * a small claim's SQL. The adapter runs each with `.immediate()` (BEGIN IMMEDIATE): the write
 * lock is taken up front, so a transaction never fails halfway on a read-to-write upgrade, and
 * one that meets the lock fails before doing anything, to be retried whole (lock-queue.ts).
 * Those that announce events write them to the outbox inside the same transaction.
 * @internal
 */
export interface Transactions {
  insertOrFind: Transaction<(job: NewJob, lease?: EnqueueLease) => Committed<EnqueueResult>>;
  insertMany: Transaction<(jobs: readonly NewJob[]) => Committed<EnqueueResult[]>>;
  claim: Transaction<(params: object) => ClaimedRow[]>;
  ack: Transaction<(input: AckInput) => Committed<boolean>>;
  ackMany: Transaction<(inputs: readonly AckInput[]) => Committed<boolean[]>>;
  heartbeat: Transaction<(input: HeartbeatInput) => string[]>;
  cancel: Transaction<(jobId: string, now: number) => Committed<boolean>>;
  retry: Transaction<(jobId: string, now: number) => Committed<boolean>>;
  purge: Transaction<(input: PurgeInput) => number>;
  upsertSchedule: Transaction<(input: ScheduleUpsert) => ScheduleUpsertResult>;
  updateSchedule: Transaction<(input: ScheduleUpdate) => ScheduleRecord | undefined>;
  deleteSchedule: Transaction<(id: string) => boolean>;
  fireSchedule: Transaction<
    (input: FireScheduleInput) => Committed<FireScheduleResult | undefined>
  >;
}

/** @internal */
export function prepareTransactions(
  db: Database,
  statements: Statements,
  outbox: Outbox,
): Transactions {
  const announcing = <A extends unknown[], T>(body: (...args: A) => Committed<T>) =>
    db.transaction((...args: A) => {
      const committed = body(...args);
      outbox.record(committed.events);
      return committed;
    });
  return {
    insertOrFind: announcing((job: NewJob, lease?: EnqueueLease) => {
      const value = insertOrFind(statements, job, lease);
      // A leased job is nobody else's to claim: no `ready`.
      const ready = !value.deduplicated && lease === undefined;
      return { value, events: ready ? [{ type: 'ready', name: job.name, runAt: job.runAt }] : [] };
    }),
    // One transaction for a batch: all rows or none, one commit, and a later item with the
    // key of an earlier one finds it through the unique index like any duplicate.
    insertMany: announcing((jobs: readonly NewJob[]) => insertAll(statements, jobs)),
    claim: db.transaction((params: object) => statements.claim.all(params)),
    ack: announcing((input: AckInput) => {
      const event = ackOne(statements, input);
      return { value: event !== undefined, events: event === undefined ? [] : [event] };
    }),
    // One transaction (one commit) for the batch; every item keeps its own fence.
    ackMany: announcing((inputs: readonly AckInput[]) => {
      const outcomes = inputs.map((input) => ackOne(statements, input));
      return {
        value: outcomes.map((event) => event !== undefined),
        events: outcomes.filter((event): event is StorageEvent => event !== undefined),
      };
    }),
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
    cancel: announcing((jobId: string, now: number) => {
      const row = statements.cancel.get({ id: jobId, now });
      return row === undefined
        ? { value: false, events: [] }
        : { value: true, events: [{ type: 'finished', jobId, status: 'cancelled' }] };
    }),
    retry: announcing((jobId: string, now: number) => {
      const row = statements.retry.get({ id: jobId, now });
      return row === undefined
        ? { value: false, events: [] }
        : { value: true, events: [{ type: 'ready', name: row.name, runAt: now }] };
    }),
    purge: db.transaction((input: PurgeInput) => statements.purge.run(input).changes),
    // The existence check and the upsert share the write lock, so `created` is exact even
    // when several processes declare the same schedule at once.
    upsertSchedule: db.transaction((input: ScheduleUpsert) => {
      const created = statements.scheduleExists.get(input.id) === undefined;
      const schedule = statements.upsertSchedule.get(input);
      if (schedule === undefined) {
        throw new ReseolioStateError(`Schedule ${input.id} was neither inserted nor updated.`);
      }
      return { schedule, created };
    }),
    updateSchedule: db.transaction(({ id, patch, ifStatus, now }: ScheduleUpdate) =>
      statements.updateSchedule.get({
        id,
        now,
        ifStatus: ifStatus ?? null,
        name: patch.name ?? null,
        cron: patch.cron ?? null,
        timezone: patch.timezone ?? null,
        args: patch.args ?? null,
        status: patch.status ?? null,
        catchUp: patch.catchUp ?? null,
        overlap: patch.overlap ?? null,
        catchUpWindowMs: patch.catchUpWindowMs ?? null,
        setNextRunAt: patch.nextRunAt === undefined ? 0 : 1,
        nextRunAt: patch.nextRunAt ?? null,
      }),
    ),
    deleteSchedule: db.transaction((id: string) => statements.deleteSchedule.run(id).changes > 0),
    // The tick's claim first: a writer that lost it inserts nothing and writes nothing. Then
    // the jobs, exactly as `insertMany` inserts them, and the newest run on the schedule.
    fireSchedule: announcing((input: FireScheduleInput) => {
      const claimed = statements.claimTick.get({
        id: input.id,
        claim: input.claim === undefined ? 0 : 1,
        expectedNextRunAt: input.claim?.expectedNextRunAt ?? null,
        nextRunAt: input.claim?.nextRunAt ?? null,
      });
      if (claimed === undefined) return { value: undefined, events: [] };
      const inserted = insertAll(statements, input.jobs);
      const last = inserted.value.at(-1)?.job;
      const schedule =
        last === undefined
          ? statements.getSchedule.get(input.id)
          : statements.recordRun.get({ id: input.id, lastRunAt: last.runAt, lastJobId: last.id });
      if (schedule === undefined) {
        throw new ReseolioStateError(`Schedule ${input.id} vanished while it fired.`);
      }
      return { value: { schedule, jobs: inserted.value }, events: inserted.events };
    }),
  };
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

/**
 * Inserts a batch as `enqueueMany` does, inside the caller's transaction: one result per job,
 * in order (a later item with the key of an earlier one finds it through the unique index like
 * any duplicate), and one `ready` per function name for the jobs it inserted.
 */
function insertAll(statements: Statements, jobs: readonly NewJob[]): Committed<EnqueueResult[]> {
  const value = jobs.map((job) => insertOrFind(statements, job));
  return { value, events: readyEvents(value) };
}

/**
 * Inserts `job` (leased to `lease.ownerId` when given), or returns the job that already holds
 * its (name, idempotency_key), whatever its status. Call inside a transaction, so the holder
 * cannot vanish in between.
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
