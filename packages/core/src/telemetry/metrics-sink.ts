import type { AttemptOutcomeLabel, CompletedOutcomeLabel } from './metric-names.ts';

/**
/**
 * What the engine reports as it works, for every metrics backend at once: the
 * OpenTelemetry meter and the Prometheus registry of the framework packages both listen here
 * (`Reseolio[observeMetrics]`). Calls are synchronous and must not throw.
 */
export interface MetricsSink {
  /** `count` jobs of `name` were stored by this process (not deduplicated ones). */
  enqueued(name: string, count: number): void;
  /** An attempt of `name` started, `lagSeconds` after it was due (0 or more). */
  attemptStarted(name: string, lagSeconds: number): void;
  /** An attempt of `name` ended after `durationSeconds`. */
  attemptEnded(name: string, outcome: AttemptOutcomeLabel, durationSeconds: number): void;
  /** A job of `name` reached a final status through this process. */
  completed(name: string, outcome: CompletedOutcomeLabel): void;
}

/** This process's worker as gauges read it. */
export interface WorkerSnapshot {
  /** `workerConcurrency`: 0 on an enqueue-only node. */
  slots: number;
  /** Slots running an attempt now. */
  busy: number;
  /** Epoch ms of the worker's last successful claim or heartbeat; null before the first. */
  lastSeenAt: number | null;
}

/** What `Reseolio[observeMetrics]()` gives a metrics backend. */
export interface MetricsSource {
  /** Starts reporting to `sink`; returns the function that stops it. */
  addSink(sink: MetricsSink): () => void;
  /** This process's worker, now. */
  worker(): WorkerSnapshot;
}

/**
 * The key of `Reseolio`'s metrics source: `engine[observeMetrics]()`. For metrics backends
 * (the framework packages' Prometheus registries); applications use OpenTelemetry or
 * `reseolio.stats()`.
 */
export const observeMetrics: unique symbol = Symbol.for('reseolio.observeMetrics');
