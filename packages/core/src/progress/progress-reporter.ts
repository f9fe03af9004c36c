import type { AttemptFence } from '../storage/records.ts';
import type { StorageAdapter } from '../storage/storage.ts';

/** What a {@link ProgressReporter} writes through. */
export interface ProgressReporterDeps {
  storage: StorageAdapter;
  now: () => number;
  /** Told of a write that failed with an error (not a failed fence). */
  onWriteError: (error: unknown) => void;
}

/**
 * One attempt's progress writes, coalesced: at most one `setProgress` in flight, and the
 * reports made meanwhile collapse into one write of the latest value when it ends. A handler
 * that reports a thousand times in a tight loop costs a handful of writes, and the last value
 * is always the one stored.
 */
export class ProgressReporter {
  readonly #deps: ProgressReporterDeps;
  readonly #fence: AttemptFence;
  /** The latest reported value not yet taken by a write. */
  #latest: string | undefined;
  /** The write that will take `#latest`, shared by every report made before it starts. */
  #next: Promise<boolean> | undefined;
  /** The write under way, if any. */
  #inFlight: Promise<boolean> | undefined;
  /** Once a write found the fence broken, later reports are not sent. */
  #fencedOut = false;

  constructor(deps: ProgressReporterDeps, fence: AttemptFence) {
    this.#deps = deps;
    this.#fence = fence;
  }

  /**
   * Queues `progress` (serialized) and resolves once it, or a later value, is stored: true;
   * false when the attempt no longer holds the job (lease lost, cancelled, ended), in which
   * case nothing more is written. Rejects when storage failed; the rejection is marked
   * handled, so a report nobody awaits does not crash the process (`onWriteError` hears it).
   */
  report(progress: string): Promise<boolean> {
    if (this.#fencedOut) return Promise.resolve(false);
    this.#latest = progress;
    if (this.#next === undefined) {
      const next = this.#writeAfter(this.#inFlight);
      next.catch(() => {});
      this.#next = next;
    }
    return this.#next;
  }

  /** No report is waiting or being written (most attempts never report): nothing to flush. */
  get idle(): boolean {
    return this.#next === undefined && this.#inFlight === undefined;
  }

  /** Resolves once every report made so far was written or given up; never rejects. */
  async flush(): Promise<void> {
    await this.#next?.catch(() => {});
    await this.#inFlight?.catch(() => {});
  }

  async #writeAfter(previous: Promise<boolean> | undefined): Promise<boolean> {
    // Also yields once when nothing is in flight, so reports made in the same tick coalesce.
    await previous?.catch(() => {});
    const progress = this.#latest!;
    this.#latest = undefined;
    this.#next = undefined;
    if (this.#fencedOut) return false;
    const write = this.#write(progress);
    this.#inFlight = write;
    try {
      return await write;
    } finally {
      if (this.#inFlight === write) this.#inFlight = undefined;
    }
  }

  async #write(progress: string): Promise<boolean> {
    try {
      const stored = await this.#deps.storage.setProgress({
        ...this.#fence,
        progress,
        now: this.#deps.now(),
      });
      if (!stored) this.#fencedOut = true;
      return stored;
    } catch (error) {
      this.#deps.onWriteError(error);
      throw error;
    }
  }
}
