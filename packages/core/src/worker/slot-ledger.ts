/**
 * How many jobs this process may start now. The ledger counts:
 *
 * - held slots: a running handler, or a local run reserved before its insert (`reserve`);
 * - lent slots: a handler awaiting a child's `result()` gives its slot back (`lend`) so the
 *   child can run here, and takes it back without queueing when the wait ends (`takeBack`),
 *   which may briefly run more than `workerConcurrency` jobs: that is what makes fan-out
 *   deeper than the concurrency deadlock-free;
 * - the outcome budget: a slot frees when its handler returns, before its outcome commits, so
 *   the next claim overlaps the previous batch's writes; outcomes not yet committed count
 *   against a second budget of `workerConcurrency`, so a slow database cannot pile them up.
 *
 * Every change that frees room calls `onFreed` (the claim loop decides whether to claim).
 */
export class SlotLedger {
  readonly #concurrency: number;
  readonly #onFreed: () => void;
  #held = 0;
  #reserved = 0;
  #lent = 0;
  #outcomes = 0;

  constructor(concurrency: number, onFreed: () => void) {
    this.#concurrency = concurrency;
    this.#onFreed = onFreed;
  }

  /** Jobs a claim may take now (may be zero or negative while slots are over-committed). */
  free(): number {
    const limit = this.#concurrency;
    return Math.min(limit - this.#held, 2 * limit - this.#held - this.#outcomes);
  }

  /** Slots held now: running handlers and reserved local runs. */
  get held(): number {
    return this.#held;
  }

  /** Local runs reserved whose insert has not answered yet. */
  get reserved(): number {
    return this.#reserved;
  }

  /** Attempts that gave their slot back while they await a result. */
  get lent(): number {
    return this.#lent;
  }

  /** A claimed or locally inserted job starts. */
  take(): void {
    this.#held += 1;
  }

  /** A handler returned (or its attempt ended): its slot is free. */
  give(): void {
    this.#held -= 1;
    this.#onFreed();
  }

  /** A handler starts waiting on a result: its slot runs other jobs meanwhile. */
  lend(): void {
    this.#held -= 1;
    this.#lent += 1;
    this.#onFreed();
  }

  /** The wait is over: the slot is taken back at once, even over the limit. */
  takeBack(): void {
    this.#lent -= 1;
    this.#held += 1;
  }

  /**
   * An attempt ended while its slot was lent (its handler suspended while it awaited
   * children): nothing is taken back, and it no longer counts as lent.
   */
  endLent(): void {
    this.#lent -= 1;
  }

  /** Holds a slot for a job this process is about to insert leased to itself. */
  reserve(): void {
    this.#held += 1;
    this.#reserved += 1;
  }

  /**
   * The reserved job was inserted leased to us. The slot is released without notice because
   * the caller takes it again in the same tick, as the job starts (`take`).
   */
  useReservation(): void {
    this.#reserved -= 1;
    this.#held -= 1;
  }

  /** The reserved job was not leased to us (a duplicate, an error): the slot is free. */
  cancelReservation(): void {
    this.#reserved -= 1;
    this.give();
  }

  /** An outcome was queued for writing. */
  outcomeQueued(): void {
    this.#outcomes += 1;
  }

  /** `count` outcomes were written (or failed to be): their budget is free. */
  outcomesWritten(count: number): void {
    this.#outcomes -= count;
    this.#onFreed();
  }
}
