import { ReseolioError } from '../errors.ts';
import type { AttemptFence } from '../storage/records.ts';
import type { StorageAdapter } from '../storage/storage.ts';

/** The attempt lost its job (lease expired, cancelled) while recording a step. */
export class JournalFencedOutError extends ReseolioError {
  constructor(jobId: string) {
    super(
      'RESEOLIO_LEASE_EXPIRED',
      `Job ${jobId}'s attempt no longer holds the job, so its step was not recorded.`,
    );
  }
}

/**
 * The recorded steps of one job, as one attempt sees them. Read from storage once, on the
 * first step of the attempt (a handler without steps costs nothing); each new value is written
 * fenced on the attempt. Keys count occurrences per base name, in call order, so a re-run that
 * makes the same calls in the same order finds the same keys.
 */
export class Journal {
  readonly #storage: StorageAdapter;
  readonly #fence: AttemptFence;
  readonly #now: () => number;
  readonly #occurrences = new Map<string, number>();
  #steps: Promise<Map<string, string>> | undefined;

  constructor(storage: StorageAdapter, fence: AttemptFence, now: () => number) {
    this.#storage = storage;
    this.#fence = fence;
    this.#now = now;
  }

  /** The key of the next occurrence of `base` in this run: `step:load#0`, `step:load#1`… */
  next(base: string): string {
    const n = this.#occurrences.get(base) ?? 0;
    this.#occurrences.set(base, n + 1);
    return `${base}#${n}`;
  }

  /** The recorded value of `key`, or undefined. */
  async get(key: string): Promise<string | undefined> {
    return (await this.#load()).get(key);
  }

  /** Records `value` under `key` (the first value of a key wins) and returns the one that stands. */
  async record(key: string, value: string): Promise<string> {
    const result = await this.#storage.recordStep({
      ...this.#fence,
      key,
      value,
      now: this.#now(),
    });
    if (result === 'fenced-out') throw new JournalFencedOutError(this.#fence.id);
    const steps = await this.#load();
    if (result === 'exists') {
      // Recorded by an earlier run we did not see (concurrent runs after a lost lease).
      this.#steps = undefined;
      return (await this.#load()).get(key) ?? value;
    }
    steps.set(key, value);
    return value;
  }

  /** Remembers a value storage recorded itself (a consumed signal). */
  async remember(key: string, value: string): Promise<void> {
    (await this.#load()).set(key, value);
  }

  #load(): Promise<Map<string, string>> {
    this.#steps ??= this.#storage
      .listSteps(this.#fence.id)
      .then((steps) => new Map(steps.map((step) => [step.key, step.value])));
    return this.#steps;
  }
}
