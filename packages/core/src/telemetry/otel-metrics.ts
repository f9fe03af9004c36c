import type {
  BatchObservableCallback,
  Histogram,
  Meter,
  MeterProvider,
  Observable,
  ObservableCounter,
} from '@opentelemetry/api';
import type { Logger } from '../types.ts';
import { AttributeCache, LabelTotals } from './label-totals.ts';
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
 * {@link METRICS}): histograms fed by the engine's reports, and observable instruments read
 * by one batch callback that makes ONE aggregate `stats` read per collection, however many
 * functions and statuses there are. Lives while the engine is initialized;
 * {@link OtelMetrics.close} detaches both.
 *
 * Per job this costs what it must and no more, because with an SDK registered every
 * microsecond here is lost throughput (issue 16: ≥ 85 % of the untraced rate):
 * - the two counters are observable counters over totals kept here ({@link LabelTotals}), so a
 *   job adds to a number instead of calling the SDK, which hashes the attributes each time;
 *   they are cumulative, as the SDK's own counters are, and read at each collection;
 * - the two histograms record with one cached, frozen attributes object per label set.
 */
export class OtelMetrics implements MetricsSink {
  readonly #enqueued = new LabelTotals();
  readonly #completed = new LabelTotals();
  readonly #lagAttributes = new AttributeCache();
  readonly #durationAttributes = new AttributeCache();
  readonly #duration: Histogram;
  readonly #lag: Histogram;
  readonly #meter: Meter;
  readonly #observables: Observable[];
  readonly #observe: BatchObservableCallback;
  readonly #removeSink: () => void;
  #statsFailed = false;

  constructor(deps: OtelMetricsDeps) {
    const meter = deps.meterProvider.getMeter(INSTRUMENTATION_NAME, PACKAGE_VERSION);
    this.#meter = meter;
    const counter = (spec: (typeof METRICS)['enqueued']): ObservableCounter =>
      meter.createObservableCounter(spec.name, {
        unit: spec.unit,
        description: spec.description,
      });
    const histogram = (spec: (typeof METRICS)['attemptDuration']) =>
      meter.createHistogram(spec.name, {
        unit: spec.unit,
        description: spec.description,
        advice: { explicitBucketBoundaries: [...SECONDS_BUCKETS] },
      });
    const gauge = (spec: (typeof METRICS)['jobs']) =>
      meter.createObservableGauge(spec.name, { unit: spec.unit, description: spec.description });
    const enqueued = counter(METRICS.enqueued);
    const completed = counter(METRICS.completed);
    this.#duration = histogram(METRICS.attemptDuration);
    this.#lag = histogram(METRICS.attemptLag);
    const jobs = gauge(METRICS.jobs);
    const oldest = gauge(METRICS.oldestPendingAge);
    const slots = gauge(METRICS.workerSlots);
    const lastSeen = gauge(METRICS.workerLastSeen);
    this.#observables = [enqueued, completed, jobs, oldest, slots, lastSeen];
    this.#observe = async (result) => {
      this.#enqueued.forEach((value, attributes) => {
        result.observe(enqueued, value, attributes);
      });
      this.#completed.forEach((value, attributes) => {
        result.observe(completed, value, attributes);
      });
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
    meter.addBatchObservableCallback(this.#observe, this.#observables);
    this.#removeSink = deps.source.addSink(this);
  }

  enqueued(name: string, count: number): void {
    this.#enqueued.add(name, count, () => ({ function: name }));
  }

  attemptStarted(name: string, lagSeconds: number): void {
    this.#lag.record(
      lagSeconds,
      this.#lagAttributes.get(name, () => ({ function: name })),
    );
  }

  attemptEnded(name: string, outcome: AttemptOutcomeLabel, durationSeconds: number): void {
    this.#duration.record(
      durationSeconds,
      // Unambiguous: outcomes are fixed words without a colon.
      this.#durationAttributes.get(`${outcome}:${name}`, () => ({ function: name, outcome })),
    );
  }

  completed(name: string, outcome: CompletedOutcomeLabel): void {
    this.#completed.add(`${outcome}:${name}`, 1, () => ({ function: name, outcome }));
  }

  /** Stops the reports and the gauges' callback (the engine stopped). */
  close(): void {
    this.#removeSink();
    this.#meter.removeBatchObservableCallback(this.#observe, this.#observables);
  }
}
