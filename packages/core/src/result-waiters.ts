import { JobNotFoundError, ResultTimeoutError } from './errors.ts';
import type { JobRecord, JobStatus } from './storage/records.ts';
import type { StorageAdapter } from './storage/storage.ts';
import type { Logger } from './types.ts';

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

const FINAL = new Set<JobStatus>(['success', 'dead', 'cancelled']);

/**
 * Everyone in this process waiting for a job to finish, by job id. Waiters wake on a push:
 * a local ack settles them directly, a storage `finished` event (from any process, when the
 * adapter can) makes them re-read the job. Polling runs only while someone waits, every
 * `pollIntervalMs` when storage cannot push across processes and 5× slower as a safety net
 * when it can.
 */
export class ResultWaiters {
  #waiting = new Map<string, Set<Waiter>>();
  #storage: StorageAdapter;
  #pollIntervalMs: number;
  #logger: Logger;
  #pollTimer: NodeJS.Timeout | undefined;

  constructor(storage: StorageAdapter, pollIntervalMs: number, logger: Logger) {
    this.#storage = storage;
    this.#logger = logger;
    this.#pollIntervalMs = storage.capabilities.crossProcessNotify
      ? pollIntervalMs * 5
      : pollIntervalMs;
  }

  /** Resolves once the job is final; rejects with `ResultTimeoutError` after `timeoutMs`. */
  wait(jobId: string, timeoutMs?: number): Promise<FinalState> {
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
      void this.check(jobId);
    });
  }

  /** Settles the job's waiters with a state known locally (after this process's own ack). */
  settle(jobId: string, state: FinalState): void {
    const set = this.#waiting.get(jobId);
    if (!set) return;
    this.#waiting.delete(jobId);
    for (const waiter of set) waiter.resolve(state);
    this.#stopPollingIfIdle();
  }

  /** Re-reads one job if someone waits for it. */
  async check(jobId: string): Promise<void> {
    if (!this.#waiting.has(jobId)) return;
    let record: JobRecord | undefined;
    try {
      record = await this.#storage.getJob(jobId);
    } catch (error) {
      this.#logger.warn(`reading job ${jobId} for a result() failed; will retry`, error);
      return;
    }
    if (!record) {
      this.#rejectJob(jobId, new JobNotFoundError(jobId));
    } else if (FINAL.has(record.status)) {
      this.settle(jobId, { status: record.status, result: record.result, error: record.error });
    }
  }

  /** Re-reads every awaited job (after a resync or on the polling tick). */
  checkAll(): void {
    for (const jobId of this.#waiting.keys()) void this.check(jobId);
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
    this.#pollTimer = setInterval(() => this.checkAll(), this.#pollIntervalMs);
  }

  #stopPollingIfIdle(): void {
    if (this.#waiting.size === 0 && this.#pollTimer) {
      clearInterval(this.#pollTimer);
      this.#pollTimer = undefined;
    }
  }
}
