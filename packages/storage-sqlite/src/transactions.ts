import type { Database, Transaction } from 'better-sqlite3';
import {
  type AckInput,
  attemptOutcomeOf,
  type ClaimInput,
  type ConcurrencyGroupState,
  type ConsumeSignalInput,
  type ConsumeSignalResult,
  claimOrder,
  type EnqueueLease,
  type EnqueueResult,
  type FireScheduleInput,
  type FireScheduleResult,
  type FlowPlan,
  type FlowRule,
  type HeartbeatInput,
  type NewJob,
  type ProgressInput,
  type PurgeInput,
  planFlowClaim,
  type RecordStepInput,
  type RecordStepResult,
  ReseolioStateError,
  type ScheduleRecord,
  type ScheduleUpdate,
  type ScheduleUpsert,
  type ScheduleUpsertResult,
  type SignalInput,
  type SignalResult,
  type StorageEvent,
  type WakeCondition,
} from 'reseolio/storage';
import type { Outbox } from './outbox.ts';
import type { CandidateRow, ClaimedRow, Statements } from './statements.ts';

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
  /** A claim without flow rules. */
  claim: Transaction<(params: ClaimParams) => ClaimedRow[]>;
  /**
   * A claim with flow rules (`rules`: those of the claim's names that limit something). Its
   * `ready` events are for this process only (see `StorageAdapter.claim`), not the outbox.
   */
  flowClaim: Transaction<
    (input: ClaimInput, rules: ReadonlyMap<string, FlowRule>) => Committed<ClaimedRow[]>
  >;
  ack: Transaction<(input: AckInput) => Committed<boolean>>;
  ackMany: Transaction<(inputs: readonly AckInput[]) => Committed<boolean[]>>;
  heartbeat: Transaction<(input: HeartbeatInput) => string[]>;
  setProgress: Transaction<(input: ProgressInput) => Committed<boolean>>;
  cancel: Transaction<(jobId: string, now: number) => Committed<boolean>>;
  retry: Transaction<(jobId: string, now: number) => Committed<boolean>>;
  purge: Transaction<(input: PurgeInput) => number>;
  recordStep: Transaction<(input: RecordStepInput) => RecordStepResult>;
  signal: Transaction<(input: SignalInput) => Committed<SignalResult>>;
  consumeSignal: Transaction<(input: ConsumeSignalInput) => ConsumeSignalResult>;
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
    claim: db.transaction((params: ClaimParams) => claimByLevel(statements, params)),
    flowClaim: db.transaction((input: ClaimInput, rules: ReadonlyMap<string, FlowRule>) =>
      flowClaim(statements, input, rules),
    ),
    ack: announcing((input: AckInput) => {
      const events: StorageEvent[] = [];
      return { value: ackOne(statements, input, events), events };
    }),
    // One transaction (one commit) for the batch; every item keeps its own fence.
    ackMany: announcing((inputs: readonly AckInput[]) => {
      const events: StorageEvent[] = [];
      return { value: inputs.map((input) => ackOne(statements, input, events)), events };
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
    setProgress: announcing((input: ProgressInput) => {
      const row = statements.setProgress.get({
        id: input.id,
        leaseToken: input.leaseToken,
        progress: input.progress,
      });
      if (row === undefined) return { value: false, events: [] };
      const event: StorageEvent = {
        type: 'progress',
        jobId: input.id,
        name: row.name,
        progress: input.progress,
      };
      return { value: true, events: [event] };
    }),
    cancel: announcing((jobId: string, now: number) => {
      statements.recordCancelledAttempt.run({ id: jobId, now });
      const row = statements.cancel.get({ id: jobId, now });
      if (row === undefined) return { value: false, events: [] };
      const events: StorageEvent[] = [{ type: 'finished', jobId, status: 'cancelled' }];
      wakeParent(statements, row.parentId, now, events);
      return { value: true, events };
    }),
    retry: announcing((jobId: string, now: number) => {
      const row = statements.retry.get({ id: jobId, now });
      return row === undefined
        ? { value: false, events: [] }
        : { value: true, events: [{ type: 'ready', name: row.name, runAt: now }] };
    }),
    // The purged jobs' steps, signals and attempts go in the same transaction.
    purge: db.transaction((input: PurgeInput) => {
      const ids = statements.purge.all(input);
      if (ids.length > 0) {
        const json = JSON.stringify(ids);
        statements.purgeSteps.run(json);
        statements.purgeSignals.run(json);
        statements.purgeAttempts.run(json);
      }
      return ids.length;
    }),
    // The fence is read first so that a key recorded already and a lost attempt differ.
    recordStep: db.transaction((input: RecordStepInput): RecordStepResult => {
      if (statements.holds.get(input) === undefined) return 'fenced-out';
      return statements.insertStep.get(input) === undefined ? 'exists' : 'recorded';
    }),
    // BEGIN IMMEDIATE holds the write lock from the job's read on: a suspension (which checks
    // for unconsumed signals under the same lock) commits wholly before or after this.
    signal: announcing((input: SignalInput): Committed<SignalResult> => {
      const job = statements.signalTarget.get(input.jobId);
      if (job === undefined) return { value: { status: 'job-not-found' }, events: [] };
      if (job.status === 'success' || job.status === 'dead' || job.status === 'cancelled') {
        return { value: { status: 'job-finished', jobStatus: job.status }, events: [] };
      }
      if (statements.insertSignal.get(input) === undefined) {
        return { value: { status: 'duplicate' }, events: [] };
      }
      const woken = statements.wakeForSignal.get(input);
      return {
        value: { status: 'stored', woke: woken !== undefined },
        events: woken === undefined ? [] : [{ type: 'ready', name: woken.name, runAt: input.now }],
      };
    }),
    consumeSignal: db.transaction((input: ConsumeSignalInput): ConsumeSignalResult => {
      if (statements.holds.get(input) === undefined) return { status: 'fenced-out' };
      const payload = statements.consumeSignal.get(input);
      if (payload === undefined) return { status: 'none' };
      statements.insertStep.get({ id: input.id, key: input.key, value: payload, now: input.now });
      return { status: 'consumed', payload };
    }),
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

/** A claim's parameters as its statements take them (`names` as a JSON array). */
export interface ClaimParams {
  ownerId: string;
  leaseToken: string;
  leaseExpiresAt: number;
  now: number;
  names: string;
  limit: number;
}

/**
 * Reads up to `limit` rows level by level, highest priority first (see `nextLevel` in
 * statements.ts): `read(null, room)` reads the highest level's, `next(below)` finds the next
 * lower level (`next(null)`: the one below the highest), `read(level, room)` reads one. All
 * rows of one `read` share its level.
 */
function byLevel<R>(
  limit: number,
  levelOf: (row: R) => number,
  next: (below: number | null) => number | undefined,
  read: (level: number | null, room: number) => R[],
): R[] {
  const rows = read(null, limit);
  if (rows.length >= limit) return rows;
  // Below the level just read: that of its rows, or, when none was due, the highest (null).
  let level = next(rows.length > 0 ? levelOf(rows[0]!) : null);
  while (level !== undefined) {
    rows.push(...read(level, limit - rows.length));
    if (rows.length >= limit) break;
    level = next(level);
  }
  return rows;
}

/** A candidate's priority (for {@link byLevel}). */
const candidateLevel = (row: CandidateRow) => row.priority;

/** Leases up to `params.limit` due jobs of `params.names`, higher priorities first. */
function claimByLevel(statements: Statements, params: ClaimParams): ClaimedRow[] {
  return byLevel(
    params.limit,
    (row) => row[12], // its priority
    (below) => statements.nextLevel.get({ below }),
    (level, limit) => statements.claimLevel.all({ ...params, level, limit }),
  );
}

/** A flow claim's discovery scan reads at most max(FLOW_SCAN_MIN, FLOW_SCAN_FACTOR × limit) rows. */
const FLOW_SCAN_MIN = 32;
const FLOW_SCAN_FACTOR = 4;

/**
 * A claim with flow rules, in the caller's write transaction, so that the counts it reads and
 * the leases it writes are one atomic step for every process on the file. It reads due
 * candidates, the groups' running jobs and recent starts, lets `planFlowClaim` decide, leases
 * what it planned, and records the starts of rate-limited names.
 *
 * First a discovery scan: the first `budget` due jobs of the claim's names in claim order (the
 * plain claim's reads), with the states of the groups they belong to only. Every due job it
 * did not read comes after all it read in claim order, and the plan's decision on a job
 * depends only on the jobs before it: the scan's plan accepts and refuses its jobs as the
 * whole backlog's would, and an unseen job could only add to the accepted ones, at the
 * scan's last priority or lower and in round 1 at best, after every scanned job of that
 * priority. So the scan's plan is the backlog's when the scan read every due job (fewer rows
 * than its budget), or when it takes `limit` jobs that each sort before any such unseen job
 * (`plansAhead`). Its `ready` times are then those of the groups it saw blocked; a job it did
 * not see was left behind by `limit`, which needs no announcement (the claimer is full).
 *
 * Otherwise (the first rows all in groups that are full, or that take more than one job per
 * group) the claim falls back to `walkPlan`, which reads every pair of keys of a ruled name.
 */
function flowClaim(
  statements: Statements,
  input: ClaimInput,
  rules: ReadonlyMap<string, FlowRule>,
): Committed<ClaimedRow[]> {
  const { now, limit } = input;
  const running = runningByGroup(statements, rules, now);
  const concurrency = (name: string, key: string | null): ConcurrencyGroupState =>
    running.get(name)?.get(key) ?? { running: 0, earliestLeaseExpiresAt: null };
  const starts = new Map<string, Map<string | null, number[]>>();
  const rate = (name: string, key: string | null): { starts: readonly number[] } => {
    let ofName = starts.get(name);
    if (ofName === undefined) {
      ofName = new Map();
      starts.set(name, ofName);
    }
    let window = ofName.get(key);
    if (window === undefined) {
      const periodMs = rules.get(name)?.rateLimit?.periodMs ?? 0;
      window = statements.rateStarts.all({ name, key: key ?? '', since: now - periodMs, now });
      ofName.set(key, window);
    }
    return { starts: window };
  };

  // Discovery: the first `budget` due jobs of the claim's names in claim order, on the plain
  // claim's index. Fewer than `budget`: every due job, so the plan is exact. Otherwise the plan
  // is still the whole backlog's when it takes `limit` jobs that no unseen job can come
  // before (`plansAhead`); else the walk by pairs below decides.
  const budget = Math.max(FLOW_SCAN_MIN, FLOW_SCAN_FACTOR * limit);
  const names = JSON.stringify(input.names);
  const scanned = byLevel(
    budget,
    candidateLevel,
    (below) => statements.nextLevel.get({ below }),
    (level, room) => statements.dueAtLevel.all({ names, level, now, limit: room }),
  );
  const fast = planFlowClaim({ candidates: scanned, rules, limit, now, concurrency, rate });
  const plan =
    scanned.length < budget || plansAhead(fast.take, limit, rules, scanned.at(-1)!.priority)
      ? fast
      : walkPlan(statements, input, rules, concurrency, rate);
  const events: StorageEvent[] = [...plan.readyAt].map(([name, runAt]) => ({
    type: 'ready',
    name,
    runAt,
  }));
  if (plan.take.length === 0) return { value: [], events };

  const leased = statements.leaseIds.all({
    ids: JSON.stringify(plan.take.map((job) => job.id)),
    ownerId: input.ownerId,
    leaseToken: input.leaseToken,
    leaseExpiresAt: input.leaseExpiresAt,
    now,
  });
  // In plan order (RETURNING order is unspecified).
  const rowsById = new Map(leased.map((row) => [row[0], row]));
  const value: ClaimedRow[] = [];
  for (const job of plan.take) {
    const row = rowsById.get(job.id);
    if (row !== undefined) value.push(row);
  }

  // One start per job of a rate-limited name, and the group's starts that no window will
  // count again forgotten, so a group keeps at most about `limit` rows.
  const forgotten = new Set<string>();
  for (const job of plan.take) {
    const rateLimit = rules.get(job.name)?.rateLimit;
    if (rateLimit === undefined) continue;
    const group = { name: job.name, key: job.rateLimitKey ?? '' };
    statements.insertStart.run({ ...group, now });
    const id = `${group.name}\u0000${group.key}`;
    if (forgotten.has(id)) continue;
    forgotten.add(id);
    statements.forgetStarts.run({ ...group, before: now - rateLimit.periodMs });
  }
  return { value, events };
}

/**
 * The flow claim's plan from a walk of every pair of keys (the fallback of `flowClaim`): the
 * plain names' first `limit` due jobs, and a bounded prefix of each key pair of a ruled name.
 *
 * A ruled name's jobs are read by (concurrency key, rate-limit key) pair: a concurrency group
 * is the pairs of its concurrency key, a rate group those of its rate-limit key. A pair may
 * start at most what both of its groups still allow (`allowance`), so reading its first
 * `allowance + 1` due jobs (at most `limit + 1`) gives the planner every job it could take and
 * the first one each pair leaves behind, which sets the `ready` time: the plan is the one the
 * whole backlog would give, read in a number of rows bounded by the pairs, not the backlog.
 */
function walkPlan(
  statements: Statements,
  input: ClaimInput,
  rules: ReadonlyMap<string, FlowRule>,
  concurrency: (name: string, key: string | null) => ConcurrencyGroupState,
  rate: (name: string, key: string | null) => { starts: readonly number[] },
): FlowPlan<CandidateRow> {
  const { now, limit } = input;
  const candidates: CandidateRow[] = [];
  const plainNames = input.names.filter((name) => !rules.has(name));
  if (plainNames.length > 0) {
    // No rule limits them: the first `limit` in claim order are all the plan could take.
    const names = JSON.stringify(plainNames);
    candidates.push(
      ...byLevel(
        limit,
        candidateLevel,
        (below) => statements.nextLevel.get({ below }),
        (level, room) => statements.dueAtLevel.all({ names, level, now, limit: room }),
      ),
    );
  }

  const { pairs } = statements;
  for (const [name, rule] of rules) {
    for (const concurrencyKey of pairs.concurrencyKeys.all({ name })) {
      const free =
        rule.concurrency === undefined
          ? limit
          : rule.concurrency - concurrency(name, concurrencyKey).running;
      // The concurrency key has jobs: with no rate-limit key among them, one pair, (key, null).
      const rateLimitKeys =
        pairs.firstRateLimitKey.get({ name, concurrencyKey }) === undefined
          ? [null]
          : pairs.rateLimitKeys.all({ name, concurrencyKey });
      for (const rateLimitKey of rateLimitKeys) {
        const allowance =
          rule.rateLimit === undefined
            ? free
            : Math.min(free, rule.rateLimit.limit - rate(name, rateLimitKey).starts.length);
        const pair = { name, concurrencyKey, rateLimitKey };
        candidates.push(
          ...byLevel(
            Math.min(Math.max(allowance, 0), limit) + 1,
            candidateLevel,
            (below) => pairs.nextLevel.get({ ...pair, below }),
            (level, room) => pairs.dueAtLevel.all({ ...pair, level, now, limit: room }),
          ),
        );
      }
    }
  }

  return planFlowClaim({ candidates, rules, limit, now, concurrency, rate });
}

/**
 * Whether a plan of the discovery scan takes `limit` jobs that all sort, in the plan's final
 * order (priority, round, claim order), before any due job the scan did not read: those are at
 * priority `lastPriority` or lower and at best in round 1 after every scanned job, so a taken
 * job is ahead of them when its priority is higher or it is in round 1. A taken job's round is
 * its rank among the taken jobs of its fairness group in claim order (a job of an earlier
 * round of the group sorts before it, so is taken too).
 */
function plansAhead(
  take: readonly CandidateRow[],
  limit: number,
  rules: ReadonlyMap<string, FlowRule>,
  lastPriority: number,
): boolean {
  if (take.length < limit) return false;
  const seen = new Set<string>();
  for (const job of [...take].sort(claimOrder)) {
    const rule = rules.get(job.name);
    let fairGroup: string;
    if (rule?.concurrency !== undefined) {
      fairGroup = `c${job.name}\u0000${job.concurrencyKey ?? '\u0000'}`;
    } else if (rule?.rateLimit !== undefined) {
      fairGroup = `r${job.name}\u0000${job.rateLimitKey ?? '\u0000'}`;
    } else {
      continue; // not limited: always round 1
    }
    // In round 2 or later of its group, at a priority an unseen job may have.
    if (seen.has(fairGroup) && job.priority <= lastPriority) return false;
    seen.add(fairGroup);
  }
  return true;
}

/** Per ruled name with a concurrency rule, per concurrency key: its live running jobs. */
function runningByGroup(
  statements: Statements,
  rules: ReadonlyMap<string, FlowRule>,
  now: number,
): Map<string, Map<string | null, ConcurrencyGroupState>> {
  const byName = new Map<string, Map<string | null, ConcurrencyGroupState>>();
  const names = [...rules.values()].filter((rule) => rule.concurrency !== undefined);
  if (names.length === 0) return byName;
  const rows = statements.runningGroups.all({
    names: JSON.stringify(names.map((rule) => rule.name)),
    now,
  });
  for (const { name, key, running, earliestLeaseExpiresAt } of rows) {
    let ofName = byName.get(name);
    if (ofName === undefined) {
      ofName = new Map();
      byName.set(name, ofName);
    }
    ofName.set(key, { running, earliestLeaseExpiresAt });
  }
  return byName;
}

/**
 * Applies one ack inside the caller's transaction and adds the events to announce once it
 * commits to `events`; false when the fence (id, lease token, running) matched no row.
 */
function ackOne(statements: Statements, input: AckInput, events: StorageEvent[]): boolean {
  const fence = {
    id: input.id,
    leaseToken: input.leaseToken,
    now: input.now,
    leaseExpiredBefore: input.leaseExpiredBefore ?? null,
  };
  // First, under the same fence: the row still shows the attempt as it ran (owner, start).
  statements.recordAttempt.run({
    ...fence,
    outcome: attemptOutcomeOf(input),
    error: input.kind === 'retry' || input.kind === 'dead' ? input.error : null,
  });
  switch (input.kind) {
    case 'success':
    case 'dead': {
      const row =
        input.kind === 'success'
          ? statements.ackSuccess.get({ ...fence, result: input.result })
          : statements.ackDead.get({ ...fence, error: input.error });
      if (row === undefined) return false;
      events.push(finishedEvent(input.id, input.kind, row));
      wakeParent(statements, row.parentId, input.now, events);
      return true;
    }
    case 'retry':
      return ready(
        statements.ackRetry.get({ ...fence, error: input.error, runAt: input.runAt }),
        input.runAt,
        events,
      );
    case 'release':
      return ready(
        statements.ackRelease.get({ ...fence, attempt: input.attempt }),
        input.now,
        events,
      );
    case 'suspend': {
      // Under the write lock already (BEGIN IMMEDIATE): nothing can change the condition
      // between this check and the update.
      const wakesNow = wakeHolds(statements, input.id, input.wake);
      const runAt = wakesNow ? input.now : input.runAt;
      const row = statements.ackSuspend.get({
        ...fence,
        attempt: input.attempt,
        runAt,
        status: wakesNow ? 'pending' : 'waiting',
        waitingFor: wakesNow ? null : input.waitingFor,
        wakeTopic: !wakesNow && input.wake.kind === 'signal' ? input.wake.topic : null,
        wakeChildren: !wakesNow && input.wake.kind === 'children' ? 1 : null,
      });
      return ready(row, runAt, events);
    }
  }
}

/** Adds `ready` for the job `row` names at `runAt`; false when there is no row. */
function ready(row: { name: string } | undefined, runAt: number, events: StorageEvent[]): boolean {
  if (row === undefined) return false;
  events.push({ type: 'ready', name: row.name, runAt });
  return true;
}

/** Whether a suspension's wake condition holds already (checked in the same transaction). */
function wakeHolds(statements: Statements, id: string, wake: WakeCondition): boolean {
  switch (wake.kind) {
    case 'time':
      return false;
    case 'signal':
      return statements.hasSignal.get({ id, topic: wake.topic }) !== undefined;
    case 'children':
      return (
        wake.jobIds.length > 0 && statements.anyFinal.get(JSON.stringify(wake.jobIds)) !== undefined
      );
  }
}

/**
 * A job reached a final status: its parent, when it waits for children, is due now. No
 * statement at all for a job without a parent.
 */
function wakeParent(
  statements: Statements,
  parentId: string | null,
  now: number,
  events: StorageEvent[],
): void {
  if (parentId === null) return;
  ready(statements.wakeParent.get({ parentId, now }), now, events);
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
