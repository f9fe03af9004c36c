import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { METRICS, type Reseolio } from 'reseolio';
import { collectGarbage } from '../collect-garbage.ts';
import type { BenchConfig } from '../config.ts';
import { ReseolioEngine } from '../engines/reseolio.ts';
import type { Engine } from '../engines/types.ts';
import { drain } from './drain.ts';
import type { Measurement, Metric } from './types.ts';

/** What a drain under the SDK reports besides its rate. */
interface TracedDrain {
  result: Measurement;
  /** Spans the exporter received: those of the fill and those of the drain. */
  spans: number;
  /** The `reseolio.jobs.completed` count of the last metrics read, after the drain. */
  completed: number;
}

/**
 * The SDK's `InMemorySpanExporter`, emptied after every batch it receives: it counts the batch
 * first, so the run still proves that every span was exported. An in-memory exporter keeps each
 * span for the life of the process, which no real exporter does (an OTLP exporter ships a batch
 * and lets it go).
 */
class BatchReleasingExporter extends InMemorySpanExporter {
  #exported = 0;

  override export(...[spans, done]: Parameters<InMemorySpanExporter['export']>): void {
    this.#exported += spans.length;
    super.export(spans, done);
    this.reset();
  }

  /** Spans received so far. */
  get exported(): number {
    return this.#exported;
  }
}

/**
 * The three ways a drain runs: no SDK; the SDK as an app registers it (metrics read at the
 * SDK's default interval, 60 s); and the SDK reading metrics every second.
 */
type Sdk = 'none' | 'sdk' | 'sdk, read every second';

/**
 * An OpenTelemetry SDK as an app registers it, with in-memory exporters: spans through a
 * BatchSpanProcessor (what production uses; a SimpleSpanProcessor exports each span on the
 * hot path, which no one deploys), metrics through a PeriodicExportingMetricReader, every
 * `readEveryMs` when given (each read is one aggregate stats query), else at the SDK's
 * default. Registered globally, so the engine finds it with no option, like an app's.
 *
 * `run` gets the hook to call between its fill and its timed drain: it flushes the fill's
 * `send` spans to the exporter and collects the heap, so the timed drain starts from the same
 * heap as one without an SDK.
 */
async function withSdk(
  run: (afterFill: () => Promise<void>) => Promise<Measurement>,
  readEveryMs: number | undefined,
): Promise<TracedDrain> {
  const spanExporter = new BatchReleasingExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(spanExporter)],
  });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: metricExporter,
        ...(readEveryMs === undefined ? {} : { exportIntervalMillis: readEveryMs }),
      }),
    ],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  try {
    const result = await run(async () => {
      await tracerProvider.forceFlush();
      collectGarbage();
    });
    await tracerProvider.forceFlush();
    await meterProvider.forceFlush();
    return { result, spans: spanExporter.exported, completed: completedCount(metricExporter) };
  } finally {
    trace.disable();
    metrics.disable();
    context.disable();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  }
}

/** The `reseolio.jobs.completed` total (every label set) of the exporter's latest read. */
function completedCount(exporter: InMemoryMetricExporter): number {
  const latest = exporter.getMetrics().at(-1);
  let total = 0;
  for (const scope of latest?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== METRICS.completed.name) continue;
      for (const point of metric.dataPoints) total += point.value as number;
    }
  }
  return total;
}

/** The rate of two drains of `jobs` each taken together: all their jobs over all their time. */
function pooledRate(a: number, b: number): number {
  return 2 / (1 / a + 1 / b);
}

let baseline: Promise<typeof Reseolio> | undefined;
/** The `Reseolio` class of the build at `cfg.otelBaseline`. */
function baselineClass(dir: string): Promise<typeof Reseolio> {
  baseline ??= import(pathToFileURL(resolve(dir, 'dist/index.js')).href).then(
    (module: { Reseolio: typeof Reseolio }) => module.Reseolio,
  );
  return baseline;
}

let repetition = 0;

/**
 * The order of one repetition's drains. The two that are compared run mirrored (A B B A, then
 * B A A B on the next repetition), so a drift of the shared machine that is steady over a
 * repetition slows both alike, and each rate pools two drains, which halves the weight of a
 * single disturbed one. The drain that reads metrics every second runs first or last,
 * alternately.
 */
function order(rep: number): Sdk[] {
  return rep % 2 === 0
    ? ['none', 'sdk', 'sdk', 'none', 'sdk, read every second']
    : ['sdk, read every second', 'sdk', 'none', 'none', 'sdk'];
}

/**
 * 10. What tracing and metrics cost: the c=10 drain of metric 4, without an SDK and with one
 * registered, interleaved in one run (see {@link order}); a third drain under an SDK that reads
 * metrics every second shows what frequent reads add. With `--otel-baseline <built reseolio
 * dir>`, the same drain on that build (e.g. the commit before telemetry) shows the cost of the
 * no-op path.
 */
export const otel: Metric = {
  key: 'otel',
  title: '10. OpenTelemetry overhead (c=10 drain, PostgreSQL)',
  describe: (cfg) =>
    `${cfg.throughputJobs.toLocaleString('en')} bulk-enqueued no-op jobs drained at concurrency 10 ` +
    '(as metric 4), without an OpenTelemetry SDK and with one registered globally as an app ' +
    'registers it (tracer provider with a BatchSpanProcessor and an in-memory exporter, meter ' +
    "provider with an in-memory periodic reader at the SDK's default interval, " +
    'AsyncLocalStorage context manager). Each repetition runs two drains of each, mirrored (no ' +
    'SDK, SDK, SDK, no SDK; then the reverse), and pools each pair into one rate, so the drift ' +
    'of a shared machine weighs on both alike. Each timed drain starts from a collected heap. ' +
    'The exporter counts each batch of spans it receives and then lets it go, as a real ' +
    'exporter does once a batch is sent ("spans/job" proves the SDK saw the work: 2, a send ' +
    'and a process span; "completed/job" that its meter did: 1, the reseolio.jobs.completed ' +
    'count read after the drain). "SDK/no SDK" is the ratio in percent. "CPU" is this ' +
    "process's user and system time per job during the drains (PostgreSQL's is not counted), " +
    'steadier than the rates on a busy machine. "read every 1 s" is one more drain under an ' +
    'SDK that reads metrics every second, 60 times its default (each read is one aggregate ' +
    'query of the jobs table for the gauges), and its ratio.' +
    (cfg.otelBaseline
      ? ' "baseline" is the same drain on the build given by --otel-baseline, without an SDK.'
      : ''),
  columns: [
    { key: 'untraced', label: 'no SDK', unit: 'jobs/s', better: 'higher' },
    { key: 'traced', label: 'SDK', unit: 'jobs/s', better: 'higher' },
    { key: 'ratio', label: 'SDK/no SDK', unit: '%', better: 'higher' },
    { key: 'untracedCpu', label: 'CPU, no SDK', unit: 'µs/job', better: 'lower' },
    { key: 'tracedCpu', label: 'CPU, SDK', unit: 'µs/job', better: 'lower' },
    { key: 'tracedEverySecond', label: 'SDK, read every 1 s', unit: 'jobs/s', better: 'higher' },
    { key: 'ratioEverySecond', label: 'read every 1 s/no SDK', unit: '%', better: 'higher' },
    { key: 'spansPerJob', label: 'spans/job', unit: '', better: 'higher' },
    { key: 'completedPerJob', label: 'completed/job', unit: '', better: 'higher' },
    { key: 'baseline', label: 'baseline, no SDK', unit: 'jobs/s', better: 'higher' },
  ],
  applies: (engine) => engine.key === 'reseolio-pg' && engine.variant === 'default',
  async run(engine: Engine, cfg: BenchConfig): Promise<Measurement[]> {
    const jobs = cfg.throughputJobs;
    const drains = new Map<string, Measurement[]>();
    let spansPerJob = 0;
    let completedPerJob = 0;
    const once = async (key: string, on: Engine, sdk: Sdk) => {
      await on.reset();
      let measured: Measurement;
      if (sdk === 'none') {
        // The heap is collected before the timed drain either way (see withSdk).
        measured = await drain(on, jobs, 10, cfg.drainCapMs, {}, async () => collectGarbage());
      } else {
        const traced = await withSdk(
          (afterFill) => drain(on, jobs, 10, cfg.drainCapMs, {}, afterFill),
          sdk === 'sdk, read every second' ? 1000 : undefined,
        );
        measured = traced.result;
        spansPerJob = traced.spans / jobs;
        completedPerJob = traced.completed / jobs;
      }
      drains.set(key, [...(drains.get(key) ?? []), measured]);
    };
    const key = {
      none: 'untraced',
      sdk: 'traced',
      'sdk, read every second': 'tracedEverySecond',
    } as const;
    const phases = order(repetition++).map((sdk) => () => once(key[sdk], engine, sdk));
    if (cfg.otelBaseline && engine instanceof ReseolioEngine) {
      const other = engine.withEngineClass(await baselineClass(cfg.otelBaseline));
      phases.push(() => once('baseline', other, 'none'));
    }
    for (const phase of phases) await phase();
    const rate = (name: string) => {
      const [a, b] = drains.get(name) ?? [];
      return a && b ? pooledRate(a.rate!, b.rate!) : a?.rate;
    };
    const cpu = (name: string) => {
      const all = drains.get(name) ?? [];
      return all.reduce((sum, m) => sum + m.cpuUsPerJob!, 0) / all.length;
    };
    const untraced = rate('untraced')!;
    const measurement: Measurement = {
      untraced,
      traced: rate('traced')!,
      ratio: (100 * rate('traced')!) / untraced,
      untracedCpu: cpu('untraced'),
      tracedCpu: cpu('traced'),
      tracedEverySecond: rate('tracedEverySecond')!,
      ratioEverySecond: (100 * rate('tracedEverySecond')!) / untraced,
      spansPerJob,
      completedPerJob,
      capped: Math.max(...[...drains.values()].flat().map((m) => m.capped!)),
    };
    const baselineRate = rate('baseline');
    if (baselineRate !== undefined) measurement.baseline = baselineRate;
    return [measurement];
  },
};
