/**
 * The pool's writes and reads in flight (claims, outcome writes, hand-backs, local inserts,
 * heartbeats, sweeps): `stop()` awaits {@link InFlight.drained} before storage may close.
 * Work started while draining (a claim in flight hands its jobs back) is awaited too.
 */
export class InFlight {
  readonly #pending = new Set<Promise<unknown>>();

  /** Tracks `work` until it settles; returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    const forget = () => this.#pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Resolves once nothing is in flight, including work that began while waiting. */
  async drained(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
