import type { Clock } from '../clock.ts';
import { JobCancelledError, LeaseExpiredError } from '../errors.ts';
import { infoOf } from '../job-info.ts';
import type { ResolvedOptions } from '../options.ts';
import type { ResultWaiters } from '../result-waiters.ts';
import { errorToStored } from '../serialization.ts';
import type { StorageAdapter } from '../storage/storage.ts';
import type { MetricsSink } from '../telemetry/metrics-sink.ts';
import type { ReseolioEvents } from '../types.ts';
import { sweepExpiredLeases } from './attempt-accounting.ts';
import type { RunningAttempts } from './running-attempts.ts';

/**
 * Leases, both sides of them:
 *
 * - heartbeats: one batched call every `heartbeatIntervalMs` extends the lease of every
 *   attempt running here. An attempt whose fence no longer matches has lost its job (the
 *   lease expired and another node swept it, or it was cancelled): it is stopped at once.
 * - sweeps: every `leaseMs / 2`, jobs whose lease expired (their process died) get another
 *   attempt or end. Any node sweeps for every node.
 *
 * Heartbeats go on while `stop()` drains (long jobs would lose their lease mid-drain); sweeps
 * stop with the claims.
 */
export class LeaseKeeper {
  readonly #deps: LeaseKeeperDeps;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #heartbeating = false;

  constructor(deps: LeaseKeeperDeps) {
    this.#deps = deps;
  }

  /** Starts both timers and sweeps once now. Neither timer keeps the process alive. */
  start(): void {
    const { options, track } = this.#deps;
    this.#heartbeatTimer = setInterval(
      () => track(this.#heartbeat()),
      options.heartbeatIntervalMs,
    ).unref();
    this.#sweepTimer = setInterval(
      () => track(this.#sweep()),
      Math.max(100, Math.floor(options.leaseMs / 2)),
    ).unref();
    track(this.#sweep());
  }

  stopSweeping(): void {
    clearInterval(this.#sweepTimer);
  }

  stop(): void {
    this.stopSweeping();
    clearInterval(this.#heartbeatTimer);
  }

  /** Extends the leases of every running attempt in one call; stops those whose lease is gone. */
  async #heartbeat(): Promise<void> {
    const { attempts, storage, options, clock } = this.#deps;
    if (this.#heartbeating || attempts.size === 0) return;
    this.#heartbeating = true;
    try {
      const live = [...attempts.values()].filter((a) => !a.settled);
      if (live.length === 0) return;
      const held = new Set(
        await storage.heartbeat({
          jobs: live.map((a) => a.fence),
          leaseExpiresAt: clock.now() + options.leaseMs,
        }),
      );
      this.#deps.seen();
      for (const attempt of live) {
        // Only attempts still running here can have lost their lease; one that settled while
        // the heartbeat was in flight is simply gone. (At most one unsettled attempt per job
        // runs here, so the returned ids are unambiguous.)
        if (
          held.has(attempt.record.id) ||
          attempt.settled ||
          attempts.get(attempt.key) !== attempt
        ) {
          continue;
        }
        // Settled before the read below, so nothing else stops it meanwhile; the read only
        // chooses the reason its handler sees.
        attempt.settled = true;
        const current = await storage.getJob(attempt.record.id).catch(() => undefined);
        attempt.aborter.abort(
          current?.status === 'cancelled'
            ? new JobCancelledError(attempt.record.id)
            : new LeaseExpiredError(),
        );
      }
    } catch (error) {
      this.#deps.report('heartbeat failed; leases may expire if storage stays unreachable', error);
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
      const swept = await sweepExpiredLeases(storage, {
        now: clock.now(),
        error: JSON.stringify(errorToStored(lost)),
      });
      if (swept.requeued.length > 0) this.#deps.wake();
      for (const record of swept.requeued) {
        const info = infoOf(record);
        emit('job:error', info, lost);
        emit('job:retry', info, lost, new Date(record.runAt));
      }
      for (const record of swept.dead) {
        const info = infoOf(record);
        waiters.check(record.id);
        this.#deps.metrics.completed(record.name, 'dead');
        emit('job:error', info, lost);
        emit('job:dead', info, lost);
      }
    } catch (error) {
      this.#deps.report('sweeping expired leases failed', error);
    }
  }
}

export interface LeaseKeeperDeps {
  storage: StorageAdapter;
  options: ResolvedOptions;
  clock: Clock;
  attempts: RunningAttempts;
  waiters: ResultWaiters;
  emit<K extends keyof ReseolioEvents>(event: K, ...args: ReseolioEvents[K]): void;
  /** Where jobs this node's sweeps end are counted. */
  metrics: MetricsSink;
  /** A heartbeat answered: the worker is alive for `reseolio.worker.last_seen`. */
  seen(): void;
  /** Swept jobs are claimable again. */
  wake(): void;
  /** Registers work in flight, so `stop()` waits for it. */
  track(work: Promise<unknown>): void;
  report(message: string, error: unknown): void;
}
