import type { Logger } from '../types.ts';
import type { AttemptOutcomeLabel, CompletedOutcomeLabel } from './metric-names.ts';
import type { MetricsSink } from './metrics-sink.ts';

/**
 * The engine's one {@link MetricsSink}: passes every report on to the sinks registered through
 * `Reseolio[observeMetrics]().addSink` (the OpenTelemetry meter, a Prometheus registry…). With
 * none registered a report costs one size check. A sink that throws is logged once and never
 * breaks the engine: metrics are not worth a failed job.
 */
export class MetricsFanout implements MetricsSink {
  readonly #sinks = new Set<MetricsSink>();
  readonly #logger: Logger;
  readonly #failed = new WeakSet<MetricsSink>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Whether any sink is registered (a report worth a read can be skipped otherwise). */
  get listening(): boolean {
    return this.#sinks.size > 0;
  }

  /** Starts reporting to `sink`; returns the function that stops it (idempotent). */
  add(sink: MetricsSink): () => void {
    // A wrapper per registration, so the same sink added twice is two registrations.
    const registered: MetricsSink = {
      enqueued: (name, count) => sink.enqueued(name, count),
      attemptStarted: (name, lag) => sink.attemptStarted(name, lag),
      attemptEnded: (name, outcome, duration) => sink.attemptEnded(name, outcome, duration),
      completed: (name, outcome) => sink.completed(name, outcome),
    };
    this.#sinks.add(registered);
    return () => {
      this.#sinks.delete(registered);
    };
  }

  // Each report loops over the sinks itself rather than through a callback: these run for
  // every job, and a closure per call is garbage the drain pays for.
  enqueued(name: string, count: number): void {
    if (this.#sinks.size === 0 || count <= 0) return;
    for (const sink of this.#sinks) {
      try {
        sink.enqueued(name, count);
      } catch (error) {
        this.#threw(sink, error);
      }
    }
  }

  attemptStarted(name: string, lagSeconds: number): void {
    if (this.#sinks.size === 0) return;
    const lag = Math.max(0, lagSeconds);
    for (const sink of this.#sinks) {
      try {
        sink.attemptStarted(name, lag);
      } catch (error) {
        this.#threw(sink, error);
      }
    }
  }

  attemptEnded(name: string, outcome: AttemptOutcomeLabel, durationSeconds: number): void {
    if (this.#sinks.size === 0) return;
    const duration = Math.max(0, durationSeconds);
    for (const sink of this.#sinks) {
      try {
        sink.attemptEnded(name, outcome, duration);
      } catch (error) {
        this.#threw(sink, error);
      }
    }
  }

  completed(name: string, outcome: CompletedOutcomeLabel): void {
    if (this.#sinks.size === 0) return;
    for (const sink of this.#sinks) {
      try {
        sink.completed(name, outcome);
      } catch (error) {
        this.#threw(sink, error);
      }
    }
  }

  /** A sink threw: logged once per sink, never passed on to the engine. */
  #threw(sink: MetricsSink, error: unknown): void {
    if (this.#failed.has(sink)) return;
    this.#failed.add(sink);
    this.#logger.error('a metrics sink threw; its reports are lost (logged once)', error);
  }
}
