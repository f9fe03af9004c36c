import type {
  Attributes,
  BatchObservableCallback,
  Counter,
  Histogram,
  Meter,
  MeterProvider,
  ObservableGauge,
} from '@opentelemetry/api';
import type { Logger } from '../types.ts';
import { AttributeCache } from './attribute-cache.ts';
import {
  type AttemptOutcomeLabel,
  type CompletedOutcomeLabel,
  METRICS,
  SECONDS_BUCKETS,
} from './metric-names.ts';
import type { MetricsSink, MetricsSource } from './metrics-sink.ts';
import { INSTRUMENTATION_NAME, PACKAGE_VERSION } from './package-version.ts';
import type { ReseolioStats } from './stats.ts';

export interface OtelMetricsDeps {
  meterProvider: MeterProvider;
  /** The engine's reports and worker. */
  source: MetricsSource;
  /** The stored jobs counted in one aggregate read (`reseolio.stats()`). */
  stats(): Promise<ReseolioStats>;
  logger: Logger;
}

/**
 * The engine's metrics on the OpenTelemetry meter `reseolio` (names, units and labels from
 * {@link METRICS}): counters and histograms fed by the engine's reports, and observable
 * gauges read by one batch callback that makes ONE aggregate `stats` read per collection,
 * however many functions and statuses there are. Lives while the engine is initialized;
 * {@link OtelMetrics.close} detaches both.
 *
 * The counters stay synchronous instruments (observable ones fed by totals kept here would
 * skip the SDK's per-call attribute hashing, but their last counts would be lost at shutdown:
 * the engine stops, and removes its callback, before the app's final metrics flush). Every
 * per-job record reuses one frozen attributes object per label set, and completions are added
 * once per label set and tick (see {@link OtelMetrics.completed}).
 */
export class OtelMetrics implements MetricsSink {
  readonly #enqueued: Counter;
  readonly #completed: Counter;
  readonly #duration: Histogram;
  readonly #lag: Histogram;
  /** Label sets by key: `name` for `{function}`, `outcome:name` for `{function, outcome}`. */
  readonly #byName = new AttributeCache();
  readonly #byOutcome = new AttributeCache();
  readonly #meter: Meter;
  readonly #gauges: ObservableGauge[];
  readonly #observe: BatchObservableCallback;
  readonly #removeSink: () => void;
  #statsFailed = false;
  /** Completions not added yet, by label set; added by `#addCompletions`. */
  readonly #completions = new Map<Attributes, number>();
  #completionsQueued = false;

  constructor(deps: OtelMetricsDeps) {
    const meter = deps.meterProvider.getMeter(INSTRUMENTATION_NAME, PACKAGE_VERSION);
    this.#meter = meter;
    const counter = (spec: (typeof METRICS)['enqueued']) =>
      meter.createCounter(spec.name, { unit: spec.unit, description: spec.description });
    const histogram = (spec: (typeof METRICS)['attemptDuration']) =>
      meter.createHistogram(spec.name, {
        unit: spec.unit,
        description: spec.description,
        advice: { explicitBucketBoundaries: [...SECONDS_BUCKETS] },
      });
    const gauge = (spec: (typeof METRICS)['jobs']) =>
      meter.createObservableGauge(spec.name, { unit: spec.unit, description: spec.description });
    this.#enqueued = counter(METRICS.enqueued);
    this.#completed = counter(METRICS.completed);
    this.#duration = histogram(METRICS.attemptDuration);
    this.#lag = histogram(METRICS.attemptLag);
    const jobs = gauge(METRICS.jobs);
    const oldest = gauge(METRICS.oldestPendingAge);
    const slots = gauge(METRICS.workerSlots);
    const lastSeen = gauge(METRICS.workerLastSeen);
    this.#gauges = [jobs, oldest, slots, lastSeen];
    this.#observe = async (result) => {
      const worker = deps.source.worker();
      result.observe(slots, worker.busy, { state: 'busy' });
      result.observe(slots, worker.slots - worker.busy, { state: 'free' });
      if (worker.lastSeenAt !== null) result.observe(lastSeen, worker.lastSeenAt / 1000);
      let stats: ReseolioStats;
      try {
        stats = await deps.stats();
      } catch (error) {
        // A collection must not fail (an exporter would drop every metric with it): the job
        // gauges are left out this time, and the failure logged once until a read succeeds.
        if (!this.#statsFailed) {
          this.#statsFailed = true;
          deps.logger.error('reading job counts for the reseolio.jobs gauges failed', error);
        }
        return;
      }
      this.#statsFailed = false;
      for (const { name, counts, oldestPendingAgeMs } of stats.functions) {
        for (const [status, count] of Object.entries(counts)) {
          result.observe(jobs, count, { function: name, status });
        }
        result.observe(oldest, (oldestPendingAgeMs ?? 0) / 1000, { function: name });
      }
    };
    meter.addBatchObservableCallback(this.#observe, this.#gauges);
    this.#removeSink = deps.source.addSink(this);
  }

  enqueued(name: string, count: number): void {
    this.#enqueued.add(count, this.#functionLabels(name));
  }

  attemptStarted(name: string, lagSeconds: number): void {
    this.#lag.record(lagSeconds, this.#functionLabels(name));
  }

  attemptEnded(name: string, outcome: AttemptOutcomeLabel, durationSeconds: number): void {
    this.#duration.record(durationSeconds, this.#outcomeLabels(name, outcome));
  }

  /**
   * Counted now, added to the counter in a microtask: the jobs of one batched acknowledgement
   * finish in the same tick, so they make one `add(n)` per label set instead of one `add(1)`
   * each (the SDK hashes the attributes of every call, and that garbage is most of what
   * metrics cost a drain). A microtask runs before any timer, I/O callback or awaiting
   * caller, so no collection or `result()` can observe the count before it is added.
   */
  completed(name: string, outcome: CompletedOutcomeLabel): void {
    const labels = this.#outcomeLabels(name, outcome);
    this.#completions.set(labels, (this.#completions.get(labels) ?? 0) + 1);
    if (this.#completionsQueued) return;
    this.#completionsQueued = true;
    queueMicrotask(this.#addCompletions);
  }

  /** Adds the completions counted since the last call. */
  readonly #addCompletions = (): void => {
    this.#completionsQueued = false;
    for (const [labels, count] of this.#completions) this.#completed.add(count, labels);
    this.#completions.clear();
  };

  #functionLabels(name: string) {
    return this.#byName.get(name, () => ({ function: name }));
  }

  #outcomeLabels(name: string, outcome: AttemptOutcomeLabel | CompletedOutcomeLabel) {
    // Unambiguous: outcomes are fixed words without a colon.
    return this.#byOutcome.get(`${outcome}:${name}`, () => ({ function: name, outcome }));
  }

  /** Stops the reports and the gauges' callback (the engine stopped). */
  close(): void {
    this.#addCompletions();
    this.#removeSink();
    this.#meter.removeBatchObservableCallback(this.#observe, this.#gauges);
  }
}
