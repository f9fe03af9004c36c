/**
 * Waits for SQLite's locks off the event loop.
 *
 * better-sqlite3 is synchronous: with a `busy_timeout`, a statement that meets another
 * connection's write lock sleeps inside the driver, on the event loop's thread, until the lock
 * frees or the timeout ends, and the whole process (HTTP, heartbeats, timers) stalls with it.
 * So the adapter's connection runs with `busy_timeout = 0` (see pragmas.ts): a statement that
 * meets a lock fails at once with `SQLITE_BUSY`, and this queue tries it again from a timer,
 * after 1 ms, then twice as long each time up to {@link MAX_DELAY_MS}, until
 * `busyTimeoutMs` after the call, when the last `SQLITE_BUSY` is thrown. Between tries
 * the event loop runs everything else.
 *
 * An attempt is always one whole transaction (or one autocommit statement): better-sqlite3
 * rolls a transaction back when its body or its COMMIT throws, so a retried attempt starts
 * from nothing and never finds half of itself written.
 *
 * Writes go through one queue, first in first out: while the first waits for the lock, later
 * writes of this adapter wait behind it instead of each polling the lock on its own timer, and
 * they keep their order. A write finds the queue empty almost always and then runs at once,
 * synchronously, as if there were no queue. Reads do not queue: in WAL mode they never wait for
 * the writer, so a `result()` or `getJob()` still answers while another process holds the
 * write lock. They retry on their own in the rare cases SQLite makes a reader wait (a WAL
 * being recovered after a crash, a connection switching the file to WAL).
 */

/** The first pause after `SQLITE_BUSY`, in milliseconds. */
const FIRST_DELAY_MS = 1;
/**
 * The longest pause between tries, in milliseconds: how late, at most, a waiting write sees
 * the lock free up. A failed try costs microseconds, so short pauses are cheap.
 */
const MAX_DELAY_MS = 20;

/** `SQLITE_BUSY` and its extended codes (`SQLITE_BUSY_RECOVERY`, `SQLITE_BUSY_SNAPSHOT`…). */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** Turns what an attempt of `operation` threw into the error to throw to the caller. */
export type Fail = (operation: string, error: unknown) => Error;

interface QueuedWrite {
  operation: string;
  attempt(): unknown;
  /** `performance.now()` after which a `SQLITE_BUSY` is final. */
  deadline: number;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** @internal */
export class LockQueue {
  readonly #timeoutMs: number;
  readonly #fail: Fail;
  readonly #writes: QueuedWrite[] = [];
  #delayMs = FIRST_DELAY_MS;
  #timer: NodeJS.Timeout | undefined;
  #idle: { promise: Promise<void>; resolve(): void } | undefined;

  /** @param timeoutMs how long a call may wait for a lock (the adapter's `busyTimeoutMs`). */
  constructor(timeoutMs: number, fail: Fail) {
    this.#timeoutMs = timeoutMs;
    this.#fail = fail;
  }

  /**
   * Runs the write `attempt` (one transaction) of `operation` now when no write of this queue
   * is waiting, else after those. Returns its value, or a promise of it once it had to wait;
   * throws (or rejects with) the `fail` of any other error, or of the last `SQLITE_BUSY` once
   * the timeout has passed.
   */
  write<T>(operation: string, attempt: () => T): T | Promise<T> {
    const deadline = performance.now() + this.#timeoutMs;
    if (this.#writes.length === 0) {
      try {
        return attempt();
      } catch (error) {
        if (!isBusy(error) || this.#timeoutMs === 0) throw this.#fail(operation, error);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.#writes.push({
        operation,
        attempt,
        deadline,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.#schedule();
    });
  }

  /** Runs the read `attempt` now, and again after pauses while it meets `SQLITE_BUSY`. */
  read<T>(operation: string, attempt: () => T): T | Promise<T> {
    try {
      return attempt();
    } catch (error) {
      if (!isBusy(error) || this.#timeoutMs === 0) throw this.#fail(operation, error);
    }
    return this.#readLater(operation, attempt, performance.now() + this.#timeoutMs);
  }

  /** Resolves once no write is waiting (each gives up by its deadline). */
  idle(): Promise<void> {
    if (this.#writes.length === 0) return Promise.resolve();
    if (this.#idle === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }

  async #readLater<T>(operation: string, attempt: () => T, deadline: number): Promise<T> {
    for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
      await pause(Math.min(delay, Math.max(0, deadline - performance.now())));
      try {
        return attempt();
      } catch (error) {
        if (!isBusy(error) || performance.now() >= deadline) throw this.#fail(operation, error);
      }
    }
  }

  #schedule(): void {
    const first = this.#writes[0];
    if (this.#timer !== undefined || first === undefined) return;
    const delay = Math.min(this.#delayMs, Math.max(0, first.deadline - performance.now()));
    this.#delayMs = Math.min(this.#delayMs * 2, MAX_DELAY_MS);
    // Not unref'd: a caller awaits this write, and the process must not exit under it.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#drain();
    }, delay);
  }

  /** Runs the queued writes in order until one meets the lock again (or none is left). */
  #drain(): void {
    for (let write = this.#writes[0]; write !== undefined; write = this.#writes[0]) {
      let value: unknown;
      try {
        value = write.attempt();
      } catch (error) {
        if (isBusy(error) && performance.now() < write.deadline) {
          this.#schedule();
          return;
        }
        this.#writes.shift();
        write.reject(this.#fail(write.operation, error));
        continue;
      }
      this.#writes.shift();
      this.#delayMs = FIRST_DELAY_MS;
      write.resolve(value);
    }
    this.#idle?.resolve();
    this.#idle = undefined;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
