import type * as PromClient from 'prom-client';
import { JOB_STATUSES } from '../storage/records.ts';
import { METRICS, SECONDS_BUCKETS } from '../telemetry/metric-names.ts';
import { type MetricsSink, type MetricsSource, observeMetrics } from '../telemetry/metrics-sink.ts';
import type { ReseolioStats } from '../telemetry/stats.ts';

/** What the exporter reads from the engine: `Reseolio` is one. */
export interface MetricsEngine {
  /** One aggregate read of the stored jobs (the gauges' values). */
  stats(): Promise<ReseolioStats>;
  [observeMetrics](): MetricsSource;
}

/** What {@link PrometheusExporter.render} answers: the body and its content type. */
export interface PrometheusText {
  /** Prometheus text format 0.0.4 (`text/plain; version=0.0.4; charset=utf-8`). */
  contentType: string;
  text: string;
}

/** The registry's instruments, once prom-client is loaded. */
interface Instruments {
  registry: PromClient.Registry;
  enqueued: PromClient.Counter;
  completed: PromClient.Counter;
  attemptDuration: PromClient.Histogram;
  attemptLag: PromClient.Histogram;
  jobs: PromClient.Gauge;
  oldestPendingAge: PromClient.Gauge;
  workerSlots: PromClient.Gauge;
  workerLastSeen: PromClient.Gauge;
}

/**
 * The engine's metrics in Prometheus's text format, on a registry of its own (never
 * prom-client's global one, which the app may use for its own metrics; serve both by merging
 * with `Registry.merge` if you want one endpoint).
 *
 * Counters and histograms are fed as the engine works (its `MetricsSink`), from the moment
 * the exporter is made. The job gauges are read at scrape time with one `engine.stats()`
 * (an aggregate query, whatever the number of jobs), shared by concurrent scrapes; the
 * worker gauges come from this process's worker.
 *
 * prom-client is imported on first use, not with `reseolio/http`: it takes tens of
 * milliseconds to load, which apps that serve no metrics should not pay at boot. What the
 * engine reports before it has loaded is kept and replayed, so no count is lost.
 */
export class PrometheusExporter {
  readonly #engine: MetricsEngine;
  readonly #source: MetricsSource;
  readonly #detach: () => void;
  readonly #instruments: Promise<Instruments>;
  /** Sink calls made before prom-client loaded, replayed in order once it has. */
  #backlog: ((instruments: Instruments) => void)[] | null = [];
  #loaded: Instruments | null = null;
  #statsInFlight: Promise<ReseolioStats> | null = null;

  /** @param processMetrics also serve prom-client's default process metrics */
  constructor(
    engine: MetricsEngine,
    { processMetrics = false }: { processMetrics?: boolean } = {},
  ) {
    this.#engine = engine;
    this.#source = engine[observeMetrics]();
    this.#detach = this.#source.addSink(this.#sink());
    this.#instruments = import('prom-client').then((prom) => {
      const instruments = createInstruments(prom, processMetrics);
      for (const record of this.#backlog ?? []) record(instruments);
      this.#backlog = null;
      this.#loaded = instruments;
      return instruments;
    });
    // A failed import surfaces on the first render; until then it must not be unhandled.
    this.#instruments.catch(() => {});
  }

  /**
   * Everything, as a scrape sees it: the gauges are read now (one `stats()` read for all
   * concurrent scrapes), the counters and histograms are what was recorded so far.
   * Rejects with the engine's error when the stats read fails (a `StorageError`).
   */
  async render(): Promise<PrometheusText> {
    const [instruments, stats] = await Promise.all([this.#instruments, this.#readStats()]);
    // One synchronous block: a concurrent scrape serializing the registry between two of
    // these calls would see a half-set gauge.
    setJobGauges(instruments, stats);
    setWorkerGauges(instruments, this.#source);
    return {
      contentType: instruments.registry.contentType,
      text: await instruments.registry.metrics(),
    };
  }

  /** Stops listening to the engine. The counters keep their values. */
  close(): void {
    this.#detach();
  }

  #readStats(): Promise<ReseolioStats> {
    if (this.#statsInFlight === null) {
      this.#statsInFlight = this.#engine.stats().finally(() => {
        this.#statsInFlight = null;
      });
    }
    return this.#statsInFlight;
  }

  /** Records into the instruments, or into the backlog until they exist. */
  #record(write: (instruments: Instruments) => void): void {
    if (this.#loaded !== null) write(this.#loaded);
    else this.#backlog?.push(write);
  }

  #sink(): MetricsSink {
    return {
      enqueued: (name, count) => this.#record((m) => m.enqueued.inc({ function: name }, count)),
      attemptStarted: (name, lagSeconds) =>
        this.#record((m) => m.attemptLag.observe({ function: name }, lagSeconds)),
      attemptEnded: (name, outcome, durationSeconds) =>
        this.#record((m) =>
          m.attemptDuration.observe({ function: name, outcome }, durationSeconds),
        ),
      completed: (name, outcome) =>
        this.#record((m) => m.completed.inc({ function: name, outcome })),
    };
  }
}

function createInstruments(prom: typeof PromClient, processMetrics: boolean): Instruments {
  const registry = new prom.Registry();
  const registers = [registry];
  // Name, help and labels from the one table the OpenTelemetry meter also reads.
  const described = (metric: (typeof METRICS)[keyof typeof METRICS]) => ({
    name: metric.prometheus,
    help: metric.description,
    labelNames: metric.labels,
    registers,
  });
  if (processMetrics) prom.collectDefaultMetrics({ register: registry });
  return {
    registry,
    enqueued: new prom.Counter(described(METRICS.enqueued)),
    completed: new prom.Counter(described(METRICS.completed)),
    attemptDuration: new prom.Histogram({
      ...described(METRICS.attemptDuration),
      buckets: [...SECONDS_BUCKETS],
    }),
    attemptLag: new prom.Histogram({
      ...described(METRICS.attemptLag),
      buckets: [...SECONDS_BUCKETS],
    }),
    jobs: new prom.Gauge(described(METRICS.jobs)),
    oldestPendingAge: new prom.Gauge(described(METRICS.oldestPendingAge)),
    workerSlots: new prom.Gauge(described(METRICS.workerSlots)),
    // Registered with its first value: a gauge without labels would otherwise read 0.
    workerLastSeen: new prom.Gauge({ ...described(METRICS.workerLastSeen), registers: [] }),
  };
}

/**
 * Every function's count in every status (0 included, so a status that empties drops to 0
 * instead of vanishing), and its oldest pending age (0 when none waits, as the OTel gauge).
 * Functions whose jobs were all deleted disappear.
 */
function setJobGauges({ jobs, oldestPendingAge }: Instruments, stats: ReseolioStats): void {
  jobs.reset();
  oldestPendingAge.reset();
  for (const { name, counts, oldestPendingAgeMs } of stats.functions) {
    for (const status of JOB_STATUSES) jobs.set({ function: name, status }, counts[status]);
    oldestPendingAge.set({ function: name }, (oldestPendingAgeMs ?? 0) / 1000);
  }
}

/**
 * Busy and free slots, and the worker's last round trip to storage. Before its first one (and
 * on an enqueue-only node) the heartbeat gauge is absent, which `absent()` alerts look for.
 */
function setWorkerGauges(instruments: Instruments, source: MetricsSource): void {
  const { registry, workerSlots, workerLastSeen } = instruments;
  const { slots, busy, lastSeenAt } = source.worker();
  workerSlots.set({ state: 'busy' }, busy);
  workerSlots.set({ state: 'free' }, Math.max(0, slots - busy));
  if (lastSeenAt === null) return;
  workerLastSeen.set(lastSeenAt / 1000);
  if (registry.getSingleMetric(METRICS.workerLastSeen.prometheus) === undefined) {
    registry.registerMetric(workerLastSeen);
  }
}
