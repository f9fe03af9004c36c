import type { EnqueueResult, NewJob } from '../storage/records.ts';
import type { MetricsSink } from './metrics-sink.ts';
import type { Tracing } from './tracing.ts';

/**
 * Every way this process stores jobs (a call, `enqueueMany`, a schedule's tick or trigger)
 * goes through {@link Producer.send}: each job gets its `send` span (whose context it stores)
 * and the jobs stored, not deduplicated ones, are counted.
 */
export class Producer {
  readonly #metrics: MetricsSink;
  readonly #tracing: Tracing;

  constructor(metrics: MetricsSink, tracing: Tracing) {
    this.#metrics = metrics;
    this.#tracing = tracing;
  }

  /**
   * Runs `insert` for `jobs` (made but not stored yet: their `traceContext` is set here) and
   * reports what it stored; `stored` reads the enqueue results, in the order of `jobs`, out of
   * what `insert` returned (none when it stored nothing: a tick another node fired).
   */
  async send<T>(
    jobs: readonly NewJob[],
    insert: () => Promise<T>,
    stored: (result: T) => readonly EnqueueResult[],
  ): Promise<T> {
    const spans = this.#tracing.startSends(jobs);
    let result: T;
    try {
      result = await insert();
    } catch (error) {
      spans.failed(error);
      throw error;
    }
    const results = stored(result);
    spans.stored(results);
    this.#count(results);
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
