import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { JobCancelledError, LeaseExpiredError, ReseolioError } from '../errors.ts';
import type { ResolvedOptions } from '../options.ts';
import type { ResultWaiters } from '../result-waiters.ts';
import type { EnqueueResult, FlowRule, JobRecord, NewJob } from '../storage/records.ts';
import type { EnqueueLease, StorageAdapter } from '../storage/storage.ts';
import type { MetricsSink, WorkerSnapshot } from '../telemetry/metrics-sink.ts';
import type { ReseolioEvents } from '../types.ts';
import { AckBatcher } from './ack-batcher.ts';
import { releaseAck } from './attempt-accounting.ts';
import { AttemptRunner, type Registration } from './attempt-runner.ts';
import { ClaimLoop } from './claim-loop.ts';
import { DueTimer } from './due-timer.ts';
import { InFlight } from './in-flight.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { Retention } from './retention.ts';
import { type Attempt, fenceOf, newAttempt, RunningAttempts, settle } from './running-attempts.ts';
import { SlotLedger } from './slot-ledger.ts';

export type { Registration } from './attempt-runner.ts';

export interface PoolDeps {
  storage: StorageAdapter;
  options: ResolvedOptions;
  registry: ReadonlyMap<string, Registration>;
  clock: Clock;
  waiters: ResultWaiters;
  /** The engine, stored in each attempt's context to recognise its own children. */
  engine: object;
  emit<K extends keyof ReseolioEvents>(event: K, ...args: ReseolioEvents[K]): void;
  /** Where attempts, outcomes and swept jobs are counted. */
  metrics: MetricsSink;
}

/** Raised into a handler's signal when `stop()` hands its job back. */
export class ShutdownError extends ReseolioError {
  constructor() {
    super('RESEOLIO_SHUTDOWN', 'The engine is stopping; the job was handed back to run elsewhere.');
  }
}

/**
 * The worker of one process: runs up to `workerConcurrency` jobs of the registered names.
 * It is assembled from parts that each do one thing:
 *
 * - {@link SlotLedger}: how many jobs may start now (running, reserved and lent slots, and
 *   the budget of outcomes not yet committed);
 * - {@link ClaimLoop}: claims as many jobs as there are free slots, when woken;
 * - {@link AttemptRunner}: runs one attempt and decides its outcome;
 * - {@link AckBatcher}: writes outcomes, coalesced into `ackMany` calls;
 * - {@link LeaseKeeper}: heartbeats for the attempts here, sweeps for dead processes;
 * - {@link Retention}: purges old finished jobs;
 * - {@link DueTimer}: wakes the claim loop when a delayed job or a retry falls due;
 * - {@link RunningAttempts} and {@link InFlight}: what runs and what is being written, so
 *   `stop()` can wait for both.
 *
 * The pool itself starts attempts, lends slots while an attempt awaits a result, decides
 * whether a job this process enqueues runs right here ({@link WorkerPool.enqueue}), and stops.
 */
export class WorkerPool {
  readonly #deps: PoolDeps;
  readonly #attempts = new RunningAttempts();
  readonly #inFlight = new InFlight();
  readonly #slots: SlotLedger;
  readonly #claims: ClaimLoop;
  readonly #acks: AckBatcher;
  readonly #runner: AttemptRunner;
  readonly #leases: LeaseKeeper;
  readonly #retention: Retention;
  readonly #due: DueTimer;
  #pollTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  /** The last claim carried flow rules (some registered function has limits). */
  #limited = false;
  /** Epoch ms of the last claim or heartbeat that storage answered; null before the first. */
  #lastSeenAt: number | null = null;
  /** The async context the pool was started in; local runs start their jobs in it. */
  readonly #scope = new AsyncResource('ReseolioWorkerPool');

  constructor(deps: PoolDeps) {
    this.#deps = deps;
    const { storage, options, registry, clock, waiters, emit } = deps;
    const track = (work: Promise<unknown>) => void this.#inFlight.track(work);
    const report = (message: string, error: unknown) => this.#reportError(message, error);
    this.#slots = new SlotLedger(options.workerConcurrency, () => this.#claims.slotFreed());
    this.#claims = new ClaimLoop({
      claim: (limit) => this.#claim(limit),
      freeSlots: () => this.#slots.free(),
      start: (job) => this.#start(job),
      track,
      report,
    });
    this.#acks = new AckBatcher({
      storage,
      logger: options.logger,
      onQueued: () => this.#slots.outcomeQueued(),
      onWritten: (count) => this.#slots.outcomesWritten(count),
      track,
      report,
    });
    this.#runner = new AttemptRunner({
      registry,
      clock,
      acks: this.#acks,
      waiters,
      engine: deps.engine,
      maxPayloadBytes: options.maxPayloadBytes,
      workflow: {
        storage,
        clock,
        suspendAfterMs: options.suspendAfterMs,
        maxPayloadBytes: options.maxPayloadBytes,
      },
      emit,
      metrics: deps.metrics,
      handlerReturned: (attempt) => this.#handlerReturned(attempt),
      retryAt: (name, runAt) => this.onReady(name, runAt),
    });
    this.#leases = new LeaseKeeper({
      storage,
      options,
      clock,
      attempts: this.#attempts,
      waiters,
      emit,
      metrics: deps.metrics,
      seen: () => this.#seen(),
      wake: () => this.wake(),
      track,
      report,
    });
    this.#retention = new Retention({ storage, clock, retentionMs: options.retentionMs, report });
    this.#due = new DueTimer(clock, () => this.wake());
  }

  get storage(): StorageAdapter {
    return this.#deps.storage;
  }

  get runningCount(): number {
    return this.#attempts.size;
  }

  /** This worker's slots for the gauges: busy ones are held by a running handler. */
  snapshot(): WorkerSnapshot {
    const slots = this.#deps.options.workerConcurrency;
    return {
      slots,
      busy: Math.min(slots, Math.max(0, this.#slots.held)),
      lastSeenAt: this.#lastSeenAt,
    };
  }

  #seen(): void {
    this.#lastSeenAt = this.#deps.clock.now();
  }

  start(): void {
    // The poll timer is the only one that keeps the process alive: a started worker is a
    // long-running service. The others are unref'd so they never hold a process open.
    this.#pollTimer = setInterval(() => this.wake(), this.#deps.options.pollIntervalMs);
    this.#leases.start();
    this.#retention.start();
    this.wake();
  }

  /**
   * Work may be claimable (an announcement, a poll tick, a new registration): claims now if
   * slots are free. Bursts of wake-ups coalesce into one claim.
   */
  wake(): void {
    this.#claims.wake();
  }

  /** Storage says a job of `name` becomes claimable at `runAt`. */
  onReady(name: string, runAt: number): void {
    if (!this.#deps.registry.has(name)) return;
    if (runAt <= this.#deps.clock.now()) this.wake();
    else this.#due.wakeAt(runAt);
  }

  /**
   * A job finished somewhere; if it was cancelled while running here, stop it. With limited
   * functions registered, a finished job may have freed a slot of a group our last claim found
   * full, so claim again (coalesced; not when the last claim left nothing behind).
   */
  onFinished(jobId: string, status: string): void {
    const attempt = this.#attempts.latestOf(jobId);
    if (attempt && status === 'cancelled') settle(attempt, new JobCancelledError(jobId));
    if (this.#limited && !this.#claims.mayHaveWork) this.wake();
  }

  /**
   * A running attempt (by its `attemptKey`) starts waiting on a result: it lends its slot so
   * children can run.
   */
  suspend(attemptKey: string): void {
    const attempt = this.#attempts.get(attemptKey);
    if (!attempt) return;
    attempt.waits += 1;
    if (attempt.waits === 1 && attempt.holdsSlot) {
      attempt.holdsSlot = false;
      this.#slots.lend();
    }
  }

  /**
   * The wait is over: take the slot back without queueing for it (see `SlotLedger`: a parent
   * never waits for a slot held by a child that waits for the parent's slot).
   */
  resume(attemptKey: string): void {
    const attempt = this.#attempts.get(attemptKey);
    if (!attempt) return;
    attempt.waits -= 1;
    // A handler that returned meanwhile gave its lent slot up already (#handlerReturned).
    if (attempt.waits === 0 && !attempt.holdsSlot && !attempt.returned) {
      attempt.holdsSlot = true;
      this.#slots.takeBack();
    }
  }

  /**
   * Inserts a job this process enqueues (`insert` writes it, with the lease when one is
   * given) and decides whether it runs right here. A job due now, of a name registered here,
   * with a slot free and no known backlog, is inserted already leased to this process and
   * starts at once: no claim round trip, no wake-up before it. Under a backlog (the last
   * claim did not find the queue empty) it queues like any job, so it does not overtake older
   * due jobs. A pending job wakes the claim loop, or the due timer for its time.
   */
  async enqueue(
    job: NewJob,
    insert: (lease: EnqueueLease | undefined) => Promise<EnqueueResult>,
  ): Promise<EnqueueResult> {
    const lease = job.runAt <= job.createdAt ? this.#reserveLocalRun(job.name) : undefined;
    if (lease === undefined) {
      const enqueued = await insert(undefined);
      if (!enqueued.deduplicated && enqueued.job.status === 'pending') {
        this.onReady(job.name, job.runAt);
      }
      return enqueued;
    }
    return this.#inFlight.track(this.#insertLocal(insert, lease));
  }

  /** A lease for a local run, with its slot taken; undefined when the job must queue. */
  #reserveLocalRun(name: string): EnqueueLease | undefined {
    const { options, registry, storage, clock } = this.#deps;
    if (
      this.#stopping ||
      this.#claims.mayHaveWork ||
      !storage.capabilities.leasedEnqueue ||
      !registry.has(name) ||
      // A limited function's jobs start only through claims, which count its groups.
      registry.get(name)?.rule !== undefined ||
      this.#slots.free() <= 0
    ) {
      return undefined;
    }
    this.#slots.reserve();
    return {
      ownerId: options.workerId,
      leaseToken: randomUUID(),
      leaseExpiresAt: clock.now() + options.leaseMs,
    };
  }

  async #insertLocal(
    insert: (lease: EnqueueLease) => Promise<EnqueueResult>,
    lease: EnqueueLease,
  ): Promise<EnqueueResult> {
    let enqueued: EnqueueResult;
    try {
      enqueued = await insert(lease);
    } catch (error) {
      this.#slots.cancelReservation();
      throw error;
    }
    const { job: stored, deduplicated } = enqueued;
    // Checked rather than assumed: a duplicate comes back as the existing job, untouched.
    if (!deduplicated && stored.status === 'running' && stored.leaseToken === lease.leaseToken) {
      this.#slots.useReservation();
      // In the pool's own async context, like a claimed job, not the caller's: a request's
      // AsyncLocalStorage (a request id, a tracing span) must not leak into a job that
      // outlives it.
      this.#scope.runInAsyncScope(() => this.#start(stored));
    } else {
      this.#slots.cancelReservation();
      if (!deduplicated && stored.status === 'pending') this.onReady(stored.name, stored.runAt);
    }
    return enqueued;
  }

  /**
   * Stops claiming, lets running jobs finish until `timeoutMs`, then aborts the rest and hands
   * them back (`pending`, attempt not consumed) so another node can take them at once.
   * Resolves once nothing it started is still writing, so storage may close.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    this.#claims.stop();
    clearInterval(this.#pollTimer);
    this.#due.stop();
    this.#retention.stop();
    // Heartbeats go on while draining, or long jobs would lose their lease mid-drain.
    this.#leases.stopSweeping();
    try {
      await drainUntil(this.#attempts.whenEmpty(), timeoutMs);
      // Attempts whose handler already returned are not handed back: their outcome is being
      // written, and a release queued behind it would only fail its fence.
      const handBack = [...this.#attempts.values()].filter((a) => !a.settled && !a.returned);
      await Promise.allSettled(
        handBack.map((attempt) => {
          settle(attempt, new ShutdownError());
          return this.#acks.write(
            { ...releaseAck(attempt.record, this.#deps.clock.now()), ...attempt.fence },
            attempt.record,
          );
        }),
      );
    } finally {
      this.#leases.stop();
      // Claims, local inserts, hand-backs and outcome writes in flight must finish before
      // storage may close.
      await this.#inFlight.drained();
    }
  }

  /** One claim of up to `limit` jobs with a fresh fence; undefined when no name is registered. */
  #claim(limit: number): Promise<JobRecord[] | undefined> {
    const { storage, options, registry, clock } = this.#deps;
    if (registry.size === 0) return Promise.resolve(undefined);
    const now = clock.now();
    const flow: FlowRule[] = [];
    for (const registration of registry.values()) {
      if (registration.rule !== undefined) flow.push(registration.rule);
    }
    this.#limited = flow.length > 0;
    const claimed = storage.claim({
      names: [...registry.keys()],
      flow,
      ownerId: options.workerId,
      // A fresh fence for every claim: (job id, token) is never handed out twice, even when a
      // database crash undoes this claim and the same job is claimed again by us.
      leaseToken: randomUUID(),
      limit,
      now,
      leaseExpiresAt: now + options.leaseMs,
    });
    return claimed.then((jobs) => {
      this.#seen();
      return jobs;
    });
  }

  /** Runs a job leased to this process, in a slot it takes. */
  #start(record: JobRecord): void {
    if (this.#stopping) {
      // Leased while stop() began: hand it straight back. stop() waits for the write, so
      // storage is still open for it.
      const release = this.#deps.storage.ack({
        ...releaseAck(record, this.#deps.clock.now()),
        ...fenceOf(record),
      });
      this.#inFlight.track(
        release.catch((error) => this.#reportError(`handing back job ${record.id} failed`, error)),
      );
      return;
    }
    const attempt = newAttempt(record);
    const earlier = this.#attempts.add(attempt);
    // An earlier attempt of this job still running here has lost its lease: a new claim means
    // the old one is gone (a database crash undid it). Its writes are fenced out anyway; stop
    // it now rather than at its next heartbeat.
    if (earlier) settle(earlier, new LeaseExpiredError());
    this.#slots.take();
    this.#deps.emit('job:start', attempt.info);
    void this.#runner.run(attempt).finally(() => this.#ended(attempt));
  }

  /**
   * The handler is done: its slot is free for the next claim while the outcome is written.
   * The attempt stays running until the write commits, so heartbeats keep its lease and
   * `stop()` waits for the write.
   */
  #handlerReturned(attempt: Attempt): void {
    attempt.returned = true;
    if (!attempt.holdsSlot) {
      // Still awaiting a result with its slot lent out: it suspended (or was cut short).
      if (attempt.waits > 0) this.#slots.endLent();
      return;
    }
    attempt.holdsSlot = false;
    this.#slots.give();
  }

  #ended(attempt: Attempt): void {
    if (attempt.holdsSlot) {
      attempt.holdsSlot = false;
      this.#slots.give();
    }
    this.#attempts.delete(attempt);
    // A limited function's attempt frees a slot of its group, whatever its outcome (a retry
    // or a suspension announces only its later due time): jobs of the group that the last
    // claim left behind may start now.
    if (this.#deps.registry.get(attempt.record.name)?.rule !== undefined) this.#claims.wake();
    else this.#claims.slotFreed();
  }

  #reportError(message: string, error: unknown): void {
    const detail = (error as Error)?.message ?? error;
    const wrapped = new ReseolioError('RESEOLIO_BACKGROUND_ERROR', `${message}: ${detail}`, {
      cause: error,
    });
    this.#deps.emit('error', wrapped);
  }
}

/** Resolves when `drained` does or after `timeoutMs`, whichever comes first. */
async function drainUntil(drained: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([drained, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
