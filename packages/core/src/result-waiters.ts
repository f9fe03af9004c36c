import { JobNotFoundError, ResultTimeoutError } from './errors.ts';
import type { EngineLogger } from './logging/engine-logger.ts';
import {
  FINAL_STATUSES,
  type JobOutcome,
  type JobState,
  type JobStatus,
} from './storage/records.ts';
import { MAX_STATE_BATCH, type StorageAdapter } from './storage/storage.ts';

/** setTimeout and setInterval cannot wait longer than this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a waiter needs of a finished job. */
export interface FinalState {
  status: JobStatus;
  result: string | null;
  error: string | null;
}

interface Waiter {
  resolve(state: FinalState): void;
  reject(error: Error): void;
}

const FINAL = new Set<JobStatus>(FINAL_STATUSES);

/**
 * Where the stream of finish announcements stood right after this process inserted a job
 * (see {@link ResultWaiters.markInserted}).
 */
export interface InsertMark {
  resyncs: number;
  finishesSeen: number;
}

/** How many recent finishes are remembered for `result()` calls that come after them. */
const RECENT_FINISHES = 1024;

/**
 * Everyone in this process waiting for a job to finish, by job id. Waiters wake on a push:
 * a local ack settles them directly, a storage `finished` event (from any process, when the
 * adapter can) settles them with the outcome it carries, or makes them re-read the job.
 * Polling runs only while someone waits, every `pollIntervalMs` when storage cannot push
 * across processes and 5× slower as a safety net when it can.
 *
 * Every read goes through one queue, read in batches (`getJobStates`, up to
 * {@link MAX_STATE_BATCH} jobs per round trip, one round trip at a time): 10,000 waiters
 * cost 20 reads per poll, not 10,000 reads in a burst that delays this process's heartbeats
 * and acks behind them on the pool.
 */
export class ResultWaiters {
  #waiting = new Map<string, Set<Waiter>>();
  #storage: StorageAdapter;
  #pollIntervalMs: number;
  #logger: EngineLogger;
  #pollTimer: NodeJS.Timeout | undefined;
  /**
   * The last {@link RECENT_FINISHES} jobs this process saw finish, oldest first. Only ids: a
   * job may be retried after it finished, so a remembered state could be stale; a job found
   * here is read.
   */
  #recent = new Set<string>();
  /** Finishes ever added to `#recent`, and resyncs ever received: see `markInserted`. */
  #finishesSeen = 0;
  #resyncs = 0;
  /** Jobs to read at the next batch; a read is scheduled or running while `#reading`. */
  #toRead = new Set<string>();
  #reading = false;
  /** Finish pushes since the last poll tick (see `#pollTick`). */
  #pushesSinceTick = 0;

  constructor(storage: StorageAdapter, pollIntervalMs: number, logger: EngineLogger) {
    this.#storage = storage;
    this.#logger = logger;
    // Capped at the longest timer: past it, setInterval fires every millisecond instead.
    this.#pollIntervalMs = storage.capabilities.crossProcessNotify
      ? Math.min(pollIntervalMs * 5, MAX_TIMER_MS)
      : pollIntervalMs;
  }

  /**
   * Taken right after this process inserted a job (committed, not deduplicated). If nothing
   * was missed since (no resync, and `#recent` still reaches back that far), a `result()` on
   * it needs no first read: a job inserted then has either finished since, and so sits in
   * `#recent`, or will announce its finish to the waiter. Only when storage pushes finishes
   * from every process; otherwise undefined.
   */
  markInserted(): InsertMark | undefined {
    if (!this.#storage.capabilities.crossProcessNotify) return undefined;
    return { resyncs: this.#resyncs, finishesSeen: this.#finishesSeen };
  }

  /**
   * Resolves once the job is final; rejects with `ResultTimeoutError` after `timeoutMs`.
   * `inserted` is the job's {@link markInserted} mark when this process made it.
   */
  wait(jobId: string, timeoutMs?: number, inserted?: InsertMark): Promise<FinalState> {
    return new Promise<FinalState>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        resolve: (state) => {
          clearTimeout(timer);
          resolve(state);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#remove(jobId, waiter);
          reject(new ResultTimeoutError(jobId, timeoutMs));
        }, timeoutMs);
      }
      const set = this.#waiting.get(jobId) ?? new Set<Waiter>();
      this.#waiting.set(jobId, set);
      set.add(waiter);
      this.#ensurePolling();
      // Registered first, read second: a finish between the two still reaches this waiter.
      if (this.#recent.has(jobId) || !this.#nothingMissedSince(inserted)) this.check(jobId);
    });
  }

  #nothingMissedSince(mark: InsertMark | undefined): boolean {
    return (
      mark !== undefined &&
      mark.resyncs === this.#resyncs &&
      this.#finishesSeen - mark.finishesSeen < RECENT_FINISHES
    );
  }

  /**
   * A job finished (a storage push from any process): settles its waiters with the outcome
   * the push carried, or reads the job when it carried none.
   */
  finished(jobId: string, status: JobStatus, outcome: JobOutcome | undefined): void {
    this.#pushesSinceTick += 1;
    this.#remember(jobId);
    if (outcome && FINAL.has(status)) this.settle(jobId, { status, ...outcome });
    else this.check(jobId);
  }

  /** Events may have been missed (a notification connection came back): read every waiter. */
  resync(): void {
    this.#resyncs += 1;
    this.checkAll();
  }

  #remember(jobId: string): void {
    if (this.#recent.has(jobId)) return;
    this.#finishesSeen += 1;
    this.#recent.add(jobId);
    if (this.#recent.size > RECENT_FINISHES) {
      this.#recent.delete(this.#recent.values().next().value!);
    }
  }

  /** Settles the job's waiters with a state known locally (after this process's own ack). */
  settle(jobId: string, state: FinalState): void {
    this.#remember(jobId);
    const set = this.#waiting.get(jobId);
    if (!set) return;
    this.#waiting.delete(jobId);
    for (const waiter of set) waiter.resolve(state);
    this.#stopPollingIfIdle();
  }

  /** Re-reads one job, in the next batch, if someone waits for it. */
  check(jobId: string): void {
    if (!this.#waiting.has(jobId)) return;
    this.#toRead.add(jobId);
    this.#scheduleRead();
  }

  /** Re-reads every awaited job (after a resync or on the polling tick). */
  checkAll(): void {
    for (const jobId of this.#waiting.keys()) this.#toRead.add(jobId);
    this.#scheduleRead();
  }

  /** One turn of coalescing: every check made in this turn shares the batch. */
  #scheduleRead(): void {
    if (this.#reading || this.#toRead.size === 0) return;
    this.#reading = true;
    setImmediate(() => void this.#readQueued());
  }

  /**
   * Reads queued jobs a batch at a time until none is left; checks made while a batch is in
   * flight join the next one (so a finish announced during a read that saw `running` is read
   * again). A failed read drops the queue: the next poll tick queues every waiter again.
   */
  async #readQueued(): Promise<void> {
    try {
      while (this.#toRead.size > 0) {
        const batch: string[] = [];
        for (const jobId of this.#toRead) {
          this.#toRead.delete(jobId);
          if (this.#waiting.has(jobId)) batch.push(jobId);
          if (batch.length === MAX_STATE_BATCH) break;
        }
        if (batch.length === 0) continue;
        let states: JobState[];
        try {
          states = await this.#storage.getJobStates(batch);
        } catch (error) {
          this.#toRead.clear();
          this.#logger.warn(
            `reading ${batch.length} job(s) for result() failed; will retry on the next poll`,
            error,
          );
          return;
        }
        const byId = new Map(states.map((state) => [state.id, state]));
        for (const jobId of batch) {
          const state = byId.get(jobId);
          if (!state) this.#rejectJob(jobId, new JobNotFoundError(jobId));
          else if (FINAL.has(state.status)) {
            this.settle(jobId, { status: state.status, result: state.result, error: state.error });
          }
        }
      }
    } finally {
      this.#reading = false;
    }
  }

  #rejectJob(jobId: string, error: Error): void {
    const set = this.#waiting.get(jobId);
    if (!set) return;
    this.#waiting.delete(jobId);
    for (const waiter of set) waiter.reject(error);
    this.#stopPollingIfIdle();
  }

  /** Rejects every waiter, e.g. when the engine stops. */
  rejectAll(error: Error): void {
    for (const set of this.#waiting.values()) for (const waiter of set) waiter.reject(error);
    this.#waiting.clear();
    this.#stopPollingIfIdle();
  }

  #remove(jobId: string, waiter: Waiter): void {
    const set = this.#waiting.get(jobId);
    set?.delete(waiter);
    if (set?.size === 0) this.#waiting.delete(jobId);
    this.#stopPollingIfIdle();
  }

  #ensurePolling(): void {
    if (this.#pollTimer) return;
    this.#pollTimer = setInterval(() => this.#pollTick(), this.#pollIntervalMs);
  }

  /**
   * The safety net. When storage pushes finishes from every process, a push that arrived
   * since the last tick shows the stream is alive (and a reconnect sends `resync`), so the
   * tick reads nothing: waiters cost nothing while pushes arrive. Only a silent stream, or
   * storage that cannot push across processes, is read.
   */
  #pollTick(): void {
    const pushed = this.#pushesSinceTick;
    this.#pushesSinceTick = 0;
    if (pushed > 0 && this.#storage.capabilities.crossProcessNotify) return;
    this.checkAll();
  }

  #stopPollingIfIdle(): void {
    if (this.#waiting.size === 0 && this.#pollTimer) {
      clearInterval(this.#pollTimer);
      this.#pollTimer = undefined;
    }
  }
}
