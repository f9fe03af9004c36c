/**
 * How an attempt is stopped from outside its handler: timeout, cancellation, lost lease or
 * shutdown. `promise` rejects with the reason, so the engine's race against the handler ends
 * at once; the handler's own `AbortSignal` (`currentJob().signal`) is made only when the
 * handler asks for it, and is born aborted if the attempt already was.
 *
 * Why not one AbortController per attempt: creating an AbortSignal and its listener was the
 * largest engine cost per job left in a drain profile (see docs/benchmarks.md), paid by every
 * job, while few handlers ever look at their signal.
 */
export class AttemptAbort {
  /** Rejects with the reason when the attempt is aborted; never resolves. */
  readonly promise: Promise<never>;
  #reject!: (reason: unknown) => void;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  constructor() {
    this.promise = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    // Nobody may be racing it yet (or ever): an abort must not be an unhandled rejection.
    this.promise.catch(() => {});
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was aborted (the first reason); undefined while it was not. */
  get reason(): unknown {
    return this.#reason;
  }

  /** The handler's signal, created on first use. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts with `reason`; later calls change nothing (the first reason stands). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#reject(reason);
  }
}
