import type { Clock } from '../clock.ts';
import { MAX_TIMER_MS } from '../options.ts';

/**
 * One timer for the earliest known future due time (a delayed job, a retry's backoff): at
 * that time the claim loop wakes, so a due job starts on time without a poll. A later time
 * never replaces an earlier one.
 */
export class DueTimer {
  readonly #clock: Clock;
  readonly #onDue: () => void;
  #next: { at: number; timer: NodeJS.Timeout } | undefined;
  #stopped = false;

  constructor(clock: Clock, onDue: () => void) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  /** Wakes the claim loop at `at` (epoch ms), unless an earlier wake-up is already set. */
  wakeAt(at: number): void {
    if (this.#stopped || (this.#next && this.#next.at <= at)) return;
    if (this.#next) clearTimeout(this.#next.timer);
    const timer = setTimeout(
      () => {
        this.#next = undefined;
        this.#onDue();
      },
      // A job due in more than 24.8 days would overflow setTimeout (Node fires it at once):
      // wake at the cap instead, find nothing due, and set the timer again from there.
      Math.min(Math.max(0, at - this.#clock.now()), MAX_TIMER_MS),
    );
    this.#next = { at, timer: timer.unref() };
  }

  stop(): void {
    this.#stopped = true;
    if (this.#next) clearTimeout(this.#next.timer);
  }
}
