import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { type AttemptContext, attemptStorage } from '../context.ts';
import {
  AttemptTimeoutError,
  JobCancelledError,
  LeaseExpiredError,
  NonRetryableError,
  PayloadTooLargeError,
  ReseolioError,
} from '../errors.ts';
import { infoOf } from '../job-info.ts';
import { MAX_TIMER_MS, type ResolvedOptions } from '../options.ts';
import type { ResultWaiters } from '../result-waiters.ts';
import { deserialize, errorToStored, serialize } from '../serialization.ts';
import { decodePolicy } from '../storage/policy-text.ts';
import type { AckInput, AttemptFence, JobRecord } from '../storage/records.ts';
import type { EnqueueLease, StorageAdapter } from '../storage/storage.ts';
import type { JobInfo, ReseolioEvents, ResolvedRetryPolicy } from '../types.ts';
import { AttemptAbort } from './attempt-abort.ts';
import { retryDelayMs } from './backoff.ts';

/** A registered handler, as the pool sees it. */
export interface Registration {
  name: string;
  handler: (...args: unknown[]) => unknown;
}

export interface PoolDeps {
  storage: StorageAdapter;
  options: ResolvedOptions;
  registry: ReadonlyMap<string, Registration>;
  clock: Clock;
  waiters: ResultWaiters;
  /** The engine, stored in each attempt's context to recognise its own children. */
  engine: object;
  emit<K extends keyof ReseolioEvents>(event: K, ...args: ReseolioEvents[K]): void;
}

/** One attempt this process is running. */
interface Attempt {
  record: JobRecord;
  /** What every write for this attempt quotes: the job id and its claim's lease token. */
  fence: AttemptFence;
  /**
   * Job id and lease token together: a claim writes one token on every job it takes, and one
   * process may hold two attempts of one job (see `#start`), so neither alone names an attempt.
   */
  key: string;
  info: JobInfo;
  policy: ResolvedRetryPolicy;
  aborter: AttemptAbort;
  /** False while the job waits on a child's result() and has lent its slot out. */
  holdsSlot: boolean;
  /** result() calls the job is awaiting right now. */
  waits: number;
  /** The handler has returned or thrown; only its outcome's write is left. */
  returned: boolean;
  /**
   * Set once the outcome is no longer ours to write: the lease was lost, the job was
   * cancelled, or shutdown handed it back. The attempt's own ack is then skipped (it would be
   * fenced out anyway) and nothing is emitted for it.
   */
  settled: boolean;
}

/** Raised into a handler's signal when `stop()` hands its job back. */
export class ShutdownError extends ReseolioError {
  constructor() {
    super('RESEOLIO_SHUTDOWN', 'The engine is stopping; the job was handed back to run elsewhere.');
  }
}

/**
 * Claims jobs for the registered names and runs up to `workerConcurrency` at once. One claim
 * loop per process: it claims as many jobs as there are free slots in one storage call and
 * runs again whenever a slot frees or storage announces work. Leases of all running jobs are
 * extended by one batched heartbeat; expired leases of dead processes are swept here too.
 */
export class WorkerPool {
  readonly #deps: PoolDeps;
  /**
   * The attempts running here, by `Attempt.key`. Not by job id: one process can hold two
   * attempts of one job at once, when a database crash undid its claim and it claimed the job
   * again while the first attempt still ran (see `#start`). Not by token: one claim writes the
   * same token on every job of its batch.
   */
  readonly #running = new Map<string, Attempt>();
  /** The latest attempt of each job running here: only it can be unsettled (see `#start`). */
  readonly #latestOfJob = new Map<string, Attempt>();
  #activeSlots = 0;
  /** A claim loop is running, or is scheduled to run on the next turn (`#requestClaim`). */
  #claiming = false;
  #wakeRequested = false;
  /**
   * False once a claim came back short (fewer jobs than it asked for) and nothing has
   * announced work since: the queue holds nothing due for our names, so a freed slot need not
   * ask again. Every announcement (`wake()`) sets it; `#signals` counts them, so an
   * announcement that arrives while a claim is in flight keeps it set.
   */
  #mayHaveWork = true;
  #signals = 0;
  #stopping = false;
  #heartbeating = false;
  /** Outcomes waiting for the next `ackMany`, and whether a flush is scheduled or running. */
  #ackQueue: PendingAck[] = [];
  #ackFlushing = false;
  /** Outcomes written but not yet committed (queued + in flight). */
  #acksPending = 0;
  /** Local runs reserved (`reserveLocalRun`) whose insert has not answered yet. */
  #reservations = 0;
  /** `stop()` waiting for claims, outcome writes and local inserts in flight (`#quiet`). */
  #onQuiet: (() => void)[] = [];
  /** Releases of jobs that arrived after stop() began; stop() waits for them. */
  readonly #handingBack = new Set<Promise<void>>();
  #timers: NodeJS.Timeout[] = [];
  #dueTimer: { at: number; timer: NodeJS.Timeout } | undefined;
  #onIdle: (() => void) | undefined;

  /** The async context the pool was started in; local runs start their jobs in it. */
  readonly #scope = new AsyncResource('ReseolioWorkerPool');

  constructor(deps: PoolDeps) {
    this.#deps = deps;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  start(): void {
    const { options } = this.#deps;
    // The poll timer is the only one that keeps the process alive: a started worker is a
    // long-running service. The others are unref'd so they never hold a process open.
    this.#timers.push(setInterval(() => this.wake(), options.pollIntervalMs));
    this.#timers.push(
      unref(setInterval(() => void this.#heartbeat(), options.heartbeatIntervalMs)),
    );
    this.#timers.push(
      unref(setInterval(() => void this.#sweep(), Math.max(100, Math.floor(options.leaseMs / 2)))),
    );
    if (options.retentionMs > 0) {
      const every = Math.min(Math.max(options.retentionMs, 1000), 10 * 60_000);
      this.#timers.push(unref(setInterval(() => void this.#purge(), every)));
    }
    void this.#sweep();
    this.wake();
  }

  /**
   * Work may be claimable (an announcement, a poll tick, a new registration): claims now if
   * slots are free. Bursts of wake-ups coalesce into one claim loop.
   */
  wake(): void {
    this.#mayHaveWork = true;
    this.#signals += 1;
    this.#requestClaim();
  }

  /**
   * A slot (or room in the outcome budget) freed up. Claims only while the queue may still
   * hold work: without this, every finished job of a sequential workload cost two claims
   * that found nothing (one when its handler returned, one when its outcome committed), each
   * a round trip competing with the real work for the database.
   */
  #slotFreed(): void {
    if (this.#mayHaveWork) this.#requestClaim();
  }

  #requestClaim(): void {
    if (this.#stopping) return;
    this.#wakeRequested = true;
    if (this.#claiming) return;
    this.#claiming = true;
    // One event-loop turn of coalescing, as for acks. The handlers of a claimed batch of fast
    // jobs return one by one in the same turn; claiming at the first freed slot cost a claim
    // of one job for it, then one for the next few (measured on SQLite at concurrency 10: 3.8
    // claims per 20 jobs, half of them for a single job). After the turn, one claim fills
    // every slot that freed. An announcement waits no more than that turn.
    setImmediate(() => void this.#claimLoop());
  }

  /** Storage says a job of `name` becomes claimable at `runAt`. */
  onReady(name: string, runAt: number): void {
    if (!this.#deps.registry.has(name)) return;
    const delay = runAt - this.#deps.clock.now();
    if (delay <= 0) this.wake();
    else this.#wakeAt(runAt);
  }

  /** A job finished somewhere; if it was cancelled while running here, stop it. */
  onFinished(jobId: string, status: string): void {
    const attempt = this.#latestOfJob.get(jobId);
    if (attempt && status === 'cancelled' && !attempt.settled) {
      attempt.settled = true;
      attempt.aborter.abort(new JobCancelledError(jobId));
    }
  }

  /**
   * A running attempt (by its `attemptKey`) starts waiting on a result: it lends its slot so
   * children can run.
   */
  suspend(attemptKey: string): void {
    const attempt = this.#running.get(attemptKey);
    if (!attempt) return;
    attempt.waits += 1;
    if (attempt.waits === 1 && attempt.holdsSlot) {
      attempt.holdsSlot = false;
      this.#activeSlots -= 1;
      this.#slotFreed();
    }
  }

  /**
   * The wait is over: take the slot back without queueing for it. This may briefly run more
   * than `workerConcurrency` jobs, which is what makes deep fan-out deadlock-free: a parent
   * never waits for a slot held by a child that waits for the parent's slot.
   */
  resume(attemptKey: string): void {
    const attempt = this.#running.get(attemptKey);
    if (!attempt) return;
    attempt.waits -= 1;
    if (attempt.waits === 0 && !attempt.holdsSlot) {
      attempt.holdsSlot = true;
      this.#activeSlots += 1;
    }
  }

  /**
   * Asks to run a job of `name` that this process is about to enqueue, due now, right here:
   * the insert then leases it to us (`EnqueueOptions.lease`) and no claim is needed. Granted
   * only when a slot is free and the last claim found the queue empty, so a new job does not
   * overtake older due jobs this process knows of; under a backlog jobs queue as usual. The slot
   * is taken now; {@link runLocal} or {@link cancelLocalRun} must follow.
   */
  reserveLocalRun(name: string): EnqueueLease | undefined {
    const { options, registry, storage, clock } = this.#deps;
    if (
      this.#stopping ||
      this.#mayHaveWork ||
      !storage.capabilities.leasedEnqueue ||
      !registry.has(name) ||
      this.#freeSlots() <= 0
    ) {
      return undefined;
    }
    this.#activeSlots += 1;
    this.#reservations += 1;
    return {
      ownerId: options.workerId,
      leaseToken: randomUUID(),
      leaseExpiresAt: clock.now() + options.leaseMs,
    };
  }

  /**
   * The reserved job was inserted leased to us: run it in the reserved slot. It starts in the
   * pool's own async context, like a claimed job, not the caller's: a request's
   * AsyncLocalStorage (a request id, a tracing span) must not leak into a job that outlives it.
   */
  runLocal(record: JobRecord): void {
    this.#reservations -= 1;
    // #start counts the slot itself: give the reserved one back to it, in the same tick.
    this.#activeSlots -= 1;
    this.#scope.runInAsyncScope(() => this.#start(record));
    this.#notifyIfQuiet();
  }

  /** The reserved job was not inserted leased to us (a duplicate, an error): free the slot. */
  cancelLocalRun(): void {
    this.#reservations -= 1;
    this.#activeSlots -= 1;
    this.#slotFreed();
    this.#notifyIfQuiet();
  }

  /**
   * Slots a claim may fill now. A slot frees when its handler returns, before the outcome is
   * committed, so the next claim overlaps the previous batch's acks; outcomes not yet
   * committed count against a second budget of `workerConcurrency`, so a slow database
   * cannot pile them up.
   */
  #freeSlots(): number {
    const { workerConcurrency } = this.#deps.options;
    return Math.min(
      workerConcurrency - this.#activeSlots,
      2 * workerConcurrency - this.#activeSlots - this.#acksPending,
    );
  }

  /**
   * Stops claiming, lets running jobs finish until `timeoutMs`, then aborts the rest and hands
   * them back (`pending`, attempt not consumed) so another node can take them at once.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    if (this.#dueTimer) clearTimeout(this.#dueTimer.timer);
    // Keep heartbeating while draining, or long jobs would lose their lease mid-drain.
    const heartbeat = setInterval(
      () => void this.#heartbeat(),
      this.#deps.options.heartbeatIntervalMs,
    );
    try {
      if (this.#running.size > 0) {
        await new Promise<void>((resolve) => {
          const deadline = setTimeout(resolve, timeoutMs);
          this.#onIdle = () => {
            clearTimeout(deadline);
            resolve();
          };
        });
      }
      this.#onIdle = undefined;
      // Attempts whose handler already returned are not handed back: their outcome is being
      // written, and a release queued behind it would only fail its fence.
      const handBack = [...this.#running.values()].filter((a) => !a.settled && !a.returned);
      await Promise.allSettled(
        handBack.map(async (attempt) => {
          attempt.settled = true;
          attempt.aborter.abort(new ShutdownError());
          await this.#ack(attempt, { kind: 'release', now: this.#deps.clock.now() });
        }),
      );
    } finally {
      clearInterval(heartbeat);
      // Claims, local inserts and outcome writes in flight when stop began must finish
      // before storage may close.
      await this.#quiet();
      await Promise.allSettled([...this.#handingBack]);
    }
  }

  /** Runs with `#claiming` already set by `#requestClaim`; clears it when done. */
  async #claimLoop(): Promise<void> {
    const { storage, options, registry, clock } = this.#deps;
    try {
      while (this.#wakeRequested && !this.#stopping) {
        this.#wakeRequested = false;
        const free = this.#freeSlots();
        if (free <= 0 || registry.size === 0) break;
        const signals = this.#signals;
        const now = clock.now();
        const jobs = await storage.claim({
          names: [...registry.keys()],
          ownerId: options.workerId,
          // A fresh fence for every claim: (job id, token) is never handed out twice, even when
          // a database crash undoes this claim and the same job is claimed again by us.
          leaseToken: randomUUID(),
          limit: free,
          now,
          leaseExpiresAt: now + options.leaseMs,
        });
        for (const job of jobs) this.#start(job);
        // A full batch suggests more is waiting: go again without waiting for a push. A short
        // one means nothing else is due, unless an announcement arrived meanwhile.
        if (jobs.length === free) this.#wakeRequested = true;
        else if (this.#signals === signals) this.#mayHaveWork = false;
      }
    } catch (error) {
      this.#reportError('claiming jobs failed; retrying on the next poll', error);
    } finally {
      this.#claiming = false;
      this.#notifyIfQuiet();
    }
  }

  /** Runs a job leased to this process, in a slot it takes. */
  #start(record: JobRecord): void {
    if (this.#stopping) {
      // Leased while stop() began: hand it straight back. stop() waits for the write, so
      // storage is still open for it.
      const release = this.#deps.storage
        .ack({ kind: 'release', ...fenceOf(record), now: this.#deps.clock.now() })
        .then(
          () => {},
          (error) => this.#reportError(`handing back job ${record.id} failed`, error),
        )
        .finally(() => this.#handingBack.delete(release));
      this.#handingBack.add(release);
      return;
    }
    const fence = fenceOf(record);
    const attempt: Attempt = {
      record,
      fence,
      key: `${fence.id}/${fence.leaseToken}`,
      info: infoOf(record),
      policy: decodePolicy(record.policy, record.maxAttempts),
      aborter: new AttemptAbort(),
      holdsSlot: true,
      waits: 0,
      returned: false,
      settled: false,
    };
    // An earlier attempt of this job still running here has lost its lease: a new claim
    // means the old one is gone (a database crash undid it). Its writes are fenced out
    // anyway; stop it now rather than at its next heartbeat.
    const earlier = this.#latestOfJob.get(record.id);
    if (earlier && !earlier.settled) {
      earlier.settled = true;
      earlier.aborter.abort(new LeaseExpiredError());
    }
    this.#activeSlots += 1;
    this.#running.set(attempt.key, attempt);
    this.#latestOfJob.set(record.id, attempt);
    this.#deps.emit('job:start', attempt.info);
    void this.#execute(attempt).finally(() => {
      this.#running.delete(attempt.key);
      if (this.#latestOfJob.get(record.id) === attempt) this.#latestOfJob.delete(record.id);
      if (attempt.holdsSlot) this.#activeSlots -= 1;
      if (this.#running.size === 0) this.#onIdle?.();
      this.#slotFreed();
    });
  }

  async #execute(attempt: Attempt): Promise<void> {
    const { record, policy, aborter } = attempt;
    const registration = this.#deps.registry.get(record.name)!;
    const timeout = setTimeout(
      () => aborter.abort(new AttemptTimeoutError(policy.timeoutMs)),
      policy.timeoutMs,
    );
    let value: unknown;
    try {
      const args = deserialize(record.args) as unknown[];
      const context: AttemptContext = {
        jobId: record.id,
        name: record.name,
        attempt: record.attempt,
        parentId: record.parentId,
        get signal() {
          return aborter.signal;
        },
        childCalls: new Map(),
        engine: this.#deps.engine,
        attemptKey: attempt.key,
      };
      value = await Promise.race([
        attemptStorage.run(context, () => registration.handler(...args)),
        aborter.promise,
      ]);
    } catch (error) {
      clearTimeout(timeout);
      this.#handlerReturned(attempt);
      if (!attempt.settled) await this.#fail(attempt, error);
      return;
    }
    clearTimeout(timeout);
    this.#handlerReturned(attempt);
    if (attempt.settled) return;
    let result: string;
    try {
      result = serialize(value, 'The return value');
      const size = Buffer.byteLength(result);
      if (size > this.#deps.options.maxPayloadBytes) {
        throw new PayloadTooLargeError(
          'The return value',
          size,
          this.#deps.options.maxPayloadBytes,
        );
      }
    } catch (error) {
      // Running again would produce the same unstorable value: end the job now.
      await this.#fail(
        attempt,
        new NonRetryableError((error as Error).message, {
          cause: error,
          code: (error as ReseolioError).code,
        }),
      );
      return;
    }
    const acked = await this.#ack(attempt, {
      kind: 'success',
      result,
      now: this.#deps.clock.now(),
    });
    if (acked) {
      this.#deps.waiters.settle(record.id, { status: 'success', result, error: null });
      this.#deps.emit('job:success', attempt.info, value);
    }
  }

  /**
   * The handler is done: its slot is free for the next claim while the outcome is written.
   * The attempt stays in `#running` until the ack commits, so heartbeats keep its lease and
   * `stop()` waits for the write.
   */
  #handlerReturned(attempt: Attempt): void {
    attempt.returned = true;
    if (!attempt.holdsSlot) return;
    attempt.holdsSlot = false;
    this.#activeSlots -= 1;
    this.#slotFreed();
  }

  async #fail(attempt: Attempt, thrown: unknown): Promise<void> {
    const { record, policy, info } = attempt;
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const stored = JSON.stringify(errorToStored(thrown));
    const retryable = (thrown as { retryable?: unknown } | null)?.retryable !== false;
    const now = this.#deps.clock.now();
    if (retryable && record.attempt < record.maxAttempts) {
      const runAt = now + retryDelayMs(policy, record.attempt);
      if (await this.#ack(attempt, { kind: 'retry', error: stored, runAt, now })) {
        this.#deps.emit('job:error', info, error);
        this.#deps.emit('job:retry', info, error, new Date(runAt));
        this.onReady(record.name, runAt);
      }
      return;
    }
    if (await this.#ack(attempt, { kind: 'dead', error: stored, now })) {
      this.#deps.waiters.settle(record.id, { status: 'dead', result: null, error: stored });
      this.#deps.emit('job:error', info, error);
      this.#deps.emit('job:dead', info, error);
    }
  }

  /**
   * Writes an attempt's outcome, fenced on (id, lease token). False means the fence did not
   * match (the lease was lost or the job cancelled): someone else owns the outcome now.
   * A storage failure is reported and also returns false; the lease then expires and the
   * sweeper gives the job another attempt, so nothing is lost, at worst run again.
   */
  #ack(
    attempt: Attempt,
    outcome: DistributiveOmit<AckInput, keyof AttemptFence>,
  ): Promise<boolean> {
    const input = { ...outcome, ...attempt.fence } as AckInput;
    return new Promise<boolean>((resolve) => {
      this.#ackQueue.push({ input, record: attempt.record, resolve });
      this.#acksPending += 1;
      if (!this.#ackFlushing) {
        this.#ackFlushing = true;
        // One event-loop turn of coalescing: attempts that end in the same turn (a claimed
        // batch of fast jobs) share one write; a lone ack waits well under a millisecond.
        setImmediate(() => void this.#flushAcks());
      }
    });
  }

  /**
   * Writes queued outcomes with `ackMany`, one batch at a time; outcomes that arrive while a
   * batch is in flight form the next one. Each answer is per job: true only once that job's
   * outcome is committed, false when its fence failed (the lease was lost or the job
   * cancelled: someone else owns the outcome now). A storage failure is reported and answers
   * false for the whole batch; those leases then expire and the sweeper gives the jobs
   * another attempt, so nothing is lost, at worst run again.
   */
  async #flushAcks(): Promise<void> {
    try {
      while (this.#ackQueue.length > 0) {
        const batch = this.#ackQueue.splice(0, MAX_ACK_BATCH);
        let answers: boolean[] | undefined;
        try {
          answers = await this.#deps.storage.ackMany(batch.map((pending) => pending.input));
        } catch (error) {
          this.#reportError(`recording the outcomes of ${batch.length} job(s) failed`, error);
        }
        this.#acksPending -= batch.length;
        batch.forEach(({ input, record, resolve }, i) => {
          const ok = answers?.[i] === true;
          if (answers && !ok) {
            this.#deps.options.logger.warn(
              `job ${record.id} (${record.name}) attempt ${record.attempt}: its lease was lost before the ${input.kind} was recorded; the outcome was discarded`,
            );
          }
          resolve(ok);
        });
        this.#slotFreed();
      }
    } finally {
      this.#ackFlushing = false;
      this.#notifyIfQuiet();
    }
  }

  /** Resolves once no claim, outcome write or local insert is in flight. */
  #quiet(): Promise<void> {
    if (this.#isQuiet()) return Promise.resolve();
    return new Promise((resolve) => this.#onQuiet.push(resolve));
  }

  #isQuiet(): boolean {
    return !this.#claiming && !this.#ackFlushing && this.#reservations === 0;
  }

  /** Called wherever one of the three ends: wakes `stop()` when all have. */
  #notifyIfQuiet(): void {
    if (this.#onQuiet.length > 0 && this.#isQuiet()) {
      for (const resolve of this.#onQuiet.splice(0)) resolve();
    }
  }

  /** Extends the leases of every running job in one call; aborts jobs whose lease is gone. */
  async #heartbeat(): Promise<void> {
    if (this.#heartbeating || this.#running.size === 0) return;
    this.#heartbeating = true;
    const { storage, options, clock } = this.#deps;
    try {
      const attempts = [...this.#running.values()].filter((a) => !a.settled);
      if (attempts.length === 0) return;
      const held = new Set(
        await storage.heartbeat({
          jobs: attempts.map((a) => a.fence),
          leaseExpiresAt: clock.now() + options.leaseMs,
        }),
      );
      for (const attempt of attempts) {
        // Only jobs still running here can have lost their lease; a job that settled while
        // the heartbeat was in flight is simply gone.
        // (At most one unsettled attempt per job is running here, so ids are unambiguous.)
        if (
          held.has(attempt.record.id) ||
          attempt.settled ||
          this.#running.get(attempt.key) !== attempt
        ) {
          continue;
        }
        attempt.settled = true;
        const current = await storage.getJob(attempt.record.id).catch(() => undefined);
        attempt.aborter.abort(
          current?.status === 'cancelled'
            ? new JobCancelledError(attempt.record.id)
            : new LeaseExpiredError(),
        );
      }
    } catch (error) {
      this.#reportError('heartbeat failed; leases may expire if storage stays unreachable', error);
    } finally {
      this.#heartbeating = false;
    }
  }

  /**
   * Gives jobs of dead processes (expired leases) another attempt, or ends them. The lost
   * attempt failed like any other, so this node, the one that found it, emits its events
   * (`job:error`, then `job:retry` or `job:dead`), whatever node ran it and whether or not
   * this node registered its function: alerting built on events must see crashes too.
   */
  async #sweep(): Promise<void> {
    const { storage, clock, waiters, emit } = this.#deps;
    try {
      const lost = new LeaseExpiredError();
      const swept = await storage.sweepExpiredLeases({
        now: clock.now(),
        error: JSON.stringify(errorToStored(lost)),
      });
      if (swept.requeued.length > 0) this.wake();
      for (const record of swept.requeued) {
        const info = infoOf(record);
        emit('job:error', info, lost);
        emit('job:retry', info, lost, new Date(record.runAt));
      }
      for (const record of swept.dead) {
        const info = infoOf(record);
        waiters.check(record.id);
        emit('job:error', info, lost);
        emit('job:dead', info, lost);
      }
    } catch (error) {
      this.#reportError('sweeping expired leases failed', error);
    }
  }

  async #purge(): Promise<void> {
    const { storage, options, clock } = this.#deps;
    try {
      const completedBefore = clock.now() - options.retentionMs;
      while (!this.#stopping && (await storage.purge({ completedBefore, limit: 1000 })) === 1000) {
        // Keep deleting in small batches: short transactions, no long locks.
      }
    } catch (error) {
      this.#reportError('purging finished jobs failed', error);
    }
  }

  #wakeAt(at: number): void {
    if (this.#stopping || (this.#dueTimer && this.#dueTimer.at <= at)) return;
    if (this.#dueTimer) clearTimeout(this.#dueTimer.timer);
    const timer = setTimeout(
      () => {
        this.#dueTimer = undefined;
        this.wake();
      },
      // A job due in more than 24.8 days would overflow setTimeout (Node fires it at once):
      // wake at the cap instead, find nothing due, and set the timer again from there.
      Math.min(Math.max(0, at - this.#deps.clock.now()), MAX_TIMER_MS),
    );
    this.#dueTimer = { at, timer: unref(timer) };
  }

  #reportError(message: string, error: unknown): void {
    const wrapped = new ReseolioError(
      'RESEOLIO_BACKGROUND_ERROR',
      `${message}: ${(error as Error)?.message ?? error}`,
      {
        cause: error,
      },
    );
    this.#deps.emit('error', wrapped);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An outcome waiting to be written. */
interface PendingAck {
  input: AckInput;
  record: JobRecord;
  resolve(acked: boolean): void;
}

/** Outcomes per `ackMany` call; bounds statement size and how long one write takes. */
const MAX_ACK_BATCH = 500;

/** The fence of a job leased to this process: its id and the token its claim wrote. */
function fenceOf(record: JobRecord): AttemptFence {
  if (record.leaseToken === null) {
    throw new ReseolioError(
      'RESEOLIO_STORAGE_CONTRACT',
      `The storage adapter returned job ${record.id} as leased without a leaseToken.`,
    );
  }
  return { id: record.id, leaseToken: record.leaseToken };
}

function unref(timer: NodeJS.Timeout): NodeJS.Timeout {
  timer.unref();
  return timer;
}
