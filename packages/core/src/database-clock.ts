import type { Clock } from './clock.ts';
import type { EngineLogger } from './logging/engine-logger.ts';
import type { StorageAdapter } from './storage/storage.ts';

/** Above this, the process's clock is reported as skewed (its jobs are still timed right). */
export const SKEW_WARNING_MS = 1_000;
/** How often the offset is measured again: clocks drift, and NTP steps them. */
export const CLOCK_SYNC_INTERVAL_MS = 60_000;
/** Round trips per measurement; the fastest one bounds the error best. */
const SAMPLES = 3;

/**
 * The engine's clock: this process's clock corrected by its measured offset to the database's
 * clock, so that every node of one database stamps leases, sweeps and due times on one
 * timeline. A node whose own clock is 40 s ahead would otherwise sweep leases that other
 * nodes still hold and claim delayed jobs 40 s early; 40 s behind, its leases would look
 * expired to everyone else 40 s early.
 *
 * The offset is `databaseTime - (sent + received) / 2` of the fastest of a few round trips
 * (the database read its clock somewhere inside the round trip, so the error is at most half
 * of it). Adapters without `currentTime()` (SQLite: every process shares one machine's
 * clock) leave the offset at 0.
 */
export class DatabaseClock implements Clock {
  readonly #base: Clock;
  readonly #logger: EngineLogger;
  #offsetMs = 0;
  #reportedOffsetMs = 0;

  constructor(base: Clock, logger: EngineLogger) {
    this.#base = base;
    this.#logger = logger;
  }

  now(): number {
    return this.#base.now() + this.#offsetMs;
  }

  /** The database's clock minus this process's, in ms, as last measured. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Measures the offset to `storage`'s clock; a no-op when it has none. */
  async sync(storage: StorageAdapter): Promise<void> {
    if (typeof storage.currentTime !== 'function') return;
    let best: { offset: number; roundTrip: number } | undefined;
    for (let i = 0; i < SAMPLES; i++) {
      const sent = this.#base.now();
      const databaseTime = await storage.currentTime();
      const received = this.#base.now();
      const roundTrip = received - sent;
      if (best === undefined || roundTrip < best.roundTrip) {
        best = { offset: Math.round(databaseTime - (sent + received) / 2), roundTrip };
      }
    }
    this.#offsetMs = best!.offset;
    this.#reportSkew();
  }

  /** Logs a skew once, and again when it moves by more than the threshold. */
  #reportSkew(): void {
    const offset = this.#offsetMs;
    if (Math.abs(offset - this.#reportedOffsetMs) < SKEW_WARNING_MS) return;
    this.#reportedOffsetMs = offset;
    if (Math.abs(offset) < SKEW_WARNING_MS) {
      this.#logger.info(
        `this process's clock is now within ${SKEW_WARNING_MS} ms of the database's`,
      );
      return;
    }
    this.#logger.warn(
      `this process's clock is ${Math.abs(offset)} ms ${offset > 0 ? 'behind' : 'ahead of'} ` +
        "the database's: Reseolio times leases and due jobs by the database's clock, but check " +
        'NTP on this machine (timestamps in your own logs are off by as much).',
    );
  }
}
