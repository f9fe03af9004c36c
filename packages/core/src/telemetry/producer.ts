import type { EnqueueResult, NewJob } from '../storage/records.ts';
import type { MetricsSink } from './metrics-sink.ts';

/**
 * Every way this process stores jobs (a call, `enqueueMany`, a schedule's tick or trigger)
 * goes through {@link Producer.send}: jobs stored, not deduplicated ones, are counted.
 */
export class Producer {
  readonly #metrics: MetricsSink;

  constructor(metrics: MetricsSink) {
    this.#metrics = metrics;
  }

  /**
   * Runs `insert` for `jobs` (all of one function or not) and reports what it stored;
   * `stored` reads the enqueue results out of what `insert` returned (none when it stored
   * nothing, e.g. a schedule tick another node claimed).
   */
  async send<T>(
    jobs: readonly NewJob[],
    insert: () => Promise<T>,
    stored: (result: T) => readonly EnqueueResult[],
  ): Promise<T> {
    const result = await insert();
    this.#count(stored(result));
    return result;
  }

  #count(results: readonly EnqueueResult[]): void {
    let name: string | undefined;
    let count = 0;
    for (const { job, deduplicated } of results) {
      if (deduplicated) continue;
      if (job.name !== name) {
        if (name !== undefined) this.#metrics.enqueued(name, count);
        name = job.name;
        count = 0;
      }
      count += 1;
    }
    if (name !== undefined) this.#metrics.enqueued(name, count);
  }
}
