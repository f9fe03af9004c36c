import type { Clock } from '../clock.ts';
import type { StorageAdapter } from '../storage/storage.ts';

/** Rows per `purge` call: short transactions, no long locks. */
const PURGE_BATCH = 1000;

/**
 * Deletes jobs that finished more than `retentionMs` ago, in small batches, every
 * `retentionMs` (at least every second, at most every 10 minutes). Off when `retentionMs` is 0.
 */
export class Retention {
  readonly #deps: RetentionDeps;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(deps: RetentionDeps) {
    this.#deps = deps;
  }

  start(): void {
    const { retentionMs } = this.#deps;
    if (retentionMs <= 0) return;
    const every = Math.min(Math.max(retentionMs, 1000), 10 * 60_000);
    this.#timer = setInterval(() => void this.#purge(), every).unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  async #purge(): Promise<void> {
    const { storage, clock, retentionMs } = this.#deps;
    try {
      const completedBefore = clock.now() - retentionMs;
      while (
        !this.#stopped &&
        (await storage.purge({ completedBefore, limit: PURGE_BATCH })) === PURGE_BATCH
      ) {
        // A full batch: there may be more.
      }
    } catch (error) {
      this.#deps.report('purging finished jobs failed', error);
    }
  }
}

export interface RetentionDeps {
  storage: StorageAdapter;
  clock: Clock;
  /** Finished jobs are kept this long, in ms; 0 keeps them forever. */
  retentionMs: number;
  report(message: string, error: unknown): void;
}
